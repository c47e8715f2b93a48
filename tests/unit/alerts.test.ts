// kafka:monitoring, the Prometheus side: the generated scrape configuration and alert rules, checked by Prometheus' own
// promtool (Debian's prometheus package, installed by scripts/setup.sh): the files load, and each alert fires after its
// `for` window on a series that shows the fault, and resolves when the series recovers (promtool test rules runs the
// real rule engine over synthetic series).
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ALERT_TIMINGS, alertRules, renderAlertRules, renderPrometheusConfig, scrapeJobs } from "../../components/roles/monitoring";
import { cluster, kraftCluster, withTempDir } from "./fixtures";

const ON = { monitoring: true, mavenUrl: "http://repo.test/maven2", monitoringCidrs: ["203.0.113.0/24"] };

function promtool(args: string[], cwd: string): string {
    const r = spawnSync("promtool", args, { cwd, encoding: "utf8", timeout: 60_000 });
    if (r.error) throw r.error;
    assert.strictEqual(r.status, 0, `promtool ${args.join(" ")}:\n${r.stdout}${r.stderr}`);
    return r.stdout + r.stderr;
}

/** promtool's unit-test file: the rules under test, series and the alerts expected at given times (labels and summary). */
function ruleTest(rules: string, series: { series: string; values: string }[], expect: { at: string; alert: string; firing: ({ summary: string } & Record<string, string>)[] }[]): string {
    const lines = ["rule_files:", `  - ${rules}`, "evaluation_interval: 15s", "tests:", "  - interval: 15s", "    input_series:"];
    for (const s of series) lines.push(`      - series: '${s.series}'`, `        values: '${s.values}'`);
    lines.push("    alert_rule_test:");
    for (const e of expect) {
        lines.push(`      - eval_time: ${e.at}`, `        alertname: ${e.alert}`, "        exp_alerts:" + (e.firing.length ? "" : " []"));
        for (const { summary, ...labels } of e.firing) {
            lines.push("          - exp_labels:");
            for (const [k, v] of Object.entries(labels)) lines.push(`              ${k}: '${v}'`);
            lines.push("            exp_annotations:", `              summary: '${summary.replace(/'/g, "''")}'`);
        }
    }
    return lines.join("\n") + "\n";
}

