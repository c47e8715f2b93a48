// Typed stack configuration for kafka-cluster, and the one place it is validated.
//
// parseConfig() takes the raw values of the `kafka:` namespace (plain JSON-ish data, so unit tests call it
// directly; the only I/O is reading kafka:sshPrivateKeyPath), collects every problem it finds and throws one ConfigError naming each key and its fix. Nothing
// here touches Pulumi resources, so a bad stack fails before anything is registered.

import * as fs from "fs";
import * as nodeOs from "os";

export const DEFAULT_KAFKA_VERSION = "3.9.2";
export const DEFAULT_SCALA_VERSION = "2.13";
export const DEFAULT_DOWNLOAD_URL = "https://archive.apache.org/dist/kafka";

export type ZookeeperPlacement = "colocated" | "dedicated";
export type HostOs = "ubuntu-24.04" | "amazon-linux-2023";
export type Role = "zookeeper" | "broker";

export interface DataVolumeConfig {
    sizeGb: number;
    type: "gp3";
    iops?: number;
    throughputMiBps?: number;
}

export interface ExistingHost {
    /** Stable id: becomes broker.id and ZooKeeper myid; never derived from list order. */
    id: number;
    /** Address this program (and `ssh`) connects to; clients are told this address too. */
    address: string;
    /** Address the cluster members use among themselves (default: `address`). */
    privateAddress: string;
    /** SSH user (the host's own `user`, else kafka:sshUser). */
    user: string;
    /** Roles this host runs: given per host, or derived from the counts (lowest ids first). Empty: the host is unused. */
    roles: Role[];
    /** broker.rack for this host. */
    rack?: string;
}

/** Settings both modes share: the Kafka distribution, the cluster's shape, the JVMs and the broker configuration. */
export interface KafkaSettings {
    /** Name prefix of every resource and the value of the `kafka-cluster` tag. */
    clusterName: string;
    /** Kafka release, 3.x (the last line with ZooKeeper mode). */
    kafkaVersion: string;
    /** Scala build of the release: 2.13 or 2.12. */
    scalaVersion: string;
    /** Base URL holding `<version>/kafka_<scala>-<version>.tgz` and its `.sha512` (no trailing slash). */
    downloadUrl: string;
    /** Number of brokers (>= 1). */
    brokerCount: number;
    /** ZooKeeper ensemble size: 1, 3, 5 or 7. */
    zookeeperCount: number;
    /** ZooKeeper on the broker hosts (`colocated`) or on hosts of its own (`dedicated`). */
    zookeeperPlacement: ZookeeperPlacement;
    /** Broker JVM heap, like `1g` or `768m`. */
    brokerHeap: string;
    /** ZooKeeper JVM heap, like `512m`. */
    zookeeperHeap: string;
    /** Chroot path in `zookeeper.connect`, like `/kafka`. */
    zookeeperChroot: string;
    /** Extra or overriding server.properties entries (never the managed keys). */
    brokerProperties: Record<string, string>;
}

/** EC2 mode: the instances, their network and how this program logs in to them. */
export interface Ec2Settings {
    /** Instance type of broker nodes (and of co-located ZooKeeper members). */
    brokerInstanceType: string;
    /** Instance type of dedicated ZooKeeper nodes. */
    zookeeperInstanceType: string;
    /** Operating system image family. */
    os: HostOs;
    /** A pinned AMI id; the newest image of `os` when unset. */
    ami?: string;
    /** Size of the encrypted gp3 root volume, GiB. */
    rootVolumeGb: number;
    /** A separate encrypted EBS data volume per broker, mounted at the Kafka data directory. */
    dataVolume?: DataVolumeConfig;
    /** Who may reach the client listener; the VPC's CIDR when unset. */
    clientCidrs?: string[];
    /** Who may reach SSH (port 22); never /0. */
    sshCidrs: string[];
    /** Advertise public addresses to clients. */
    publicAccess: boolean;
    /** Give instances public IPs (this program then connects to them). */
    associatePublicIp: boolean;
    /** Subnets to spread over (one per AZ is used); the default VPC's default subnets when unset. */
    subnetIds?: string[];
    /** How many availability zones to spread over. */
    maxAzs: number;
    /** SSH user of the image. */
    sshUser: string;
    /** The SSH private key; generated (and kept encrypted in state) when unset. */
    sshPrivateKey?: string;
}

