// The AWS layer's lookups under Pulumi mocks: what it asks AWS (invokes), what it picks from the answers (images,
// subnets, racks), and the problems it refuses with, naming the setting and the fix, before any AWS resource exists.
import * as assert from "assert";
import { AMIS, AZ_IDS, IMAGE_PARAMETERS, OFFERED_IN, RUNNING, SUBNETS, account, invokes, plain, recorded, reset, settle } from "./mocks";
import { RawConfig, parseConfig } from "../../components/config";
import { Ec2LookupError, imageParameter, lookupEc2 } from "../../components/aws-lookup";
import { KafkaCluster } from "../../components/cluster";
import { ec2Nodes } from "../../components/topology";
import { SSH } from "./stacks";
import { manifestText } from "./fixtures";

function ec2Config(raw: RawConfig) {
    const cfg = parseConfig({ ...SSH, ...raw }, "test");
    if (cfg.mode !== "ec2") throw new Error("expected EC2 mode");
    return cfg;
}

/** Runs the lookups for a configuration (as createAwsHosts does); `setup` changes the mock account first. */
function lookup(raw: RawConfig, setup: () => void = () => undefined) {
    reset();
    setup();
    const cfg = ec2Config(raw);
    return lookupEc2(cfg, ec2Nodes(cfg));
}

/** The lookup's problems for a configuration it must refuse. */
async function refused(raw: RawConfig, setup?: () => void): Promise<string[]> {
    try {
        await lookup(raw, setup);
    } catch (e) {
        assert.ok(e instanceof Ec2LookupError, `expected Ec2LookupError, got ${e}`);
        assert.match(e.message, /does not fit this AWS account and region.*no AWS resource was created or changed/);
        return e.problems;
    }
    assert.fail("expected the lookup to refuse the configuration");
}

/** The one problem naming `key`, which must carry a fix. */
function problemOf(p: string[], key: string): string {
    const hit = p.find((l) => l.startsWith(`kafka:${key}: `));
    assert.ok(hit, `no problem names kafka:${key}; got:\n${p.join("\n")}`);
    assert.match(hit!, /\. Fix: \S/);
    return hit!;
}

/**
 * Builds a cluster whose lookup must fail: returns what was registered and the errors the failed registrations
 * raised (Pulumi reports them as the program's failure; here they are unhandled rejections, collected).
 */
async function buildRefused(raw: RawConfig): Promise<{ types: string[]; errors: string[] }> {
    reset();
    const errors: string[] = [];
    const saved = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    process.on("unhandledRejection", (e) => { errors.push(String(e)); });
    try {
        new KafkaCluster("test", { config: parseConfig({ ...SSH, ...raw }, "test") });
        await settle();
        await new Promise((r) => setTimeout(r, 200));
    } finally {
        process.removeAllListeners("unhandledRejection");
        for (const l of saved) process.on("unhandledRejection", l);
    }
    return { types: recorded.map((r) => r.type), errors };
}

const instancesOf = () => recorded.filter((r) => r.type === "aws:ec2/instance:Instance");
const invoked = (token: string) => invokes.filter((i) => i.token === token);

async function build(raw: RawConfig) {
    reset();
    new KafkaCluster("test", { config: parseConfig({ ...SSH, ...raw }, "test") });
    await settle();
    await new Promise((r) => setTimeout(r, 100));
    return instancesOf();
}

