// The AWS layer: one security group, instances spread across availability zones, data volumes. It turns the
// topology's EC2 node specs into ClusterNodes whose addresses are the instances' outputs; it knows nothing about
// Kafka beyond the ports in the layout.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { Bad, Ec2Cluster, HostOs, checkHeaps } from "./config";
import { PORTS } from "./layout";
import { ClusterNode, Ec2NodeSpec } from "./topology";

/** Ports only cluster members may reach: ZooKeeper client, peer and election ports and the inter-broker listener. */
export const CLUSTER_ONLY_PORTS = [PORTS.zookeeperClient, PORTS.zookeeperPeer, PORTS.zookeeperElection, PORTS.internal];

/** CPU architectures of EC2 instance types and images, as EC2 names them. */
export type Arch = "x86_64" | "arm64";

/**
 * The public SSM parameter that names the current image of an OS for an architecture: Canonical's for Ubuntu, Amazon's
 * for AL2023. Resolved at every `pulumi up`; instances ignore AMI changes (see README), so a new release replaces nothing.
 */
export function imageParameter(os: HostOs, arch: Arch): string {
    return os === "ubuntu-24.04"
        ? `/aws/service/canonical/ubuntu/server/24.04/stable/current/${arch === "arm64" ? "arm64" : "amd64"}/hvm/ebs-gp3/ami-id`
        : `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${arch}`;
}

interface SubnetInfo {
    id: string;
    availabilityZone: string;
    /** The AZ's ID (use1-az4): the same zone in every account, unlike its name; it becomes broker.rack. */
    availabilityZoneId: string;
    vpcId: string;
}

/** What the AWS account and region say about the configuration; looked up before any AWS resource is registered. */
export interface Ec2Lookup {
    vpcId: string;
    /** The VPC's IPv4 CIDR (the client rule's default). */
    vpcCidr: string;
    /** Per instance type: the image its nodes boot (the pinned kafka:ami, or the current image of kafka:os for its architecture). */
    images: Record<string, string>;
    /** Per instance type: the subnets its nodes spread over, one per AZ that offers the type, sorted by AZ, at most kafka:maxAzs. */
    subnets: Record<string, SubnetInfo[]>;
}

