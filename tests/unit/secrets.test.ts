// Secret settings never reach a resource input in plain or base64 text: a command carrying one (e.g. a password in a
// broker property, inside server.properties inside MANIFEST_B64) is a Pulumi secret; commands that do not stay plain.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Recorded, recorded, reset, settle } from "./mocks";
import { parseConfig } from "../../components/config";
import { b64, carriesSecret, hostCommand, manifest, revealed } from "../../components/host-command";
import { KEY } from "./stacks";

/** Pulumi's wire marker for a secret value. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const isSecret = (v: any) => typeof v === "object" && v !== null && SECRET_SIG in v;

/** Every string in a resource's inputs outside secret values. */
function plainStrings(x: unknown, out: string[] = []): string[] {
    if (typeof x === "string") out.push(x);
    else if (Array.isArray(x)) x.forEach((y) => plainStrings(y, out));
    else if (typeof x === "object" && x !== null && !isSecret(x)) Object.values(x).forEach((y) => plainStrings(y, out));
    return out;
}

const PASSWORD = "Pa55-w0rd-kc-7731";
const JAAS = `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${PASSWORD}";`;
const CONFIG = {
    "kafka:hosts": JSON.stringify([{ id: 1, address: "192.0.2.11" }, { id: 2, address: "192.0.2.12" }, { id: 3, address: "192.0.2.13" }]),
    "kafka:sshUser": "admin",
    "kafka:sshPrivateKey": KEY,
    "kafka:brokerProperties": JSON.stringify({ "rsm.config.secret.login": JAAS, "log.retention.hours": "72" }),
    // A user's own plugin credential (a tiered-storage plugin's login) on a plaintext cluster: no generated credential is
    // involved, so only the configured secret decides which commands are secrets. (The generated ones have a test of
    // their own below.) A listener's own login would be refused: kafka:security owns those.
    "kafka:security": "plaintext",
};

/** Runs index.ts (the program) with `config`, `secretKeys` marked secret as the engine does; the resources it registered. */
async function runProgram(secretKeys: string[], config: Record<string, string> = CONFIG): Promise<Recorded[]> {
    reset();
    pulumi.runtime.setAllConfig(config, secretKeys);
    try {
        delete require.cache[require.resolve("../../index")];
        require("../../index");
        await settle();
        await new Promise((r) => setTimeout(r, 200));
        return [...recorded];
    } finally {
        pulumi.runtime.setAllConfig({});
    }
}

const leaks = (resources: Recorded[]) => resources.flatMap((r) => plainStrings(r.inputs)
    .filter((s) => revealed(s).includes(PASSWORD) || s.includes(b64(PASSWORD)) || s.includes(b64(JAAS)))
    .map(() => `${r.type}::${r.name}`));

