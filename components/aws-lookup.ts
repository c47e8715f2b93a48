// The AWS layer's lookups, made before any AWS resource is registered: the subnets and their VPC, the AZs that offer
// each instance type, each type's architecture and memory, and the image for it. The checks that need an answer from
// AWS live here (the rules themselves, like checkHeaps, stay in the pure config core); every problem names its setting
// and the fix, and all are reported at once.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { Bad, Ec2Cluster, HostOs, checkHeaps } from "./config";
import { RunningInstance } from "./rollout";
import { Ec2NodeSpec } from "./topology";

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

export interface SubnetInfo {
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
    /** Per configured instance type: its architecture. */
    arch: Record<string, Arch>;
    /** Per node name: the cluster's instance that EC2 reports for it (pending, running, stopping or stopped), if any. */
    running: Record<string, RunningInstance>;
}

/** The EC2 states of an instance that is, or will again be, a node of the cluster. */
export const LIVE_STATES = ["pending", "running", "stopping", "stopped"];

/**
 * The cluster's instances as EC2 reports them, by node name (their Name tag is `<clusterName>-<node>`), with each
 * one's architecture (from `arch`, or looked up for a type no longer configured). Two instances claiming one node is a
 * problem: which one the stack holds cannot be told from here.
 */
async function runningInstances(cfg: Ec2Cluster, nodes: Ec2NodeSpec[], arch: Map<string, Arch>, opts: pulumi.InvokeOptions,
    problems: string[]): Promise<Record<string, RunningInstance>> {
    const byName = new Map(nodes.map((n) => [`${cfg.clusterName}-${n.name}`, n.name]));
    const { ids } = await aws.ec2.getInstances({ instanceTags: { "kafka-cluster": cfg.clusterName }, instanceStateNames: LIVE_STATES }, opts);
    const found = await Promise.all([...ids].sort().map(async (instanceId) => ({ ...(await aws.ec2.getInstance({ instanceId }, opts)), instanceId })));
    const running: Record<string, RunningInstance> = {};
    const archOf = new Map(arch);
    // A type no longer configured (the node's turn to change has not come): x86_64 unless EC2 says arm64.
    await Promise.all([...new Set(found.map((i) => i.instanceType))].filter((t) => !archOf.has(t)).map(async (type) => {
        const info = await aws.ec2.getInstanceType({ instanceType: type }, opts).catch(() => undefined);
        archOf.set(type, typeArch(info?.supportedArchitectures ?? []) ?? "x86_64");
    }));
    for (const i of found) {
        const node = byName.get(i.tags?.Name ?? "");
        if (node === undefined) continue; // a node no longer configured: the stack deletes it
        if (running[node] !== undefined) {
            problems.push(`EC2 reports two instances for node ${node} (${running[node].instanceId}, ${i.instanceId}): the stack holds one of ` +
                `them. Fix: terminate the other one (pulumi stack --show-ids names the stack's), then run pulumi up again`);
            continue;
        }
        const os = i.tags?.os;
        running[node] = {
            instanceId: i.instanceId, ami: i.ami, instanceType: i.instanceType, arch: archOf.get(i.instanceType)!, privateIp: i.privateIp,
            ...(i.publicIp ? { publicIp: i.publicIp } : {}),
            ...(os === "ubuntu-24.04" || os === "amazon-linux-2023" ? { os } : {}),
        };
    }
    return running;
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

/** The architecture of the images an instance type runs, from what EC2 says it supports; undefined for neither. */
const typeArch = (supported: string[]): Arch | undefined =>
    (supported.includes("arm64") ? "arm64" : supported.includes("x86_64") ? "x86_64" : undefined);

/** The setting each instance type of the nodes comes from (brokers and co-located nodes: brokerInstanceType). */
function instanceTypeKeys(nodes: Ec2NodeSpec[]): Map<string, string> {
    const keys = new Map<string, string>();
    for (const n of nodes) {
        if (!keys.has(n.instanceType)) {
            keys.set(n.instanceType, n.roles.includes("broker") ? "brokerInstanceType" : n.roles.includes("controller") ? "controllerInstanceType"
                : n.roles.includes("zookeeper") ? "zookeeperInstanceType" : "monitoringInstanceType");
        }
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
        const a = typeArch(info.supportedArchitectures);
        if (a === undefined) {
            bad(key, `${type} runs ${info.supportedArchitectures.join("/")} images; kafka-cluster has images for x86_64 and arm64 only`,
                `pick another: pulumi config set kafka:${key} t3.large`);
        } else arch.set(type, a);
    }));

    checkHeaps(cfg, ec2, (type) => memory.get(type), bad);
    const running = await runningInstances(cfg, nodes, arch, opts, problems);

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
    return { vpcId, vpcCidr, images, subnets, arch: Object.fromEntries(arch), running };
}
