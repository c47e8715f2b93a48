// Real hosts, the ZooKeeper -> KRaft migration (KIP-866) through `pulumi up` (Automation API, the real engine), on three
// local systemd hosts of lab test5 (the migration suite's own, beside the other suites): a ZooKeeper-mode cluster on Kafka 3.9.2 with sasl_ssl, two client users with ACLs, a topic with data and a
// consumer group with committed offsets mid-topic; then `kafka:metadata kraft` (kafkaVersion stays 3.9.2) and one
// `pulumi up` under a retrying acks=all producer and an outside monitor of under-replicated partitions, which must
// leave the cluster in phase C (dual write): a KRaft controller in migration mode beside each ZooKeeper member, every
// broker in KRaft mode, ZooKeeper still running and written to. Nothing acknowledged lost, no send failed, never two
// brokers down, the cluster id, SCRAM logins, ACLs and the group's offsets unchanged; a second `up` restarts nothing.
// Then the rest of the scenario, each `up` under the same kind of producer and monitor: a rollback from phase C
// (`kafka:metadata` removed: ZooKeeper mode again, controllers gone, /migration deleted), a topic created in ZooKeeper
// mode, the migration again (that topic copied), the finalize (`kafka:zookeeperRetired`: ZooKeeper stopped) and Kafka
// 4.3.2 (metadata.version 4.3-IV0, kraft.version 0); after each, the cluster id, logins, ACLs, and group orders-g
// resuming at its committed offsets over records written since; a last `up` restarts nothing.
// Nothing here is mocked.
import * as assert from "assert";
import { EngineEvent, Stack, UpResult } from "@pulumi/pulumi/automation";
import { RawConfig, parseConfig } from "../../components/config";
import { PATHS } from "../../components/layout";
import { ClusterNode, hostNodes } from "../../components/topology";
import { LABS, LocalEnv, Ssh, freshHostsUp, hostsDown, kafkaDist, localStackConfig, log } from "../../scripts/lib/local";
import { setStackConfig } from "../../scripts/lib/pulumi";
import { disposeStack, freshStack, opsOf, pendingChanges, upWithOps } from "../support/engine";
import { KafkaClient } from "../support/kafka";
import { acked, urpBackToZero, writesUnderLoad } from "../support/load";
import { poll } from "../support/poll";
import { UrpSample, serviceStates, stopTimes, urpMonitor } from "../support/rolling";
import { stopwatch } from "../support/timing";

const { timed, summary } = stopwatch();
const LAB = LABS.migration;
/** The last ZooKeeper-mode line: the migration runs on it, and the version stays through it. */
const VERSION = "3.9.2";
/** The 4.x release a finalized migration moves to. */
const TO = "4.3.2";
const STACK = "migration-test";
/** Records written to `orders` before the migration, and how many of them group orders-g consumed and committed. */
const WRITTEN = 2000;
const COMMITTED = 1000;
/** Partitions of `orders`. */
const ORDERS_PARTITIONS = 6;
/** A KRaft controller's node.id on a host (contract: 3000 + the host's id). */
const controllerIdOf = (n: ClusterNode) => 3000 + n.brokerId!;

/** One record of the console consumer with print.partition, print.offset and print.key. */
interface Row { partition: number; offset: number; value: string }

/** A service's down spell on one host as systemd logged it (CLOCK_MONOTONIC µs; `up` undefined while still down). */
interface Down { host: string; down: bigint; up?: bigint }

