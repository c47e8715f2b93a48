// The cluster's layout: where things live on a host, which ports they use, how nodes are reached and what a
// client is told. Pure and below the renderers, the plan, the AWS layer and the component, which all read it from
// here; the stack outputs are computed by one function (clusterOutputs) for the component and any tooling.
import { Bastion, ClusterConfig, KafkaSettings } from "./config";
import { ClusterNode, NodeIdentity, brokerNodes, controllerNodes, zookeeperNodes } from "./topology";

/**
 * Where things live on a host. The host scripts receive every one of these they use through their environment
 * (see each script's `# Env:` header); none is written into a script.
 */
export const PATHS = {
    /** Versioned installs: <installRoot>/kafka_<scala>-<version>. */
    installRoot: "/opt/kafka",
    /**
     * The broker's stable symlink to its version (the tools use it too), inside installRoot. ZooKeeper has a link of
     * its own, so that each service switches version only in its own rolling restart step.
     */
    current: "/opt/kafka/current",
    /** ZooKeeper's stable symlink to its version, inside installRoot. */
    zookeeperCurrent: "/opt/kafka/zookeeper-current",
    /** A KRaft controller's stable symlink to its version, inside installRoot (its own, like ZooKeeper's). */
    controllerCurrent: "/opt/kafka/controller-current",
    /** A KRaft controller's home: its metadata log directory lives below it (the data volume's mount point on EC2). */
    controllerData: "/var/lib/kafka-controller",
    controllerLogDir: "/var/lib/kafka-controller/metadata",
    controllerLogs: "/var/log/kafka-controller",
    /** Written when a controller was formatted to join a running quorum; gone once it is a voter. */
    controllerJoinMarker: "/var/lib/kafka-controller/join-pending",
    /** Written when a controller was formatted as one of a new quorum's initial voters (--initial-controllers). */
    controllerInitialMarker: "/var/lib/kafka-controller/initial-voter",
    /** Client properties of the controllers' listener (TLS with this node's certificate), for the quorum checks (root only). */
    controllerClientConfig: "/etc/kafka/controller-client.properties",
    configDir: "/etc/kafka",
    /** The service user's home; the data volume's mount point on EC2. */
    kafkaData: "/var/lib/kafka",
    kafkaLogDirs: "/var/lib/kafka/data",
    zookeeperData: "/var/lib/zookeeper",
    kafkaLogs: "/var/log/kafka",
    zookeeperLogs: "/var/log/zookeeper",
    /** systemd units. */
    unitDir: "/etc/systemd/system",
    /** LOG_DIR of the Kafka tools the checks run. */
    toolsLogDir: "/tmp/kafka-cluster-tools",
    /** Login-shell profile that puts Kafka's tools on PATH for the SSH user, with their logs in a writable LOG_DIR. */
    toolsProfile: "/etc/profile.d/kafka-cluster.sh",
    serviceUser: "kafka",
    /** needrestart's drop-in that keeps it from restarting the services (written where needrestart is installed). */
    needrestartConf: "/etc/needrestart/conf.d/kafka-cluster.conf",
    /** The host's SSH host key the `ssh` output line pins (sshd's ed25519 key, on every current image). */
    sshHostKey: "/etc/ssh/ssh_host_ed25519_key.pub",
    /**
     * The node's TLS key (PKCS#8) and certificate chain, Kafka's PEM keystore (kafka:security tls, sasl_ssl): the broker's
     * and, with KRaft, the controller's (one certificate per node).
     */
    brokerKeystore: "/etc/kafka/broker-keystore.pem",
    /** The stack's CA certificate: the truststore of brokers and tools. */
    caCertificate: "/etc/kafka/ca.pem",
    /** JAAS of the broker: its ZooKeeper credentials (`Client`). */
    kafkaJaas: "/etc/kafka/kafka-jaas.conf",
    /** JAAS of a ZooKeeper member: the digest user the brokers log in as (`Server`). */
    zookeeperJaas: "/etc/kafka/zookeeper-jaas.conf",
    /** Client properties of the admin principal, for the checks this program runs on a broker (root only). */
    adminConfig: "/etc/kafka/admin.properties",
    /** kafka:jmx: the JMX connector's password file (the JVM refuses one that anyone but its owner may read) and roles. */
    jmxPassword: "/etc/kafka/jmx.password",
    jmxAccess: "/etc/kafka/jmx.access",
    /** The repair generation the node's configure steps last ran for (observe.sh reads it). */
    observedGeneration: "/etc/kafka/.observed-generation",
    /** kafka:monitoring: the Prometheus JMX exporter agent (one jar per host, every Kafka JVM loads it). */
    metricsAgent: "/opt/kafka/jmx_prometheus_javaagent-1.0.1.jar",
    /**
     * kafka:monitoring, the monitoring host: Prometheus' and Alertmanager's configuration, rules, TLS files, passwords
     * and the overview page (readable by Debian's `prometheus` user), and the packages' argument files.
     */
    monitoringDir: "/etc/kafka-monitoring",
    prometheusDefaults: "/etc/default/prometheus",
    alertmanagerDefaults: "/etc/default/prometheus-alertmanager",
    nodeExporterDefaults: "/etc/default/prometheus-node-exporter",
    /** Below it Prometheus', Alertmanager's and the node exporter's data: the monitoring node's data volume on EC2. */
    prometheusHome: "/var/lib/prometheus",
    prometheusData: "/var/lib/prometheus/metrics2",
    alertmanagerData: "/var/lib/prometheus/alertmanager",
    /** The node exporter's textfile collector directory (the consumer lag collector writes there). */
    nodeExporterTextfiles: "/var/lib/prometheus/node-exporter",
    /** The consumer lag collector (a systemd timer on the monitoring host) and its environment. */
    lagCollector: "/etc/kafka/consumer-lag.sh",
    lagCollectorEnv: "/etc/kafka/consumer-lag.env",
} as const;

