// The configuration's data model: the shared Kafka settings, the part of each mode, the validated union only
// parseConfig issues, and the error that lists every problem. No logic beyond issuing and freezing.

export const DEFAULT_KAFKA_VERSION = "3.9.2";
/** The default release of a KRaft cluster: the newest 4.3.x patch on Maven Central. */
export const DEFAULT_KRAFT_VERSION = "4.3.2";
/** The 4.x minor lines a KRaft cluster may run (Apache maintains the last three). */
export const KRAFT_LINES = ["4.2", "4.3", "4.4"] as const;
export const DEFAULT_SCALA_VERSION = "2.13";
/** Apache's CDN: current releases only (older ones are removed from it). */
export const DEFAULT_DOWNLOAD_URL = "https://dlcdn.apache.org/kafka";
/** Apache's archive: every release; tried when the CDN answers 404 (only while kafka:downloadUrl is unset). */
export const ARCHIVE_DOWNLOAD_URL = "https://archive.apache.org/dist/kafka";

export type ZookeeperPlacement = "colocated" | "dedicated";
/** Where the metadata quorum's members run: on the broker hosts or on hosts of their own. */
export type Placement = ZookeeperPlacement;
/**
 * Who keeps the cluster's metadata: a ZooKeeper ensemble (Kafka 3.x, the last line with it is 3.9) or KRaft controllers
 * (Kafka 4.x). It decides which roles exist besides the broker.
 */
export type MetadataQuorum = "zookeeper" | "kraft";
export const METADATA_QUORUMS: readonly MetadataQuorum[] = ["zookeeper", "kraft"];
export type HostOs = "ubuntu-24.04" | "amazon-linux-2023";
export type Role = "zookeeper" | "controller" | "broker" | "monitoring";
/** The role of the metadata quorum's members. */
export type QuorumRole = "zookeeper" | "controller";

/** The metadata quorum as configured: its members' role, how many, where and their heap. */
export interface QuorumSettings {
    role: QuorumRole;
    /** Members: ZooKeeper 1, 3, 5 or 7; controllers 1, 3 or 5. */
    count: number;
    placement: Placement;
    /** The members' JVM heap, like `512m`. */
    heap: string;
}
/**
 * How the brokers' listeners are secured: `plaintext` (none), `tls` (TLS on every listener, no client
 * authentication), `sasl_ssl` (TLS plus SASL/SCRAM-SHA-512 on every listener). With `tls` and `sasl_ssl` the brokers
 * also authenticate to ZooKeeper (SASL DIGEST-MD5) and create their znodes with ACLs.
 */
export type SecurityMode = "plaintext" | "tls" | "sasl_ssl";
export const SECURITY_MODES: readonly SecurityMode[] = ["plaintext", "tls", "sasl_ssl"];
/** The cluster's own super user: the brokers among themselves and this program's checks (SCRAM, sasl_ssl only). */
export const ADMIN_USER = "admin";

/** What one client user may do (kafka:acls); a name ending in `*` is a prefix, `*` alone every name. */
export interface UserAcl {
    /** Topics it may read (Read, Describe). */
    read: string[];
    /** Topics it may write (Write, Describe). */
    write: string[];
    /** Consumer groups it may use (Read). */
    groups: string[];
}

/** Listener security, SCRAM users and ACLs. */
export interface SecuritySettings {
    mode: SecurityMode;
    /** SCRAM users for clients (sasl_ssl), each with a password generated once per stack. */
    clientUsers: string[];
    /** Per user, what it may do; undefined: no authorizer (every authenticated user may do everything). */
    acls?: Record<string, UserAcl>;
    /** Raise it to issue new broker certificates (a rolling restart of the brokers). */
    certificateRotation: number;
}

