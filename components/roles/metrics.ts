// Monitoring (kafka:monitoring), the JVM side: the Prometheus JMX exporter agent inside every Kafka service JVM (broker,
// KRaft controller, ZooKeeper member) and never inside the tools, each on its own port on the node's private address.
// Owns the agent's pinned artifact, the step that installs it, each service's exporter port, rule file and JVM option.
// The services' roles take their file and option from here; the port table (layout.ts) opens the ports.
import { ClusterConfig } from "../config";
import { ManagedFile, hostCommand } from "../host-command";
import { PATHS, PORTS } from "../layout";
import { ClusterNode } from "../topology";
import { Step } from "./context";

/**
 * io.prometheus.jmx:jmx_prometheus_javaagent 1.0.1, the newest agent on Maven Central (later ones are published on
 * GitHub only). The SHA-256 is of the jar Maven resolved here (its .sha1 checked against the repository's).
 */
export const METRICS_AGENT = {
    coordinates: "io.prometheus.jmx:jmx_prometheus_javaagent:1.0.1",
    version: "1.0.1",
    path: "io/prometheus/jmx/jmx_prometheus_javaagent/1.0.1/jmx_prometheus_javaagent-1.0.1.jar",
    sha256: "7d61f737fd661610ccc14aea79764faa1ea94a340cbc8f0029b3d2edea3d80c1",
} as const;

/** The services that carry the agent, each with its own port and rule file. */
export type MeteredService = "kafka" | "kafka-controller" | "zookeeper";
export const METRICS_PORT: Record<MeteredService, number> = {
    kafka: PORTS.brokerMetrics, "kafka-controller": PORTS.controllerMetrics, zookeeper: PORTS.zookeeperMetrics,
};
export const metricsRulesPath = (service: MeteredService): string => `${PATHS.configDir}/metrics-${service}.yml`;

/** The agent's download URL in the configured Maven repository. */
export const metricsAgentUrl = (mavenUrl: string): string => `${mavenUrl}/${METRICS_AGENT.path}`;

/**
 * Kafka's gauges and meters an operator alerts on, named as the JMX exporter's defaults name them (lower case,
 * `<domain>_<type>_<name>`), so that the alert rules and the overview page can rely on these names.
 */
const KAFKA_RULES = [
    "  # Gauges: partitions under-replicated / under min ISR / offline, active controllers, offline log directories,",
    "  # KRaft metadata lag, ZooKeeper session state.",
    "  - pattern: 'kafka.(server|controller|log)<type=(ReplicaManager|KafkaController|LogManager|ControllerStats|SessionExpireListener), name=(\\w+)><>Value'",
    "    name: kafka_$1_$2_$3",
    "    type: GAUGE",
    "  # Meters as counters: ISR shrinks/expands, unclean leader elections, ZooKeeper disconnects.",
    "  - pattern: 'kafka.(server|controller)<type=(ReplicaManager|ControllerStats|SessionExpireListener), name=(\\w+)PerSec><>Count'",
    "    name: kafka_$1_$2_$3_total",
    "    type: COUNTER",
    "  # Messages and bytes in/out over all topics.",
    "  - pattern: 'kafka.server<type=BrokerTopicMetrics, name=(MessagesIn|BytesIn|BytesOut|FailedProduceRequests|FailedFetchRequests)PerSec><>Count'",
    "    name: kafka_server_brokertopicmetrics_$1_total",
    "    type: COUNTER",
    "  # Request handler and network processor idle ratio (ideally above 0.3).",
    "  - pattern: 'kafka.server<type=KafkaRequestHandlerPool, name=RequestHandlerAvgIdlePercent><>OneMinuteRate'",
    "    name: kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent",
    "    type: GAUGE",
    "  - pattern: 'kafka.network<type=SocketServer, name=NetworkProcessorAvgIdlePercent><>Value'",
    "    name: kafka_network_socketserver_networkprocessoravgidlepercent",
    "    type: GAUGE",
    "  # Produce and fetch latency, end to end inside the broker (ms).",
    "  - pattern: 'kafka.network<type=RequestMetrics, name=TotalTimeMs, request=(Produce|FetchConsumer|FetchFollower)><>(50|99)thPercentile'",
    "    name: kafka_network_requestmetrics_totaltimems",
    "    type: GAUGE",
    "    labels:",
    "      request: $1",
    "      quantile: '0.$2'",
    "  # Log flushes (count and p99 ms).",
    "  - pattern: 'kafka.log<type=LogFlushStats, name=LogFlushRateAndTimeMs><>Count'",
    "    name: kafka_log_logflushstats_logflushes_total",
    "    type: COUNTER",
    "  - pattern: 'kafka.log<type=LogFlushStats, name=LogFlushRateAndTimeMs><>99thPercentile'",
    "    name: kafka_log_logflushstats_logflushtimems",
    "    type: GAUGE",
    "    labels:",
    "      quantile: '0.99'",
    "  # KRaft: the Raft client of every node (leader, epoch, high watermark, commit latency).",
    "  - pattern: 'kafka.server<type=raft-metrics><>(current-leader|current-epoch|current-vote|high-watermark|log-end-offset|commit-latency-avg|number-unknown-voter-connections)'",
    "    name: kafka_server_raft_metrics_$1",
    "    type: GAUGE",
    "  # KRaft brokers: how far behind the metadata log they apply.",
    "  - pattern: 'kafka.server<type=broker-metadata-metrics><>(last-applied-record-lag-ms|metadata-load-error-count|metadata-apply-error-count)'",
    "    name: kafka_server_broker_metadata_metrics_$1",
    "    type: GAUGE",
];

