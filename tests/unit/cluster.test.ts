// KafkaCluster under Pulumi mocks: which resources a stack registers, with what inputs.
import * as assert from "assert";
import { OBSERVED, RUNNING, Recorded, invokes, isSecretValue, plain, recorded, reset, settle, stateOverrides, value, SUBNETS } from "./mocks";
import { parseHostCommand, parseStepInput } from "../../components/host-command";
import { log } from "../../scripts/lib/local";
import { PATHS } from "../../components/layout";
import * as pulumi from "@pulumi/pulumi";
import { parseConfig, RawConfig } from "../../components/config";
import { KafkaCluster } from "../../components/cluster";
import { Refusal, observeNodes } from "../../components/provision";
import { hostNodes } from "../../components/topology";
import { KEY, SSH, stackConfig } from "./stacks";
import { manifestText } from "./fixtures";


/** Builds the stack; `running`: the instances EC2 reports from an earlier up (see runningFrom). */
async function build(raw: RawConfig, stack: string, running: typeof RUNNING = {}) {
    reset();
    Object.assign(RUNNING, running);
    const c = new KafkaCluster("test", { config: parseConfig(raw, stack) });
    const out = {
        bootstrap: await value(c.bootstrapServers),
        zk: await value(c.zookeeperConnect),
        nodes: await value(c.nodes),
        rollout: await value(c.rollout),
    };
    await settle();
    return { c, out, of: (type: string) => recorded.filter((r) => r.type === type) };
}

/**
 * An assert.rejects check for refuse(): the error a user reads is logged on the KafkaCluster; the thrown Refusal points
 * there and keeps it as `reason`.
 */
const reasonMatching = (re: RegExp) => (e: unknown) => {
    assert.ok(e instanceof Refusal, `not a Refusal: ${String(e)}`);
    assert.match(e.reason, re);
    return true;
};

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
        assert.match(out.bootstrap, /^198\.18\.0\.\d+:9096(,198\.18\.0\.\d+:9096){2}$/, "publicAccess advertises the brokers' Elastic IPs");
        assert.match(out.zk, /^10\.0\.\d+\.10:2181(,10\.0\.\d+\.10:2181){2}\/kafka$/);
        assert.deepStrictEqual(out.nodes.map((n) => n.brokerId), [1, 2, 3]);
        assert.ok(out.nodes.every((n) => n.instanceId && /^ssh -i \S+ -o IdentitiesOnly=yes ubuntu@198\.18\.0\.\d+$/.test(n.ssh)));
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
        assert.deepStrictEqual(out.bootstrap.split(",").map((e) => e.replace(/:9096$/, "")), eipAddresses);
        assert.strictEqual(instances.length, 3);
        const cmds = of("command:remote:Command");
        for (const [i, n] of ["node-1", "node-2", "node-3"].entries()) {
            const c = cmds.find((x) => x.name === `${n}-ready`)!;
            assert.strictEqual(connectionOf(c).host, out.nodes[i].publicAddress, `${n} is provisioned over its EIP`);
            assert.ok(c.options.dependencies.some((u) => u.endsWith(`aws:ec2/eipAssociation:EipAssociation::kafka-dev-${n}-ip`)),
                `${n}-ready waits for the EIP association`);
        }
        const files = manifestText(String(plain(cmds.find((x) => x.name === "node-2-broker")!.inputs.stdin)));
        assert.match(files, new RegExp(`advertised\\.listeners=.*CLIENT_SASL://${out.nodes[1].publicAddress.replace(/\./g, "\\.")}:9096`));
    });

    it("without publicAccess no Elastic IP is allocated", async () => {
        const { of } = await build(stackConfig("prod", SSH), "prod");
        assert.strictEqual(of("aws:ec2/eip:Eip").length, 0);
        assert.strictEqual(of("aws:ec2/eipAssociation:EipAssociation").length, 0);
    });

    it("prod: 3 dedicated ZooKeeper + 3 brokers, each with a gp3 data volume, each AZ used once per role", async () => {
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
        assert.strictEqual(volumes.length, 6);
        for (const v of volumes) {
            assert.strictEqual(v.inputs.type, "gp3");
            assert.strictEqual(v.inputs.size, 500);
            assert.strictEqual(v.inputs.encrypted, true);
        }
        assert.deepStrictEqual(volumes.map((v) => v.inputs.tags.role).sort(), ["kafka-data", "kafka-data", "kafka-data",
            "zookeeper-data", "zookeeper-data", "zookeeper-data"]);
        assert.strictEqual(of("aws:ec2/volumeAttachment:VolumeAttachment").length, 6);
        assert.match(out.bootstrap, /^10\.0\.\d+\.10:9096/, "without publicAccess clients get private addresses");
        const storage = of("command:remote:Command").filter((c) => /-storage$/.test(c.name));
        assert.deepStrictEqual(storage.map((c) => c.name).sort(), ["broker-1-storage", "broker-2-storage", "broker-3-storage",
            "zk-1-storage", "zk-2-storage", "zk-3-storage"]);
    });

    it("security group: cluster ports only from the group itself, every mode's client port (9092, 9094, 9096) from client CIDRs, 22 from sshCidrs", async () => {
        const { of } = await build({ ...SSH, clientCidrs: ["10.20.0.0/16", "192.0.2.0/24"] }, "dev");
        const rules = of(INGRESS);
        const sgRef = rules.filter((r) => r.inputs.referencedSecurityGroupId !== undefined);
        const cidr = rules.filter((r) => r.inputs.referencedSecurityGroupId === undefined);
        assert.deepStrictEqual(sgRef.map((r) => r.inputs.fromPort).sort(), [2181, 2888, 3888, 9092, 9093, 9094, 9095, 9096, 9097]);
        for (const r of sgRef) assert.strictEqual(r.inputs.referencedSecurityGroupId, r.inputs.securityGroupId);
        // The negative: nothing but the client ports and 22 (sshCidrs) is reachable from any CIDR. All three client ports
        // are open whatever the mode, so that a kafka:security switch (both listeners during its roll) cuts no client off.
        const byPort = (p: number) => cidr.filter((r) => r.inputs.fromPort === p);
        assert.deepStrictEqual(cidr.map((r) => r.inputs.fromPort).sort(), [22, 9092, 9092, 9094, 9094, 9096, 9096]);
        for (const p of [9092, 9094, 9096]) assert.deepStrictEqual(byPort(p).map((r) => r.inputs.cidrIpv4).sort(), ["10.20.0.0/16", "192.0.2.0/24"]);
        // The plaintext port's rules keep their names from before the other ports were opened (a rename replaces a rule).
        assert.deepStrictEqual(byPort(9092).map((r) => r.name).sort(), ["kafka-dev-client-0", "kafka-dev-client-1"]);
        assert.deepStrictEqual(byPort(9096).map((r) => r.name).sort(), ["kafka-dev-client-0-9096", "kafka-dev-client-1-9096"]);
        assert.ok(cidr.every((r) => r.inputs.cidrIpv6 === undefined), "no IPv6 rule: the instances have no IPv6 address");
        assert.deepStrictEqual(byPort(22).map((r) => r.inputs.cidrIpv4), ["198.51.100.7/32"]);
        for (const r of cidr) {
            assert.ok(![2181, 2888, 3888, 9093, 9095, 9097].includes(r.inputs.fromPort), `cluster port ${r.inputs.fromPort} open to a CIDR`);
            assert.notStrictEqual(r.inputs.cidrIpv4, "0.0.0.0/0");
            assert.strictEqual(r.inputs.fromPort, r.inputs.toPort, "single ports, no ranges");
        }
    });

    it("kafka:jmx: the JMX ports 9999 and 9998 open to the VPC's CIDR only; without it, no JMX rule", async () => {
        const jmxRules = (of: (t: string) => { name: string; inputs: Record<string, any> }[]) =>
            of(INGRESS).filter((r) => [9998, 9999].includes(r.inputs.fromPort));
        const on = await build({ ...SSH, jmx: true }, "dev");
        assert.deepStrictEqual(jmxRules(on.of).map((r) => [r.inputs.fromPort, r.inputs.cidrIpv4, r.inputs.referencedSecurityGroupId]).sort(),
            [[9998, "172.31.0.0/16", undefined], [9999, "172.31.0.0/16", undefined]]);
        assert.deepStrictEqual(jmxRules((await build({ ...SSH }, "dev")).of), []);
    });

    it("without clientCidrs, the client ports are open to the VPC's CIDR only", async () => {
        const { of } = await build({ ...SSH }, "dev");
        const client = of(INGRESS).filter((r) => [9092, 9094, 9096].includes(r.inputs.fromPort) && r.inputs.referencedSecurityGroupId === undefined);
        assert.deepStrictEqual(client.map((r) => r.inputs.cidrIpv4), ["172.31.0.0/16", "172.31.0.0/16", "172.31.0.0/16"]);
    });

    it("generates an SSH key pair when none is configured and registers its public half", async () => {
        const { of } = await build({ ...SSH }, "dev");
        const local = of("command:local:Command").map((c) => c.name).filter((n) => n.includes("-ssh-")).sort();
        assert.deepStrictEqual(local, ["kafka-dev-ssh-key", "kafka-dev-ssh-public-key"]);
        assert.match(of("aws:ec2/keyPair:KeyPair")[0].inputs.publicKey, /^ssh-ed25519 AAAA[0-9a-f]{8} kafka$/);
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
        assert.deepStrictEqual(deps("zk-1-ready"), ["kafka-prod-ssh-key", "kafka-prod-zk-1", "kafka-prod-zk-1-data"]);
        assert.deepStrictEqual(deps("broker-2-install"), ["broker-2-java", "broker-2-storage", "kafka-prod-broker-2", "kafka-prod-broker-2-data", "kafka-prod-ssh-key"]);
        for (const d of ["broker-1-broker", "broker-2-install", "cluster-ensemble", "kafka-prod-broker-2", "kafka-prod-broker-2-data"]) {
            assert.ok(deps("broker-2-broker").includes(d), `broker-2-broker waits for ${d}`);
        }
        for (const c of of("command:remote:Command")) {
            assert.deepStrictEqual(c.options.customTimeouts, { create: "40m", update: "40m", delete: "" }, c.name);
            assert.match(c.options.parent, /kafka:index:KafkaCluster::test$/, `${c.name} is a child of the component`);
        }
    });

    it("the key pair and the subnet are pinned (ignored): a new key or subnet list never replaces instances", async () => {
        const { of } = await build(stackConfig("prod", SSH), "prod");
        const instances = of("aws:ec2/instance:Instance");
        assert.strictEqual(instances.length, 6);
        for (const i of instances) assert.deepStrictEqual(i.options.ignoreChanges, ["keyName", "subnetId", "associatePublicIpAddress"], i.name);
        for (const v of of("aws:ebs/volume:Volume")) assert.deepStrictEqual(v.options.ignoreChanges, ["availabilityZone"], v.name);
    });
});

