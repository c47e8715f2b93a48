// Role `controller` (kafka:metadata kraft): a KRaft controller, always a process of its own (`kafka-controller.service`,
// never combined with a broker in one JVM). Its files, its storage format, its configure steps (one controller after
// another, each restart gated on the quorum), the quorum check, its JMX port and teardown.
import * as crypto from "crypto";
import { ADMIN_USER, ClusterConfig } from "../config";
import { ManagedFile, b64, hostCommand } from "../host-command";
import { PATHS, PORTS, controllerQuorum, kafkaTarballName, secured } from "../layout";
import {
    ClusterSecrets, renderControllerClientProperties, renderControllerProperties, renderControllerUnit, renderEnvFile, renderKafkaJaas,
} from "../render";
import { ClusterNode, controllerNodes, nodeNamed } from "../topology";
import { Generated, PlanContext, Step, chained, configureService, jmxFiles, keystoreOf, need, digest } from "./context";
import { metricsAgentOption, metricsFiles } from "./metrics";

export const CONTROLLER_ROLE = {
    service: "kafka-controller", link: PATHS.controllerCurrent, jmxPort: PORTS.controllerJmx,
    dataDirs: [PATHS.controllerData, PATHS.controllerLogs], heapKey: "controllerHeap",
} as const;


/**
 * The directory id a controller is formatted with when the quorum is first formed (`--initial-controllers`): derived from
 * the cluster id and its node.id, so every controller's format step names the same voters. A controller whose metadata
 * directory is formatted later joins with a directory id of its own (`--no-initial-controllers`, then add-controller).
 */
export function initialDirectoryId(clusterId: string, controllerId: number): string {
    const bytes = crypto.createHash("sha256").update(`${clusterId}\0${controllerId}`).digest().subarray(0, 16);
    return bytes.toString("base64url");
}

/** `--initial-controllers`: id@host:port:directoryId of every configured controller. */
export function initialControllers(nodes: ClusterNode[], clusterId: string): string {
    return controllerNodes(nodes).map((n) => `${n.controllerId}@${n.privateAddress}:${PORTS.controller}:${initialDirectoryId(clusterId, n.controllerId)}`).join(",");
}

/**
 * Everything a controller's configure step writes, in order. `as`: a ZooKeeper migration's controller (roles/migration.ts):
 * its properties, its heap (kafka:controllerHeap beside ZooKeeper) and, until finalized, the brokers' ZooKeeper login.
 */
export function controllerFiles(cfg: ClusterConfig, node: ClusterNode, nodes: ClusterNode[], secrets?: ClusterSecrets,
    as?: { properties: string; heap: string; zookeeperLogin: boolean }): ManagedFile[] {
    const group = `root:${PATHS.serviceUser}`;
    const jaas = as?.zookeeperLogin && secured(cfg) ? PATHS.kafkaJaas : undefined;
    const tls: ManagedFile[] = secured(cfg) ? [
        [PATHS.caCertificate, "0644", "root:root", need(secrets).caCertificate],
        [PATHS.brokerKeystore, "0640", group, keystoreOf(need(secrets), node.name)],
        ...(jaas ? [[jaas, "0640", group, renderKafkaJaas(need(secrets))] as ManagedFile] : []),
    ] : [];
    const jmx = cfg.jmx ? { address: node.privateAddress, port: PORTS.controllerJmx } : undefined;
    return [
        ...tls,
        ...jmxFiles(cfg, secrets),
        ...metricsFiles(cfg, "kafka-controller"),
        [PATHS.controllerClientConfig, "0600", "root:root", renderControllerClientProperties(cfg)],
        [`${PATHS.configDir}/controller.properties`, "0640", group, as?.properties ?? renderControllerProperties(cfg, node, nodes)],
        [`${PATHS.configDir}/kafka-controller.env`, "0640", group, renderEnvFile(as?.heap ?? cfg.quorum.heap, PATHS.controllerLogs, jaas, jmx,
            metricsAgentOption(cfg, node, "kafka-controller"), cfg.jvmPerformanceOptions)],
        [`${PATHS.configDir}/kafka-controller.version`, "0644", "root:root", `${kafkaTarballName(cfg)}\n`],
        [`${PATHS.unitDir}/kafka-controller.service`, "0644", "root:root", renderControllerUnit()],
    ];
}