describe("real hosts, ZooKeeper -> KRaft migration: kafka:metadata kraft and pulumi up move a running 3.9.2 cluster to dual write", function () {
    let env: LocalEnv;
    let ssh: Ssh;
    let raw: RawConfig;
    let nodes: ClusterNode[];
    let addrs: string[];
    let stack: Stack;
    let client: KafkaClient;
    let bootstrap: string;
    let zkConnect: string;
    let props: Record<string, string>;
    let clusterId: string;
    /** orders-g's committed offset per partition of `orders`, before the migration. */
    let groupBefore: Map<number, number>;
    /** The values group orders-g consumed before the migration. */
    let consumedBefore: Set<string>;
    /** What the migration's `up` left for the later checks. */
    let migration: { result?: UpResult; samples: UrpSample[]; sinceUs: bigint; sinceS: number; endUs?: bigint } | undefined;
    /** orders-g's committed offsets as the last check left them (it consumed to the end, then more records were written). */
    let groupNow: Map<number, number> | undefined;
    /** Records in `orders` now. */
    let ordersHeld = WRITTEN;
    /** The records written to `after-rollback` in ZooKeeper mode, after the rollback. */
    let afterRollback: string[] = [];

    const file = (user: string) => client.propertiesFile(`as-${user}`, props[user]);
    const mainPid = async (n: ClusterNode, svc: string) => Number((await ssh.must(n.sshAddress, `systemctl show -p MainPID --value ${svc}`)).trim());
    const allStates = async () => ({
        kafka: await serviceStates(ssh, addrs, "kafka"),
        controller: await serviceStates(ssh, addrs, "kafka-controller"),
        zookeeper: await serviceStates(ssh, addrs, "zookeeper"),
    });

    /** A znode under the chroot, read on a host with the broker's install as root, without a ZooKeeper login (world-readable). */
    async function znode(path: string, on: ClusterNode = nodes[0]): Promise<string> {
        const r = await ssh.exec(on.sshAddress, `sudo -n env LOG_DIR=${PATHS.toolsLogDir} KAFKA_HEAP_OPTS=-Xmx128m KAFKA_JMX_OPTS=-Dx=1 ` +
            `${PATHS.current}/bin/zookeeper-shell.sh ${zkConnect} get ${path}`, 120_000);
        // zookeeper-shell prints the data as a line of its own (a JSON object here); "Node does not exist" on stderr.
        const data = r.stdout.split("\n").map((l) => l.trim()).find((l) => l.startsWith("{"));
        if (!data) throw new Error(`${path}: no data (exit ${r.code}): ${(r.stdout + r.stderr).slice(-1000)}`);
        return data;
    }

    /** /brokers/ids under the chroot as zookeeper-shell lists it ("[1, 2, 3]"), read on a host like znode(). */
    async function registeredInZookeeper(on: ClusterNode = nodes[0]): Promise<string | undefined> {
        const r = await ssh.exec(on.sshAddress, `sudo -n env LOG_DIR=${PATHS.toolsLogDir} KAFKA_HEAP_OPTS=-Xmx128m KAFKA_JMX_OPTS=-Dx=1 ` +
            `${PATHS.current}/bin/zookeeper-shell.sh ${zkConnect} ls /brokers/ids`, 120_000);
        return r.stdout.split("\n").map((l) => l.trim()).filter((l) => l.startsWith("[")).pop();
    }

    /** The cluster id each broker's storage was formatted with (meta.properties), by host. */
    const brokerClusterIds = () => Promise.all(nodes.map(async (n) =>
        /^cluster\.id=(\S+)$/m.exec(await ssh.must(n.sshAddress, `sudo -n cat ${PATHS.kafkaLogDirs}/meta.properties`))?.[1]));

    /** The cluster id the brokers tell an admin client (DescribeCluster, Kafka's ClusterTool). */
    async function describedClusterId(): Promise<string | undefined> {
        const out = await client.must("kafka-run-class.sh", ["org.apache.kafka.tools.ClusterTool", "cluster-id", "--bootstrap-server", bootstrap,
            "--config", client.loginFile!], 120_000);
        return /^Cluster ID: (\S+)$/m.exec(out)?.[1];
    }

    /** Group orders-g's committed offset (CURRENT-OFFSET) per partition of `orders`, from kafka-consumer-groups --describe as admin. */
    async function groupOffsets(): Promise<Map<number, number>> {
        // Right after a roll the group's coordinator may still be loading its partition of __consumer_offsets, and the
        // describe lists no offsets (a CI run under load saw an empty answer once): asked again, within a bound, until
        // every partition of orders has its row; the last answer is in the failure if it never comes.
        let last = "";
        return poll(`orders-g's committed offset of each of the ${ORDERS_PARTITIONS} partitions of orders`, 180_000, async () => {
            // --timeout: the tool bounds each admin call (the TLS and SCRAM login included) by 5 s otherwise, which a CI
            // run with four suites on two cores exceeded for minutes ("Timed out waiting for a node assignment").
            last = await client.must("kafka-consumer-groups.sh", ["--bootstrap-server", bootstrap, "--describe", "--group", "orders-g", "--timeout", "60000"], 120_000);
            const offsets = new Map<number, number>();
            for (const line of last.split("\n")) {
                const f = line.trim().split(/\s+/);
                if (f[0] === "orders-g" && f[1] === "orders" && /^\d+$/.test(f[2]) && /^\d+$/.test(f[3])) offsets.set(Number(f[2]), Number(f[3]));
            }
            if (offsets.size === ORDERS_PARTITIONS) return offsets;
            log(`orders-g described with ${offsets.size} of ${ORDERS_PARTITIONS} partitions; asking again: ${last.trim().slice(-500)}`);
            return undefined;
        }, 5000);
    }

    /** A topic's end offset per partition. */
    async function endOffsets(topic: string): Promise<Map<number, number>> {
        const out = await client.must("kafka-get-offsets.sh", ["--bootstrap-server", bootstrap, "--topic", topic, "--time", "-1"], 60_000);
        return new Map(out.split("\n").filter((l) => l.startsWith(`${topic}:`)).map((l) => [Number(l.split(":")[1]), Number(l.split(":")[2])]));
    }

    /**
     * Consumes `orders` as `app` in group orders-g (console consumer: commits what it consumed when it ends); from the
     * beginning only where the group has no committed offset yet (the first time: a new group starts at the end otherwise).
     */
    async function consumeOrders(max: number, first = false): Promise<Row[]> {
        // One record per poll: the consumer's position (what it commits) is then exactly what it printed.
        const out = await client.must("kafka-console-consumer.sh", ["--bootstrap-server", bootstrap, "--topic", "orders", "--group", "orders-g",
            ...(first ? ["--from-beginning"] : []), "--max-messages", String(max), "--timeout-ms", "60000", "--consumer-property", "max.poll.records=1",
            "--property", "print.partition=true", "--property", "print.offset=true"], 300_000, undefined, file("app"));
        const rows: Row[] = [];
        for (const line of out.split("\n")) {
            const m = /^Partition:(\d+)\tOffset:(\d+)\t(\S+)$/.exec(line.trim());
            if (m) rows.push({ partition: Number(m[1]), offset: Number(m[2]), value: m[3] });
        }
        return rows;
    }

    /**
     * SCRAM logins and ACLs as the client users see them: admin lists topics; app writes its topics; other reads its
     * topic with its group, and is denied writing it and reading `orders`; a wrong password is refused.
     */
    async function loginsAndAcls(when: string): Promise<void> {
        const topics = await client.must("kafka-topics.sh", ["--bootstrap-server", bootstrap, "--list"], 120_000);
        assert.match(topics, /^orders$/m, `${when}: admin lists the topics`);
        const note = `${when.replace(/\W+/g, "-")}`;
        await client.must("kafka-console-producer.sh", ["--bootstrap-server", bootstrap, "--topic", "orders-audit", "--producer-property", "acks=all"],
            120_000, `app-${note}\n`, file("app"));
        await client.must("kafka-console-producer.sh", ["--bootstrap-server", bootstrap, "--topic", "other-events", "--producer-property", "acks=all"],
            120_000, `admin-${note}\n`);
        const read = await client.must("kafka-console-consumer.sh", ["--bootstrap-server", bootstrap, "--topic", "other-events", "--group", "other-g",
            "--from-beginning", "--max-messages", "1", "--timeout-ms", "60000"], 120_000, undefined, file("other"));
        assert.match(read, /^admin-/m, `${when}: other reads other-events with its group`);
        const deniedRead = await client.tool("kafka-console-consumer.sh", ["--bootstrap-server", bootstrap, "--topic", "orders", "--group", "other-g",
            "--max-messages", "1", "--timeout-ms", "20000"], 120_000, undefined, file("other"));
        assert.match(deniedRead.stdout + deniedRead.stderr, /TopicAuthorizationException|Not authorized to access topics: \[orders\]/, `${when}: other reads orders: ${(deniedRead.stdout + deniedRead.stderr).slice(-1500)}`);
        // Not idempotent: an idempotent producer of a user who may write no topic at all is refused its producer id first.
        const deniedWrite = await client.tool("kafka-console-producer.sh", ["--bootstrap-server", bootstrap, "--topic", "other-events",
            "--producer-property", "max.block.ms=10000", "--producer-property", "enable.idempotence=false"], 60_000, "x\n", file("other"));
        assert.match(deniedWrite.stdout + deniedWrite.stderr, /TopicAuthorizationException|Not authorized to access topics: \[other-events\]/,
            `${when}: other writes other-events: ${(deniedWrite.stdout + deniedWrite.stderr).slice(-1500)}`);
        const wrong = await client.tool("kafka-topics.sh", ["--bootstrap-server", bootstrap, "--list"], 60_000, undefined,
            client.propertiesFile("wrong", props.app.replace(/password="[^"]*"/, 'password="nope"') + "request.timeout.ms=5000\ndefault.api.timeout.ms=10000\n"));
        assert.match(wrong.stderr, /Authentication failed/, `${when}: a wrong password: ${wrong.stderr.slice(-1500)}`);
    }

    /**
     * The stops and starts of `svc` on every host since `sinceS` (epoch seconds), from the hosts' journals (systemd's own
     * lines), as down spells: from "Stopping" (or the main process exiting on its own) to "Started".
     */
    async function downSpells(svc: string, sinceS: number): Promise<Down[]> {
        const spells: Down[] = [];
        for (const n of nodes) {
            const out = await ssh.must(n.sshAddress, `sudo -n journalctl -u ${svc} --since @${sinceS} --no-pager -o json ` +
                "--output-fields=UNIT,MESSAGE,SYSLOG_IDENTIFIER", 60_000);
            let open: Down | undefined;
            for (const line of out.split("\n")) {
                if (!line.startsWith("{")) continue;
                const e = JSON.parse(line) as Record<string, unknown>;
                if (e.SYSLOG_IDENTIFIER !== "systemd" || e.UNIT !== `${svc}.service` || typeof e.MESSAGE !== "string") continue;
                const at = BigInt(String(e.__MONOTONIC_TIMESTAMP));
                if (/^Stopping |: Main process exited|: Failed with result/.test(e.MESSAGE)) {
                    if (!open) spells.push((open = { host: n.name, down: at }));
                } else if (/^Started /.test(e.MESSAGE) && open) {
                    open.up = at;
                    open = undefined;
                }
            }
        }
        return spells.sort((a, b) => (a.down < b.down ? -1 : 1));
    }

    const sum = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    const sorted = (m: Map<number, number>) => [...m].sort((a, b) => a[0] - b[0]);

    /** Writes MORE records to `orders` as app (acks=all), each acknowledged, behind orders-g's committed offsets. */
    const MORE = 300;
    async function moreOrders(): Promise<void> {
        const prod = await client.must("kafka-verifiable-producer.sh", ["--bootstrap-server", bootstrap, "--topic", "orders",
            "--max-messages", String(MORE), "--acks", "-1", "--repeating-keys", "100", "--throughput", "-1"], 300_000, undefined, file("app"));
        assert.strictEqual(acked(prod).length, MORE, "every record acknowledged (acks=all)");
        ordersHeld += MORE;
        assert.strictEqual(await client.recordCount(bootstrap, "orders"), ordersHeld, "orders holds every record written");
    }

    /**
     * orders-g's committed offsets are what the last check left; the group resumes at exactly them and reads to the
     * end of every partition; then more records go behind the new committed offsets for the next phase.
     */
    async function groupResumes(when: string): Promise<void> {
        assert.ok(groupNow, "the group's offsets were recorded");
        assert.strictEqual(await client.recordCount(bootstrap, "orders"), ordersHeld, `${when}: orders holds every record written`);
        const committed = await groupOffsets();
        assert.deepStrictEqual(sorted(committed), sorted(groupNow), `${when}: orders-g's CURRENT-OFFSET per partition unchanged`);
        const ends = await endOffsets("orders");
        assert.strictEqual(sum(ends), ordersHeld, `${when}: orders' end offsets`);
        const rows = await consumeOrders(sum(ends) - sum(committed));
        for (const [p, c] of committed) {
            const offsets = rows.filter((r) => r.partition === p).map((r) => r.offset).sort((a, b) => a - b);
            assert.deepStrictEqual(offsets, [...Array(ends.get(p)! - c).keys()].map((i) => c + i),
                `${when}: partition ${p}: the group resumed at its committed offset ${c} and read to the end ${ends.get(p)}`);
        }
        groupNow = await groupOffsets();
        assert.deepStrictEqual(sorted(groupNow), sorted(ends), `${when}: orders-g committed the end of every partition`);
        log(`${when}: orders-g resumed at ${sorted(committed).map(([p, o]) => `${p}:${o}`).join(" ")} and read ${rows.length} records to the end`);
        await moreOrders();
    }

    /** The cluster id on every broker's storage and as clients see it, SCRAM logins and ACL denials, the group. */
    async function survived(when: string): Promise<void> {
        assert.deepStrictEqual(await brokerClusterIds(), nodes.map(() => clusterId), `${when}: every broker's storage keeps the cluster id`);
        assert.strictEqual(await describedClusterId(), clusterId, `${when}: the cluster id clients see is unchanged`);
        await loginsAndAcls(when);
        await groupResumes(when);
    }

    /** Whether a znode exists under the chroot (zookeeper-shell's stat: "Node does not exist" when not). */
    async function znodeExists(path: string, on: ClusterNode = nodes[0]): Promise<boolean> {
        const r = await ssh.exec(on.sshAddress, `sudo -n env LOG_DIR=${PATHS.toolsLogDir} KAFKA_HEAP_OPTS=-Xmx128m KAFKA_JMX_OPTS=-Dx=1 ` +
            `${PATHS.current}/bin/zookeeper-shell.sh ${zkConnect} stat ${path}`, 120_000);
        const out = r.stdout + r.stderr;
        if (/Node does not exist/.test(out)) return false;
        if (/^ctime = /m.test(out)) return true;
        throw new Error(`stat ${path}: neither its stat nor "Node does not exist" (exit ${r.code}): ${out.slice(-1000)}`);
    }

    /** Each step an update changed, with its start and end (whole seconds into the update), and its errors: from its own events. */
    function changedSteps(events: EngineEvent[], upStarted: number): string[] {
        const t0 = events.find((e) => e.timestamp > 0)?.timestamp ?? Math.floor(upStarted / 1000);
        const pre = new Map<string, number>();
        const lines: string[] = [];
        for (const e of events) {
            const p = e.resourcePreEvent?.metadata;
            if (p && p.op !== "same") pre.set(p.urn, e.timestamp);
            const o = e.resOutputsEvent?.metadata;
            if (o && pre.has(o.urn)) lines.push(`+${pre.get(o.urn)! - t0}..+${e.timestamp - t0} s ${o.op} ${o.urn.split("::").pop()}`);
            if (e.diagnosticEvent?.severity === "error") lines.push(`error: ${e.diagnosticEvent.message.trim().slice(0, 2000)}`);
        }
        return lines;
    }

    /** What one `pulumi up` under load left: its result, the URP samples and its time window. */
    interface Window { result: UpResult; samples: UrpSample[]; sinceUs: bigint; sinceS: number; endUs: bigint; seconds: number }

    /**
     * `pulumi up` with `next` as the stack's config, under a retrying acks=all producer on a topic of its own (nothing
     * acknowledged lost, no send failed: writesUnderLoad) and the outside URP monitor; logs each changed step.
     */
    async function upUnderLoad(what: string, topic: string, next: RawConfig): Promise<Window> {
        await urpBackToZero(client, bootstrap, `before ${what}`);
        const monitor = urpMonitor(client, bootstrap);
        const sinceS = Math.floor(Date.now() / 1000) - 1;
        const sinceUs = process.hrtime.bigint() / 1000n;
        const events: EngineEvent[] = [];
        const upStarted = Date.now();
        let result: UpResult | undefined;
        let endUs = 0n;
        let seconds = 0;
        try {
            await writesUnderLoad(client, bootstrap, topic, async (ackedSoFar) => {
                raw = next;
                await setStackConfig(stack, raw);
                const before = ackedSoFar();
                const t = Date.now();
                result = await timed(`${what}: pulumi up`, () => stack.up({ onOutput: () => undefined, onEvent: (e) => events.push(e) }));
                seconds = (Date.now() - t) / 1000;
                endUs = process.hrtime.bigint() / 1000n;
                log(`${what}: the producer had ${before} acknowledged when the up began, ${ackedSoFar()} when it ended`);
            }, true);
        } finally {
            await monitor.stop();
            const lines = changedSteps(events, upStarted);
            log(`${what} up, each changed step (from the update's own events):\n  ${lines.join("\n  ")}`);
            log(`${what} up: ${monitor.samples.length} URP samples, max ${Math.max(...monitor.samples.map((s) => s.urp ?? 0))}, ` +
                `${monitor.samples.filter((s) => s.urp === undefined).length} failed`);
        }
        assert.ok(result, `${what}: the up ran`);
        assert.strictEqual(result.summary.result, "succeeded");
        log(`${what} up: ${JSON.stringify(result.summary.resourceChanges)}; ops ${JSON.stringify(Object.fromEntries(opsOf(events)))}; ${seconds.toFixed(1)} s`);
        assert.strictEqual(result.outputs.bootstrapServers.value, bootstrap, `${what}: clients keep their bootstrap servers`);
        return { result, samples: monitor.samples, sinceUs, sinceS, endUs, seconds };
    }

    /**
     * `svc`'s down spells during an up: each started again, never two at once, and (with URP samples, for brokers) each
     * stop only after a URP=0 sample following the previous start. Returns the spells.
     */
    async function oneAtATime(what: string, svc: "kafka" | "kafka-controller", w: Window, urp: boolean): Promise<Down[]> {
        const spells = await downSpells(svc, w.sinceS);
        const rel = (t: bigint) => `${(Number(t - w.sinceUs) / 1e6).toFixed(1)}s`;
        log(`${what}: ${svc} down spells: ${spells.map((s) => `${s.host} ${rel(s.down)}..${s.up === undefined ? "-" : rel(s.up)}`).join(", ") || "none"}`);
        const samples = w.samples.filter((s) => s.urp !== undefined);
        for (let i = 0; i < spells.length; i++) {
            const s = spells[i];
            assert.ok(s.up !== undefined, `${what}: ${s.host}: ${svc} stopped at ${rel(s.down)} and was not started again`);
            if (i > 0) {
                const prev = spells[i - 1];
                assert.ok(s.down > prev.up!, `${what}: ${s.host}'s ${svc} went down at ${rel(s.down)} while ${prev.host}'s was down (${rel(prev.down)}..${rel(prev.up!)})`);
                if (urp) {
                    assert.ok(samples.some((x) => x.start > prev.up! && x.end < s.down && x.urp === 0),
                        `${what}: no URP=0 sample between ${prev.host} starting at ${rel(prev.up!)} and ${s.host} stopping at ${rel(s.down)}`);
                }
            }
            if (urp) {
                const last = samples.filter((x) => x.end < s.down).pop();
                assert.strictEqual(last?.urp, 0, `${what}: ${s.host} stopped at ${rel(s.down)} while the last URP sample said ${last?.urp}`);
            }
        }
        return spells;
    }

    /** The Kafka release directories a service's process has files open in (its jars), e.g. ["kafka_2.13-4.3.2"]. */
    async function runningReleases(n: ClusterNode, svc: string): Promise<string[]> {
        const pid = await mainPid(n, svc);
        assert.ok(pid > 0, `${n.name}: ${svc} runs`);
        const out = await ssh.must(n.sshAddress, `sudo -n ls -l /proc/${pid}/fd | grep -o 'kafka_[0-9.]*-[0-9][0-9.]*' | sed 's/\\.$//' | sort -u`);
        return out.trim().split("\n").filter(Boolean);
    }

    before(async () => {
        const start = Date.now();
        const tarball = await timed(`setup: Kafka ${VERSION} tarball`, () => kafkaDist(VERSION));
        await timed(`setup: Kafka ${TO} tarball`, () => kafkaDist(TO));
        env = await timed("setup: image, apt repository and 3 hosts", () => freshHostsUp(3, LAB));
        ssh = new Ssh(env);
        raw = localStackConfig(env, 3, {
            kafkaVersion: VERSION, security: "sasl_ssl",
            clientUsers: ["app", "other"],
            acls: { app: { read: ["orders*"], write: ["orders*"], groups: ["orders-g"] }, other: { read: ["other-*"], groups: ["other-g"] } },
        });
        const cfg = parseConfig(raw, STACK);
        if (cfg.mode !== "hosts") throw new Error("the migration suite runs existing-hosts mode");
        nodes = hostNodes(cfg);
        addrs = nodes.map((n) => n.sshAddress);
        client = new KafkaClient(tarball);
        stack = await timed("setup: engine and stack", () => freshStack(STACK, raw));
        log(`[timing] setup phase total: ${((Date.now() - start) / 1000).toFixed(1)} s`);
    });

    afterEach(async function () {
        if (this.currentTest?.state !== "failed" || !nodes) return;
        for (const n of nodes) {
            const r = await ssh.exec(n.sshAddress, "sudo -n journalctl -u kafka-controller -u kafka -u zookeeper --no-pager -o short-monotonic --since -15min | " +
                "grep -E '\\] (WARN|ERROR|FATAL) |systemd\\[1\\]:' | grep -vE 'UNKNOWN_TOPIC_ID|Cannot open channel' | tail -n 60", 30_000);
            log(`--- journal of ${n.name} (${n.sshAddress}) ---\n${r.stdout}${r.stderr}`);
        }
    });

    after(async () => {
        try {
            if (stack) await timed("destroy and remove the stack", () => disposeStack(stack));
            // For the record: the order the destroy stopped the services in, from the hosts' journals (no assertion: the
            // migration's contract does not cover destroy). A controller in migration mode still writes to ZooKeeper.
            if (nodes && ssh) {
                const times = await Promise.all(nodes.map((n) => stopTimes(ssh, n.sshAddress, ["kafka", "kafka-controller", "zookeeper"])))
                    .catch((e) => { log(`destroy: no stop times (${e})`); return []; });
                const at = (svc: string, k: "stopping" | "stopped") => times.map((t) => t.get(svc)![k]).filter((x) => x > 0n);
                const max = (xs: bigint[]) => xs.reduce((a, b) => (a > b ? a : b), 0n);
                const min = (xs: bigint[]) => xs.reduce((a, b) => (a < b ? a : b), xs[0] ?? 0n);
                log(`destroy: last broker down ${max(at("kafka", "stopped"))}, controllers stopping ${at("kafka-controller", "stopping").join(",")} ` +
                    `down ${at("kafka-controller", "stopped").join(",")}, ZooKeeper stopping ${at("zookeeper", "stopping").join(",")} (monotonic µs); ` +
                    `every controller down before the first ZooKeeper member began stopping: ${max(at("kafka-controller", "stopped")) < min(at("zookeeper", "stopping"))}`);
            }
        } finally {
            await client?.close();
            if (process.env.KEEP_HOSTS !== "1") hostsDown(LAB);
        }
        log(`[timing] summary: ${summary()}`);
    });

    it(`pulumi up of a ZooKeeper-mode cluster: Kafka ${VERSION}, sasl_ssl, client users app and other with ACLs`, async () => {
        const { result } = await timed("provision: pulumi up (ZooKeeper mode)", () => upWithOps(stack));
        const outputs = result.outputs;
        bootstrap = outputs.bootstrapServers.value;
        zkConnect = outputs.zookeeperConnect.value;
        props = outputs.clientProperties.value;
        assert.strictEqual(bootstrap, nodes.map((n) => `${n.clientAddress}:9096`).join(","));
        assert.strictEqual(zkConnect, `${nodes.map((n) => `${n.privateAddress}:2181`).join(",")}/kafka`);
        assert.deepStrictEqual(Object.keys(props).sort(), ["admin", "app", "other"]);
        assert.strictEqual(outputs.metadataMigration.value, "ZooKeeper mode");
        client.login(props.admin);
        for (const n of nodes) {
            const server = await ssh.must(n.sshAddress, `sudo -n cat ${PATHS.configDir}/server.properties`);
            assert.match(server, /^zookeeper\.connect=/m, `${n.name}: a ZooKeeper-mode broker`);
            assert.doesNotMatch(server, /^process\.roles=/m, `${n.name}: a ZooKeeper-mode broker`);
            assert.strictEqual((await ssh.exec(n.sshAddress, "systemctl is-active zookeeper kafka", 10_000)).stdout.trim(), "active\nactive");
            assert.notStrictEqual((await ssh.exec(n.sshAddress, "systemctl is-active kafka-controller", 10_000)).stdout.trim(), "active", `${n.name}: no controller yet`);
        }
    });

    it(`data before the migration: ${WRITTEN} records in orders (RF 3), group orders-g committed at ${COMMITTED}, the cluster id, logins and ACL denials`, async () => {
        await timed("data: topics, records, group offsets", async () => {
            for (const [topic, partitions] of [["orders", ORDERS_PARTITIONS], ["orders-audit", 1], ["other-events", 1]] as const) {
                await client.must("kafka-topics.sh", ["--bootstrap-server", bootstrap, "--create", "--topic", topic,
                    "--partitions", String(partitions), "--replication-factor", "3"]);
            }
            const prod = await client.must("kafka-verifiable-producer.sh", ["--bootstrap-server", bootstrap, "--topic", "orders",
                "--max-messages", String(WRITTEN), "--acks", "-1", "--repeating-keys", "100", "--throughput", "-1"], 300_000, undefined, file("app"));
            assert.strictEqual(acked(prod).length, WRITTEN, "every record acknowledged (acks=all)");
            assert.strictEqual(await client.recordCount(bootstrap, "orders"), WRITTEN);
            const rows = await consumeOrders(COMMITTED, true);
            assert.strictEqual(rows.length, COMMITTED);
            consumedBefore = new Set(rows.map((r) => r.value));
            assert.strictEqual(consumedBefore.size, COMMITTED, "no record consumed twice");
            groupBefore = await groupOffsets();
            assert.strictEqual(groupBefore.size, 6, "a committed offset for every partition of orders");
            // What the group consumed per partition is exactly what it committed: offsets 0..committed-1.
            for (const [p, committed] of groupBefore) {
                assert.strictEqual(rows.filter((r) => r.partition === p).length, committed, `partition ${p}: consumed vs committed`);
            }
            assert.strictEqual([...groupBefore.values()].reduce((a, b) => a + b, 0), COMMITTED, "the group committed mid-topic");
            log(`orders-g committed before the migration: ${[...groupBefore].sort((a, b) => a[0] - b[0]).map(([p, o]) => `${p}:${o}`).join(" ")}`);
        });
        const zkId = /"id":"([^"]+)"/.exec(await znode("/cluster/id"))?.[1];
        const ids = await brokerClusterIds();
        assert.ok(zkId, "ZooKeeper holds the cluster id");
        assert.deepStrictEqual(ids, nodes.map(() => zkId), "every broker's storage carries ZooKeeper's cluster id");
        assert.strictEqual(await describedClusterId(), zkId, "the brokers tell clients the same cluster id");
        clusterId = zkId!;
        assert.strictEqual(await registeredInZookeeper(), "[1, 2, 3]", "the ZooKeeper-mode brokers registered in ZooKeeper");
        log(`cluster id: ${clusterId}`);
        await loginsAndAcls("in ZooKeeper mode");
    });

    it(`kafka:metadata kraft (kafkaVersion ${VERSION}) and pulumi up under an acks=all producer: to phase C with nothing lost and no send failed`, async () => {
        await urpBackToZero(client, bootstrap, "before the migration");
        const monitor = urpMonitor(client, bootstrap);
        const sinceS = Math.floor(Date.now() / 1000) - 1;
        const sinceUs = process.hrtime.bigint() / 1000n;
        migration = { samples: monitor.samples, sinceUs, sinceS };
        const events: EngineEvent[] = [];
        const upStarted = Date.now();
        try {
            await writesUnderLoad(client, bootstrap, "migration-load", async (ackedSoFar) => {
                // The migration's controllers are small, as every JVM of the lab's (its two cores run three suites).
                raw = { ...raw, metadata: "kraft", controllerHeap: "256m" };
                await setStackConfig(stack, raw);
                const before = ackedSoFar();
                migration!.result = await timed("migration: pulumi up (ZooKeeper -> phase C)", () => stack.up({ onOutput: () => undefined, onEvent: (e) => events.push(e) }));
                migration!.endUs = process.hrtime.bigint() / 1000n;
                log(`migration: the producer had ${before} acknowledged when the up began, ${ackedSoFar()} when it ended`);
            }, true);
        } finally {
            await monitor.stop();
            // What the update did and when, from its own events (the engine stamps whole seconds): each changed step.
            const lines = changedSteps(events, upStarted);
            log(`migration up, each changed step (from the update's own events):\n  ${lines.join("\n  ")}`);
            log(`migration up: ${monitor.samples.length} URP samples, max ${Math.max(...monitor.samples.map((s) => s.urp ?? 0))}, ` +
                `${monitor.samples.filter((s) => s.urp === undefined).length} failed`);
        }
        const result = migration.result!;
        assert.strictEqual(result.summary.result, "succeeded");
        log(`migration up: ${JSON.stringify(result.summary.resourceChanges)}; ops ${JSON.stringify(Object.fromEntries(opsOf(events)))}`);
        assert.match(String(result.outputs.metadataMigration.value), /^phase C/, `metadataMigration: ${result.outputs.metadataMigration.value}`);
        log(`metadataMigration: ${result.outputs.metadataMigration.value}`);
        assert.strictEqual(result.outputs.bootstrapServers.value, bootstrap, "clients keep their bootstrap servers");
    });

    it("phase C on every host: a controller in migration mode (node.id 3000 + host id), brokers in KRaft mode, ZooKeeper running, /migration copied, a KRaft controller holds /controller", async () => {
        const ids: number[] = [];
        for (const n of nodes) {
            assert.strictEqual((await ssh.exec(n.sshAddress, "systemctl is-active kafka-controller kafka zookeeper", 10_000)).stdout.trim(),
                "active\nactive\nactive", `${n.name}: controller, broker and ZooKeeper member run`);
            const controller = await ssh.must(n.sshAddress, `sudo -n cat ${PATHS.configDir}/controller.properties`);
            assert.match(controller, /^process\.roles=controller$/m, `${n.name}: controller.properties`);
            assert.match(controller, new RegExp(`^node\\.id=${controllerIdOf(n)}$`, "m"), `${n.name}: the controller's node.id`);
            assert.match(controller, /^zookeeper\.metadata\.migration\.enable=true$/m, `${n.name}: the controller in migration mode`);
            const server = await ssh.must(n.sshAddress, `sudo -n cat ${PATHS.configDir}/server.properties`);
            assert.match(server, /^process\.roles=broker$/m, `${n.name}: the broker in KRaft mode`);
            assert.doesNotMatch(server, /^zookeeper\.connect=/m, `${n.name}: the broker no longer uses ZooKeeper`);
            // Two processes: the controller's and the broker's.
            const [cPid, bPid] = [await mainPid(n, "kafka-controller"), await mainPid(n, "kafka")];
            assert.ok(cPid > 0 && bPid > 0 && cPid !== bPid, `${n.name}: controller and broker are two processes`);
            const cMeta = await ssh.must(n.sshAddress, `sudo -n cat ${PATHS.controllerLogDir}/meta.properties`);
            assert.match(cMeta, new RegExp(`^node\\.id=${controllerIdOf(n)}$`, "m"), `${n.name}: the controller's storage`);
            assert.strictEqual(/^cluster\.id=(\S+)$/m.exec(cMeta)?.[1], clusterId, `${n.name}: the controller formatted with the ZooKeeper cluster's id`);
            ids.push(controllerIdOf(n));
        }
        const mig = await znode("/migration");
        const offset = Number(/"kraft_metadata_offset":(-?\d+)/.exec(mig)?.[1]);
        log(`/migration: ${mig}`);
        assert.ok(Number.isInteger(offset) && offset >= 0, `the metadata was copied from ZooKeeper: ${mig}`);
        // No broker registers in ZooKeeper any more: each running broker is a KRaft one (the files alone do not say that).
        assert.strictEqual(await registeredInZookeeper(), "[]", "brokers registered in ZooKeeper (/brokers/ids)");
        // In dual write the active KRaft controller holds /controller in ZooKeeper (a ZooKeeper-mode broker otherwise).
        const holder = Number(/"brokerid":(-?\d+)/.exec(await znode("/controller"))?.[1]);
        assert.ok(ids.includes(holder), `/controller is held by a KRaft controller (${ids.join(", ")}), not by ${holder}`);
        // Dual write: ZooKeeper is still written; the offset moves on with a change made through the brokers.
        await client.must("kafka-topics.sh", ["--bootstrap-server", bootstrap, "--create", "--topic", "orders-dual-write", "--partitions", "1", "--replication-factor", "3"]);
        await urpBackToZero(client, bootstrap, "after a topic created in dual write");
        const later = await poll("/migration's offset advances in dual write", 60_000, async () => {
            const o = Number(/"kraft_metadata_offset":(-?\d+)/.exec(await znode("/migration"))?.[1]);
            return o > offset ? o : undefined;
        });
        log(`/migration's kraft_metadata_offset ${offset} -> ${later} after a topic was created`);
        await poll("a topic created in KRaft mode is written to ZooKeeper too", 60_000, async () => /"partitions"/.test(await znode("/brokers/topics/orders-dual-write")));
    });

    it("never two brokers down during the migration, each stopped only at URP 0; both rolls (B and C) restarted every broker", async () => {
        assert.ok(migration, "the migration's up ran");
        const spells = await downSpells("kafka", migration.sinceS);
        const rel = (t: bigint) => `${(Number(t - migration!.sinceUs) / 1e6).toFixed(1)}s`;
        log(`broker down spells: ${spells.map((s) => `${s.host} ${rel(s.down)}..${s.up === undefined ? "-" : rel(s.up)}`).join(", ")}`);
        const controllers = await downSpells("kafka-controller", migration.sinceS);
        log(`controller down spells: ${controllers.map((s) => `${s.host} ${rel(s.down)}..${s.up === undefined ? "-" : rel(s.up)}`).join(", ") || "none"}`);
        const zk = await downSpells("zookeeper", migration.sinceS);
        log(`zookeeper down spells during the migration: ${zk.map((s) => `${s.host} ${rel(s.down)}..${s.up === undefined ? "-" : rel(s.up)}`).join(", ") || "none"}`);
        // The phases as the brokers' restarts show them: A until the first broker stops, then B's roll and C's roll.
        if (spells.length >= 6 && migration.endUs !== undefined && spells.every((s) => s.up !== undefined)) {
            const secs = (a: bigint, b: bigint) => `${(Number(b - a) / 1e6).toFixed(1)} s`;
            log(`migration phases: A (controllers, until the first broker stops) ${secs(migration.sinceUs, spells[0].down)}; ` +
                `first roll ${secs(spells[0].down, spells[2].up!)}; between the rolls ${secs(spells[2].up!, spells[3].down)}; ` +
                `second roll ${secs(spells[3].down, spells[spells.length - 1].up!)}; after the last broker started ${secs(spells[spells.length - 1].up!, migration.endUs)}` +
                `${spells.length > 6 ? ` (${spells.length} broker restarts in all)` : ""}`);
        }
        const samples = migration.samples.filter((s) => s.urp !== undefined);
        for (let i = 0; i < spells.length; i++) {
            const s = spells[i];
            assert.ok(s.up !== undefined, `${s.host}: the broker stopped at ${rel(s.down)} and was not started again`);
            if (i > 0) {
                const prev = spells[i - 1];
                assert.ok(s.down > prev.up!, `${s.host} went down at ${rel(s.down)} while ${prev.host} was down (${rel(prev.down)}..${rel(prev.up!)})`);
                assert.ok(samples.some((x) => x.start > prev.up! && x.end < s.down && x.urp === 0),
                    `no URP=0 sample between ${prev.host} starting at ${rel(prev.up!)} and ${s.host} stopping at ${rel(s.down)}`);
            }
            const last = samples.filter((x) => x.end < s.down).pop();
            assert.strictEqual(last?.urp, 0, `${s.host} stopped at ${rel(s.down)} while the last URP sample said ${last?.urp}`);
        }
        for (const n of nodes) {
            const count = spells.filter((s) => s.host === n.name).length;
            assert.ok(count >= 2, `${n.name}: the broker restarted ${count} time(s); phase B (migration settings) and phase C (KRaft mode) each need one`);
        }
    });

    it("everything survived: the cluster id, SCRAM logins and ACL denials, orders' records, group orders-g resumes at its committed offsets", async () => {
        assert.deepStrictEqual(await brokerClusterIds(), nodes.map(() => clusterId), "every broker's storage keeps the cluster id");
        assert.strictEqual(await describedClusterId(), clusterId, "the cluster id clients see is unchanged");
        assert.strictEqual(/"id":"([^"]+)"/.exec(await znode("/cluster/id"))?.[1], clusterId, "ZooKeeper's cluster id unchanged");
        await loginsAndAcls("in phase C");
        assert.strictEqual(await client.recordCount(bootstrap, "orders"), WRITTEN, "orders holds what it held");
        const after = await groupOffsets();
        assert.deepStrictEqual([...after].sort((a, b) => a[0] - b[0]), [...groupBefore].sort((a, b) => a[0] - b[0]), "orders-g's CURRENT-OFFSET per partition unchanged");
        const ends = await endOffsets("orders");
        const rows = await consumeOrders(WRITTEN - COMMITTED);
        // Per partition, the group resumed exactly at its committed offset and read on to the end (a partition it had
        // consumed to its end gives nothing).
        for (const [p, committed] of groupBefore) {
            const offsets = rows.filter((r) => r.partition === p).map((r) => r.offset).sort((a, b) => a - b);
            assert.ok(ends.get(p)! >= committed, `partition ${p}: end offset ${ends.get(p)} below the committed ${committed}`);
            assert.deepStrictEqual(offsets, [...Array(ends.get(p)! - committed).keys()].map((i) => committed + i),
                `partition ${p}: the group resumed at its committed offset ${committed} and read to the end ${ends.get(p)}`);
        }
        const values = new Set(rows.map((r) => r.value));
        assert.strictEqual(values.size, WRITTEN - COMMITTED, "the rest of the topic, each record once");
        assert.deepStrictEqual([...values].filter((v) => consumedBefore.has(v)), [], "nothing consumed before came again");
        const all = new Set([...consumedBefore, ...values]);
        assert.deepStrictEqual([...Array(WRITTEN).keys()].map(String).filter((v) => !all.has(v)), [], "the two halves are every record written");
        const end = await groupOffsets();
        assert.strictEqual([...end.values()].reduce((a, b) => a + b, 0), WRITTEN, "orders-g committed the end of the topic");
        groupNow = end;
        // More records behind the group's committed offsets, for the later phases to resume over.
        await moreOrders();
    });

    it("a second pulumi up restarts nothing (kafka, kafka-controller, zookeeper) and the cluster stays in phase C", async () => {
        const before = await allStates();
        const { result, ops } = await timed("second pulumi up (phase C, nothing to do)", () => upWithOps(stack));
        log(`second up: ${JSON.stringify(Object.fromEntries(ops))}`);
        assert.deepStrictEqual(await allStates(), before, "no service restarted");
        // For the record (the contract is about restarts): what a preview would still change after it.
        log(`after the second up, a preview would change: ${JSON.stringify(await pendingChanges(stack))}`);
        assert.match(String(result.outputs.metadataMigration.value), /^phase C/);
        for (const n of nodes) {
            assert.strictEqual((await ssh.exec(n.sshAddress, "systemctl is-active kafka-controller kafka zookeeper", 10_000)).stdout.trim(), "active\nactive\nactive");
        }
    });

    /** Each phase's `pulumi up` under load, for the later checks of that phase. */
    const phases: Record<string, Window> = {};
    /** A phase's duration and peak URP, as one line of the log. */
    const figures = (what: string, w: Window) => log(`[phase] ${what}: ${w.seconds.toFixed(1)} s, peak URP ${Math.max(...w.samples.map((s) => s.urp ?? 0))}`);

    it("rollback from phase C: pulumi config rm kafka:metadata and pulumi up under an acks=all producer, back to ZooKeeper mode with nothing lost", async () => {
        // ZooKeeper mode refuses the KRaft controller setting (kafka:controllerHeap): it goes with kafka:metadata.
        const { metadata: _m, controllerHeap: _h, ...zk } = raw;
        const w = (phases.rollback = await upUnderLoad("rollback from phase C", "rollback-load", zk));
        figures("rollback from phase C", w);
        assert.strictEqual(w.result.outputs.metadataMigration.value, "ZooKeeper mode");
        for (const n of nodes) {
            const server = await ssh.must(n.sshAddress, `sudo -n cat ${PATHS.configDir}/server.properties`);
            assert.match(server, new RegExp(`^broker\\.id=${n.brokerId}$`, "m"), `${n.name}: broker.id`);
            assert.match(server, /^zookeeper\.connect=/m, `${n.name}: a ZooKeeper-mode broker again`);
            assert.doesNotMatch(server, /^zookeeper\.metadata\.migration\.enable=/m, `${n.name}: out of migration mode`);
            assert.doesNotMatch(server, /^process\.roles=/m, `${n.name}: not a KRaft broker`);
            assert.strictEqual((await ssh.exec(n.sshAddress, "systemctl is-active kafka zookeeper", 10_000)).stdout.trim(), "active\nactive", `${n.name}: broker and ZooKeeper run`);
            assert.notStrictEqual((await ssh.exec(n.sshAddress, "systemctl is-active kafka-controller", 10_000)).stdout.trim(), "active", `${n.name}: no controller runs`);
            assert.strictEqual((await ssh.exec(n.sshAddress, `sudo -n test -e ${PATHS.configDir}/controller.properties && echo present || echo gone`, 10_000)).stdout.trim(),
                "gone", `${n.name}: controller.properties removed`);
        }
        assert.strictEqual(await poll("the brokers registered in ZooKeeper again", 60_000, async () => {
            const ids = await registeredInZookeeper();
            return ids === "[1, 2, 3]" ? ids : undefined;
        }), "[1, 2, 3]");
        const holder = await poll("a ZooKeeper-mode broker holds /controller", 60_000, async () => {
            const id = Number(/"brokerid":(-?\d+)/.exec(await znode("/controller").catch(() => ""))?.[1]);
            return Number.isInteger(id) && id < 3000 ? id : undefined;
        });
        assert.ok(nodes.some((n) => n.brokerId === holder), `/controller is held by a broker (${holder})`);
        log(`after the rollback: /controller held by broker ${holder}`);
        assert.strictEqual(await znodeExists("/migration"), false, "/migration deleted");
        const spells = await oneAtATime("rollback", "kafka", w, true);
        for (const n of nodes) assert.ok(spells.some((s) => s.host === n.name), `${n.name}: the broker restarted into ZooKeeper mode`);
        log(`rollback: ${spells.length} broker restarts; controller down spells ${(await downSpells("kafka-controller", w.sinceS)).map((s) => s.host).join(", ")}`);
        assert.strictEqual(/"id":"([^"]+)"/.exec(await znode("/cluster/id"))?.[1], clusterId, "ZooKeeper's cluster id unchanged");
        await survived("after the rollback");
        // A topic created in ZooKeeper mode, for the second migration to copy.
        await client.must("kafka-topics.sh", ["--bootstrap-server", bootstrap, "--create", "--topic", "after-rollback", "--partitions", "1", "--replication-factor", "3"]);
        afterRollback = [...Array(5).keys()].map((i) => `after-rollback-${i}-${Date.now()}`);
        await client.must("kafka-console-producer.sh", ["--bootstrap-server", bootstrap, "--topic", "after-rollback", "--producer-property", "acks=all"],
            120_000, afterRollback.join("\n") + "\n");
        assert.strictEqual(await client.recordCount(bootstrap, "after-rollback"), afterRollback.length, "after-rollback holds its records");
    });

    /** after-rollback's records, read from the beginning. */
    async function afterRollbackRecords(): Promise<string[]> {
        const out = await client.must("kafka-console-consumer.sh", ["--bootstrap-server", bootstrap, "--topic", "after-rollback", "--from-beginning",
            "--max-messages", String(afterRollback.length), "--timeout-ms", "60000"], 120_000);
        return out.split("\n").map((l) => l.trim()).filter((l) => l.startsWith("after-rollback-"));
    }

    it("migrate again: kafka:metadata kraft and pulumi up under an acks=all producer, phase C again with after-rollback copied", async () => {
        assert.ok(afterRollback.length > 0, "the rollback's check wrote after-rollback");
        const w = (phases.again = await upUnderLoad("migration again", "remigration-load", { ...raw, metadata: "kraft", controllerHeap: "256m" }));
        figures("migration again", w);
        assert.match(String(w.result.outputs.metadataMigration.value), /^phase C/, `metadataMigration: ${w.result.outputs.metadataMigration.value}`);
        for (const n of nodes) {
            assert.strictEqual((await ssh.exec(n.sshAddress, "systemctl is-active kafka-controller kafka zookeeper", 10_000)).stdout.trim(),
                "active\nactive\nactive", `${n.name}: controller, broker and ZooKeeper member run`);
            const server = await ssh.must(n.sshAddress, `sudo -n cat ${PATHS.configDir}/server.properties`);
            assert.match(server, /^process\.roles=broker$/m, `${n.name}: the broker in KRaft mode`);
            assert.doesNotMatch(server, /^zookeeper\.connect=/m, `${n.name}: the broker no longer uses ZooKeeper`);
            const controller = await ssh.must(n.sshAddress, `sudo -n cat ${PATHS.configDir}/controller.properties`);
            assert.match(controller, /^zookeeper\.metadata\.migration\.enable=true$/m, `${n.name}: the controller in migration mode`);
        }
        const mig = await znode("/migration");
        assert.ok(Number(/"kraft_metadata_offset":(-?\d+)/.exec(mig)?.[1]) >= 0, `the metadata was copied again: ${mig}`);
        assert.strictEqual(await registeredInZookeeper(), "[]", "no broker registered in ZooKeeper");
        const spells = await oneAtATime("migration again", "kafka", w, true);
        for (const n of nodes) {
            const count = spells.filter((s) => s.host === n.name).length;
            assert.ok(count >= 2, `${n.name}: the broker restarted ${count} time(s); phase B and phase C each need one`);
        }
        const topics = await client.must("kafka-topics.sh", ["--bootstrap-server", bootstrap, "--describe", "--topic", "after-rollback"], 120_000);
        assert.match(topics, /ReplicationFactor: 3/, `after-rollback came over with RF 3: ${topics}`);
        assert.deepStrictEqual(await afterRollbackRecords(), afterRollback, "after-rollback's records, in order");
        await survived("phase C again");
    });

    it("finalize: kafka:zookeeperRetired true and pulumi up under an acks=all producer; controllers out of migration mode, ZooKeeper stopped", async () => {
        const w = (phases.finalize = await upUnderLoad("finalize", "finalize-load", { ...raw, zookeeperRetired: true }));
        figures("finalize", w);
        assert.match(String(w.result.outputs.metadataMigration.value), /^finalized/, `metadataMigration: ${w.result.outputs.metadataMigration.value}`);
        assert.strictEqual(w.result.outputs.zookeeperConnect.value, "", "zookeeperConnect is empty");
        const completed: string[] = [];
        for (const n of nodes) {
            const controller = await ssh.must(n.sshAddress, `sudo -n cat ${PATHS.configDir}/controller.properties`);
            assert.doesNotMatch(controller, /^zookeeper\.metadata\.migration\.enable=true$/m, `${n.name}: the controller out of migration mode`);
            assert.doesNotMatch(controller, /^zookeeper\.connect=/m, `${n.name}: the controller no longer uses ZooKeeper`);
            assert.strictEqual((await ssh.exec(n.sshAddress, "systemctl is-active kafka-controller kafka", 10_000)).stdout.trim(), "active\nactive", `${n.name}: controller and broker run`);
            assert.notStrictEqual((await ssh.exec(n.sshAddress, "systemctl is-active zookeeper", 10_000)).stdout.trim(), "active", `${n.name}: ZooKeeper stopped`);
            assert.notStrictEqual((await ssh.exec(n.sshAddress, "systemctl is-enabled zookeeper", 10_000)).stdout.trim(), "enabled", `${n.name}: ZooKeeper disabled`);
            const listening = await ssh.must(n.sshAddress, "ss -ltnH");
            assert.ok(listening.trim().length > 0, `${n.name}: ss lists listening sockets`);
            assert.doesNotMatch(listening, /:2181\s/, `${n.name}: nothing listens on 2181: ${listening}`);
            const lines = (await ssh.exec(n.sshAddress, `sudo -n sh -c 'grep -hE "Completing the ZK migration|POST_MIGRATION" ${PATHS.controllerLogs}/controller.log*'`, 30_000)).stdout
                .split("\n").filter(Boolean);
            if (lines.length) completed.push(`${n.name}: ${lines[lines.length - 1].slice(0, 300)}`);
        }
        log(`the migration's completion in the controllers' logs:\n  ${completed.join("\n  ") || "none"}`);
        assert.ok(completed.length > 0, "a controller's controller.log says it completed the migration");
        await oneAtATime("finalize", "kafka", w, true);
        await oneAtATime("finalize", "kafka-controller", w, false);
        await survived("after finalizing");
    });

    it(`Kafka ${TO}: kafka:kafkaVersion ${TO} and pulumi up under an acks=all producer; every node on ${TO}, metadata.version 4.3-IV0, kraft.version 0`, async () => {
        const w = (phases.upgrade = await upUnderLoad(`${VERSION} -> ${TO}`, "upgrade-load", { ...raw, kafkaVersion: TO }));
        figures(`${VERSION} -> ${TO}`, w);
        for (const n of nodes) {
            for (const link of [PATHS.current, PATHS.controllerCurrent]) {
                assert.strictEqual((await ssh.must(n.sshAddress, `readlink ${link}`)).trim(), `kafka_2.13-${TO}`, `${n.name}: ${link}`);
            }
            for (const svc of ["kafka", "kafka-controller"]) {
                assert.deepStrictEqual(await runningReleases(n, svc), [`kafka_2.13-${TO}`], `${n.name}: ${svc}'s process runs ${TO}'s jars`);
            }
        }
        // Kafka's own tool of the new release on a broker, with the admin login the program keeps there.
        const features = await ssh.must(nodes[0].sshAddress, `sudo -n env LOG_DIR=${PATHS.toolsLogDir} KAFKA_HEAP_OPTS=-Xmx128m KAFKA_JMX_OPTS=-Dx=1 ` +
            `${PATHS.current}/bin/kafka-features.sh --bootstrap-server ${bootstrap} --command-config ${PATHS.adminConfig} describe`, 120_000);
        log(`features after ${TO}:\n${features.trim()}`);
        assert.match(features, /Feature: metadata\.version\s.*FinalizedVersionLevel: 4\.3-IV0\b/, "metadata.version 4.3-IV0 finalized");
        assert.strictEqual(/Feature: kraft\.version\s.*FinalizedVersionLevel: (\d+)/.exec(features)?.[1], "0", "kraft.version still 0");
        await oneAtATime(`${VERSION} -> ${TO}`, "kafka", w, true);
        await oneAtATime(`${VERSION} -> ${TO}`, "kafka-controller", w, false);
        await survived(`on ${TO}`);
        const before = await allStates();
        const { ops } = await timed(`a last pulumi up (${TO}, nothing to do)`, () => upWithOps(stack));
        log(`last up: ${JSON.stringify(Object.fromEntries(ops))}`);
        const after = await allStates();
        assert.deepStrictEqual({ kafka: after.kafka, controller: after.controller }, { kafka: before.kafka, controller: before.controller }, "no broker or controller restarted");
        log(`phases: ${Object.entries(phases).map(([k, v]) => `${k} ${v.seconds.toFixed(1)} s`).join(", ")}`);
    });
});
