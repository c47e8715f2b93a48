// kafka:monitoring, the monitoring host: the `monitoring` role in kafka:hosts and its refusals, the steps it adds (and
// that a cluster without it has none of), the files Prometheus and Alertmanager load (checked by the packages' own
// promtool and amtool), the password hash, and the consumer lag collector run against a stand-in kafka-consumer-groups.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as bcrypt from "bcryptjs";
import { RawConfig, parseConfig } from "../../components/config";
import { hostScript, parseHostCommand } from "../../components/host-command";
import { observeCommand, renderPlan } from "../../components/plan";
import { MONITORING_FILES, monitoringFiles, passwordHash, renderConsole } from "../../components/roles/monitoring";
import { ClusterNode, NodeIdentity, hostNodes } from "../../components/topology";
import { testSecrets, withTempDir } from "./fixtures";
import { KEY } from "./stacks";

const ON = { monitoring: true, mavenUrl: "http://repo.test/maven2" };
const hosts = (n: number, extra: object[] = []) => [...Array.from({ length: n }, (_, i) => ({ id: i + 1, address: `192.0.2.${11 + i}` })), ...extra];
const MON_HOST = { id: 9, address: "192.0.2.99", roles: ["monitoring"] };
const raw = (extra: RawConfig = {}): RawConfig => ({ hosts: hosts(3, [MON_HOST]), sshUser: "admin", sshPrivateKey: KEY, ...ON, ...extra });

function resolved(r: RawConfig) {
    const cfg = parseConfig(r, "test");
    if (cfg.mode !== "hosts") throw new Error("hosts mode");
    const nodes = hostNodes(cfg).map((n): ClusterNode => n);
    return { cfg, nodes, secrets: testSecrets(cfg, nodes) };
}

function tool(cmd: string, args: string[], cwd: string): string {
    const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: 60_000 });
    if (r.error) throw r.error;
    assert.strictEqual(r.status, 0, `${cmd} ${args.join(" ")}:\n${r.stdout}${r.stderr}`);
    return r.stdout + r.stderr;
}

