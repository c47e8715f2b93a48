// The ZooKeeper -> KRaft migration's steps (KIP-866; a stack with kafka:metadata kraft on Kafka 3.9, cfg.migration),
// as docs/zk-migration-lab.md ran them by hand on this project's lab hosts. What runs is decided from what the hosts
// report (components/migration.ts decides, KafkaCluster admits; the observed broker modes reach the steps as generated
// values), so an interrupted `pulumi up` carries on from where the hosts are:
//   A  a KRaft controller beside each ZooKeeper member, formatted with the running cluster's id and the static quorum
//      (controller.quorum.voters), in migration mode (ZooKeeper with the brokers' login, the ZooKeeper-mode brokers
//      reached on their inter-broker listener as the admin); started one after another, then the quorum check and the
//      gate `migration-ready` (/migration created: the controllers wait for the brokers);
//   B  the brokers rolled one at a time (the usual under-replicated gates) with the migration flag and the quorum (roll
//      `migrating`; a broker that runs in KRaft mode already is left alone), then the gate `migration-copied`
//      (/migration's kraft_metadata_offset >= 0: the metadata was copied, and every change is written to both);
//   C  the brokers rolled one at a time into KRaft mode (roll `kraft`: process.roles=broker, no zookeeper.connect, the
//      static quorum, the StandardAuthorizer with the per-node certificate principals the ZooKeeper-mode certificates
//      carry). The controllers keep writing to ZooKeeper: a rollback is still possible from here.
//   D  (kafka:zookeeperRetired, target `finalized`) the controllers rolled one at a time out of migration mode (the first
//      leader without the flag finalizes: from its restart on there is no way back); the ZooKeeper members are no longer
//      nodes of the plan, so Pulumi deletes their steps after everything else and their service steps' delete stops and
//      disables ZooKeeper (and wipes its data with kafka:wipeOnDestroy). The brokers' phase C files stay as they are.
// Every role module's rule holds: a step whose rendered files are what the host runs restarts nothing.
import { ClusterConfig } from "../config";
import { ManagedFile, b64, hostCommand } from "../host-command";
import { PATHS, PORTS, controllerQuorum, internalEndpoint, kafkaTarballName, migrationPrincipals, secured, zookeeperConnect } from "../layout";
import {
    ClusterSecrets, QuorumRender, REDACTED, renderControllerClientProperties, renderControllerProperties, renderControllerUnit, renderEnvFile,
    renderKafkaJaas, renderServerProperties,
} from "../render";
import { ClusterNode, NodeIdentity, brokerNodes, controllerNodes, nodeNamed } from "../topology";
import { brokerFiles } from "./broker";
import { PlanContext, Step, chained, configureService, digest, jmxFiles, keystoreOf, need } from "./context";
import { metricsAgentOption, metricsFiles } from "./metrics";

/** The configuration as the KRaft side of a migration renders it. */
const kraftView = (cfg: ClusterConfig): ClusterConfig => ({ ...cfg, metadata: "kraft" });

function migrationHeap(cfg: ClusterConfig): string {
    if (!cfg.migration) throw new Error("not a stack that migrates to KRaft");
    return cfg.migration.controllerHeap;
}

/** Finalized (kafka:zookeeperRetired): the controllers run without ZooKeeper. */
const finalized = (cfg: ClusterConfig) => cfg.migration?.target === "finalized";

/**
 * A migration controller's properties: migration mode (phases A to C) or not (finalized), always the static quorum and
 * the per-node principals.
 */
function controllerProperties(cfg: ClusterConfig, node: ClusterNode, nodes: ClusterNode[], secrets: ClusterSecrets | undefined, withTuning = true): string {
    const principals = migrationPrincipals(cfg, nodes);
    return renderControllerProperties(kraftView(cfg), node, nodes, withTuning,
        finalized(cfg) ? { voters: true, principals } : { migration: { secrets }, principals });
}