/** kafka:monitoring: the user of Prometheus' and Alertmanager's basic auth on the monitoring host. */
export const MONITORING_USER = "monitoring";

/** kafka:jmx: the one JMX user, read-only. */
export const JMX_USER = "monitor";

/** The ZooKeeper SASL (DIGEST-MD5) user the brokers authenticate as; their znodes' ACLs name it (sasl:kafka). */
export const ZOOKEEPER_SASL_USER = "kafka";

/** Whether the brokers authenticate to ZooKeeper and use TLS (kafka:security tls or sasl_ssl). */
export const secured = (cfg: Pick<KafkaSettings, "security">): boolean => cfg.security.mode !== "plaintext";

/**
 * The broker's two listeners per kafka:security mode: the one clients use and the one the brokers replicate over, each
 * with its own name and port (the client ports are MSK's: 9092 plaintext, 9094 TLS, 9096 SASL/SCRAM). Names and ports
 * differ between modes, so that a switch of kafka:security can run the old and the new listeners side by side while
 * it rolls through the brokers (see the plan's `listeners-add` and `listeners-switch` phases).
 */
export const LISTENERS = {
    plaintext: { protocol: "PLAINTEXT", client: { name: "CLIENT", port: 9092 }, internal: { name: "INTERNAL", port: 9093 } },
    tls: { protocol: "SSL", client: { name: "CLIENT_TLS", port: 9094 }, internal: { name: "INTERNAL_TLS", port: 9095 } },
    sasl_ssl: { protocol: "SASL_SSL", client: { name: "CLIENT_SASL", port: 9096 }, internal: { name: "INTERNAL_SASL", port: 9097 } },
} as const;

/** The listeners of the configured kafka:security mode. */
export const listenersOf = (cfg: Pick<KafkaSettings, "security">) => LISTENERS[cfg.security.mode];

/** server.properties' listener.security.protocol.map. */
export function protocolMap(cfg: Pick<KafkaSettings, "security">): string {
    const l = listenersOf(cfg);
    return `${l.internal.name}:${l.protocol},${l.client.name}:${l.protocol}`;
}

/** A broker's whole listener.security.protocol.map: with KRaft, the controllers' listener too (brokers connect to it). */
export function brokerProtocolMap(cfg: Pick<KafkaSettings, "security" | "metadata">): string {
    return protocolMap(cfg) + (cfg.metadata === "kraft" ? `,${CONTROLLER_LISTENER}:${controllerProtocol(cfg)}` : "");
}

/** The security protocol of both listeners. */
export function listenerProtocol(cfg: Pick<KafkaSettings, "security">): (typeof LISTENERS)[keyof typeof LISTENERS]["protocol"] {
    return listenersOf(cfg).protocol;
}

