// Rules for EC2 mode: instance types, the image, the volumes, the network and how this program logs in (port 22 only,
// the one the security group opens). The memory the heaps may take is a rule here too (checkHeaps), but the memory of
// an instance type comes from EC2, so the AWS layer applies it when it has looked the types up.
import { bastionSettings } from "./bastion";
import { Values } from "./decode";
import { heapMiB } from "./kafka";
import { Bad, DataVolumeConfig, Ec2MonitoringSettings, Ec2Settings, HostOs, KafkaSettings } from "./types";

/**
 * gp3 limits (EBS CreateVolume): a baseline of 3000 IOPS and 125 MiB/s at any size; up to 80000 IOPS at 500 IOPS per
 * GiB, and up to 2000 MiB/s at 0.25 MiB/s per provisioned IOPS.
 */
export const GP3 = { baseIops: 3000, maxIops: 80000, iopsPerGib: 500, baseThroughput: 125, maxThroughput: 2000, throughputPerIops: 0.25 } as const;

/** Share of an instance's memory that JVM heaps on it may take; the rest is for the OS and page cache. */
export const MAX_HEAP_SHARE = 0.75;

export function isCidr(s: string): boolean {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s);
    if (m) return m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
    const v6 = /^([0-9a-fA-F:]+)\/(\d{1,3})$/.exec(s);
    return !!v6 && v6[1].includes(":") && Number(v6[2]) <= 128;
}

/** An IPv4 block as [network address as a number, prefix length], or undefined for anything else. */
function ipv4Block(cidr: string): [number, number] | undefined {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
    if (!m || !isCidr(cidr)) return undefined;
    const prefix = Number(m[5]);
    const address = m.slice(1, 5).reduce((a, o) => a * 256 + Number(o), 0);
    return [prefix === 0 ? 0 : address - (address % 2 ** (32 - prefix)), prefix];
}

/** Whether IPv4 block `outer` contains every address of `inner`. */
export function cidrContains(outer: string, inner: string): boolean {
    const o = ipv4Block(outer), i = ipv4Block(inner);
    if (!o || !i || o[1] > i[1]) return false;
    return o[1] === 0 || i[0] - (i[0] % 2 ** (32 - o[1])) === o[0];
}

/** Whether two IPv4 blocks share an address. */
export function cidrsOverlap(a: string, b: string): boolean {
    return cidrContains(a, b) || cidrContains(b, a);
}

/**
 * What the VPC's CIDR (known once the AWS layer looked it up) says about a configuration that passed: address ranges
 * that admit no one from inside the VPC where someone there is expected. Warnings, not errors: a client or bastion may
 * sit in a peered VPC or behind a VPN whose range is outside this VPC's.
 */
export function vpcReachWarnings(ec2: Pick<Ec2Settings, "clientCidrs" | "sshCidrs" | "publicAccess" | "bastion" | "sshFromVpc">,
    vpcCidr: string): string[] {
    const out: string[] = [];
    const inVpc = (list: string[]) => list.some((c) => cidrsOverlap(c, vpcCidr));
    if (ec2.clientCidrs && !ec2.publicAccess && !inVpc(ec2.clientCidrs)) {
        out.push(`kafka:clientCidrs (${ec2.clientCidrs.join(", ")}) admits no address of the VPC (${vpcCidr}), and without ` +
            `kafka:publicAccess the brokers advertise private addresses only: no client inside the VPC can reach port 9092. ` +
            `Fix, if your clients are in this VPC: pulumi config set --path 'kafka:clientCidrs[${ec2.clientCidrs.length}]' ${vpcCidr}`);
    }
    if ((ec2.bastion || ec2.sshFromVpc) && ec2.sshCidrs && !inVpc(ec2.sshCidrs)) {
        out.push(`kafka:sshCidrs (${ec2.sshCidrs.join(", ")}) admits no address of the VPC (${vpcCidr}), but SSH comes from inside ` +
            `it (${ec2.bastion ? "kafka:bastion: the instances see the bastion's private address" : "kafka:sshFromVpc"}). ` +
            `Fix: add the ${ec2.bastion ? "bastion's private address" : "address pulumi runs from"}, e.g. ` +
            `pulumi config set --path 'kafka:sshCidrs[${ec2.sshCidrs.length}]' ${vpcCidr}, or remove kafka:sshCidrs (default: the VPC's CIDR)`);
    }
    return out;
}

