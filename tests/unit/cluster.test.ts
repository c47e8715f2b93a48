// KafkaCluster under Pulumi mocks: which resources a stack registers, with what inputs.
import * as assert from "assert";
import { recorded, reset, settle, value, SUBNETS } from "./mocks";
import * as pulumi from "@pulumi/pulumi";
import { parseConfig, RawConfig } from "../../components/config";
import { KafkaCluster } from "../../components/cluster";
import { KEY, SSH, stackConfig } from "./stacks";
import { manifestText } from "./fixtures";


async function build(raw: RawConfig, stack: string) {
    reset();
    const c = new KafkaCluster("test", { config: parseConfig(raw, stack) });
    const out = {
        bootstrap: await value(c.bootstrapServers),
        zk: await value(c.zookeeperConnect),
        nodes: await value(c.nodes),
    };
    await settle();
    return { c, out, of: (type: string) => recorded.filter((r) => r.type === type) };
}

/** Pulumi's wire marker for a secret value. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const isSecretValue = (v: any) => typeof v === "object" && v !== null && SECRET_SIG in v;
const connectionOf = (c: { inputs: any }) => (isSecretValue(c.inputs.connection) ? c.inputs.connection.value : c.inputs.connection);

const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";

describe("KafkaCluster (EC2 mode, mocked)", () => {
    it("dev: 3 co-located instances spread over 3 AZs, tagged with cluster, role and ids", async () => {
        const { of, out } = await build(stackConfig("dev", SSH), "dev");
        const instances = of("aws:ec2/instance:Instance");
        assert.strictEqual(instances.length, 3);
        assert.deepStrictEqual(instances.map((i) => i.inputs.instanceType), ["t3.small", "t3.small", "t3.small"]);
        assert.deepStrictEqual(instances.map((i) => SUBNETS[i.inputs.subnetId]).sort(), ["us-east-1a", "us-east-1b", "us-east-1c"]);
        for (const i of instances) {
            assert.strictEqual(i.inputs.tags["kafka-cluster"], "kafka-dev");
            assert.strictEqual(i.inputs.tags.role, "zookeeper+broker");
            assert.ok(i.inputs.tags["broker-id"]);
            assert.strictEqual(i.inputs.ami, "ami-0ubuntuamd64000001", "t3 is x86_64: Canonical's amd64 image");
            assert.strictEqual(i.inputs.rootBlockDevice.volumeSize, 20);
        }
        assert.strictEqual(of("aws:ebs/volume:Volume").length, 0, "dev keeps data on the root volume");
        assert.strictEqual(of("aws:ec2/securityGroup:SecurityGroup").length, 1);
        assert.strictEqual(out.bootstrap.split(",").length, 3);
        assert.match(out.bootstrap, /^198\.18\.0\.\d+:9092(,198\.18\.0\.\d+:9092){2}$/, "publicAccess advertises the brokers' Elastic IPs");
        assert.match(out.zk, /^10\.0\.\d+\.10:2181(,10\.0\.\d+\.10:2181){2}\/kafka$/);
        assert.deepStrictEqual(out.nodes.map((n) => n.brokerId), [1, 2, 3]);
        assert.ok(out.nodes.every((n) => n.instanceId && /^ssh -i \S+ ubuntu@198\.18\.0\.\d+$/.test(n.ssh)));
    });

    it("publicAccess: each broker gets an Elastic IP that clients and SSH use, not the instance's changing public IP", async () => {
        const { of, out } = await build(stackConfig("dev", SSH), "dev");
        const instances = of("aws:ec2/instance:Instance");
        const eips = of("aws:ec2/eip:Eip");
        const assocs = of("aws:ec2/eipAssociation:EipAssociation");
        assert.deepStrictEqual(eips.map((e) => e.name).sort(), ["kafka-dev-node-1-ip", "kafka-dev-node-2-ip", "kafka-dev-node-3-ip"]);
        for (const e of eips) assert.strictEqual(e.inputs.domain, "vpc");
        // Each association ties the node's own EIP to the node's own instance.
        for (const n of ["node-1", "node-2", "node-3"]) {
            const a = assocs.find((x) => x.name === `kafka-dev-${n}-ip`)!;
            assert.strictEqual(a.inputs.allocationId, `eipalloc-kafka-dev-${n}-ip`);
            assert.strictEqual(a.inputs.instanceId, `kafka-dev-${n}-id`);
        }
        // The mock gives instances 203.0.113.x (what a stop/start would change) and EIPs 198.18.0.x.
        const eipAddresses = out.nodes.map((n) => n.publicAddress);
        assert.ok(eipAddresses.every((a) => /^198\.18\.0\.\d+$/.test(a)), eipAddresses.join(","));
        assert.deepStrictEqual(out.bootstrap.split(",").map((e) => e.replace(/:9092$/, "")), eipAddresses);
        assert.strictEqual(instances.length, 3);
        const cmds = of("command:remote:Command");
        for (const [i, n] of ["node-1", "node-2", "node-3"].entries()) {
            const c = cmds.find((x) => x.name === `${n}-ready`)!;
            assert.strictEqual(connectionOf(c).host, out.nodes[i].publicAddress, `${n} is provisioned over its EIP`);
            assert.ok(c.options.dependencies.some((u) => u.endsWith(`aws:ec2/eipAssociation:EipAssociation::kafka-dev-${n}-ip`)),
                `${n}-ready waits for the EIP association`);
        }
        const files = manifestText(String(cmds.find((x) => x.name === "node-2-broker")!.inputs.create));
        assert.match(files, new RegExp(`advertised\\.listeners=.*CLIENT://${out.nodes[1].publicAddress.replace(/\./g, "\\.")}:9092`));
    });

    it("without publicAccess no Elastic IP is allocated", async () => {
        const { of } = await build(stackConfig("prod", SSH), "prod");
        assert.strictEqual(of("aws:ec2/eip:Eip").length, 0);
        assert.strictEqual(of("aws:ec2/eipAssociation:EipAssociation").length, 0);
    });

    it("prod: 3 dedicated ZooKeeper + 3 brokers with gp3 data volumes, each AZ used once per role", async () => {
        const { of, out } = await build(stackConfig("prod", SSH), "prod");
        const instances = of("aws:ec2/instance:Instance");
        const zk = instances.filter((i) => i.inputs.tags.role === "zookeeper");
        const brokers = instances.filter((i) => i.inputs.tags.role === "broker");
        assert.strictEqual(zk.length, 3);
        assert.strictEqual(brokers.length, 3);
        assert.ok(zk.every((i) => i.inputs.instanceType === "t3.medium"));
        assert.ok(brokers.every((i) => i.inputs.instanceType === "m6i.xlarge"));
        for (const group of [zk, brokers]) assert.strictEqual(new Set(group.map((i) => SUBNETS[i.inputs.subnetId])).size, 3);
        const volumes = of("aws:ebs/volume:Volume");
        assert.strictEqual(volumes.length, 3);
        for (const v of volumes) {
            assert.strictEqual(v.inputs.type, "gp3");
            assert.strictEqual(v.inputs.size, 500);
            assert.strictEqual(v.inputs.encrypted, true);
        }
        assert.strictEqual(of("aws:ec2/volumeAttachment:VolumeAttachment").length, 3);
        assert.match(out.bootstrap, /^10\.0\.\d+\.10:9092/, "without publicAccess clients get private addresses");
        const storage = of("command:remote:Command").filter((c) => /-storage$/.test(c.name));
        assert.deepStrictEqual(storage.map((c) => c.name).sort(), ["broker-1-storage", "broker-2-storage", "broker-3-storage"]);
    });

    it("security group: cluster ports only from the group itself, 9092 from client CIDRs, 22 from sshCidrs", async () => {
        const { of } = await build({ ...SSH, clientCidrs: ["10.20.0.0/16", "192.0.2.0/24"] }, "dev");
        const rules = of(INGRESS);
        const sgRef = rules.filter((r) => r.inputs.referencedSecurityGroupId !== undefined);
        const cidr = rules.filter((r) => r.inputs.referencedSecurityGroupId === undefined);
        assert.deepStrictEqual(sgRef.map((r) => r.inputs.fromPort).sort(), [2181, 2888, 3888, 9092, 9093]);
        for (const r of sgRef) assert.strictEqual(r.inputs.referencedSecurityGroupId, r.inputs.securityGroupId);
        // The negative: nothing but 9092 (clients) and 22 (sshCidrs) is reachable from any CIDR.
        const byPort = (p: number) => cidr.filter((r) => r.inputs.fromPort === p);
        assert.deepStrictEqual(cidr.map((r) => r.inputs.fromPort).sort(), [22, 9092, 9092]);
        assert.deepStrictEqual(byPort(9092).map((r) => r.inputs.cidrIpv4).sort(), ["10.20.0.0/16", "192.0.2.0/24"]);
        assert.ok(cidr.every((r) => r.inputs.cidrIpv6 === undefined), "no IPv6 rule: the instances have no IPv6 address");
        assert.deepStrictEqual(byPort(22).map((r) => r.inputs.cidrIpv4), ["198.51.100.7/32"]);
        for (const r of cidr) {
            assert.ok(![2181, 2888, 3888, 9093].includes(r.inputs.fromPort), `cluster port ${r.inputs.fromPort} open to a CIDR`);
            assert.notStrictEqual(r.inputs.cidrIpv4, "0.0.0.0/0");
            assert.strictEqual(r.inputs.fromPort, r.inputs.toPort, "single ports, no ranges");
        }
    });

    it("without clientCidrs, 9092 is open to the VPC's CIDR only", async () => {
        const { of } = await build({ ...SSH }, "dev");
        const client = of(INGRESS).filter((r) => r.inputs.fromPort === 9092 && r.inputs.referencedSecurityGroupId === undefined);
        assert.deepStrictEqual(client.map((r) => r.inputs.cidrIpv4), ["172.31.0.0/16"]);
    });

    it("generates an SSH key pair when none is configured and registers its public half", async () => {
        const { of } = await build({ ...SSH }, "dev");
        const local = of("command:local:Command").map((c) => c.name).sort();
        assert.deepStrictEqual(local, ["kafka-dev-ssh-key", "kafka-dev-ssh-public-key"]);
        assert.strictEqual(of("aws:ec2/keyPair:KeyPair")[0].inputs.publicKey, "ssh-ed25519 AAAATEST kafka");
    });

    it("registers one remote command per planned step, each connecting to its own host", async () => {
        const { of, out } = await build(stackConfig("dev", SSH), "dev");
        const cmds = of("command:remote:Command");
        const names = cmds.map((c) => c.name);
        for (const n of ["node-1", "node-2", "node-3"]) {
            for (const p of ["ready", "java", "install", "zookeeper", "broker"]) assert.ok(names.includes(`${n}-${p}`), `${n}-${p}`);
        }
        for (const p of ["cluster-ensemble", "cluster-brokers", "cluster-smoke"]) assert.ok(names.includes(p));
        const install = connectionOf(cmds.find((c) => c.name === "node-2-install")!);
        assert.strictEqual(install.host, out.nodes[1].publicAddress);
        assert.strictEqual(install.user, "ubuntu");
        assert.ok(install.dialErrorLimit >= 30, "fresh instances get many SSH dial attempts");
    });

    it("every command waits for its plan dependencies and its own instance and data volume attachment", async () => {
        const { of } = await build(stackConfig("prod", SSH), "prod");
        // Resource names (the data volume and its attachment share one) of what a command was registered to wait for:
        // its dependsOn and, implicitly, the resources its inputs come from (the key, the addresses in its text).
        const deps = (name: string) => [...new Set(of("command:remote:Command").find((c) => c.name === name)!.options.dependencies
            .map((u) => u.split("::").pop()))].sort();
        // Fixed command text: only its own instance (its address), the key and the plan's dependencies.
        assert.deepStrictEqual(deps("zk-1-ready"), ["kafka-prod-ssh-key", "kafka-prod-zk-1"]);
        assert.deepStrictEqual(deps("broker-2-install"), ["broker-2-java", "broker-2-storage", "kafka-prod-broker-2", "kafka-prod-broker-2-data", "kafka-prod-ssh-key"]);
        for (const d of ["broker-1-broker", "broker-2-install", "cluster-ensemble", "kafka-prod-broker-2", "kafka-prod-broker-2-data"]) {
            assert.ok(deps("broker-2-broker").includes(d), `broker-2-broker waits for ${d}`);
        }
        for (const c of of("command:remote:Command")) {
            assert.deepStrictEqual(c.options.customTimeouts, { create: "40m", update: "40m", delete: "" }, c.name);
            assert.match(c.options.parent, /kafka:index:KafkaCluster::test$/, `${c.name} is a child of the component`);
        }
    });

    it("pins the AMI: a new image release never replaces instances", async () => {
        const { of } = await build(stackConfig("prod", SSH), "prod");
        const instances = of("aws:ec2/instance:Instance");
        assert.strictEqual(instances.length, 6);
        for (const i of instances) assert.deepStrictEqual(i.options.ignoreChanges, ["ami"], `${i.name} registered with ignoreChanges ["ami"]`);
        for (const v of of("aws:ebs/volume:Volume")) assert.deepStrictEqual(v.options.ignoreChanges, [], `${v.name} ignores nothing`);
    });
});

describe("KafkaCluster (existing-hosts mode, mocked)", () => {
    const raw: RawConfig = {
        hosts: [{ id: 1, address: "192.0.2.11" }, { id: 2, address: "192.0.2.12" }, { id: 3, address: "192.0.2.13" }],
        sshUser: "admin", sshPrivateKey: KEY,
    };

    it("registers no AWS resource and uses the configured addresses", async () => {
        const { out } = await build(raw, "local");
        assert.strictEqual(recorded.filter((r) => r.type.startsWith("aws:")).length, 0);
        assert.ok(recorded.filter((r) => r.type === "command:local:Command").every((r) => r.name.endsWith("-service")), "no key generation");
        assert.strictEqual(out.bootstrap, "192.0.2.11:9092,192.0.2.12:9092,192.0.2.13:9092");
        assert.strictEqual(out.zk, "192.0.2.11:2181,192.0.2.12:2181,192.0.2.13:2181/kafka");
        assert.deepStrictEqual(out.nodes.map((n) => n.name), ["host-1", "host-2", "host-3"]);
        assert.ok(out.nodes.every((n) => n.instanceId === undefined));
    });

    it("keeps the private key secret and out of every command line", async () => {
        await build(raw, "local");
        const cmds = recorded.filter((r) => r.type === "command:remote:Command");
        assert.ok(cmds.length > 0);
        for (const c of cmds) {
            assert.doesNotMatch(String(c.inputs.create) + String(c.inputs.delete ?? ""), /PRIVATE KEY/);
            assert.ok(isSecretValue(c.inputs.connection), `${c.name}: connection (with the key) is not marked secret`);
            assert.strictEqual(connectionOf(c).privateKey, KEY);
        }
    });

    it("teardown on destroy is a local command: a key or address change updates it instead of replacing it", async () => {
        await build(raw, "local");
        const teardown = recorded.filter((r) => r.type === "command:local:Command");
        assert.deepStrictEqual(teardown.map((t) => t.name).sort(), ["host-1-kafka-service", "host-1-zookeeper-service",
            "host-2-kafka-service", "host-2-zookeeper-service", "host-3-kafka-service", "host-3-zookeeper-service"]);
        for (const t of teardown) {
            assert.strictEqual(t.inputs.create, "true");
            assert.match(t.inputs.delete, /ssh -i "\$key" .*"\$KC_SSH_TARGET" "\$KC_REMOTE_COMMAND"/);
            assert.doesNotMatch(t.inputs.delete, /PRIVATE KEY/);
            const env = isSecretValue(t.inputs.environment) ? t.inputs.environment.value : t.inputs.environment;
            assert.ok(isSecretValue(t.inputs.environment) || isSecretValue(env.KC_SSH_KEY), "the key in the environment is secret");
            assert.match(env.KC_REMOTE_COMMAND, /KC_STEP='teardown' SERVICES='(kafka|zookeeper)' WIPE='false'/);
            assert.match(env.KC_SSH_TARGET, /^admin@192\.0\.2\.1\d$/);
        }
    });

    it("a broker's id follows its host id, not its position in the list", async () => {
        const { out } = await build({ ...raw, hosts: [...(raw.hosts as object[])].reverse() }, "local");
        assert.deepStrictEqual(out.nodes.map((n) => [n.name, n.brokerId, n.publicAddress]),
            [["host-1", 1, "192.0.2.11"], ["host-2", 2, "192.0.2.12"], ["host-3", 3, "192.0.2.13"]]);
    });
});

describe("KafkaCluster validation", () => {
    it("refuses a configuration that did not come from parseConfig, before registering anything under it", async () => {
        reset();
        const valid = parseConfig({ ...SSH }, "dev");
        const handMade = { ...valid, brokerCount: 0 } as unknown as typeof valid;
        assert.throws(() => new KafkaCluster("hand-made", { config: handMade }), /args\.config must be the result of parseConfig/);
        await settle();
        assert.deepStrictEqual(recorded.filter((r) => r.type !== "kafka:index:KafkaCluster"), []);
    });
});

describe("index.ts", () => {
    it("a bad stack throws before any resource is registered", async () => {
        reset();
        pulumi.runtime.setAllConfig({ "kafka:brokerCount": "0", "kafka:zookeeperCount": "2" });
        assert.throws(() => {
            delete require.cache[require.resolve("../../index")];
            require("../../index");
        }, /kafka:brokerCount[\s\S]*kafka:zookeeperCount[\s\S]*kafka:sshCidrs/);
        await settle();
        assert.strictEqual(recorded.length, 0);
        pulumi.runtime.setAllConfig({});
    });
});