/** Problems found by the lookups: each names its setting and the fix, like a ConfigError. */
export class Ec2LookupError extends Error {
    constructor(public readonly problems: string[]) {
        super(
            `kafka-cluster: the stack configuration does not fit this AWS account and region (${problems.length} ` +
                `problem${problems.length === 1 ? "" : "s"}); no AWS resource was created or changed:\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "Ec2LookupError";
    }
}

/** " (AWS's answer)" for a failed lookup, on one line; empty when AWS said nothing. */
const answer = (e: unknown) => {
    const text = (e instanceof Error ? e.message : String(e)).split("\n").map((l) => l.trim()).filter(Boolean).join(" ");
    return text ? ` (${text.length > 300 ? `${text.slice(0, 300)}...` : text})` : "";
};

/** The setting each instance type of the nodes comes from (brokers and co-located nodes: brokerInstanceType). */
function instanceTypeKeys(nodes: Ec2NodeSpec[]): Map<string, string> {
    const keys = new Map<string, string>();
    for (const n of nodes) {
        if (!keys.has(n.instanceType)) keys.set(n.instanceType, n.roles.includes("broker") ? "brokerInstanceType" : "zookeeperInstanceType");
    }
    return keys;
}

/**
 * Every AWS lookup the cluster needs, with the checks that need them: the subnets and their VPC, each instance type's
 * architecture and the image for it. All problems are reported at once (Ec2LookupError). The AWS layer passes every
 * resource's inputs through this result, so a failed check registers nothing.
 */
export async function lookupEc2(cfg: Ec2Cluster, nodes: Ec2NodeSpec[], opts: pulumi.InvokeOptions = {}): Promise<Ec2Lookup> {
    const ec2 = cfg.ec2;
    const problems: string[] = [];
    const bad: Bad = (key, msg, fix) => problems.push(`kafka:${key}: ${msg}. Fix: ${fix}`);
    const types = instanceTypeKeys(nodes);

    // Instance types: their architecture picks the image, their memory bounds the heaps.
    const arch = new Map<string, Arch>();
    const memory = new Map<string, number>();
    await Promise.all([...types].map(async ([type, key]) => {
        let info: aws.ec2.GetInstanceTypeResult;
        try {
            info = await aws.ec2.getInstanceType({ instanceType: type }, opts);
        } catch (e) {
            bad(key, `EC2 does not offer instance type "${type}" in this region${answer(e)}`, `pick another: pulumi config set kafka:${key} t3.large`);
            return;
        }
        memory.set(type, info.memorySize);
        const a = info.supportedArchitectures.includes("arm64") ? "arm64" : info.supportedArchitectures.includes("x86_64") ? "x86_64" : undefined;
        if (a === undefined) {
            bad(key, `${type} runs ${info.supportedArchitectures.join("/")} images; kafka-cluster has images for x86_64 and arm64 only`,
                `pick another: pulumi config set kafka:${key} t3.large`);
        } else arch.set(type, a);
    }));

    checkHeaps(cfg, ec2, (type) => memory.get(type), bad);

    // Images: the pinned AMI must suit every instance type; else the current image of the OS per architecture.
    const images: Record<string, string> = {};
    if (ec2.ami !== undefined) {
        let amiArch: string | undefined;
        try {
            amiArch = (await aws.ec2.getAmi({ filters: [{ name: "image-id", values: [ec2.ami] }], includeDeprecated: true }, opts)).architecture;
        } catch (e) {
            bad("ami", `${ec2.ami} is not an image this account can use in this region${answer(e)}`,
                `pulumi config set kafka:ami <ami-id>, or remove it to use the current ${ec2.os} image: pulumi config rm kafka:ami`);
        }
        for (const [type, a] of arch) {
            if (amiArch === undefined) break;
            if (amiArch !== a) {
                bad("ami", `${ec2.ami} is an ${amiArch} image, but kafka:${types.get(type)} ${type} runs ${a} images`,
                    `pin an ${a} image, pick an ${amiArch} instance type, or remove kafka:ami to get the current ${ec2.os} image for each ` +
                    `architecture: pulumi config rm kafka:ami`);
            }
            images[type] = ec2.ami;
        }
    } else {
        const byArch = new Map<Arch, Promise<string | undefined>>();
        for (const a of new Set(arch.values())) {
            const name = imageParameter(ec2.os, a);
            byArch.set(a, aws.ssm.getParameter({ name }, opts).then((p) => p.value, (e) => {
                bad("os", `cannot read the ${ec2.os} ${a} image from SSM parameter ${name}${answer(e)}`,
                    "check the region and that the account may call ssm:GetParameter, or pin an image: pulumi config set kafka:ami <ami-id>");
                return undefined;
            }));
        }
        for (const [type, a] of arch) {
            const id = await byArch.get(a)!;
            if (id !== undefined) images[type] = id;
        }
    }

    // Network: the configured subnets, or the default VPC's default subnets; one per AZ, sorted by AZ.
    const subnetsFix = "name subnets of one VPC, one per AZ: pulumi config set --path 'kafka:subnetIds[0]' subnet-0123456789abcdef0 (and [1], [2] ...)";
    let ids = ec2.subnetIds;
    if (ids === undefined) {
        let vpc: aws.ec2.GetVpcResult | undefined;
        try {
            vpc = await aws.ec2.getVpc({ default: true }, opts);
        } catch (e) {
            bad("subnetIds", `is unset, and this region has no default VPC to take subnets from${answer(e)}`, subnetsFix);
        }
        ids = vpc === undefined ? []
            : (await aws.ec2.getSubnets({ filters: [{ name: "vpc-id", values: [vpc.id] }, { name: "default-for-az", values: ["true"] }] }, opts)).ids;
        if (vpc !== undefined && ids.length === 0) bad("subnetIds", `is unset, and the default VPC ${vpc.id} has no default subnets`, subnetsFix);
    }
    if (ids.length === 0 && ec2.subnetIds !== undefined) bad("subnetIds", "is an empty list", subnetsFix);
    const found = await Promise.all(ids.map((id) => aws.ec2.getSubnet({ id }, opts).catch((e) => {
        bad("subnetIds", `${id} does not exist in this region${answer(e)}`, `remove it from kafka:subnetIds or name a subnet of this region`);
        return undefined;
    })));
    const infos = found.filter((s): s is aws.ec2.GetSubnetResult => s !== undefined);
    const vpcs = [...new Set(infos.map((s) => s.vpcId))].sort();
    if (vpcs.length > 1) {
        bad("subnetIds", `the subnets are in ${vpcs.length} VPCs (${vpcs.map((v) => `${v}: ${infos.filter((s) => s.vpcId === v).map((s) => s.id).join(", ")}`)
            .join("; ")}); the cluster's security group and instances live in one VPC`, `keep the subnets of one VPC in kafka:subnetIds`);
    }
    if (infos.length === 0 || vpcs.length > 1) throw new Ec2LookupError(problems);
    const byAz = new Map<string, SubnetInfo>();
    for (const s of [...infos].sort((a, b) => a.availabilityZone.localeCompare(b.availabilityZone) || a.id.localeCompare(b.id))) {
        if (!byAz.has(s.availabilityZone)) {
            byAz.set(s.availabilityZone, { id: s.id, availabilityZone: s.availabilityZone, availabilityZoneId: s.availabilityZoneId, vpcId: s.vpcId });
        }
    }
    // Each instance type spreads over the AZs (of those subnets) that offer it.
    const subnets: Record<string, SubnetInfo[]> = {};
    await Promise.all([...types].map(async ([type, key]) => {
        const offered = new Set((await aws.ec2.getInstanceTypeOfferings({
            locationType: "availability-zone", filters: [{ name: "instance-type", values: [type] }],
        }, opts)).locations);
        const usable = [...byAz.values()].filter((s) => offered.has(s.availabilityZone));
        if (usable.length > 0) {
            subnets[type] = usable.slice(0, ec2.maxAzs);
            return;
        }
        const have = [...byAz.values()].map((s) => `${s.id} in ${s.availabilityZone}`).join(", ");
        const where = offered.size > 0 ? `it is offered in ${[...offered].sort().join(", ")}` : "it is offered in no AZ of this region";
        if (ec2.subnetIds !== undefined) {
            bad("subnetIds", `no subnet is in an availability zone offering ${type} (kafka:${key}): the subnets are ${have}; ${where}`,
                `add a subnet in one of those AZs: pulumi config set --path 'kafka:subnetIds[${ec2.subnetIds.length}]' <subnet-id>, or pick ` +
                `another kafka:${key}`);
        } else {
            bad(key, `${type} is offered in none of the default VPC's AZs (${have}); ${where}`,
                `pick another type: pulumi config set kafka:${key} t3.large, or set kafka:subnetIds to subnets in those AZs`);
        }
    }));
    const vpcId = [...byAz.values()][0].vpcId;
    const vpcCidr = (await aws.ec2.getVpc({ id: vpcId }, opts)).cidrBlock;

    if (problems.length > 0) throw new Ec2LookupError(problems);
    return { vpcId, vpcCidr, images, subnets };
}

export interface AwsHostsArgs {
    config: Ec2Cluster;
    nodes: Ec2NodeSpec[];
    publicKey: pulumi.Input<string>;
    parent: pulumi.Resource;
}

export interface AwsHosts {
    securityGroup: aws.ec2.SecurityGroup;
    instances: Record<string, aws.ec2.Instance>;
    /** The nodes, addressed by their instances' outputs. */
    nodes: ClusterNode<pulumi.Output<string>>[];
    /** Per node name: what its commands must wait for (the instance, the data volume's attachment). */
    dependencies: Record<string, pulumi.Resource[]>;
}

export function createAwsHosts(args: AwsHostsArgs): AwsHosts {
    const { config: cfg, nodes, parent } = args;
    const ec2 = cfg.ec2;
    const opts = { parent };
    const tags = (extra: Record<string, string> = {}) => ({ "kafka-cluster": cfg.clusterName, ...extra });

    // Every lookup and check first: each AWS resource takes an input through it, so a failed check registers nothing.
    const lookup = pulumi.output(lookupEc2(cfg, nodes, opts));
    const vpcId = lookup.vpcId;

    const securityGroup = new aws.ec2.SecurityGroup(`${cfg.clusterName}-sg`, {
        vpcId,
        description: `kafka-cluster ${cfg.clusterName}: brokers and ZooKeeper`,
        tags: tags({ Name: `${cfg.clusterName}` }),
    }, opts);
    const sgOpts = { parent: securityGroup };
    for (const port of [...CLUSTER_ONLY_PORTS, PORTS.client]) {
        new aws.vpc.SecurityGroupIngressRule(`${cfg.clusterName}-self-${port}`, {
            securityGroupId: securityGroup.id, referencedSecurityGroupId: securityGroup.id,
            ipProtocol: "tcp", fromPort: port, toPort: port, description: `cluster members on ${port}`,
        }, sgOpts);
    }
    const cidrRule = (name: string, cidr: string, port: number, description: string) =>
        new aws.vpc.SecurityGroupIngressRule(name, {
            securityGroupId: securityGroup.id, ipProtocol: "tcp", fromPort: port, toPort: port, description,
            cidrIpv4: cidr, // IPv6 blocks are refused: the instances get no IPv6 address
        }, sgOpts);
    if (ec2.clientCidrs) {
        ec2.clientCidrs.forEach((c, i) => cidrRule(`${cfg.clusterName}-client-${i}`, c, PORTS.client, "Kafka clients"));
    } else {
        new aws.vpc.SecurityGroupIngressRule(`${cfg.clusterName}-client-vpc`, {
            securityGroupId: securityGroup.id, ipProtocol: "tcp", fromPort: PORTS.client, toPort: PORTS.client,
            cidrIpv4: lookup.vpcCidr,
            description: "Kafka clients in the VPC (default when kafka:clientCidrs is unset)",
        }, sgOpts);
    }
    ec2.sshCidrs.forEach((c, i) => cidrRule(`${cfg.clusterName}-ssh-${i}`, c, PORTS.ssh, "SSH for provisioning"));
    new aws.vpc.SecurityGroupEgressRule(`${cfg.clusterName}-egress`, {
        securityGroupId: securityGroup.id, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0", description: "packages and the Kafka download",
    }, sgOpts);

    const keyPair = new aws.ec2.KeyPair(`${cfg.clusterName}-key`, { publicKey: lookup.apply(() => pulumi.output(args.publicKey)), tags: tags() }, opts);

    const instances: Record<string, aws.ec2.Instance> = {};
    const dependencies: Record<string, pulumi.Resource[]> = {};
    const clusterNodes = nodes.map((node): ClusterNode<pulumi.Output<string>> => {
        const subnet = lookup.subnets.apply((s) => s[node.instanceType][node.azIndex % s[node.instanceType].length]);
        const role = node.roles.join("+");
        const instance = new aws.ec2.Instance(`${cfg.clusterName}-${node.name}`, {
            ami: lookup.images.apply((i) => i[node.instanceType]),
            instanceType: lookup.apply(() => node.instanceType),
            subnetId: subnet.id,
            vpcSecurityGroupIds: [securityGroup.id],
            keyName: keyPair.keyName,
            associatePublicIpAddress: ec2.associatePublicIp,
            rootBlockDevice: { volumeSize: ec2.rootVolumeGb, volumeType: "gp3", encrypted: true },
            metadataOptions: { httpTokens: "required" },
            tags: tags({
                Name: `${cfg.clusterName}-${node.name}`, role,
                ...(node.brokerId !== undefined ? { "broker-id": String(node.brokerId) } : {}),
                ...(node.zookeeperId !== undefined ? { "zookeeper-id": String(node.zookeeperId) } : {}),
            }),
        }, {
            parent,
            // A new AMI release must never replace a running broker. Roll to a new image on purpose, one node at a
            // time, with `pulumi up --replace <instance urn>` (see README).
            ignoreChanges: ["ami"],
        });
        instances[node.name] = instance;
        let dataVolumeId: pulumi.Output<string> | undefined;
        const dependsOn: pulumi.Resource[] = [instance];
        // With publicAccess a broker gets an Elastic IP: the address clients are told (and SSH uses) survives a stop/start
        // of the instance, which gives it a new public IP, and a replacement of the instance (the association moves).
        let publicIp = instance.publicIp;
        if (ec2.publicAccess && node.brokerId !== undefined) {
            const eip = new aws.ec2.Eip(`${cfg.clusterName}-${node.name}-ip`, {
                domain: "vpc",
                // Through the lookup: no address is allocated when a check fails.
                tags: lookup.apply(() => tags({ Name: `${cfg.clusterName}-${node.name}`, role, "broker-id": String(node.brokerId) })),
            }, { parent });
            const association = new aws.ec2.EipAssociation(`${cfg.clusterName}-${node.name}-ip`, {
                allocationId: eip.allocationId, instanceId: instance.id,
            }, { parent });
            dependsOn.push(association);
            publicIp = eip.publicIp;
        }
        const dataVolume = node.dataVolume ? ec2.dataVolume : undefined;
        if (dataVolume) {
            const volume = new aws.ebs.Volume(`${cfg.clusterName}-${node.name}-data`, {
                availabilityZone: subnet.availabilityZone,
                size: dataVolume.sizeGb,
                type: dataVolume.type,
                iops: dataVolume.iops,
                throughput: dataVolume.throughputMiBps,
                encrypted: true,
                tags: tags({ Name: `${cfg.clusterName}-${node.name}-data`, role: "kafka-data", ...(node.brokerId !== undefined ? { "broker-id": String(node.brokerId) } : {}) }),
            }, { parent });
            const attachment = new aws.ec2.VolumeAttachment(`${cfg.clusterName}-${node.name}-data`, {
                deviceName: "/dev/sdf", volumeId: volume.id, instanceId: instance.id, stopInstanceBeforeDetaching: true,
            }, { parent });
            dataVolumeId = volume.id;
            dependsOn.push(attachment);
        }
        dependencies[node.name] = dependsOn;
        return {
            name: node.name, roles: node.roles, brokerId: node.brokerId, zookeeperId: node.zookeeperId, user: node.user,
            sshAddress: ec2.associatePublicIp ? publicIp : instance.privateIp,
            clientAddress: ec2.publicAccess ? publicIp : instance.privateIp,
            privateAddress: instance.privateIp,
            rack: subnet.availabilityZoneId,
            ...(dataVolumeId !== undefined ? { dataVolumeId } : {}),
        };
    });
    return { securityGroup, instances, nodes: clusterNodes, dependencies };
}