/** What EC2 reports after an up that registered `recs`: each instance running with the inputs it was given. */
function runningFrom(recs: Recorded[]): typeof RUNNING {
    return Object.fromEntries(recs.filter((r) => r.type === "aws:ec2/instance:Instance").map((r, i) => [r.inputs.tags.Name, {
        instanceId: `i-0000${i}`, ami: r.inputs.ami, instanceType: r.inputs.instanceType, privateIp: `10.0.${i + 1}.10`,
        publicIp: `203.0.113.${i + 1}`, tags: r.inputs.tags,
    }]));
}
const OLD_UBUNTU = "ami-0ubuntuamd64000000"; // the image Canonical's parameter named before its latest release
const onImage = (running: typeof RUNNING, ami: string) =>
    Object.fromEntries(Object.entries(running).map(([k, v]) => [k, { ...v, ami }]));

describe("KafkaCluster (EC2 rolling node changes, one node per pulumi up, mocked)", () => {
    const PROD = stackConfig("prod", SSH);
    const instancesOf = (rs: Recorded[]) => rs.filter((r) => r.type === "aws:ec2/instance:Instance");
    const gate = (name: string) => recorded.find((r) => r.type === "command:local:Command" && r.name === name)!;
    const gateEnv = (name: string) => plain(gate(name).inputs.environment);

    it("a new upstream image release replaces no running node: each instance is given the image it runs; new nodes get the new one", async () => {
        const first = await build(PROD, "prod");
        const running = onImage(runningFrom(recorded), OLD_UBUNTU);
        const { out } = await build({ ...PROD, brokerCount: 4 }, "prod", running);
        for (const i of instancesOf(recorded)) {
            assert.strictEqual(i.inputs.ami, i.name === "kafka-prod-broker-4" ? "ami-0ubuntuamd64000001" : OLD_UBUNTU, i.name);
            assert.strictEqual(i.inputs.tags.os, "ubuntu-24.04");
        }
        assert.strictEqual(out.rollout, "every node runs its configured image and instance type");
        // No roll: both gates do nothing, and say nothing to SSH.
        for (const g of ["kafka-prod-roll-gate", "kafka-prod-roll-settled"]) {
            assert.strictEqual(gate(g).inputs.create, "true");
            assert.deepStrictEqual(gateEnv(g), {});
        }
        assert.ok(first.out.rollout.startsWith("every node"));
    });

    it("a pinned kafka:ami rolls one node per pulumi up: gate (healthy, services stopped), delete-first replacement, settled gate", async () => {
        await build(PROD, "prod");
        let running = runningFrom(recorded);
        const order: string[] = [];
        for (let up = 1; up <= 7; up++) {
            const { out } = await build({ ...PROD, ami: "ami-0aaaaaaaaaaaaaaa1" }, "prod", running);
            const moved = instancesOf(recorded).filter((i) => i.inputs.ami !== running[i.inputs.tags.Name].ami).map((i) => i.inputs.tags.Name);
            if (moved.length === 0) {
                assert.strictEqual(out.rollout, "every node runs its configured image and instance type");
                break;
            }
            assert.strictEqual(moved.length, 1, `up ${up} changes ${moved.join(", ")}`);
            const node = moved[0].replace("kafka-prod-", "");
            order.push(node);
            assert.match(out.rollout, new RegExp(`^${node}: image ami-0ubuntuamd64000001 -> ami-0aaaaaaaaaaaaaaa1`));
            // Before: on the node, at the address EC2 reports for it now; stops its services (the instance is replaced).
            const before = gateEnv("kafka-prod-roll-gate");
            assert.strictEqual(before.KC_SSH_TARGET, `ubuntu@${running[moved[0]].publicIp}`);
            const cmd = parseHostCommand(before.KC_REMOTE_COMMAND);
            assert.strictEqual(cmd.env.PHASE, "before");
            assert.strictEqual(cmd.env.STOP, "true");
            assert.match(cmd.script, /systemctl stop kafka/);
            const instance = instancesOf(recorded).find((i) => i.inputs.tags.Name === moved[0])!;
            for (const i of instancesOf(recorded)) {
                assert.ok(i.options.dependencies.some((u) => u.endsWith("::kafka-prod-roll-gate")), `${i.name} waits for the gate`);
                assert.strictEqual(i.options.deleteBeforeReplace, true, i.name);
            }
            assert.ok(instance);
            // After: every remote command first; on the node's new address.
            const settled = gate("kafka-prod-roll-settled");
            const remote = recorded.filter((r) => r.type === "command:remote:Command").map((r) => r.name);
            for (const r of remote) assert.ok(settled.options.dependencies.some((u) => u.endsWith(`::${r}`)), `settled waits for ${r}`);
            assert.strictEqual(parseHostCommand(gateEnv("kafka-prod-roll-settled").KC_REMOTE_COMMAND).env.PHASE, "after");
            running = { ...running, [moved[0]]: { ...running[moved[0]], instanceId: `i-new-${up}`, ami: instance.inputs.ami } };
        }
        log(`pinned kafka:ami: nodes replaced one per pulumi up, in this order: ${order.join(", ")}`);
        assert.deepStrictEqual(order, ["zk-1", "zk-2", "zk-3", "broker-1", "broker-2", "broker-3"]);
    });

    it("a replaced instance runs every step of its node again: each remote command has its node's instance id as trigger (an Elastic IP keeps the SSH address)", async () => {
        await build({ ...stackConfig("dev", SSH), publicAccess: true }, "dev");
        const remote = recorded.filter((r) => r.type === "command:remote:Command");
        assert.ok(remote.length > 20);
        for (const c of remote) {
            const node = /^(node-\d+)-/.exec(c.name)?.[1] ?? "node-1"; // the cluster-wide steps run on the first broker
            assert.deepStrictEqual(c.inputs.triggers, [`kafka-dev-${node}-id`], c.name);
        }
        await build({ hosts: [1, 2, 3].map((id) => ({ id, address: `192.0.2.${10 + id}` })), sshUser: "admin", sshPrivateKey: KEY }, "local");
        for (const c of recorded.filter((r) => r.type === "command:remote:Command")) assert.strictEqual(c.inputs.triggers, undefined, c.name);
    });

    it("a broker instance type change: one broker per pulumi up, stopped and started in place (no stop by the gate); ZooKeeper nodes untouched", async () => {
        await build(PROD, "prod");
        const running = runningFrom(recorded);
        const { out } = await build({ ...PROD, brokerInstanceType: "m6i.2xlarge" }, "prod", running);
        const types = Object.fromEntries(instancesOf(recorded).map((i) => [i.inputs.tags.Name.replace("kafka-prod-", ""), i.inputs.instanceType]));
        assert.deepStrictEqual(types, { "zk-1": "t3.medium", "zk-2": "t3.medium", "zk-3": "t3.medium", "broker-1": "m6i.2xlarge",
            "broker-2": "m6i.xlarge", "broker-3": "m6i.xlarge" });
        for (const i of instancesOf(recorded)) assert.strictEqual(i.inputs.ami, running[i.inputs.tags.Name].ami, `${i.name} keeps its image`);
        assert.strictEqual(out.rollout, "broker-1: instance type m6i.xlarge -> m6i.2xlarge; run pulumi up again for the next node (2 left: broker-2, broker-3)");
        const cmd = parseHostCommand(gateEnv("kafka-prod-roll-gate").KC_REMOTE_COMMAND);
        assert.deepStrictEqual([cmd.env.STOP, cmd.env.BROKER_ID, cmd.env.ZK_SELF], ["false", "1", ""]);
        assert.strictEqual(cmd.env.ZK_MEMBERS.split(" ").length, 3);
        assert.strictEqual(cmd.env.BOOTSTRAP.split(",").length, 3);
    });
});

