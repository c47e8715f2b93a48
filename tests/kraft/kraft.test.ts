// Real hosts, KRaft (kafka:metadata kraft): `pulumi up` (Automation API, the real engine) builds a cluster on Kafka 4.x
// on three local systemd hosts of lab test4: three brokers, three controllers each a process of its own next to them,
// SASL_SSL with a client user and ACLs. Then: the quorum, a 10,000-message round trip, ACL denials, faults under load
// (the active controller and a broker killed, a host rebooted), a no-op `up`, a rolling setting change, a version
// change within 4.x with the feature levels finalized, and `pulumi destroy`. A fourth host is the monitoring host
// (kafka:monitoring): Prometheus, Alertmanager, alerts that fire and resolve, consumer lag, the overview page in headless
// Chromium. Nothing here is mocked.
import * as assert from "assert";
import * as http from "http";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { ClusterConfig, RawConfig, parseConfig } from "../../components/config";
import { PATHS, PORTS } from "../../components/layout";
import { ClusterNode, controllerNodes, hostNodes } from "../../components/topology";
import { LABS, LAB_JVM_OPTIONS, LocalEnv, Ssh, freshHostsUp, hostsDown, kafkaDist, localStackConfig, log, mavenDist } from "../../scripts/lib/local";
import { setStackConfig } from "../../scripts/lib/pulumi";
import { commandStates, disposeStack, freshStack, pendingChanges, upWithOps } from "../support/engine";
import { KafkaClient } from "../support/kafka";
import { Acked, acked, consumeTopic, urpBackToZero, writesUnderLoad } from "../support/load";
import { poll } from "../support/poll";
import { runBounded } from "../support/process";
import { scrape, values } from "../support/metrics";
import { webGet, webJson } from "../support/monitoring";
import { StopTimes, assertRolled, assertStoppedAndDisabled, serviceStates, stopTimes, urpMonitor } from "../support/rolling";
import { stopwatch } from "../support/timing";

const { timed, summary } = stopwatch();
const LAB = LABS.kraft;
/** The release the suite starts on, and the one its version change moves to. */
const FROM = "4.2.2";
const TO = "4.3.2";