/**
 * A controller's configure-step parameters besides its files (configure-service.sh's kafka-controller health checks);
 * `STATIC_QUORUM` for a migration's static quorum.
 */
export function controllerServiceEnv(n: ClusterNode, ns: ClusterNode[], staticQuorum = false): Record<string, string> {
    return {
        SELF_ADDRESS: n.privateAddress, CONTROLLER_PORT: String(PORTS.controller), NODE_ID: String(n.controllerId),
        QUORUM_BOOTSTRAP: controllerQuorum(ns), QUORUM_CONFIG: PATHS.controllerClientConfig,
        CONTROLLER_CONFIG: `${PATHS.configDir}/controller.properties`, METADATA_DIR: PATHS.controllerLogDir, JOIN_MARKER: PATHS.controllerJoinMarker,
        INITIAL_MARKER: PATHS.controllerInitialMarker, ...(staticQuorum ? { STATIC_QUORUM: "true" } : {}),
        KAFKA_HOME: PATHS.controllerCurrent, TOOLS_LOG_DIR: PATHS.toolsLogDir,
    };
}

/** The quorum check's environment: the controllers' listener, logged in with this node's certificate, and their ids. */
function quorumTools(nodes: ClusterNode[]): Record<string, string> {
    return {
        QUORUM_BOOTSTRAP: controllerQuorum(nodes), QUORUM_CONFIG: PATHS.controllerClientConfig,
        QUORUM_IDS: controllerNodes(nodes).map((n) => String(n.controllerId)).join(" "),
    };
}

/**
 * `kafka-storage format` of one node's metadata (controller) or log (broker) directory, only when it is empty (given the
 * node's properties without the tuning block: a tuning change does not run it again): with the
 * release the node will run (storage formatted by a newer release cannot be run by an older one), the cluster id
 * generated once per stack and, on controllers, the quorum's first voters and (sasl_ssl) the admin's SCRAM credential.
 */
export function formatStep(ctx: PlanContext, name: string, role: "controller" | "broker", properties: (n: ClusterNode, ns: ClusterNode[], s: ClusterSecrets | undefined) => string,
    dependsOn: string[]): Step {
    const { cfg, dist } = ctx;
    const sec = secured(cfg);
    const controller = role === "controller";
    return {
        name: controller ? `${name}-controller-format` : `${name}-format`, node: name, phase: "format", dependsOn, generated: true,
        ...(sec ? { secrets: true as const } : {}),
        create: (ns, secrets, generated: Generated) => {
            const n = nodeNamed(ns, name);
            if (generated.clusterId === undefined) throw new Error("a KRaft format step needs the stack's cluster id");
            return hostCommand("format-storage.sh", {
                ROLE: role, DATA_DIR: controller ? PATHS.controllerLogDir : PATHS.kafkaLogDirs, CLUSTER_ID: generated.clusterId,
                PROPERTIES_B64: b64(properties(n, ns, sec ? secrets : undefined)), KAFKA_HOME: `${PATHS.installRoot}/${dist}`,
                TOOLS_LOG_DIR: PATHS.toolsLogDir, SERVICE_USER: PATHS.serviceUser,
                ...(controller ? {
                    INITIAL_CONTROLLERS: initialControllers(ns, generated.clusterId), QUORUM_BOOTSTRAP: controllerQuorum(ns),
                    JOIN_MARKER: PATHS.controllerJoinMarker, INITIAL_MARKER: PATHS.controllerInitialMarker,
                    ...(cfg.security.mode === "sasl_ssl" ? { SCRAM_USER: ADMIN_USER, SCRAM_PASSWORD: secrets.adminPassword } : {}),
                } : {}),
            });
        },
    };
}

/**
 * The controllers, formatted (each on its own host, in parallel) and configured one after another (the first after every
 * memory check; a restart waits until the quorum has a leader and every voter is caught up, before and after), and
 * the quorum check. Returns the steps, what the first broker waits for (the last controller's step: each step already
 * waited for a healthy quorum around its own restart, and a new broker waits for the quorum by itself) and what the
 * broker check waits for (the quorum check, which runs beside the brokers' steps).
 */