/** ZooKeeper 3.8's own MBeans: one replica's role (leader, follower) and its load. */
const ZOOKEEPER_RULES = [
    "  - pattern: 'org.apache.ZooKeeperService<name0=ReplicatedServer_id(\\d+), name1=replica.\\d+, name2=(Leader|Follower)><>(OutstandingRequests|AvgRequestLatency|MaxRequestLatency|NumAliveConnections|PacketsReceived|PacketsSent)'",
    "    name: zookeeper_$3",
    "    type: GAUGE",
    "    labels:",
    "      server_id: $1",
    "      role: $2",
    "  - pattern: 'org.apache.ZooKeeperService<name0=ReplicatedServer_id(\\d+), name1=replica.\\d+, name2=(Leader|Follower)><>MinRequestLatency'",
    "    name: zookeeper_quorum_member",
    "    value: 1",
    "    type: GAUGE",
    "    labels:",
    "      server_id: $1",
    "      role: $2",
];

/** A service's exporter rule file (the agent's YAML): only the MBeans named here become metrics, besides the JVM's. */
export function renderMetricsRules(service: MeteredService): string {
    const zk = service === "zookeeper";
    const objects = zk ? ["org.apache.ZooKeeperService:*"] : ["kafka.server:*", "kafka.controller:*", "kafka.network:*", "kafka.log:*"];
    return [
        "# Managed by kafka-cluster (kafka:monitoring): the Prometheus JMX exporter's rules for this service.",
        "lowercaseOutputName: true",
        "lowercaseOutputLabelNames: true",
        "includeObjectNames:",
        ...objects.map((o) => `  - '${o}'`),
        "rules:",
        ...(zk ? ZOOKEEPER_RULES : KAFKA_RULES),
        "",
    ].join("\n");
}

/** The JVM option that loads the agent for `service` on `node`, or undefined without kafka:monitoring. */
export function metricsAgentOption(cfg: ClusterConfig, node: Pick<ClusterNode, "privateAddress">, service: MeteredService): string | undefined {
    if (!cfg.monitoring) return undefined;
    return `-javaagent:${PATHS.metricsAgent}=${node.privateAddress}:${METRICS_PORT[service]}:${metricsRulesPath(service)}`;
}

/** The rule file a service's configure step writes (none without kafka:monitoring). */
export function metricsFiles(cfg: ClusterConfig, service: MeteredService): ManagedFile[] {
    return cfg.monitoring ? [[metricsRulesPath(service), "0644", "root:root", renderMetricsRules(service)]] : [];
}

/** The step that puts the agent on a node (download once, SHA-256 checked), before its install step; none when off. */
export function metricsAgentStep(cfg: ClusterConfig, node: string, dependsOn: string[]): Step | undefined {
    if (!cfg.monitoring) return undefined;
    return {
        name: `${node}-metrics-agent`, node, phase: "install", dependsOn,
        create: hostCommand("install-metrics-agent.sh", {
            AGENT_URL: metricsAgentUrl(cfg.monitoring.mavenUrl), AGENT_SHA256: METRICS_AGENT.sha256, AGENT_JAR: PATHS.metricsAgent,
        }),
    };
}