/** Existing-hosts mode: the machines and how this program logs in to them. */
export interface HostsSettings {
    /** The hosts, sorted by id, each with its roles and SSH user resolved. */
    machines: ExistingHost[];
    /** SSH port of every host. */
    sshPort: number;
    /** The SSH private key that logs in to every host. */
    sshPrivateKey: string;
    /** On destroy, also delete data, configuration and the install. */
    wipeOnDestroy: boolean;
}

export interface Ec2Cluster extends KafkaSettings {
    mode: "ec2";
    ec2: Ec2Settings;
}

export interface HostsCluster extends KafkaSettings {
    mode: "hosts";
    hosts: HostsSettings;
}

declare const validated: unique symbol;

/**
 * A validated configuration: the shared Kafka settings plus the part of one mode. Only parseConfig makes these (the
 * brand cannot be written by hand, and KafkaCluster checks at run time that it got parseConfig's output).
 */
export type ClusterConfig = (Ec2Cluster | HostsCluster) & { readonly [validated]: true };

const issued = new WeakSet<object>();

/** True for configurations parseConfig returned (frozen, so they stay as validated). */
export function isValidated(cfg: unknown): cfg is ClusterConfig {
    return typeof cfg === "object" && cfg !== null && issued.has(cfg);
}

function deepFreeze<T>(v: T): T {
    if (typeof v === "object" && v !== null && !Object.isFrozen(v)) {
        Object.freeze(v);
        for (const x of Object.values(v)) deepFreeze(x);
    }
    return v;
}

/** Raw values as read from `pulumi.Config("kafka")` (objects already JSON-parsed). */
export type RawConfig = Record<string, unknown>;