/** Every mode's client port (the security group opens them all, so that a kafka:security switch never cuts clients off). */
export const CLIENT_PORTS = Object.values(LISTENERS).map((l) => l.client.port);
/** Every mode's internal port. */
export const INTERNAL_PORTS = Object.values(LISTENERS).map((l) => l.internal.port);

export const PORTS = {
    zookeeperClient: 2181, zookeeperPeer: 2888, zookeeperElection: 3888, ssh: 22, brokerJmx: 9999, zookeeperJmx: 9998,
    /** KRaft: the controllers' listener (CONTROLLER), open only inside the cluster. */
    controller: 9098, controllerJmx: 9997,
    /** kafka:monitoring: each JVM's Prometheus endpoint (the JMX exporter agent), on the private address. */
    brokerMetrics: 7071, controllerMetrics: 7072, zookeeperMetrics: 7073,
    /** kafka:monitoring: the node exporter on every node (private address); Prometheus and Alertmanager (TLS, basic auth). */
    nodeExporter: 9100, prometheus: 9090,
    /** (Not Alertmanager's usual 9093, which is the plaintext inter-broker listener's: a monitoring host may run a broker.) */
    alertmanager: 9193,
} as const;

/** The KRaft controllers' listener: its name in every node's listener.security.protocol.map. */
export const CONTROLLER_LISTENER = "CONTROLLER";

/**
 * The controllers' listener protocol: TLS with client certificates from the stack's CA when secured (SCRAM does not work
 * between controllers), else plaintext.
 */
export const controllerProtocol = (cfg: Pick<KafkaSettings, "security">): "SSL" | "PLAINTEXT" => (secured(cfg) ? "SSL" : "PLAINTEXT");

/** The principal every node's certificate maps to on a KRaft cluster (a super user): one for all nodes, so scaling changes no ACL. */
export const nodePrincipal = (cfg: Pick<KafkaSettings, "clusterName">): string => `User:CN=${nodeCertificateName(cfg)}`;
export const nodeCertificateName = (cfg: Pick<KafkaSettings, "clusterName">): string => `kafka-node.${cfg.clusterName}`;
/**
 * The principals of the certificates a ZooKeeper-mode cluster issued (one per node, `CN=<node>.<cluster>`): while it
 * migrates to KRaft, the controllers and the KRaft-mode brokers reuse them, so they are super users there (a controller
 * that does not authorize its peers never elects a leader: docs/zk-migration-lab.md).
 */
export const migrationPrincipals = (cfg: Pick<KafkaSettings, "clusterName">, nodes: NodeIdentity[]): string[] =>
    nodes.filter((n) => n.brokerId !== undefined || n.controllerId !== undefined).map((n) => `User:CN=${n.name}.${cfg.clusterName}`);

/**
 * Who may reach a port: other cluster members only, clients, monitoring inside the VPC (kafka:jmx), the monitoring node
 * for the Prometheus endpoints (kafka:monitoring: `metrics`, on EC2 from the monitoring node's security group only), or
 * the people of kafka:monitoringCidrs for the monitoring node's Prometheus and Alertmanager (`monitoring`, TLS and basic
 * auth; opened on the monitoring node only).
 */
export type PortReach = "cluster" | "clients" | "jmx" | "metrics" | "monitoring";
export interface PortRule { port: number; reach: PortReach }

/**
 * The one port table the security group is derived from: the quorum's ports (ZooKeeper's three, or the controllers'
 * listener) and every mode's inter-broker listener for members only, every mode's client listener for clients, the JMX
 * connectors of the roles that exist with kafka:jmx, the exporters and the monitoring node's web servers with
 * kafka:monitoring.
 */