export interface DataVolumeConfig {
    /** Size in GiB (1 to 16384). */
    sizeGb: number;
    /** Volume type; only gp3. */
    type: "gp3";
    /** Provisioned IOPS (gp3: 3000 to 80000, at most 500 per GiB above the baseline); the gp3 baseline (3000) when unset. */
    iops?: number;
    /** Provisioned throughput in MiB/s (gp3: 125 to 2000, at most 0.25 per provisioned IOPS); the gp3 baseline (125) when unset. */
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

/**
 * A bastion (jump host) every SSH connection of this program goes through: remote.Command's `connection.proxy`, and
 * `ssh -o ProxyCommand=...` in the teardown steps. The hosts are then dialled from the bastion, at their private
 * addresses on EC2.
 */
export interface Bastion {
    /** Address of the bastion as this program reaches it. */
    host: string;
    /** Its SSH port. */
    port: number;
    /** The user this program logs in to the bastion as. */
    user: string;
    /** The key the bastion accepts (kafka:bastionPrivateKey); the cluster's own SSH key when unset. */
    privateKey?: string;
}

/** Settings both modes share: the Kafka distribution, the cluster's shape, the JVMs and the broker configuration. */
export interface KafkaSettings {
    /** Name prefix of every resource and the value of the `kafka-cluster` tag. */
    clusterName: string;
    /** ZooKeeper mode (Kafka 3.x) or KRaft (Kafka 4.x). */
    metadata: MetadataQuorum;
    /**
     * kafka:metadata kraft on Kafka 3.9: the running ZooKeeper-mode cluster migrates to KRaft (KIP-866). `metadata` then
     * stays `zookeeper` (ZooKeeper keeps the metadata until the migration is finalized, and `quorum` is the ensemble);
     * a KRaft controller joins each ZooKeeper member.
     */
    migration?: MigrationSettings;
    /** The metadata quorum: ZooKeeper members or KRaft controllers (the one place that says which). */
    quorum: QuorumSettings;
    /** Kafka release: 3.x with ZooKeeper, 4.2 to 4.4 with KRaft. */
    kafkaVersion: string;
    /** Scala build of the release: 2.13 or 2.12. */
    scalaVersion: string;
    /**
     * Base URLs holding `<version>/kafka_<scala>-<version>.tgz` with its `.sha512` and `.asc` (no trailing slash), tried
     * in order, the next only when one answers 404: Apache's CDN then its archive by default, kafka:downloadUrl alone
     * when set.
     */
    downloadUrls: string[];
    /** The KEYS file the release signature is checked against; unset: `<base>/KEYS` of the source that served the tarball. */
    keysUrl?: string;
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
    /**
     * KAFKA_JVM_PERFORMANCE_OPTS of the service JVMs (brokers, controllers, ZooKeeper members): validated options
     * separated by single spaces; undefined keeps Kafka's own defaults (nothing written).
     */
    jvmPerformanceOptions?: string;
    /** Chroot path in `zookeeper.connect`, like `/kafka`. */
    zookeeperChroot: string;
    /** Extra or overriding server.properties entries (never the managed keys). */
    brokerProperties: Record<string, string>;
    /** Listener security, client users and ACLs. */
    security: SecuritySettings;
    /**
     * Monitoring over JMX: each broker and ZooKeeper member runs a JMX connector on its private address, which only the
     * read-only user `monitor` may use (password generated once per stack). Off by default: no JMX connector at all.
     */
    jmx: boolean;
    /**
     * kafka:monitoring: Prometheus metrics from every Kafka JVM (the JMX exporter agent in each broker, controller and
     * ZooKeeper member, on the private address); undefined when off.
     */
    monitoring?: MonitoringSettings;
}

/** The ZooKeeper -> KRaft migration a stack asks for (kafka:metadata kraft with Kafka 3.9). */
export interface MigrationSettings {
    /**
     * How far: `dual-write`, phase C (brokers in KRaft mode, the controllers still writing to ZooKeeper, a rollback still
     * possible); `finalized` (kafka:zookeeperRetired): the controllers out of migration mode, ZooKeeper stopped and removed.
     */
    target: "dual-write" | "finalized";
    /** kafka:controllerHeap: the migration controllers' JVM heap. */
    controllerHeap: string;
}

/** kafka:monitoring. */
export interface MonitoringSettings {
    /** Base URL of the Maven repository the JMX exporter agent is downloaded from (kafka:mavenUrl, no trailing slash). */
    mavenUrl: string;
    /** How often Prometheus scrapes every exporter and evaluates the rules (kafka:monitoringScrapeInterval). */
    scrapeInterval: string;
    /** How long under-replication or consumer lag lasts before its alert fires (kafka:alertAfter); other alerts: at most 1m. */
    alertAfter: string;
    /** Consumer lag (messages, per group and topic) above which the lag alert fires (kafka:consumerLagAlert). */
    lagAlert: number;
    /** Where Alertmanager posts notifications (kafka:alertWebhookUrl); none: alerts stay on Prometheus' and Alertmanager's APIs. */
    webhookUrl?: string;
}

/** EC2 mode: the instances, their network and how this program logs in to them. */
export interface Ec2Settings {
    /** Instance type of broker nodes (and of co-located ZooKeeper members). */
    brokerInstanceType: string;
    /** Instance type of dedicated ZooKeeper nodes. */
    zookeeperInstanceType: string;
    /** Instance type of dedicated KRaft controller nodes. */
    controllerInstanceType: string;
    /** Operating system image family. */
    os: HostOs;
    /** A pinned AMI id; the current image of `os` for each instance type's architecture when unset. */
    ami?: string;
    /** Size of the encrypted gp3 root volume, GiB. */
    rootVolumeGb: number;
    /** A separate encrypted EBS data volume per broker (and dedicated ZooKeeper node), mounted at its data directory. */
    dataVolume?: DataVolumeConfig;
    /** Data volumes are protected (never deleted or replaced by Pulumi) and retained in the account on delete. */
    protectData: boolean;
    /** A data volume Pulumi deletes leaves a snapshot behind (aws.ebs.Volume finalSnapshot). */
    finalSnapshot: boolean;
    /** Who may reach the client listener (IPv4); the VPC's CIDR when unset; required with publicAccess. */
    clientCidrs?: string[];
    /** Who may reach SSH (port 22); never /0. Unset (only with a bastion or sshFromVpc): the VPC's CIDR. */
    sshCidrs?: string[];
    /** Give each broker an Elastic IP and advertise it to clients. */
    publicAccess: boolean;
    /** Give instances public IPs (this program then connects to them, unless through a bastion or from the VPC). */
    associatePublicIp: boolean;
    /** This program runs inside the VPC (or a network routed to it): SSH goes to the instances' private addresses. */
    sshFromVpc: boolean;
    /** The bastion SSH goes through (to the private addresses). */
    bastion?: Bastion;
    /** Subnets to spread over (one per AZ is used); the default VPC's default subnets when unset. */
    subnetIds?: string[];
    /** How many availability zones to spread over. */
    maxAzs: number;
    /** kafka:monitoring on EC2: the monitoring node (an instance of its own); undefined when off. */
    monitoring?: Ec2MonitoringSettings;
    /** SSH user of the image. */
    sshUser: string;
    /** The SSH private key; generated (and kept encrypted in state) when unset. */
    sshPrivateKey?: string;
}

/** kafka:monitoring on EC2: the monitoring node `monitoring-1`, its volume and who may reach its web servers. */
export interface Ec2MonitoringSettings {
    /** Its instance type (kafka:monitoringInstanceType). */
    instanceType: string;
    /** IPv4 blocks that may reach Prometheus and Alertmanager (kafka:monitoringCidrs); never /0. */
    cidrs: string[];
    /** Size of its encrypted gp3 data volume at /var/lib/prometheus, GiB (kafka:monitoringVolumeGb). */
    volumeGb: number;
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
    /** The bastion SSH goes through (the hosts' addresses are then as the bastion sees them). */
    bastion?: Bastion;
}

/** What the program must never put in a resource input in plain or base64 text. */
export interface SecretTexts {
    /**
     * The text settings given as secrets (`pulumi config set --secret`) appear as in what the program renders: a broker
     * property as its `key=value` line, any other value (or a structure's leaves) as it is.
     */
    secretValues: string[];
}

export interface Ec2Cluster extends KafkaSettings, SecretTexts {
    mode: "ec2";
    ec2: Ec2Settings;
}

export interface HostsCluster extends KafkaSettings, SecretTexts {
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

/** Marks a configuration that passed every rule as validated and freezes it (parseConfig's last step). */
export function issue(cfg: Ec2Cluster | HostsCluster): ClusterConfig {
    issued.add(cfg);
    return deepFreeze(cfg) as ClusterConfig;
}

function deepFreeze<T>(v: T): T {
    if (typeof v === "object" && v !== null && !Object.isFrozen(v)) {
        Object.freeze(v);
        for (const x of Object.values(v)) deepFreeze(x);
    }
    return v;
}

/**
 * Raw `kafka:` values: the strings Pulumi's config holds (index.ts), or the values of a YAML stack file or a test
 * (numbers, booleans, lists, objects). parseConfig reads each as its key's type says (keys.ts).
 */
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

/** Records one problem: the key it names, what is wrong, and the fix. */
export type Bad = (key: string, msg: string, fix: string) => void;