/** Everything a migration controller's configure step writes, in order. */
export function migrationControllerFiles(cfg: ClusterConfig, node: ClusterNode, nodes: ClusterNode[], secrets?: ClusterSecrets): ManagedFile[] {
    const group = `root:${PATHS.serviceUser}`;
    const sec = secured(cfg);
    // Until finalized, the controller logs in to ZooKeeper as the brokers do (their JAAS `Client` section; a dedicated
    // ZooKeeper node has no broker step that writes it).
    const zkLogin = sec && !finalized(cfg);
    const tls: ManagedFile[] = sec ? [
        [PATHS.caCertificate, "0644", "root:root", need(secrets).caCertificate],
        [PATHS.brokerKeystore, "0640", group, keystoreOf(need(secrets), node.name)],
        ...(zkLogin ? [[PATHS.kafkaJaas, "0640", group, renderKafkaJaas(need(secrets))] as ManagedFile] : []),
    ] : [];
    const jmx = cfg.jmx ? { address: node.privateAddress, port: PORTS.controllerJmx } : undefined;
    return [
        ...tls,
        ...jmxFiles(cfg, secrets),
        ...metricsFiles(cfg, "kafka-controller"),
        [PATHS.controllerClientConfig, "0600", "root:root", renderControllerClientProperties(cfg)],
        [`${PATHS.configDir}/controller.properties`, "0640", group, controllerProperties(cfg, node, nodes, secrets)],
        [`${PATHS.configDir}/kafka-controller.env`, "0640", group, renderEnvFile(migrationHeap(cfg), PATHS.controllerLogs, zkLogin ? PATHS.kafkaJaas : undefined, jmx,
            metricsAgentOption(cfg, node, "kafka-controller"), cfg.jvmPerformanceOptions)],
        [`${PATHS.configDir}/kafka-controller.version`, "0644", "root:root", `${kafkaTarballName(cfg)}\n`],
        [`${PATHS.unitDir}/kafka-controller.service`, "0644", "root:root", renderControllerUnit()],
    ];
}

/** How a broker's files name the metadata quorum in phase B (`migrating`: ZooKeeper mode plus the quorum) or C (`kraft`). */
function brokerPhase(cfg: ClusterConfig, phase: "migrating" | "kraft", nodes: NodeIdentity[]): [ClusterConfig, QuorumRender] {
    return phase === "migrating" ? [cfg, { migrating: true }] : [kraftView(cfg), { voters: true, principals: migrationPrincipals(cfg, nodes) }];
}

/** A broker's files in phase B or C. */
export function migrationBrokerFiles(cfg: ClusterConfig, phase: "migrating" | "kraft", node: ClusterNode, nodes: ClusterNode[], secrets?: ClusterSecrets): ManagedFile[] {
    const [view, quorum] = brokerPhase(cfg, phase, nodes);
    return brokerFiles(view, node, nodes, secrets, quorum);
}

/** Every broker's server.properties in a phase, its credentials left out (what the gates' digests cover). */
const brokerDigest = (cfg: ClusterConfig, phase: "migrating" | "kraft", ns: ClusterNode[]) => {
    const [view, quorum] = brokerPhase(cfg, phase, ns);
    return digest(...brokerNodes(ns).map((n) => renderServerProperties(view, n, ns, secured(cfg) ? REDACTED : undefined, true, quorum)));
};

/**
 * The migration's steps after the ZooKeeper ensemble's (`after`): phase A's controllers, B's and C's broker rolls and
 * their gates. Returns the steps, the last broker step (what the cluster checks wait for) and the quorum check.
 */
