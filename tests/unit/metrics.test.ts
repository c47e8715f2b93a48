// kafka:monitoring, the JVM side: the settings and their refusals, the agent step, each service's JVM option, rule
// file and port, the security group, and the install script run against a local file.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { parseConfig } from "../../components/config";
import { parseHostCommand } from "../../components/host-command";
import { PATHS, portTable } from "../../components/layout";
import { renderPlan } from "../../components/plan";
import { renderToolsProfile } from "../../components/render";
import { brokerFiles } from "../../components/roles/broker";
import { controllerFiles } from "../../components/roles/controller";
import { METRICS_AGENT, MeteredService, metricsAgentUrl, renderMetricsRules } from "../../components/roles/metrics";
import { zookeeperFiles } from "../../components/roles/zookeeper";
import { TEST_GENERATED, cluster, kraftCluster, withTempDir } from "./fixtures";
import { SSH } from "./stacks";

const MAVEN = "http://repo.test/maven2";
const ON = { monitoring: true, mavenUrl: `${MAVEN}/`, monitoringCidrs: ["203.0.113.0/24"] };

/** The KAFKA_OPTS line of a rendered env file. */
const kafkaOpts = (env: string) => /^KAFKA_OPTS="(.*)"$/m.exec(env)?.[1];
const fileNamed = (files: [string, string, string, string][], p: string) => files.find(([f]) => f === p)?.[3];