describe("real hosts, KRaft: pulumi up of a Kafka 4.x cluster with controllers on three local systemd hosts", function () {
    let env: LocalEnv;
    let ssh: Ssh;
    let raw: RawConfig;
    let cfg: ClusterConfig;
    let nodes: ClusterNode[];
    let stack: Stack;
    let client: KafkaClient;
    let bootstrap: string;
    let outputs: Record<string, { value: any; secret: boolean }>;
    /** The monitoring host (the fourth lab host: role monitoring only). */
    let monHost: ClusterNode;
    /** kafka:alertWebhookUrl's receiver: a server on the lab's bridge address, keeping every notification Alertmanager posts. */
    let webhook: http.Server | undefined;
    const notifications: { status: string; alerts: { status: string; labels: Record<string, string> }[] }[] = [];

    /** kafka-metadata-quorum on a controller host, through the controllers' listener with that host's certificate. */
    async function quorum(what: "--status" | "--replication", on: ClusterNode = nodes[0]): Promise<string> {
        const q = controllerNodes(nodes).map((n) => `${n.privateAddress}:${PORTS.controller}`).join(",");
        return ssh.must(on.sshAddress, `sudo -n env LOG_DIR=${PATHS.toolsLogDir} KAFKA_JMX_OPTS=-Dx=1 ${PATHS.controllerCurrent}/bin/kafka-metadata-quorum.sh ` +
            `--bootstrap-controller ${q} --command-config ${PATHS.controllerClientConfig} describe ${what}`, 120_000);
    }
    const leaderId = async () => Number(/^LeaderId:\s+(-?\d+)/m.exec(await quorum("--status"))?.[1]);
    const voters = async () => [...(/^CurrentVoters:\s+(.*)$/m.exec(await quorum("--status"))?.[1] ?? "").matchAll(/"id":\s*(\d+)/g)].map((m) => Number(m[1])).sort();
    const mainPid = async (n: ClusterNode, svc: string) => Number((await ssh.must(n.sshAddress, `systemctl show -p MainPID --value ${svc}`)).trim());
    const consumeAll = (topic: string, want: number) => consumeTopic(client, bootstrap, topic, want);
    const underLoad = (topic: string, fault: (ackedSoFar: () => number) => Promise<void>) => writesUnderLoad(client, bootstrap, topic, fault);
    const urpZero = (what: string) => urpBackToZero(client, bootstrap, what);
    async function quorumHealthy(what: string) {
        await poll(`${what}: a leader and three voters caught up`, 180_000, async () => {
            const [status, replication] = [await quorum("--status"), await quorum("--replication")];
            const leader = Number(/^LeaderId:\s+(-?\d+)/m.exec(status)?.[1]);
            const lags = replication.split("\n").filter((l) => /\s(Leader|Follower)\s*$/.test(l)).map((l) => Number(l.trim().split(/\s+/)[3]));
            return leader >= 0 && lags.length === 3 && lags.every((x) => x <= 100);
        }, 3000);
    }

    before(async () => {
        const start = Date.now();
        await timed("setup: Kafka tarballs and the JMX exporter agent from Maven Central", async () => { kafkaDist(FROM); kafkaDist(TO); mavenDist(); });
        env = await timed("setup: image, apt repository and 4 hosts", () => freshHostsUp(4, LAB));
        ssh = new Ssh(env);
        webhook = http.createServer((req, res) => {
            let body = "";
            req.on("data", (c) => (body += c));
            req.on("end", () => { try { notifications.push(JSON.parse(body)); } catch { /* kept out */ } res.end("ok"); });
        });
        await new Promise<void>((resolve) => webhook!.listen(0, env.bridgeAddress, resolve));
        const hookUrl = `http://${env.bridgeAddress}:${(webhook.address() as { port: number }).port}/alerts`;
        const base = localStackConfig(env, 3, {
            metadata: "kraft", kafkaVersion: FROM, controllerHeap: "256m",
            clientUsers: ["app"], acls: { app: { read: ["app-*"], write: ["app-*"], groups: ["app-*"] } },
            // Monitoring from the first up: every broker and controller JVM carries the JMX exporter agent; the fourth
            // host is the monitoring host. Short windows, so that alerts fire within the test's minutes.
            monitoring: true, mavenUrl: env.mavenUrl, monitoringScrapeInterval: "10s", alertAfter: "30s", consumerLagAlert: 100, alertWebhookUrl: hookUrl,
        });
        raw = { ...base, hosts: [...(base.hosts as object[]), { id: 4, address: env.hosts[3].address, roles: ["monitoring"] }] };
        cfg = parseConfig(raw, "kraft-test");
        if (cfg.mode !== "hosts") throw new Error("the KRaft suite runs existing-hosts mode");
        nodes = hostNodes(cfg).filter((n) => !n.roles.includes("monitoring"));
        monHost = hostNodes(cfg).find((n) => n.roles.includes("monitoring"))!;
        client = new KafkaClient(kafkaDist(TO));
        stack = await timed("setup: engine and stack", () => freshStack("kraft-test", raw));
        log(`[timing] setup phase total: ${((Date.now() - start) / 1000).toFixed(1)} s`);
    });

    afterEach(async function () {
        if (this.currentTest?.state !== "failed" || !nodes) return;
        for (const n of nodes) {
            const r = await ssh.exec(n.sshAddress, "sudo -n journalctl -u kafka-controller -u kafka --no-pager -o short-monotonic --since -15min | " +
                "grep -E '\\] (WARN|ERROR|FATAL) |systemd\\[1\\]:' | tail -n 60", 30_000);
            log(`--- journal of ${n.name} (${n.sshAddress}) ---\n${r.stdout}${r.stderr}`);
        }
    });

    after(async () => {
        try {
            if (stack) await disposeStack(stack);
        } finally {
            await client?.close();
            webhook?.close();
            if (process.env.KEEP_HOSTS !== "1") hostsDown(LAB);
        }
        log(`[timing] summary: ${summary()}`);
    });

    it(`pulumi up from empty: Kafka ${FROM}, three controllers (processes of their own) in one quorum, brokers, smoke test`, async () => {
        const { result } = await timed("provision: pulumi up (KRaft)", () => upWithOps(stack));
        outputs = result.outputs;
        bootstrap = outputs.bootstrapServers.value;
        assert.strictEqual(bootstrap, nodes.map((n) => `${n.clientAddress}:9096`).join(","));
        assert.strictEqual(outputs.zookeeperConnect.value, "");
        assert.strictEqual(outputs.controllerQuorum.value, nodes.map((n) => `${n.privateAddress}:${PORTS.controller}`).join(","));
        client.login(outputs.clientProperties.value.admin);
        assert.match(outputs.smokeTest.value, /smoke test ok: topic with replication 3 and min\.insync\.replicas 2/);
        const state = await commandStates(stack);
        assert.match(String(state.get("cluster-quorum")!.outputs.stdout), /quorum ok: leader 300[123], voters \[3001,3002,3003\] caught up/);
        assert.match(String(state.get("cluster-brokers")!.outputs.stdout), /brokers ok: ids \[1,2,3\] registered in the KRaft metadata/);
        assert.deepStrictEqual(await voters(), [3001, 3002, 3003]);
        for (const n of nodes) {
            const [controller, broker] = [await mainPid(n, "kafka-controller"), await mainPid(n, "kafka")];
            assert.ok(controller > 0 && broker > 0 && controller !== broker, `${n.name}: controller and broker are two processes`);
            const props = await ssh.must(n.sshAddress, `sudo -n cat ${PATHS.configDir}/controller.properties ${PATHS.configDir}/server.properties`);
            assert.match(props, new RegExp(`^node\\.id=${n.controllerId}$`, "m"));
            assert.match(props, new RegExp(`^node\\.id=${n.brokerId}$`, "m"));
            assert.doesNotMatch(props, /zookeeper\.connect/);
            const meta = await ssh.must(n.sshAddress, `sudo -n cat ${PATHS.controllerLogDir}/meta.properties ${PATHS.kafkaLogDirs}/meta.properties`);
            const ids = [...meta.matchAll(/^cluster\.id=(\S+)$/gm)].map((m) => m[1]);
            assert.strictEqual(ids.length, 2);
            assert.strictEqual(ids[0], ids[1], "controller and broker storage formatted for one cluster id");
        }
    });

    it("kafka:monitoring: every broker and controller serves its metrics on the private address (URP 0, one active controller, the Raft leader); only the service JVMs carry the agent", async () => {
        let active = 0;
        let messagesIn = 0;
        const leaders = new Set<number>();
        for (const n of nodes) {
            const broker = await scrape(n.privateAddress, PORTS.brokerMetrics);
            const controller = await scrape(n.privateAddress, PORTS.controllerMetrics);
            assert.deepStrictEqual(values(broker, "kafka_server_replicamanager_underreplicatedpartitions"), [0], `${n.name}: broker URP`);
            assert.deepStrictEqual(values(broker, "kafka_server_replicamanager_underminisrpartitioncount"), [0], `${n.name}: broker under min ISR`);
            assert.deepStrictEqual(values(broker, "kafka_log_logmanager_offlinelogdirectorycount"), [0], `${n.name}: offline log directories`);
            assert.strictEqual(values(broker, "kafka_network_requestmetrics_totaltimems", { request: "Produce", quantile: "0.99" }).length, 1, `${n.name}: produce p99`);
            messagesIn += values(broker, "kafka_server_brokertopicmetrics_messagesin_total").reduce((a, b) => a + b, 0);
            assert.ok(values(broker, "jvm_memory_used_bytes", { area: "heap" })[0] > 0, `${n.name}: the broker's JVM metrics`);
            active += values(controller, "kafka_controller_kafkacontroller_activecontrollercount").reduce((a, b) => a + b, 0);
            assert.deepStrictEqual(values(controller, "kafka_controller_kafkacontroller_offlinepartitionscount"), [0], `${n.name}: offline partitions`);
            for (const v of [...values(controller, "kafka_server_raft_metrics_current_leader"), ...values(broker, "kafka_server_raft_metrics_current_leader")]) leaders.add(v);
            // The agent is in exactly the two service JVMs, each its unit's main process.
            const agents = (await ssh.must(n.sshAddress, "ps -eo pid=,args= | grep -F -- -javaagent: | grep -v grep || true")).trim().split("\n").filter(Boolean)
                .map((l) => Number(l.trim().split(/\s+/)[0])).sort((a, b) => a - b);
            assert.deepStrictEqual(agents, [await mainPid(n, "kafka-controller"), await mainPid(n, "kafka")].sort((a, b) => a - b), `${n.name}: JVMs with the agent`);
            // kafka:jvmPerformanceOptions replaced Kafka's G1 defaults in both service JVMs.
            for (const svc of ["kafka-controller", "kafka"]) {
                const cmdline = await ssh.must(n.sshAddress, `sudo -n cat /proc/${await mainPid(n, svc)}/cmdline | tr '\\0' ' '`);
                assert.ok(cmdline.includes(` ${LAB_JVM_OPTIONS} `) && !cmdline.includes("UseG1GC"), `${n.name}: ${svc}'s JVM options: ${cmdline}`);
            }
        }
        assert.strictEqual(active, 1, "exactly one controller reports itself active");
        assert.ok(messagesIn > 0, "the brokers counted the smoke test's messages");
        assert.deepStrictEqual([...leaders], [await leaderId()], "every node names the quorum's leader");
        log(`monitoring: 6 exporters answered; active controller ${await leaderId()}`);
    });

    /** The stack output `monitoring`'s login, the CA, and a GET of the monitoring host's Prometheus or Alertmanager API. */
    const monitoringOut = () => outputs.monitoring.value as { prometheusUrl: string; alertmanagerUrl: string; overviewUrl: string; user: string; password: string };
    const auth = () => `${monitoringOut().user}:${monitoringOut().password}`;
    const prometheus = <T = any>(p: string) => webJson<T>(`${monitoringOut().prometheusUrl}${p}`, outputs.caCertificate.value, auth());
    const query = async (q: string) => (await prometheus<{ data: { result: { metric: Record<string, string>; value: [number, string] }[] } }>(
        `/api/v1/query?query=${encodeURIComponent(q)}`)).data.result;
    /** Alertmanager's active alerts: alertname -> the `node` (or group) labels it fires for. */
    async function firing(): Promise<Map<string, string[]>> {
        const alerts = await webJson<{ labels: Record<string, string>; status: { state: string } }[]>(
            `${monitoringOut().alertmanagerUrl}/api/v2/alerts?active=true&silenced=false&inhibited=false`, outputs.caCertificate.value, auth());
        const out = new Map<string, string[]>();
        for (const a of alerts.filter((x) => x.status.state === "active")) {
            out.set(a.labels.alertname, [...(out.get(a.labels.alertname) ?? []), a.labels.node ?? a.labels.group ?? ""].sort());
        }
        return out;
    }

    it("monitoring host: Prometheus scrapes every broker, controller and node exporter; URP 0 per broker; the UIs refuse no password, a wrong one and plain HTTP", async () => {
        const out = monitoringOut();
        assert.strictEqual(out.prometheusUrl, `https://${monHost.clientAddress}:${PORTS.prometheus}`);
        assert.strictEqual(outputs.monitoring.secret, true, "the output carries the password: a secret");
        const jobs = await poll("every target up", 180_000, async () => {
            const r = await prometheus<{ data: { activeTargets: { labels: Record<string, string>; health: string }[] } }>("/api/v1/targets");
            const t = r.data.activeTargets;
            return t.length === 10 && t.every((x) => x.health === "up") ? t : undefined;
        }, 5000);
        const byJob = (job: string) => jobs.filter((t) => t.labels.job === job).map((t) => t.labels.node).sort();
        assert.deepStrictEqual(byJob("kafka-broker"), ["host-1", "host-2", "host-3"]);
        assert.deepStrictEqual(byJob("kafka-controller"), ["host-1", "host-2", "host-3"]);
        assert.deepStrictEqual(byJob("node"), ["host-1", "host-2", "host-3", "host-4"]);
        const urp = await query("kafka_server_replicamanager_underreplicatedpartitions");
        assert.deepStrictEqual(urp.map((r) => [r.metric.node, r.value[1]]).sort(), [["host-1", "0"], ["host-2", "0"], ["host-3", "0"]]);
        // Refusals: no password, a wrong one (401 from both servers), plain HTTP on the TLS port (no data).
        for (const url of [`${out.prometheusUrl}/api/v1/targets`, `${out.alertmanagerUrl}/api/v2/alerts`]) {
            assert.strictEqual((await webGet(url, { ca: outputs.caCertificate.value })).status, 401, `${url} without a password`);
            assert.strictEqual((await webGet(url, { ca: outputs.caCertificate.value, auth: `${out.user}:wrong-password` })).status, 401, `${url} with a wrong password`);
            const plain = await webGet(url.replace("https:", "http:"), { auth: auth() }).catch((e: Error) => ({ status: 0, body: e.message }));
            assert.ok(plain.status !== 200 && !/"status":"success"|activeTargets|"labels"/.test(plain.body), `${url} over plain HTTP answered ${plain.status}: ${plain.body.slice(0, 200)}`);
        }
        // Every node's exporter is on its private address only, the web servers on the monitoring host.
        assert.match(await ssh.must(monHost.sshAddress, "systemctl is-active prometheus prometheus-alertmanager prometheus-node-exporter kafka-consumer-lag.timer"),
            /^active\nactive\nactive\nactive$/m);
        log(`monitoring: ${jobs.length} targets up; URP ${urp.map((r) => r.value[1]).join("/")}`);
    });

    it("alerts: one broker stopped -> KafkaBrokerDown and KafkaUnderReplicatedPartitions firing in Alertmanager within 3 minutes; started again -> both resolved; the webhook (kafka:alertWebhookUrl) got both notifications", async () => {
        const victim = nodes[2];
        assert.deepStrictEqual([...(await firing()).keys()].filter((a) => /Broker|UnderReplicated/.test(a)), [], "nothing firing before");
        const t0 = Date.now();
        await ssh.must(victim.sshAddress, "sudo -n systemctl stop kafka");
        let firedAfter = 0;
        try {
            const alerts = await poll("broker down and URP alerts firing", 180_000, async () => {
                const f = await firing();
                return f.get("KafkaBrokerDown")?.includes(victim.name) && (f.get("KafkaUnderReplicatedPartitions")?.length ?? 0) > 0 ? f : undefined;
            }, 5000);
            firedAfter = (Date.now() - t0) / 1000;
            assert.ok(!alerts.get("KafkaUnderReplicatedPartitions")!.includes(victim.name), "URP is reported by the brokers still running");
        } finally {
            await ssh.must(victim.sshAddress, "sudo -n systemctl start kafka");
        }
        const t1 = Date.now();
        await poll("both alerts resolved", 300_000, async () => {
            const f = await firing();
            return !f.has("KafkaBrokerDown") && !f.has("KafkaUnderReplicatedPartitions");
        }, 5000);
        log(`alerts: firing ${firedAfter.toFixed(0)} s after the stop, resolved ${((Date.now() - t1) / 1000).toFixed(0)} s after the start`);
        // kafka:alertWebhookUrl: Alertmanager posted the broker's down alert, firing and then resolved.
        const posted = (status: string) => notifications.some((n) => n.alerts.some((a) => a.labels.alertname === "KafkaBrokerDown" && a.labels.node === victim.name && a.status === status));
        await poll("the webhook got KafkaBrokerDown firing and resolved", 120_000, async () => posted("firing") && posted("resolved"), 2000);
        await urpZero("after the broker came back");
    });

    it("consumer lag: a group that stops consuming under a producer fires KafkaConsumerLag (collector on the monitoring host)", async () => {
        const login = client.propertiesFile("app-lag", outputs.clientProperties.value.app);
        const produce = (n: number, from: number) => client.must("kafka-console-producer.sh", ["--bootstrap-server", bootstrap, "--topic", "app-lag", "--producer-property", "acks=all"],
            120_000, Array.from({ length: n }, (_, i) => `m${from + i}`).join("\n") + "\n", login);
        await client.must("kafka-topics.sh", ["--bootstrap-server", bootstrap, "--create", "--if-not-exists", "--topic", "app-lag", "--partitions", "3", "--replication-factor", "3"]);
        await produce(50, 0);
        await client.must("kafka-console-consumer.sh", ["--bootstrap-server", bootstrap, "--topic", "app-lag", "--group", "app-lag-g", "--from-beginning",
            "--max-messages", "50", "--timeout-ms", "60000"], 180_000, undefined, login);
        // The group stops; the producer goes on.
        await produce(400, 50);
        const t0 = Date.now();
        const lag = await poll("KafkaConsumerLag firing for app-lag-g", 240_000, async () => ((await firing()).get("KafkaConsumerLag")?.includes("app-lag-g") ? true : undefined), 5000);
        assert.ok(lag);
        const series = await query("kafka_consumergroup_lag{group='app-lag-g'}");
        assert.deepStrictEqual(series.map((r) => [r.metric.topic, r.value[1]]), [["app-lag", "400"]]);
        log(`lag: alert firing ${((Date.now() - t0) / 1000).toFixed(0)} s after the producer's last write; lag ${series[0].value[1]}`);
    });

    it("the overview page (Prometheus console) in headless Chromium: brokers and controllers up, URP 0, the controller, the group's lag and the firing lag alert; screenshot kept", async () => {
        const page = await webGet(monitoringOut().overviewUrl, { ca: outputs.caCertificate.value, auth: auth() });
        assert.strictEqual(page.status, 200, page.body.slice(0, 300));
        assert.strictEqual((await webGet(monitoringOut().overviewUrl, { ca: outputs.caCertificate.value })).status, 401, "the page needs the password too");
        const dir = path.join(process.cwd(), "test-output", "kraft");
        fs.mkdirSync(dir, { recursive: true });
        const html = path.join(dir, "overview.html");
        fs.writeFileSync(html, page.body);
        const png = path.join(dir, "overview.png");
        fs.rmSync(png, { force: true });
        const profile = fs.mkdtempSync(path.join(os.tmpdir(), "kc-chromium-"));
        const chromium = (args: string[]) => runBounded("chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-extensions", `--user-data-dir=${profile}`, ...args, `file://${html}`], 120_000);
        try {
            const shot = await chromium(["--window-size=900,1100", "--hide-scrollbars", `--screenshot=${png}`]);
            assert.ok(!shot.timedOut, `chromium did not finish the screenshot within 120 s: ${shot.stderr.slice(-500)}`);
            assert.ok(fs.existsSync(png) && fs.statSync(png).size > 10_000, `chromium made no screenshot: ${shot.stderr.slice(-500)}`);
            const png8 = fs.readFileSync(png);
            assert.strictEqual(png8.subarray(1, 4).toString(), "PNG");
            assert.deepStrictEqual([png8.readUInt32BE(16), png8.readUInt32BE(20)], [900, 1100], "the screenshot's size");
            // What Chromium rendered: the page's text after layout.
            const dumped = await chromium(["--dump-dom"]);
            assert.ok(!dumped.timedOut, `chromium did not dump the page within 120 s: ${dumped.stderr.slice(-500)}`);
            const dom = dumped.stdout;
            const cell = (id: string) => new RegExp(`id="${id}">([^<]*)<`).exec(dom)?.[1]?.trim();
            assert.strictEqual(cell("brokers-up"), "3 / 3");
            assert.strictEqual(cell("quorum-up"), "3 / 3");
            assert.strictEqual(cell("under-replicated"), "0");
            assert.strictEqual(cell("offline"), "0");
            assert.match(cell("controller") ?? "", /^host-[123]$/);
            assert.match(dom, /<td>app-lag-g<\/td><td>app-lag<\/td><td>400<\/td>/);
            assert.match(dom, /<td>KafkaConsumerLag<\/td>/);
            assert.match(dom, /<td>host-4<\/td><td>\/<\/td><td>\d+%<\/td>/);
            log(`overview page: screenshot ${png} (${fs.statSync(png).size} bytes)`);
        } finally {
            fs.rmSync(profile, { recursive: true, force: true });
        }
    });

    it("a no-op pulumi up runs no command and restarts nothing", async () => {
        const addrs = nodes.map((n) => n.sshAddress);
        const before = [await serviceStates(ssh, addrs, "kafka"), await serviceStates(ssh, addrs, "kafka-controller")];
        assert.deepStrictEqual(await pendingChanges(stack), []);
        const { ops } = await timed("no-op pulumi up (KRaft)", () => upWithOps(stack));
        assert.deepStrictEqual([...ops.keys()], ["same"]);
        assert.deepStrictEqual([await serviceStates(ssh, addrs, "kafka"), await serviceStates(ssh, addrs, "kafka-controller")], before);
    });

    it("kafka:metadata zookeeper on the running KRaft cluster is refused at preview from what the hosts run, before any step; set back, nothing pending", async () => {
        assert.strictEqual(outputs.metadataMigration.value, "KRaft mode", "the output says what the hosts run");
        const addrs = nodes.map((n) => n.sshAddress);
        const before = [await serviceStates(ssh, addrs, "kafka"), await serviceStates(ssh, addrs, "kafka-controller")];
        const files = () => Promise.all(addrs.map((a) => ssh.must(a, `sudo -n cat ${PATHS.configDir}/server.properties ${PATHS.configDir}/controller.properties`)));
        const filesBefore = await files();
        // A configuration that is valid on its own (ZooKeeper mode on 3.9): only the hosts can tell it does not fit.
        const { metadata: _m, kafkaVersion: _v, controllerHeap: _h, ...rest } = raw;
        await setStackConfig(stack, { ...rest, kafkaVersion: "3.9.2" });
        const ran: string[] = [];
        let err: Error | undefined;
        try {
            err = await timed("metadata mode change: pulumi up (refused)", () => stack.up({
                onOutput: () => undefined,
                onEvent: (e) => {
                    const m = e.resOutputsEvent?.metadata;
                    if (m && m.op !== "same" && m.type.startsWith("command:")) ran.push(`${m.op} ${m.urn.split("::").pop()}`);
                },
            }).then(() => undefined, (x) => x as Error));
        } finally {
            await setStackConfig(stack, raw);
        }
        assert.ok(err, "pulumi up with kafka:metadata zookeeper on a KRaft cluster must fail");
        const msg = String(err);
        assert.match(msg, /the cluster runs in KRaft mode .*cannot go back to ZooKeeper mode\. Fix: pulumi config set kafka:metadata kraft.*Nothing was changed on any host/);
        assert.deepStrictEqual(ran, [], "no step ran");
        assert.deepStrictEqual([await serviceStates(ssh, addrs, "kafka"), await serviceStates(ssh, addrs, "kafka-controller")], before, "nothing restarted");
        assert.deepStrictEqual(await files(), filesBefore, "no configuration file written");
        assert.deepStrictEqual(await pendingChanges(stack), [], "with kafka:metadata back, the stack is as it was");
    });

    it("drift: a broker stopped by hand, a file edited by hand and Alertmanager stopped by hand show in the preview as their nodes' steps; up repairs all three, then nothing is pending", async () => {
        const addrs = nodes.map((n) => n.sshAddress);
        const [brokersBefore, controllersBefore] = [await serviceStates(ssh, addrs, "kafka"), await serviceStates(ssh, addrs, "kafka-controller")];
        const props = `${PATHS.configDir}/server.properties`;
        await ssh.must(nodes[1].sshAddress, "sudo -n systemctl stop kafka");
        await ssh.must(nodes[2].sshAddress, `echo log.retention.hours=1 | sudo -n tee -a ${props} >/dev/null`);
        // And on the monitoring host: Alertmanager stopped by hand.
        await ssh.must(monHost.sshAddress, "sudo -n systemctl stop prometheus-alertmanager");
        const previewed: string[] = [];
        await stack.preview({ onOutput: () => undefined, onEvent: (e) => {
            const m = e.resourcePreEvent?.metadata;
            if (m && m.op !== "same" && m.type.startsWith("command:")) previewed.push(`${m.op} ${m.urn.split("::").pop()}`);
        } });
        // (Every configure step of a drifted node runs again inside its gates: its node exporter's too, which restarts nothing.)
        const repaired = ["host-2-broker", "host-2-controller", "host-2-node-exporter", "host-3-broker", "host-3-controller", "host-3-node-exporter",
            "host-4-monitoring", "host-4-node-exporter"];
        assert.deepStrictEqual(previewed.sort(), repaired.map((n) => `update ${n}`));
        const { ops } = await timed("drift repair (KRaft)", () => upWithOps(stack));
        assert.deepStrictEqual(ops.get("update"), repaired);
        assert.strictEqual((await ssh.exec(nodes[1].sshAddress, "systemctl is-active kafka", 10_000)).stdout.trim(), "active", "the stopped broker runs again");
        assert.doesNotMatch(await ssh.must(nodes[2].sshAddress, `sudo -n cat ${props}`), /^log\.retention\.hours=1$/m, "the hand edit is gone");
        assert.strictEqual((await ssh.exec(monHost.sshAddress, "systemctl is-active prometheus-alertmanager", 10_000)).stdout.trim(), "active", "Alertmanager runs again");
        const [brokersAfter, controllersAfter] = [await serviceStates(ssh, addrs, "kafka"), await serviceStates(ssh, addrs, "kafka-controller")];
        assert.notStrictEqual(brokersAfter.get(addrs[2])!.pid, brokersBefore.get(addrs[2])!.pid, "the edited broker restarted on its rendered file");
        assert.deepStrictEqual(brokersAfter.get(addrs[0]), brokersBefore.get(addrs[0]), "the healthy broker untouched");
        assert.deepStrictEqual(controllersAfter, controllersBefore, "no controller restarted");
        assert.deepStrictEqual(await pendingChanges(stack), [], "repaired: nothing pending");
        await urpZero("after the drift repair");
        const t = Date.now();
        const { ops: again } = await upWithOps(stack);
        log(`no-op up with the observation of 3 hosts: ${((Date.now() - t) / 1000).toFixed(1)} s`);
        assert.deepStrictEqual([...again.keys()], ["same"]);
    });

    it("a 6-partition, RF 3 topic round-trips 10,000 keyed acks=all messages, per-partition order kept", async () => {
        await timed("round trip: 10,000 messages (KRaft)", async () => {
            await client.must("kafka-topics.sh", ["--bootstrap-server", bootstrap, "--create", "--topic", "roundtrip", "--partitions", "6", "--replication-factor", "3"]);
            assert.match(await client.must("kafka-topics.sh", ["--bootstrap-server", bootstrap, "--describe", "--topic", "roundtrip"]), /min\.insync\.replicas=2/);
            const prod = await client.must("kafka-verifiable-producer.sh", ["--bootstrap-server", bootstrap, "--topic", "roundtrip",
                "--max-messages", "10000", "--acks", "-1", "--repeating-keys", "100", "--throughput", "-1"], 300_000);
            assert.strictEqual(acked(prod).length, 10000, "every send acknowledged");
            const consumed = await consumeAll("roundtrip", 10000);
            assert.strictEqual(new Set(consumed.map((c) => c.value)).size, 10000, "no duplicates, nothing missing");
            const byPartition = new Map<number, Acked[]>();
            for (const c of consumed) byPartition.set(c.partition, [...(byPartition.get(c.partition) ?? []), c]);
            assert.strictEqual(byPartition.size, 6);
            for (const [p, list] of byPartition) {
                list.sort((a, b) => a.offset - b.offset);
                for (let i = 1; i < list.length; i++) assert.ok(list[i].value > list[i - 1].value, `partition ${p}: out of producer order`);
            }
        });
    });

    it("SASL_SSL with ACLs (StandardAuthorizer): the client user writes its topics, is denied others; a wrong password is refused", async () => {
        const app = client.propertiesFile("as-app", outputs.clientProperties.value.app);
        await client.must("kafka-topics.sh", ["--bootstrap-server", bootstrap, "--create", "--topic", "app-events", "--partitions", "3", "--replication-factor", "3"]);
        await client.must("kafka-topics.sh", ["--bootstrap-server", bootstrap, "--create", "--topic", "billing", "--partitions", "1", "--replication-factor", "3"]);
        await client.must("kafka-console-producer.sh", ["--bootstrap-server", bootstrap, "--topic", "app-events", "--producer-property", "acks=all"],
            120_000, "one\ntwo\n", app);
        const denied = await client.tool("kafka-console-producer.sh", ["--bootstrap-server", bootstrap, "--topic", "billing",
            "--producer-property", "max.block.ms=10000"], 60_000, "x\n", app);
        assert.match(denied.stdout + denied.stderr, /TopicAuthorizationException|Not authorized to access topics: \[billing\]/);
        const wrong = await client.tool("kafka-topics.sh", ["--bootstrap-server", bootstrap, "--list"], 60_000, undefined,
            client.propertiesFile("wrong", outputs.clientProperties.value.app.replace(/password="[^"]*"/, 'password="nope"') +
                "request.timeout.ms=5000\ndefault.api.timeout.ms=10000\n"));
        assert.match(wrong.stderr, /Authentication failed/);
        assert.strictEqual(await client.recordCount(bootstrap, "billing"), 0);
    });

    it("fault: kill -9 of the active controller under load — a new leader is elected, the old one rejoins, nothing acknowledged is lost", async () => {
        await timed("fault: kill -9 active controller", () => underLoad("fault-controller", async () => {
            const leader = await leaderId();
            const victim = nodes.find((n) => n.controllerId === leader)!;
            assert.ok(victim, `leader ${leader} is one of the controllers`);
            const pid = await mainPid(victim, "kafka-controller");
            await ssh.must(victim.sshAddress, `sudo -n kill -9 ${pid}`);
            await poll("another controller leads", 60_000, async () => { const l = await leaderId(); return l >= 0 && l !== leader; }, 2000);
            await poll("systemd restarts the killed controller", 120_000, async () => { const now = await mainPid(victim, "kafka-controller"); return now !== 0 && now !== pid; });
            await quorumHealthy("after kill -9 of the active controller");
            await urpZero("after kill -9 of the active controller");
        }));
    });

    it("fault: kill -9 of one broker under load — systemd restarts it, URP returns to 0, nothing acknowledged is lost", async () => {
        await timed("fault: kill -9 broker (KRaft)", () => underLoad("fault-broker", async () => {
            const victim = nodes[1];
            const pid = await mainPid(victim, "kafka");
            await ssh.must(victim.sshAddress, `sudo -n kill -9 ${pid}`);
            await poll("systemd restarts the killed broker", 120_000, async () => { const now = await mainPid(victim, "kafka"); return now !== 0 && now !== pid; });
            await urpZero("after kill -9 of a broker");
        }));
    });

    it("fault: rebooting one whole host under load — its controller and broker come back by themselves", async () => {
        await timed("fault: host reboot (KRaft)", () => underLoad("fault-reboot", async () => {
            const victim = nodes[2];
            const bootBefore = (await ssh.must(victim.sshAddress, "cat /proc/sys/kernel/random/boot_id")).trim();
            await ssh.exec(victim.sshAddress, "sudo -n systemctl reboot", 30_000);
            await poll("host back after reboot", 300_000, async () => {
                const r = await ssh.exec(victim.sshAddress, "cat /proc/sys/kernel/random/boot_id", 10_000);
                return r.code === 0 && r.stdout.trim() !== bootBefore;
            }, 3000);
            await poll("kafka-controller and kafka active after boot", 180_000, async () =>
                (await ssh.exec(victim.sshAddress, "systemctl is-active kafka-controller kafka", 10_000)).stdout.trim() === "active\nactive");
            await quorumHealthy("after the reboot");
            await urpZero("after the reboot");
        }));
    });

    it("a changed setting rolls controllers one at a time (quorum gate), then brokers one at a time (URP gate)", async () => {
        const addrs = nodes.map((n) => n.sshAddress);
        const [brokersBefore, controllersBefore] = [await serviceStates(ssh, addrs, "kafka"), await serviceStates(ssh, addrs, "kafka-controller")];
        const monitor = urpMonitor(client, bootstrap);
        raw = { ...raw, brokerProperties: { "log.retention.hours": 72 } };
        await setStackConfig(stack, raw);
        let ops: Map<string, string[]>;
        try {
            ({ ops } = await timed("rolling change (KRaft)", () => upWithOps(stack)));
        } finally {
            await monitor.stop();
        }
        assert.deepStrictEqual(ops.get("update"), ["cluster-brokers", "cluster-quorum", "cluster-smoke",
            ...nodes.flatMap((n) => [`${n.name}-broker`, `${n.name}-controller`])].sort());
        const [brokersAfter, controllersAfter] = [await serviceStates(ssh, addrs, "kafka"), await serviceStates(ssh, addrs, "kafka-controller")];
        assertRolled(addrs, controllersBefore, controllersAfter);
        assertRolled(addrs, brokersBefore, brokersAfter, monitor.samples);
        const lastController = Math.max(...[...controllersAfter.values()].map((s) => Number(s.start)));
        const firstBroker = Math.min(...[...brokersAfter.values()].map((s) => Number(s.stop)));
        assert.ok(firstBroker > lastController, "no broker stopped before the last controller was running again");
        for (const a of addrs) assert.match(await ssh.must(a, "sudo -n cat /etc/kafka/server.properties"), /^log\.retention\.hours=72$/m);
    });

    it("controllerCount 3 -> 1 -> 3 on the running cluster: voters removed, then added one at a time (dynamic quorum), under load, nothing lost", async () => {
        const at = (count: number) => { raw = { ...raw, controllerCount: count }; return setStackConfig(stack, raw); };
        await timed("controllerCount 3 -> 1 -> 3", () => underLoad("quorum-scaling", async () => {
            await at(1);
            const down = await timed("controllerCount 3 -> 1", () => upWithOps(stack));
            assert.deepStrictEqual(down.ops.get("delete")?.filter((n) => /controller/.test(n)).sort(),
                ["host-2-controller", "host-2-controller-format", "host-2-kafka-controller-service", "host-3-controller", "host-3-controller-format", "host-3-kafka-controller-service"]);
            assert.deepStrictEqual(await voters(), [3001]);
            for (const n of nodes.slice(1)) {
                assert.strictEqual((await ssh.exec(n.sshAddress, "systemctl is-active kafka-controller", 10_000)).stdout.trim(), "inactive");
            }
            assert.match(String((await commandStates(stack)).get("cluster-quorum")!.outputs.stdout), /quorum ok: leader 3001, voters \[3001\]/);
            await at(3);
            await timed("controllerCount 1 -> 3", () => upWithOps(stack));
            assert.deepStrictEqual(await voters(), [3001, 3002, 3003]);
            await quorumHealthy("after controllerCount 1 -> 3");
            await urpZero("after controllerCount 1 -> 3");
        }));
        assert.strictEqual(await client.recordCount(bootstrap, "roundtrip"), 10000, "the round trip's topic still holds every message");
    });

    it(`a version change ${FROM} -> ${TO} rolls controllers, then brokers, then finalizes the feature levels one by one (kraft.version untouched)`, async () => {
        // kafka-features takes its options before the subcommand: the login file goes there, not at the end.
        const login = client.propertiesFile("features-login", client.loginProperties ?? "");
        const features = () => client.must("kafka-features.sh", ["--bootstrap-server", bootstrap, "--command-config", login, "describe"], 120_000, undefined, "");
        const before = await features();
        assert.match(before, /Feature: metadata\.version\s.*FinalizedVersionLevel: 4\.2-IV\d/);
        const kraftBefore = /Feature: kraft\.version\s.*FinalizedVersionLevel: (\d+)/.exec(before)?.[1];
        raw = { ...raw, kafkaVersion: TO };
        await setStackConfig(stack, raw);
        const { ops } = await timed(`version change ${FROM} -> ${TO}`, () => upWithOps(stack));
        assert.ok(ops.get("update")!.includes("cluster-features"));
        const after = await features();
        assert.match(after, /Feature: metadata\.version\s.*FinalizedVersionLevel: 4\.3-IV\d/);
        assert.strictEqual(/Feature: kraft\.version\s.*FinalizedVersionLevel: (\d+)/.exec(after)?.[1], kraftBefore, "kraft.version not changed");
        for (const n of nodes) {
            for (const link of [PATHS.current, PATHS.controllerCurrent]) {
                assert.strictEqual((await ssh.must(n.sshAddress, `readlink ${link}`)).trim(), `kafka_2.13-${TO}`);
            }
        }
        log(`features after: ${String((await commandStates(stack)).get("cluster-features")!.outputs.stdout).trim()}`);
        await quorumHealthy("after the version change");
    });

    it("pulumi destroy: brokers stop before controllers, all disabled, data kept", async () => {
        // The order the engine deleted the teardown steps in (each stops one service on one host).
        const deleted: string[] = [];
        await timed("destroy (KRaft)", () => stack.destroy({
            onOutput: () => undefined,
            onEvent: (e) => { const m = e.resOutputsEvent?.metadata; if (m?.op === "delete" && /-service$/.test(m.urn)) deleted.push(m.urn.split("::").pop()!); },
        }));
        log(`teardown order: ${deleted.join(", ")}`);
        const lastBroker = Math.max(...nodes.map((n) => deleted.indexOf(`${n.name}-kafka-service`)));
        const firstController = Math.min(...nodes.map((n) => deleted.indexOf(`${n.name}-kafka-controller-service`)));
        assert.ok(lastBroker >= 0 && firstController > lastBroker, `every broker's teardown before any controller's: ${deleted.join(", ")}`);
        // What the hosts saw (hosts share this machine's kernel, so CLOCK_MONOTONIC compares across them): every
        // broker was fully down before any controller began to stop.
        const times = new Map<string, Map<string, StopTimes>>();
        for (const n of nodes) times.set(n.name, await stopTimes(ssh, n.sshAddress, ["kafka", "kafka-controller"]));
        log(`stop times (monotonic µs): ${[...times].map(([h, t]) => `${h} broker ${t.get("kafka")!.stopped}, controller ${t.get("kafka-controller")!.stopping}`).join("; ")}`);
        const brokersDown = [...times.values()].map((t) => t.get("kafka")!.stopped);
        const controllersStopping = [...times.values()].map((t) => t.get("kafka-controller")!.stopping);
        assert.ok(brokersDown.every((b) => b > 0n) && controllersStopping.every((c) => c > 0n), "every broker and controller was stopped by the destroy");
        const lastDown = brokersDown.reduce((a, b) => (a > b ? a : b));
        const firstStopping = controllersStopping.reduce((a, b) => (a < b ? a : b));
        assert.ok(lastDown < firstStopping, `the last broker was down (${lastDown}) before the first controller began stopping (${firstStopping})`);
        for (const n of nodes) {
            await assertStoppedAndDisabled(ssh, n.sshAddress, n.name, ["kafka", "kafka-controller", "prometheus-node-exporter"]);
            await ssh.must(n.sshAddress, `sudo -n test -f ${PATHS.controllerLogDir}/meta.properties`);
        }
        // The monitoring host's units: Prometheus, Alertmanager, the lag collector and its node exporter.
        await assertStoppedAndDisabled(ssh, monHost.sshAddress, monHost.name, ["prometheus", "prometheus-alertmanager", "kafka-consumer-lag.timer", "prometheus-node-exporter"]);
    });
});