describe("AWS lookups: images by architecture (mocked)", () => {
    it("names the public SSM parameters of Canonical (Ubuntu 24.04) and Amazon (AL2023) per architecture", () => {
        assert.strictEqual(imageParameter("ubuntu-24.04", "x86_64"), "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id");
        assert.strictEqual(imageParameter("ubuntu-24.04", "arm64"), "/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id");
        assert.strictEqual(imageParameter("amazon-linux-2023", "x86_64"), "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64");
        assert.strictEqual(imageParameter("amazon-linux-2023", "arm64"), "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64");
    });

    it("x86_64 instances boot the image Canonical's amd64 parameter names", async () => {
        const instances = await build({ instanceType: "t3.large" });
        assert.strictEqual(instances.length, 3);
        for (const i of instances) assert.strictEqual(i.inputs.ami, IMAGE_PARAMETERS[imageParameter("ubuntu-24.04", "x86_64")]);
        assert.deepStrictEqual(invoked("aws:ssm/getParameter:getParameter").map((i) => i.inputs.name), [imageParameter("ubuntu-24.04", "x86_64")]);
        assert.deepStrictEqual(invoked("aws:ec2/getInstanceType:getInstanceType").map((i) => i.inputs.instanceType), ["t3.large"]);
        assert.strictEqual(invoked("aws:ec2/getAmi:getAmi").length, 0, "no AMI search by name");
    });

    it("Graviton: arm64 brokers get the arm64 image, dedicated x86_64 ZooKeeper nodes the amd64 one", async () => {
        const instances = await build({ zookeeperPlacement: "dedicated", brokerInstanceType: "m7g.large", zookeeperInstanceType: "t3.medium" });
        const ami = (role: string) => [...new Set(instances.filter((i) => i.inputs.tags.role === role).map((i) => i.inputs.ami))];
        assert.deepStrictEqual(ami("broker"), ["ami-0ubuntuarm64000002"]);
        assert.deepStrictEqual(ami("zookeeper"), ["ami-0ubuntuamd64000001"]);
        assert.deepStrictEqual(instances.filter((i) => i.inputs.tags.role === "broker").map((i) => i.inputs.instanceType), ["m7g.large", "m7g.large", "m7g.large"]);
    });

    it("AL2023 on Graviton: Amazon's arm64 parameter", async () => {
        const instances = await build({ os: "amazon-linux-2023", instanceType: "t4g.medium" });
        for (const i of instances) assert.strictEqual(i.inputs.ami, "ami-0al2023arm64000004");
        assert.deepStrictEqual(invoked("aws:ssm/getParameter:getParameter").map((i) => i.inputs.name), [imageParameter("amazon-linux-2023", "arm64")]);
    });

    it("a type that also runs i386 (c5) is x86_64", async () => {
        const l = await lookup({ instanceType: "c5.large", brokerHeap: "1g", zookeeperHeap: "512m" });
        assert.strictEqual(l.images["c5.large"], "ami-0ubuntuamd64000001");
    });

    it("a pinned kafka:ami of the instances' architecture is used as it is; no SSM parameter is read", async () => {
        const instances = await build({ ami: "ami-0aaaaaaaaaaaaaaa1", instanceType: "t3.large" });
        for (const i of instances) assert.strictEqual(i.inputs.ami, "ami-0aaaaaaaaaaaaaaa1");
        assert.strictEqual(invoked("aws:ssm/getParameter:getParameter").length, 0);
        const amiLookups = invoked("aws:ec2/getAmi:getAmi");
        assert.strictEqual(amiLookups.length, 1);
        assert.deepStrictEqual(amiLookups[0].inputs.filters, [{ name: "image-id", values: ["ami-0aaaaaaaaaaaaaaa1"] }]);
        assert.strictEqual(amiLookups[0].inputs.includeDeprecated, true, "a pinned image stays usable after its deprecation date");
    });

    it("refuses a pinned x86_64 kafka:ami with an arm64 instance type, naming kafka:ami, the type and its setting", async () => {
        const p = await refused({ ami: "ami-0aaaaaaaaaaaaaaa1", zookeeperPlacement: "dedicated", brokerInstanceType: "m7g.large", zookeeperInstanceType: "t3.medium" });
        assert.strictEqual(p.length, 1, p.join("\n"));
        assert.match(problemOf(p, "ami"), /^kafka:ami: ami-0aaaaaaaaaaaaaaa1 is an x86_64 image, but kafka:brokerInstanceType m7g\.large runs arm64 images\. Fix: .*pulumi config rm kafka:ami/);
        assert.strictEqual(AMIS["ami-0aaaaaaaaaaaaaaa1"], "x86_64");
    });

    it("refuses a pinned kafka:ami the region does not have", async () => {
        const p = await refused({ ami: "ami-0ccccccccccccccc3" });
        assert.match(problemOf(p, "ami"), /ami-0ccccccccccccccc3 is not an image this account can use in this region/);
    });

    it("refuses an instance type EC2 does not know, and one that runs neither x86_64 nor arm64 images", async () => {
        assert.match(problemOf(await refused({ instanceType: "t9.large" }), "brokerInstanceType"), /EC2 does not offer instance type "t9\.large" in this region/);
        assert.match(problemOf(await refused({ zookeeperPlacement: "dedicated", zookeeperInstanceType: "mac2.metal" }), "zookeeperInstanceType"),
            /mac2\.metal runs arm64_mac images; kafka-cluster has images for x86_64 and arm64 only/);
    });

    it("a refused lookup registers no AWS resource, and the error names the setting", async () => {
        const { types, errors } = await buildRefused({ ami: "ami-0bbbbbbbbbbbbbbb2", instanceType: "t3.large" });
        assert.deepStrictEqual(types.filter((t) => t.startsWith("aws:")), [], "no AWS resource");
        assert.ok(errors.length > 0, "the failure surfaces");
        assert.ok(errors.every((e) => /kafka:ami: ami-0bbbbbbbbbbbbbbb2 is an arm64 image, but kafka:brokerInstanceType t3\.large runs x86_64 images/.test(e)), errors[0]);
    });
});