describe("monitoring: metrics from every Kafka JVM (kafka:monitoring)", () => {
    it("kafka:monitoring needs kafka:mavenUrl, and kafka:mavenUrl alone or malformed is refused, each naming the fix", () => {
        assert.throws(() => parseConfig({ ...SSH, monitoring: true }, "t"), (e: Error) =>
            /kafka:mavenUrl/.test(e.message) && /required with kafka:monitoring true/.test(e.message) && /pulumi config set kafka:mavenUrl/.test(e.message));
        assert.throws(() => parseConfig({ ...SSH, mavenUrl: MAVEN }, "t"), (e: Error) =>
            /kafka:mavenUrl/.test(e.message) && /pulumi config set kafka:monitoring true, or pulumi config rm kafka:mavenUrl/.test(e.message));
        assert.throws(() => parseConfig({ ...SSH, monitoring: true, mavenUrl: "repo.test/maven2" }, "t"), /kafka:mavenUrl[\s\S]*http\(s\) base URL/);
        const cfg = parseConfig({ ...SSH, ...ON }, "t");
        assert.deepStrictEqual(cfg.monitoring, { mavenUrl: MAVEN, scrapeInterval: "15s", alertAfter: "5m", lagAlert: 10000 }, "trailing slash dropped; defaults");
        assert.strictEqual(parseConfig({ ...SSH }, "t").monitoring, undefined);
    });

    it("every Kafka node gets the agent step before its install (pinned URL and SHA-256), the monitoring node none; without monitoring no node does", () => {
        for (const c of [cluster(3, 3, "colocated", ON), kraftCluster(3, 3, "dedicated", ON)]) {
            const plan = renderPlan(c.cfg, c.nodes, c.secrets, TEST_GENERATED);
            assert.strictEqual(plan.find((s) => s.name === "monitoring-1-metrics-agent"), undefined, "the monitoring node runs no Kafka JVM");
            for (const n of c.nodes.filter((x) => x.name !== "monitoring-1")) {
                const agent = plan.find((s) => s.name === `${n.name}-metrics-agent`);
                assert.ok(agent, `${n.name} has a metrics-agent step`);
                assert.ok(plan.find((s) => s.name === `${n.name}-install`)!.dependsOn.includes(agent.name));
                const { env } = parseHostCommand(agent.create);
                assert.strictEqual(env.AGENT_URL, metricsAgentUrl(MAVEN));
                assert.strictEqual(env.AGENT_URL, `${MAVEN}/io/prometheus/jmx/jmx_prometheus_javaagent/1.0.1/jmx_prometheus_javaagent-1.0.1.jar`);
                assert.strictEqual(env.AGENT_SHA256, METRICS_AGENT.sha256);
                assert.strictEqual(env.AGENT_JAR, PATHS.metricsAgent);
            }
        }
        const off = cluster(3, 3, "colocated");
        assert.ok(!renderPlan(off.cfg, off.nodes, off.secrets).some((s) => /metrics/.test(s.name) || /javaagent|metrics-/.test(s.create)));
    });

    it("each service JVM loads the agent on its own port at the node's private address; ZooKeeper keeps its JAAS login beside it", () => {
        const zk = cluster(3, 3, "colocated", { ...ON, security: "sasl_ssl" });
        const n = zk.nodes[0];
        const broker = kafkaOpts(fileNamed(brokerFiles(zk.cfg, n, zk.nodes, zk.secrets), `${PATHS.configDir}/kafka.env`)!);
        assert.strictEqual(broker, `-Djava.security.auth.login.config=${PATHS.kafkaJaas} -javaagent:${PATHS.metricsAgent}=10.0.0.1:7071:${PATHS.configDir}/metrics-kafka.yml`);
        const zkEnv = kafkaOpts(fileNamed(zookeeperFiles(zk.cfg, n, zk.nodes, zk.secrets), `${PATHS.configDir}/zookeeper.env`)!);
        assert.match(zkEnv!, /^-Djava\.security\.auth\.login\.config=\S+ -javaagent:\S+=10\.0\.0\.1:7073:\/etc\/kafka\/metrics-zookeeper\.yml$/);
        const k = kraftCluster(3, 3, "colocated", ON);
        const ctl = kafkaOpts(fileNamed(controllerFiles(k.cfg, k.nodes[1], k.nodes, k.secrets), `${PATHS.configDir}/kafka-controller.env`)!);
        assert.strictEqual(ctl, `-javaagent:${PATHS.metricsAgent}=10.0.0.2:7072:${PATHS.configDir}/metrics-kafka-controller.yml`);
        // The tools never load it: the login profile does not set KAFKA_OPTS, and the env files are read by the units only.
        assert.ok(!/KAFKA_OPTS|javaagent/.test(renderToolsProfile(true)));
        // Without monitoring the env files are as before: the JAAS login alone (sasl_ssl, the default), no rule file.
        const off = cluster(3, 3, "colocated");
        const files = brokerFiles(off.cfg, off.nodes[0], off.nodes, off.secrets);
        assert.strictEqual(kafkaOpts(fileNamed(files, `${PATHS.configDir}/kafka.env`)!), `-Djava.security.auth.login.config=${PATHS.kafkaJaas}`);
        assert.ok(!files.some(([p]) => p.includes("metrics")));
    });

    it("rule files parse as YAML, their patterns compile, and they name the metrics the alerts use", () => {
        const names = (s: MeteredService) => (yaml.load(renderMetricsRules(s)) as { rules: { pattern: string; name: string }[] }).rules;
        for (const s of ["kafka", "kafka-controller", "zookeeper"] as MeteredService[]) {
            const doc = yaml.load(renderMetricsRules(s)) as Record<string, unknown>;
            assert.strictEqual(doc.lowercaseOutputName, true);
            assert.ok(Array.isArray(doc.includeObjectNames) && doc.includeObjectNames.length > 0);
            for (const r of names(s)) assert.doesNotThrow(() => new RegExp(`^${r.pattern}$`), r.pattern);
            // A counter is exposed as <name>_total under the family <name>: no fixed name may be both a counter's family
            // and another rule's metric (the exporter then merges them into one untyped family, as it did to log flushes).
            const rules = (doc.rules as { name: string; type: string }[]).filter((r) => !r.name.includes("$"));
            const family = (r: { name: string; type: string }) => (r.type === "COUNTER" ? r.name.replace(/_total$/, "") : r.name);
            for (const r of rules) {
                const clash = rules.filter((o) => family(o) === family(r) && o.type !== r.type);
                assert.deepStrictEqual(clash.map((o) => o.name), [], `${s}: ${r.name} (${r.type}) shares its family with another type`);
            }
        }
        const kafka = names("kafka");
        // What an MBean looks like to the exporter (domain<key=value, ...><>attribute), matched by the first rule that fits.
        const metricOf = (bean: string) => {
            for (const r of kafka) {
                const m = new RegExp(`^${r.pattern}$`).exec(bean);
                if (m) return r.name.replace(/\$(\d)/g, (_, i) => m[Number(i)]).toLowerCase();
            }
            return undefined;
        };
        assert.strictEqual(metricOf("kafka.server<type=ReplicaManager, name=UnderReplicatedPartitions><>Value"), "kafka_server_replicamanager_underreplicatedpartitions");
        assert.strictEqual(metricOf("kafka.server<type=ReplicaManager, name=UnderMinIsrPartitionCount><>Value"), "kafka_server_replicamanager_underminisrpartitioncount");
        assert.strictEqual(metricOf("kafka.controller<type=KafkaController, name=ActiveControllerCount><>Value"), "kafka_controller_kafkacontroller_activecontrollercount");
        assert.strictEqual(metricOf("kafka.controller<type=KafkaController, name=OfflinePartitionsCount><>Value"), "kafka_controller_kafkacontroller_offlinepartitionscount");
        assert.strictEqual(metricOf("kafka.log<type=LogManager, name=OfflineLogDirectoryCount><>Value"), "kafka_log_logmanager_offlinelogdirectorycount");
        assert.strictEqual(metricOf("kafka.server<type=ReplicaManager, name=IsrShrinksPerSec><>Count"), "kafka_server_replicamanager_isrshrinks_total");
        assert.strictEqual(metricOf("kafka.server<type=BrokerTopicMetrics, name=MessagesInPerSec><>Count"), "kafka_server_brokertopicmetrics_messagesin_total");
        // Per-topic meters are not exported (one series per topic and broker would grow without bound).
        assert.strictEqual(metricOf("kafka.server<type=BrokerTopicMetrics, name=MessagesInPerSec, topic=orders><>Count"), undefined);
        assert.strictEqual(metricOf("kafka.network<type=RequestMetrics, name=TotalTimeMs, request=Produce><>99thPercentile"), "kafka_network_requestmetrics_totaltimems");
    });

    it("the port table opens each existing role's metrics port and the node exporter's to the cluster's members, only with monitoring", () => {
        const ports = (metadata: "zookeeper" | "kraft", monitoring?: { mavenUrl: string; scrapeInterval: string; alertAfter: string; lagAlert: number }) =>
            portTable({ metadata, jmx: false, ...(monitoring ? { monitoring } : {}) }).filter((r) => r.reach === "metrics").map((r) => r.port);
        const on = { mavenUrl: MAVEN, scrapeInterval: "15s", alertAfter: "5m", lagAlert: 10000 };
        // (9100: the node exporter of every node.)
        assert.deepStrictEqual(ports("zookeeper", on), [7071, 7073, 9100]);
        assert.deepStrictEqual(ports("kraft", on), [7071, 7072, 9100]);
        assert.deepStrictEqual(ports("kraft"), []);
    });

    it("install-metrics-agent.sh: installs a jar with the pinned SHA-256, keeps it on a second run, refuses another file and leaves the old one", () => {
        const c = cluster(1, 1, "colocated", ON);
        const step = renderPlan(c.cfg, c.nodes, c.secrets).find((s) => s.name.endsWith("-metrics-agent"))!;
        withTempDir("kc-agent", (dir) => {
            const good = path.join(dir, "agent.jar");
            fs.writeFileSync(good, "a jar\n");
            const sha = crypto.createHash("sha256").update("a jar\n").digest("hex");
            const bad = path.join(dir, "other.jar");
            fs.writeFileSync(bad, "another jar\n");
            // The install root must pass the allow-list: a directory named like the real one under /opt, made for the test.
            const root = fs.mkdtempSync("/opt/kafka-cluster-test-");
            try {
                const jar = path.join(root, "jmx_prometheus_javaagent-1.0.1.jar");
                const run = (url: string) => {
                    const { script, env } = parseHostCommand(step.create);
                    return spawnSync("bash", ["-c", script], {
                        encoding: "utf8", env: { PATH: process.env.PATH, HOME: os.tmpdir(), ...env, AGENT_URL: `file://${url}`, AGENT_SHA256: sha, AGENT_JAR: jar },
                    });
                };
                let r = run(good);
                assert.strictEqual(r.status, 0, r.stderr);
                assert.match(r.stderr, /installed the metrics agent/);
                assert.strictEqual(fs.readFileSync(jar, "utf8"), "a jar\n");
                r = run(good);
                assert.strictEqual(r.status, 0, r.stderr);
                assert.match(r.stderr, /already installed/);
                fs.writeFileSync(jar, "tampered\n");
                r = run(bad);
                assert.notStrictEqual(r.status, 0);
                assert.match(r.stderr, /has SHA-256 [0-9a-f]{64}, not the pinned/);
                assert.strictEqual(fs.readFileSync(jar, "utf8"), "tampered\n", "a refused download changes nothing");
                assert.deepStrictEqual(fs.readdirSync(root), [path.basename(jar)], "no partial download left behind");
                r = run(path.join(dir, "missing.jar"));
                assert.notStrictEqual(r.status, 0);
                assert.match(r.stderr, /could not download the metrics agent[\s\S]*kafka:mavenUrl/);
            } finally {
                fs.rmSync(root, { recursive: true, force: true });
            }
        });
    });
});