describe("KafkaCluster through a bastion (kafka:bastion, mocked)", () => {
    const BASTION_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nbastion\n-----END OPENSSH PRIVATE KEY-----\n";
    const envOf = (t: { inputs: any }) => (isSecretValue(t.inputs.environment) ? t.inputs.environment.value : t.inputs.environment);
    const reveal = (v: any) => (isSecretValue(v) ? v.value : v);

    it("EC2 without public IPs: every command dials the private address through the bastion; SSH open to the VPC only", async () => {
        const { of, out } = await build({
            associatePublicIp: false, bastion: { host: "203.0.113.200", user: "ec2-user" }, bastionPrivateKey: BASTION_KEY,
        }, "dev");
        const instances = of("aws:ec2/instance:Instance");
        assert.ok(instances.every((i) => i.inputs.associatePublicIpAddress === false));
        const cmds = of("command:remote:Command");
        assert.ok(cmds.length > 0);
        for (const c of cmds) {
            const conn = connectionOf(c);
            assert.match(conn.host, /^10\.0\.\d+\.10$/, `${c.name} dials the private address`);
            assert.deepStrictEqual({ ...conn.proxy, privateKey: reveal(conn.proxy.privateKey) },
                { host: "203.0.113.200", port: 22, user: "ec2-user", privateKey: BASTION_KEY, dialErrorLimit: 10, perDialTimeout: 15 });
            assert.notStrictEqual(reveal(conn.privateKey), BASTION_KEY, "the hosts get the cluster's (generated) key");
        }
        assert.deepStrictEqual(out.nodes.map((n) => n.publicAddress), out.nodes.map((n) => n.privateAddress));
        assert.match(out.nodes[0].ssh, /-o 'ProxyCommand=ssh -i <bastion-key-file> -o IdentitiesOnly=yes -W \[%h\]:%p ec2-user@203\.0\.113\.200' ubuntu@10\.0\.\d+\.10$/);
        const ssh = of(INGRESS).filter((r) => r.inputs.fromPort === 22);
        assert.deepStrictEqual(ssh.map((r) => [r.name, r.inputs.cidrIpv4]), [["kafka-dev-ssh-vpc", "172.31.0.0/16"]],
            "sshCidrs unset with a bastion: the VPC's CIDR");
    });

    it("existing hosts: connection.proxy with the cluster key; the teardown ssh goes through the bastion too", async () => {
        await build({
            hosts: [{ id: 1, address: "10.1.0.11" }], brokerCount: 1, zookeeperCount: 1, sshUser: "admin", sshPrivateKey: KEY, sshPort: 2222,
            bastion: { host: "bastion.example.com", port: 2200 },
        }, "local");
        for (const c of recorded.filter((r) => r.type === "command:remote:Command")) {
            const conn = connectionOf(c);
            assert.deepStrictEqual([conn.host, conn.port, conn.user], ["10.1.0.11", 2222, "admin"]);
            assert.deepStrictEqual({ ...conn.proxy, privateKey: reveal(conn.proxy.privateKey) },
                { host: "bastion.example.com", port: 2200, user: "admin", privateKey: KEY, dialErrorLimit: 10, perDialTimeout: 15 });
        }
        const teardown = recorded.filter((r) => r.type === "command:local:Command" && r.name.endsWith("-service"));
        assert.ok(teardown.length > 0);
        for (const t of teardown) {
            assert.match(t.inputs.delete, /-o "ProxyCommand=\$proxy" -p "\$KC_SSH_PORT" "\$KC_SSH_TARGET" "\$KC_REMOTE_COMMAND"/);
            assert.doesNotMatch(t.inputs.delete, /PRIVATE KEY/);
            const env = envOf(t);
            assert.deepStrictEqual([env.KC_BASTION_TARGET, env.KC_BASTION_PORT, reveal(env.KC_BASTION_KEY)], ["admin@bastion.example.com", "2200", KEY]);
            assert.ok(isSecretValue(t.inputs.environment) || isSecretValue(env.KC_BASTION_KEY), "the bastion key is secret");
        }
    });

    it("without a bastion nothing changes: no proxy, and the teardown script of earlier stacks byte for byte", async () => {
        await build({ hosts: [{ id: 1, address: "192.0.2.11" }], brokerCount: 1, zookeeperCount: 1, sshUser: "admin", sshPrivateKey: KEY }, "local");
        for (const c of recorded.filter((r) => r.type === "command:remote:Command")) assert.strictEqual(connectionOf(c).proxy, undefined);
        for (const t of recorded.filter((r) => r.type === "command:local:Command" && r.name.endsWith("-service"))) {
            assert.strictEqual(t.inputs.delete, "set -eu; umask 077; key=$(mktemp); trap 'rm -f \"$key\"' EXIT; printf '%s\\n' \"$KC_SSH_KEY\" > \"$key\"; " +
                "ssh -i \"$key\" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null" +
                " -o ConnectTimeout=20 -o LogLevel=ERROR -p \"$KC_SSH_PORT\" \"$KC_SSH_TARGET\" \"$KC_REMOTE_COMMAND\"");
            assert.strictEqual(envOf(t).KC_BASTION_TARGET, undefined);
        }
    });

    it("kafka:sshFromVpc: private addresses, no proxy", async () => {
        const { of } = await build({ associatePublicIp: false, sshFromVpc: true }, "dev");
        for (const c of of("command:remote:Command")) {
            assert.match(connectionOf(c).host, /^10\.0\.\d+\.10$/);
            assert.strictEqual(connectionOf(c).proxy, undefined);
        }
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
        const local = recorded.filter((r) => r.type === "command:local:Command").map((r) => r.name);
        assert.ok(!local.some((n) => n.includes("-ssh-")), "no SSH key generation");
        assert.ok(local.filter((n) => !n.endsWith("-service")).every((n) => /-(ca|cert-host-\d|password-\w+)$/.test(n)), "only the cluster's credentials");
        assert.strictEqual(out.bootstrap, "192.0.2.11:9096,192.0.2.12:9096,192.0.2.13:9096");
        assert.strictEqual(out.zk, "192.0.2.11:2181,192.0.2.12:2181,192.0.2.13:2181/kafka");
        assert.deepStrictEqual(out.nodes.map((n) => n.name), ["host-1", "host-2", "host-3"]);
        assert.ok(out.nodes.every((n) => n.instanceId === undefined));
    });

    it("kafka:monitoring: the monitoring output has the exporters' ports, a Prometheus configuration at the hosts' addresses and the alert rules; off it says so", async () => {
        const off = await build(raw, "local");
        assert.deepStrictEqual(await value(off.c.monitoring), { enabled: false });
        const on = await build({ ...raw, monitoring: true, mavenUrl: "http://repo.test/maven2" }, "local");
        const m = await value(on.c.monitoring);
        assert.ok(m.enabled);
        assert.deepStrictEqual([m.brokerPort, m.zookeeperPort, m.controllerPort], [7071, 7073, undefined]);
        for (const a of ["192.0.2.11", "192.0.2.12", "192.0.2.13"]) {
            assert.ok(m.prometheusConfig.includes(`- targets: ['${a}:7071']`) && m.prometheusConfig.includes(`- targets: ['${a}:7073']`), a);
        }
        assert.match(m.alertRules, /- alert: KafkaBrokerDown\n/);
        assert.match(m.alertRules, /- alert: ZooKeeperDown\n/);
    });

    it("a plaintext stack has no CA and no JMX: caCertificate is empty and jmx says off (no undefined output for the engine to warn of)", async () => {
        const plainStack = await build({ ...raw, security: "plaintext" }, "local");
        assert.strictEqual(await value(plainStack.c.caCertificate), "");
        assert.deepStrictEqual(await value(plainStack.c.jmx), { enabled: false });
        const secured = await build(raw, "local");
        assert.match(await value(secured.c.caCertificate), /^-----BEGIN CERTIFICATE-----/);
    });

    it("keeps the private key secret and out of every command line", async () => {
        await build(raw, "local");
        const cmds = recorded.filter((r) => r.type === "command:remote:Command");
        assert.ok(cmds.length > 0);
        for (const c of cmds) {
            assert.doesNotMatch(String(c.inputs.create) + String(plain(c.inputs.stdin)) + String(c.inputs.delete ?? ""), /PRIVATE KEY/);
            // One short command naming the step (the provider quotes it in its errors); the script comes on stdin.
            assert.strictEqual(c.inputs.create, `sudo -n bash -c 'eval "$(cat)"' ${c.name}`);
            assert.match(plain(c.inputs.stdin), new RegExp(`^export KC_STEP='${c.name}'$`, "m"));
            assert.match(plain(c.inputs.stdin), /^set -euo pipefail$/m);
            assert.ok(isSecretValue(c.inputs.connection), `${c.name}: connection (with the key) is not marked secret`);
            assert.strictEqual(connectionOf(c).privateKey, KEY);
        }
    });

    it("teardown on destroy is a local command: a key or address change updates it instead of replacing it", async () => {
        await build(raw, "local");
        const teardown = recorded.filter((r) => r.type === "command:local:Command" && !/-(ca|cert-.*|password-.*)$/.test(r.name));
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
        }, (e: Error) => {
            // A RunError: the engine prints its message alone, without the program's stack trace.
            assert.ok(pulumi.RunError.isInstance(e), `a RunError, not ${e.constructor.name}`);
            assert.match(e.message, /kafka:brokerCount[\s\S]*kafka:zookeeperCount[\s\S]*kafka:sshCidrs/);
            return true;
        });
        await settle();
        assert.strictEqual(recorded.length, 0);
        pulumi.runtime.setAllConfig({});
    });
});

