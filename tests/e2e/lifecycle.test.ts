// End to end: the real Pulumi engine (Automation API), the real command provider and real SSH against the local
// hosts. up from empty, no-op preview/up, a rolling broker change, scale-out, bad credentials and an unreachable
// port, destroy.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { RawConfig } from "../../components/config";
import { LocalEnv, ROOT, Ssh, hostsDown, hostsUp, kafkaDist, localStackConfig, log } from "../../scripts/lib/local";
import { checkpointFile, programStack, setStackConfig } from "../../scripts/lib/pulumi";
import { destroyIfAny, disposeStack, failedUp, pendingChanges, resourceCount, upWithOps } from "../support/engine";
import { KafkaClient } from "../support/kafka";
import { generateKeyPair } from "../support/loopback-sshd";
import { poll } from "../support/poll";
import { assertRolled, serviceStates, urpMonitor } from "../support/rolling";
import { stopwatch } from "../support/timing";

const { timed: step, summary } = stopwatch("e2e ");

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
        env = hostsUp(3);
        ssh = new Ssh(env);
        client = new KafkaClient(tarball);
        // The key as secret config (not a file path), so the checkpoint test below has a secret value to look for.
        const { sshPrivateKeyPath, ...rest } = localStackConfig(env, 3);
        raw = { ...rest, sshPrivateKey: fs.readFileSync(String(sshPrivateKeyPath), "utf8") };
        stack = await programStack("e2e", raw);
        // A leftover from an interrupted run must not make the first `up` look like a no-op.
        await destroyIfAny(stack);
    });

    after(async () => {
        try {
            await disposeStack(stack);
        } finally {
            await client?.close();
            if (process.env.KEEP_HOSTS !== "1") hostsDown();
            log(`[timing] e2e steps: ${summary()}`);
        }
    });

    it("1. up from empty succeeds and its bootstrap servers serve a replicated round trip", async () => {
        const { result } = await step("up-from-empty", up);
        assert.ok((result.summary.resourceChanges?.create ?? 0) > 20);
        const bootstrap = result.outputs.bootstrapServers.value as string;
        assert.strictEqual(bootstrap, addresses().map((a) => `${a}:9092`).join(","));
        assert.strictEqual(result.outputs.zookeeperConnect.value, `${addresses().map((a) => `${a}:2181`).join(",")}/kafka`);
        assert.match(result.outputs.smokeTest.value, /smoke test ok/);
        assert.strictEqual(result.outputs.sshPrivateKey.secret, true);
        // kafka:security sasl_ssl (the default): the suite's clients log in as the cluster's admin over TLS.
        assert.strictEqual(result.outputs.clientProperties.secret, true);
        client.login(result.outputs.clientProperties.value.admin);
        await roundTrip(bootstrap, "e2e-roundtrip", 3);
    });

    it("1b. the checkpoint holds no secret in plain text: neither the SSH private key nor any secret config value", async () => {
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

    it("3. one broker setting: only broker commands update, brokers restart one at a time with URP back to 0 in between", async () => {
        const zkBefore = await services("zookeeper");
        const kafkaBefore = await services("kafka");
        raw = { ...raw, brokerProperties: { "log.retention.hours": 72 } };
        await setStackConfig(stack, raw);
        // Watch under-replicated partitions from outside while the update runs.
        const monitor = urpMonitor(client, addresses().map((a) => `${a}:9092`).join(","));
        let ops: Map<string, string[]>;
        try {
            ({ ops } = await step("rolling-broker-change", up));
        } finally {
            await monitor.stop();
        }
        assert.deepStrictEqual([...ops.keys()].sort(), ["same", "update"]);
        assert.deepStrictEqual(ops.get("update"), ["cluster-brokers", "cluster-smoke", "host-1-broker", "host-2-broker", "host-3-broker"]);
        assert.deepStrictEqual(await services("zookeeper"), zkBefore, "ZooKeeper was not restarted");
        const kafkaAfter = await services("kafka");
        assertRolled(addresses(), kafkaBefore, kafkaAfter, monitor.samples);
        for (const a of addresses()) {
            assert.match(await ssh.must(a, "sudo -n cat /etc/kafka/server.properties"), /^log\.retention\.hours=72$/m);
        }
        log(`URP samples during the roll: ${monitor.samples.map((s) => s.urp ?? "?").join(" ")}`);
    });

    it("4. scale out: a fourth host joins as broker 4 and takes a share of the existing partitions; no existing broker or ZooKeeper restarts", async () => {
        env = hostsUp(4);
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
        await poll("nothing listens on 9092 any more", 30_000, async () =>
            (await client.tool("kafka-broker-api-versions.sh", ["--bootstrap-server", `${addresses()[0]}:9092`], 30_000)).code !== 0);
    });
});