describe("monitoring host (kafka:monitoring, role monitoring)", () => {
    it("a host with only the role monitoring joins a cluster whose roles are assigned by position; it runs no Kafka service", () => {
        for (const metadata of ["zookeeper", "kraft"]) {
            const { nodes } = resolved(raw({ metadata }));
            assert.deepStrictEqual(nodes.map((n) => [n.name, n.roles]), [
                ["host-1", [metadata === "kraft" ? "controller" : "zookeeper", "broker"]], ["host-2", [metadata === "kraft" ? "controller" : "zookeeper", "broker"]],
                ["host-3", [metadata === "kraft" ? "controller" : "zookeeper", "broker"]], ["host-9", ["monitoring"]],
            ]);
            const mon = nodes[3];
            assert.strictEqual(mon.brokerId ?? mon.zookeeperId ?? mon.controllerId, undefined);
        }
    });

    it("refused, each naming the setting and the fix: two monitoring hosts, the role without kafka:monitoring, with plaintext, bad durations, settings without monitoring", () => {
        const refused = (r: RawConfig, re: RegExp) => assert.throws(() => parseConfig(r, "t"), (e: Error) => re.test(e.message), String(re));
        refused(raw({ hosts: hosts(3, [MON_HOST, { id: 10, address: "192.0.2.100", roles: ["monitoring"] }]) }),
            /kafka:hosts\[4\]\.roles[\s\S]*given to 2 hosts[\s\S]*keep "monitoring" on hosts\[3\] only/);
        refused({ hosts: hosts(3, [MON_HOST]), sshUser: "admin", sshPrivateKey: KEY }, /kafka:hosts\[3\]\.roles[\s\S]*needs kafka:monitoring true[\s\S]*pulumi config set kafka:monitoring true/);
        refused(raw({ security: "plaintext" }), /kafka:hosts\[3\]\.roles[\s\S]*over TLS with a password[\s\S]*pulumi config set kafka:security sasl_ssl/);
        refused(raw({ alertAfter: "5 minutes" }), /kafka:alertAfter[\s\S]*duration like 15s, 5m or 1h[\s\S]*pulumi config set kafka:alertAfter 5m/);
        refused(raw({ monitoringScrapeInterval: "0s" }), /kafka:monitoringScrapeInterval[\s\S]*pulumi config set kafka:monitoringScrapeInterval 15s/);
        refused(raw({ alertWebhookUrl: "hooks.example.com" }), /kafka:alertWebhookUrl[\s\S]*http\(s\) URL/);
        refused({ hosts: hosts(3), sshUser: "admin", sshPrivateKey: KEY, consumerLagAlert: 5 }, /kafka:consumerLagAlert[\s\S]*only with kafka:monitoring true/);
        refused(raw({ consumerLagAlert: 0 }), /kafka:consumerLagAlert/);
    });

    it("steps: the node exporter on every node (after its Java step) with a teardown; on the monitoring host Java, the release (for the lag collector), Prometheus and Alertmanager; no memory or listener check there", () => {
        const { cfg, nodes, secrets } = resolved(raw({ metadata: "kraft" }));
        const plan = renderPlan(cfg, nodes, secrets, { clusterId: "x", generations: {} });
        const names = plan.map((s) => s.name);
        assert.deepStrictEqual(names.filter((n) => n.startsWith("host-9-")).sort(),
            ["host-9-install", "host-9-java", "host-9-monitoring", "host-9-monitoring-service", "host-9-node-exporter", "host-9-node-exporter-service", "host-9-ready"]);
        for (const n of nodes) {
            const ne = plan.find((s) => s.name === `${n.name}-node-exporter`)!;
            assert.deepStrictEqual(ne.dependsOn, [`${n.name}-java`]);
            assert.match(ne.create, new RegExp(`LISTEN_ADDRESS='${n.privateAddress.replace(/\./g, "\\.")}:9100'`));
            assert.match(plan.find((s) => s.name === `${n.name}-node-exporter-service`)!.delete!, /UNITS='prometheus-node-exporter'/);
        }
        const mon = plan.find((s) => s.name === "host-9-monitoring")!;
        assert.ok(mon.secrets, "the monitoring step carries the password and the TLS key: a secret input");
        assert.deepStrictEqual(mon.dependsOn, ["host-9-install", "host-9-node-exporter"]);
        assert.match(plan.find((s) => s.name === "host-9-monitoring-service")!.delete!, /UNITS='prometheus prometheus-alertmanager kafka-consumer-lag\.timer'/);
        // The Kafka services' first steps do not wait for a host that runs none.
        assert.ok(plan.every((s) => !s.dependsOn.includes("host-9-memory")));
    });

    it("observe.sh watches the node exporter on every node and Prometheus and Alertmanager on the monitoring host (drift repaired by the next up); nothing without monitoring", () => {
        const { cfg, nodes } = resolved(raw({ metadata: "kraft" }));
        const services = (c: typeof cfg, n: NodeIdentity) => parseHostCommand(observeCommand(c, n)).env.SERVICES;
        assert.strictEqual(services(cfg, nodes[0]), "kafka kafka-controller prometheus-node-exporter");
        assert.strictEqual(services(cfg, nodes[3]), "prometheus-node-exporter prometheus prometheus-alertmanager");
        const off = resolved({ hosts: hosts(3), sshUser: "admin", sshPrivateKey: KEY });
        assert.strictEqual(services(off.cfg, off.nodes[0]), "kafka zookeeper");
    });

    it("a cluster without kafka:monitoring has no monitoring step, and one with monitoring but no monitoring host has the node exporters only", () => {
        const off = resolved({ hosts: hosts(3), sshUser: "admin", sshPrivateKey: KEY });
        assert.deepStrictEqual(renderPlan(off.cfg, off.nodes, off.secrets).filter((s) => /node-exporter|monitoring/.test(s.name)), []);
        const noHost = resolved({ hosts: hosts(3), sshUser: "admin", sshPrivateKey: KEY, ...ON });
        assert.deepStrictEqual(renderPlan(noHost.cfg, noHost.nodes, noHost.secrets).filter((s) => /monitoring/.test(s.name)), []);
        assert.strictEqual(renderPlan(noHost.cfg, noHost.nodes, noHost.secrets).filter((s) => s.name.endsWith("-node-exporter")).length, 3);
    });

    it("the monitoring host's files pass promtool check config, promtool check web-config and amtool check-config; alerts go to Alertmanager over TLS with the password", () => {
        for (const extra of [{ metadata: "kraft" }, { alertWebhookUrl: "https://hooks.example.com/kafka", alertAfter: "30s", monitoringScrapeInterval: "5s" }]) {
            const { cfg, nodes, secrets } = resolved(raw(extra));
            // A real key and certificate: promtool's web-config check loads the pair.
            const pair = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "-", "-out", "-",
                "-subj", "/CN=monitoring.test", "-days", "1"], { encoding: "utf8" }).stdout;
            const files = monitoringFiles(cfg, nodes[3], nodes, { ...secrets, keystores: { ...secrets.keystores, [nodes[3].name]: pair + secrets.caCertificate } });
            withTempDir("kc-monitoring-", (dir) => {
                // The files where the host has them, moved under the temporary directory.
                const moved = (p: string) => path.join(dir, p);
                for (const [p, , , content] of files) {
                    fs.mkdirSync(path.dirname(moved(p)), { recursive: true });
                    fs.writeFileSync(moved(p), content.split("/etc/").join(`${dir}/etc/`));
                }
                const config = fs.readFileSync(moved(MONITORING_FILES.prometheusConfig), "utf8");
                assert.match(config, /alertmanagers:\n    - scheme: https\n      basic_auth: \{ username: 'monitoring', password_file: '[^']+\/password' \}/);
                assert.match(config, /targets: \['10\.0\.0\.4:9193'\]|targets: \['192\.0\.2\.99:9193'\]/);
                tool("promtool", ["check", "config", moved(MONITORING_FILES.prometheusConfig)], dir);
                tool("amtool", ["check-config", moved(MONITORING_FILES.alertmanagerConfig)], dir);
                const am = fs.readFileSync(moved(MONITORING_FILES.alertmanagerConfig), "utf8");
                if ("alertWebhookUrl" in extra) assert.match(am, /url: 'https:\/\/hooks\.example\.com\/kafka'\n        send_resolved: true/);
                else assert.match(am, /receiver: 'none'/);
                // The web configuration names the certificate and key files, which promtool opens (stand-ins here: it
                // checks that they are named and readable, not a TLS handshake).
                const web = fs.readFileSync(moved(MONITORING_FILES.web), "utf8");
                assert.match(web, /basic_auth_users:\n  monitoring: '\$2b\$10\$/);
                tool("promtool", ["check", "web-config", moved(MONITORING_FILES.web)], dir);
            });
            const byPath = new Map(files.map(([p, mode, owner]) => [p, `${mode} ${owner}`]));
            assert.strictEqual(byPath.get(MONITORING_FILES.key), "0640 root:prometheus", "the TLS key: root and Prometheus' user only");
            assert.strictEqual(byPath.get(MONITORING_FILES.password), "0640 root:prometheus");
            assert.strictEqual(byPath.get("/etc/kafka/admin.properties"), "0600 root:root", "the lag collector's admin login: root only");
            // The lag collector runs every scrape interval, but at least every 30 s (each run starts a JVM).
            const timer = files.find(([p]) => p.endsWith("/kafka-consumer-lag.timer"))![3];
            assert.match(timer, /^OnUnitActiveSec=30s$/m);
        }
        for (const [interval, every] of [["1m", "60s"], ["45s", "45s"]]) {
            const { cfg, nodes, secrets } = resolved(raw({ monitoringScrapeInterval: interval }));
            const files = monitoringFiles(cfg, nodes[3], nodes, secrets);
            assert.match(files.find(([p]) => p.endsWith("/kafka-consumer-lag.timer"))![3], new RegExp(`^OnUnitActiveSec=${every}$`, "m"));
        }
    });

    it("teardown with kafka:wipeOnDestroy: stops Prometheus, Alertmanager and the lag timer, removes the program's files and units only (every path on the allow-list)", () => {
        const { cfg, nodes, secrets } = resolved(raw({ wipeOnDestroy: true }));
        const line = renderPlan(cfg, nodes, secrets).find((s) => s.name === "host-9-monitoring-service")!.delete!;
        withTempDir("kc-teardown-mon-", (dir) => {
            // Stand-ins for the commands the teardown runs, so nothing on this machine is stopped or removed.
            for (const cmd of ["systemctl", "rm"]) fs.writeFileSync(path.join(dir, cmd), `#!/bin/sh\necho "${cmd} $*" >> "${dir}/calls"\n`, { mode: 0o755 });
            // As systemd's: list-unit-files matches whole unit file names, so a name without its type suffix lists nothing (exit 1).
            fs.appendFileSync(path.join(dir, "systemctl"), `if [ "$1" = list-unit-files ]; then case $2 in *.service|*.timer) exit 0 ;; *) exit 1 ;; esac; fi\n`);
            const script = parseHostCommand(line);
            const r = spawnSync("bash", ["-c", script.script], { env: { ...process.env, ...script.env, PATH: `${dir}:${process.env.PATH}`, KC_LIVE_OUTPUT: "1" }, encoding: "utf8", timeout: 60_000 });
            assert.strictEqual(r.status, 0, r.stderr);
            const calls = fs.readFileSync(path.join(dir, "calls"), "utf8");
            for (const u of ["prometheus.service", "prometheus-alertmanager.service", "kafka-consumer-lag.timer"]) assert.match(calls, new RegExp(`^systemctl disable --now ${u.replace(".", "\\.")}$`, "m"), calls);
            assert.match(calls, /^rm -rf -- \/etc\/kafka-monitoring$/m);
            assert.match(calls, /^rm -rf -- \/etc\/kafka\/consumer-lag\.sh$/m);
            assert.match(calls, /^rm -f \/etc\/systemd\/system\/kafka-consumer-lag\.timer \/etc\/systemd\/system\/kafka-consumer-lag\.service$/m);
            assert.doesNotMatch(calls, /prometheus-node-exporter|\/var\/lib\/prometheus/, "the node exporter (its own step) and the time series stay");
        });
    });

    it("the password hash is bcrypt, always the same for one password (a no-op up rewrites nothing), different for another", () => {
        const h = passwordHash("s3cret-password");
        assert.ok(bcrypt.compareSync("s3cret-password", h));
        assert.ok(!bcrypt.compareSync("other", h));
        assert.strictEqual(passwordHash("s3cret-password"), h);
        assert.notStrictEqual(passwordHash("another-password"), h);
    });

    it("the overview page is a console template with the figures, lag, disk and alert tables, and the cluster's name escaped", () => {
        const { cfg } = resolved(raw({ metadata: "kraft", clusterName: "kafka-prod" }));
        const page = renderConsole(cfg);
        for (const id of ["brokers-up", "quorum-up", "controller", "under-replicated", "offline", "messages-in", "bytes-in", "lag", "disk", "alerts"]) {
            assert.match(page, new RegExp(`id="${id}"`));
        }
        assert.match(page, /Controllers up/);
        assert.match(page, /<h1>Kafka cluster kafka-prod<\/h1>/);
        assert.doesNotMatch(page, /<script|https?:\/\//, "nothing runs or loads from elsewhere");
    });

    it("consumer-lag.sh sums the lag per group and topic from kafka-consumer-groups, skips partitions without a committed offset, replaces the file whole; a failed describe keeps the last file", () => {
        withTempDir("kc-lag-", (dir) => {
            fs.mkdirSync(path.join(dir, "bin"));
            const groupsTool = path.join(dir, "bin", "kafka-consumer-groups.sh");
            const describe = [
                "", "GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID",
                "orders-g        orders          0          100             150             50              -               -               -",
                "orders-g        orders          1          10              40              30              -               -               -",
                "orders-g        orders          2          -               40              -               -               -               -",
                "", "GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID",
                "billing         invoices        0          5               5               0               c-1             /10.0.0.1       c",
            ].join("\n");
            fs.writeFileSync(path.join(dir, "describe.txt"), describe);
            fs.writeFileSync(groupsTool, `#!/bin/sh\necho "$@" > "${dir}/args"\n[ -f "${dir}/fail" ] && exit 1\ncat "${dir}/describe.txt"\n`, { mode: 0o755 });
            const textfile = path.join(dir, "lag.prom");
            const run = () => spawnSync("bash", ["-c", hostScript("consumer-lag.sh")], {
                env: { ...process.env, BOOTSTRAP: "10.0.0.1:9097", CLIENT_CONFIG: "/etc/kafka/admin.properties", KAFKA_HOME: dir, LOG_DIR: path.join(dir, "logs"), TEXTFILE: textfile, TIMEOUT_MS: "60000" },
                encoding: "utf8", timeout: 30_000,
            });
            assert.strictEqual(run().status, 0);
            const text = fs.readFileSync(textfile, "utf8");
            assert.match(text, /^kafka_consumergroup_lag\{group="billing",topic="invoices"\} 0$/m);
            assert.match(text, /^kafka_consumergroup_lag\{group="orders-g",topic="orders"\} 80$/m);
            assert.match(text, /^kafka_consumergroup_lag_collected_timestamp_seconds \d{10}$/m);
            assert.match(fs.readFileSync(path.join(dir, "args"), "utf8"), /--bootstrap-server 10\.0\.0\.1:9097 --command-config \/etc\/kafka\/admin\.properties --describe --all-groups --timeout 60000\s*$/);
            // promtool reads it as the node exporter's textfile collector would.
            const check = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
            assert.strictEqual(check.status, 0, check.stdout + check.stderr);
            fs.writeFileSync(path.join(dir, "fail"), "");
            const failed = run();
            assert.notStrictEqual(failed.status, 0);
            assert.strictEqual(fs.readFileSync(textfile, "utf8"), text, "the last collection stays");
            assert.deepStrictEqual(fs.readdirSync(dir).filter((f) => f.startsWith("lag.prom.")), [], "no half-written file left");
        });
    });
});