describe("kafka:jvmPerformanceOptions: the service JVMs' collector and compiler options", () => {
    const perf = (env: string) => /^KAFKA_JVM_PERFORMANCE_OPTS="(.*)"$/m.exec(env)?.[1];
    const OPTS = "-XX:+UseSerialGC  -XX:TieredStopAtLevel=1 -Djava.awt.headless=true";

    it("goes into every broker's, controller's and ZooKeeper member's env file (spaces normalized); unset, none does", () => {
        const zk = cluster(3, 3, "colocated", { jvmPerformanceOptions: OPTS });
        const kraft = kraftCluster(3, 3, "colocated", { jvmPerformanceOptions: OPTS });
        const want = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true";
        for (const n of zk.nodes) {
            assert.strictEqual(perf(fileNamed(brokerFiles(zk.cfg, n, zk.nodes, zk.secrets), `${PATHS.configDir}/kafka.env`)!), want);
            assert.strictEqual(perf(fileNamed(zookeeperFiles(zk.cfg, n, zk.nodes, zk.secrets), `${PATHS.configDir}/zookeeper.env`)!), want);
        }
        for (const n of kraft.nodes) {
            assert.strictEqual(perf(fileNamed(controllerFiles(kraft.cfg, n, kraft.nodes, kraft.secrets), `${PATHS.configDir}/kafka-controller.env`)!), want);
        }
        const off = cluster(3, 3, "colocated");
        for (const n of off.nodes) {
            assert.strictEqual(perf(fileNamed(brokerFiles(off.cfg, n, off.nodes, off.secrets), `${PATHS.configDir}/kafka.env`)!), undefined);
        }
    });

    it("a change reruns exactly the service steps (a roll, one node at a time)", () => {
        const before = cluster(3, 3, "colocated");
        const after = cluster(3, 3, "colocated", { jvmPerformanceOptions: OPTS });
        const steps = (c: typeof before) => new Map(renderPlan(c.cfg, c.nodes, c.secrets, TEST_GENERATED).map((s) => [s.name, s.create]));
        const [a, b] = [steps(before), steps(after)];
        const changed = [...a.keys()].filter((k) => a.get(k) !== b.get(k)).sort();
        // The broker's roll steps all carry its files (the one whose turn it is restarts it; the others find them written).
        assert.deepStrictEqual(changed, before.nodes.flatMap((n) =>
            [`${n.name}-broker`, `${n.name}-listeners-add`, `${n.name}-listeners-switch`, `${n.name}-protocol`, `${n.name}-zookeeper`]).sort());
    });
});