/** Stacks whose data volumes are not protected unless kafka:protectData says so: throwaway ones. */
export const UNPROTECTED_STACK = /^(dev|local|test)/;

export function ec2Settings(v: Values, kafka: KafkaSettings, stack: string, sshPrivateKey: string | undefined, bad: Bad): Ec2Settings {
    const { brokerCount, quorum } = kafka;
    const q = quorum.role === "zookeeper" ? { key: "zookeeper", what: "ZooKeeper members" } : { key: "controller", what: "KRaft controllers" };
    if (quorum.placement === "colocated" && quorum.count > brokerCount) {
        bad(`${q.key}Count`, `${quorum.count} ${q.what} cannot be co-located on ${brokerCount} broker host(s)`,
            `lower kafka:${q.key}Count to ${brokerCount % 2 ? brokerCount : brokerCount - 1}, raise kafka:brokerCount, or set kafka:${q.key}Placement dedicated`);
    }

    // --- Sizing ---------------------------------------------------------------------------------------------------
    const instanceType = v.instanceType ?? "t3.large";
    const brokerInstanceType = v.brokerInstanceType ?? instanceType;
    const zookeeperInstanceType = v.zookeeperInstanceType ?? (kafka.zookeeperPlacement === "dedicated" ? "t3.medium" : brokerInstanceType);
    const controllerInstanceType = v.controllerInstanceType ?? (quorum.placement === "dedicated" ? "t3.medium" : brokerInstanceType);
    for (const [key, t] of [["instanceType", instanceType], ["brokerInstanceType", brokerInstanceType], ["zookeeperInstanceType", zookeeperInstanceType],
        ["controllerInstanceType", controllerInstanceType]]) {
        if (!/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(t)) {
            bad(key, `"${t}" is not an EC2 instance type`, `pulumi config set kafka:${key} t3.large`);
        }
    }
    const os = v.os ?? "ubuntu-24.04";
    if (os !== "ubuntu-24.04" && os !== "amazon-linux-2023") {
        bad("os", `must be "ubuntu-24.04" or "amazon-linux-2023" (got "${os}")`, `pulumi config set kafka:os ubuntu-24.04`);
    }
    const ami = v.ami;
    if (ami !== undefined && !/^ami-[0-9a-f]{8,17}$/.test(ami)) {
        bad("ami", `"${ami}" is not an AMI id (ami-0123456789abcdef0)`, `pulumi config set kafka:ami <ami-id> or remove it to use the newest ${os} image`);
    }
    const rootVolumeGb = v.rootVolumeGb ?? 20;
    const dataVolume = parseDataVolume(v.dataVolume, bad);
    if (dataVolume && kafka.migration && kafka.zookeeperPlacement === "dedicated") {
        // A dedicated ZooKeeper node's volume holds its snapshots; once the migration is finalized that node runs only its
        // controller, whose metadata would have to move onto the volume: not done yet.
        bad("metadata", "kraft on Kafka 3.9 (the migration to KRaft) is not run yet on dedicated ZooKeeper nodes with kafka:dataVolume",
            "keep kafka:metadata zookeeper for now (pulumi config rm kafka:metadata), or migrate a cluster with co-located ZooKeeper members");
    }
    const protectData = v.protectData ?? !UNPROTECTED_STACK.test(stack);
    const finalSnapshot = v.finalSnapshot ?? !UNPROTECTED_STACK.test(stack);

    // --- Network --------------------------------------------------------------------------------------------------
    const clientCidrs = v.clientCidrs;
    const ipv6 = (key: string, c: string) => bad(key, `"${c}" is an IPv6 block, but the instances get no IPv6 address, so a rule for it ` +
        "would admit nobody", `use IPv4 blocks (the clients' or your public IPv4 address, e.g. from curl -4 https://checkip.amazonaws.com): ` +
        `pulumi config set --path 'kafka:${key}[0]' 203.0.113.7/32`);
    for (const c of clientCidrs ?? []) {
        if (!isCidr(c)) bad("clientCidrs", `"${c}" is not a CIDR block`, `use blocks like 10.0.0.0/16: pulumi config set --path 'kafka:clientCidrs[0]' 10.0.0.0/16`);
        else if (c.includes(":")) ipv6("clientCidrs", c);
    }
    const publicAccess = v.publicAccess ?? false;
    const associatePublicIp = v.associatePublicIp ?? true;
    const sshFromVpc = v.sshFromVpc ?? false;
    const sshUser = v.sshUser || (os === "amazon-linux-2023" ? "ec2-user" : "ubuntu");
    const bastion = bastionSettings(v, sshUser, sshPrivateKey, bad);
    // SSH goes to the private addresses through a bastion or from inside the VPC; then the VPC's CIDR is a safe default
    // for who may reach port 22 (the bastion's private address is in it).
    const privateSsh = v.bastion !== undefined || sshFromVpc;
    const sshCidrs = v.sshCidrs?.length ? v.sshCidrs : undefined;
    const sshFix = `allow only your own address: pulumi config set --path 'kafka:sshCidrs[0]' "$(curl -s https://checkip.amazonaws.com)/32"`;
    if (sshCidrs === undefined && !privateSsh) {
        bad("sshCidrs", "is required in EC2 mode (there is no default that opens SSH to the world)",
            `${sshFix} (with kafka:bastion or kafka:sshFromVpc it defaults to the VPC's CIDR)`);
    }
    for (const c of sshCidrs ?? []) {
        if (!isCidr(c)) bad("sshCidrs", `"${c}" is not a CIDR block`, sshFix);
        else if (/\/0$/.test(c)) bad("sshCidrs", `"${c}" opens SSH to the whole internet`, sshFix);
        else if (c.includes(":")) ipv6("sshCidrs", c);
    }
    if (publicAccess && !associatePublicIp) {
        bad("publicAccess", "needs public addresses, but kafka:associatePublicIp is false", "set kafka:associatePublicIp true or kafka:publicAccess false");
    }
    // This program logs in to every instance over SSH from where `pulumi up` runs: without public addresses that is only
    // possible through a bastion in the VPC, or from inside the VPC itself.
    if (!associatePublicIp && !privateSsh) {
        bad("associatePublicIp", "is false, so the instances have private addresses only, which this program cannot reach over SSH " +
            "from where `pulumi up` runs",
            "go through a bastion in the VPC (pulumi config set --path kafka:bastion.host <bastion address>), or, if `pulumi up` runs " +
            "inside the VPC (or a network routed to it), say so: pulumi config set kafka:sshFromVpc true");
    }
    if (v.bastion !== undefined && sshFromVpc) {
        bad("sshFromVpc", "is set together with kafka:bastion; one of them says how SSH reaches the private addresses",
            "keep one: pulumi config rm kafka:sshFromVpc (to go through the bastion) or pulumi config rm kafka:bastion");
    }
    if (publicAccess && (clientCidrs === undefined || clientCidrs.length === 0)) {
        bad("clientCidrs", "is required with kafka:publicAccess: unset, the client listener is open to the VPC's range only, so no client " +
            "outside the VPC could reach the public addresses the brokers advertise",
            `allow your clients' addresses: pulumi config set --path 'kafka:clientCidrs[0]' "$(curl -s https://checkip.amazonaws.com)/32" ` +
            "(or pulumi config set kafka:publicAccess false to keep clients inside the VPC)");
    }
    const subnetIds = v.subnetIds;
    for (const s of subnetIds ?? []) {
        if (!/^subnet-[0-9a-f]{8,17}$/.test(s)) bad("subnetIds", `"${s}" is not a subnet id`, `pulumi config set --path 'kafka:subnetIds[0]' subnet-0123456789abcdef0`);
    }
    const maxAzs = v.maxAzs ?? 3;

    // --- Access ---------------------------------------------------------------------------------------------------
    if (v.sshPort !== undefined && v.sshPort !== 22) {
        bad("sshPort", `must be 22 in EC2 mode (got ${v.sshPort}): the images' sshd listens on 22 and the security group opens only 22`,
            "remove it: pulumi config rm kafka:sshPort");
    }
    const monitoring = monitoringNode(v, kafka, os, ipv6, bad);
    return {
        brokerInstanceType, zookeeperInstanceType, controllerInstanceType, os: os as HostOs, ami, rootVolumeGb, dataVolume, protectData, finalSnapshot, clientCidrs, sshCidrs,
        publicAccess, associatePublicIp, sshFromVpc, ...(bastion !== undefined ? { bastion } : {}), subnetIds, maxAzs,
        ...(monitoring !== undefined ? { monitoring } : {}), sshUser, sshPrivateKey,
    };
}

