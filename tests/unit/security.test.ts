// kafka:security, kafka:clientUsers, kafka:acls: validation, the rendered files of each mode, the plan's security
// steps, and the credentials' openssl commands run for real (CA, a broker certificate, a password).
import * as assert from "assert";
import { execFileSync, execSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { CERTIFICATE_DAYS, CERT_SCRIPT, PASSWORD_SCRIPT, caScript, pemBlocks, subjectAltNames } from "../../components/credentials";
import { parseHostCommand } from "../../components/host-command";
import { PATHS } from "../../components/layout";
import { aclLines, brokerFiles, renderPlan, zookeeperFiles } from "../../components/plan";
import {
    renderClientProperties, renderEnvFile, renderKafkaJaas, renderServerProperties, renderZookeeperJaas, renderZookeeperProperties,
} from "../../components/render";
import { cluster, manifestText, withTempDir } from "./fixtures";
import { SSH, problems } from "./stacks";

/** key=value lines of a properties text (comments and blank lines skipped). */
function props(text: string): Map<string, string> {
    return new Map(text.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}

const ACLS = { app: { read: ["orders"], write: ["orders", "logs-*"], groups: ["app-*"] }, audit: { read: ["*"] } };

describe("security: configuration", () => {
    it("defaults to sasl_ssl with no client users, no authorizer and certificate generation 0", () => {
        const { cfg } = cluster(3, 3, "colocated");
        assert.deepStrictEqual(cfg.security, { mode: "sasl_ssl", clientUsers: [], certificateRotation: 0 });
    });

    it("reads clientUsers and acls (a trailing * is a prefix, * alone every name)", () => {
        const { cfg } = cluster(3, 3, "colocated", { clientUsers: ["app", "audit"], acls: ACLS });
        assert.deepStrictEqual(cfg.security.clientUsers, ["app", "audit"]);
        assert.deepStrictEqual(aclLines(cfg), [
            "app GROUP app- PREFIXED READ", "app TOPIC logs- PREFIXED DESCRIBE", "app TOPIC logs- PREFIXED WRITE",
            "app TOPIC orders LITERAL DESCRIBE", "app TOPIC orders LITERAL READ", "app TOPIC orders LITERAL WRITE",
            "audit TOPIC * LITERAL DESCRIBE", "audit TOPIC * LITERAL READ",
        ]);
    });

    it("refuses, naming the setting and the fix: an unknown mode, users or ACLs without sasl_ssl, ACLs of unknown users, bad names, the admin's name", () => {
        const cases: [Record<string, unknown>, RegExp][] = [
            [{ security: "ssl" }, /kafka:security: must be one of plaintext, tls, sasl_ssl .*Fix: pulumi config set kafka:security sasl_ssl/],
            [{ security: "tls", clientUsers: ["app"] }, /kafka:clientUsers: SCRAM users need kafka:security sasl_ssl \(it is tls/],
            [{ security: "plaintext", clientUsers: ["app"], acls: { app: { read: ["a"] } } }, /kafka:acls: ACLs need authenticated users/],
            [{ clientUsers: ["app"], acls: { bob: { read: ["a"] } } }, /kafka:acls\.bob: "bob" is not in kafka:clientUsers \(app\)\. Fix: add it: pulumi config set --path 'kafka:clientUsers\[1\]' bob/],
            [{ clientUsers: ["app"], acls: { app: { read: ["bad topic"] } } }, /kafka:acls\.app\.read: must be a list of topic names/],
            [{ clientUsers: ["app"], acls: { app: { admin: ["x"] } } }, /kafka:acls\.app\.admin: unknown field/],
            [{ clientUsers: ["admin"] }, /kafka:clientUsers: "admin" is the cluster's own super user/],
            [{ clientUsers: ["1st user"] }, /kafka:clientUsers: "1st user" is not a user name/],
            [{ security: "plaintext", certificateRotation: 1 }, /kafka:certificateRotation: kafka:security plaintext uses no certificates/],
            [{ brokerProperties: { "ssl.keystore.location": "/x" } }, /kafka:brokerProperties\["ssl\.keystore\.location"\]: ssl\.keystore\.location is managed/],
        ];
        for (const [extra, re] of cases) assert.match(problems({ ...SSH, ...extra }).join("\n"), re, JSON.stringify(extra));
    });
});

describe("security: rendered files", () => {
    it("sasl_ssl: SCRAM over TLS on both listeners, the admin's login inside, ZooKeeper ACLs; no authorizer without kafka:acls", () => {
        const { cfg, nodes, secrets } = cluster(3, 3, "colocated");
        const p = props(renderServerProperties(cfg, nodes[1], nodes, secrets));
        assert.strictEqual(p.get("listener.security.protocol.map"), "INTERNAL_SASL:SASL_SSL,CLIENT_SASL:SASL_SSL");
        assert.strictEqual(p.get("inter.broker.listener.name"), "INTERNAL_SASL");
        assert.strictEqual(p.get("sasl.enabled.mechanisms"), "SCRAM-SHA-512");
        assert.strictEqual(p.get("sasl.mechanism.inter.broker.protocol"), "SCRAM-SHA-512");
        assert.strictEqual(p.get("listener.name.internal_sasl.scram-sha-512.sasl.jaas.config"),
            'org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="admin-password-0000";');
        assert.strictEqual(p.get("listener.name.client_sasl.scram-sha-512.sasl.jaas.config"), "org.apache.kafka.common.security.scram.ScramLoginModule required;");
        assert.strictEqual(p.get("ssl.keystore.type"), "PEM");
        assert.strictEqual(p.get("ssl.keystore.location"), PATHS.brokerKeystore);
        assert.strictEqual(p.get("ssl.truststore.location"), PATHS.caCertificate);
        assert.strictEqual(p.get("ssl.key.password"), undefined, "the PKCS#8 key has no password");
        assert.strictEqual(p.get("zookeeper.set.acl"), "true");
        assert.strictEqual(p.get("authorizer.class.name"), undefined);
        assert.strictEqual(p.get("allow.everyone.if.no.acl.found"), undefined);
    });

    it("sasl_ssl with kafka:acls: the ACL authorizer, admin the only super user, everything else denied", () => {
        const { cfg, nodes, secrets } = cluster(3, 3, "colocated", { clientUsers: ["app", "audit"], acls: ACLS });
        const p = props(renderServerProperties(cfg, nodes[0], nodes, secrets));
        assert.strictEqual(p.get("authorizer.class.name"), "kafka.security.authorizer.AclAuthorizer");
        assert.strictEqual(p.get("super.users"), "User:admin");
        assert.strictEqual(p.get("allow.everyone.if.no.acl.found"), "false");
    });

    it("tls: TLS on both listeners, no SASL; plaintext: none of it", () => {
        const tls = cluster(3, 3, "colocated", { security: "tls" });
        const t = props(renderServerProperties(tls.cfg, tls.nodes[0], tls.nodes, tls.secrets));
        assert.strictEqual(t.get("listener.security.protocol.map"), "INTERNAL_TLS:SSL,CLIENT_TLS:SSL");
        assert.strictEqual(t.get("ssl.keystore.location"), PATHS.brokerKeystore);
        assert.strictEqual(t.get("zookeeper.set.acl"), "true");
        assert.ok(![...t.keys()].some((k) => k.startsWith("sasl.") || k.includes("jaas")));
        const plain = cluster(3, 3, "colocated", { security: "plaintext" });
        const text = renderServerProperties(plain.cfg, plain.nodes[0], plain.nodes);
        assert.strictEqual(props(text).get("listener.security.protocol.map"), "INTERNAL:PLAINTEXT,CLIENT:PLAINTEXT");
        assert.doesNotMatch(text, /ssl\.|sasl\.|zookeeper\.set\.acl/);
        assert.doesNotMatch(renderZookeeperProperties(plain.nodes, plain.cfg), /authProvider/);
        assert.strictEqual(renderClientProperties(plain.cfg), "security.protocol=PLAINTEXT\n");
    });

    it("ZooKeeper: the SASL provider and a JAAS file with the brokers' user; the broker's JAAS logs in as that user", () => {
        const { cfg, nodes, secrets } = cluster(3, 3, "dedicated");
        assert.strictEqual(props(renderZookeeperProperties(nodes, cfg)).get("authProvider.sasl"), "org.apache.zookeeper.server.auth.SASLAuthenticationProvider");
        assert.strictEqual(renderZookeeperJaas(secrets),
            'Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_kafka="zookeeper-password-0000";\n};\n');
        assert.strictEqual(renderKafkaJaas(secrets),
            'Client {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  username="kafka"\n  password="zookeeper-password-0000";\n};\n');
        assert.match(renderEnvFile("1g", "/var/log/kafka", PATHS.kafkaJaas), /^KAFKA_OPTS="-Djava\.security\.auth\.login\.config=\/etc\/kafka\/kafka-jaas\.conf"$/m);
        assert.doesNotMatch(renderEnvFile("1g", "/var/log/kafka"), /KAFKA_OPTS/);
    });

    it("files with credentials are 0640 root:kafka or tighter; the broker gets its own keystore, the CA and the admin's login (root only)", () => {
        const { cfg, nodes, secrets } = cluster(3, 3, "dedicated");
        const broker = nodes.find((n) => n.name === "broker-2")!;
        const files = new Map(brokerFiles(cfg, broker, nodes, secrets).map(([p, mode, owner, content]) => [p, { mode, owner, content }]));
        assert.deepStrictEqual({ ...files.get(PATHS.brokerKeystore), content: undefined }, { mode: "0640", owner: "root:kafka", content: undefined });
        assert.strictEqual(files.get(PATHS.brokerKeystore)!.content, secrets.keystores["broker-2"]);
        assert.deepStrictEqual({ ...files.get(PATHS.adminConfig), content: undefined }, { mode: "0600", owner: "root:root", content: undefined });
        assert.match(files.get(PATHS.adminConfig)!.content, /^security\.protocol=SASL_SSL$/m);
        assert.match(files.get(PATHS.adminConfig)!.content, /^ssl\.truststore\.location=\/etc\/kafka\/ca\.pem$/m);
        assert.strictEqual(files.get(PATHS.caCertificate)!.mode, "0644");
        assert.strictEqual(files.get(PATHS.kafkaJaas)!.mode, "0640");
        const zk = zookeeperFiles(cfg, nodes[0], nodes, secrets).find(([p]) => p === PATHS.zookeeperJaas)!;
        assert.deepStrictEqual(zk.slice(1, 3), ["0640", "root:kafka"]);
    });

    it("clientProperties: the CA inline as a properties continuation, which Java's Properties reads back as the PEM", () => {
        const { cfg, secrets } = cluster(3, 3, "colocated");
        const text = renderClientProperties(cfg, { user: "app", password: "pw" }, { pem: secrets.caCertificate });
        withTempDir("kc-props-", (dir) => {
            fs.writeFileSync(path.join(dir, "client.properties"), text);
            // Java itself reads the file, as Kafka's tools do (Properties.load).
            fs.writeFileSync(path.join(dir, "Read.java"), "import java.io.*; import java.util.*; public class Read { public static void main(String[] a) " +
                "throws Exception { Properties p = new Properties(); p.load(new FileReader(a[0])); System.out.print(p.getProperty(a[1])); } }");
            const value = execFileSync("java", [path.join(dir, "Read.java"), path.join(dir, "client.properties"), "ssl.truststore.certificates"], { encoding: "utf8" });
            assert.strictEqual(value.replace(/ /g, "\n"), secrets.caCertificate.trim().replace(/ /g, "\n"));
            assert.strictEqual(execFileSync("java", [path.join(dir, "Read.java"), path.join(dir, "client.properties"), "sasl.mechanism"], { encoding: "utf8" }),
                "SCRAM-SHA-512");
        });
    });
});

describe("kafka:jmx (monitoring)", () => {
    it("off by default: no JMX connector in any env file, no JMX file, no JMX port", () => {
        const { cfg, nodes, secrets } = cluster(3, 3, "colocated");
        assert.strictEqual(cfg.jmx, false);
        const files = [...zookeeperFiles(cfg, nodes[0], nodes, secrets), ...brokerFiles(cfg, nodes[0], nodes, secrets)];
        assert.ok(!files.some(([p]) => p.includes("jmx")));
        for (const [p, , , text] of files.filter(([f]) => f.endsWith(".env"))) {
            assert.match(text, /^KAFKA_JMX_OPTS="-Dkafka-cluster\.jmx=off"$/m, p);
            assert.doesNotMatch(text, /jmxremote|JMX_PORT/, p);
        }
    });

    it("on: each JVM's connector on its private address and own port, password and read-only role required; the password file 0600 for the service user", () => {
        const { cfg, nodes, secrets } = cluster(3, 3, "colocated", { jmx: true });
        const byPath = (files: [string, string, string, string][]) => new Map(files.map(([p, mode, owner, text]) => [p, { mode, owner, text }]));
        const zk = byPath(zookeeperFiles(cfg, nodes[1], nodes, secrets));
        const broker = byPath(brokerFiles(cfg, nodes[1], nodes, secrets));
        for (const [files, env, port] of [[zk, "/etc/kafka/zookeeper.env", 9998], [broker, "/etc/kafka/kafka.env", 9999]] as const) {
            assert.deepStrictEqual(files.get(PATHS.jmxPassword), { mode: "0600", owner: "kafka:kafka", text: "monitor jmx-password-0000\n" });
            assert.deepStrictEqual(files.get(PATHS.jmxAccess), { mode: "0644", owner: "root:root", text: "monitor readonly\n" });
            const text = files.get(env)!.text;
            assert.match(text, new RegExp(`^JMX_PORT=${port}$`, "m"));
            const opts = /^KAFKA_JMX_OPTS="(.*)"$/m.exec(text)![1].split(" ");
            for (const o of ["-Dcom.sun.management.jmxremote", "-Dcom.sun.management.jmxremote.host=10.0.0.2", "-Djava.rmi.server.hostname=10.0.0.2",
                `-Dcom.sun.management.jmxremote.rmi.port=${port}`, "-Dcom.sun.management.jmxremote.authenticate=true",
                `-Dcom.sun.management.jmxremote.password.file=${PATHS.jmxPassword}`, `-Dcom.sun.management.jmxremote.access.file=${PATHS.jmxAccess}`]) {
                assert.ok(opts.includes(o), `${env}: ${o}`);
            }
            assert.ok(!opts.includes("-Dcom.sun.management.jmxremote.authenticate=false"));
        }
    });

    it("refused with kafka:security plaintext, naming the setting and the fix", () => {
        assert.match(problems({ ...SSH, security: "plaintext", jmx: true }).join("\n"),
            /kafka:jmx: .*kafka:security plaintext.*pulumi config set kafka:security sasl_ssl/);
    });
});

describe("security: plan", () => {
    const phases = (extra: Record<string, unknown>) => renderPlan(cluster(3, 3, "colocated", extra).cfg, cluster(3, 3, "colocated", extra).nodes,
        cluster(3, 3, "colocated", extra).secrets).map((s) => s.name).filter((n) => /^cluster-(admin|users|zookeeper-acls)$/.test(n));

    it("sasl_ssl adds the admin credential before the brokers, the users and the ZooKeeper ACL migration after them; tls only the migration", () => {
        assert.deepStrictEqual(phases({}), ["cluster-admin", "cluster-zookeeper-acls", "cluster-users"]);
        assert.deepStrictEqual(phases({ security: "tls" }), ["cluster-zookeeper-acls"]);
        assert.deepStrictEqual(phases({ security: "plaintext" }), []);
        const steps = renderPlan(cluster(3, 3, "colocated").cfg, cluster(3, 3, "colocated").nodes, cluster(3, 3, "colocated").secrets);
        const byName = new Map(steps.map((s) => [s.name, s]));
        assert.ok(byName.get("node-1-broker")!.dependsOn.includes("cluster-admin"), "the first broker starts after the admin credential exists");
        assert.deepStrictEqual(byName.get("cluster-admin")!.dependsOn, ["node-1-install", "cluster-ensemble"]);
        assert.deepStrictEqual(byName.get("cluster-users")!.dependsOn, ["cluster-brokers"]);
        assert.deepStrictEqual(steps.filter((s) => s.secrets).map((s) => s.name).sort(), ["cluster-admin", "cluster-users", ...[1, 2, 3].flatMap((i) =>
            ["broker", "listeners-add", "listeners-switch", "protocol", "zookeeper"].map((s) => `node-${i}-${s}`))]);
        assert.ok(["cluster-brokers", "cluster-smoke", "cluster-rebalance", "node-1-broker"].every((n) =>
            parseHostCommand(byName.get(n)!.create).env.CLIENT_CONFIG === PATHS.adminConfig), "every check logs in as the admin");
    });

    it("secured, the brokers roll four times in one chain: listeners-add, listeners-switch, broker (protocol pinned), then the configured files; plaintext twice", () => {
        const chainOf = (extra: Record<string, unknown>) => {
            const c = cluster(3, 3, "colocated", extra);
            const steps = renderPlan(c.cfg, c.nodes, c.secrets);
            const rolls = steps.filter((s) => ["listeners-add", "listeners-switch", "broker", "protocol"].includes(s.phase));
            // Each roll step waits for the one before it: one broker at a time, one roll after the other.
            rolls.forEach((s, i) => assert.ok(i === 0 || s.dependsOn.includes(rolls[i - 1].name), `${s.name} after ${rolls[i - 1]?.name}`));
            assert.ok(["node-1-memory", "node-1-listeners", "node-3-listeners"].every((d) => rolls[0].dependsOn.includes(d)),
                "the first roll waits for every memory and listener check");
            return rolls.map((s) => [s.name, parseHostCommand(s.create).env.TRANSITION ?? "-"].join(" "));
        };
        const three = (phase: string, t: string) => [1, 2, 3].map((i) => `node-${i}-${phase} ${t}`);
        assert.deepStrictEqual(chainOf({}), [...three("listeners-add", "add"), ...three("listeners-switch", "switch"), ...three("broker", "pin"), ...three("protocol", "-")]);
        assert.deepStrictEqual(chainOf({ security: "tls" }), [...three("listeners-add", "add"), ...three("listeners-switch", "switch"), ...three("broker", "pin"), ...three("protocol", "-")]);
        assert.deepStrictEqual(chainOf({ security: "plaintext" }), [...three("broker", "pin"), ...three("protocol", "-")]);
        // The transition steps carry the same files as the broker step: what they run towards.
        const c = cluster(3, 3, "colocated");
        const steps = renderPlan(c.cfg, c.nodes, c.secrets);
        const manifestOf = (n: string) => parseHostCommand(steps.find((s) => s.name === n)!.create).env.MANIFEST_B64;
        assert.strictEqual(manifestOf("node-2-listeners-add"), manifestOf("node-2-broker"));
        assert.strictEqual(manifestOf("node-2-listeners-switch"), manifestOf("node-2-broker"));
        assert.strictEqual(manifestOf("node-2-protocol"), manifestOf("node-2-broker"));
    });

    it("the users step carries every client user's password and the ACL lines; changing the ACLs changes only that step", () => {
        const a = cluster(3, 3, "colocated", { clientUsers: ["app", "audit"], acls: ACLS });
        const b = cluster(3, 3, "colocated", { clientUsers: ["app", "audit"], acls: { ...ACLS, audit: { read: ["orders"] } } });
        const [pa, pb] = [renderPlan(a.cfg, a.nodes, a.secrets), renderPlan(b.cfg, b.nodes, b.secrets)];
        const env = parseHostCommand(pa.find((s) => s.name === "cluster-users")!.create).env;
        assert.strictEqual(Buffer.from(env.USERS_B64, "base64").toString(), "app app-password-0000\naudit audit-password-0000\n");
        assert.strictEqual(env.ACLS_MANAGED, "true");
        assert.strictEqual(env.ACLS, aclLines(a.cfg).join("\n"));
        assert.deepStrictEqual(pa.filter((s, i) => s.create !== pb[i].create).map((s) => s.name), ["cluster-users"]);
    });

    it("a ZooKeeper member's step carries its JAAS file; a broker's its keystore, the CA, its JAAS and the admin's login", () => {
        const { cfg, nodes, secrets } = cluster(3, 3, "dedicated");
        const steps = renderPlan(cfg, nodes, secrets);
        const zk = manifestText(steps.find((s) => s.name === "zk-1-zookeeper")!.create);
        assert.ok(zk.includes('user_kafka="zookeeper-password-0000"'));
        assert.ok(!zk.includes("PRIVATE KEY"), "no ZooKeeper member gets a broker key");
        const broker = manifestText(steps.find((s) => s.name === "broker-3-broker")!.create);
        assert.ok(broker.includes(secrets.keystores["broker-3"]));
        assert.ok(!broker.includes(secrets.keystores["broker-1"]), "a broker gets only its own key");
        assert.match(broker, /username="admin" password="admin-password-0000"/);
    });
});

describe("security: credentials (real openssl)", () => {
    it("a CA, then a broker certificate it signed for every address the broker advertises; keys PKCS#8; passwords of 32 URL-safe characters", () => {
        withTempDir("kc-ca-", (dir) => {
            const ca = execSync(caScript("kafka-test"), { shell: "/bin/bash", encoding: "utf8" });
            assert.strictEqual(pemBlocks(ca, "PRIVATE KEY").length, 1);
            const sans = subjectAltNames({ privateAddress: "10.0.0.1", clientAddress: "broker1.example.com" });
            assert.strictEqual(sans, "IP:10.0.0.1,DNS:broker1.example.com");
            assert.strictEqual(subjectAltNames({ privateAddress: "10.0.0.1", clientAddress: "10.0.0.1" }), "IP:10.0.0.1", "each address once");
            const leaf = execSync(CERT_SCRIPT, { shell: "/bin/bash", encoding: "utf8", input: ca, env: { ...process.env, KC_CN: "broker-1.kafka-test", KC_SANS: sans } });
            assert.strictEqual(pemBlocks(leaf, "PRIVATE KEY").length, 1);
            fs.writeFileSync(path.join(dir, "ca.pem"), pemBlocks(ca, "CERTIFICATE")[0]);
            fs.writeFileSync(path.join(dir, "leaf.pem"), pemBlocks(leaf, "CERTIFICATE")[0]);
            assert.match(execFileSync("openssl", ["verify", "-CAfile", path.join(dir, "ca.pem"), path.join(dir, "leaf.pem")], { encoding: "utf8" }), /leaf\.pem: OK/);
            const text = execFileSync("openssl", ["x509", "-in", path.join(dir, "leaf.pem"), "-noout", "-text"], { encoding: "utf8" });
            assert.match(text, /IP Address:10\.0\.0\.1, DNS:broker1\.example\.com/);
            assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
            assert.match(text, /CA:FALSE/);
            const days = (Date.parse(/Not After : (.*)/.exec(text)![1]) - Date.now()) / 86_400_000;
            assert.ok(Math.abs(days - CERTIFICATE_DAYS) < 2, `valid ${days} days`);
            // The CA's own key never leaves the CA command's output: the leaf output holds only the leaf's key.
            assert.notStrictEqual(pemBlocks(leaf, "PRIVATE KEY")[0], pemBlocks(ca, "PRIVATE KEY")[0]);
            const a = execSync(PASSWORD_SCRIPT, { shell: "/bin/bash", encoding: "utf8" }).trim();
            const b = execSync(PASSWORD_SCRIPT, { shell: "/bin/bash", encoding: "utf8" }).trim();
            assert.match(a, /^[A-Za-z0-9_-]{32}$/);
            assert.notStrictEqual(a, b);
        });
    });
});
