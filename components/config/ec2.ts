// Rules for EC2 mode: instance types and the memory the heaps may take, the image, the volumes, the network and
// how this program logs in (port 22 only, the one the security group opens).
import { Values } from "./decode";
import { heapMiB } from "./kafka";
import { Bad, DataVolumeConfig, Ec2Settings, HostOs, KafkaSettings } from "./types";

/** Memory (MiB) of instance types we know, for heap checks. Unknown types skip the check. */
export const INSTANCE_MEMORY_MIB: Record<string, number> = {
    "t3.micro": 1024, "t3.small": 2048, "t3.medium": 4096, "t3.large": 8192, "t3.xlarge": 16384, "t3.2xlarge": 32768,
    "t3a.small": 2048, "t3a.medium": 4096, "t3a.large": 8192, "t3a.xlarge": 16384,
    "m5.large": 8192, "m5.xlarge": 16384, "m5.2xlarge": 32768, "m5.4xlarge": 65536,
    "m6i.large": 8192, "m6i.xlarge": 16384, "m6i.2xlarge": 32768, "m6i.4xlarge": 65536,
    "m7i.large": 8192, "m7i.xlarge": 16384, "m7i.2xlarge": 32768, "m7i.4xlarge": 65536,
    "r5.large": 16384, "r5.xlarge": 32768, "r5.2xlarge": 65536,
    "r6i.large": 16384, "r6i.xlarge": 32768, "r6i.2xlarge": 65536,
    "c5.large": 4096, "c5.xlarge": 8192, "c5.2xlarge": 16384,
    "c6i.large": 4096, "c6i.xlarge": 8192, "c6i.2xlarge": 16384,
};

/** Share of an instance's memory that JVM heaps on it may take; the rest is for the OS and page cache. */
export const MAX_HEAP_SHARE = 0.75;

export function isCidr(s: string): boolean {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s);
    if (m) return m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
    const v6 = /^([0-9a-fA-F:]+)\/(\d{1,3})$/.exec(s);
    return !!v6 && v6[1].includes(":") && Number(v6[2]) <= 128;
}

