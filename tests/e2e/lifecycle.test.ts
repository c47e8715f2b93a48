// End to end: the real Pulumi engine (Automation API), the real command provider and real SSH against the local
// hosts. up from empty (kafka:security plaintext, Kafka 3.8.1), no-op preview/up, the upgrade to 3.9.2 under a producer,
// the switch to sasl_ssl under a producer, scale-out, bad credentials and an unreachable port, destroy.
import * as assert from "assert";
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { RawConfig } from "../../components/config";
import { PORTS } from "../../components/layout";
import { LABS, LocalEnv, ROOT, Ssh, freshHostsUp, hostsDown, hostsUp, kafkaDist, localStackConfig, log, mavenDist } from "../../scripts/lib/local";
import { checkpointFile, clearDeadLocks, pulumiEnv, setStackConfig } from "../../scripts/lib/pulumi";
import { disposeStack, failedUp, freshStack, pendingChanges, resourceCount, upWithOps } from "../support/engine";
import { KafkaClient } from "../support/kafka";
import { generateKeyPair } from "../support/loopback-sshd";
import { scrape, values } from "../support/metrics";
import { poll } from "../support/poll";
import { serviceProcess } from "../support/process";
import { urpBackToZero, writesUnderLoad } from "../support/load";
import { assertRolled, assertStoppedAndDisabled, serviceStates } from "../support/rolling";
import { stopwatch } from "../support/timing";

const { timed: step, summary } = stopwatch("e2e ");
/** The version the cluster is built on; test 2b upgrades it to the default (3.9.2), a newer minor line. */
const FIRST_VERSION = "3.8.1";