/** The EC2 settings of kafka:monitoring's own node: a refusal for each key set without it. */
const MONITORING_NODE_KEYS = ["monitoringInstanceType", "monitoringCidrs", "monitoringVolumeGb"] as const;

/**
 * kafka:monitoring on EC2: the monitoring node (`monitoring-1`, an instance of its own), who may reach its Prometheus
 * and Alertmanager (kafka:monitoringCidrs, required: no default opens them to anyone), its instance type and volume.
 * Refused where the node could not run: Amazon Linux 2023 has no Prometheus packages, and kafka:security plaintext has
 * no CA or password for its TLS and basic auth.
 */
function monitoringNode(v: Values, kafka: KafkaSettings, os: string, ipv6: (key: string, c: string) => void, bad: Bad): Ec2MonitoringSettings | undefined {
    if (!kafka.monitoring) {
        for (const k of MONITORING_NODE_KEYS) {
            if (v[k] !== undefined) bad(k, "is read only with kafka:monitoring true (it is a setting of the monitoring node)", `pulumi config set kafka:monitoring true, or pulumi config rm kafka:${k}`);
        }
        return undefined;
    }
    const instanceType = v.monitoringInstanceType ?? "t3.small";
    if (!/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(instanceType)) {
        bad("monitoringInstanceType", `"${instanceType}" is not an EC2 instance type`, "pulumi config set kafka:monitoringInstanceType t3.small");
    }
    const fix = "allow only the addresses that look at the dashboards and alerts, e.g. pulumi config set --path 'kafka:monitoringCidrs[0]' 203.0.113.0/24";
    const cidrs = v.monitoringCidrs?.length ? v.monitoringCidrs : undefined;
    if (cidrs === undefined) {
        bad("monitoringCidrs", "is required with kafka:monitoring true in EC2 mode: it says who may reach the monitoring node's Prometheus (9090) " +
            "and Alertmanager (9193), and there is no default that opens them to the world", `${fix} (or pulumi config rm kafka:monitoring)`);
    }
    for (const c of cidrs ?? []) {
        if (!isCidr(c)) bad("monitoringCidrs", `"${c}" is not a CIDR block`, fix);
        else if (/\/0$/.test(c)) bad("monitoringCidrs", `"${c}" opens Prometheus and Alertmanager to the whole internet`, fix);
        else if (c.includes(":")) ipv6("monitoringCidrs", c);
    }
    if (os === "amazon-linux-2023") {
        bad("os", "is amazon-linux-2023, which has no Prometheus, Alertmanager or node exporter package, and kafka:monitoring installs " +
            "them from the OS packages (on the monitoring node, and the node exporter on every node)",
            "pulumi config set kafka:os ubuntu-24.04 (a change rolls the nodes onto it, one per pulumi up), or pulumi config rm kafka:monitoring");
    }
    if (kafka.security.mode === "plaintext") {
        bad("monitoring", "on EC2 it adds the monitoring node, which serves Prometheus and Alertmanager over TLS with a password made with " +
            "the cluster's credentials, and kafka:security plaintext has none of them",
            "pulumi config set kafka:security sasl_ssl (a running plaintext cluster switches in one rolling pulumi up), or pulumi config rm kafka:monitoring");
    }
    return { instanceType, cidrs: cidrs ?? [], volumeGb: v.monitoringVolumeGb ?? 20 };
}