export class ConfigError extends Error {
    constructor(public readonly problems: string[]) {
        super(
            `kafka-cluster: invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}); ` +
                `nothing was created:\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

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

/** server.properties keys the program owns; brokerProperties may not set them. */
export const MANAGED_BROKER_KEYS = [
    "broker.id", "zookeeper.connect", "log.dirs", "listeners", "advertised.listeners",
    "listener.security.protocol.map", "inter.broker.listener.name", "broker.rack",
];

/** Settings that only EC2 mode reads. */
const EC2_ONLY_KEYS = [
    "instanceType", "brokerInstanceType", "zookeeperInstanceType", "os", "ami", "rootVolumeGb", "dataVolume", "clientCidrs",
    "sshCidrs", "publicAccess", "associatePublicIp", "subnetIds", "maxAzs",
];
/** Settings that only existing-hosts mode reads. */
const HOSTS_ONLY_KEYS = ["wipeOnDestroy"];

const KNOWN_KEYS = [
    "clusterName", "kafkaVersion", "scalaVersion", "downloadUrl", "brokerCount", "zookeeperCount",
    "zookeeperPlacement", "brokerHeap", "zookeeperHeap", "instanceType", "brokerInstanceType",
    "zookeeperInstanceType", "os", "ami", "rootVolumeGb", "dataVolume", "clientCidrs", "sshCidrs",
    "publicAccess", "associatePublicIp", "subnetIds", "maxAzs", "zookeeperChroot", "brokerProperties",
    "sshUser", "sshPort", "sshPrivateKey", "sshPrivateKeyPath", "hosts", "wipeOnDestroy",
];

/** Parses "512m" / "1g" / "1536M" into MiB; undefined when it does not parse. */
export function heapMiB(heap: string): number | undefined {
    const m = /^([1-9][0-9]*)([mMgG])$/.exec(heap);
    if (!m) return undefined;
    const n = Number(m[1]);
    return m[2].toLowerCase() === "g" ? n * 1024 : n;
}

export function isCidr(s: string): boolean {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s);
    if (m) return m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
    const v6 = /^([0-9a-fA-F:]+)\/(\d{1,3})$/.exec(s);
    return !!v6 && v6[1].includes(":") && Number(v6[2]) <= 128;
}

function isHostAddress(s: string): boolean {
    return /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(s) || /^[0-9a-fA-F:]+$/.test(s);
}

/** Copy of `s` quoted for a shell command line in `pulumi config set`. */
function q(s: string): string {
    return /^[A-Za-z0-9._\/:-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Validates and normalises raw `kafka:` config. `stack` names the stack (for defaults like clusterName).
 * Throws ConfigError listing every problem.
 */
export function parseConfig(raw: RawConfig, stack = "dev"): ClusterConfig {
    const problems: string[] = [];
    const bad = (key: string, msg: string, fix: string) => problems.push(`kafka:${key}: ${msg}. Fix: ${fix}`);

    for (const k of Object.keys(raw)) {
        if (!KNOWN_KEYS.includes(k)) {
            bad(k, "unknown setting", `remove it (pulumi config rm kafka:${k}); known settings are listed in README.md`);
        }
    }

    // Settings that mean something in one mode only are refused in the other, instead of being silently ignored.
    const mode: "ec2" | "hosts" = raw.hosts !== undefined && raw.hosts !== null && raw.hosts !== "" ? "hosts" : "ec2";
    const isSet = (k: string) => raw[k] !== undefined && raw[k] !== null && raw[k] !== "";
    for (const k of EC2_ONLY_KEYS) {
        if (mode === "hosts" && isSet(k)) {
            bad(k, "is an EC2 setting, and with kafka:hosts no instance, volume or security group is created, so it would be ignored",
                `remove it: pulumi config rm kafka:${k}`);
        }
    }
    for (const k of HOSTS_ONLY_KEYS) {
        if (mode === "ec2" && isSet(k)) {
            bad(k, "applies only to existing hosts (kafka:hosts); EC2 instances and their volumes are deleted with the stack",
                `remove it: pulumi config rm kafka:${k}`);
        }
    }

    const str = (key: string, def: string): string => {
        const v = raw[key];
        if (v === undefined || v === null || v === "") return def;
        if (typeof v === "number") return String(v);
        if (typeof v !== "string") {
            bad(key, `must be a string (got ${JSON.stringify(v)})`, `pulumi config set kafka:${key} ${q(def || "<value>")}`);
            return def;
        }
        return v.trim();
    };
    const int = (key: string, def: number, min: number, max: number, hint: number = def): number => {
        const v = raw[key];
        if (v === undefined || v === null || v === "") return def;
        const n = typeof v === "number" ? v : typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
        if (!Number.isInteger(n) || n < min || n > max) {
            bad(key, `must be a whole number from ${min} to ${max} (got ${JSON.stringify(v)})`, `pulumi config set kafka:${key} ${hint}`);
            return def;
        }
        return n;
    };
    const bool = (key: string, def: boolean): boolean => {
        const v = raw[key];
        if (v === undefined || v === null || v === "") return def;
        if (v === true || v === "true") return true;
        if (v === false || v === "false") return false;
        bad(key, `must be true or false (got ${JSON.stringify(v)})`, `pulumi config set kafka:${key} ${def}`);
        return def;
    };
    const list = (key: string): string[] | undefined => {
        let v = raw[key];
        if (v === undefined || v === null || v === "") return undefined;
        if (typeof v === "string") {
            try {
                v = v.trim().startsWith("[") ? JSON.parse(v) : v.split(",").map((s) => s.trim()).filter(Boolean);
            } catch {
                /* reported below */
            }
        }
        if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) {
            bad(key, `must be a list of strings (got ${JSON.stringify(raw[key])})`,
                `pulumi config set --path 'kafka:${key}[0]' <value>`);
            return undefined;
        }
        return v.map((s: string) => s.trim());
    };

    // --- Kafka distribution -------------------------------------------------------------------------------
    const kafkaVersion = str("kafkaVersion", DEFAULT_KAFKA_VERSION);
    const vm = /^(\d+)\.(\d+)\.(\d+)$/.exec(kafkaVersion);
    if (!vm) {
        bad("kafkaVersion", `"${kafkaVersion}" is not a release version like ${DEFAULT_KAFKA_VERSION}`,
            `pulumi config set kafka:kafkaVersion ${DEFAULT_KAFKA_VERSION}`);
    } else if (Number(vm[1]) >= 4) {
        bad("kafkaVersion", `Kafka ${kafkaVersion} has no ZooKeeper mode (Kafka 4.0 removed it; this program runs a ZooKeeper ensemble)`,
            `use the last ZooKeeper-mode line: pulumi config set kafka:kafkaVersion ${DEFAULT_KAFKA_VERSION}`);
    } else if (Number(vm[1]) < 3) {
        bad("kafkaVersion", `Kafka ${kafkaVersion} is older than 3.0 and is not supported on Java 17`,
            `pulumi config set kafka:kafkaVersion ${DEFAULT_KAFKA_VERSION}`);
    }
    const scalaVersion = str("scalaVersion", DEFAULT_SCALA_VERSION);
    if (!["2.12", "2.13"].includes(scalaVersion)) {
        bad("scalaVersion", `must be 2.13 or 2.12 (got "${scalaVersion}")`, `pulumi config set kafka:scalaVersion ${DEFAULT_SCALA_VERSION}`);
    }
    const downloadUrl = str("downloadUrl", DEFAULT_DOWNLOAD_URL).replace(/\/+$/, "");
    if (!/^https?:\/\/[^\s'"]+$/.test(downloadUrl)) {
        bad("downloadUrl", `must be an http(s) base URL under which <version>/kafka_<scala>-<version>.tgz and its .sha512 live (got "${downloadUrl}")`,
            `pulumi config set kafka:downloadUrl ${DEFAULT_DOWNLOAD_URL}`);
    }

    // --- Mode and topology ------------------------------------------------------------------------------
    const hosts = parseHosts(raw.hosts, bad);
    const brokerCount = int("brokerCount", 3, 1, 100);
    const placement = str("zookeeperPlacement", "colocated");
    if (placement !== "colocated" && placement !== "dedicated") {
        bad("zookeeperPlacement", `must be "colocated" (ZooKeeper on the broker hosts) or "dedicated" (own instances), got "${placement}"`,
            `pulumi config set kafka:zookeeperPlacement colocated`);
    }
    const zookeeperPlacement = (placement === "dedicated" ? "dedicated" : "colocated") as ZookeeperPlacement;
    // Default: the largest odd ensemble up to 3 that fits on the broker hosts (always 3 when dedicated).
    const defaultZk = zookeeperPlacement === "dedicated" ? 3 : Math.min(3, brokerCount % 2 === 0 ? brokerCount - 1 : brokerCount);
    const zookeeperCount = int("zookeeperCount", defaultZk, 1, 7, 3);
    if (![1, 3, 5, 7].includes(zookeeperCount)) {
        bad("zookeeperCount", `must be odd (1, 3, 5 or 7) so the ensemble keeps a majority (got ${zookeeperCount})`,
            `pulumi config set kafka:zookeeperCount ${Math.max(1, zookeeperCount - 1)}`);
    }
    if (mode === "ec2" && zookeeperPlacement === "colocated" && zookeeperCount > brokerCount) {
        bad("zookeeperCount", `${zookeeperCount} ZooKeeper members cannot be co-located on ${brokerCount} broker host(s)`,
            `lower kafka:zookeeperCount to ${brokerCount % 2 ? brokerCount : brokerCount - 1}, raise kafka:brokerCount, or set kafka:zookeeperPlacement dedicated`);
    }
    const roles = mode === "hosts" ? hostRoles(hosts, brokerCount, zookeeperCount, zookeeperPlacement, bad) : [];

    // --- Sizing ----------------------------------------------------------------------------------------
    const instanceType = str("instanceType", "t3.large");
    const brokerInstanceType = str("brokerInstanceType", instanceType);
    const zookeeperInstanceType = str("zookeeperInstanceType", zookeeperPlacement === "dedicated" ? "t3.medium" : brokerInstanceType);
    for (const [key, t] of [["instanceType", instanceType], ["brokerInstanceType", brokerInstanceType], ["zookeeperInstanceType", zookeeperInstanceType]]) {
        if (!/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(t)) {
            bad(key, `"${t}" is not an EC2 instance type`, `pulumi config set kafka:${key} t3.large`);
        }
    }
    const brokerHeap = str("brokerHeap", "1g");
    const zookeeperHeap = str("zookeeperHeap", "512m");
    const bh = heapMiB(brokerHeap);
    const zh = heapMiB(zookeeperHeap);
    if (bh === undefined || bh < 128) {
        bad("brokerHeap", `"${brokerHeap}" is not a heap size of at least 128m (a number followed by m or g, like 1g or 768m)`,
            `pulumi config set kafka:brokerHeap 1g`);
    }
    if (zh === undefined || zh < 64) {
        bad("zookeeperHeap", `"${zookeeperHeap}" is not a heap size of at least 64m (a number followed by m or g, like 512m)`,
            `pulumi config set kafka:zookeeperHeap 512m`);
    }
    if (mode === "ec2" && bh !== undefined && zh !== undefined) {
        const check = (key: string, type: string, heap: number, what: string) => {
            const mem = INSTANCE_MEMORY_MIB[type];
            if (mem !== undefined && heap > mem * MAX_HEAP_SHARE) {
                bad(key, `${what} (${heap} MiB) exceeds ${MAX_HEAP_SHARE * 100}% of ${type}'s ${mem} MiB of memory; ` +
                    `the OS and the page cache need the rest`,
                    `lower the heap or pick a larger kafka:${key === "zookeeperHeap" && zookeeperPlacement === "dedicated" ? "zookeeperInstanceType" : "brokerInstanceType"}`);
            }
        };
        if (zookeeperPlacement === "colocated") {
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

    const os = str("os", "ubuntu-24.04");
    if (os !== "ubuntu-24.04" && os !== "amazon-linux-2023") {
        bad("os", `must be "ubuntu-24.04" or "amazon-linux-2023" (got "${os}")`, `pulumi config set kafka:os ubuntu-24.04`);
    }
    const ami = str("ami", "") || undefined;
    if (ami !== undefined && !/^ami-[0-9a-f]{8,17}$/.test(ami)) {
        bad("ami", `"${ami}" is not an AMI id (ami-0123456789abcdef0)`, `pulumi config set kafka:ami <ami-id> or remove it to use the newest ${os} image`);
    }
    const rootVolumeGb = int("rootVolumeGb", 20, 8, 16384, 20);
    const dataVolume = parseDataVolume(raw.dataVolume, bad);

    // --- Network ---------------------------------------------------------------------------------------
    const clientCidrs = list("clientCidrs");
    for (const c of clientCidrs ?? []) {
        if (!isCidr(c)) bad("clientCidrs", `"${c}" is not a CIDR block`, `use blocks like 10.0.0.0/16: pulumi config set --path 'kafka:clientCidrs[0]' 10.0.0.0/16`);
    }
    const sshCidrs = list("sshCidrs") ?? [];
    const sshFix = `allow only your own address: pulumi config set --path 'kafka:sshCidrs[0]' "$(curl -s https://checkip.amazonaws.com)/32"`;
    if (mode === "ec2" && sshCidrs.length === 0) {
        bad("sshCidrs", "is required in EC2 mode (there is no default that opens SSH to the world)", sshFix);
    }
    for (const c of sshCidrs) {
        if (!isCidr(c)) bad("sshCidrs", `"${c}" is not a CIDR block`, sshFix);
        else if (/\/0$/.test(c)) bad("sshCidrs", `"${c}" opens SSH to the whole internet`, sshFix);
    }
    const publicAccess = bool("publicAccess", false);
    const associatePublicIp = bool("associatePublicIp", true);
    if (publicAccess && !associatePublicIp) {
        bad("publicAccess", "needs public addresses, but kafka:associatePublicIp is false", "set kafka:associatePublicIp true or kafka:publicAccess false");
    }
    const subnetIds = list("subnetIds");
    for (const s of subnetIds ?? []) {
        if (!/^subnet-[0-9a-f]{8,17}$/.test(s)) bad("subnetIds", `"${s}" is not a subnet id`, `pulumi config set --path 'kafka:subnetIds[0]' subnet-0123456789abcdef0`);
    }
    const maxAzs = int("maxAzs", 3, 1, 6);

    // --- Kafka settings ------------------------------------------------------------------------------------
    const zookeeperChroot = str("zookeeperChroot", "/kafka");
    if (!/^(\/[A-Za-z0-9_.-]+)+$/.test(zookeeperChroot) || /\/\.\.?(\/|$)/.test(zookeeperChroot)) {
        bad("zookeeperChroot", `"${zookeeperChroot}" is not a ZooKeeper path like /kafka (leading slash, no trailing slash)`,
            `pulumi config set kafka:zookeeperChroot /kafka`);
    }
    const brokerProperties = parseBrokerProperties(raw.brokerProperties, bad);

    // --- Access ----------------------------------------------------------------------------------------------
    const defaultUser = os === "amazon-linux-2023" ? "ec2-user" : "ubuntu";
    const sshUser = str("sshUser", mode === "hosts" ? "" : defaultUser);
    const sshPort = int("sshPort", 22, 1, 65535);
    if (mode === "ec2" && sshPort !== 22) {
        bad("sshPort", `must be 22 in EC2 mode (got ${sshPort}): the images' sshd listens on 22 and the security group opens only 22`,
            "remove it: pulumi config rm kafka:sshPort");
    }
    // Keys keep their exact text (OpenSSH wants the final newline).
    let rawKey = str("sshPrivateKey", "");
    const keyPath = str("sshPrivateKeyPath", "");
    if (keyPath && rawKey) {
        bad("sshPrivateKeyPath", "is set together with kafka:sshPrivateKey", "keep one of them: pulumi config rm kafka:sshPrivateKeyPath");
    } else if (keyPath) {
        const file = keyPath.replace(/^~(?=\/)/, nodeOs.homedir());
        try {
            rawKey = fs.readFileSync(file, "utf8");
        } catch (e) {
            bad("sshPrivateKeyPath", `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? e})`,
                "point it at a readable private key file, or use pulumi config set --secret kafka:sshPrivateKey < key");
        }
    }
    const sshPrivateKey = rawKey ? (rawKey.endsWith("\n") ? rawKey : rawKey + "\n") : undefined;
    if (sshPrivateKey !== undefined && !/^\s*-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(sshPrivateKey)) {
        bad(keyPath ? "sshPrivateKeyPath" : "sshPrivateKey", "is not a PEM/OpenSSH private key", `pulumi config set --secret kafka:sshPrivateKey < ~/.ssh/id_ed25519`);
    }
    if (mode === "hosts" && sshPrivateKey === undefined) {
        bad("sshPrivateKey", "is required with kafka:hosts (existing hosts need the key that logs in to them)",
            `pulumi config set --secret kafka:sshPrivateKey < ~/.ssh/id_ed25519 (or kafka:sshPrivateKeyPath ~/.ssh/id_ed25519)`);
    }
    const machines = hosts.map((h, i): ExistingHost => {
        const user = h.user || sshUser;
        if (mode === "hosts" && !user) bad(`hosts[${i}].user`, "no SSH user for this host", `set kafka:sshUser (for all hosts) or "user" on the host`);
        return { id: h.id, address: h.address, privateAddress: h.privateAddress, user, roles: roles[i] ?? [], ...(h.rack !== undefined ? { rack: h.rack } : {}) };
    });
    const wipeOnDestroy = bool("wipeOnDestroy", false);
    const clusterName = str("clusterName", `kafka-${stack}`);
    if (!/^[a-z][a-z0-9-]{0,39}$/.test(clusterName)) {
        bad("clusterName", `"${clusterName}" must be lower-case letters, digits and dashes, starting with a letter, at most 40 characters`,
            `pulumi config set kafka:clusterName kafka-${stack.toLowerCase().replace(/[^a-z0-9-]/g, "-")}`);
    }

    if (problems.length > 0) throw new ConfigError(problems);
    const kafka: KafkaSettings = {
        clusterName, kafkaVersion, scalaVersion, downloadUrl, brokerCount, zookeeperCount, zookeeperPlacement, brokerHeap,
        zookeeperHeap, zookeeperChroot, brokerProperties,
    };
    const cfg: Ec2Cluster | HostsCluster = mode === "hosts"
        ? { ...kafka, mode, hosts: { machines, sshPort, sshPrivateKey: sshPrivateKey!, wipeOnDestroy } }
        : {
            ...kafka, mode, ec2: {
                brokerInstanceType, zookeeperInstanceType, os: os as HostOs, ami, rootVolumeGb, dataVolume, clientCidrs, sshCidrs,
                publicAccess, associatePublicIp, subnetIds, maxAzs, sshUser, sshPrivateKey,
            },
        };
    issued.add(cfg);
    return deepFreeze(cfg) as ClusterConfig;
}

