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
//      leader without the flag finalizes: from its restart on there is no way back), then ZooKeeper stopped and disabled
//      on each former member (`zookeeper-retire`; its data stays until a destroy with kafka:wipeOnDestroy). The brokers'
//      phase C files stay as they are.
// Every role module's rule holds: a step whose rendered files are what the host runs restarts nothing.
import { ClusterConfig } from "../config";
import { ManagedFile, b64, hostCommand } from "../host-command";
import { PATHS, controllerQuorum, internalEndpoint, kafkaTarballName, migrationPrincipals, secured, zookeeperConnect } from "../layout";
import { ClusterSecrets, QuorumRender, REDACTED, renderControllerProperties, renderServerProperties } from "../render";
import { ClusterNode, NodeIdentity, brokerNodes, controllerNodes, nodeNamed } from "../topology";
import { MigrationDecision, NodeReport } from "../migration";
import { brokerFiles } from "./broker";
import { controllerFiles, controllerServiceEnv } from "./controller";
import { PlanContext, Step, chained, configureService, digest } from "./context";

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

/** Everything a migration controller's configure step writes, in order (roles/controller.ts with the migration's files). */
export function migrationControllerFiles(cfg: ClusterConfig, node: ClusterNode, nodes: ClusterNode[], secrets?: ClusterSecrets): ManagedFile[] {
    // Until finalized, the controller logs in to ZooKeeper as the brokers do (their JAAS `Client` section; a dedicated
    // ZooKeeper node has no broker step that writes it).
    return controllerFiles(cfg, node, nodes, secrets, {
        properties: controllerProperties(cfg, node, nodes, secrets), heap: migrationHeap(cfg), zookeeperLogin: !finalized(cfg),
    });
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
            return configureService("kafka-controller", migrationControllerFiles(cfg, n, ns, secrets(s)), dist, PATHS.controllerCurrent,
                controllerServiceEnv(n, ns, true), generated.generations?.[name]);
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
        // D: the controllers' roll above, then ZooKeeper stopped and disabled on its former members (its data and files
        // stay; kafka:wipeOnDestroy removes them at destroy). The brokers keep their phase C files (a change rolls here).
        const retire = controllers.map((name): Step => ({
            name: `${name}-zookeeper-retire`, node: name, phase: "retire", dependsOn: [quorum.name],
            create: hostCommand("teardown.sh", { SERVICES: "zookeeper", WIPE: "false", UNIT_DIR: PATHS.unitDir }),
        }));
        let after = quorum.name;
        const kraft = brokers.map((name): Step => {
            const step = brokerStep(name, "kraft", after);
            after = step.name;
            return step;
        });
        return { steps: [...formats, ...configure, quorum, ...retire, ...kraft], last: after, checks: [quorum.name, ...retire.map((r) => r.name)] };
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

/**
 * Kafka's rollback of a migration not yet finalized (a stack back on kafka:metadata zookeeper while the hosts run a
 * migration's controllers), as the decision says (components/migration.ts) and the hosts report: the brokers in KRaft
 * mode back into phase B one at a time (the migration flag kept, the controllers' quorum from what the hosts report),
 * then every controller stopped, disabled and its metadata log removed (in parallel), then /controller and /migration
 * deleted at once. The ZooKeeper-mode plan's own broker roll then writes the plain files (the migration settings go).
 * These steps exist only for the update that needs them (KafkaCluster registers them from the verdict); every step of
 * the plan waits for them.
 */
export function rollbackSteps(cfg: ClusterConfig, decision: Pick<MigrationDecision, "actions">, reports: NodeReport[]): Step[] {
    const { actions } = decision;
    const dist = kafkaTarballName(cfg).replace(/\.tgz$/, "");
    const sec = secured(cfg);
    const controllers = Object.fromEntries(reports.flatMap((r) => (r.controller ? [[r.node, r.controller.id] as const] : [])));
    const withControllers = (ns: ClusterNode[]) => ns.map((n) => (controllers[n.name] !== undefined ? { ...n, controllerId: controllers[n.name] } : n));
    const steps: Step[] = [];
    let previous: string[] = [];
    if (actions.includes("roll-brokers-zookeeper")) {
        for (const r of reports.filter((x) => x.broker?.mode === "kraft")) {
            const name = `${r.node}-rollback-migrating`;
            steps.push({
                name, node: r.node, phase: "rollback", dependsOn: previous, ...(sec ? { secrets: true as const } : {}),
                create: (ns, s) => {
                    const all = withControllers(ns);
                    const n = nodeNamed(all, r.node);
                    return configureService("kafka", brokerFiles(cfg, n, all, sec ? s : undefined, { migrating: true }), dist, PATHS.current, {
                        SELF_BOOTSTRAP: internalEndpoint(cfg, n), CLIENT_CONFIG: PATHS.adminConfig, KAFKA_HOME: PATHS.current, TOOLS_LOG_DIR: PATHS.toolsLogDir,
                    });
                },
            });
            previous = [name];
        }
    }
    if (actions.includes("remove-controllers")) {
        const removed = Object.keys(controllers).map((node): Step => ({
            name: `${node}-rollback-controller`, node, phase: "rollback", dependsOn: previous,
            create: hostCommand("remove-controller.sh", {
                CONTROLLER_CONFIG: `${PATHS.configDir}/controller.properties`, METADATA_DIR: PATHS.controllerLogDir, CONFIG_DIR: PATHS.configDir,
                MARKERS: [PATHS.controllerInitialMarker, PATHS.controllerJoinMarker].join(" "),
            }),
        }));
        steps.push(...removed);
        if (removed.length > 0) previous = removed.map((s) => s.name);
    }
    const znodes = [...(actions.includes("delete-controller-znode") ? ["/controller"] : []),
        ...(actions.includes("delete-migration-znode") || actions.includes("remove-controllers") ? ["/migration"] : [])];
    const on = reports.find((r) => r.broker !== undefined)?.node;
    if (znodes.length > 0 && on !== undefined) {
        steps.push({
            name: "cluster-rollback-znodes", node: on, phase: "rollback", dependsOn: previous,
            create: (ns) => hostCommand("migration-znodes.sh", {
                ZK_CONNECT: zookeeperConnect(cfg, ns), ZNODES: znodes.join(" "), KAFKA_HOME: PATHS.current, TOOLS_LOG_DIR: PATHS.toolsLogDir,
                CONTROLLER_IDS: Object.values(controllers).join(" "), ...(sec ? { JAAS_FILE: PATHS.kafkaJaas } : {}),
            }),
        });
    }
    return steps;
}