describe("e2e: pulumi up / destroy on local hosts", function () {
    let env: LocalEnv;
    let ssh: Ssh;
    let client: KafkaClient;
    let stack: Stack;
    let raw: RawConfig;
    let hostCount = 3;
    const addresses = () => env.hosts.slice(0, hostCount).map((h) => h.address);

    async function up() {
        const r = await upWithOps(stack);
        log(`change summary: ${JSON.stringify(r.result.summary.resourceChanges)}`);
        return r;
    }

    const services = (svc: "kafka" | "zookeeper") => serviceStates(ssh, addresses(), svc);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    /**
     * `pulumi up` as a user runs it, in a process group of its own (the CLI, the language host, the program and the
     * command provider), killed with SIGKILL as a cancelled CI job kills it as soon as `when` reports something; then
     * the dead run's lock is removed, as scripts/local-cluster.sh does (README: with plain pulumi, delete the lock file
     * the error names). Returns what `when` reported.
     */
    async function killedUp(what: string, when: () => Promise<string | undefined>): Promise<string> {
        const child = spawn("pulumi", ["up", "--yes", "--skip-preview", "--non-interactive", "--stack", stack.name],
            { cwd: ROOT, env: { ...process.env, ...pulumiEnv() }, detached: true, stdio: ["ignore", "ignore", "ignore"] });
        let ended = false;
        const exited = new Promise<void>((resolve) => child.on("exit", () => { ended = true; resolve(); }));
        let seen: string | undefined;
        try {
            await poll(what, 900_000, async () => ended || (seen = await when()) !== undefined, 200);
        } finally {
            try { process.kill(-child.pid!, "SIGKILL"); } catch { /* already gone */ }
            await exited;
        }
        assert.ok(seen !== undefined, `pulumi up ended before ${what}`);
        clearDeadLocks(stack.name);
        return seen!;
    }

    async function roundTrip(bootstrap: string, topic: string, partitions: number) {
        await client.must("kafka-topics.sh", ["--bootstrap-server", bootstrap, "--create", "--topic", topic,
            "--partitions", String(partitions), "--replication-factor", "3"]);
        const lines = Array.from({ length: 100 }, (_, i) => `${topic}-${i}`);
        await client.must("kafka-console-producer.sh", ["--bootstrap-server", bootstrap, "--topic", topic, "--producer-property", "acks=all"],
            120_000, lines.join("\n") + "\n");
        const got = await client.must("kafka-console-consumer.sh", ["--bootstrap-server", bootstrap, "--topic", topic, "--from-beginning",
            "--max-messages", "100", "--timeout-ms", "60000"], 180_000);
        assert.deepStrictEqual(got.trim().split("\n").sort(), [...lines].sort());
    }

    before(async () => {
        const tarball = kafkaDist();
        kafkaDist(FIRST_VERSION);
        mavenDist();
        // Its own lab (test3): the hosts suite may run at the same time on lab test.
        env = freshHostsUp(3, LABS.e2e);
        ssh = new Ssh(env);
        client = new KafkaClient(tarball);
        // The key as secret config (not a file path), so the checkpoint test below has a secret value to look for.
        const { sshPrivateKeyPath, ...rest } = localStackConfig(env, 3);
        // The cluster starts with plaintext listeners on Kafka 3.8; test 2b upgrades it to 3.9, test 3 switches it to sasl_ssl
        // (the default) while it serves.
        raw = { ...rest, sshPrivateKey: fs.readFileSync(String(sshPrivateKeyPath), "utf8"), security: "plaintext", kafkaVersion: FIRST_VERSION };
        // A leftover from an interrupted run must not make the first `up` look like a no-op.
        stack = await freshStack("e2e", raw);
    });

    after(async () => {
        try {
            await disposeStack(stack);
        } finally {
            await client?.close();
            if (process.env.KEEP_HOSTS !== "1") hostsDown(LABS.e2e);
            log(`[timing] e2e steps: ${summary()}`);
        }
    });

    it("1. up from empty, killed (SIGKILL) while host 1 installs, then up again: it converges and its bootstrap servers serve a replicated round trip", async () => {
        // The first install interrupted: as soon as host 1 runs its Java or Kafka install step (or, should both be over
        // between two looks, has Kafka unpacked and no service started yet).
        const during = await step("up-from-empty-killed", () => killedUp("host 1 installing", async () => {
            const r = await ssh.exec(addresses()[0], "pgrep -af '[h]ost-1-(java|install)$' | grep -o 'host-1-[a-z]*$' | head -n1 | grep . || " +
                "{ test -d /opt/kafka && ! systemctl is-active -q zookeeper && echo 'Kafka unpacked, no service started'; } || true", 10_000);
            return r.stdout.trim() || undefined;
        }));
        log(`interrupted first up: killed while host 1 ran ${during}`);
        const { result } = await step("up-from-empty", up);
        assert.ok((result.summary.resourceChanges?.create ?? 0) > 10);
        const bootstrap = result.outputs.bootstrapServers.value as string;
        assert.strictEqual(bootstrap, addresses().map((a) => `${a}:9092`).join(","), "kafka:security plaintext: port 9092");
        assert.strictEqual(result.outputs.zookeeperConnect.value, `${addresses().map((a) => `${a}:2181`).join(",")}/kafka`);
        assert.match(result.outputs.smokeTest.value, /smoke test ok/);
        assert.strictEqual(result.outputs.sshPrivateKey.secret, true);
        await roundTrip(bootstrap, "e2e-roundtrip", 3);
    });

    it("2. preview right after shows zero changes; a second up runs no command and restarts nothing", async () => {
        assert.deepStrictEqual(await step("preview", () => pendingChanges(stack)), []);
        const kafkaBefore = await services("kafka");
        const zkBefore = await services("zookeeper");
        const { result, ops } = await step("no-op-up", up);
        assert.deepStrictEqual([...ops.keys()], ["same"], `operations: ${JSON.stringify([...ops])}`);
        assert.deepStrictEqual(Object.keys(result.summary.resourceChanges ?? {}), ["same"]);
        assert.deepStrictEqual(await services("kafka"), kafkaBefore);
        assert.deepStrictEqual(await services("zookeeper"), zkBefore);
        log(`no-op up restarted nothing: kafka PIDs ${[...kafkaBefore.values()].map((s) => s.pid).join(",")} and zookeeper PIDs ` +
            `${[...zkBefore.values()].map((s) => s.pid).join(",")} and their start times are unchanged`);
    });

    /**
     * Each start of the broker on `address`, oldest first, from its server.log (rolled files included): the version
     * AppInfoParser names when the broker has started, and the inter-broker protocol version of the KafkaConfig it
     * logged before that.
     */
    async function brokerStarts(address: string): Promise<{ version: string; ibp: string }[]> {
        const text = await ssh.must(address, "sudo -n sh -c 'cat $(ls /var/log/kafka/server.log.* 2>/dev/null | sort) /var/log/kafka/server.log' | " +
            "grep -E 'inter\.broker\.protocol\.version = |Kafka version: '");
        const starts: { version: string; ibp: string }[] = [];
        let ibp = "";
        for (const line of text.split("\n")) {
            const i = /inter\.broker\.protocol\.version = (\S+)/.exec(line);
            const v = /Kafka version: (\S+)/.exec(line);
            if (i) ibp = i[1];
            else if (v && ibp) {
                starts.push({ version: v[1], ibp });
                ibp = "";
            }
        }
        return starts;
    }

    it("2b. Kafka 3.8.1 -> 3.9.2 under an acks=all producer: the brokers roll onto 3.9.2 keeping the inter-broker protocol at 3.8, then a second roll raises it; no send fails, nothing acknowledged is lost", async () => {
        const bootstrap = (await stack.outputs()).bootstrapServers.value as string;
        const since = Math.floor(Date.now() / 1000);
        const zkBefore = await services("zookeeper");
        raw = { ...raw, kafkaVersion: "3.9.2" };
        await setStackConfig(stack, raw);
        let ops = new Map<string, string[]>();
        await writesUnderLoad(client, bootstrap, "e2e-upgrade", async () => {
            ({ ops } = await step("minor-version-upgrade", up));
            await urpBackToZero(client, bootstrap, "after the upgrade");
        }, true);
        const updated = ops.get("update") ?? [];
        for (const i of [1, 2, 3]) {
            for (const s of ["install", "zookeeper", "broker", "protocol"]) assert.ok(updated.includes(`host-${i}-${s}`), `host-${i}-${s} ran: ${updated}`);
        }
        // Two rolls, each one broker at a time: every broker restarted twice, the second roll after the whole first.
        const events = await serviceEvents("kafka", since);
        log(`upgrade: kafka stops/starts ${events.map((e) => `${e.what} ${e.host} @${(e.t - since).toFixed(1)}s`).join(", ")}`);
        const roll = [1, 2, 3].flatMap((i) => [`stop host-${i}`, `start host-${i}`]);
        assert.deepStrictEqual(events.map((e) => `${e.what} ${e.host}`), [...roll, ...roll]);
        assertRolled(addresses(), zkBefore, await services("zookeeper"));
        // What each broker ran: before the update 3.8.1 (protocol 3.8), then 3.9.2 still on protocol 3.8 (first roll),
        // then 3.9.2 on protocol 3.9 (second roll). With the order above: no broker spoke 3.9 before all ran 3.9.2.
        for (const a of addresses()) {
            const starts = await brokerStarts(a);
            log(`upgrade: ${a} broker starts (version/protocol): ${starts.map((x) => `${x.version}/${x.ibp}`).join(" ")}`);
            // The protocol as the broker logs it: its default in full (3.8-IV0), a configured one as written (3.8).
            const line = (x: { version: string; ibp: string }) => `${x.version}/${x.ibp.replace(/-IV\d+$/, "")}`;
            assert.deepStrictEqual(starts.slice(-3).map(line), ["3.8.1/3.8", "3.9.2/3.8", "3.9.2/3.9"]);
            assert.doesNotMatch(await ssh.must(a, "sudo -n cat /etc/kafka/server.properties"), /inter\.broker\.protocol\.version/,
                "the configured file again: no pin left");
        }
        assert.deepStrictEqual(await pendingChanges(stack), []);
    });

    /** Whether address:port accepts a TCP connection (within 3 s). */
    const accepts = (address: string, port: number) => new Promise<boolean>((resolve) => {
        const sock = net.connect({ host: address, port, timeout: 3000 });
        sock.on("connect", () => { sock.destroy(); resolve(true); });
        sock.on("error", () => resolve(false));
        sock.on("timeout", () => { sock.destroy(); resolve(false); });
    });

    /** VerifiableProducer's acknowledged values. */
    const ackedValues = (output: string) => output.split("\n").filter((l) => l.includes("producer_send_success")).map((l) => String(JSON.parse(l).value));
    const failedSends = (output: string) => (output.match(/"name":"producer_send_error"/g) ?? []).length;

    /** systemd's stop and start lines of `svc` on every host since `since` (epoch seconds), in time order. */
    async function serviceEvents(svc: string, since: number): Promise<{ t: number; host: string; what: "stop" | "start" }[]> {
        const events = await Promise.all(addresses().map(async (a, i) => {
            const out = await ssh.must(a, `sudo -n journalctl -u ${svc} --since @${since} -o short-unix --no-pager`);
            return out.split("\n").flatMap((l) => {
                const m = /^(\d+\.\d+) \S+ systemd\[1\]: (Stopping|Started) /.exec(l);
                return m ? [{ t: Number(m[1]), host: `host-${i + 1}`, what: m[2] === "Started" ? "start" as const : "stop" as const }] : [];
            });
        }));
        return events.flat().sort((x, y) => x.t - y.t);
    }

    it("3. kafka:security plaintext -> sasl_ssl on the running cluster: three rolls, one broker at a time; producers write through it, nothing acknowledged is lost", async () => {
        const topic = "e2e-switch";
        const plainBootstrap = addresses().map((a) => `${a}:9092`).join(",");
        const saslBootstrap = addresses().map((a) => `${a}:9096`).join(",");
        await client.must("kafka-topics.sh", ["--bootstrap-server", plainBootstrap, "--create", "--topic", topic, "--partitions", "6", "--replication-factor", "3"]);
        const zkBefore = await services("zookeeper");
        const { security: _, ...secured } = raw;
        raw = secured;
        await setStackConfig(stack, raw);
        const since = Math.floor(Date.now() / 1000);
        const produce = (bootstrap: string, prefix: string, config: string) => client.start("kafka-verifiable-producer.sh", ["--bootstrap-server", bootstrap,
            "--topic", topic, "--max-messages", "500000", "--acks", "-1", "--throughput", "100", "--value-prefix", prefix], config);
        // An ordinary client retries what a leader change makes retriable (VerifiableProducer alone turns retries off).
        const plainProducer = produce(plainBootstrap, "1", client.propertiesFile("plain-retrying", "retries=2147483647\n"));
        let saslProducer: ReturnType<typeof client.start> | undefined;
        let plainStoppedAt = 0;
        let done = false;
        const run = step("security-switch", up).then((r) => ({ r }), (e: unknown) => ({ e })).finally(() => (done = true));
        try {
            await poll("plaintext producer acknowledged", 60_000, async () => ackedValues(plainProducer.output()).length > 100);
            // The old listener serves until every broker has the new one (the end of the first roll); then the plaintext
            // client stops and one over TLS + SCRAM (the admin's login, read from a host: the outputs come at the end) takes over.
            await poll("every broker answers on the sasl_ssl port 9096", 900_000, async () =>
                done || (await Promise.all(addresses().map((a) => accepts(a, 9096)))).every(Boolean), 1000);
            assert.ok(!done, "the update ended before every broker had the new listener");
            await client.stop(plainProducer.child);
            plainStoppedAt = Date.now() / 1000;
            const ca = client.propertiesFile("switch-ca", await ssh.must(addresses()[0], "cat /etc/kafka/ca.pem"));
            const admin = (await ssh.must(addresses()[0], "sudo -n cat /etc/kafka/admin.properties"))
                .replace(/^ssl\.truststore\.location=.*$/m, `ssl.truststore.location=${ca}`);
            saslProducer = produce(saslBootstrap, "2", client.propertiesFile("sasl-retrying", `${admin}retries=2147483647\n`));
            const outcome = await run;
            if ("e" in outcome) throw outcome.e;
            const before = ackedValues(saslProducer.output()).length;
            await poll("the sasl_ssl producer is acknowledged after the switch", 60_000, async () => ackedValues(saslProducer!.output()).length > before + 100);
        } finally {
            await client.stop(plainProducer.child);
            if (saslProducer) await client.stop(saslProducer.child);
            await run;
        }
        const outputs = await stack.outputs();
        assert.strictEqual(outputs.bootstrapServers.value, saslBootstrap);
        assert.strictEqual(outputs.clientProperties.secret, true);
        assert.deepStrictEqual(outputs.jmx.value, { enabled: false }, "kafka:jmx is off by default");
        client.login(outputs.clientProperties.value.admin);

        // The rolls: ZooKeeper members one at a time (the SASL provider), then the brokers three times, one at a time.
        const events = await serviceEvents("kafka", since);
        log(`kafka stops/starts: ${events.map((e) => `${e.what} ${e.host} @${(e.t - since).toFixed(1)}s`).join(", ")}; ` +
            `plaintext producer stopped @${(plainStoppedAt - since).toFixed(1)}s`);
        const expected = [1, 2, 3].flatMap(() => [1, 2, 3].flatMap((i) => [`stop host-${i}`, `start host-${i}`]));
        assert.deepStrictEqual(events.map((e) => `${e.what} ${e.host}`), expected, "three rolls, each broker stopped only after the one before it started");
        // The plaintext client stopped after every broker's first restart (it had the new listener) and before the last roll.
        assert.ok(plainStoppedAt > events[5].t && plainStoppedAt < events[12].t, "the plaintext producer ran until the first roll had ended");
        assertRolled(addresses(), zkBefore, await services("zookeeper"));
        for (const a of addresses()) {
            const props = await ssh.must(a, "sudo -n cat /etc/kafka/server.properties");
            assert.match(props, /^listener\.security\.protocol\.map=INTERNAL_SASL:SASL_SSL,CLIENT_SASL:SASL_SSL$/m);
            assert.match(props, /^inter\.broker\.listener\.name=INTERNAL_SASL$/m);
            assert.ok(!(await accepts(a, 9092)), `${a}: the plaintext listener is gone`);
            // kafka:jmx is off here (the default): no JMX agent; the broker listens on its two listener ports only.
            const broker = await serviceProcess(ssh, a, "kafka");
            assert.doesNotMatch(broker.cmdline, /jmxremote/, `${a}: a JMX agent`);
            assert.deepStrictEqual(broker.ports, [9096, 9097], `${a}: the broker listens on ${broker.ports}`);
        }
        // Znodes of the plaintext days carry the brokers' ACL now (zookeeper-security-migration).
        const acl = await client.must("zookeeper-shell.sh", [outputs.zookeeperConnect.value, "getAcl", `/brokers/topics/${topic}`]);
        assert.match(acl, /'sasl,'kafka\n: cdrwa/, acl);

        const plainSent = ackedValues(plainProducer.output());
        const saslSent = ackedValues(saslProducer!.output());
        assert.strictEqual(failedSends(plainProducer.output()), 0, "no send of the plaintext producer failed");
        assert.strictEqual(failedSends(saslProducer!.output()), 0, "no send of the sasl_ssl producer failed");
        const held = await client.recordCount(saslBootstrap, topic);
        const got = new Set((await client.must("kafka-console-consumer.sh", ["--bootstrap-server", saslBootstrap, "--topic", topic, "--from-beginning",
            "--max-messages", String(held), "--timeout-ms", "60000"], 300_000)).split("\n").map((l) => l.trim()));
        const lost = [...plainSent, ...saslSent].filter((v) => !got.has(v));
        log(`security switch: plaintext producer ${plainSent.length} acknowledged, sasl_ssl producer ${saslSent.length}, ${held} held, ${lost.length} lost`);
        assert.ok(plainSent.length > 500 && saslSent.length > 500, "both producers wrote through their part of the switch");
        assert.deepStrictEqual(lost.slice(0, 10), [], `${lost.length} acknowledged messages lost`);
    });

    it("3b. the checkpoint holds no secret in plain text: neither the SSH private key, any secret config value nor a generated credential", async () => {
        const checkpoint = fs.readFileSync(checkpointFile(stack), "utf8");
        assert.ok(checkpoint.includes("command:remote:Command"), "this is the stack's checkpoint");
        const key = String(raw.sshPrivateKey);
        // Every line of the key body, raw and JSON-escaped, and the whole key base64-encoded.
        const body = key.split("\n").filter((l) => l && !l.startsWith("-----"));
        assert.ok(body.length > 0);
        for (const needle of [...body, JSON.stringify(key).slice(1, -1), Buffer.from(key).toString("base64").slice(0, 60)]) {
            assert.ok(!checkpoint.includes(needle), `the checkpoint contains the private key in plain text (${needle.slice(0, 12)}...)`);
        }
        const secretConfig = Object.entries(await stack.getAllConfig()).filter(([, v]) => v.secret);
        assert.deepStrictEqual(secretConfig.map(([k]) => k), ["kafka:sshPrivateKey"]);
        for (const [k, v] of secretConfig) assert.ok(!checkpoint.includes(v.value.trim().split("\n")[1]), `${k} in plain text`);
        assert.doesNotMatch(fs.readFileSync(path.join(ROOT, `Pulumi.${stack.name}.yaml`), "utf8"), /PRIVATE KEY/);
        // Nor any generated credential: a broker's TLS key (as the host has it), the admin's SCRAM password.
        const keystore = await ssh.must(addresses()[0], "sudo -n cat /etc/kafka/broker-keystore.pem");
        const keyBody = /-----BEGIN PRIVATE KEY-----\n([\s\S]*?)\n-----END PRIVATE KEY-----/.exec(keystore)![1].split("\n");
        const password = /password="([^"]+)"/.exec(await ssh.must(addresses()[0], "sudo -n cat /etc/kafka/admin.properties"))![1];
        assert.ok(keyBody.length > 0 && password.length >= 32);
        for (const needle of [...keyBody, password, Buffer.from(password).toString("base64")]) {
            assert.ok(!checkpoint.includes(needle), `the checkpoint contains a generated credential in plain text (${needle.slice(0, 6)}...)`);
        }
    });

    it("3c. kafka:monitoring on the running cluster: ZooKeeper members, then brokers, roll one at a time; every JVM and every node's exporter serves its metrics; nothing else changes", async () => {
        const [kafkaBefore, zkBefore] = [await services("kafka"), await services("zookeeper")];
        raw = { ...raw, monitoring: true, mavenUrl: env.mavenUrl };
        await setStackConfig(stack, raw);
        const { ops } = await step("monitoring-on", up);
        log(`monitoring on: ${JSON.stringify([...ops])}`);
        // Per host: the JMX exporter agent, the node exporter and its teardown step (no monitoring host in this stack).
        assert.deepStrictEqual((ops.get("create") ?? []).sort(), addresses().flatMap((_, i) => ["metrics-agent", "node-exporter", "node-exporter-service"].map((s) => `host-${i + 1}-${s}`)).sort());
        assert.ok((ops.get("update") ?? []).every((n) => /^host-\d-(zookeeper|listeners-add|listeners-switch|broker|protocol)$/.test(n) || n.startsWith("cluster-")), `updated: ${ops.get("update")}`);
        const [kafkaAfter, zkAfter] = [await services("kafka"), await services("zookeeper")];
        assertRolled(addresses(), zkBefore, zkAfter);
        assertRolled(addresses(), kafkaBefore, kafkaAfter);
        const lastZk = [...zkAfter.values()].reduce((m, s) => (s.start > m ? s.start : m), 0n);
        assert.ok([...kafkaAfter.values()].every((s) => s.stop > lastZk), "the brokers rolled after the last ZooKeeper member was back");
        let active = 0;
        const roles: string[] = [];
        for (const a of addresses()) {
            const broker = await scrape(a, PORTS.brokerMetrics);
            assert.deepStrictEqual(values(broker, "kafka_server_replicamanager_underreplicatedpartitions"), [0], `${a}: URP`);
            assert.ok(values(broker, "jvm_memory_used_bytes", { area: "heap" })[0] > 0, `${a}: the broker's JVM metrics`);
            active += values(broker, "kafka_controller_kafkacontroller_activecontrollercount").reduce((x, y) => x + y, 0);
            // The node exporter: disk space of the data directory's filesystem, memory.
            const node = await scrape(a, PORTS.nodeExporter);
            assert.ok(values(node, "node_filesystem_avail_bytes", { mountpoint: "/" })[0] > 0, `${a}: the node exporter's disk space`);
            assert.ok(values(node, "node_memory_MemAvailable_bytes")[0] > 0, `${a}: the node exporter's memory`);
            const zk = await scrape(a, PORTS.zookeeperMetrics);
            roles.push(...zk.filter((x) => x.name === "zookeeper_quorum_member").map((x) => x.labels.role));
            assert.ok(values(zk, "jvm_memory_used_bytes", { area: "heap" })[0] > 0, `${a}: ZooKeeper's JVM metrics`);
            const agents = (await ssh.must(a, "ps -eo pid=,args= | grep -F -- -javaagent: | grep -v grep || true")).trim().split("\n").filter(Boolean)
                .map((l) => Number(l.trim().split(/\s+/)[0])).sort((x, y) => x - y);
            assert.deepStrictEqual(agents, [kafkaAfter.get(a)!.pid, zkAfter.get(a)!.pid].sort((x, y) => x - y), `${a}: JVMs with the agent`);
        }
        assert.strictEqual(active, 1, "exactly one broker is the active controller");
        assert.deepStrictEqual(roles.sort(), ["Follower", "Follower", "Leader"], "the ZooKeeper members report one leader, two followers");
        assert.deepStrictEqual(await pendingChanges(stack), []);
    });

    it("3d. kafka:monitoring off again: ZooKeeper members, then brokers, roll one at a time without the agent; the node exporters are stopped and disabled; nothing else changes", async () => {
        const [kafkaBefore, zkBefore] = [await services("kafka"), await services("zookeeper")];
        const { monitoring: _m, mavenUrl: _u, ...rest } = raw;
        raw = rest;
        await setStackConfig(stack, raw);
        const { ops } = await step("monitoring-off", up);
        log(`monitoring off: ${JSON.stringify([...ops])}`);
        assert.deepStrictEqual((ops.get("delete") ?? []).sort(), addresses().flatMap((_, i) => ["metrics-agent", "node-exporter", "node-exporter-service"].map((x) => `host-${i + 1}-${x}`)).sort());
        assert.deepStrictEqual(ops.get("create") ?? [], []);
        assert.ok((ops.get("update") ?? []).every((n) => /^host-\d-(zookeeper|listeners-add|listeners-switch|broker|protocol)$/.test(n) || n.startsWith("cluster-")), `updated: ${ops.get("update")}`);
        const [kafkaAfter, zkAfter] = [await services("kafka"), await services("zookeeper")];
        assertRolled(addresses(), zkBefore, zkAfter);
        assertRolled(addresses(), kafkaBefore, kafkaAfter);
        for (const a of addresses()) {
            assert.strictEqual((await ssh.must(a, "ps -eo args= | grep -F -- -javaagent: | grep -v grep || true")).trim(), "", `${a}: no JVM with the agent`);
            await assertStoppedAndDisabled(ssh, a, a, ["prometheus-node-exporter"]);
            await assert.rejects(scrape(a, PORTS.brokerMetrics, 5000), `${a}: the broker's metrics port is closed`);
        }
        assert.deepStrictEqual(await pendingChanges(stack), []);
    });

    it("4. scale out: a fourth host joins as broker 4 and takes a share of the existing partitions; no existing broker or ZooKeeper restarts", async () => {
        env = hostsUp(4, LABS.e2e);
        const kafkaBefore = await services("kafka");
        const zkBefore = await services("zookeeper");
        raw = { ...raw, hosts: localStackConfig(env, 4).hosts, brokerCount: 4 };
        await setStackConfig(stack, raw);
        const { result, ops } = await step("scale-out", up);
        // Host 4's commands and its broker certificate; the users step talks to every broker, so it runs again.
        assert.ok((ops.get("create") ?? []).every((n) => n.startsWith("host-4-") || n === "kafka-e2e-cert-host-4"), `created: ${ops.get("create")}`);
        assert.ok((ops.get("create") ?? []).includes("host-4-broker"));
        assert.deepStrictEqual(ops.get("update") ?? [], ["cluster-brokers", "cluster-rebalance", "cluster-smoke", "cluster-users"]);
        hostCount = 4;
        assert.deepStrictEqual(await client.registeredBrokers(result.outputs.zookeeperConnect.value), [1, 2, 3, 4]);
        const after = await services("kafka");
        for (const [a, s] of kafkaBefore) assert.strictEqual(after.get(a)!.pid, s.pid, `broker at ${a} not restarted`);
        assert.deepStrictEqual(new Map([...(await services("zookeeper"))].slice(0, 3)), zkBefore);
        const bootstrap = result.outputs.bootstrapServers.value as string;
        assert.strictEqual(bootstrap.split(",").length, 4);
        // The topic written before the scale-out now has replicas on broker 4 (moved, throttled), nothing under-replicated,
        // and its 100 messages are all still there.
        const rebalanced = await client.must("kafka-topics.sh", ["--bootstrap-server", bootstrap, "--describe", "--topic", "e2e-roundtrip"]);
        assert.match(rebalanced, /Replicas: [0-9,]*\b4\b/, `broker 4 holds no replica of e2e-roundtrip:\n${rebalanced}`);
        assert.strictEqual(await client.underReplicated(bootstrap), 0);
        const kept = await client.must("kafka-console-consumer.sh", ["--bootstrap-server", bootstrap, "--topic", "e2e-roundtrip", "--from-beginning",
            "--max-messages", "100", "--timeout-ms", "60000"], 180_000);
        assert.strictEqual(kept.trim().split("\n").length, 100);
        const state = (await stack.exportStack()).deployment.resources.find((r: { urn: string }) => r.urn.endsWith("::cluster-rebalance"));
        log(`scale-out rebalance: ${String(state?.outputs?.stdout ?? "").trim()}`);
        assert.match(String(state?.outputs?.stdout), /rebalance: broker\(s\) 4 took their share: \d+ partition\(s\) reassigned over \[1,2,3,4\]/);
        await roundTrip(bootstrap, "e2e-scaleout", 4);
        const desc = await client.must("kafka-topics.sh", ["--bootstrap-server", bootstrap, "--describe", "--topic", "e2e-scaleout"]);
        assert.match(desc, /Leader: 4\s/, "broker 4 leads a partition of the new topic");
    });

    it("5. a wrong SSH key or an unreachable port fails within bounded time naming the host; a good up converges", async () => {
        for (const [what, bad] of [["wrong-key", { sshPrivateKey: generateKeyPair().privateKey }], ["unreachable-port", { sshPort: 2222 }]] as const) {
            await setStackConfig(stack, { ...raw, ...bad });
            const t = Date.now();
            const err = await step(what, () => failedUp(stack));
            const secs = (Date.now() - t) / 1000;
            assert.ok(err, `${what}: up must fail`);
            assert.ok(secs < 600, `${what}: failed after ${secs} s`);
            const msg = String(err);
            assert.ok(/host-[1-4]-/.test(msg) || addresses().some((a) => msg.includes(a)), `${what}: message names no host:\n${msg.slice(-2000)}`);
            if (what === "unreachable-port") assert.ok(addresses().some((a) => msg.includes(`${a}:2222`)), `${what}: no host:2222 in\n${msg.slice(-2000)}`);
            log(`${what}: failed in ${secs.toFixed(1)} s: ${(/error: .*/.exec(msg) ?? [""])[0].slice(0, 300)}`);
        }
        await setStackConfig(stack, raw);
        const kafkaBefore = await services("kafka");
        await step("recover", up);
        assert.deepStrictEqual(await pendingChanges(stack), []);
        const after = await services("kafka");
        for (const [a, s] of kafkaBefore) assert.strictEqual(after.get(a)!.pid, s.pid, `broker at ${a} untouched by the failed ups`);
    });

    it("5b. pulumi up killed (SIGKILL, its whole process group) in the middle of a broker's restart during a rolling change: the next up converges; never two brokers down; nothing acknowledged lost; every broker runs the file it has", async () => {
        const bootstrap = (await stack.outputs()).bootstrapServers.value as string;
        const addrs = addresses();
        raw = { ...raw, brokerProperties: { "num.replica.fetchers": "2" } };
        await setStackConfig(stack, raw);
        // An outside watcher: how many brokers are not active at once, sampled on every host about every 250 ms.
        let watching = true;
        const down: number[] = [];
        const watcher = (async () => {
            for (let i = 0; watching && i < 8000; i++) {
                const states = await Promise.all(addrs.map((a) => ssh.exec(a, "systemctl is-active kafka", 10_000)));
                down.push(states.filter((r) => r.stdout.trim() !== "active").length);
                await sleep(250);
            }
        })();
        let killedDuring = "";
        try {
            await writesUnderLoad(client, bootstrap, "e2e-interrupted", async () => {
                // Broker 1 restarts first; the kill comes while broker 2 restarts: stopping, or started again (a new
                // process) but not yet confirmed healthy (the host's restart marker is still there). A broker with few
                // leaders stops in well under a second, too short a window to catch with ssh polls on a loaded machine.
                const pidBefore = (await ssh.must(addrs[1], "systemctl show -p MainPID --value kafka")).trim();
                killedDuring = await killedUp("broker 2 restarting under the update", async () => {
                    const r = await ssh.exec(addrs[1], "systemctl is-active kafka; systemctl show -p MainPID --value kafka; " +
                        "if sudo -n test -f /etc/kafka/.kafka.restart-pending; then echo pending; else echo none; fi", 10_000);
                    const [state, pid, marker] = r.stdout.trim().split("\n");
                    if (state !== "active") return state;
                    if (pid !== pidBefore && marker === "pending") return `restarted (pid ${pidBefore} -> ${pid}), not yet confirmed healthy`;
                    return undefined;
                });
                log(`interrupted: pulumi up killed while broker 2 was ${killedDuring}`);
                await step("up-after-kill", up);
                await urpBackToZero(client, bootstrap, "after the interrupted update");
            });
        } finally {
            watching = false;
            await watcher;
        }
        log(`interrupted update: ${down.length} samples, at most ${Math.max(...down)} broker(s) down at once`);
        assert.ok(down.length > 20 && down.some((d) => d === 1), "the watcher saw the roll");
        assert.ok(Math.max(...down) <= 1, "never two brokers down at once");
        for (const a of addrs) {
            const r = await ssh.must(a, "sudo -n sh -c 'grep -c \"^num.replica.fetchers=2$\" /etc/kafka/server.properties; stat -c %Y /etc/kafka/server.properties; " +
                "date -d \"$(systemctl show -p ExecMainStartTimestamp --value kafka)\" +%s; systemctl is-active kafka'");
            const [count, written, started, active] = r.trim().split("\n");
            assert.strictEqual(count, "1", `${a}: the new setting is in server.properties`);
            assert.strictEqual(active, "active", `${a}: broker active`);
            assert.ok(Number(started) >= Number(written), `${a}: the broker started (${started}) after its file was written (${written})`);
        }
        assert.deepStrictEqual(await pendingChanges(stack), []);
    });

    it("5c. a network partition: one host's link cut for 60 s under an acks=all producer, then restored: nothing acknowledged lost, URP back to 0, the next preview shows no change", async () => {
        const bootstrap = (await stack.outputs()).bootstrapServers.value as string;
        const link = `vb-${env.hosts[2].name}`;
        await writesUnderLoad(client, bootstrap, "e2e-partition", async () => {
            execFileSync("ip", ["link", "set", link, "down"]);
            try {
                await sleep(60_000);
            } finally {
                execFileSync("ip", ["link", "set", link, "up"]);
            }
            log(`partition: ${link} down for 60 s, restored`);
            await urpBackToZero(client, bootstrap, "after the partition healed");
        });
        const zk = await Promise.all(addresses().slice(0, 3).map((a) => ssh.must(a, "systemctl is-active zookeeper kafka")));
        assert.ok(zk.every((o) => o.trim().split("\n").every((l) => l === "active")), "every service still runs");
        assert.deepStrictEqual(await pendingChanges(stack), []);
    });

    it("6. destroy: services stopped and disabled on every host, the stack has no resources", async () => {
        await step("destroy", () => stack.destroy({ onOutput: () => undefined }));
        for (const a of addresses()) {
            const active = await ssh.exec(a, "systemctl is-active kafka zookeeper", 30_000);
            assert.ok(active.stdout.split("\n").filter(Boolean).every((l) => l !== "active"), `${a}: ${active.stdout}`);
            const enabled = await ssh.exec(a, "systemctl is-enabled kafka zookeeper", 30_000);
            assert.ok(enabled.stdout.split("\n").filter(Boolean).every((l) => l !== "enabled"), `${a}: ${enabled.stdout}`);
            assert.strictEqual((await ssh.exec(a, "sudo -n test -f /var/lib/kafka/data/meta.properties", 30_000)).code, 0, "data kept");
        }
        assert.strictEqual(await resourceCount(stack), 0);
        await poll("nothing listens on 9096 any more", 30_000, async () =>
            (await client.tool("kafka-broker-api-versions.sh", ["--bootstrap-server", `${addresses()[0]}:9096`], 30_000)).code !== 0);
    });
});