export function ec2Settings(v: Values, kafka: KafkaSettings, sshPrivateKey: string | undefined, bad: Bad): Ec2Settings {
    const { brokerCount, zookeeperCount, zookeeperPlacement } = kafka;
    if (zookeeperPlacement === "colocated" && zookeeperCount > brokerCount) {
        bad("zookeeperCount", `${zookeeperCount} ZooKeeper members cannot be co-located on ${brokerCount} broker host(s)`,
            `lower kafka:zookeeperCount to ${brokerCount % 2 ? brokerCount : brokerCount - 1}, raise kafka:brokerCount, or set kafka:zookeeperPlacement dedicated`);
    }

    // --- Sizing ---------------------------------------------------------------------------------------------------
    const instanceType = v.instanceType ?? "t3.large";
    const brokerInstanceType = v.brokerInstanceType ?? instanceType;
    const zookeeperInstanceType = v.zookeeperInstanceType ?? (zookeeperPlacement === "dedicated" ? "t3.medium" : brokerInstanceType);
    for (const [key, t] of [["instanceType", instanceType], ["brokerInstanceType", brokerInstanceType], ["zookeeperInstanceType", zookeeperInstanceType]]) {
        if (!/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(t)) {
            bad(key, `"${t}" is not an EC2 instance type`, `pulumi config set kafka:${key} t3.large`);
        }
    }
    checkHeaps(kafka, brokerInstanceType, zookeeperInstanceType, bad);
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

    // --- Network --------------------------------------------------------------------------------------------------
    const clientCidrs = v.clientCidrs;
    for (const c of clientCidrs ?? []) {
        if (!isCidr(c)) bad("clientCidrs", `"${c}" is not a CIDR block`, `use blocks like 10.0.0.0/16: pulumi config set --path 'kafka:clientCidrs[0]' 10.0.0.0/16`);
    }
    const sshCidrs = v.sshCidrs ?? [];
    const sshFix = `allow only your own address: pulumi config set --path 'kafka:sshCidrs[0]' "$(curl -s https://checkip.amazonaws.com)/32"`;
    if (sshCidrs.length === 0) bad("sshCidrs", "is required in EC2 mode (there is no default that opens SSH to the world)", sshFix);
    for (const c of sshCidrs) {
        if (!isCidr(c)) bad("sshCidrs", `"${c}" is not a CIDR block`, sshFix);
        else if (/\/0$/.test(c)) bad("sshCidrs", `"${c}" opens SSH to the whole internet`, sshFix);
    }
    const publicAccess = v.publicAccess ?? false;
    const associatePublicIp = v.associatePublicIp ?? true;
    if (publicAccess && !associatePublicIp) {
        bad("publicAccess", "needs public addresses, but kafka:associatePublicIp is false", "set kafka:associatePublicIp true or kafka:publicAccess false");
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
    const sshUser = v.sshUser || (os === "amazon-linux-2023" ? "ec2-user" : "ubuntu");
    return {
        brokerInstanceType, zookeeperInstanceType, os: os as HostOs, ami, rootVolumeGb, dataVolume, clientCidrs, sshCidrs,
        publicAccess, associatePublicIp, subnetIds, maxAzs, sshUser, sshPrivateKey,
    };
}

/** JVM heaps on one instance may take at most MAX_HEAP_SHARE of its memory (instance types we know the memory of). */
function checkHeaps(kafka: KafkaSettings, brokerInstanceType: string, zookeeperInstanceType: string, bad: Bad): void {
    const bh = heapMiB(kafka.brokerHeap);
    const zh = heapMiB(kafka.zookeeperHeap);
    if (bh === undefined || zh === undefined) return; // reported with the shared settings
    const dedicated = kafka.zookeeperPlacement === "dedicated";
    const check = (key: string, type: string, heap: number, what: string) => {
        const mem = INSTANCE_MEMORY_MIB[type];
        if (mem !== undefined && heap > mem * MAX_HEAP_SHARE) {
            bad(key, `${what} (${heap} MiB) exceeds ${MAX_HEAP_SHARE * 100}% of ${type}'s ${mem} MiB of memory; ` +
                `the OS and the page cache need the rest`,
                `lower the heap or pick a larger kafka:${key === "zookeeperHeap" && dedicated ? "zookeeperInstanceType" : "brokerInstanceType"}`);
        }
    };
    if (!dedicated) {
        const mem = INSTANCE_MEMORY_MIB[brokerInstanceType];
        if (mem !== undefined && bh + zh > mem * MAX_HEAP_SHARE) {
            bad("brokerHeap", `brokerHeap + zookeeperHeap (${bh + zh} MiB) exceed ${MAX_HEAP_SHARE * 100}% of ${brokerInstanceType}'s ${mem} MiB ` +
                `of memory on co-located hosts`, `lower kafka:brokerHeap / kafka:zookeeperHeap or pick a larger kafka:brokerInstanceType`);
        }
    } else {
        check("brokerHeap", brokerInstanceType, bh, "brokerHeap");
        check("zookeeperHeap", zookeeperInstanceType, zh, "zookeeperHeap");
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
    if (iops !== undefined && !inRange(iops, 3000, 16000)) {
        bad("dataVolume.iops", `gp3 IOPS must be 3000 to 16000 (got ${JSON.stringify(fields.iops)})`, `pulumi config set --path kafka:dataVolume.iops 3000`);
    }
    const tp = fields.throughputMiBps === undefined ? undefined : num(fields.throughputMiBps);
    if (tp !== undefined && !inRange(tp, 125, 1000)) {
        bad("dataVolume.throughputMiBps", `gp3 throughput must be 125 to 1000 MiB/s (got ${JSON.stringify(fields.throughputMiBps)})`,
            `pulumi config set --path kafka:dataVolume.throughputMiBps 125`);
    }
    for (const k of Object.keys(fields)) {
        if (!["sizeGb", "type", "iops", "throughputMiBps"].includes(k)) bad(`dataVolume.${k}`, "unknown field", "use sizeGb, type, iops, throughputMiBps");
    }
    return { sizeGb: sizeGb as number, type: "gp3", iops: iops as number | undefined, throughputMiBps: tp as number | undefined };
}