export function portTable(cfg: Pick<KafkaSettings, "metadata" | "jmx" | "monitoring" | "migration">): PortRule[] {
    // While migrating to KRaft, both quorums run: the controllers' listener opens inside the cluster too; once the
    // migration is finalized, ZooKeeper's ports close.
    const zk = cfg.metadata === "zookeeper" && cfg.migration?.target !== "finalized";
    const kraft = !zk || cfg.migration !== undefined;
    const quorum = [...(zk ? [PORTS.zookeeperClient, PORTS.zookeeperPeer, PORTS.zookeeperElection] : []), ...(kraft ? [PORTS.controller] : [])];
    const of = (zookeeper: number, controller: number) => [...(zk ? [zookeeper] : []), ...(kraft ? [controller] : [])];
    return [
        ...[...quorum, ...INTERNAL_PORTS].map((port): PortRule => ({ port, reach: "cluster" })),
        ...CLIENT_PORTS.map((port): PortRule => ({ port, reach: "clients" })),
        ...(cfg.jmx ? [PORTS.brokerJmx, ...of(PORTS.zookeeperJmx, PORTS.controllerJmx)].map((port): PortRule => ({ port, reach: "jmx" })) : []),
        ...(cfg.monitoring ? [PORTS.brokerMetrics, ...of(PORTS.zookeeperMetrics, PORTS.controllerMetrics), PORTS.nodeExporter].map((port): PortRule => ({ port, reach: "metrics" })) : []),
        ...(cfg.monitoring ? [PORTS.prometheus, PORTS.alertmanager].map((port): PortRule => ({ port, reach: "monitoring" })) : []),
    ];
}
export const portsFor = (cfg: Pick<KafkaSettings, "metadata" | "jmx" | "monitoring" | "migration">, reach: PortReach): number[] =>
    portTable(cfg).filter((r) => r.reach === reach).map((r) => r.port);

/** The port this program connects to over SSH: kafka:sshPort on existing hosts, 22 on EC2 (all the security group opens). */
export function sshPort(cfg: ClusterConfig): number {
    return cfg.mode === "hosts" ? cfg.hosts.sshPort : PORTS.ssh;
}

/** Replication defaults: min(3, brokers) replicas, min.insync.replicas min(2, that). */
export function replication(brokerCount: number): { factor: number; minIsr: number } {
    const factor = Math.min(3, brokerCount);
    return { factor, minIsr: Math.min(2, factor) };
}

export function kafkaTarballName(cfg: Pick<KafkaSettings, "kafkaVersion" | "scalaVersion">): string {
    return `kafka_${cfg.scalaVersion}-${cfg.kafkaVersion}.tgz`;
}

/** The release tarball under one download base URL (Apache's `<version>/` layout). */
export function kafkaTarballUrl(cfg: Pick<KafkaSettings, "kafkaVersion" | "scalaVersion">, base: string): string {
    return `${base}/${cfg.kafkaVersion}/${kafkaTarballName(cfg)}`;
}

/**
 * Where the install step looks for the release, in order (the next source only when one answers 404): the tarball
 * (with `.sha512` and `.asc` next to it) and the KEYS file its signature is checked against (kafka:keysUrl, else the
 * source's own `KEYS`).
 */
export function kafkaSources(cfg: Pick<KafkaSettings, "kafkaVersion" | "scalaVersion" | "downloadUrls" | "keysUrl">): { tarball: string; keys: string }[] {
    return cfg.downloadUrls.map((base) => ({ tarball: kafkaTarballUrl(cfg, base), keys: cfg.keysUrl ?? `${base}/KEYS` }));
}

/** The broker listener cluster members use among themselves. */
export const internalEndpoint = (cfg: Pick<KafkaSettings, "security">, n: ClusterNode) => `${n.privateAddress}:${listenersOf(cfg).internal.port}`;
/** The broker listener clients are told to use. */
export const clientEndpoint = (cfg: Pick<KafkaSettings, "security">, n: ClusterNode) => `${n.clientAddress}:${listenersOf(cfg).client.port}`;

/** KRaft: controller.quorum.bootstrap.servers, the controllers' listener at their private addresses. */
export function controllerQuorum(nodes: ClusterNode[], address: (n: ClusterNode) => string = (n) => n.privateAddress): string {
    return controllerNodes(nodes).map((n) => `${address(n)}:${PORTS.controller}`).join(",");
}

/**
 * controller.quorum.voters, `id@host:port` of every controller: the static quorum a ZooKeeper migration makes (every
 * node keeps it until kraft.version 1 is finalized on 4.x; a node given only bootstrap servers cannot find the leader).
 */
export function controllerVoters(nodes: ClusterNode[]): string {
    return controllerNodes(nodes).map((n) => `${n.controllerId}@${n.privateAddress}:${PORTS.controller}`).join(",");
}