/**
 * Inputs that make the AWS provider replace a resource (ForceNew in its schema), for the resources a node is made of.
 * A change to one of these on an existing node must be ignored (ignoreChanges) or not happen at all.
 */
const FORCE_NEW: Record<string, string[]> = {
    "aws:ec2/instance:Instance": ["ami", "availabilityZone", "subnetId", "keyName", "associatePublicIpAddress", "privateIp",
        "rootBlockDevice.encrypted", "placementGroup", "tenancy"],
    "aws:ebs/volume:Volume": ["availabilityZone", "encrypted", "snapshotId", "kmsKeyId", "outpostArn"],
    "aws:ec2/volumeAttachment:VolumeAttachment": ["deviceName", "instanceId", "volumeId"],
};
const at = (o: any, dotted: string) => dotted.split(".").reduce((v, k) => (v === undefined ? undefined : v[k]), o);

/** Per resource of `before` that `after` registers again: the replacing inputs that changed and are not ignored. */
function replacements(before: Recorded[], after: Recorded[]): string[] {
    const out: string[] = [];
    for (const b of before.filter((r) => FORCE_NEW[r.type])) {
        const a = after.find((r) => r.type === b.type && r.name === b.name);
        assert.ok(a, `${b.name} is no longer registered`);
        for (const f of FORCE_NEW[b.type]) {
            const changed = JSON.stringify(at(b.inputs, f)) !== JSON.stringify(at(a.inputs, f));
            if (changed && !a.options.ignoreChanges.includes(f.split(".")[0])) out.push(`${b.name}.${f}`);
        }
    }
    return out;
}
/** The replacing inputs that changed, ignored or not (to show a test's change really reaches the resources). */
function changedForceNew(before: Recorded[], after: Recorded[]): string[] {
    return before.filter((r) => FORCE_NEW[r.type]).flatMap((b) => {
        const a = after.find((r) => r.type === b.type && r.name === b.name)!;
        return FORCE_NEW[b.type].filter((f) => JSON.stringify(at(b.inputs, f)) !== JSON.stringify(at(a.inputs, f))).map((f) => `${b.name}.${f}`);
    });
}
const snapshot = async (raw: RawConfig, stack: string) => {
    await build(raw, stack);
    return recorded.map((r) => ({ ...r, inputs: JSON.parse(JSON.stringify(r.inputs)) }));
};
const aws = (rs: Recorded[]) => rs.filter((r) => FORCE_NEW[r.type]);
/** server.properties as a broker's configure step writes it. */
function serverProperties(stdin: string): string {
    const manifestLines = Buffer.from(parseStepInput(stdin).env.MANIFEST_B64, "base64").toString("utf8").split("\n");
    const line = manifestLines.find((l) => l.startsWith(`${PATHS.configDir}/server.properties `))!;
    return Buffer.from(line.split(" ")[3], "base64").toString("utf8");
}