describe("monitoring: scrape configuration and alert rules (promtool)", () => {
    it("the scrape configuration has a job per service of the cluster, a target per node at its private address; promtool loads it", () => {
        const zk = cluster(3, 3, "dedicated", ON);
        assert.deepStrictEqual(scrapeJobs(zk.cfg, zk.nodes).map((j) => [j.job, j.targets.map((t) => t.target)]), [
            ["kafka-broker", zk.nodes.filter((n) => n.brokerId !== undefined).map((n) => `${n.privateAddress}:7071`)],
            ["zookeeper", zk.nodes.filter((n) => n.zookeeperId !== undefined).map((n) => `${n.privateAddress}:7073`)],
            ["node", zk.nodes.map((n) => `${n.privateAddress}:9100`)],
        ]);
        const k = kraftCluster(3, 3, "colocated", ON);
        assert.deepStrictEqual(scrapeJobs(k.cfg, k.nodes).map((j) => j.job), ["kafka-broker", "kafka-controller", "node"]);
        assert.deepStrictEqual(scrapeJobs(k.cfg, k.nodes)[1].targets, k.nodes.filter((n) => n.controllerId !== undefined)
            .map((n) => ({ target: `${n.privateAddress}:7072`, node: n.name })));
        // (Every node's exporter, the EC2 monitoring node's own included.)
        assert.deepStrictEqual(scrapeJobs(k.cfg, k.nodes)[2].targets.map((t) => t.node), ["node-1", "node-2", "node-3", "monitoring-1"]);
        for (const c of [zk, k]) {
            withTempDir("kc-alerts-", (dir) => {
                fs.writeFileSync(path.join(dir, "prometheus.yml"), renderPrometheusConfig(c.cfg, c.nodes));
                fs.writeFileSync(path.join(dir, "kafka-alerts.yml"), renderAlertRules(c.cfg));
                const out = promtool(["check", "config", "prometheus.yml"], dir);
                assert.match(out, new RegExp(`SUCCESS: ${alertRules(c.cfg).length} rules found`));
            });
        }
    });

    it("a broker or quorum member that stops answering fires its down alert after the window and resolves when it is back", () => {
        for (const [c, quorum, job] of [[cluster(3, 3, "colocated", ON), "ZooKeeperDown", "zookeeper"], [kraftCluster(3, 3, "colocated", ON), "KafkaControllerDown", "kafka-controller"]] as const) {
            withTempDir("kc-alerts-", (dir) => {
                fs.writeFileSync(path.join(dir, "rules.yml"), renderAlertRules(c.cfg));
                // Down from 2m to 4m (15 s samples: 8 ones, 9 zeros, ones again).
                const series = [
                    { series: `up{job="kafka-broker",node="host-2",instance="10.0.0.2:7071"}`, values: "1x7 0x8 1x12" },
                    { series: `up{job="${job}",node="host-3",instance="10.0.0.3:7073"}`, values: "1x7 0x8 1x12" },
                    { series: `up{job="kafka-broker",node="host-1",instance="10.0.0.1:7071"}`, values: "1x28" },
                ];
                const at = (alert: string, labels: { summary: string } & Record<string, string>) => [
                    { at: "2m30s", alert, firing: [] }, // down for 30 s: pending, not firing
                    { at: "3m30s", alert, firing: [labels] },
                    { at: "5m", alert, firing: [] },
                ];
                fs.writeFileSync(path.join(dir, "test.yml"), ruleTest("rules.yml", series, [
                    ...at("KafkaBrokerDown", { job: "kafka-broker", node: "host-2", instance: "10.0.0.2:7071", severity: "critical", kafka_cluster: c.cfg.clusterName,
                        summary: "Broker host-2 (10.0.0.2:7071) does not answer its metrics scrape" }),
                    ...at(quorum, { job, node: "host-3", instance: "10.0.0.3:7073", severity: "critical", kafka_cluster: c.cfg.clusterName,
                        summary: `${job === "zookeeper" ? "ZooKeeper member" : "KRaft controller"} host-3 (10.0.0.3:7073) does not answer its metrics scrape` }),
                ]));
                assert.match(promtool(["test", "rules", "test.yml"], dir), /SUCCESS/);
            });
        }
    });

    it("under-replicated partitions fire only after 5 minutes; offline partitions, under-min-ISR and a controller count other than 1 after 1; all resolve", () => {
        const c = cluster(3, 3, "colocated", ON);
        assert.strictEqual(ALERT_TIMINGS.underReplicated, "5m");
        withTempDir("kc-alerts-", (dir) => {
            fs.writeFileSync(path.join(dir, "rules.yml"), renderAlertRules(c.cfg));
            const b = (name: string, node: string, values: string) => ({ series: `${name}{job="kafka-broker",node="${node}"}`, values });
            const series = [
                // URP on host-1 from 1m to 8m (28 samples), then 0.
                b("kafka_server_replicamanager_underreplicatedpartitions", "host-1", "0x3 4x27 0x20"),
                b("kafka_server_replicamanager_underreplicatedpartitions", "host-2", "0x50"),
                // Under min ISR on host-2 from 1m to 3m.
                b("kafka_server_replicamanager_underminisrpartitioncount", "host-2", "0x3 2x7 0x40"),
                // Two brokers claim to be the controller from 1m to 3m (host-1 always is); the count is 2 there.
                b("kafka_controller_kafkacontroller_activecontrollercount", "host-1", "1x50"),
                b("kafka_controller_kafkacontroller_activecontrollercount", "host-2", "0x3 1x7 0x40"),
                // Host-1, the controller, reports 3 offline partitions from 1m to 3m.
                b("kafka_controller_kafkacontroller_offlinepartitionscount", "host-1", "0x3 3x7 0x40"),
            ];
            const cluster1 = { severity: "critical", kafka_cluster: c.cfg.clusterName };
            fs.writeFileSync(path.join(dir, "test.yml"), ruleTest("rules.yml", series, [
                { at: "5m", alert: "KafkaUnderReplicatedPartitions", firing: [] }, // 4 minutes in: not yet
                { at: "6m30s", alert: "KafkaUnderReplicatedPartitions", firing: [{ node: "host-1", severity: "warning", kafka_cluster: c.cfg.clusterName, summary: "Broker host-1 leads 4 under-replicated partition(s)" }] },
                { at: "10m", alert: "KafkaUnderReplicatedPartitions", firing: [] },
                { at: "2m30s", alert: "KafkaUnderMinIsrPartitions", firing: [{ node: "host-2", ...cluster1, summary: "Broker host-2 leads 2 partition(s) under min.insync.replicas: acks=all writes fail" }] },
                { at: "4m", alert: "KafkaUnderMinIsrPartitions", firing: [] },
                { at: "2m30s", alert: "KafkaActiveControllerCount", firing: [{ ...cluster1, summary: "2 active controllers (exactly one expected)" }] },
                { at: "4m", alert: "KafkaActiveControllerCount", firing: [] },
                { at: "2m30s", alert: "KafkaOfflinePartitions", firing: [{ ...cluster1, summary: "3 partition(s) have no leader" }] },
                { at: "4m", alert: "KafkaOfflinePartitions", firing: [] },
            ]));
            assert.match(promtool(["test", "rules", "test.yml"], dir), /SUCCESS/);
        });
    });

    it("no active controller at all (every exporter gone) also fires the controller-count alert", () => {
        const c = kraftCluster(3, 3, "colocated", ON);
        withTempDir("kc-alerts-", (dir) => {
            fs.writeFileSync(path.join(dir, "rules.yml"), renderAlertRules(c.cfg));
            fs.writeFileSync(path.join(dir, "test.yml"), ruleTest("rules.yml", [
                { series: `kafka_controller_kafkacontroller_activecontrollercount{job="kafka-controller",node="host-1"}`, values: "1x3 stale" },
            ], [
                { at: "30s", alert: "KafkaActiveControllerCount", firing: [] },
                { at: "4m", alert: "KafkaActiveControllerCount", firing: [{ severity: "critical", kafka_cluster: c.cfg.clusterName, summary: "0 active controllers (exactly one expected)" }] },
            ]));
            assert.match(promtool(["test", "rules", "test.yml"], dir), /SUCCESS/);
        });
    });
});