type Bad = (key: string, msg: string, fix: string) => void;

function parseJsonish(v: unknown): unknown {
    if (typeof v !== "string") return v;
    try {
        return JSON.parse(v);
    } catch {
        return v;
    }
}

/** A host as listed in kafka:hosts, before roles and the SSH user are resolved. */
type ListedHost = Omit<ExistingHost, "roles" | "user"> & { user: string; roles?: Role[] };

function parseHosts(rawHosts: unknown, bad: Bad): ListedHost[] {
    if (rawHosts === undefined || rawHosts === null || rawHosts === "") return [];
    const v = parseJsonish(rawHosts);
    const example = `pulumi config set --path 'kafka:hosts[0].id' 1 && pulumi config set --path 'kafka:hosts[0].address' 203.0.113.10`;
    if (!Array.isArray(v) || v.length === 0) {
        bad("hosts", "must be a non-empty list of { id, address, privateAddress?, user?, roles?, rack? }", example);
        return [];
    }
    const out: ListedHost[] = [];
    const ids = new Set<number>();
    const addrs = new Set<string>();
    v.forEach((h: any, i: number) => {
        const key = `hosts[${i}]`;
        if (typeof h !== "object" || h === null) {
            bad(key, "must be an object { id, address, ... }", example);
            return;
        }
        for (const k of Object.keys(h)) {
            if (!["id", "address", "privateAddress", "user", "roles", "rack"].includes(k)) {
                bad(`${key}.${k}`, "unknown host field", "use only id, address, privateAddress, user, roles, rack");
            }
        }
        const id = typeof h.id === "string" && /^\d+$/.test(h.id) ? Number(h.id) : h.id;
        if (!Number.isInteger(id) || id < 1 || id > 999) {
            bad(`${key}.id`, `needs a stable whole-number id from 1 to 999 (got ${JSON.stringify(h.id)}); it becomes broker.id and myid and must never change`,
                `pulumi config set --path 'kafka:${key}.id' ${i + 1}`);
        } else if (ids.has(id)) {
            bad(`${key}.id`, `id ${id} is used by two hosts`, "give every host its own id");
        } else ids.add(id);
        const address = typeof h.address === "string" ? h.address.trim() : "";
        if (!address || !isHostAddress(address)) {
            bad(`${key}.address`, `needs the host's SSH address (got ${JSON.stringify(h.address)})`, `pulumi config set --path 'kafka:${key}.address' <ip-or-dns>`);
        } else if (addrs.has(address)) {
            bad(`${key}.address`, `address ${address} is listed twice`, "list every host once");
        } else addrs.add(address);
        const privateAddress = typeof h.privateAddress === "string" && h.privateAddress.trim() ? h.privateAddress.trim() : address;
        if (!isHostAddress(privateAddress)) {
            bad(`${key}.privateAddress`, `"${privateAddress}" is not an address`, `pulumi config set --path 'kafka:${key}.privateAddress' <ip>`);
        }
        let roles: Role[] | undefined;
        if (h.roles !== undefined) {
            if (!Array.isArray(h.roles) || h.roles.length === 0 || !h.roles.every((r: unknown) => r === "zookeeper" || r === "broker")) {
                bad(`${key}.roles`, `must be a list of "zookeeper" and/or "broker" (got ${JSON.stringify(h.roles)})`,
                    `pulumi config set --path 'kafka:${key}.roles[0]' broker`);
            } else roles = [...new Set(h.roles as Role[])];
        }
        if (h.rack !== undefined && (typeof h.rack !== "string" || !/^[A-Za-z0-9_.-]+$/.test(h.rack))) {
            bad(`${key}.rack`, `must be a rack name like us-east-1a (got ${JSON.stringify(h.rack)})`, `pulumi config set --path 'kafka:${key}.rack' rack-1`);
        }
        out.push({ id, address, privateAddress, user: typeof h.user === "string" ? h.user : "", roles, rack: h.rack });
    });
    return out.sort((a, b) => a.id - b.id);
}

