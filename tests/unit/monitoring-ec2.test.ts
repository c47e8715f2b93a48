// kafka:monitoring on EC2: the monitoring node (`monitoring-1`, an instance of its own with a data volume at
// /var/lib/prometheus), its security group (Prometheus and Alertmanager for kafka:monitoringCidrs only; the exporters and
// the brokers' internal listener for it only), its refusals, its plan, and a stack without monitoring unchanged.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as os from "os";
import { ConfigError, RawConfig, parseConfig } from "../../components/config";
import { KafkaCluster } from "../../components/cluster";
import { hostScript, parseHostCommand, parseStepInput } from "../../components/host-command";
import { PATHS } from "../../components/layout";
import { renderPlan, rollGateCommand } from "../../components/plan";
import { ec2Nodes } from "../../components/topology";
import { plain, recorded, reset, settle, value } from "./mocks";
import { kraftCluster, cluster } from "./fixtures";
import { KEY, SSH, stackConfig } from "./stacks";

const CIDRS = ["203.0.113.0/24", "198.51.100.0/28"];
const ON = { monitoring: true, mavenUrl: "http://repo.test/maven2", monitoringCidrs: CIDRS };
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";

async function build(raw: RawConfig, stack: string) {
    reset();
    const c = new KafkaCluster("test", { config: parseConfig(raw, stack) });
    const nodes = await value(c.nodes);
    const monitoring = await value(c.monitoring);
    await value(c.smokeTest);
    await settle();
    return { c, nodes, monitoring, of: (type: string) => recorded.filter((r) => r.type === type) };
}

/** The problems parseConfig reports, joined (a configuration that must be refused). */
function refusal(raw: RawConfig): string {
    try {
        parseConfig(raw, "test");
    } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
        return e.problems.join("\n");
    }
    return assert.fail("expected a refusal");
}