export function migrationSteps(ctx: PlanContext, nodes: NodeIdentity[], after: string[]): { steps: Step[]; last: string; checks: string[] } {
    const { cfg, dist } = ctx;
    const sec = secured(cfg);
    const controllers = controllerNodes(nodes).map((n) => n.name);
    const brokers = brokerNodes(nodes).map((n) => n.name);
    const tools = { KAFKA_HOME: `${PATHS.installRoot}/${dist}`, TOOLS_LOG_DIR: PATHS.toolsLogDir };
    const secrets = (s: ClusterSecrets) => (sec ? s : undefined);

    // A: formatted (only when empty) with the running cluster's id and the static quorum; no SCRAM bootstrap (the
    // migration copies the credentials from ZooKeeper).
    const formats: Step[] = controllers.map((name) => ({
        name: `${name}-controller-format`, node: name, phase: "format", dependsOn: [`${name}-install`, ...ctx.memoryChecks, ...after],
        generated: true, ...(sec ? { secrets: true as const } : {}),
        create: (ns, s, generated) => {
            if (generated.clusterId === undefined) throw new Error("a migration controller's format step needs the running cluster's id");
            return hostCommand("format-storage.sh", {
                ROLE: "controller", DATA_DIR: PATHS.controllerLogDir, CLUSTER_ID: generated.clusterId,
                PROPERTIES_B64: b64(controllerProperties(cfg, nodeNamed(ns, name), ns, secrets(s), false)), ...tools,
                SERVICE_USER: PATHS.serviceUser, STATIC_QUORUM: "true", INITIAL_MARKER: PATHS.controllerInitialMarker,
            });
        },
    }));
    const configure = chained(controllers, [...ctx.memoryChecks, ...after, ...formats.map((f) => f.name)], (name, dependsOn) => ({
        name: `${name}-controller`, node: name, phase: "controller", dependsOn: [`${name}-install`, `${name}-controller-format`, ...dependsOn],
        generated: true, ...(sec ? { secrets: true as const } : {}),
        create: (ns, s, generated) => {
            const n = nodeNamed(ns, name);
            return configureService("kafka-controller", migrationControllerFiles(cfg, n, ns, secrets(s)), dist, PATHS.controllerCurrent, {
                SELF_ADDRESS: n.privateAddress, CONTROLLER_PORT: String(PORTS.controller), NODE_ID: String(n.controllerId),
                QUORUM_BOOTSTRAP: controllerQuorum(ns), QUORUM_CONFIG: PATHS.controllerClientConfig,
                CONTROLLER_CONFIG: `${PATHS.configDir}/controller.properties`, METADATA_DIR: PATHS.controllerLogDir, JOIN_MARKER: PATHS.controllerJoinMarker,
                INITIAL_MARKER: PATHS.controllerInitialMarker, STATIC_QUORUM: "true", KAFKA_HOME: PATHS.controllerCurrent, TOOLS_LOG_DIR: PATHS.toolsLogDir,
            }, generated.generations?.[name]);
        },
    }));
    const controllerDigest = (ns: ClusterNode[]) => digest(...controllerNodes(ns).map((n) => controllerProperties(cfg, n, ns, sec ? REDACTED : undefined)), dist);
    const quorum: Step = {
        name: "cluster-quorum", node: controllers[0], phase: "quorum", dependsOn: configure.map((c) => c.name),
        create: (ns) => hostCommand("check-quorum.sh", {
            QUORUM_BOOTSTRAP: controllerQuorum(ns), QUORUM_CONFIG: PATHS.controllerClientConfig,
            QUORUM_IDS: controllerNodes(ns).map((n) => String(n.controllerId)).join(" "),
            KAFKA_HOME: PATHS.controllerCurrent, TOOLS_LOG_DIR: PATHS.toolsLogDir, RERUN_DIGEST: controllerDigest(ns),
        }),
    };
    // One broker's roll in phase B or C, after `after`.
    const brokerStep = (name: string, phase: "migrating" | "kraft", after: string): Step => ({
        name: `${name}-${phase}`, node: name, phase, dependsOn: [`${name}-install`, ...ctx.memoryChecks, after], generated: true,
        ...(sec ? { secrets: true as const } : {}),
        create: (ns, s, generated) => {
            // A broker in KRaft mode already (an interrupted update, or a later one) never goes back to phase B here.
            if (phase === "migrating" && generated.brokerModes?.[name] === "kraft") {
                return hostCommand("phase-done.sh", { NOTE: `${name}: the broker runs in KRaft mode (phase C) already; nothing to do in phase B` });
            }
            const n = nodeNamed(ns, name);
            return configureService("kafka", migrationBrokerFiles(cfg, phase, n, ns, secrets(s)), dist, PATHS.current, {
                SELF_BOOTSTRAP: internalEndpoint(cfg, n), CLIENT_CONFIG: PATHS.adminConfig, KAFKA_HOME: PATHS.current, TOOLS_LOG_DIR: PATHS.toolsLogDir,
            }, generated.generations?.[name]);
        },
    });
    const gate = (phase: "migration-ready" | "migration-copied", dependsOn: string[], rerun: (ns: ClusterNode[]) => string): Step => ({
        name: `cluster-${phase}`, node: controllers[0], phase, dependsOn,
        create: (ns) => hostCommand("migration-gate.sh", {
            AWAIT: phase === "migration-ready" ? "created" : "copied", ZK_CONNECT: zookeeperConnect(cfg, ns), ...tools, RERUN_DIGEST: rerun(ns),
        }),
    });
    if (finalized(cfg)) {
        // D: the controllers' roll above; the brokers keep their phase C files (a change of them rolls here).
        let after = quorum.name;
        const kraft = brokers.map((name): Step => {
            const step = brokerStep(name, "kraft", after);
            after = step.name;
            return step;
        });
        return { steps: [...formats, ...configure, quorum, ...kraft], last: after, checks: [quorum.name] };
    }
    const ready = gate("migration-ready", [quorum.name], controllerDigest);

    // B, then C: one broker at a time, each restart between the under-replicated gates of configure-service.sh.
    let previous = ready.name;
    const chain = (phase: "migrating" | "kraft") => brokers.map((name): Step => {
        const step = brokerStep(name, phase, previous);
        previous = step.name;
        return step;
    });
    const migrating = chain("migrating");
    const copied = gate("migration-copied", [previous], (ns) => brokerDigest(cfg, "migrating", ns));
    previous = copied.name;
    const kraft = chain("kraft");
    return { steps: [...formats, ...configure, quorum, ready, ...migrating, copied, ...kraft], last: previous, checks: [quorum.name] };
}