describe("KafkaCluster (EC2 day-2 safety, mocked)", () => {
    const PROD = stackConfig("prod", SSH);

    it("a new SSH key (generated -> kafka:sshPrivateKey) replaces the key pair's content under its name, no instance", async () => {
        const before = await snapshot(PROD, "prod");
        const after = await snapshot({ ...PROD, sshPrivateKey: KEY }, "prod");
        const keyPair = (rs: Recorded[]) => rs.find((r) => r.type === "aws:ec2/keyPair:KeyPair")!;
        assert.notStrictEqual(keyPair(after).inputs.publicKey, keyPair(before).inputs.publicKey, "a new public key");
        assert.strictEqual(keyPair(after).inputs.keyName, "kafka-prod-ssh");
        assert.strictEqual(keyPair(before).inputs.keyName, "kafka-prod-ssh");
        assert.strictEqual(keyPair(after).options.deleteBeforeReplace, true, "same name: the old key pair goes first");
        // A resource of its own, not the auto-named `kafka-prod-key` of older stacks replaced (which would replace instances).
        assert.strictEqual(keyPair(after).name, "kafka-prod-ssh");
        const instances = after.filter((r) => r.type === "aws:ec2/instance:Instance");
        assert.ok(instances.every((i) => i.inputs.keyName === "kafka-prod-ssh"), "instances name the key pair, whatever key it holds");
        // Not even an ignored change: an instance replaced later (which takes ignored inputs from its old state) gets the current key.
        assert.deepStrictEqual(changedForceNew(before, after), []);
        assert.deepStrictEqual(replacements(before, after), []);
    });

    it("moving a running cluster behind a bastion (associatePublicIp false) replaces no instance and changes no broker file", async () => {
        const before = await snapshot(PROD, "prod");
        const BASTION_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nbastion\n-----END OPENSSH PRIVATE KEY-----\n";
        const after = await snapshot({ ...PROD, associatePublicIp: false, bastion: { host: "203.0.113.200" }, bastionPrivateKey: BASTION_KEY }, "prod");
        assert.ok(changedForceNew(before, after).some((x) => x.endsWith(".associatePublicIpAddress")), "the setting reaches the instances");
        assert.deepStrictEqual(replacements(before, after), []);
        const steps = (rs: Recorded[]) => rs.filter((r) => r.type === "command:remote:Command");
        for (const a of steps(after)) {
            const b = steps(before).find((r) => r.name === a.name)!;
            assert.notStrictEqual(connectionOf(a).host, connectionOf(b).host, `${a.name}: SSH moves to the private address`);
            assert.strictEqual(plain(a.inputs.stdin), plain(b.inputs.stdin), `${a.name}: same files, so a re-run restarts nothing`);
        }
    });

    it("a subnet added in an AZ that sorts first moves no existing node (subnetId and the volume's AZ are ignored)", async () => {
        const before = await snapshot({ ...PROD, subnetIds: ["subnet-0000000b", "subnet-0000000c", "subnet-0000000d"] }, "prod");
        const racks = new Map(recorded.filter((r) => r.type === "command:remote:Command" && r.name.endsWith("-broker"))
            .map((r) => [r.name, /^broker\.rack=(.*)$/m.exec(serverProperties(plain(r.inputs.stdin)))![1]]));
        // The engine keeps an ignored subnetId, so the instance reports the AZ it has always been in.
        for (const r of before.filter((x) => x.type === "aws:ec2/instance:Instance")) stateOverrides[r.name] = { availabilityZone: SUBNETS[r.inputs.subnetId], subnetId: r.inputs.subnetId };
        const overrides = { ...stateOverrides };
        reset();
        Object.assign(stateOverrides, overrides);
        const c = new KafkaCluster("test", { config: parseConfig({ ...PROD, subnetIds: Object.keys(SUBNETS) }, "prod") });
        await value(c.nodes);
        await settle();
        const after = recorded.map((r) => ({ ...r, inputs: JSON.parse(JSON.stringify(r.inputs)) }));
        assert.ok(changedForceNew(before, after).some((x) => x.endsWith(".subnetId")), "the recomputed placement differs");
        assert.deepStrictEqual(replacements(aws(before), aws(after)), []);
        // broker.rack follows the instance's own AZ, so no broker restarts either.
        for (const [name, rack] of racks) {
            const cmd = after.find((r) => r.type === "command:remote:Command" && r.name === name)!;
            assert.strictEqual(/^broker\.rack=(.*)$/m.exec(serverProperties(plain(cmd.inputs.stdin)))![1], rack, name);
        }
    });

    it("lowering kafka:maxAzs moves no existing node", async () => {
        const before = await snapshot(PROD, "prod");
        const after = await snapshot({ ...PROD, maxAzs: 2 }, "prod");
        assert.ok(changedForceNew(before, after).length > 0);
        assert.deepStrictEqual(replacements(before, after), []);
    });

    it("adding a broker leaves every existing instance, volume and attachment exactly as it was", async () => {
        const before = await snapshot(PROD, "prod");
        const after = await snapshot({ ...PROD, brokerCount: 4 }, "prod");
        for (const b of aws(before)) {
            assert.deepStrictEqual(after.find((a) => a.type === b.type && a.name === b.name)!.inputs, b.inputs, b.name);
        }
        assert.deepStrictEqual(aws(after).filter((a) => !before.some((b) => b.name === a.name)).map((a) => a.name).sort(),
            ["kafka-prod-broker-4", "kafka-prod-broker-4-data", "kafka-prod-broker-4-data"]);
    });

    it("a larger data volume is an in-place update of the volumes (size), no replacement", async () => {
        const before = await snapshot(PROD, "prod");
        const after = await snapshot({ ...PROD, dataVolume: { ...(PROD.dataVolume as object), sizeGb: 750 } }, "prod");
        assert.deepStrictEqual(replacements(before, after), []);
        const volumes = after.filter((r) => r.type === "aws:ebs/volume:Volume");
        assert.ok(volumes.every((v) => v.inputs.size === 750));
    });

    it("kafka:finalSnapshot: a deleted data volume leaves a snapshot on prod (default), not on a dev stack or when set false", async () => {
        const snap = async (raw: RawConfig, stack: string) => (await build(raw, stack)).of("aws:ebs/volume:Volume").map((v) => v.inputs.finalSnapshot);
        assert.deepStrictEqual(await snap(PROD, "prod"), Array(6).fill(true));
        assert.deepStrictEqual(await snap({ ...SSH, dataVolume: { sizeGb: 10 } }, "dev"), Array(3).fill(false));
        assert.deepStrictEqual(await snap({ ...PROD, finalSnapshot: false }, "prod"), Array(6).fill(false));
    });

    it("data volumes (brokers and dedicated ZooKeeper) are protected and retained on delete on prod", async () => {
        const { of } = await build(PROD, "prod");
        const volumes = of("aws:ebs/volume:Volume");
        assert.strictEqual(volumes.length, 6);
        for (const v of volumes) {
            assert.strictEqual(v.options.protect, true, `${v.name} protect`);
            assert.strictEqual(v.options.retainOnDelete, true, `${v.name} retainOnDelete`);
        }
        for (const i of of("aws:ec2/instance:Instance")) assert.strictEqual(i.options.protect, false, `${i.name}: instances are not protected`);
    });

    it("kafka:protectData: off by default on dev stacks, and the setting wins over the default", async () => {
        const cases: [RawConfig, string, boolean][] = [
            [{ ...SSH, dataVolume: { sizeGb: 10 } }, "dev", false],
            [{ ...PROD, protectData: false }, "prod", false],
            [{ ...SSH, dataVolume: { sizeGb: 10 }, protectData: true }, "dev", true],
        ];
        for (const [raw, stack, want] of cases) {
            const { of } = await build(raw, stack);
            const volumes = of("aws:ebs/volume:Volume");
            assert.ok(volumes.length > 0);
            for (const v of volumes) assert.deepStrictEqual([v.options.protect, v.options.retainOnDelete], [want, want], `${stack} ${v.name}`);
        }
    });

    it("removing an attachment never detaches under a running node or stops an instance; a replaced node frees its volume first", async () => {
        const { of } = await build(PROD, "prod");
        for (const a of of("aws:ec2/volumeAttachment:VolumeAttachment")) {
            assert.strictEqual(a.inputs.skipDestroy, true, a.name);
            assert.strictEqual(a.inputs.stopInstanceBeforeDetaching, undefined, a.name);
            assert.strictEqual(a.inputs.forceDetach, undefined, a.name);
        }
        for (const i of of("aws:ec2/instance:Instance")) assert.strictEqual(i.options.deleteBeforeReplace, true, i.name);
        // Without a data volume too: the old broker leaves /brokers/ids before its replacement registers under its id.
        const dev = await build(stackConfig("dev", SSH), "dev");
        for (const i of dev.of("aws:ec2/instance:Instance")) assert.strictEqual(i.options.deleteBeforeReplace, true, i.name);
    });
});

