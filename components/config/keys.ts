// The one table of `kafka:` settings. It decides which keys exist, how each raw value is read (decode.ts), in which
// mode it means something (others are refused), and it is the README's configuration table (a unit test compares
// them; configTableMarkdown() prints the table to paste).
import { ARCHIVE_DOWNLOAD_URL, DEFAULT_DOWNLOAD_URL, DEFAULT_KAFKA_VERSION, DEFAULT_KRAFT_VERSION, DEFAULT_SCALA_VERSION } from "./types";

/**
 * How a raw value is read: `string` (trimmed; a number is taken as its text), `int` (a number or its digits, within
 * min..max), `bool` (true/false or their text), `list` (strings; or a JSON array / comma-separated text), `json` (a
 * structure, parsed from JSON text once when given as text), `text` (kept as it is, like a key file's content).
 */
export type KeyType = "string" | "int" | "bool" | "list" | "json" | "text";

export interface KeySpec {
    type: KeyType;
    /** The mode(s) that read the setting; set in the other mode it is refused. */
    modes: "both" | "ec2" | "hosts";
    /** Bounds of an `int`. */
    min?: number;
    max?: number;
    /** The value a fix suggests when the given one has the wrong type. */
    example: string;
    /** README: the default. */
    default: string;
    /** README: what it means. */
    meaning: string;
    /** Set it with `pulumi config set --secret`. */
    secret?: boolean;
}