export function controllerSteps(ctx: PlanContext, controllers: string[]): { steps: Step[]; ready: string[]; checks: string[] } {
    const { cfg, dist } = ctx;
    const sec = secured(cfg);
    const formats = controllers.map((name) => formatStep(ctx, name, "controller",
        (n, ns) => renderControllerProperties(cfg, n, ns, false), [`${name}-install`, ...ctx.memoryChecks]));
    // The first controller starts only once every controller is formatted: a format step that saw a controller answer
    // would take the quorum for a running one.
    const configure = chained(controllers, [...ctx.memoryChecks, ...formats.map((f) => f.name)], (name, dependsOn) => ({
        name: `${name}-controller`, node: name, phase: "controller", dependsOn: [`${name}-install`, `${name}-controller-format`, ...dependsOn],
        generated: true, ...(sec ? { secrets: true as const } : {}),
        create: (ns, secrets, generated) => {
            const n = nodeNamed(ns, name);
            return configureService("kafka-controller", controllerFiles(cfg, n, ns, sec ? secrets : undefined), dist, PATHS.controllerCurrent,
                controllerServiceEnv(n, ns), generated.generations?.[name]);
        },
    }));
    const quorum: Step = {
        name: "cluster-quorum", node: controllers[0], phase: "quorum", dependsOn: controllers.map((n) => `${n}-controller`),
        create: (ns) => hostCommand("check-quorum.sh", {
            ...quorumTools(ns), KAFKA_HOME: PATHS.controllerCurrent, TOOLS_LOG_DIR: PATHS.toolsLogDir,
            RERUN_DIGEST: digest(...controllerNodes(ns).map((n) => renderControllerProperties(cfg, n, ns)), dist),
        }),
    };
    return { steps: [...formats, ...configure, quorum], ready: [configure[configure.length - 1].name], checks: ["cluster-quorum"] };
}

/**
 * The feature levels a release finalizes, named one by one (`kafka-features upgrade --feature ...`): never
 * `--release-version` alone, which since 4.1 also raises kraft.version, irreversibly (KAFKA-21426). From
 * `kafka-features version-mapping` of each release.
 */
export const FEATURE_LEVELS: Record<string, Record<string, number>> = {
    "4.2": { "metadata.version": 29, "transaction.version": 2, "group.version": 1, "eligible.leader.replicas.version": 1, "share.version": 1, "streams.version": 1 },
    "4.3": { "metadata.version": 30, "transaction.version": 2, "group.version": 1, "eligible.leader.replicas.version": 1, "share.version": 1, "streams.version": 1 },
    "4.4": { "metadata.version": 33, "transaction.version": 2, "group.version": 1, "eligible.leader.replicas.version": 1, "share.version": 2, "streams.version": 1 },
};

/**
 * How `kafka-features describe` names each release's metadata.version level (MetadataVersion in each release's
 * kafka-server-common: 29 4.2-IV1, 30 4.3-IV0, 33 4.4-IV2, each the release's LATEST_PRODUCTION).
 */
export const METADATA_VERSION_NAMES: Record<string, string> = { "4.2": "4.2-IV1", "4.3": "4.3-IV0", "4.4": "4.4-IV2" };

/** The entry of a per-release table (keyed by minor line, e.g. "4.3") for `kafkaVersion`. */
function ofRelease<T>(table: Record<string, T>, kafkaVersion: string, what: string): T {
    const entry = table[kafkaVersion.split(".").slice(0, 2).join(".")];
    if (entry === undefined) throw new Error(`no ${what} known for Kafka ${kafkaVersion}`);
    return entry;
}

export const metadataVersionName = (kafkaVersion: string): string => ofRelease(METADATA_VERSION_NAMES, kafkaVersion, "metadata.version name");

export const featureLevels = (kafkaVersion: string): Record<string, number> => ofRelease(FEATURE_LEVELS, kafkaVersion, "feature levels");