describe("KafkaCluster (EC2, KRaft, mocked)", () => {
    it("dedicated controllers: ctl-N instances of controllerInstanceType with controller data volumes, tagged controller-id; brokers apart", async () => {
        const { of, out } = await build({ ...SSH, metadata: "kraft", controllerPlacement: "dedicated", controllerInstanceType: "t3.small",
            dataVolume: { sizeGb: 50 } }, "dev");
        const instances = of("aws:ec2/instance:Instance");
        const ctl = instances.filter((i) => i.inputs.tags.role === "controller");
        assert.deepStrictEqual(ctl.map((i) => [i.inputs.instanceType, i.inputs.tags["controller-id"]]).sort(),
            [["t3.small", "3001"], ["t3.small", "3002"], ["t3.small", "3003"]]);
        assert.strictEqual(instances.filter((i) => i.inputs.tags.role === "broker").length, 3);
        assert.strictEqual(instances.filter((i) => /zookeeper/.test(i.inputs.tags.role)).length, 0);
        assert.strictEqual(new Set(ctl.map((i) => SUBNETS[i.inputs.subnetId])).size, 3, "one controller per AZ");
        const volumes = of("aws:ebs/volume:Volume");
        assert.deepStrictEqual(volumes.map((v) => v.inputs.tags.role).sort(), [...Array(3).fill("controller-data"), ...Array(3).fill("kafka-data")]);
        const storage = of("command:remote:Command").find((c) => c.name === "ctl-1-storage")!;
        assert.strictEqual(parseStepInput(plain(storage.inputs.stdin)).env.MOUNT_POINT, PATHS.controllerData);
        assert.strictEqual(out.zk, "");
        assert.deepStrictEqual(out.nodes.filter((n: any) => n.controllerId !== undefined).map((n: any) => n.name), ["ctl-1", "ctl-2", "ctl-3"]);
    });

    it("security group: the controllers' listener 9098 from the group itself only, no ZooKeeper port; JMX 9997 with kafka:jmx", async () => {
        const { of } = await build({ ...SSH, metadata: "kraft", jmx: true }, "dev");
        const rules = of(INGRESS);
        const sgRef = rules.filter((r) => r.inputs.referencedSecurityGroupId !== undefined);
        assert.deepStrictEqual(sgRef.map((r) => r.inputs.fromPort).sort(), [9092, 9093, 9094, 9095, 9096, 9097, 9098]);
        const cidr = rules.filter((r) => r.inputs.referencedSecurityGroupId === undefined).map((r) => r.inputs.fromPort);
        assert.ok(!cidr.includes(9098), "the controllers' listener is open to no CIDR");
        assert.ok(![2181, 2888, 3888].some((p) => [...cidr, ...sgRef.map((r) => r.inputs.fromPort)].includes(p)), "no ZooKeeper port");
        assert.deepStrictEqual(cidr.filter((p) => p > 9900).sort(), [9997, 9999]);
    });

    it("the cluster id is generated once (a local command without inputs that change) and reaches only the format steps", async () => {
        const { of } = await build({ ...SSH, metadata: "kraft" }, "dev");
        const id = of("command:local:Command").filter((c) => c.name === "kafka-dev-cluster-id");
        assert.strictEqual(id.length, 1);
        assert.match(id[0].inputs.create, /head -c 16 \/dev\/urandom/);
        const formats = of("command:remote:Command").filter((c) => /-format$/.test(c.name)).map((c) => c.name).sort();
        assert.deepStrictEqual(formats, ["node-1-controller-format", "node-1-format", "node-2-controller-format", "node-2-format", "node-3-controller-format", "node-3-format"]);
    });
});