describe("AWS lookups: availability zones that offer the instance type (mocked)", () => {
    it("asks EC2 where each type is offered, by availability zone", async () => {
        await lookup({ zookeeperPlacement: "dedicated", brokerInstanceType: "m7g.large", zookeeperInstanceType: "t3.medium" });
        const asked = invoked("aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings").map((i) => i.inputs);
        assert.deepStrictEqual(asked.map((a) => a.filters).sort((a, b) => a[0].values[0].localeCompare(b[0].values[0])),
            [[{ name: "instance-type", values: ["m7g.large"] }], [{ name: "instance-type", values: ["t3.medium"] }]]);
        for (const a of asked) assert.strictEqual(a.locationType, "availability-zone");
    });

    it("places each type only in AZs offering it; broker.rack is the AZ ID, the same zone in every account", async () => {
        assert.ok(!OFFERED_IN["m7g.large"].includes("us-east-1a"), "the mock offers m7g.large outside us-east-1a only");
        reset();
        new KafkaCluster("test", { config: parseConfig({ ...SSH, zookeeperPlacement: "dedicated", brokerInstanceType: "m7g.large", zookeeperInstanceType: "t3.medium" }, "test") });
        await settle();
        await new Promise((r) => setTimeout(r, 100));
        const azOf = (role: string) => instancesOf().filter((i) => i.inputs.tags.role === role).map((i) => SUBNETS[i.inputs.subnetId]).sort();
        assert.deepStrictEqual(azOf("broker"), ["us-east-1b", "us-east-1c", "us-east-1d"]);
        assert.deepStrictEqual(azOf("zookeeper"), ["us-east-1a", "us-east-1b", "us-east-1c"], "t3.medium is offered everywhere: the first 3 AZs");
        const brokerCmds = recorded.filter((r) => r.type === "command:remote:Command" && /^broker-\d-broker$/.test(r.name));
        assert.strictEqual(brokerCmds.length, 3);
        const racks = brokerCmds.map((c) => /^broker\.rack=(.*)$/m.exec(manifestText(String(plain(c.inputs.stdin))))?.[1]).sort();
        assert.deepStrictEqual(racks, ["us-east-1b", "us-east-1c", "us-east-1d"].map((az) => AZ_IDS[az]).sort());
        assert.ok(racks.every((r) => /^use1-az\d$/.test(r!)), racks.join(","));
    });

    it("refuses configured subnets none of which is in an AZ offering the type, naming kafka:subnetIds, the AZs and the fix", async () => {
        const p = await refused({ subnetIds: ["subnet-0000000a"], instanceType: "m7g.large" });
        assert.strictEqual(p.length, 1, p.join("\n"));
        assert.match(problemOf(p, "subnetIds"), new RegExp("^kafka:subnetIds: no subnet is in an availability zone offering m7g\\.large " +
            "\\(kafka:brokerInstanceType\\): the subnets are subnet-0000000a in us-east-1a; it is offered in us-east-1b, us-east-1c, us-east-1d\\. " +
            "Fix: add a subnet in one of those AZs: pulumi config set --path 'kafka:subnetIds\\[1\\]' <subnet-id>"));
    });

    it("with fewer offering AZs than maxAzs, uses those it has", async () => {
        const l = await lookup({ subnetIds: ["subnet-0000000a", "subnet-0000000b"], instanceType: "m7g.large" });
        assert.deepStrictEqual(l.subnets["m7g.large"].map((s) => s.id), ["subnet-0000000b"]);
    });
});