/** The instance type of a dedicated quorum member (ZooKeeper or KRaft controller) and the key that sets it. */
export function quorumInstanceType(kafka: Pick<KafkaSettings, "quorum">, ec2: Pick<Ec2Settings, "zookeeperInstanceType" | "controllerInstanceType">): { key: string; type: string } {
    return kafka.quorum.role === "zookeeper"
        ? { key: "zookeeperInstanceType", type: ec2.zookeeperInstanceType }
        : { key: "controllerInstanceType", type: ec2.controllerInstanceType };
}

/**
 * JVM heaps on one instance may take at most MAX_HEAP_SHARE of its memory; a co-located quorum member's heap (ZooKeeper or
 * KRaft controller) and the broker's count together. `memoryMiB` is an instance type's memory as EC2 reports it (the AWS
 * layer looks it up); a type without an answer is skipped (its lookup reports it).
 */
export function checkHeaps(kafka: KafkaSettings, ec2: Pick<Ec2Settings, "brokerInstanceType" | "zookeeperInstanceType" | "controllerInstanceType">,
    memoryMiB: (type: string) => number | undefined, bad: Bad): void {
    const bh = heapMiB(kafka.brokerHeap);
    // While migrating to KRaft, a controller runs beside each ZooKeeper member: their heaps count together (and the fix
    // names the controller's, the one the migration adds).
    const mh = kafka.migration ? heapMiB(kafka.migration.controllerHeap) : 0;
    const zh = heapMiB(kafka.quorum.heap);
    if (bh === undefined || zh === undefined || mh === undefined) return; // reported with the shared settings
    const qh = zh + mh;
    const heapKey = kafka.migration ? "controllerHeap" : `${kafka.quorum.role}Heap`;
    const check = (key: string, typeKey: string, type: string, heap: number, what: string) => {
        const mem = memoryMiB(type);
        if (mem === undefined || heap <= mem * MAX_HEAP_SHARE) return;
        const room = Math.floor((mem * MAX_HEAP_SHARE - (heap - (key === "brokerHeap" ? bh : qh))) / 64) * 64;
        bad(key, `${what} (${heap} MiB) exceed${what.includes("+") ? "" : "s"} ${MAX_HEAP_SHARE * 100}% of the ${mem} MiB of memory of ` +
            `${type} (kafka:${typeKey}; at most ${Math.floor(mem * MAX_HEAP_SHARE)} MiB of heap); the OS and the page cache need the rest`,
            `${room >= 128 ? `lower it (pulumi config set kafka:${key} ${room}m) or ` : ""}pick a larger kafka:${typeKey}`);
    };
    if (kafka.quorum.placement === "colocated") {
        check("brokerHeap", "brokerInstanceType", ec2.brokerInstanceType, bh + qh,
            `brokerHeap + ${kafka.migration ? "zookeeperHeap + controllerHeap" : heapKey} of a co-located node`);
    } else {
        const q = quorumInstanceType(kafka, ec2);
        check("brokerHeap", "brokerInstanceType", ec2.brokerInstanceType, bh, "brokerHeap");
        check(heapKey, q.key, q.type, qh, kafka.migration ? "zookeeperHeap + controllerHeap" : heapKey);
    }
}