describe("KafkaCluster (existing hosts: drift observed at every preview and up, mocked)", () => {
    const HOSTS = { hosts: [1, 2, 3].map((id) => ({ id, address: `192.0.2.${id}` })), sshUser: "admin", sshPrivateKey: KEY };
    const generationOf = (r: Recorded) => parseStepInput(plain(r.inputs.stdin)).env.OBSERVED_GENERATION;

    it("every node is observed once (observe.sh over SSH: its services and the records of its configure steps); a healthy node's steps get its generation", async () => {
        reset();
        const c = new KafkaCluster("test", { config: parseConfig({ ...HOSTS, metadata: "kraft" }, "dev") });
        await value(c.nodes);
        await settle();
        const runs = invokes.filter((i) => i.token === "command:local:run");
        assert.deepStrictEqual(runs.map((r) => r.inputs.environment.KC_SSH_TARGET).sort(), ["admin@192.0.2.1", "admin@192.0.2.2", "admin@192.0.2.3"]);
        const observe = parseHostCommand(runs[0].inputs.environment.KC_REMOTE_COMMAND).env;
        assert.strictEqual(observe.SERVICES, "kafka kafka-controller");
        assert.strictEqual(observe.CONFIG_DIR, PATHS.configDir);
        const steps = recorded.filter((r) => r.type === "command:remote:Command" && /-(broker|controller)$/.test(r.name));
        assert.strictEqual(steps.length, 6);
        for (const s of steps) assert.strictEqual(generationOf(s), "0", s.name);
    });

    it("a node with drift: its configure steps get the next generation (a change the preview shows), the others keep theirs", async () => {
        reset();
        OBSERVED["admin@192.0.2.2"] = "drift: kafka is inactive\ngeneration: 4";
        const c = new KafkaCluster("test", { config: parseConfig({ ...HOSTS }, "dev") });
        await value(c.nodes);
        await settle();
        const gen = Object.fromEntries(recorded.filter((r) => r.type === "command:remote:Command" && /-(broker|zookeeper)$/.test(r.name))
            .map((r) => [r.name, generationOf(r)]));
        assert.deepStrictEqual(gen, { "host-1-zookeeper": "0", "host-2-zookeeper": "4", "host-3-zookeeper": "0", "host-1-broker": "0", "host-2-broker": "4", "host-3-broker": "0" });
    });

    it("an unreachable node fails the program with its name, address and SSH's error", async () => {
        reset();
        OBSERVED["admin@192.0.2.3"] = "ssh: connect to host 192.0.2.3 port 22: Connection refused\nkc-observe-failed: exit status 255";
        const cfg = parseConfig({ ...HOSTS, security: "plaintext" }, "dev");
        if (cfg.mode !== "hosts") throw new Error("unreachable");
        const parent = new pulumi.ComponentResource("test:index:Parent", "observe-parent");
        const observed = observeNodes(cfg, hostNodes(cfg), hostNodes(cfg).map((n) => n.name), KEY, parent) as any;
        await assert.rejects(observed.promise(), reasonMatching(
            /observing host-3 \(admin@192\.0\.2\.3:22\) over SSH failed: ssh: connect to host 192\.0\.2\.3 port 22: Connection refused\. Fix: /));
        await settle();
    });
});