describe("AWS lookups: network and memory checks (mocked)", () => {
    it("no default VPC and no kafka:subnetIds: a message naming kafka:subnetIds and how to set it", async () => {
        const p = await refused({}, () => { account.defaultVpc = false; });
        assert.strictEqual(p.length, 1, p.join("\n"));
        assert.match(problemOf(p, "subnetIds"), /^kafka:subnetIds: is unset, and this region has no default VPC to take subnets from.*Fix: name subnets of one VPC, one per AZ: pulumi config set --path 'kafka:subnetIds\[0\]'/);
    });

    it("refuses subnetIds of more than one VPC, naming each VPC's subnets", async () => {
        const p = await refused({ subnetIds: ["subnet-0000000a", "subnet-000000e1", "subnet-0000000b"] });
        assert.strictEqual(p.length, 1, p.join("\n"));
        assert.match(problemOf(p, "subnetIds"),
            /the subnets are in 2 VPCs \(vpc-00000001: subnet-0000000a, subnet-0000000b; vpc-00000002: subnet-000000e1\); the cluster's security group and instances live in one VPC/);
    });

    it("refuses a subnet id the region does not have", async () => {
        assert.match(problemOf(await refused({ subnetIds: ["subnet-0000000a", "subnet-000000ff"] }), "subnetIds"), /subnet-000000ff does not exist in this region/);
    });

    it("subnets of another VPC are fine on their own: the security group goes to that VPC, 9092 to its CIDR by default", async () => {
        const l = await lookup({ subnetIds: ["subnet-000000e1", "subnet-000000e2"] });
        assert.strictEqual(l.vpcId, "vpc-00000002");
        assert.strictEqual(l.vpcCidr, "10.50.0.0/16");
    });

    // [what, raw config, key, text]: the memory is what getInstanceType reports (mocks.ts INSTANCE_TYPES).
    const heaps: [string, RawConfig, string, RegExp][] = [
        ["co-located heaps summed", { instanceType: "t3.small", brokerHeap: "2g" }, "brokerHeap",
            /^kafka:brokerHeap: brokerHeap \+ zookeeperHeap of a co-located node \(2560 MiB\) exceed 75% of the 2048 MiB of memory of t3\.small \(kafka:brokerInstanceType; at most 1536 MiB of heap\).*Fix: lower it \(pulumi config set kafka:brokerHeap 1024m\) or pick a larger kafka:brokerInstanceType$/],
        ["a dedicated broker", { zookeeperPlacement: "dedicated", brokerInstanceType: "t3.medium", brokerHeap: "4g" }, "brokerHeap",
            /^kafka:brokerHeap: brokerHeap \(4096 MiB\) exceeds 75% of the 4096 MiB of memory of t3\.medium \(kafka:brokerInstanceType.*Fix: lower it \(pulumi config set kafka:brokerHeap 3072m\)/],
        ["a dedicated ZooKeeper node", { zookeeperPlacement: "dedicated", zookeeperInstanceType: "t3.micro", zookeeperHeap: "1g" }, "zookeeperHeap",
            /^kafka:zookeeperHeap: zookeeperHeap \(1024 MiB\) exceeds 75% of the 1024 MiB of memory of t3\.micro \(kafka:zookeeperInstanceType.*pick a larger kafka:zookeeperInstanceType$/],
        ["a Graviton type no table listed", { instanceType: "t4g.medium", brokerHeap: "3g" }, "brokerHeap", /\(3584 MiB\) exceed 75% of the 4096 MiB of memory of t4g\.medium/],
    ];
    for (const [what, raw, key, text] of heaps) {
        it(`refuses heaps above 75% of the instance's memory as EC2 reports it: ${what} (kafka:${key})`, async () => {
            const p = await refused(raw);
            assert.strictEqual(p.length, 1, p.join("\n"));
            assert.match(problemOf(p, key), text);
        });
    }

    it("heaps within 75% of the memory EC2 reports pass (dev and prod stacks' sizes)", async () => {
        await lookup({ instanceType: "t3.small", brokerHeap: "400m", zookeeperHeap: "400m" });
        await lookup({ zookeeperPlacement: "dedicated", brokerInstanceType: "m6i.xlarge", brokerHeap: "6g", zookeeperInstanceType: "t3.medium", zookeeperHeap: "1g" });
        await lookup({ instanceType: "t3.small", brokerHeap: "1024m", zookeeperHeap: "512m" }); // exactly 75%
    });

    it("a refused heap registers no instance (nor any AWS resource): instances take their type through the checked lookup", async () => {
        const { types, errors } = await buildRefused({ instanceType: "t3.small", brokerHeap: "2g" });
        assert.deepStrictEqual(types.filter((t) => t.startsWith("aws:")), []);
        assert.ok(errors.length > 0 && errors.every((e) => /kafka:brokerHeap: .* t3\.small/.test(e)), errors[0]);
        assert.deepStrictEqual(invoked("aws:ec2/getInstanceType:getInstanceType").map((i) => i.inputs.instanceType), ["t3.small"]);
    });

    it("reports every lookup problem at once", async () => {
        const p = await refused({ instanceType: "t3.small", brokerHeap: "2g", subnetIds: ["subnet-0000000a", "subnet-000000e1"] });
        assert.deepStrictEqual(p.map((l) => l.split(":")[1]).sort(), ["brokerHeap", "subnetIds"]);
    });
});

describe("AWS lookups: the cluster's running instances (mocked)", () => {
    const instance = (name: string, id: string, extra: Record<string, string> = {}) => ({
        instanceId: id, ami: "ami-0aaaaaaaaaaaaaaa1", instanceType: "t3.large", privateIp: "10.0.0.1", publicIp: "203.0.113.1",
        tags: { "kafka-cluster": "kafka-test", Name: `kafka-test-${name}`, os: "amazon-linux-2023", ...extra },
    });

    it("finds each node's instance by its Name tag, with its image, type, architecture, addresses and os tag; others are ignored", async () => {
        const found = await lookup({}, () => Object.assign(RUNNING, {
            a: instance("node-1", "i-1"), b: instance("node-9", "i-9"),
            c: { ...instance("node-2", "i-2"), tags: { "kafka-cluster": "another", Name: "kafka-test-node-2" } },
        }));
        assert.deepStrictEqual(found.running, { "node-1": {
            instanceId: "i-1", ami: "ami-0aaaaaaaaaaaaaaa1", instanceType: "t3.large", arch: "x86_64", privateIp: "10.0.0.1",
            publicIp: "203.0.113.1", os: "amazon-linux-2023",
        } });
        assert.ok(invokes.some((i) => i.token === "aws:ec2/getInstances:getInstances" &&
            JSON.stringify(i.inputs.instanceStateNames) === JSON.stringify(["pending", "running", "stopping", "stopped"])));
    });

    it("two instances claiming one node: refused, naming both and the fix", async () => {
        const p = await refused({}, () => Object.assign(RUNNING, { a: instance("node-2", "i-a"), b: instance("node-2", "i-b") }));
        assert.deepStrictEqual(p, ["EC2 reports two instances for node node-2 (i-a, i-b): the stack holds one of them. Fix: terminate the " +
            "other one (pulumi stack --show-ids names the stack's), then run pulumi up again"]);
    });
});