function parseDataVolume(d: unknown, bad: Bad): DataVolumeConfig | undefined {
    const fix = `pulumi config set --path kafka:dataVolume.sizeGb 100 (type gp3), or remove kafka:dataVolume to keep data on the root volume`;
    if (d === undefined) return undefined;
    if (typeof d !== "object" || d === null || Array.isArray(d)) {
        bad("dataVolume", `must be an object { sizeGb, type, iops?, throughputMiBps? } (got ${JSON.stringify(d)})`, fix);
        return undefined;
    }
    const fields = d as Record<string, unknown>;
    const num = (x: unknown) => (typeof x === "string" && /^\d+$/.test(x) ? Number(x) : x);
    const inRange = (x: unknown, min: number, max: number): x is number => Number.isInteger(x) && (x as number) >= min && (x as number) <= max;
    const sizeGb = num(fields.sizeGb);
    if (!inRange(sizeGb, 1, 16384)) {
        bad("dataVolume.sizeGb", `must be a whole number of GiB from 1 to 16384 (got ${JSON.stringify(fields.sizeGb)})`, fix);
    }
    const type = fields.type ?? "gp3";
    if (type !== "gp3") bad("dataVolume.type", `only gp3 is supported (got ${JSON.stringify(type)})`, `pulumi config set --path kafka:dataVolume.type gp3`);
    const iops = fields.iops === undefined ? undefined : num(fields.iops);
    const g = GP3;
    if (iops !== undefined && !inRange(iops, g.baseIops, g.maxIops)) {
        bad("dataVolume.iops", `gp3 IOPS must be ${g.baseIops} to ${g.maxIops} (got ${JSON.stringify(fields.iops)})`,
            `pulumi config set --path kafka:dataVolume.iops ${g.baseIops}`);
    } else if (iops !== undefined && inRange(sizeGb, 1, 16384) && iops > Math.max(g.baseIops, sizeGb * g.iopsPerGib)) {
        bad("dataVolume.iops", `${iops} IOPS on ${sizeGb} GiB exceeds gp3's ${g.iopsPerGib} IOPS per GiB (at most ` +
            `${Math.max(g.baseIops, sizeGb * g.iopsPerGib)} IOPS for this size)`,
            `lower it: pulumi config set --path kafka:dataVolume.iops ${Math.max(g.baseIops, sizeGb * g.iopsPerGib)}, or raise ` +
            `kafka:dataVolume.sizeGb to ${Math.ceil(iops / g.iopsPerGib)}`);
    }
    const tp = fields.throughputMiBps === undefined ? undefined : num(fields.throughputMiBps);
    if (tp !== undefined && !inRange(tp, g.baseThroughput, g.maxThroughput)) {
        bad("dataVolume.throughputMiBps", `gp3 throughput must be ${g.baseThroughput} to ${g.maxThroughput} MiB/s (got ${JSON.stringify(fields.throughputMiBps)})`,
            `pulumi config set --path kafka:dataVolume.throughputMiBps ${g.baseThroughput}`);
    } else if (tp !== undefined && tp > g.baseThroughput) {
        const volumeIops = inRange(iops, g.baseIops, g.maxIops) ? iops : iops === undefined ? g.baseIops : undefined;
        if (volumeIops !== undefined && tp > volumeIops * g.throughputPerIops) {
            bad("dataVolume.throughputMiBps", `${tp} MiB/s with ${volumeIops} IOPS${iops === undefined ? " (the gp3 baseline)" : ""} exceeds ` +
                `gp3's ${g.throughputPerIops} MiB/s per provisioned IOPS (at most ${volumeIops * g.throughputPerIops} MiB/s)`,
                `lower it to ${volumeIops * g.throughputPerIops}, or raise kafka:dataVolume.iops to ${Math.ceil(tp / g.throughputPerIops)}: ` +
                `pulumi config set --path kafka:dataVolume.iops ${Math.ceil(tp / g.throughputPerIops)}`);
        }
    }
    for (const k of Object.keys(fields)) {
        if (!["sizeGb", "type", "iops", "throughputMiBps"].includes(k)) bad(`dataVolume.${k}`, "unknown field", "use sizeGb, type, iops, throughputMiBps");
    }
    return { sizeGb: sizeGb as number, type: "gp3", iops: iops as number | undefined, throughputMiBps: tp as number | undefined };
}