describe("KafkaCluster (the metadata mode the hosts run, observed at every preview and up, mocked)", () => {
    const HOSTS = { hosts: [1, 2, 3].map((id) => ({ id, address: `192.0.2.${id}` })), sshUser: "admin", sshPrivateKey: KEY };
    const zookeeperMode = (id: number) => `broker: active=1 mode=zookeeper version=3.9.2 id=${id}\nzookeeper: active=1\ngeneration: 2`;
    const kraftMode = (id: number) => `broker: active=1 mode=kraft version=4.3.2 id=${id}\n` +
        `controller: active=1 migration=0 zookeeper=0 version=4.3.2 id=${3000 + id} quorum=bootstrap\ngeneration: 1`;
    const stepsRegistered = () => recorded.filter((r) => r.type === "command:remote:Command").length;

    for (const [what, stack, hosts, expected] of [
        ["a ZooKeeper-mode cluster under a KRaft stack", { metadata: "kraft" }, zookeeperMode,
            /kafkaVersion is a 4\.x release .*runs in ZooKeeper mode.*Fix: pulumi config set kafka:kafkaVersion 3\.9\.2 \(with kafka:metadata kraft: the migration\).*Nothing was changed on any host/],
        ["a KRaft cluster under a ZooKeeper-mode stack", {}, kraftMode,
            /runs in KRaft mode .*cannot go back to ZooKeeper mode\. Fix: pulumi config set kafka:metadata kraft.*Nothing was changed on any host/],
    ] as const) {
        it(`refused at preview, before any step: ${what}`, async () => {
            reset();
            for (const id of [1, 2, 3]) OBSERVED[`admin@192.0.2.${id}`] = hosts(id);
            const c = new KafkaCluster("test", { config: parseConfig({ ...HOSTS, ...stack }, "dev") });
            await assert.rejects((c.metadataMigration as any).promise(), reasonMatching(expected));
            await settle().catch(() => undefined);
            // The steps wait for the observation's verdict: none of them got a command to run; nor were certificates
            // (they name the mode's principal) or a cluster id made.
            const withCommand = recorded.filter((r) => r.type === "command:remote:Command" && r.inputs.stdin !== undefined);
            assert.strictEqual(withCommand.length, 0, `${withCommand.length} of ${stepsRegistered()} steps got their command`);
            const made = recorded.filter((r) => r.type === "command:local:Command").map((r) => r.name);
            assert.ok(made.some((n) => /-ca$/.test(n)), `the CA does not depend on the mode: ${made.join(", ")}`);
            assert.deepStrictEqual(made.filter((n) => /-cert-|-cluster-id$/.test(n)), []);
        });
    }

    it("kafka:metadata kraft on 3.9 over a running ZooKeeper-mode cluster: admitted; the controllers are formatted with the id its brokers report", async () => {
        reset();
        const id = "oH81n1CwR9-cPnZUzue_0A";
        for (const i of [1, 2, 3]) OBSERVED[`admin@192.0.2.${i}`] = zookeeperMode(i).replace(`id=${i}`, `id=${i} cluster=${id}`);
        const c = new KafkaCluster("test", { config: parseConfig({ ...HOSTS, metadata: "kraft", kafkaVersion: "3.9.2" }, "dev") });
        assert.match(await value(c.metadataMigration), /^phase C: brokers in KRaft mode, the controllers still write every change to ZooKeeper/);
        await settle();
        const format = recorded.find((r) => r.name === "host-2-controller-format");
        assert.ok(format, "a controller format step");
        assert.strictEqual(parseStepInput(plain(format!.inputs.stdin)).env.CLUSTER_ID, id);
        // No cluster id of its own is generated for the stack (the running cluster has one).
        assert.ok(!recorded.some((r) => /-cluster-id$/.test(r.name)));
    });

    it("kafka:metadata zookeeper over a cluster in phase C: the rollback's steps are registered for this update, before every plan step", async () => {
        reset();
        const id = "oH81n1CwR9-cPnZUzue_0A";
        for (const i of [1, 2, 3]) {
            OBSERVED[`admin@192.0.2.${i}`] = `broker: active=1 mode=kraft version=3.9.2 id=${i} cluster=${id}\nzookeeper: active=1\n` +
                `controller: active=1 migration=1 zookeeper=1 version=3.9.2 id=${3000 + i} quorum=voters\ngeneration: 1`;
        }
        const c = new KafkaCluster("test", { config: parseConfig({ ...HOSTS }, "dev") });
        assert.strictEqual(await value(c.metadataMigration), "ZooKeeper mode");
        await settle();
        const names = recorded.filter((r) => r.type === "command:remote:Command").map((r) => r.name);
        for (const n of ["host-1-rollback-migrating", "host-3-rollback-migrating", "host-2-rollback-controller", "cluster-rollback-znodes", "host-1-broker"]) {
            assert.ok(names.includes(n), `${n} in ${names.join(", ")}`);
        }
        // The rollback's broker roll names the controllers the hosts report (the stack no longer does).
        const roll = recorded.find((r) => r.name === "host-2-rollback-migrating")!;
        const manifest = Buffer.from(parseStepInput(plain(roll.inputs.stdin)).env.MANIFEST_B64, "base64").toString().split("\n")
            .filter(Boolean).map((l) => Buffer.from(l.split(" ")[3], "base64").toString()).join("\n");
        assert.match(manifest, /^controller\.quorum\.voters=3001@192\.0\.2\.1:9098,3002@192\.0\.2\.2:9098,3003@192\.0\.2\.3:9098$/m);
        assert.match(manifest, /^zookeeper\.metadata\.migration\.enable=true$/m);
        // Registered before the plan's steps (which wait for them through their input).
        assert.ok(names.indexOf("cluster-rollback-znodes") < names.indexOf("host-1-broker"));
    });

    it("refused at preview: a migration whose brokers do not name their cluster (one never started)", async () => {
        reset();
        for (const i of [1, 2, 3]) OBSERVED[`admin@192.0.2.${i}`] = zookeeperMode(i).replace(`id=${i}`, `id=${i}${i === 3 ? "" : " cluster=oH81n1CwR9-cPnZUzue_0A"}`);
        const c = new KafkaCluster("test", { config: parseConfig({ ...HOSTS, metadata: "kraft", kafkaVersion: "3.9.2" }, "dev") });
        await assert.rejects((c.metadataMigration as any).promise(), reasonMatching(/needs the running cluster's id: no cluster id in the log directory of the broker on host-3.*Nothing was changed on any host/));
        await settle().catch(() => undefined);
        assert.strictEqual(recorded.filter((r) => r.type === "command:remote:Command" && r.inputs.stdin !== undefined).length, 0);
    });

    it("the output metadataMigration says the mode the hosts run; a new cluster is built in the configured mode", async () => {
        for (const [stack, hosts, expected] of [
            [{}, zookeeperMode, "ZooKeeper mode"], [{ metadata: "kraft" }, kraftMode, "KRaft mode"],
            [{ metadata: "kraft" }, () => "generation: 0", "KRaft mode"], [{}, () => "generation: 0", "ZooKeeper mode"],
        ] as const) {
            reset();
            for (const id of [1, 2, 3]) OBSERVED[`admin@192.0.2.${id}`] = hosts(id);
            const c = new KafkaCluster("test", { config: parseConfig({ ...HOSTS, ...stack }, "dev") });
            assert.strictEqual(await value(c.metadataMigration), expected);
            await settle();
        }
    });
});

describe("KafkaCluster (EC2: the migration to KRaft on the running instances, mocked)", () => {
    it("kafka:metadata kraft on 3.9 over running ZooKeeper-mode instances: the same instances (none added or replaced), the controllers' port inside the group", async () => {
        // (The prod stack's dedicated ZooKeeper nodes with data volumes are refused for the migration: the config test.)
        const DEV = { ...SSH };
        const first = await build(DEV, "dev");
        const running = runningFrom(recorded);
        const instances = (rs: Recorded[]) => rs.filter((r) => r.type === "aws:ec2/instance:Instance").map((r) => [r.name, r.inputs.ami, r.inputs.instanceType]);
        const before = instances(first.of("aws:ec2/instance:Instance"));
        reset();
        Object.assign(RUNNING, running);
        // Each running instance reports a ZooKeeper-mode broker (and a member on the first three) of one cluster.
        for (const [i, r] of Object.values(running).entries()) {
            OBSERVED[`ubuntu@${r.publicIp}`] = `broker: active=1 mode=zookeeper version=3.9.2 id=${i + 1} cluster=oH81n1CwR9-cPnZUzue_0A\n` +
                (i < 3 ? "zookeeper: active=1\n" : "") + "generation: 0";
        }
        const c = new KafkaCluster("test", { config: parseConfig({ ...DEV, metadata: "kraft", kafkaVersion: "3.9.2" }, "dev") });
        assert.match(await value(c.metadataMigration), /^phase C/);
        await settle();
        assert.deepStrictEqual(instances(recorded), before, "no instance added, replaced or changed");
        const cluster = recorded.filter((r) => r.type === INGRESS && r.inputs.referencedSecurityGroupId !== undefined).map((r) => r.inputs.fromPort).sort();
        assert.deepStrictEqual(cluster, [2181, 2888, 3888, 9092, 9093, 9094, 9095, 9096, 9097, 9098]);
        assert.ok(!recorded.some((r) => r.type === INGRESS && r.inputs.fromPort === 9098 && r.inputs.referencedSecurityGroupId === undefined));
        assert.ok(recorded.some((r) => r.name === "node-1-controller-format") && recorded.some((r) => r.name === "node-3-kraft"));
    });
});

describe("KafkaCluster (EC2: drift observed on the running instances at every preview and up, mocked)", () => {
    const PROD = stackConfig("prod", SSH);
    const generationOf = (r: Recorded) => parseStepInput(plain(r.inputs.stdin)).env.OBSERVED_GENERATION;
    const observations = () => invokes.filter((i) => i.token === "command:local:run").map((i) => plain(i.inputs.environment));
    const generations = () => Object.fromEntries(recorded.filter((r) => r.type === "command:remote:Command" && /-(broker|zookeeper)$/.test(r.name))
        .map((r) => [r.name, generationOf(r)]));

    it("a new stack observes nothing (no instance runs yet): every configure step gets a fresh node's generation, 0", async () => {
        await build(PROD, "prod");
        assert.deepStrictEqual(observations(), []);
        const gens = generations();
        assert.ok(Object.keys(gens).length >= 6, Object.keys(gens).join(", "));
        for (const [name, g] of Object.entries(gens)) assert.strictEqual(g, "0", name);
    });

    it("a later up observes each running instance over SSH at the address EC2 reports; drift gives that node's steps the next generation, a new node gets 0", async () => {
        await build(PROD, "prod");
        const running = runningFrom(recorded);
        const names = Object.keys(running).sort();
        const drifted = running[names[1]];
        OBSERVED[`ubuntu@${drifted.publicIp}`] = "drift: kafka is inactive\ngeneration: 3";
        const observedBefore = { ...OBSERVED };
        // reset() inside build clears OBSERVED: put it back after the reset, before the program runs.
        reset();
        Object.assign(RUNNING, running);
        Object.assign(OBSERVED, observedBefore);
        const c = new KafkaCluster("test", { config: parseConfig({ ...PROD, brokerCount: 4 }, "prod") });
        await value(c.nodes);
        await settle();
        const targets = observations().map((e) => e.KC_SSH_TARGET).sort();
        assert.deepStrictEqual(targets, Object.values(running).map((r) => `ubuntu@${r.publicIp}`).sort(), "only the running instances are observed");
        for (const e of observations()) assert.strictEqual(parseHostCommand(e.KC_REMOTE_COMMAND).env.CONFIG_DIR, PATHS.configDir);
        const gens = generations();
        const node = (instance: string) => instance.replace("kafka-prod-", "");
        for (const [step, g] of Object.entries(gens)) {
            const want = step.startsWith(`${node(names[1])}-`) ? "3" : "0";
            assert.strictEqual(g, want, step);
        }
        assert.ok(Object.keys(gens).some((s) => s.startsWith("broker-4-")), `the new node has steps: ${Object.keys(gens).join(", ")}`);
    });

    it("running instances in another metadata mode than the stack's: refused at preview, and no AWS resource, gate or step is registered", async () => {
        await build(PROD, "prod");
        const running = runningFrom(recorded);
        reset();
        Object.assign(RUNNING, running);
        Object.values(running).forEach((r, i) => {
            OBSERVED[`ubuntu@${r.publicIp}`] = `broker: active=1 mode=kraft version=4.3.2 id=${i + 1}\n` +
                `controller: active=1 migration=0 zookeeper=0 version=4.3.2 id=${3001 + i} quorum=bootstrap\ngeneration: 0`;
        });
        const c = new KafkaCluster("test", { config: parseConfig(PROD, "prod") });
        await assert.rejects((c.metadataMigration as any).promise(), reasonMatching(/runs in KRaft mode .*cannot go back to ZooKeeper mode/));
        await settle().catch(() => undefined);
        assert.ok(observations().length > 0, "the running instances were observed");
        const registered = recorded.filter((r) => r.type.startsWith("aws:") || /roll-gate|roll-settled/.test(r.name) || r.type === "command:remote:Command");
        assert.deepStrictEqual(registered.map((r) => `${r.type} ${r.name}`), []);
    });
});