/** Each host's roles, by position: the explicit ones, or (when no host sets any) the lowest ids take ZooKeeper and,
 * co-located, brokers too. */
function hostRoles(hosts: ListedHost[], brokers: number, zks: number, placement: ZookeeperPlacement, bad: Bad): Role[][] {
    if (hosts.length === 0) return [];
    if (!hosts.some((h) => h.roles !== undefined)) {
        const need = placement === "colocated" ? Math.max(brokers, zks) : brokers + zks;
        if (hosts.length < need) {
            bad("hosts", `${hosts.length} host(s) listed, but ${placement} placement of ${brokers} broker(s) and ${zks} ZooKeeper member(s) needs ${need}`,
                "add hosts to kafka:hosts or lower kafka:brokerCount / kafka:zookeeperCount");
            return [];
        }
        return hosts.map((_, i): Role[] => {
            if (placement === "colocated") return [...(i < zks ? ["zookeeper" as const] : []), ...(i < brokers ? ["broker" as const] : [])];
            if (i < zks) return ["zookeeper"];
            return i < zks + brokers ? ["broker"] : [];
        });
    }
    hosts.forEach((h, i) => {
        if (h.roles === undefined) bad(`hosts[${i}].roles`, "some hosts set roles, so every host must", `pulumi config set --path 'kafka:hosts[${i}].roles[0]' broker`);
    });
    const nb = hosts.filter((h) => h.roles?.includes("broker")).length;
    const nz = hosts.filter((h) => h.roles?.includes("zookeeper")).length;
    if (nb !== brokers) bad("brokerCount", `is ${brokers} but ${nb} host(s) have the broker role`, `pulumi config set kafka:brokerCount ${nb}`);
    if (nz !== zks) bad("zookeeperCount", `is ${zks} but ${nz} host(s) have the zookeeper role`, `pulumi config set kafka:zookeeperCount ${nz}`);
    return hosts.map((h) => h.roles ?? []);
}

