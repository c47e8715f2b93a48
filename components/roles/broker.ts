// Role `broker`: a Kafka broker (`kafka.service`). Its files; its configure steps live in plan.ts, which chains them
// after the metadata quorum's role (ZooKeeper or KRaft controllers) and before the cluster-wide checks.
import { ADMIN_USER, ClusterConfig } from "../config";
import { ManagedFile } from "../host-command";
import { PATHS, PORTS, kafkaTarballName, secured } from "../layout";
import { ClusterSecrets, QuorumRender, renderClientProperties, renderEnvFile, renderKafkaJaas, renderKafkaUnit, renderServerProperties } from "../render";
import { ClusterNode } from "../topology";
import { jmxFiles, keystoreOf, need } from "./context";
import { metricsAgentOption, metricsFiles } from "./metrics";

export const BROKER_ROLE = {
    service: "kafka", link: PATHS.current, jmxPort: PORTS.brokerJmx,
    dataDirs: [PATHS.kafkaLogDirs, PATHS.kafkaLogs], heapKey: "brokerHeap",
} as const;

/**
 * Everything a broker's configure step writes, in order. `quorum`: how its server.properties names the controller quorum
 * (a ZooKeeper migration's phases: roles/migration.ts).
 */
export function brokerFiles(cfg: ClusterConfig, node: ClusterNode, nodes: ClusterNode[], secrets?: ClusterSecrets, quorum?: QuorumRender): ManagedFile[] {
    const group = `root:${PATHS.serviceUser}`;
    // ZooKeeper mode: the broker's ZooKeeper login (JAAS `Client`). KRaft brokers log in to nothing outside Kafka.
    const zkLogin = secured(cfg) && cfg.metadata === "zookeeper";
    const jaas = zkLogin ? PATHS.kafkaJaas : undefined;
    const tls: ManagedFile[] = secured(cfg) ? [
        [PATHS.caCertificate, "0644", "root:root", need(secrets).caCertificate],
        [PATHS.brokerKeystore, "0640", group, keystoreOf(need(secrets), node.name)],
        ...(zkLogin ? [[PATHS.kafkaJaas, "0640", group, renderKafkaJaas(need(secrets))] as ManagedFile] : []),
    ] : [];
    const admin = cfg.security.mode === "sasl_ssl" ? { user: ADMIN_USER, password: need(secrets).adminPassword } : undefined;
    const jmx = cfg.jmx ? { address: node.privateAddress, port: PORTS.brokerJmx } : undefined;
    return [
        ...tls,
        ...jmxFiles(cfg, secrets),
        ...metricsFiles(cfg, "kafka"),
        // The checks this program runs on the broker log in with this (root only).
        [PATHS.adminConfig, "0600", "root:root", renderClientProperties(cfg, admin)],
        [`${PATHS.configDir}/server.properties`, "0640", group, renderServerProperties(cfg, node, nodes, secrets, true, quorum)],
        [`${PATHS.configDir}/kafka.env`, "0640", group, renderEnvFile(cfg.brokerHeap, PATHS.kafkaLogs, jaas, jmx, metricsAgentOption(cfg, node, "kafka"), cfg.jvmPerformanceOptions)],
        [`${PATHS.configDir}/kafka.version`, "0644", "root:root", `${kafkaTarballName(cfg)}\n`],
        [`${PATHS.unitDir}/kafka.service`, "0644", "root:root", renderKafkaUnit(cfg.metadata)],
    ];
}

/**
 * ZooKeeper mode: the inter-broker protocol versions older than the configured release's (3.0 up to its minor line),
 * which a rolling change onto it keeps pinned until every broker runs it (Kafka's upgrade notes: brokers on the new
 * binaries keep `inter.broker.protocol.version` at the version the cluster ran, and only a second roll raises it).
 * Empty with KRaft (metadata.version is finalized instead) and when kafka:brokerProperties sets the protocol version
 * itself (the operator holds it, e.g. to keep a downgrade possible for a while).
 */
export function olderProtocolVersions(cfg: Pick<ClusterConfig, "metadata" | "kafkaVersion" | "brokerProperties">): string[] {
    if (cfg.metadata !== "zookeeper" || cfg.brokerProperties["inter.broker.protocol.version"] !== undefined) return [];
    const [major, minor] = cfg.kafkaVersion.split(".").map(Number);
    return Array.from({ length: major === 3 ? minor : 0 }, (_, i) => `3.${i}`);
}