export function zookeeperConnect(cfg: Pick<KafkaSettings, "zookeeperChroot">, nodes: ClusterNode[], address: (n: ClusterNode) => string = (n) => n.privateAddress): string {
    return zookeeperNodes(nodes).map((n) => `${address(n)}:${PORTS.zookeeperClient}`).join(",") + cfg.zookeeperChroot;
}

/** One entry of the `nodes` stack output. */
export interface NodeOutput {
    name: string;
    roles: string[];
    brokerId?: number;
    zookeeperId?: number;
    controllerId?: number;
    publicAddress: string;
    privateAddress: string;
    instanceId?: string;
    /** The SSH host key seen when the host was last provisioned ("ssh-ed25519 AAAA..."). */
    hostKey?: string;
    /**
     * An ssh command line that works without a terminal: it trusts exactly `hostKey` (through KnownHostsCommand, with
     * the known_hosts files out of the way, so an old key of a rebuilt host there does not matter).
     */
    ssh: string;
}

/** The host key a ready step printed ("host-key: <type> <key>"), if any. */
export function hostKeyFrom(readyStdout: string): string | undefined {
    return /^host-key: (\S+ \S+)$/m.exec(readyStdout)?.[1];
}

/**
 * The `ssh` line of one node; `<private-key-file>` is where the user keeps the key (see README). Through a bastion, a
 * ProxyCommand `ssh -W` logs in to it with the same file, or `<bastion-key-file>` when kafka:bastionPrivateKey is set
 * (the bastion's own host key is checked against the user's known_hosts, as for any jump host).
 */
export function sshLine(port: number, user: string, address: string, hostKey?: string, bastion?: Bastion): string {
    const pin = hostKey
        ? `-o StrictHostKeyChecking=yes -o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null -o 'KnownHostsCommand=/bin/echo %H ${hostKey}' `
        : "";
    const jump = bastion
        ? `-o 'ProxyCommand=ssh -i ${bastion.privateKey !== undefined ? "<bastion-key-file>" : "<private-key-file>"} -o IdentitiesOnly=yes ` +
            `${bastion.port !== 22 ? `-p ${bastion.port} ` : ""}-W [%h]:%p ${bastion.user}@${bastion.host}' `
        : "";
    return `ssh -i <private-key-file> -o IdentitiesOnly=yes ${pin}${jump}${port !== 22 ? `-p ${port} ` : ""}${user}@${address}`;
}

/** The stack outputs that describe the cluster (everything but the smoke test result and the key). */
export interface ClusterOutputs {
    /** Client-reachable bootstrap servers, "host:port,..." (the port of kafka:security's client listener). */
    bootstrapServers: string;
    /** ZooKeeper connect string with chroot (private addresses); empty on a KRaft cluster. */
    zookeeperConnect: string;
    /** KRaft: the controllers' bootstrap addresses (controller.quorum.bootstrap.servers); empty in ZooKeeper mode. */
    controllerQuorum: string;
    nodes: NodeOutput[];
}

/** The outputs for resolved nodes; `instanceIds` by node name (EC2 mode), `hostKeys` by node name. */
export function clusterOutputs(cfg: ClusterConfig, nodes: ClusterNode[], instanceIds: Record<string, string> = {},
    hostKeys: Record<string, string | undefined> = {}): ClusterOutputs {
    const port = sshPort(cfg);
    return {
        bootstrapServers: brokerNodes(nodes).map((n) => clientEndpoint(cfg, n)).join(","),
        zookeeperConnect: zookeeperNodes(nodes).length > 0 ? zookeeperConnect(cfg, nodes) : "",
        controllerQuorum: controllerQuorum(nodes),
        nodes: nodes.map((n): NodeOutput => ({
            name: n.name,
            roles: n.roles,
            ...(n.brokerId !== undefined ? { brokerId: n.brokerId } : {}),
            ...(n.zookeeperId !== undefined ? { zookeeperId: n.zookeeperId } : {}),
            ...(n.controllerId !== undefined ? { controllerId: n.controllerId } : {}),
            publicAddress: n.sshAddress,
            privateAddress: n.privateAddress,
            ...(instanceIds[n.name] ? { instanceId: instanceIds[n.name] } : {}),
            ...(hostKeys[n.name] ? { hostKey: hostKeys[n.name] } : {}),
            ssh: sshLine(port, n.user, n.sshAddress, hostKeys[n.name], cfg.mode === "hosts" ? cfg.hosts.bastion : cfg.ec2.bastion),
        })),
    };
}
