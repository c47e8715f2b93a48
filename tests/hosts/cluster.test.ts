// Real hosts: `pulumi up` (Automation API, the real engine) provisions three local systemd hosts of the test lab,
// then the suite checks ZooKeeper, brokers, a replicated round trip, faults under load, idempotent re-runs of every
// host command, a bad checksum, a rolling change and `pulumi destroy`. Nothing here is mocked: real engine, sshd,
// systemd, apt, ZooKeeper, Kafka brokers and Kafka clients.
import * as assert from "assert";
import { execSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { parseConfig, ClusterConfig, RawConfig } from "../../components/config";
import { NodeOutput, PATHS } from "../../components/layout";
import { shellQuote } from "../../components/host-command";
import { rollGateCommand } from "../../components/plan";
import { ClusterNode, brokerNodes, hostNodes } from "../../components/topology";
import { CACHE, LAB_JVM_OPTIONS, LocalEnv, Ssh, freshHostsUp, hostsDown, kafkaDist, localStackConfig, log } from "../../scripts/lib/local";
import { setStackConfig } from "../../scripts/lib/pulumi";
import { commandStates, disposeStack, freshStack, failedUp, pendingChanges, resourceCount, upWithOps } from "../support/engine";
import { KafkaClient, zkMode } from "../support/kafka";
import { caScript } from "../../components/credentials";
import { poll } from "../support/poll";
import { serviceProcess } from "../support/process";
import { ServiceState, assertRolled, serviceStates, stopTimes, urpMonitor } from "../support/rolling";
import { stopwatch } from "../support/timing";
import { Acked, acked, consumeTopic, urpBackToZero, writesUnderLoad } from "../support/load";

const { timed, summary } = stopwatch();

/**
 * A broker's steps that a change of its files updates: its roll step and, secured, the two listener-switch roll steps
 * before it (which carry the same files and change nothing when no plaintext listener runs).
 */
const brokerRollSteps = (node: string) => [`${node}-broker`, `${node}-listeners-add`, `${node}-listeners-switch`, `${node}-protocol`];

describe("real hosts: pulumi up on three local systemd hosts", function () {
    let env: LocalEnv;
    let ssh: Ssh;
    let raw: RawConfig;
    let cfg: ClusterConfig;
    let nodes: ClusterNode[];
    let stack: Stack;
    let client: KafkaClient;
    let tarball: string;
    let bootstrap: string;
    let zk: string;

    before(async () => {
        const start = Date.now();
        tarball = await timed("setup: Kafka tarball from Maven Central", () => kafkaDist());
        env = await timed("setup: image, apt repository and 3 hosts", () => freshHostsUp(3));
        ssh = new Ssh(env);
        // kafka:security is sasl_ssl by default; two client users, with ACLs (everything else denied); JMX for monitoring.
        raw = localStackConfig(env, 3, {
            jmx: true,
            clientUsers: ["app", "audit"],
            acls: { app: { read: ["app-*"], write: ["app-*"], groups: ["app-*"] }, audit: { read: ["app-events"] } },
        });
        cfg = parseConfig(raw, "hosts-test");
        if (cfg.mode !== "hosts") throw new Error("the real-host suite runs existing-hosts mode");
        nodes = hostNodes(cfg);
        client = new KafkaClient(tarball);
        stack = await timed("setup: engine and stack", () => freshStack("hosts-test", raw));
        log(`[timing] setup phase total: ${((Date.now() - start) / 1000).toFixed(1)} s`);
    });

    afterEach(async function () {
        if (this.currentTest?.state !== "failed" || !nodes) return;
        for (const n of nodes) log(`--- journal of ${n.name} (${n.sshAddress}) ---\n${await ssh.journal(n.sshAddress, 60)}`);
    });

    after(async () => {
        try {
            await disposeStack(stack);
        } finally {
            await client?.close();
            if (process.env.KEEP_HOSTS !== "1") hostsDown();
        }
        log(`[timing] summary: ${summary()}`);
    });

    it("pulumi up from empty: Java from apt, verified Kafka, ensemble, brokers, smoke test", async () => {
        const { result } = await timed("provision: pulumi up", () => upWithOps(stack));
        bootstrap = result.outputs.bootstrapServers.value;
        zk = result.outputs.zookeeperConnect.value;
        // kafka:security defaults to sasl_ssl: this suite's clients log in as the cluster's admin, over TLS.
        assert.strictEqual(result.outputs.clientProperties.secret, true);
        client.login(result.outputs.clientProperties.value.admin);
        assert.strictEqual(bootstrap, nodes.map((n) => `${n.clientAddress}:9096`).join(","));
        assert.match(result.outputs.smokeTest.value, /smoke test ok: topic with replication 3 and min\.insync\.replicas 2 created, written with acks=all and read back/);
        const state = await commandStates(stack);
        assert.match(String(state.get("cluster-ensemble")!.outputs.stdout), /ensemble ok: /);
        assert.match(String(state.get("cluster-brokers")!.outputs.stdout), /brokers ok: ids \[1,2,3\]/);
        for (const n of nodes) {
            assert.match(await ssh.must(n.sshAddress, "java -version 2>&1"), /version "17\./);
            assert.ok((await ssh.must(n.sshAddress, "apt-cache policy openjdk-17-jre-headless")).includes(`${env.httpBase}/apt`),
                "Java came from the lab's local apt repository");
            assert.match(await ssh.must(n.sshAddress, "apt-mark showhold"), /^openjdk-17-jre-headless$/m, "the JDK is held against unattended upgrades");
        }
    });

    it("ZooKeeper: one leader and two followers; myid and server.N agree on every host", async () => {
        const modes = await Promise.all(nodes.map((n) => zkMode(n.privateAddress)));
        assert.deepStrictEqual([...modes].sort(), ["follower", "follower", "leader"]);
        for (const n of nodes) {
            const myid = (await ssh.must(n.sshAddress, `sudo -n cat ${PATHS.zookeeperData}/myid`)).trim();
            const props = await ssh.must(n.sshAddress, `sudo -n cat ${PATHS.configDir}/zookeeper.properties`);
            assert.strictEqual(myid, String(n.zookeeperId));
            const line = props.split("\n").find((l) => l.startsWith(`server.${myid}=`));
            assert.strictEqual(line, `server.${myid}=${n.privateAddress}:2888:3888`, `${n.name}: server.${myid} names this host`);
            assert.strictEqual(props.split("\n").filter((l) => l.startsWith("server.")).length, 3);
        }
    });

    it("Kafka: broker ids 1..3 registered under the chroot; ApiVersions answers on each broker", async () => {
        assert.deepStrictEqual(await client.registeredBrokers(zk), [1, 2, 3]);
        assert.match(zk, /\/kafka$/);
        for (const n of nodes) {
            const out = await client.must("kafka-broker-api-versions.sh", ["--bootstrap-server", `${n.clientAddress}:9096`], 60_000);
            assert.match(out, new RegExp(`${n.clientAddress.replace(/\./g, "\\.")}:9096 \\(id: ${n.brokerId} rack: `));
        }
    });

    // Security (kafka:security sasl_ssl, the default).
    let outputs: Record<string, { value: any; secret: boolean }>;
    /** A client.properties of the stack's outputs, as a file (0600). */
    const propsFile = (user: string, edit: (t: string) => string = (t) => t) =>
        client.propertiesFile(`as-${user}`, edit(outputs.clientProperties.value[user]));
    /** Fail fast instead of retrying for a minute when a connection is refused. */
    const FAST = "request.timeout.ms=5000\ndefault.api.timeout.ms=10000\nmax.block.ms=10000\n";

    it("a SCRAM user with the stack's CA produces and consumes its own topics over TLS; each broker's certificate names its addresses", async () => {
        outputs = await stack.outputs();
        assert.strictEqual(outputs.caCertificate.secret, false);
        assert.match(outputs.caCertificate.value, /^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
        assert.deepStrictEqual(Object.keys(outputs.clientCredentials.value).sort(), ["app", "audit"]);
        assert.strictEqual(outputs.clientCredentials.secret, true);
        const ca = client.propertiesFile("ca", outputs.caCertificate.value);
        for (const n of nodes) {
            // The certificate each listener presents chains to the stack's CA and carries the broker's address.
            for (const port of [9096, 9097]) {
                const r = spawnSync("openssl", ["s_client", "-connect", `${n.privateAddress}:${port}`, "-CAfile", ca, "-verify_ip", n.privateAddress,
                    "-verify_return_error"], { input: "", encoding: "utf8", timeout: 30_000 });
                assert.strictEqual(r.status, 0, `${n.name}:${port}: ${r.stdout.slice(-600)}${r.stderr.slice(-600)}`);
                assert.match(r.stdout, /Verify return code: 0 \(ok\)/);
            }
        }
        await client.must("kafka-topics.sh", ["--bootstrap-server", bootstrap, "--create", "--topic", "app-events", "--partitions", "3", "--replication-factor", "3"]);
        const app = propsFile("app");
        await client.must("kafka-console-producer.sh", ["--bootstrap-server", bootstrap, "--topic", "app-events", "--producer-property", "acks=all"],
            120_000, "one\ntwo\nthree\n", app);
        const got = await client.must("kafka-console-consumer.sh", ["--bootstrap-server", bootstrap, "--topic", "app-events", "--group", "app-readers",
            "--from-beginning", "--max-messages", "3", "--timeout-ms", "60000"], 120_000, undefined, app);
        assert.deepStrictEqual(got.trim().split("\n").sort(), ["one", "three", "two"]);
    });

    it("refused: a plaintext client, a wrong password, a client that trusts another CA; ACLs deny a user outside its topics and groups", async () => {
        const list = (config: string) => client.tool("kafka-topics.sh", ["--bootstrap-server", bootstrap, "--list"], 60_000, undefined, config);
        const plaintext = await list(client.propertiesFile("plaintext", `security.protocol=PLAINTEXT\n${FAST}`));
        assert.notStrictEqual(plaintext.code, 0, "a plaintext client must not get an answer");
        const wrong = await list(propsFile("app", (t) => t.replace(/password="[^"]*"/, 'password="not-the-password"') + FAST));
        assert.notStrictEqual(wrong.code, 0);
        assert.match(wrong.stderr, /Authentication failed/);
        const otherCa = execSync(caScript("someone-else"), { shell: "/bin/bash", encoding: "utf8" }).match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/)![0];
        const foreign = await list(propsFile("app", (t) => t.replace(/^ssl\.truststore\.certificates=[\s\S]*-----END CERTIFICATE-----$/m,
            `ssl.truststore.certificates=${otherCa.split("\n").join(" \\\n  ")}`) + FAST));
        assert.notStrictEqual(foreign.code, 0);
        assert.match(foreign.stderr, /SSL handshake failed|PKIX path|SSLHandshakeException/);
        const ok = await list(propsFile("app"));
        assert.strictEqual(ok.code, 0, `the same client with the right CA and password: ${ok.stderr.slice(-1000)}`);

        // app may write app-* only; audit may read app-events but use no consumer group.
        await client.must("kafka-topics.sh", ["--bootstrap-server", bootstrap, "--create", "--topic", "billing", "--partitions", "1", "--replication-factor", "3"]);
        const denied = await client.tool("kafka-console-producer.sh", ["--bootstrap-server", bootstrap, "--topic", "billing",
            "--producer-property", "max.block.ms=10000"], 60_000, "x\n", propsFile("app"));
        assert.match(denied.stdout + denied.stderr, /TopicAuthorizationException|Not authorized to access topics: \[billing\]/);
        const noGroup = await client.tool("kafka-console-consumer.sh", ["--bootstrap-server", bootstrap, "--topic", "app-events", "--group", "audit-g",
            "--from-beginning", "--max-messages", "1", "--timeout-ms", "20000"], 60_000, undefined, propsFile("audit"));
        assert.match(noGroup.stdout + noGroup.stderr, /GroupAuthorizationException|Not authorized to access group/);
        const held = await client.must("kafka-topics.sh", ["--bootstrap-server", bootstrap, "--describe", "--topic", "billing"]);
        assert.match(held, /PartitionCount: 1/, "the admin still sees everything");
        assert.strictEqual(await client.recordCount(bootstrap, "billing"), 0, "nothing was written to billing");
    });

    it("ZooKeeper: an unauthenticated zookeeper-shell cannot write under the chroot or read SCRAM credentials; znodes carry the brokers' ACL", async () => {
        const servers = zk.replace(/\/kafka$/, "");
        const shell = async (...args: string[]) => {
            const r = await client.tool("zookeeper-shell.sh", [servers, ...args], 60_000);
            return r.stdout + r.stderr;
        };
        assert.match(await shell("create", "/kafka/intruder", "x"), /Insufficient permission : \/kafka\/intruder/);
        assert.match(await shell("delete", "/kafka/brokers/ids/1"), /Insufficient permission/);
        assert.match(await shell("get", "/kafka/config/users/admin"), /Insufficient permission/);
        assert.match(await shell("getAcl", "/kafka"), /'sasl,'kafka\n: cdrwa\n'world,'anyone\n: r/);
        assert.match(await shell("getAcl", "/kafka/brokers/topics/app-events"), /'sasl,'kafka\n: cdrwa\n'world,'anyone\n: r/);
        assert.match(await shell("ls", "/kafka/brokers/ids"), /\[1, 2, 3\]/, "reading what is not sensitive still works");
        const migrated = (await commandStates(stack)).get("cluster-zookeeper-acls")!;
        assert.match(String(migrated.outputs.stdout), /zookeeper acls: znodes under .* writable by the brokers only/);
    });

    it("kafka:clientUsers: removing a user removes its credential and ACLs, with nothing restarted", async () => {
        const before: [Map<string, ServiceState>, Map<string, ServiceState>] = [await serviceStates(ssh, nodes.map((n) => n.sshAddress), "kafka"),
            await serviceStates(ssh, nodes.map((n) => n.sshAddress), "zookeeper")];
        const audit = propsFile("audit");
        raw = { ...raw, clientUsers: ["app"], acls: { app: (raw.acls as any).app } };
        await setStackConfig(stack, raw);
        const { ops, result } = await timed("security: remove a client user", () => upWithOps(stack));
        assert.deepStrictEqual(ops.get("update"), ["cluster-users"]);
        assert.deepStrictEqual(ops.get("delete"), ["kafka-hosts-test-password-user-audit"]);
        assert.deepStrictEqual(Object.keys(result.outputs.clientCredentials.value), ["app"]);
        assert.deepStrictEqual(await serviceStates(ssh, nodes.map((n) => n.sshAddress), "kafka"), before[0], "no broker restarted");
        assert.deepStrictEqual(await serviceStates(ssh, nodes.map((n) => n.sshAddress), "zookeeper"), before[1], "no ZooKeeper member restarted");
        const gone = await client.tool("kafka-topics.sh", ["--bootstrap-server", bootstrap, "--list"], 60_000, undefined,
            client.propertiesFile("audit-fast", fs.readFileSync(audit, "utf8") + FAST));
        assert.match(gone.stderr, /Authentication failed/);
        const acls = await client.must("kafka-acls.sh", ["--bootstrap-server", bootstrap, "--list"]);
        assert.doesNotMatch(acls, /User:audit/);
        assert.match(acls, /principal=User:app, host=\*, operation=WRITE, permissionType=ALLOW/);
        log(`users step: ${String((await commandStates(stack)).get("cluster-users")!.outputs.stdout).trim()}`);
    });

    /** What a port answers another host's RMI handshake with (hex; "" when it closes the connection without a word). */
    function rmiAnswer(address: string, port: number): Promise<string> {
        return new Promise((resolve) => {
            let got = Buffer.alloc(0);
            const sock = net.connect({ host: address, port }, () => sock.write(Buffer.from([0x4a, 0x52, 0x4d, 0x49, 0x00, 0x02, 0x4b])));
            sock.on("data", (d) => (got = Buffer.concat([got, d])));
            sock.on("error", () => undefined);
            sock.on("close", () => { clearTimeout(timer); resolve(got.toString("hex")); });
            const timer = setTimeout(() => { got = Buffer.from("timeout"); sock.destroy(); }, 5000);
        });
    }

    it("hosts are hardened: data and log directories 0750, sandboxed units (systemctl show), JVMs listen on their service ports only, JMX (kafka:jmx) on the private address with a password", async () => {
        for (const n of nodes) {
            const modes = await ssh.must(n.sshAddress, `sudo -n stat -c '%n %a %U' ${PATHS.kafkaData} ${PATHS.kafkaLogDirs} ${PATHS.kafkaLogs} ` +
                `${PATHS.zookeeperData} ${PATHS.zookeeperLogs}`);
            for (const line of modes.trim().split("\n")) assert.match(line, / 750 kafka$/, `${n.name}: ${line}`);
            // Files the services create are not world-readable (UMask=0027).
            assert.strictEqual((await ssh.must(n.sshAddress, `sudo -n stat -c %a ${PATHS.kafkaLogDirs}/meta.properties`)).trim(), "640");
            for (const [svc, dirs, ports, jmxPort] of [["kafka", [PATHS.kafkaData, PATHS.kafkaLogs], [9096, 9097], 9999],
                ["zookeeper", [PATHS.zookeeperData, PATHS.zookeeperLogs], [2181, 2888, 3888], 9998]] as const) {
                const show = Object.fromEntries((await ssh.must(n.sshAddress,
                    `systemctl show -p NoNewPrivileges -p ProtectSystem -p PrivateTmp -p ProtectHome -p UMask -p ReadWritePaths -p MainPID ${svc}`))
                    .trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
                assert.deepStrictEqual({ ...show, MainPID: undefined, ReadWritePaths: undefined },
                    { NoNewPrivileges: "yes", ProtectSystem: "strict", PrivateTmp: "yes", ProtectHome: "yes", UMask: "0027", MainPID: undefined, ReadWritePaths: undefined },
                    `${n.name} ${svc}`);
                assert.deepStrictEqual(show.ReadWritePaths.split(" ").sort(), dirs.map((d) => `-${d}`).sort(), `${n.name} ${svc}`);
                const proc = await serviceProcess(ssh, n.sshAddress, svc);
                assert.strictEqual(String(proc.pid), show.MainPID);
                assert.match(proc.cmdline, /-Dcom\.sun\.management\.jmxremote\.authenticate=true /, `${n.name}: ${svc}'s JMX agent asks for a password`);
                // kafka:jvmPerformanceOptions replaced Kafka's G1 defaults in the service's JVM.
                assert.ok(proc.cmdline.includes(` ${LAB_JVM_OPTIONS} `) && !proc.cmdline.includes("UseG1GC"), `${n.name}: ${svc}'s JVM options: ${proc.cmdline}`);
                const listening = proc.ports;
                assert.ok(listening.length > 0, `${n.name}: ${svc} listens on nothing?`);
                // JMX on the private address only (the other ports listen on every address, as Kafka and ZooKeeper do).
                assert.deepStrictEqual(proc.sockets.filter((a) => a.endsWith(`:${jmxPort}`)), [`${n.privateAddress}:${jmxPort}`], `${n.name}: ${svc} JMX`);
                // Besides, the JVM's local JMX connector (for jcmd and jconsole on the host, which the JDK always starts with a
                // remote one) on a port of its own: it answers RMI's handshake on the host and closes any other host's connection.
                const other = listening.filter((p) => !([...ports, jmxPort] as number[]).includes(p));
                assert.ok(other.length <= 1, `${n.name}: ${svc} listens on ${other} besides ${ports} and ${jmxPort}`);
                for (const p of other) {
                    const local = await ssh.must(n.sshAddress, `timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/${p}; printf "JRMI\\x00\\x02\\x4b" >&3; head -c1 <&3 | od -An -tx1'`);
                    assert.strictEqual(local.trim(), "4e", `${n.name}: ${svc}'s port ${p} is RMI (ProtocolAck) on the host`);
                    assert.strictEqual(await rmiAnswer(n.privateAddress, p), "", `${n.name}: ${svc}'s local JMX port ${p} answers another host`);
                }
            }
        }
    });

    it("kafka:jmx: the monitor user reads each broker's and ZooKeeper member's MBeans over JMX; a wrong password or none is refused", async () => {
        const jmx = (await stack.outputs()).jmx;
        assert.strictEqual(jmx.secret, true, "the jmx output is a secret");
        const { enabled, user, password, brokerPort, zookeeperPort } = jmx.value as { enabled: boolean; user: string; password: string; brokerPort: number; zookeeperPort: number };
        assert.deepStrictEqual([enabled, user, brokerPort, zookeeperPort], [true, "monitor", 9999, 9998]);
        const read = (address: string, port: number, bean: string, attribute: string, login?: string) => client.tool("kafka-run-class.sh", [
            "org.apache.kafka.tools.JmxTool", "--jmx-url", `service:jmx:rmi:///jndi/rmi://${address}:${port}/jmxrmi`, "--object-name", bean,
            "--attributes", attribute, "--one-time", "true", ...(login ? ["--jmx-auth-prop", login] : [])], 60_000);
        for (const n of nodes) {
            const urp = await read(n.privateAddress, brokerPort, "kafka.server:type=ReplicaManager,name=UnderReplicatedPartitions", "Value", `${user}=${password}`);
            assert.strictEqual(urp.code, 0, urp.stderr);
            assert.match(urp.stdout, /,0\s*$/, `${n.name}: UnderReplicatedPartitions ${urp.stdout}`);
            const zk = await read(n.privateAddress, zookeeperPort, "java.lang:type=Runtime", "Name", `${user}=${password}`);
            assert.strictEqual(zk.code, 0, zk.stderr);
            assert.match(zk.stdout, /,\d+@kct\d/, `${n.name}: ZooKeeper's runtime name ${zk.stdout}`);
        }
        const n = nodes[0];
        for (const [what, login] of [["a wrong password", `${user}=not-${password}`], ["no login", undefined]] as const) {
            const r = await read(n.privateAddress, brokerPort, "java.lang:type=Runtime", "Name", login);
            assert.notStrictEqual(r.code, 0, `${what}: ${r.stdout}`);
            assert.match(r.stdout + r.stderr, /SecurityException|Authentication failed|Credentials required/, `${what}: ${r.stderr.slice(-400)}`);
        }
    });

    it("Kafka's tools work for the SSH user in a login shell: on PATH, logs in a writable LOG_DIR, no permission errors", async () => {
        const n = nodes[0];
        const topic = "ssh-user-tools";
        // The admin's client properties are root's (0600): the SSH user reads them through sudo, as README says.
        const login = `<(sudo -n cat ${PATHS.adminConfig})`;
        const script = [
            "set -e",
            `kafka-topics.sh --bootstrap-server ${n.privateAddress}:9096 --command-config ${login} --create --topic ${topic} --partitions 1 --replication-factor 3`,
            `echo hello-from-$(id -un) | kafka-console-producer.sh --bootstrap-server ${n.privateAddress}:9096 --producer.config ${login} --topic ${topic} --producer-property acks=all`,
            `kafka-console-consumer.sh --bootstrap-server ${n.privateAddress}:9096 --consumer.config ${login} --topic ${topic} --from-beginning --max-messages 1 --timeout-ms 60000`,
            `zookeeper-shell.sh ${n.privateAddress}:2181 ls /kafka/brokers/ids`,
            'echo "LOG_DIR=$LOG_DIR"',
        ].join("\n");
        const r = await ssh.exec(n.sshAddress, `bash -lc ${shellQuote(script)}`, 180_000);
        assert.strictEqual(r.code, 0, `tools failed for ${env.sshUser}:\n${r.stdout}\n${r.stderr}`);
        assert.doesNotMatch(r.stderr, /Permission denied|cannot create/);
        assert.match(r.stdout, new RegExp(`^hello-from-${env.sshUser}$`, "m"));
        assert.match(r.stdout, /^\[1, 2, 3\]$/m);
        assert.match(r.stdout, new RegExp(`^LOG_DIR=/home/${env.sshUser}/\.kafka/logs$`, "m"));
    });

    it("a 6-partition, RF 3 topic round-trips 10,000 keyed acks=all messages, per-partition order kept", async function () {
        await timed("round trip: 10,000 messages", async () => {
            await client.must("kafka-topics.sh", ["--bootstrap-server", bootstrap, "--create", "--topic", "roundtrip",
                "--partitions", "6", "--replication-factor", "3"]);
            const desc = await client.must("kafka-topics.sh", ["--bootstrap-server", bootstrap, "--describe", "--topic", "roundtrip"]);
            assert.match(desc, /PartitionCount: 6\s+ReplicationFactor: 3/);
            assert.match(desc, /min\.insync\.replicas=2/);
            const prod = await client.must("kafka-verifiable-producer.sh", ["--bootstrap-server", bootstrap, "--topic", "roundtrip",
                "--max-messages", "10000", "--acks", "-1", "--repeating-keys", "100", "--throughput", "-1"], 300_000);
            const sent = acked(prod);
            assert.strictEqual(sent.length, 10000, "every send acknowledged");
            const consumed = await consumeAll("roundtrip", 10000);
            assert.strictEqual(consumed.length, 10000);
            assert.deepStrictEqual(new Set(consumed.map((c) => c.value)).size, 10000, "no duplicates, nothing missing");
            const keyPartition = new Map<string, number>();
            const byPartition = new Map<number, Acked[]>();
            for (const c of consumed) {
                if (!byPartition.has(c.partition)) byPartition.set(c.partition, []);
                byPartition.get(c.partition)!.push(c);
                const p = keyPartition.get(c.key!);
                assert.ok(p === undefined || p === c.partition, `key ${c.key} in one partition`);
                keyPartition.set(c.key!, c.partition);
            }
            assert.strictEqual(byPartition.size, 6, "all six partitions used");
            for (const [p, list] of byPartition) {
                list.sort((a, b) => a.offset - b.offset);
                for (let i = 1; i < list.length; i++) {
                    assert.ok(list[i].value > list[i - 1].value, `partition ${p}: offset ${list[i].offset} out of producer order`);
                }
            }
        });
    });

    const consumeAll = (topic: string, want: number) => consumeTopic(client, bootstrap, topic, want);
    const underLoad = (topic: string, fault: (ackedSoFar: () => number) => Promise<void>, noErrors = false) =>
        writesUnderLoad(client, bootstrap, topic, fault, noErrors);
    const urpZero = (what: string) => urpBackToZero(client, bootstrap, what);

    async function ensembleHealthy(members: ClusterNode[]) {
        return poll("one leader and the rest followers", 180_000, async () => {
            const modes = await Promise.all(members.map((n) => zkMode(n.privateAddress)));
            return modes.filter((m) => m === "leader").length === 1 && modes.filter((m) => m === "follower").length === members.length - 1 && modes;
        });
    }

    /** Waits until `victim`'s broker is registered under a session other than `old` and answers ApiVersions. */
    async function reregistered(victim: ClusterNode, old: string) {
        const id = victim.brokerId!;
        await poll(`broker ${id} registered again under a new ZooKeeper session`, 180_000, async () => {
            const now = await client.brokerSession(zk, id);
            return now !== undefined && now !== old;
        }, 3000);
        // Registered is not yet serving: the broker opens its listeners to requests after it has registered, and on a
        // loaded machine the first answers can take a while.
        await poll(`broker ${id} answers ApiVersions`, 180_000, async () =>
            (await client.tool("kafka-broker-api-versions.sh", ["--bootstrap-server", `${victim.clientAddress}:9096`], 60_000)).code === 0, 3000);
        assert.deepStrictEqual(await client.registeredBrokers(zk), brokerNodes(nodes).map((n) => n.brokerId));
    }

    async function mainPid(n: ClusterNode, svc: string): Promise<number> {
        return Number((await ssh.must(n.sshAddress, `systemctl show -p MainPID --value ${svc}`)).trim());
    }

    it("fault: kill -9 of one broker under load — systemd restarts it, URP returns to 0, nothing acknowledged is lost", async () => {
        await timed("fault: kill -9 broker", () => underLoad("fault-kill", async () => {
            const victim = nodes[1];
            const pid = await mainPid(victim, "kafka");
            const session = await client.brokerSession(zk, victim.brokerId!);
            assert.ok(session, `broker ${victim.brokerId} registered before the fault`);
            await ssh.must(victim.sshAddress, `sudo -n kill -9 ${pid}`);
            await poll("systemd restarts the killed broker", 120_000, async () => {
                const now = await mainPid(victim, "kafka");
                return now !== 0 && now !== pid;
            });
            // The killed process's znode stays until its ZooKeeper session times out; restarts before that exit with
            // NodeExists and systemd tries again. Up means: registered under a new session.
            await reregistered(victim, session!);
            await urpZero("after kill -9");
        }));
    });

    it("fault: stopping the ZooKeeper leader under load — a new leader is elected, brokers keep serving", async () => {
        await timed("fault: ZooKeeper leader stop", () => underLoad("fault-zk", async (ackedSoFar) => {
            const modes = await Promise.all(nodes.map((n) => zkMode(n.privateAddress)));
            const leader = nodes[modes.indexOf("leader")];
            assert.ok(leader, `no leader among ${modes}`);
            await ssh.must(leader.sshAddress, "sudo -n systemctl stop zookeeper");
            const rest = nodes.filter((n) => n !== leader);
            await ensembleHealthy(rest);
            const during = ackedSoFar();
            await poll("brokers serve writes while the old leader is down", 60_000, async () => ackedSoFar() > during + 200);
            await ssh.must(leader.sshAddress, "sudo -n systemctl start zookeeper");
            await ensembleHealthy(nodes);
            await urpZero("after the ZooKeeper leader returned");
        }));
    });

    it("fault: rebooting one whole host under load — its services come back by themselves", async () => {
        await timed("fault: host reboot", () => underLoad("fault-reboot", async () => {
            const victim = nodes[2];
            const session = await client.brokerSession(zk, victim.brokerId!);
            assert.ok(session, `broker ${victim.brokerId} registered before the fault`);
            const bootBefore = (await ssh.must(victim.sshAddress, "cat /proc/sys/kernel/random/boot_id")).trim();
            await ssh.exec(victim.sshAddress, "sudo -n systemctl reboot", 30_000);
            await poll("host back after reboot", 300_000, async () => {
                const r = await ssh.exec(victim.sshAddress, "cat /proc/sys/kernel/random/boot_id", 10_000);
                return r.code === 0 && r.stdout.trim() !== bootBefore;
            }, 3000);
            await poll("kafka and zookeeper active after boot (enabled, nobody started them)", 180_000, async () =>
                (await ssh.exec(victim.sshAddress, "systemctl is-active kafka zookeeper", 10_000)).stdout.trim() === "active\nactive");
            await ensembleHealthy(nodes);
            await reregistered(victim, session!);
            await urpZero("after the reboot");
        }));
    });

    it("EC2 roll gates (roll-gate.sh as the roll-gate and roll-settled steps run it): the node's broker, then ZooKeeper, stop after a health check; a second node is refused while the first is out; the after-gate waits for URP 0", async () => {
        // What the roll-gate and roll-settled steps send over SSH (the instance change between them is EC2's, not here).
        const gate = (n: ClusterNode, phase: "before" | "after", stop: boolean, timeout?: number) => {
            const line = rollGateCommand(cfg, n, nodes, phase, stop);
            return timeout === undefined ? line : line.replace(/^sudo -n env /, `sudo -n env GATE_TIMEOUT=${timeout} `);
        };
        const [victim, next] = [nodes[1], nodes[2]];
        await timed("roll gates", () => underLoad("roll-gate", async () => {
            const before = await ssh.exec(victim.sshAddress, gate(victim, "before", true), 20 * 60_000);
            assert.strictEqual(before.code, 0, before.stderr);
            log(`before-gate on ${victim.name}:\n${before.stderr.trim()}`);
            assert.match(before.stderr, /the cluster healthy but for this node after \d+s[\s\S]*stopped kafka \(broker 2\)[\s\S]*stopped zookeeper/);
            assert.strictEqual((await ssh.exec(victim.sshAddress, "systemctl is-active kafka zookeeper", 10_000)).stdout.trim(), "inactive\ninactive");
            assert.strictEqual(await client.brokerSession(zk, victim.brokerId!), undefined, "broker 2 left /brokers/ids before its replacement could register");
            // The next node may not go while this one is out: first its ZooKeeper member is missing, then (with ZooKeeper
            // back, as a new instance's steps start it first) its broker's replicas.
            const zkOut = await ssh.exec(next.sshAddress, gate(next, "before", true, 4), 120_000);
            assert.notStrictEqual(zkOut.code, 0);
            assert.match(zkOut.stderr, new RegExp(`not healthy after 4s, so this node is not changed: ZooKeeper member ${victim.privateAddress}:2181 is not in the quorum`));
            await ssh.must(victim.sshAddress, "sudo -n systemctl start zookeeper");
            await ensembleHealthy(nodes);
            const urpOut = await ssh.exec(next.sshAddress, gate(next, "before", true, 4), 120_000);
            assert.notStrictEqual(urpOut.code, 0);
            assert.match(urpOut.stderr, /not healthy after 4s, so this node is not changed: \S+ misses replica 2/);
            log(`before-gate on ${next.name} while ${victim.name}'s broker is out: ${/not changed: (.*)/.exec(urpOut.stderr)?.[1]}`);
            assert.strictEqual((await ssh.exec(next.sshAddress, "systemctl is-active kafka zookeeper", 10_000)).stdout.trim(), "active\nactive",
                "a refused gate stops nothing");
            await ssh.must(victim.sshAddress, "sudo -n systemctl start kafka");
            const urpAtStart = await client.underReplicated(bootstrap);
            const after = await ssh.exec(victim.sshAddress, gate(victim, "after", false), 20 * 60_000);
            assert.strictEqual(after.code, 0, after.stderr);
            log(`after-gate on ${victim.name} (URP ${urpAtStart} when its broker started): ${after.stderr.trim()}`);
            assert.match(after.stderr, /node serves again; no partition under-replicated/);
            assert.strictEqual(await client.underReplicated(bootstrap), 0);
        }, true)); // a client with Kafka's default retries sees no error: the broker's controlled shutdown moves its leaders first
    });

    /** Checksums of every managed file, the install link and each service's start time and PID. */
    async function snapshot(): Promise<string> {
        const cmd = "sudo -n sh -c 'sha256sum /etc/kafka/* /var/lib/zookeeper/myid /etc/systemd/system/kafka.service " +
            "/etc/systemd/system/zookeeper.service 2>&1; readlink /opt/kafka/current; ls -a /etc/kafka; " +
            "systemctl show -p ExecMainStartTimestampMonotonic -p MainPID -p NRestarts kafka zookeeper'";
        const parts = await Promise.all(nodes.map(async (n) => `## ${n.name}\n${await ssh.must(n.sshAddress, cmd)}`));
        return parts.join("\n");
    }

    it("idempotence: every host command run again (pulumi up --replace) changes no file and restarts no service", async () => {
        const before = await snapshot();
        const remote = [...(await commandStates(stack)).values()].filter((c) => c.type === "command:remote:Command");
        assert.ok(remote.length >= 17, `${remote.length} remote commands`);
        const { ops } = await timed("provision: every command again", () => upWithOps(stack, { replace: remote.map((c) => c.urn) }));
        assert.deepStrictEqual(ops.get("replace"), remote.map((c) => c.name).sort(), "the engine ran every host command again");
        const after = await snapshot();
        assert.strictEqual(after, before);
        for (const c of (await commandStates(stack)).values()) {
            if (c.type !== "command:remote:Command") continue;
            assert.doesNotMatch(String(c.outputs.stderr), /\] (wrote|started|restarting|created|switched|unpacked|installed java)/, `${c.name} changed something`);
        }
    });

    it("bad input: a tarball whose checksum does not match fails the install and the old install keeps running", async () => {
        // Serve a corrupted tarball with the genuine .sha512 under a version the hosts do not have yet.
        const version = "3.9.99";
        const dir = path.join(CACHE, "kafka", "corrupt", version);
        fs.mkdirSync(dir, { recursive: true });
        const name = `kafka_${cfg.scalaVersion}-${version}.tgz`;
        try {
            const data = fs.readFileSync(tarball);
            data[data.length >> 1] ^= 0xff;
            fs.writeFileSync(path.join(dir, name), data);
            fs.writeFileSync(path.join(dir, `${name}.sha512`),
                fs.readFileSync(`${tarball}.sha512`, "utf8").replace(path.basename(tarball), name));
            const pidsBefore = await Promise.all(nodes.map((n) => mainPid(n, "kafka")));
            await setStackConfig(stack, { ...raw, kafkaVersion: version, downloadUrl: `${env.kafkaDownloadUrl}/corrupt` });
            const err = await timed("bad checksum: pulumi up", () => failedUp(stack));
            assert.ok(err, "pulumi up with a bad checksum must fail");
            assert.match(String(err), /checksum mismatch for http:\/\/\S+kafka_2\.13-3\.9\.99\.tgz/);
            assert.match(String(err), /current install \(kafka_2\.13-3\.9\.\d+\) is untouched/);
            for (const [i, n] of nodes.entries()) {
                const link = (await ssh.must(n.sshAddress, "readlink /opt/kafka/current")).trim();
                assert.strictEqual(link, `kafka_${cfg.scalaVersion}-${cfg.kafkaVersion}`);
                assert.strictEqual((await ssh.exec(n.sshAddress, `test -e /opt/kafka/kafka_2.13-${version}`)).code, 1);
                assert.strictEqual(await mainPid(n, "kafka"), pidsBefore[i], `${n.name}: broker kept running`);
            }
            assert.strictEqual((await client.underReplicated(bootstrap)), 0);
        } finally {
            await setStackConfig(stack, raw);
            fs.rmSync(path.join(CACHE, "kafka", "corrupt"), { recursive: true, force: true });
        }
        assert.deepStrictEqual(await pendingChanges(stack), [],
            "the failed up left the stack as it was");
    });

    /** The serial number of the certificate each broker's client listener presents. */
    function certSerials(): string[] {
        return nodes.map((n) => spawnSync("bash", ["-c", `openssl s_client -connect ${n.privateAddress}:9096 </dev/null 2>/dev/null | openssl x509 -noout -serial`],
            { encoding: "utf8", timeout: 30_000 }).stdout.trim());
    }

    it("a changed broker setting rolls through the brokers one at a time, URP back to 0 in between; ZooKeeper untouched", async () => {
        const addrs = nodes.map((n) => n.sshAddress);
        const kafkaBefore = await serviceStates(ssh, addrs, "kafka");
        const zkBefore = await serviceStates(ssh, addrs, "zookeeper");
        const monitor = urpMonitor(client, bootstrap);
        raw = { ...raw, brokerProperties: { "log.retention.hours": 72 } };
        await setStackConfig(stack, raw);
        let ops: Map<string, string[]>;
        let seconds: Map<string, number>;
        try {
            ({ ops, seconds } = await timed("rolling broker change", () => upWithOps(stack)));
        } finally {
            await monitor.stop();
        }
        log(`rolling broker change, seconds per step: ${[...seconds].map(([n, t]) => `${n} ${t}`).join(", ")}`);
        assert.deepStrictEqual([...ops.keys()].sort(), ["same", "update"]);
        assert.deepStrictEqual(ops.get("update"), ["cluster-brokers", "cluster-smoke", ...nodes.flatMap((n) => brokerRollSteps(n.name))].sort());
        assertRolled(addrs, kafkaBefore, await serviceStates(ssh, addrs, "kafka"), monitor.samples);
        assert.deepStrictEqual(await serviceStates(ssh, addrs, "zookeeper"), zkBefore, "ZooKeeper was not restarted");
        for (const a of addrs) assert.match(await ssh.must(a, "sudo -n cat /etc/kafka/server.properties"), /^log\.retention\.hours=72$/m);
        log(`URP samples during the roll: ${monitor.samples.map((x) => x.urp ?? "?").join(" ")}`);
    });

    it("new certificates (kafka:certificateRotation) roll through the brokers one at a time while a producer writes: no send fails, nothing is lost", async () => {
        const addrs = nodes.map((n) => n.sshAddress);
        const kafkaBefore = await serviceStates(ssh, addrs, "kafka");
        const zkBefore = await serviceStates(ssh, addrs, "zookeeper");
        const serialsBefore = certSerials();
        assert.ok(serialsBefore.every((x) => /^serial=[0-9A-F]+$/.test(x)), serialsBefore.join(" "));
        raw = { ...raw, certificateRotation: 1 };
        await setStackConfig(stack, raw);
        let ops = new Map<string, string[]>();
        // A client keeps producing (TLS + SCRAM, acks=all) through the whole roll: it must not see a single error.
        await underLoad("rotation", async () => {
            ({ ops } = await timed("certificate rotation", () => upWithOps(stack)));
        }, true);
        assert.deepStrictEqual([...ops.keys()].sort(), ["same", "update"]);
        assert.deepStrictEqual(ops.get("update"), ["cluster-brokers", "cluster-smoke", ...nodes.flatMap((n) => brokerRollSteps(n.name)),
            "kafka-hosts-test-cert-host-1", "kafka-hosts-test-cert-host-2", "kafka-hosts-test-cert-host-3"].sort());
        // One at a time, in order (the URP side of a roll is the test above's; under this load an outside sampler is too slow for it).
        assertRolled(addrs, kafkaBefore, await serviceStates(ssh, addrs, "kafka"));
        assert.deepStrictEqual(await serviceStates(ssh, addrs, "zookeeper"), zkBefore, "ZooKeeper was not restarted");
        const serialsAfter = certSerials();
        serialsAfter.forEach((x, i) => assert.ok(/^serial=[0-9A-F]+$/.test(x) && x !== serialsBefore[i], `${nodes[i].name}: ${serialsBefore[i]} -> ${x}`));
        log(`certificates ${serialsBefore.join(",")} -> ${serialsAfter.join(",")}`);
    });

    /** The text the engine reports for a failed `pulumi up`, from the first error on. */
    function engineError(err: unknown): string {
        const msg = String(err);
        const i = msg.indexOf("error: ");
        return i >= 0 ? msg.slice(i) : msg;
    }

    /** The Diagnostics section of a failed `pulumi up` (what a user reads at the end), for the log. */
    function diagnostics(msg: string): string {
        const start = msg.indexOf("Diagnostics:");
        const end = msg.indexOf("\nOutputs:", start);
        return start < 0 ? msg.slice(0, 2000) : msg.slice(start, end > 0 ? end : start + 4000);
    }

    it("a heap too large for the hosts fails pulumi up within 2 minutes, naming the host, its memory and the heap; nothing restarts", async () => {
        const addrs = nodes.map((n) => n.sshAddress);
        const kafkaBefore = await serviceStates(ssh, addrs, "kafka");
        const zkBefore = await serviceStates(ssh, addrs, "zookeeper");
        const envBefore = await Promise.all(addrs.map((a) => ssh.must(a, "sudo -n cat /etc/kafka/kafka.env")));
        await setStackConfig(stack, { ...raw, brokerHeap: "100g" });
        const t = Date.now();
        let err: unknown;
        try {
            err = await timed("heap too large: pulumi up", () => failedUp(stack));
        } finally {
            await setStackConfig(stack, raw);
        }
        const secs = (Date.now() - t) / 1000;
        assert.ok(err, "pulumi up with a 100g broker heap must fail");
        const msg = engineError(err);
        log(`heap too large: failed after ${secs.toFixed(1)} s:\n${diagnostics(msg)}`);
        assert.ok(secs < 120, `failed after ${secs.toFixed(1)} s`);
        assert.match(msg, /ERROR \[host-\d-memory on kct\d\]: host-\d \(kct\d\) has \d+ MiB of memory \(MemTotal|cgroup/);
        assert.match(msg, /kafka:brokerHeap 102400 MiB \+ kafka:zookeeperHeap \d+ MiB/);
        assert.match(msg, /Nothing was restarted/);
        assert.deepStrictEqual(await serviceStates(ssh, addrs, "kafka"), kafkaBefore, "no broker restarted");
        assert.deepStrictEqual(await serviceStates(ssh, addrs, "zookeeper"), zkBefore, "no ZooKeeper member restarted");
        assert.deepStrictEqual(await Promise.all(addrs.map((a) => ssh.must(a, "sudo -n cat /etc/kafka/kafka.env"))), envBefore, "no env file written");
        assert.deepStrictEqual(await pendingChanges(stack), [],
            "with the heap back, the stack is as it was");
    });

    it("kafka:security back to plaintext on the running cluster is refused before any host changes; set back, the stack is as it was", async () => {
        const addrs = nodes.map((n) => n.sshAddress);
        const kafkaBefore = await serviceStates(ssh, addrs, "kafka");
        const zkBefore = await serviceStates(ssh, addrs, "zookeeper");
        const filesBefore = await Promise.all(addrs.map((a) => ssh.must(a, "sudo -n cat /etc/kafka/server.properties /etc/kafka/zookeeper.properties")));
        const { clientUsers: _, acls: __, certificateRotation: ___, jmx: ____, ...plain } = raw;
        await setStackConfig(stack, { ...plain, security: "plaintext" });
        const t = Date.now();
        let err: unknown;
        try {
            err = await timed("security change: pulumi up", () => failedUp(stack));
        } finally {
            await setStackConfig(stack, raw);
        }
        const secs = (Date.now() - t) / 1000;
        assert.ok(err, "pulumi up switching kafka:security must fail");
        const msg = engineError(err);
        log(`security change: refused after ${secs.toFixed(1)} s:\n${diagnostics(msg)}`);
        assert.match(msg, /ERROR \[host-\d-listeners on kct\d\]: the broker on host-\d \(kct\d\) runs listeners INTERNAL_SASL:SASL_SSL,CLIENT_SASL:SASL_SSL, and kafka:security plaintext means INTERNAL:PLAINTEXT,CLIENT:PLAINTEXT: a running cluster can switch up the order plaintext, tls, sasl_ssl/);
        assert.match(msg, /Nothing was changed on any host/);
        assert.deepStrictEqual(await serviceStates(ssh, addrs, "kafka"), kafkaBefore, "no broker restarted");
        assert.deepStrictEqual(await serviceStates(ssh, addrs, "zookeeper"), zkBefore, "no ZooKeeper member restarted");
        assert.deepStrictEqual(await Promise.all(addrs.map((a) => ssh.must(a, "sudo -n cat /etc/kafka/server.properties /etc/kafka/zookeeper.properties"))),
            filesBefore, "no configuration file written");
        assert.deepStrictEqual(await pendingChanges(stack), [], "with kafka:security back, the stack is as it was");
    });

    it("a broker that cannot start fails its step within a minute with its own error first, goes back to its old configuration; the roll stops there", async () => {
        const addrs = nodes.map((n) => n.sshAddress);
        const kafkaBefore = await serviceStates(ssh, addrs, "kafka");
        const zkBefore = await serviceStates(ssh, addrs, "zookeeper");
        const propsBefore = await ssh.must(addrs[0], "sudo -n cat /etc/kafka/server.properties");
        await setStackConfig(stack, { ...raw, brokerProperties: { ...(raw.brokerProperties as object), "num.network.threads": "lots" } });
        const t = Date.now();
        let err: unknown;
        try {
            err = await timed("broker that cannot start: pulumi up", () => failedUp(stack));
        } finally {
            await setStackConfig(stack, raw);
        }
        const secs = (Date.now() - t) / 1000;
        assert.ok(err, "pulumi up with an invalid broker setting must fail");
        const msg = engineError(err);
        log(`broker that cannot start: failed after ${secs.toFixed(1)} s:\n${diagnostics(msg)}`);
        // The step sees the failure within a minute of its restart and goes back (the whole up's time, which depends on
        // how busy this machine is, is only logged above).
        const at = (what: string) => {
            const m = new RegExp(`(\\d\\d):(\\d\\d):(\\d\\d) \\[host-1-broker@kct1\\] ${what}`).exec(msg);
            assert.ok(m, `no "${what}" in the step log:\n${msg.slice(-3000)}`);
            return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
        };
        const detected = (at("going back to the files") - at("restarting kafka for changed configuration") + 86400) % 86400;
        assert.ok(detected <= 60, `the step went back ${detected} s after its restart`);
        const header = /ERROR \[host-1-broker on kct1\]: kafka exited (\d+)s after its start: (.*) -- it runs its previous configuration again\./.exec(msg);
        assert.ok(header, `no error line for host-1-broker in:\n${msg.slice(0, 3000)}`);
        assert.ok(Number(header[1]) <= 60, `kafka seen exiting ${header[1]} s after its start`);
        assert.match(header[2], /ConfigException: Invalid value lots for configuration num\.network\.threads/);
        // The error line comes right after the command line the provider quotes; then only kafka's journal since the
        // step began; then the step's log.
        assert.match(msg, /running "sudo -n bash -c 'eval \\"\$\(cat\)\\"' host-1-broker":\s*\n\s*ERROR \[host-1-broker/);
        const journal = msg.slice(msg.indexOf("--- journal of kafka"), msg.indexOf("--- step log ---"));
        assert.ok(msg.indexOf(header[0]) < msg.indexOf("--- journal of kafka") && journal.includes("ConfigException"), "error, journal, step log in this order");
        assert.doesNotMatch(journal, /zookeeper-server-start|QuorumPeer/, "no ZooKeeper lines in the journal part");
        // Broker 1 runs its old configuration again and stays up (no crash loop); the others never restarted.
        await new Promise((r) => setTimeout(r, 10_000));
        assert.strictEqual(await ssh.must(addrs[0], "sudo -n cat /etc/kafka/server.properties"), propsBefore);
        const after = await serviceStates(ssh, addrs, "kafka");
        assert.notStrictEqual(after.get(addrs[0])!.pid, kafkaBefore.get(addrs[0])!.pid, "broker 1 was restarted (twice)");
        assert.match(await ssh.must(addrs[0], "systemctl is-active kafka"), /^active/);
        for (const a of addrs.slice(1)) {
            assert.deepStrictEqual(after.get(a), kafkaBefore.get(a), `broker at ${a} untouched`);
            assert.doesNotMatch(await ssh.must(a, "sudo -n cat /etc/kafka/server.properties"), /num\.network\.threads=lots/);
        }
        assert.deepStrictEqual(await serviceStates(ssh, addrs, "zookeeper"), zkBefore, "ZooKeeper untouched");
        await urpZero("after broker 1 went back to its old configuration");
        // With the setting back, what is left are the listener roll steps that ran before broker 1's step: they carry the
        // broker's files but changed nothing (no plaintext listener runs), so the up that takes them back restarts nothing.
        assert.deepStrictEqual(await pendingChanges(stack), [["update", 6]]);
        const before = await serviceStates(ssh, addrs, "kafka");
        const { ops } = await timed("broker that cannot start: setting back", () => upWithOps(stack));
        assert.deepStrictEqual(ops.get("update"), nodes.flatMap((n) => [`${n.name}-listeners-add`, `${n.name}-listeners-switch`]).sort());
        assert.deepStrictEqual(await serviceStates(ssh, addrs, "kafka"), before, "no broker restarted");
        assert.deepStrictEqual(await pendingChanges(stack), []);
    });

    it("the ssh output line works without a terminal, and again after the host's SSH key changed (host rebuilt)", async () => {
        const keyFile = env.sshKeyPath;
        const run = (line: string) => new Promise<{ code: number | null; out: string }>((resolve) => {
            const child = spawn("bash", ["-c", `${line.replace("<private-key-file>", keyFile)} -o BatchMode=yes -o ConnectTimeout=10 hostname`],
                { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH, HOME: os.tmpdir() } });
            let out = "";
            child.stdout!.on("data", (d) => (out += d));
            child.stderr!.on("data", (d) => (out += d));
            const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
            child.on("close", (code) => { clearTimeout(timer); resolve({ code, out }); });
        });
        const outputs = async () => (await stack.outputs()).nodes.value as NodeOutput[];
        const victim = nodes[1];
        const before = (await outputs()).find((n) => n.name === victim.name)!;
        assert.match(before.hostKey ?? "", /^ssh-ed25519 \S+$/);
        const first = await run(before.ssh);
        assert.strictEqual(first.code, 0, first.out);
        // "Rebuild": the host gets new SSH host keys; the old line must now refuse it, not trust it.
        await ssh.must(victim.sshAddress, "sudo -n sh -c 'rm -f /etc/ssh/ssh_host_*; ssh-keygen -A >/dev/null; systemctl restart ssh'");
        const stale = await run(before.ssh);
        assert.notStrictEqual(stale.code, 0);
        assert.match(stale.out, /Host key verification failed/);
        // Provisioning the rebuilt host again (its ready step) records the new key.
        const ready = [...(await commandStates(stack)).values()].find((c) => c.name === `${victim.name}-ready`)!;
        await timed("rebuilt host: pulumi up --replace of its ready step", () => upWithOps(stack, { replace: [ready.urn] }));
        const after = (await outputs()).find((n) => n.name === victim.name)!;
        assert.notStrictEqual(after.hostKey, before.hostKey);
        const again = await run(after.ssh);
        assert.strictEqual(again.code, 0, again.out);
        assert.strictEqual(again.out.trim(), (await ssh.must(victim.sshAddress, "hostname")).trim());
    });

    /** Which install a running service's JVM has its jars open from (the versioned directory, links resolved). */
    async function runningDist(n: ClusterNode, svc: "kafka" | "zookeeper"): Promise<string[]> {
        const out = await ssh.must(n.sshAddress, `sudo -n sh -c 'readlink /proc/$(systemctl show -p MainPID --value ${svc})/fd/*' 2>/dev/null || true`);
        return [...new Set(out.split("\n").map((l) => l.startsWith(`${PATHS.installRoot}/`) ? l.slice(PATHS.installRoot.length + 1).split("/")[0] : "")
            .filter((d) => d.startsWith("kafka_")))];
    }

    it("a version change downloads everywhere in parallel and switches each host inside its own restart; hosts not yet restarting keep the old version", async () => {
        const nodeNamed = (name: string) => nodes.find((n) => n.name === name)!;
        const next = cfg.kafkaVersion === "3.9.1" ? "3.9.2" : "3.9.1";
        await timed(`setup: Kafka ${next} tarball`, () => kafkaDist(next, cfg.scalaVersion));
        const oldDist = `kafka_${cfg.scalaVersion}-${cfg.kafkaVersion}`;
        const newDist = `kafka_${cfg.scalaVersion}-${next}`;
        const addrs = nodes.map((n) => n.sshAddress);
        for (const n of nodes) assert.deepStrictEqual(await runningDist(n, "kafka"), [oldDist], `${n.name}: broker runs ${oldDist} before`);
        const kafkaBefore = await serviceStates(ssh, addrs, "kafka");
        const zkBefore = await serviceStates(ssh, addrs, "zookeeper");

        // Every host's links, whether the new version is unpacked, and its services' PIDs, sampled while the update runs.
        interface Sample { round: number; at: number; host: string; kafkaLink: string; zkLink: string; installed: boolean; kafkaPid: number; zkPid: number }
        const samples: Sample[] = [];
        let watching = true;
        const probe = `readlink ${PATHS.current} || echo -; readlink ${PATHS.zookeeperCurrent} || echo -; ` +
            `test -f ${PATHS.installRoot}/${newDist}/.verified && echo yes || echo no; ` +
            "systemctl show -p MainPID --value kafka; systemctl show -p MainPID --value zookeeper";
        const watcher = (async () => {
            for (let i = 0; watching && i < 5000; i++) {
                await Promise.all(nodes.map(async (n) => {
                    const r = await ssh.exec(n.sshAddress, probe, 10_000);
                    const [kafkaLink, zkLink, installed, kafkaPid, zkPid] = r.stdout.split("\n");
                    if (r.code === 0) samples.push({ round: i, at: Date.now(), host: n.name, kafkaLink, zkLink, installed: installed === "yes", kafkaPid: Number(kafkaPid), zkPid: Number(zkPid) });
                }));
                await new Promise((r) => setTimeout(r, 300));
            }
        })();
        const monitor = urpMonitor(client, bootstrap);
        raw = { ...raw, kafkaVersion: next };
        await setStackConfig(stack, raw);
        let ops: Map<string, string[]>;
        try {
            ({ ops } = await timed(`version change ${cfg.kafkaVersion} -> ${next}`, () => upWithOps(stack)));
        } finally {
            watching = false;
            await watcher;
            await monitor.stop();
        }
        // Each ZooKeeper step waits for its member to rejoin; the broker check and the smoke test run again, and the admin
        // credential is written again with the new version's tool.
        assert.deepStrictEqual(ops.get("update"), ["cluster-admin", "cluster-brokers", "cluster-smoke",
            ...nodes.flatMap((n) => [...brokerRollSteps(n.name), `${n.name}-install`, `${n.name}-zookeeper`])].sort());
        log(`version change: ${samples.length} samples of ${nodes.length} hosts`);
        assert.ok(samples.length > 6 * nodes.length, `only ${samples.length} samples`);
        const rounds = [...new Set(samples.map((x) => x.round))].map((r) => samples.filter((x) => x.round === r));
        for (const svc of ["kafka", "zookeeper"] as const) {
            const before = svc === "kafka" ? kafkaBefore : zkBefore;
            const oldPid = (x: Sample) => (svc === "kafka" ? x.kafkaPid : x.zkPid) === before.get(nodeNamed(x.host).sshAddress)!.pid;
            const link = (x: Sample) => (svc === "kafka" ? x.kafkaLink : x.zkLink);
            // A service's link switches inside its own restart step, right before `systemctl restart` stops the old
            // process: so at any moment at most one host's old process runs with its link already switched (the one
            // being restarted), and every other host whose service has not been restarted still points at the old
            // version, where systemd would bring it back after a crash.
            for (const round of rounds) {
                const switching = round.filter((x) => oldPid(x) && link(x) === newDist).map((x) => x.host);
                assert.ok(switching.length <= 1, `${svc}: links of ${switching.join(", ")} switched while their old processes still ran`);
                for (const x of round) assert.ok(link(x) === oldDist || link(x) === newDist, `${x.host}: ${svc} link ${link(x)}`);
            }
            for (const n of nodes) {
                const mine = samples.filter((x) => x.host === n.name);
                // And it switches only once that host's own restart is under way: its old process is gone soon after.
                const switched = mine.findIndex((x) => link(x) === newDist);
                const replaced = mine.findIndex((x) => !oldPid(x));
                assert.ok(switched > 0 && replaced >= switched, `${n.name}: ${svc} switched at sample ${switched}, old process gone at ${replaced}`);
                // Bounded by the stop timeout of the units (TimeoutStopSec=180).
                assert.ok(mine[replaced].at - mine[switched].at < 190_000, `${n.name}: ${svc}'s old process ran on long after its link switched`);
                // The new version was unpacked and verified before the link switched to it.
                assert.ok(mine.slice(0, switched).some((x) => x.installed), `${n.name}: not seen installed before the switch`);
                assert.deepStrictEqual(await runningDist(n, svc), [newDist], `${n.name}: ${svc} runs ${newDist} after`);
            }
        }
        // Downloads run in parallel: every host had the new version while most brokers still ran the old one.
        assert.ok(nodes.every((n) => samples.some((x) => x.host === n.name && x.installed && x.kafkaLink === oldDist)),
            "some host switched before it had downloaded, or never had the old version alongside the new");
        assertRolled(addrs, kafkaBefore, await serviceStates(ssh, addrs, "kafka"), monitor.samples);
        const zkAfter = await serviceStates(ssh, addrs, "zookeeper");
        for (const a of addrs) assert.notStrictEqual(zkAfter.get(a)!.pid, zkBefore.get(a)!.pid, `ZooKeeper at ${a} restarted onto ${newDist}`);
        const versions = await client.must("kafka-broker-api-versions.sh", ["--bootstrap-server", bootstrap], 60_000);
        assert.strictEqual((versions.match(/\(id: \d+ rack: /g) ?? []).length, nodes.length);
    });

    it("fault: kill -9 of a broker during a version change, under load — systemd brings it back on the old version (its link not switched yet), the roll carries on and every member ends on the new one; nothing acknowledged is lost", async () => {
        const addrs = nodes.map((n) => n.sshAddress);
        const brokers = brokerNodes(nodes); // the order the broker roll goes in (assertRolled checks it in the tests above)
        // The version the stack runs now (the test above changed it, unless it was left out) and the other one.
        const current = parseConfig(raw, "hosts-test").kafkaVersion;
        const next = current === "3.9.1" ? "3.9.2" : "3.9.1";
        await timed(`setup: Kafka ${next} tarball`, () => kafkaDist(next, cfg.scalaVersion));
        const oldDist = `kafka_${cfg.scalaVersion}-${current}`;
        const newDist = `kafka_${cfg.scalaVersion}-${next}`;
        for (const n of brokers) {
            assert.deepStrictEqual(await runningDist(n, "kafka"), [oldDist], `${n.name}: broker runs ${oldDist} before`);
            assert.strictEqual((await ssh.must(n.sshAddress, `readlink ${PATHS.current}`)).trim(), oldDist, `${n.name}: link before`);
        }
        const kafkaBefore = await serviceStates(ssh, addrs, "kafka");
        const prePid = (n: ClusterNode) => kafkaBefore.get(n.sshAddress)!.pid;

        // Every broker's link, its MainPID and the installs its JVM has jars open from, sampled while the update runs.
        interface Sample { at: number; host: string; link: string; pid: number; dists: string[] }
        const probe = `sudo -n sh -c 'readlink ${PATHS.current} || echo -; pid=$(systemctl show -p MainPID --value kafka); echo $pid; ` +
            "readlink /proc/$pid/fd/* 2>/dev/null; true'";
        const sample = async (n: ClusterNode): Promise<Sample | undefined> => {
            const r = await ssh.exec(n.sshAddress, probe, 10_000);
            if (r.code !== 0) return undefined;
            const [link, pid, ...fds] = r.stdout.split("\n");
            const dists = [...new Set(fds.filter((l) => l.startsWith(`${PATHS.installRoot}/kafka_`)).map((l) => l.slice(PATHS.installRoot.length + 1).split("/")[0]))];
            return { at: Date.now(), host: n.name, link, pid: Number(pid), dists };
        };
        const samples: Sample[] = [];
        // The fault: once one broker's restart is under way (the step switched its link, right before `systemctl
        // restart`), kill -9 the JVM of a broker after it in the roll whose step has not restarted it yet: its MainPID is
        // still the one from before the change and its link still points at the old version. Checked and done on the
        // host in one command, so the kill cannot hit a broker whose step switched its link in between.
        let kill: { at: number; victim: ClusterNode; pid: number; restarting: ClusterNode; restartingPid: number } | undefined;
        let upStart = 0;
        let watching = true;
        const watch = async () => {
            for (let i = 0; watching && i < 5000; i++) {
                const round = (await Promise.all(brokers.map(sample))).filter((x): x is Sample => x !== undefined);
                samples.push(...round);
                if (!kill && round.length === brokers.length) {
                    // The broker the roll is at: the last one whose link has switched.
                    const restarting = round.map((x) => x.link === newDist).lastIndexOf(true);
                    const unreached = round.map((x, j) => (j > restarting && x.pid === prePid(brokers[j]) && x.link === oldDist ? j : -1)).filter((j) => j >= 0);
                    if (restarting >= 0 && unreached.length > 0) {
                        // The last broker of the roll: the longest time between its crash and its own step.
                        const victim = brokers[unreached[unreached.length - 1]];
                        const r = await ssh.exec(victim.sshAddress, `sudo -n sh -c '[ "$(systemctl show -p MainPID --value kafka)" = ${prePid(victim)} ] && ` +
                            `[ "$(readlink ${PATHS.current})" = ${oldDist} ] && kill -9 ${prePid(victim)} && echo killed'`, 30_000);
                        if (/^killed$/m.test(r.stdout)) {
                            kill = { at: Date.now(), victim, pid: prePid(victim), restarting: brokers[restarting], restartingPid: round[restarting].pid };
                        } else {
                            log(`kill of ${victim.name}'s broker not done (its state changed): ${r.stdout.trim()} ${r.stderr.trim()}`);
                        }
                    }
                }
                await new Promise((r) => setTimeout(r, 300));
            }
        };

        let ops: Map<string, string[]> | undefined;
        let upError: unknown;
        await timed("fault: kill -9 of a broker during a version change", () => underLoad("fault-kill-version", async () => {
            raw = { ...raw, kafkaVersion: next };
            await setStackConfig(stack, raw);
            const watcher = watch();
            upStart = Date.now();
            try {
                ({ ops } = await timed(`version change ${current} -> ${next}, a broker killed during it`, () => upWithOps(stack)));
            } catch (e) {
                upError = e;
            } finally {
                watching = false;
                await watcher;
            }
            if (upError) {
                // A gate that waited out ROLL_TIMEOUT (900 s) for the cluster's health fails its step with its own
                // message; the next `pulumi up` carries on where the roll stopped.
                const msg = engineError(upError);
                log(`version change with a broker killed: pulumi up failed:\n${diagnostics(msg)}`);
                assert.match(msg, /ERROR \[host-\d-broker on kct\d\]: (cluster still has under-replicated partitions after \d+s; not restarting kafka|kafka did not become healthy within \d+s after restart)/);
                ({ ops } = await timed("version change with a broker killed: pulumi up again", () => upWithOps(stack)));
            }
            await urpZero("after the version change with a broker killed");
        }));

        assert.ok(kill, `no moment seen with a broker's restart under way and a broker after it not reached (${samples.length} samples)`);
        const { victim } = kill;
        const restartingState = kill.restartingPid === prePid(kill.restarting) ? `its old JVM (pid ${kill.restartingPid}) still stopping`
            : kill.restartingPid === 0 ? "no JVM running" : `its new JVM (pid ${kill.restartingPid}) starting`;
        log(`killed ${victim.name}'s broker (pid ${kill.pid}, link on ${oldDist}) ${((kill.at - upStart) / 1000).toFixed(1)} s into the up, ` +
            `while ${kill.restarting.name}'s restart was under way (link on ${newDist}, ${restartingState}); the up ${upError ? "failed, the next one completed" : "completed"}`);
        // Each (re)start is a fresh JVM: the first sampled process after the kill whose jars are open is the one systemd
        // started, from the link the step had not switched yet: the old version.
        const mine = samples.filter((x) => x.host === victim.name && x.at > kill!.at);
        const back = mine.findIndex((x) => x.pid !== 0 && x.pid !== kill!.pid && x.dists.length > 0);
        assert.ok(back >= 0, `${victim.name}: no process seen after the kill`);
        assert.strictEqual(mine[back].link, oldDist, `${victim.name}: link when systemd brought the broker back`);
        assert.deepStrictEqual(mine[back].dists, [oldDist], `${victim.name}: systemd brought the broker (pid ${mine[back].pid}) back on ${mine[back].dists}`);
        const switched = mine.findIndex((x) => x.link === newDist);
        assert.ok(switched > back, `${victim.name}: link switched at sample ${switched}, systemd's restart seen at ${back}`);
        // And that process served as a broker before the roll reached it. In the host's journal: systemd saw the kill and
        // scheduled its own restart (the step's `systemctl restart` schedules none); then a JVM other than the killed one
        // logged Kafka's version and "started" (registered, listeners open) on the old version; the last one to start
        // (the step's restart) on the new one. Short-lived ones in between (a start while the killed process's ZooKeeper
        // session still held its registration exits with NodeExists) start nothing.
        const journal = await ssh.must(victim.sshAddress,
            `sudo -n journalctl -u kafka --no-pager -o json --output-fields=_PID,MESSAGE --since @${Math.floor(kill.at / 1000)}`, 60_000);
        const jvms = new Map<number, { first: number; version?: string; started: boolean; error?: string }>();
        const systemd: { at: number; text: string }[] = [];
        for (const [at, line] of journal.split("\n").entries()) {
            if (!line.startsWith("{")) continue;
            const e = JSON.parse(line) as { _PID?: string; MESSAGE?: unknown };
            const pid = Number(e._PID);
            if (!pid || pid === kill.pid || typeof e.MESSAGE !== "string") continue;
            if (pid === 1) {
                systemd.push({ at, text: e.MESSAGE });
                continue;
            }
            const j = jvms.get(pid) ?? { first: at, started: false };
            j.version ??= /Kafka version: (\S+)/.exec(e.MESSAGE)?.[1];
            if (new RegExp(`\\[KafkaServer id=${victim.brokerId}\\] started`).test(e.MESSAGE)) j.started = true;
            if (!j.error && /\] (ERROR|FATAL) /.test(e.MESSAGE)) j.error = e.MESSAGE.slice(0, 300);
            jvms.set(pid, j);
        }
        log(`${victim.name}: JVMs in the journal since the kill: ${[...jvms].map(([pid, j]) =>
            `${pid} ${j.version ?? "?"}${j.started ? " started" : ""}${j.error ? ` (${j.error})` : ""}`).join("; ")}`);
        const killed = systemd.find((x) => /Main process exited, code=killed, status=9\/KILL/.test(x.text));
        assert.ok(killed, `${victim.name}: systemd's lines since the kill:\n${systemd.map((x) => x.text).join("\n")}`);
        const scheduled = systemd.find((x) => x.at > killed.at && /Scheduled restart job/.test(x.text));
        assert.ok(scheduled, `${victim.name}: no restart scheduled by systemd after the kill:\n${systemd.map((x) => x.text).join("\n")}`);
        const started = [...jvms].filter(([, j]) => j.started);
        assert.ok(started.length >= 2, `${victim.name}: ${started.length} broker starts since the kill`);
        assert.ok(started[0][1].first > scheduled.at, `${victim.name}: the first broker start since the kill came before systemd's restart`);
        assert.strictEqual(started[0][1].version, current, `${victim.name}: the broker systemd brought back (pid ${started[0][0]})`);
        assert.strictEqual(started[started.length - 1][1].version, next, `${victim.name}: the broker the roll started (pid ${started[started.length - 1][0]})`);

        if (!upError) {
            assert.deepStrictEqual(ops!.get("update"), ["cluster-admin", "cluster-brokers", "cluster-smoke",
                ...nodes.flatMap((n) => [...brokerRollSteps(n.name), `${n.name}-install`, `${n.name}-zookeeper`])].sort());
        }
        // Every broker restarted onto the new version, the victim once more after systemd's restart; every ZooKeeper
        // member too; links and running JVMs agree; everything registered, nothing under-replicated, nothing left to do.
        const kafkaAfter = await serviceStates(ssh, addrs, "kafka");
        for (const n of brokers) assert.notStrictEqual(kafkaAfter.get(n.sshAddress)!.pid, prePid(n), `${n.name}: broker restarted`);
        assert.notStrictEqual(kafkaAfter.get(victim.sshAddress)!.pid, mine[back].pid, `${victim.name}: the roll restarted the broker systemd brought back`);
        for (const n of nodes) {
            assert.deepStrictEqual(await runningDist(n, "kafka"), [newDist], `${n.name}: broker runs ${newDist} after`);
            assert.deepStrictEqual(await runningDist(n, "zookeeper"), [newDist], `${n.name}: ZooKeeper runs ${newDist} after`);
            assert.strictEqual(await ssh.must(n.sshAddress, `readlink ${PATHS.current} ${PATHS.zookeeperCurrent}`), `${newDist}\n${newDist}\n`, `${n.name}: links after`);
        }
        assert.deepStrictEqual(await client.registeredBrokers(zk), brokers.map((n) => n.brokerId));
        assert.strictEqual(await client.underReplicated(bootstrap), 0);
        assert.deepStrictEqual(await pendingChanges(stack), [], "nothing left to do");
    });

    it("pulumi destroy on existing hosts: brokers stop before ZooKeeper, all disabled, data kept", async () => {
        await timed("teardown: pulumi destroy", () => stack.destroy({ onOutput: () => undefined }));
        assert.strictEqual(await resourceCount(stack), 0);
        for (const n of nodes) {
            const show = await ssh.must(n.sshAddress,
                "systemctl show -p ActiveState -p UnitFileState -p InactiveEnterTimestampMonotonic kafka zookeeper");
            const [kafka, zookeeper] = show.trim().split("\n\n").map((b) => Object.fromEntries(b.split("\n").map((l) => l.split("="))));
            for (const u of [kafka, zookeeper]) {
                assert.strictEqual(u.ActiveState, "inactive", `${n.name}: ${show}`);
                assert.strictEqual(u.UnitFileState, "disabled", `${n.name}: ${show}`);
            }
            // Every broker was already down when this ZooKeeper member began to stop (systemd's journal: a stopped,
            // disabled unit is unloaded, and `systemctl show` then reports its timestamps as 0).
            const zkStopping = (await stopTimes(ssh, n.sshAddress, ["zookeeper"])).get("zookeeper")!.stopping;
            assert.ok(zkStopping > 0n, `${n.name}: the destroy stopped ZooKeeper`);
            for (const m of nodes) {
                const brokerDown = (await stopTimes(ssh, m.sshAddress, ["kafka"])).get("kafka")!.stopped;
                assert.ok(brokerDown > 0n && brokerDown < zkStopping, `${m.name}'s broker was down (${brokerDown}) before ${n.name}'s ZooKeeper began stopping (${zkStopping})`);
            }
            await ssh.must(n.sshAddress, "sudo -n sh -c 'test -f /var/lib/kafka/data/meta.properties && test -f /var/lib/zookeeper/myid && test -L /opt/kafka/current'");
        }
    });
});