describe("secret settings (index.ts under mocks)", () => {
    it("a secret broker property is in no resource input as plain or base64 text; the broker commands carrying it are secrets", async () => {
        const resources = await runProgram(["kafka:sshPrivateKey", "kafka:brokerProperties"]);
        const cmds = resources.filter((r) => r.type === "command:remote:Command");
        assert.ok(cmds.length > 10, "the program registered its commands");
        assert.deepStrictEqual(leaks(resources), []);
        const brokers = cmds.filter((c) => /^host-\d-(broker|protocol)$/.test(c.name));
        assert.strictEqual(brokers.length, 6);
        for (const c of brokers) {
            assert.ok(isSecret(c.inputs.stdin), `${c.name}'s stdin is a secret`);
            assert.strictEqual(typeof c.inputs.create, "string", "the short command names only the step");
            assert.match(revealed(c.inputs.stdin.value), new RegExp(`rsm\\.config\\.secret\\.login=.*password="${PASSWORD}"`),
                "the property is still delivered to the broker");
        }
        // Only what carries the secret is hidden: the other steps stay readable in previews.
        for (const name of ["host-1-java", "host-1-install", "host-1-zookeeper"]) {
            assert.strictEqual(typeof cmds.find((c) => c.name === name)!.inputs.stdin, "string", `${name} stays plain`);
        }
    });

    it("control: the same property not set as a secret is found by the same search (so the search can fail)", async () => {
        const resources = await runProgram(["kafka:sshPrivateKey"]);
        assert.deepStrictEqual([...new Set(leaks(resources))].sort(),
            [1, 2, 3].flatMap((i) => [`command:remote:Command::host-${i}-broker`, `command:remote:Command::host-${i}-protocol`]).sort());
    });

    it("sasl_ssl: generated keys and passwords are in no resource input as plain or base64 text; only the steps carrying them are secrets", async () => {
        const { "kafka:security": _, "kafka:brokerProperties": __, ...rest } = CONFIG;
        const resources = await runProgram(["kafka:sshPrivateKey"], { ...rest, "kafka:clientUsers": JSON.stringify(["app"]) });
        const local = resources.filter((r) => r.type === "command:local:Command" && !r.name.endsWith("-service")).map((r) => r.name).sort();
        assert.deepStrictEqual(local, ["kafka-test-ca", "kafka-test-cert-host-1", "kafka-test-cert-host-2", "kafka-test-cert-host-3",
            "kafka-test-password-admin", "kafka-test-password-user-app", "kafka-test-password-zookeeper"]);
        // What the mocked openssl commands printed: the keys' PEM bodies and the passwords.
        const generated = [...local.filter((n) => !n.includes("-password-")).map((n) => Buffer.from(`${n} key`).toString("base64")),
            ...local.filter((n) => n.includes("-password-")).map((n) => `pw-${n}`)];
        const found = resources.flatMap((r) => plainStrings(r.inputs)
            .filter((s) => generated.some((g) => revealed(s).includes(g) || s.includes(b64(g)))).map(() => r.name));
        assert.deepStrictEqual(found, []);
        for (const r of resources.filter((x) => local.includes(x.name))) {
            assert.deepStrictEqual(r.options.additionalSecretOutputs, ["stdout"], `${r.name}'s output is a secret`);
            assert.strictEqual(r.inputs.logging, "none", `${r.name} logs nothing`);
        }
        const cmds = new Map(resources.filter((r) => r.type === "command:remote:Command").map((r) => [r.name, r]));
        const secretSteps = [...cmds.values()].filter((c) => isSecret(c.inputs.stdin)).map((c) => c.name).sort();
        assert.deepStrictEqual(secretSteps, ["cluster-admin", "cluster-users", ...[1, 2, 3].flatMap((i) =>
            ["broker", "listeners-add", "listeners-switch", "protocol", "zookeeper"].map((s) => `host-${i}-${s}`))]);
        // They still deliver what they carry: the broker's keystore (the key of its own certificate), the admin's login.
        const files = revealed(cmds.get("host-2-broker")!.inputs.stdin.value);
        assert.ok(files.includes(Buffer.from("kafka-test-cert-host-2 key").toString("base64")));
        assert.match(files, /username="admin" password="pw-kafka-test-password-admin"/);
    });

    it("parseConfig: a secret broker property map is secret text as its key=value lines, other secret settings as their values", () => {
        const cfg = parseConfig({ hosts: [{ id: 1, address: "192.0.2.11" }], brokerCount: 1, sshUser: "admin", sshPrivateKey: KEY,
            brokerProperties: { "sasl.jaas.config": JAAS }, downloadUrl: "https://user:tok3n@mirror.example/kafka" }, "t", {},
        ["brokerProperties", "downloadUrl"]);
        assert.deepStrictEqual(cfg.secretValues, [`sasl.jaas.config=${JAAS}`, "https://user:tok3n@mirror.example/kafka"]);
        assert.deepStrictEqual(parseConfig({ hosts: [{ id: 1, address: "192.0.2.11" }], brokerCount: 1, sshUser: "admin", sshPrivateKey: KEY }, "t").secretValues, []);
    });

    it("carriesSecret sees a value in the line, in a *_B64 variable and in a MANIFEST_B64 file", () => {
        const s = "tok3n-secret";
        assert.ok(carriesSecret(hostCommand("install-kafka.sh", { KAFKA_URLS: `https://u:${s}@x/kafka/3.9.2/kafka_2.13-3.9.2.tgz` }), [s]));
        assert.ok(carriesSecret(hostCommand("install-kafka.sh", { TOOLS_PROFILE_B64: b64(`export X=${s}\n`) }), [s]));
        assert.ok(carriesSecret(hostCommand("configure-service.sh", { MANIFEST_B64: manifest([["/etc/kafka/server.properties", "0640", "root:kafka", `a=${s}\n`]]) }), [s]));
        assert.ok(!carriesSecret(hostCommand("configure-service.sh", { MANIFEST_B64: manifest([["/etc/kafka/server.properties", "0640", "root:kafka", "a=b\n"]]) }), [s]));
        assert.ok(!carriesSecret(hostCommand("install-kafka.sh", { KAFKA_URLS: `https://u:${s}@x/kafka/3.9.2/kafka_2.13-3.9.2.tgz` }), []));
        // The same environment as `export K='v'` lines (how a script's stdin can carry it).
        const files = manifest([["/etc/kafka/server.properties", "0640", "root:kafka", `a=${s}\n`]]);
        assert.ok(carriesSecret(`export KC_STEP='x'\nexport MANIFEST_B64='${files}'\necho hi\n`, [s]));
        assert.ok(!carriesSecret(`export MANIFEST_B64='${manifest([["/f", "0644", "root:root", "a=b\n"]])}'\n`, [s]));
    });
});