describe("monitoring node on EC2 (kafka:monitoring)", () => {
    it("config: defaults t3.small and 20 GiB; each of its settings read only with monitoring and on EC2 only", () => {
        const cfg = parseConfig({ ...SSH, ...ON }, "test");
        assert.ok(cfg.mode === "ec2");
        assert.deepStrictEqual(cfg.ec2.monitoring, { instanceType: "t3.small", cidrs: CIDRS, volumeGb: 20 });
        const custom = parseConfig({ ...SSH, ...ON, monitoringInstanceType: "t3.medium", monitoringVolumeGb: 50 }, "test");
        assert.ok(custom.mode === "ec2");
        assert.deepStrictEqual(custom.ec2.monitoring, { instanceType: "t3.medium", cidrs: CIDRS, volumeGb: 50 });
        const off = parseConfig({ ...SSH }, "test");
        assert.ok(off.mode === "ec2" && off.ec2.monitoring === undefined);
        for (const [k, v] of [["monitoringInstanceType", "t3.small"], ["monitoringCidrs", CIDRS], ["monitoringVolumeGb", 20]] as const) {
            assert.match(refusal({ ...SSH, [k]: v }), new RegExp(`kafka:${k}: is read only with kafka:monitoring true[\\s\\S]*Fix: pulumi config set kafka:monitoring true, or pulumi config rm kafka:${k}`));
            // Existing hosts: an EC2 setting.
            assert.match(refusal({ hosts: [{ id: 1, address: "192.0.2.11" }], brokerCount: 1, zookeeperCount: 1, sshUser: "admin", sshPrivateKey: KEY, ...ON, [k]: v }),
                new RegExp(`kafka:${k}: is an EC2 setting[\\s\\S]*pulumi config rm kafka:${k}`));
        }
    });

    it("refused, naming the setting and the fix: no monitoringCidrs, a bad, /0 or IPv6 block, a tiny volume, a bad type, Amazon Linux 2023, plaintext", () => {
        const { monitoringCidrs: _, ...noCidrs } = ON;
        assert.match(refusal({ ...SSH, ...noCidrs }),
            /kafka:monitoringCidrs: is required with kafka:monitoring true in EC2 mode[\s\S]*no default that opens them to the world[\s\S]*Fix: .*pulumi config set --path 'kafka:monitoringCidrs\[0\]' 203\.0\.113\.0\/24/);
        assert.match(refusal({ ...SSH, ...ON, monitoringCidrs: [] }), /kafka:monitoringCidrs: is required/);
        assert.match(refusal({ ...SSH, ...ON, monitoringCidrs: ["203.0.113.0"] }), /kafka:monitoringCidrs: "203\.0\.113\.0" is not a CIDR block[\s\S]*monitoringCidrs\[0\]/);
        assert.match(refusal({ ...SSH, ...ON, monitoringCidrs: ["0.0.0.0/0"] }), /kafka:monitoringCidrs: "0\.0\.0\.0\/0" opens Prometheus and Alertmanager to the whole internet/);
        assert.match(refusal({ ...SSH, ...ON, monitoringCidrs: ["2001:db8::/32"] }), /kafka:monitoringCidrs: "2001:db8::\/32" is an IPv6 block/);
        assert.match(refusal({ ...SSH, ...ON, monitoringVolumeGb: 4 }), /kafka:monitoringVolumeGb/);
        assert.match(refusal({ ...SSH, ...ON, monitoringInstanceType: "small" }), /kafka:monitoringInstanceType: "small" is not an EC2 instance type/);
        assert.match(refusal({ ...SSH, ...ON, os: "amazon-linux-2023" }),
            /kafka:os: is amazon-linux-2023, which has no Prometheus[\s\S]*Fix: pulumi config set kafka:os ubuntu-24\.04[\s\S]*pulumi config rm kafka:monitoring/);
        assert.doesNotThrow(() => parseConfig({ ...SSH, os: "amazon-linux-2023" }, "test"), "Amazon Linux without monitoring stays as it was");
        assert.match(refusal({ ...SSH, ...ON, security: "plaintext" }), /kafka:monitoring: on EC2 it adds the monitoring node[\s\S]*Fix: pulumi config set kafka:security sasl_ssl/);
    });

    it("topology: one more node, monitoring-1, last (after every Kafka node of any placement), its own type, no Kafka ids, AZ index 0, a volume", () => {
        for (const c of [cluster(3, 3, "colocated", { ...ON, monitoringInstanceType: "t3.medium" }), kraftCluster(3, 3, "dedicated", { ...ON, monitoringInstanceType: "t3.medium" })]) {
            assert.ok(c.cfg.mode === "ec2");
            const specs = ec2Nodes(c.cfg);
            const last = specs[specs.length - 1];
            assert.deepStrictEqual(last, { name: "monitoring-1", roles: ["monitoring"], user: "ubuntu", instanceType: "t3.medium", azIndex: 0, dataVolume: true });
            assert.strictEqual(specs.filter((n) => n.roles.includes("monitoring")).length, 1);
        }
        const off = cluster(3, 3, "colocated");
        assert.ok(off.cfg.mode === "ec2");
        assert.deepStrictEqual(ec2Nodes(off.cfg).map((n) => n.name), ["node-1", "node-2", "node-3"]);
    });

    it("plan: the monitoring node's steps are ready, java, storage (at /var/lib/prometheus), install, node-exporter (after storage), monitoring; no memory, listener, agent or service step", () => {
        for (const c of [cluster(3, 3, "dedicated", { ...ON, monitoringVolumeGb: 40 }), kraftCluster(3, 3, "colocated", { ...ON, monitoringVolumeGb: 40 })]) {
            const plan = renderPlan(c.cfg, c.nodes, c.secrets, { clusterId: "x" });
            const mine = plan.filter((s) => s.node === "monitoring-1" && !s.name.startsWith("cluster-"));
            assert.deepStrictEqual(mine.map((s) => s.name).sort(), ["monitoring-1-install", "monitoring-1-java", "monitoring-1-monitoring",
                "monitoring-1-node-exporter", "monitoring-1-ready", "monitoring-1-storage"]);
            assert.ok(!plan.some((s) => /-service$/.test(s.name)), "EC2: no teardown steps");
            const storage = plan.find((s) => s.name === "monitoring-1-storage")!;
            const env = parseHostCommand(storage.create).env;
            const vol = c.nodes.find((n) => n.name === "monitoring-1")!.dataVolumeId;
            assert.deepStrictEqual([env.VOLUME_ID, env.MOUNT_POINT, env.SERVICES, env.SIZE_GB, env.SERVICE_USER, env.SERVICE_HOME],
                [vol, "/var/lib/prometheus", "prometheus prometheus-alertmanager prometheus-node-exporter", "40", "prometheus", "/var/lib/prometheus"]);
            assert.ok(PATHS.prometheusData.startsWith(`${env.MOUNT_POINT}/`) && PATHS.alertmanagerData.startsWith(`${env.MOUNT_POINT}/`) &&
                PATHS.nodeExporterTextfiles.startsWith(`${env.MOUNT_POINT}/`), "the time series, Alertmanager's state and the textfiles are on the volume");
            assert.deepStrictEqual(plan.find((s) => s.name === "monitoring-1-node-exporter")!.dependsOn, ["monitoring-1-java", "monitoring-1-storage"]);
            assert.ok(plan.find((s) => s.name === "monitoring-1-install")!.dependsOn.includes("monitoring-1-storage"));
            // The brokers' node exporters do not wait for a volume.
            for (const n of c.nodes.filter((x) => x.brokerId !== undefined)) {
                assert.deepStrictEqual(plan.find((s) => s.name === `${n.name}-node-exporter`)!.dependsOn, [`${n.name}-java`]);
            }
        }
    });

    it("mount-data-volume.sh takes the monitoring node's mount point and units, and refuses a mount point outside /var/lib or a unit list with shell text", () => {
        const c = cluster(3, 3, "colocated", ON);
        const step = renderPlan(c.cfg, c.nodes, c.secrets).find((s) => s.name === "monitoring-1-storage")!;
        const { env } = parseHostCommand(step.create);
        // lib.sh first (as on a host), with a wait that gives up at once: the run stops at the device lookup or before.
        const run = (over: Record<string, string>) => spawnSync("bash", ["-c", `${hostScript("lib.sh")}\nwait_until() { return 1; }\n${hostScript("mount-data-volume.sh")}`], {
            // (HOME elsewhere: bash run with a socket on stdin reads ~/.bashrc.)
            env: { PATH: process.env.PATH, HOME: os.tmpdir(), ...env, ...over, DEVICE: "/nonexistent", KC_LIVE_OUTPUT: "1" }, encoding: "utf8", timeout: 30_000,
        });
        const good = run({});
        assert.notStrictEqual(good.status, 0);
        assert.match(good.stderr, /volume vol-0\d is not attached to this instance/, "the monitoring node's values pass the checks");
        for (const mp of ["/etc/kafka", "/var/lib", "/var/lib/../etc", "/var/lib/prometheus/", "/var/lib//prometheus"]) {
            assert.match(run({ MOUNT_POINT: mp }).stderr, /is not a data directory below \/var\/lib/, mp);
        }
        assert.match(run({ SERVICES: "prometheus; rm -rf /" }).stderr, /is not a list of systemd unit names/);
    });

    it("a roll of the monitoring node checks nothing in the cluster (no Kafka tools there, no way to ZooKeeper); a broker's roll checks as before", () => {
        const c = cluster(3, 3, "dedicated", ON);
        const mon = c.nodes.find((n) => n.name === "monitoring-1")!;
        const gate = parseHostCommand(rollGateCommand(c.cfg, mon, c.nodes, "before", true)).env;
        assert.deepStrictEqual([gate.BOOTSTRAP, gate.ZK_MEMBERS, gate.BROKER_ID, gate.ZK_SELF], ["", "", "", ""]);
        const broker = parseHostCommand(rollGateCommand(c.cfg, c.nodes.find((n) => n.brokerId === 1)!, c.nodes, "before", true)).env;
        assert.strictEqual(broker.BOOTSTRAP.split(",").length, 3);
        assert.strictEqual(broker.ZK_MEMBERS.split(" ").length, 3);
    });

    it("EC2 stack: the monitoring instance (its type, tags, own security group, same image, key and subnets), its gp3 volume, and its URLs in the output", async () => {
        const { of, nodes, monitoring } = await build(stackConfig("prod", { ...SSH, ...ON, monitoringInstanceType: "t3.medium", monitoringVolumeGb: 30 }), "prod");
        const instances = of("aws:ec2/instance:Instance");
        const mon = instances.find((i) => i.name === "kafka-prod-monitoring-1")!;
        assert.ok(mon, instances.map((i) => i.name).join(", "));
        assert.strictEqual(nodes[nodes.length - 1].name, "monitoring-1", "last in the node order");
        assert.strictEqual(mon.inputs.instanceType, "t3.medium");
        assert.deepStrictEqual(mon.inputs.tags, { "kafka-cluster": "kafka-prod", Name: "kafka-prod-monitoring-1", role: "monitoring", os: "ubuntu-24.04" });
        assert.deepStrictEqual(mon.inputs.vpcSecurityGroupIds, ["kafka-prod-monitoring-sg-id"]);
        const broker = instances.find((i) => i.name === "kafka-prod-broker-1")!;
        for (const k of ["ami", "keyName", "associatePublicIpAddress", "metadataOptions", "rootBlockDevice"]) {
            assert.deepStrictEqual(mon.inputs[k], broker.inputs[k], k);
        }
        assert.deepStrictEqual(broker.inputs.vpcSecurityGroupIds, ["kafka-prod-sg-id"], "the Kafka nodes stay in the cluster's group alone");
        assert.deepStrictEqual(mon.options.ignoreChanges, ["keyName", "subnetId", "associatePublicIpAddress"]);
        const volume = of("aws:ebs/volume:Volume").find((v) => v.name === "kafka-prod-monitoring-1-data")!;
        assert.deepStrictEqual([volume.inputs.size, volume.inputs.type, volume.inputs.encrypted, volume.inputs.tags.role], [30, "gp3", true, "monitoring-data"]);
        assert.strictEqual(volume.inputs.availabilityZone, "us-east-1a", "in its instance's AZ (index 0)");
        const attachment = of("aws:ec2/volumeAttachment:VolumeAttachment").find((a) => a.name === "kafka-prod-monitoring-1-data")!;
        assert.deepStrictEqual([attachment.inputs.instanceId, attachment.inputs.volumeId], ["kafka-prod-monitoring-1-id", "kafka-prod-monitoring-1-data-id"]);
        const storage = of("command:remote:Command").find((c) => c.name === "monitoring-1-storage")!;
        const env = parseStepInput(String(plain(storage.inputs.stdin))).env;
        assert.deepStrictEqual([env.VOLUME_ID, env.MOUNT_POINT, env.SIZE_GB], ["kafka-prod-monitoring-1-data-id", "/var/lib/prometheus", "30"]);
        // Its URLs: at the address people reach (its public IP: the instances have one), which its certificate names.
        const node = nodes.find((n) => n.name === "monitoring-1")!;
        assert.ok(monitoring.enabled && monitoring.prometheusUrl !== undefined);
        assert.strictEqual(monitoring.prometheusUrl, `https://${node.publicAddress}:9090`);
        assert.strictEqual(monitoring.alertmanagerUrl, `https://${node.publicAddress}:9193`);
        assert.match(node.publicAddress, /^203\.0\.113\.\d+$/);
        const cert = of("command:local:Command").find((c) => c.name === "kafka-prod-cert-monitoring-1")!;
        assert.match(String(plain(plain(cert.inputs.environment).KC_SANS)), new RegExp(`IP:${node.publicAddress.replace(/\./g, "\\.")}`));
        assert.ok(!of("command:local:Command").some((c) => c.name.endsWith("-service")), "EC2: no teardown commands");
    });

    it("security groups: 9090 and 9193 open to kafka:monitoringCidrs only, on the monitoring node only; the exporters and the internal listener to the monitoring group only", async () => {
        const { of } = await build({ ...SSH, ...ON }, "dev");
        const groups = of("aws:ec2/securityGroup:SecurityGroup").map((g) => g.name).sort();
        assert.deepStrictEqual(groups, ["kafka-dev-monitoring-sg", "kafka-dev-sg"]);
        const rules = of(INGRESS);
        const CLUSTER = "kafka-dev-sg-id", MON = "kafka-dev-monitoring-sg-id";
        const at = (port: number) => rules.filter((r) => r.inputs.fromPort === port)
            .map((r) => [r.inputs.securityGroupId, r.inputs.cidrIpv4 ?? `sg:${r.inputs.referencedSecurityGroupId}`]).sort();
        for (const port of [9090, 9193]) {
            assert.deepStrictEqual(at(port), CIDRS.map((c) => [MON, c]).sort(), `${port}`);
        }
        // Metrics: the brokers' and ZooKeeper members' agents and every Kafka node's exporter, from the monitoring group only.
        for (const port of [7071, 7073, 9100]) assert.deepStrictEqual(at(port), [[CLUSTER, `sg:${MON}`]], `${port}`);
        assert.deepStrictEqual(at(7072), [], "no controller in ZooKeeper mode");
        // The lag collector logs in on the internal listener (every mode's port, like the members' own rule).
        for (const port of [9093, 9095, 9097]) assert.deepStrictEqual(at(port), [[CLUSTER, `sg:${CLUSTER}`], [CLUSTER, `sg:${MON}`]].sort(), `${port}`);
        // Nothing else of the cluster is open to the monitoring node, and nothing of it to the cluster's group.
        const fromMon = rules.filter((r) => r.inputs.referencedSecurityGroupId === MON).map((r) => r.inputs.fromPort).sort((a, b) => a - b);
        assert.deepStrictEqual(fromMon, [7071, 7073, 9093, 9095, 9097, 9100]);
        const intoMon = rules.filter((r) => r.inputs.securityGroupId === MON);
        assert.deepStrictEqual(intoMon.map((r) => [r.inputs.fromPort, r.inputs.cidrIpv4]).sort(),
            [[22, "198.51.100.7/32"], ...CIDRS.flatMap((c) => [[9090, c], [9193, c]])].sort());
        assert.ok(rules.every((r) => r.inputs.fromPort === r.inputs.toPort && r.inputs.cidrIpv4 !== "0.0.0.0/0"));
        const egress = of("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").map((r) => [r.name, r.inputs.securityGroupId]).sort();
        assert.deepStrictEqual(egress, [["kafka-dev-egress", CLUSTER], ["kafka-dev-monitoring-egress", MON]]);
        // KRaft: the controllers' agent port instead of ZooKeeper's.
        const kraft = await build({ ...SSH, ...ON, metadata: "kraft" }, "dev");
        const kraftFromMon = kraft.of(INGRESS).filter((r) => r.inputs.referencedSecurityGroupId === "kafka-dev-monitoring-sg-id").map((r) => r.inputs.fromPort).sort((a, b) => a - b);
        assert.deepStrictEqual(kraftFromMon, [7071, 7072, 9093, 9095, 9097, 9100]);
    });

    it("SSH from the VPC (kafka:sshFromVpc, no public IPs): the monitoring node's SSH rule is the VPC's like the others', and its URLs are at its private address", async () => {
        const { of, nodes, monitoring } = await build({ associatePublicIp: false, sshFromVpc: true, ...ON }, "dev");
        const ssh = of(INGRESS).filter((r) => r.inputs.fromPort === 22).map((r) => [r.name, r.inputs.securityGroupId, r.inputs.cidrIpv4]).sort();
        assert.deepStrictEqual(ssh, [["kafka-dev-monitoring-ssh-vpc", "kafka-dev-monitoring-sg-id", "172.31.0.0/16"], ["kafka-dev-ssh-vpc", "kafka-dev-sg-id", "172.31.0.0/16"]]);
        const node = nodes.find((n) => n.name === "monitoring-1")!;
        assert.ok(monitoring.enabled);
        assert.strictEqual(monitoring.prometheusUrl, `https://${node.privateAddress}:9090`);
    });

    it("a stack without kafka:monitoring registers what it did before: no monitoring instance, group, volume or rule", async () => {
        const { of } = await build({ ...SSH, clientCidrs: ["172.31.0.0/16"] }, "dev");
        const aws = recorded.filter((r) => r.type.startsWith("aws:")).map((r) => r.name).sort();
        assert.deepStrictEqual(aws, [
            "kafka-dev-client-0", "kafka-dev-client-0-9094", "kafka-dev-client-0-9096", "kafka-dev-egress", "kafka-dev-node-1", "kafka-dev-node-2",
            "kafka-dev-node-3", "kafka-dev-self-2181", "kafka-dev-self-2888", "kafka-dev-self-3888", "kafka-dev-self-9092", "kafka-dev-self-9093",
            "kafka-dev-self-9094", "kafka-dev-self-9095", "kafka-dev-self-9096", "kafka-dev-self-9097", "kafka-dev-sg", "kafka-dev-ssh", "kafka-dev-ssh-0",
        ]);
        assert.ok(!of("command:remote:Command").some((c) => /monitoring|node-exporter/.test(c.name)));
        assert.ok(of("aws:ec2/instance:Instance").every((i) => i.inputs.vpcSecurityGroupIds.length === 1 && i.inputs.vpcSecurityGroupIds[0] === "kafka-dev-sg-id"));
    });
});