function parseDataVolume(v: unknown, bad: Bad): DataVolumeConfig | undefined {
    const fix = `pulumi config set --path kafka:dataVolume.sizeGb 100 (type gp3), or remove kafka:dataVolume to keep data on the root volume`;
    if (v === undefined || v === null || v === "") return undefined;
    const d = parseJsonish(v) as any;
    if (typeof d !== "object" || d === null || Array.isArray(d)) {
        bad("dataVolume", `must be an object { sizeGb, type, iops?, throughputMiBps? } (got ${JSON.stringify(v)})`, fix);
        return undefined;
    }
    const num = (x: unknown) => (typeof x === "string" && /^\d+$/.test(x) ? Number(x) : x);
    const sizeGb = num(d.sizeGb);
    if (!Number.isInteger(sizeGb) || (sizeGb as number) < 1 || (sizeGb as number) > 16384) {
        bad("dataVolume.sizeGb", `must be a whole number of GiB from 1 to 16384 (got ${JSON.stringify(d.sizeGb)})`, fix);
    }
    const type = d.type ?? "gp3";
    if (type !== "gp3") bad("dataVolume.type", `only gp3 is supported (got ${JSON.stringify(type)})`, `pulumi config set --path kafka:dataVolume.type gp3`);
    const iops = d.iops === undefined ? undefined : num(d.iops);
    if (iops !== undefined && (!Number.isInteger(iops) || (iops as number) < 3000 || (iops as number) > 16000)) {
        bad("dataVolume.iops", `gp3 IOPS must be 3000 to 16000 (got ${JSON.stringify(d.iops)})`, `pulumi config set --path kafka:dataVolume.iops 3000`);
    }
    const tp = d.throughputMiBps === undefined ? undefined : num(d.throughputMiBps);
    if (tp !== undefined && (!Number.isInteger(tp) || (tp as number) < 125 || (tp as number) > 1000)) {
        bad("dataVolume.throughputMiBps", `gp3 throughput must be 125 to 1000 MiB/s (got ${JSON.stringify(d.throughputMiBps)})`,
            `pulumi config set --path kafka:dataVolume.throughputMiBps 125`);
    }
    for (const k of Object.keys(d)) {
        if (!["sizeGb", "type", "iops", "throughputMiBps"].includes(k)) bad(`dataVolume.${k}`, "unknown field", "use sizeGb, type, iops, throughputMiBps");
    }
    return { sizeGb: sizeGb as number, type: "gp3", iops: iops as number | undefined, throughputMiBps: tp as number | undefined };
}