export const KEYS = {
    metadata: {
        type: "string", modes: "both", example: "kraft", default: "`zookeeper`",
        meaning: "who keeps the metadata: `zookeeper` (a ZooKeeper ensemble, Kafka 3.9.x, the last line with it) or `kraft` " +
            "(KRaft controllers, each a process of its own, Kafka 4.2 to 4.4); `kraft` with `kafkaVersion` 3.9.x on a running " +
            "ZooKeeper-mode cluster migrates it to KRaft (see \"ZooKeeper to KRaft\")",
    },
    zookeeperRetired: {
        type: "bool", modes: "both", example: "true", default: "`false`",
        meaning: "finalizes a ZooKeeper to KRaft migration (`metadata` `kraft` on 3.9.x, once the brokers run in KRaft mode): the " +
            "controllers leave migration mode, then ZooKeeper is stopped and removed; cannot be undone",
    },
    kafkaVersion: {
        type: "string", modes: "both", example: DEFAULT_KAFKA_VERSION,
        default: `\`${DEFAULT_KAFKA_VERSION}\` (\`zookeeper\`), \`${DEFAULT_KRAFT_VERSION}\` (\`kraft\`)`,
        meaning: "Kafka release: 3.x with `metadata` `zookeeper` (4.0 removed ZooKeeper mode), 4.2.x to 4.4.x with `kraft`; " +
            "a change rolls (KRaft: controllers, then brokers, then the feature levels are finalized)",
    },
    scalaVersion: {
        type: "string", modes: "both", example: DEFAULT_SCALA_VERSION, default: `\`${DEFAULT_SCALA_VERSION}\``,
        meaning: "`2.13` or `2.12`",
    },
    downloadUrl: {
        type: "string", modes: "both", example: ARCHIVE_DOWNLOAD_URL,
        default: `\`${DEFAULT_DOWNLOAD_URL}\` (Apache's CDN), then \`${ARCHIVE_DOWNLOAD_URL}\` when the CDN answers 404 (older releases)`,
        meaning: "base URL holding `<version>/kafka_<scala>-<version>.tgz` with its `.sha512` and `.asc`; a set value (a mirror, a bucket) " +
            "is the only source; the checksum and the signature are always verified",
    },
    keysUrl: {
        type: "string", modes: "both", example: "https://downloads.apache.org/kafka/KEYS", default: "`<source>/KEYS` of the source that served the tarball",
        meaning: "the KEYS file (Apache's release managers' public keys) the tarball's `.asc` signature is checked against with gpg; " +
            "set it for a mirror that does not carry `KEYS`",
    },
    brokerCount: { type: "int", modes: "both", min: 1, max: 100, example: "3", default: "`3`", meaning: "number of brokers (>= 1)" },
    zookeeperCount: {
        type: "int", modes: "both", min: 1, max: 7, example: "3", default: "`3` (fewer with 1-2 brokers)",
        meaning: "ensemble size: 1, 3, 5 or 7; co-located needs that many brokers",
    },
    controllerCount: {
        type: "int", modes: "both", min: 1, max: 5, example: "3", default: "`3` (fewer with 1-2 hosts); `kraft` only",
        meaning: "KRaft controllers (voters of the dynamic quorum): 1, 3 or 5; co-located needs that many brokers",
    },
    controllerPlacement: {
        type: "string", modes: "both", example: "colocated", default: "`colocated`; `kraft` only",
        meaning: "`colocated` (a controller process of its own next to the broker on the first hosts) or `dedicated` (own instances/hosts, " +
            "role `controller` in `hosts`)",
    },
    controllerHeap: {
        type: "string", modes: "both", example: "512m", default: "`512m`; `kraft` only",
        meaning: "controller JVM heap; on a co-located host it counts with `brokerHeap` in the memory checks",
    },
    zookeeperPlacement: {
        type: "string", modes: "both", example: "colocated", default: "`colocated`",
        meaning: "`colocated` (ZooKeeper on broker hosts) or `dedicated` (own instances/hosts)",
    },
    brokerHeap: {
        type: "string", modes: "both", example: "1g", default: "`1g`",
        meaning: "broker JVM heap (`400m`, `6g`); the heaps on one host may use at most 75% of its memory: checked on every host " +
            "before anything restarts, and on EC2 first against the memory EC2 reports for the instance type",
    },
    zookeeperHeap: { type: "string", modes: "both", example: "512m", default: "`512m`", meaning: "ZooKeeper JVM heap (`256m`, `1g`)" },
    jvmPerformanceOptions: {
        type: "string", modes: "both", example: "-XX:+UseG1GC -XX:MaxGCPauseMillis=20", default: "Kafka's own (G1, `-XX:MaxGCPauseMillis=20`, ...)",
        meaning: "garbage collector and compiler options of the service JVMs (brokers, controllers, ZooKeeper members; `KAFKA_JVM_PERFORMANCE_OPTS`), " +
            "replacing Kafka's defaults: `-XX:` options, `-server` and `-D` properties only (the heaps have their own settings); the tools keep " +
            "their own; a change rolls the services one at a time",
    },
    instanceType: {
        type: "string", modes: "ec2", example: "t3.large", default: "`t3.large`",
        meaning: "instance type for all nodes; x86_64 or Graviton (arm64): each type boots the image of its architecture; a change rolls, one node per `pulumi up`",
    },
    brokerInstanceType: {
        type: "string", modes: "ec2", example: "t3.large", default: "`instanceType`",
        meaning: "instance type of brokers (and of co-located ZooKeeper members); a change rolls the brokers, one per `pulumi up`",
    },
    zookeeperInstanceType: {
        type: "string", modes: "ec2", example: "t3.medium", default: "`t3.medium` when dedicated",
        meaning: "instance type of dedicated ZooKeeper nodes; a change rolls them, one per `pulumi up`",
    },
    controllerInstanceType: {
        type: "string", modes: "ec2", example: "t3.medium", default: "`t3.medium` when dedicated; `kraft` only",
        meaning: "instance type of dedicated KRaft controller nodes",
    },
    os: { type: "string", modes: "ec2", example: "ubuntu-24.04", default: "`ubuntu-24.04`", meaning: "`ubuntu-24.04` or `amazon-linux-2023`; a change rolls the nodes onto its current image, one per `pulumi up`" },
    ami: {
        type: "string", modes: "ec2", example: "<ami-id>", default: "current image of `os` per architecture (public SSM parameter)",
        meaning: "pin an AMI id; its architecture must match every instance type's; a new pin rolls the nodes onto it, one per `pulumi up`",
    },
    rootVolumeGb: {
        type: "int", modes: "ec2", min: 8, max: 16384, example: "20", default: "`20`", meaning: "encrypted gp3 root volume size",
    },
    dataVolume: {
        type: "json", modes: "ec2", example: "{ sizeGb: 100 }", default: "none",
        meaning: "`{ sizeGb, type: gp3, iops?, throughputMiBps? }`: a separate encrypted EBS volume per broker at `/var/lib/kafka` " +
            "and per dedicated ZooKeeper node at `/var/lib/zookeeper`; a larger `sizeGb` grows the filesystem online; " +
            "gp3 limits: IOPS 3000-80000 and at most 500 per GiB, throughput 125-2000 MiB/s and at most 0.25 per IOPS",
    },
    protectData: {
        type: "bool", modes: "ec2", example: "true", default: "`true` (`false` on stacks named `dev*`, `local*`, `test*`)",
        meaning: "data volumes are `protect`ed (Pulumi refuses to delete or replace them) and `retainOnDelete` (kept in the account when removed from the stack)",
    },
    finalSnapshot: {
        type: "bool", modes: "ec2", example: "true", default: "`true` (`false` on stacks named `dev*`, `local*`, `test*`)",
        meaning: "a data volume that Pulumi deletes (once `protectData` is off, or `dataVolume` removed) leaves an EBS snapshot behind, " +
            "tagged like the volume; `false` deletes it without one",
    },
    clientCidrs: {
        type: "list", modes: "ec2", example: "10.0.0.0/16", default: "the VPC's CIDR; **required** with `publicAccess`",
        meaning: "who may reach the client listener 9092 (IPv4 blocks: the instances have no IPv6 address)",
    },
    sshCidrs: {
        type: "list", modes: "ec2", example: "203.0.113.7/32", default: "**required**; the VPC's CIDR with `bastion` or `sshFromVpc`",
        meaning: "who may reach SSH (IPv4 blocks); `/0` refused. Through a bastion, its private address is what the instances see",
    },
    publicAccess: { type: "bool", modes: "ec2", example: "false", default: "`false`", meaning: "give each broker an Elastic IP and advertise it to clients" },
    associatePublicIp: {
        type: "bool", modes: "ec2", example: "true", default: "`true`",
        meaning: "give instances public IPs (SSH from this program uses them unless `bastion` or `sshFromVpc` is set); `false` needs one of those two",
    },
    sshFromVpc: {
        type: "bool", modes: "ec2", example: "true", default: "`false`",
        meaning: "`pulumi up` runs inside the VPC (or a network routed to it, e.g. a VPN): SSH goes to the private addresses, no bastion",
    },
    subnetIds: {
        type: "list", modes: "ec2", example: "subnet-0123456789abcdef0", default: "default VPC's default subnets",
        meaning: "subnets of one VPC to spread over (one per AZ is used, among the AZs that offer the instance type)",
    },
    maxAzs: { type: "int", modes: "ec2", min: 1, max: 6, example: "3", default: "`3`", meaning: "how many AZs to spread over" },
    zookeeperChroot: { type: "string", modes: "both", example: "/kafka", default: "`/kafka`", meaning: "chroot in `zookeeper.connect`" },
    brokerProperties: {
        type: "json", modes: "both", example: "{}", default: "`{}`",
        meaning: "extra or overriding `server.properties` entries (identity, listeners, ZooKeeper and `log.dirs` are managed)",
    },
    security: {
        type: "string", modes: "both", example: "sasl_ssl", default: "`sasl_ssl`",
        meaning: "`sasl_ssl` (TLS with SCRAM-SHA-512 on every listener, inter-broker included), `tls` (TLS, no client " +
            "authentication) or `plaintext`; with `tls` and `sasl_ssl` brokers authenticate to ZooKeeper (SASL DIGEST-MD5) and their znodes get ACLs " +
            "(`zookeeper.set.acl`). Certificates come from a CA generated once per stack (output `caCertificate`)",
    },
    clientUsers: {
        type: "list", modes: "both", example: "app", default: "`[]`",
        meaning: "SCRAM users for clients (`sasl_ssl`); each gets a password generated once per stack (secret output " +
            "`clientCredentials`, ready files in `clientProperties`); adding or removing one restarts nothing",
    },
    acls: {
        type: "json", modes: "both", example: "{ app: { read: [orders], write: [orders], groups: [app-*] } }", default: "none (no authorizer)",
        meaning: "`{ <user>: { read?, write?, groups? } }`: topics a client user may read or write and the consumer groups it may use " +
            "(`name*` is a prefix, `*` all); when set, everything else is denied (`allow.everyone.if.no.acl.found=false`) and only `admin` is a super user",
    },
    jmx: {
        type: "bool", modes: "both", example: "true", default: "`false` (no JMX connector)",
        meaning: "monitoring: a JMX connector on each broker (9999) and ZooKeeper member (9998), bound to the private address, for the " +
            "read-only user `monitor` (password in the secret output `jmx`); needs `kafka:security` `tls` or `sasl_ssl`",
    },
    monitoring: {
        type: "bool", modes: "both", example: "true", default: "`false`",
        meaning: "Prometheus metrics from every Kafka JVM: the JMX exporter agent 1.0.1 (SHA-256 pinned) in each broker (7071), " +
            "controller (7072) and ZooKeeper member (7073), bound to the private address, never in the tools; " +
            "needs `mavenUrl`; turning it on or off rolls the services one at a time. On EC2 it also adds the monitoring node " +
            "(Prometheus, Alertmanager: see `monitoringCidrs`); on existing hosts the host with the role `monitoring` is it",
    },
    mavenUrl: {
        type: "string", modes: "both", example: "https://maven.example.com/maven2", default: "none (required with `monitoring`)",
        meaning: "base URL of a Maven repository (Maven Central's, or your mirror) serving " +
            "`io/prometheus/jmx/jmx_prometheus_javaagent/1.0.1/jmx_prometheus_javaagent-1.0.1.jar`; each host downloads it once",
    },
    monitoringScrapeInterval: {
        type: "string", modes: "both", example: "15s", default: "`15s`",
        meaning: "with `monitoring`: how often Prometheus scrapes every exporter and evaluates the alert rules",
    },
    alertAfter: {
        type: "string", modes: "both", example: "5m", default: "`5m`",
        meaning: "with `monitoring`: how long under-replicated partitions or consumer lag last before their alert fires " +
            "(the other alerts wait at most 1m)",
    },
    consumerLagAlert: {
        type: "int", modes: "both", min: 1, max: 1000000000, example: "10000", default: "`10000`",
        meaning: "with `monitoring`: the consumer lag (messages behind, per group and topic) above which `KafkaConsumerLag` fires",
    },
    alertWebhookUrl: {
        type: "string", modes: "both", example: "https://hooks.example.com/kafka", default: "none (alerts on the APIs only)",
        meaning: "with `monitoring`: where Alertmanager posts its notifications (a webhook receiver); without it alerts are " +
            "visible on Prometheus' alerts page and Alertmanager's API",
    },
    monitoringInstanceType: {
        type: "string", modes: "ec2", example: "t3.small", default: "`t3.small` with `monitoring`",
        meaning: "instance type of the monitoring node (`monitoring-1`: Prometheus, Alertmanager, the consumer lag collector), " +
            "an instance of its own that `monitoring` adds on EC2; a change rolls it like the other nodes",
    },
    monitoringCidrs: {
        type: "list", modes: "ec2", example: "203.0.113.0/24", default: "none; **required** with `monitoring` on EC2",
        meaning: "who may reach the monitoring node's Prometheus (9090) and Alertmanager (9193), both behind TLS and basic auth " +
            "(IPv4 blocks; `/0` refused). The exporters (7071-7073, 9100) answer the monitoring node only",
    },
    monitoringVolumeGb: {
        type: "int", modes: "ec2", min: 8, max: 16384, example: "20", default: "`20`",
        meaning: "with `monitoring`: the monitoring node's encrypted gp3 data volume at `/var/lib/prometheus` (the time series); " +
            "a larger size grows the filesystem online; `protectData` and `finalSnapshot` apply to it as to the other data volumes",
    },
    certificateRotation: {
        type: "int", modes: "both", min: 0, max: 1000000, example: "1", default: "`0`",
        meaning: "raise it to issue new broker certificates from the stack's CA (a rolling restart; certificates are valid 825 days)",
    },
    sshUser: {
        type: "string", modes: "both", example: "ubuntu", default: "`ubuntu` / `ec2-user` on EC2",
        meaning: "SSH user (required with `hosts` unless set per host)",
    },
    sshPort: {
        type: "int", modes: "both", min: 1, max: 65535, example: "22", default: "`22`",
        meaning: "SSH port of existing hosts (EC2 accepts only 22, the port its security group opens)",
    },
    sshPrivateKey: {
        type: "text", modes: "both", secret: true, example: "< ~/.ssh/id_ed25519", default: "generated on EC2",
        meaning: "the SSH private key (required with `hosts`, or `sshPrivateKeyPath`)",
    },
    sshPrivateKeyPath: {
        type: "string", modes: "both", example: "~/.ssh/id_ed25519", default: "none", meaning: "a file holding the SSH private key, instead of `sshPrivateKey`",
    },
    bastion: {
        type: "json", modes: "both", example: "{ host: 203.0.113.5 }", default: "none",
        meaning: "`{ host, port?, user? }`: a jump host every SSH connection goes through (remote.Command's `connection.proxy`); " +
            "hosts are then dialled from it, on EC2 at their private addresses. `port` 22, `user` the SSH user by default",
    },
    bastionPrivateKey: {
        type: "text", modes: "both", secret: true, example: "< ~/.ssh/bastion_ed25519", default: "`sshPrivateKey`",
        meaning: "the key the bastion accepts, when it is not the cluster's SSH key (needed on EC2 when that key is generated)",
    },
    hosts: {
        type: "json", modes: "hosts", example: "[]", default: "none",
        meaning: "existing-hosts mode: `[{ id, address, privateAddress?, user?, roles?, rack? }]`",
    },
    wipeOnDestroy: {
        type: "bool", modes: "hosts", example: "false", default: "`false`",
        meaning: "on destroy, also delete data, config and the install on existing hosts",
    },
    clusterName: { type: "string", modes: "both", example: "kafka-dev", default: "`kafka-<stack>`", meaning: "name prefix and tag value" },
} as const satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof KEYS;

export function isConfigKey(k: string): k is ConfigKey {
    return Object.prototype.hasOwnProperty.call(KEYS, k);
}

/** The README's configuration table, generated from KEYS. */
export function configTableMarkdown(): string {
    const modes = { both: "both", ec2: "EC2", hosts: "hosts" } as const;
    const rows = Object.entries(KEYS).map(([key, spec]: [string, KeySpec]) =>
        `| \`${key}\`${spec.secret ? " (secret)" : ""} | ${modes[spec.modes]} | ${spec.default} | ${spec.meaning} |`);
    return ["| key | modes | default | meaning |", "| --- | --- | --- | --- |", ...rows].join("\n") + "\n";
}
