// Config mistakes a new user makes: a setting under the wrong namespace, a misspelled key, an even ensemble size.
// Each is an error naming the right key and a fix that works as written.
import * as assert from "assert";
import { parseConfig, splitNamespaces } from "../../components/config";
import { SSH, problems } from "./stacks";

describe("config mistakes", () => {
    it("a known setting under the project's namespace is an error naming kafka:<key> and the commands to move it", () => {
        const { raw, others } = splitNamespaces({ "kafka-cluster:brokerCount": "2", "kafka:sshCidrs": JSON.stringify(SSH.sshCidrs) });
        assert.deepStrictEqual(Object.keys(raw), ["sshCidrs"]);
        const p = problems(raw, others);
        assert.strictEqual(p.length, 1, p.join("\n"));
        assert.match(p[0], /^kafka-cluster:brokerCount: is not read: kafka-cluster takes its settings from the kafka: namespace/);
        assert.match(p[0], /Fix: pulumi config set kafka:brokerCount 2 && pulumi config rm kafka-cluster:brokerCount$/);
    });

    it("names the clash when the right key is set too; a secret value is never printed", () => {
        const p = problems({ ...SSH, brokerCount: 3 }, { "kafka-cluster:brokerCount": "2", "other:sshPrivateKey": "-----BEGIN x" });
        assert.ok(p.some((l) => /^kafka-cluster:brokerCount: .*kafka:brokerCount is set too: keep one/.test(l)), p.join("\n"));
        const secret = p.find((l) => l.startsWith("other:sshPrivateKey: "));
        assert.ok(secret, p.join("\n"));
        assert.match(secret!, /pulumi config set --secret kafka:sshPrivateKey <value> && pulumi config rm other:sshPrivateKey/);
        assert.doesNotMatch(secret!, /BEGIN/);
    });

    it("other namespaces' own settings (aws:region, the program's) are left alone", () => {
        assert.doesNotThrow(() => parseConfig({ ...SSH }, "test", { "aws:region": "eu-west-1", "kafka-cluster:owner": "team-a" }));
    });

    for (const [typo, meant] of [["brokerCont", "brokerCount"], ["zookeperCount", "zookeeperCount"], ["BrokerHeap", "brokerHeap"],
        ["sshCidr", "sshCidrs"]] as const) {
        it(`a misspelled key gets a "did you mean": ${typo} -> ${meant}`, () => {
            const p = problems({ ...SSH, [typo]: typo === "sshCidr" ? "198.51.100.7/32" : "3" });
            const hit = p.find((l) => l.startsWith(`kafka:${typo}: `));
            assert.ok(hit, p.join("\n"));
            assert.match(hit!, new RegExp(`unknown setting; did you mean kafka:${meant}\\?`));
            assert.match(hit!, new RegExp(`Fix: pulumi config set kafka:${meant} \\S+ && pulumi config rm kafka:${typo}$`));
        });
    }

    it("a key like nothing known gets no guess", () => {
        const hit = problems({ ...SSH, replicationStrategy: "x" }).find((l) => l.startsWith("kafka:replicationStrategy: "));
        assert.match(hit!, /unknown setting\. Fix: remove it/);
    });

    for (const [count, fix] of [[2, 3], [4, 5], [6, 7]] as const) {
        it(`an even ZooKeeper count ${count} suggests the next odd size up, ${fix}`, () => {
            const hit = problems({ ...SSH, brokerCount: 7, zookeeperCount: count }).find((l) => l.startsWith("kafka:zookeeperCount: "));
            assert.match(hit!, new RegExp(`must be odd.*Fix: pulumi config set kafka:zookeeperCount ${fix}$`));
        });
    }

    it("settings nested under a key named kafka (config: { kafka: { brokerCount: 5 } }) are an error listing them, not silently dropped", () => {
        const { raw, others } = splitNamespaces({ "kafka-cluster:kafka": JSON.stringify({ brokerCount: 5, security: "tls" }), "kafka:sshCidrs": JSON.stringify(SSH.sshCidrs) });
        const p = problems(raw, others);
        assert.match(p.join("\n"), /^kafka-cluster:kafka: settings nested under a key named "kafka" are not read.*: brokerCount, security\. Fix: kafka:brokerCount: <value>, kafka:security: <value> directly under config:/m);
    });

    it("an emptied kafka:hosts stays existing-hosts mode and says so, instead of building on EC2", () => {
        for (const empty of [null, "", []]) {
            const p = problems({ hosts: empty, sshUser: "admin" });
            assert.ok(p.some((l) => /^kafka:hosts: must be a non-empty list/.test(l)), `${JSON.stringify(empty)}: ${p.join("\n")}`);
            assert.ok(!p.some((l) => /sshCidrs/.test(l)), "no EC2 advice");
        }
    });

    it("no kafka: setting at all: the EC2 problem comes with a hint about the stack file", () => {
        const p = problems({});
        assert.ok(p.some((l) => /^kafka: no kafka: setting is set at all/.test(l)), p.join("\n"));
    });

    it("an even zookeeperCount on three co-located hosts gets one consistent fix (3), not 'set 5' beside 'lower to 3'", () => {
        const p = problems({ hosts: [1, 2, 3].map((id) => ({ id, address: `192.0.2.${id}` })), sshUser: "a", sshPrivateKey: "k", zookeeperCount: 4 });
        const zk = p.filter((l) => l.startsWith("kafka:zookeeperCount:"));
        assert.ok(zk.length > 0, p.join("\n"));
        assert.ok(zk.every((l) => /pulumi config set kafka:zookeeperCount 3/.test(l)), zk.join("\n"));
        assert.ok(!p.some((l) => /zookeeperCount 5/.test(l)), p.join("\n"));
    });

    it("a misspelt role is reported once, without advice to change brokerCount or zookeeperCount", () => {
        const p = problems({ hosts: [{ id: 1, address: "192.0.2.1", roles: ["brokr"] }, { id: 2, address: "192.0.2.2", roles: ["broker", "zookeeper"] }],
            sshUser: "a", sshPrivateKey: "k", brokerCount: 2, zookeeperCount: 1 });
        assert.ok(p.some((l) => /^kafka:hosts\[0\]\.roles: must be a list of "zookeeper", "broker" and\/or "monitoring"/.test(l)), p.join("\n"));
        assert.ok(!p.some((l) => /^kafka:(brokerCount|zookeeperCount):/.test(l)), p.join("\n"));
    });

    for (const key of ["listener.name.internal_sasl.scram-sha-512.sasl.jaas.config", "listener.name.client_tls.ssl.keystore.location",
        "listener.name.controller.ssl.client.auth", "listener.name.internal.sasl.enabled.mechanisms", "ssl.principal.mapping.rules"]) {
        it(`brokerProperties may not override the security of a listener the program runs, in any mode: ${key}`, () => {
            const p = problems({ ...SSH, brokerProperties: { [key]: "x" } });
            assert.ok(p.some((l) => l.startsWith(`kafka:brokerProperties["${key}"]: `) && /Fix: remove it/.test(l)), p.join("\n"));
        });
    }

    it("brokerProperties: a listener the cluster does not run is refused; a non-security setting of one it runs is taken", () => {
        const p = problems({ ...SSH, brokerProperties: { "listener.name.external.max.connections": "10" } });
        assert.match(p.join("\n"), /listener\.name\.external\.max\.connections"\]: names listener "external", which no node of this cluster runs/);
        const ok = parseConfig({ ...SSH, brokerProperties: { "listener.name.client_sasl.max.connections": "1000" } });
        assert.strictEqual(ok.brokerProperties["listener.name.client_sasl.max.connections"], "1000");
    });
});