function parseBrokerProperties(v: unknown, bad: Bad): Record<string, string> {
    if (v === undefined || v === null || v === "") return {};
    const p = parseJsonish(v) as any;
    if (typeof p !== "object" || p === null || Array.isArray(p)) {
        bad("brokerProperties", `must be a map of server.properties keys to values (got ${JSON.stringify(v)})`,
            `pulumi config set --path 'kafka:brokerProperties["log.retention.hours"]' 72`);
        return {};
    }
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(p)) {
        if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(k)) {
            bad(`brokerProperties["${k}"]`, "is not a server.properties key", "use dotted keys like log.retention.hours");
            continue;
        }
        if (MANAGED_BROKER_KEYS.includes(k)) {
            bad(`brokerProperties["${k}"]`, `${k} is managed by kafka-cluster (it is derived from the host list and config)`,
                `remove it: pulumi config rm --path 'kafka:brokerProperties["${k}"]'`);
            continue;
        }
        if (!["string", "number", "boolean"].includes(typeof val) || /[\r\n]/.test(String(val))) {
            bad(`brokerProperties["${k}"]`, `value must be a single-line string, number or boolean (got ${JSON.stringify(val)})`,
                `pulumi config set --path 'kafka:brokerProperties["${k}"]' <value>`);
            continue;
        }
        out[k] = String(val);
    }
    return out;
}
