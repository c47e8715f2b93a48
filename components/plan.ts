// The host-agnostic provisioning plan: nodes in, an ordered list of steps out, each a shell command on one host.
// Pure. The structure (names, hosts, dependencies) comes from what the nodes run, so it is known before any EC2
// instance exists; each step's command text comes from the resolved nodes (addresses appear only there). The
// Pulumi layer (provision.ts) turns each step into one remote.Command.
import { ADMIN_USER, ClusterConfig, MAX_HEAP_SHARE, heapMiB } from "./config";
import { b64, hostCommand } from "./host-command";
import { PATHS, PORTS, brokerProtocolMap, internalEndpoint, kafkaSources, replication, secured, zookeeperConnect } from "./layout";
import { ClusterSecrets, REDACTED, renderServerProperties, renderToolsProfile } from "./render";
import { BROKER_ROLE, brokerFiles, olderProtocolVersions } from "./roles/broker";
import { CONTROLLER_ROLE, controllerSteps, featureLevels, formatStep, metadataVersionName } from "./roles/controller";
import { CommandText, Generated, PlanContext, Step, configureService, distOf, digest } from "./roles/context";
import { ZOOKEEPER_ROLE, zookeeperSteps } from "./roles/zookeeper";
import { metricsAgentStep } from "./roles/metrics";
import { MONITORING_STORAGE, monitoringServices, monitoringSteps } from "./roles/monitoring";
import { migrationSteps } from "./roles/migration";
import { ClusterNode, NodeIdentity, brokerNodes, controllerNodes, nodeNamed, zookeeperNodes } from "./topology";

export { CommandText, Generated, Phase, Step } from "./roles/context";
export { brokerFiles } from "./roles/broker";
export { controllerFiles } from "./roles/controller";
export { zookeeperFiles } from "./roles/zookeeper";

/** What a step not marked `secrets` gets instead of the credentials: reading any of them is a bug in the plan. */
export const NO_SECRETS: ClusterSecrets = new Proxy({} as ClusterSecrets, {
    get: (_t, k) => { throw new Error(`a step not marked "secrets" read the credential ${String(k)}`); },
});
/** What a step not marked `generated` gets instead of the generated values. */
export const NO_GENERATED: Generated = new Proxy({} as Generated, {
    get: (_t, k) => { throw new Error(`a step not marked "generated" read ${String(k)}`); },
});
/** What a step marked `generated` gets when none were made (EC2 ZooKeeper mode, or a test without them). */
export const NONE_GENERATED: Generated = Object.freeze({});

/** A step's command text for resolved nodes (and credentials or generated values, for a step marked so). */
export const commandText = (text: CommandText, nodes: ClusterNode[], secrets: ClusterSecrets = NO_SECRETS, generated: Generated = NO_GENERATED): string =>
    (typeof text === "string" ? text : text(nodes, secrets, generated));

/** A step with its command text for one set of resolved nodes. */
export interface RenderedStep extends Omit<Step, "create" | "delete"> {
    create: string;
    delete?: string;
}

export const SMOKE_TOPIC = "_kafka_cluster_smoke";

/** Replication throttle while a scale-out moves partitions onto new brokers (bytes/s per broker): 50 MiB/s. */
export const REBALANCE_THROTTLE_BYTES = 50 * 1024 * 1024;


/** The role modules a node runs: the broker first, then the quorum's member (the order of their heaps, links, dirs). */
function rolesOf(n: NodeIdentity) {
    return [
        ...(n.brokerId !== undefined ? [BROKER_ROLE] : []),
        ...(n.zookeeperId !== undefined ? [ZOOKEEPER_ROLE] : []),
        ...(n.controllerId !== undefined ? [CONTROLLER_ROLE] : []),
    ];
}


function passwordOf(secrets: ClusterSecrets, user: string): string {
    const pw = secrets.userPasswords[user];
    if (pw === undefined) throw new Error(`no password was generated for client user ${user}`);
    return pw;
}

/**
 * The ACLs kafka:acls asks for, one line per ACL: "<user> <TOPIC|GROUP> <name> <LITERAL|PREFIXED> <operation>". A name
 * ending in `*` is a prefix; `*` alone is Kafka's wildcard (a literal `*`).
 */
export function aclLines(cfg: ClusterConfig): string[] {
    const acls = cfg.security.acls ?? {};
    const pattern = (name: string): [string, string] =>
        (name !== "*" && name.endsWith("*") ? [name.slice(0, -1), "PREFIXED"] : [name, "LITERAL"]);
    const lines = Object.entries(acls).flatMap(([user, a]) => [
        ...a.read.flatMap((t) => ["READ", "DESCRIBE"].map((op) => [user, "TOPIC", ...pattern(t), op])),
        ...a.write.flatMap((t) => ["WRITE", "DESCRIBE"].map((op) => [user, "TOPIC", ...pattern(t), op])),
        ...a.groups.map((g) => [user, "GROUP", ...pattern(g), "READ"]),
    ].map((l) => l.join(" ")));
    return [...new Set(lines)].sort();
}

/**
 * The ordered steps for a cluster. `nodes` may carry addresses of any kind (or still unknown ones): the structure
 * reads only names, roles, ids and whether a node has a data volume.
 *
 * Per host: ready -> java -> install (-> storage) -> its services; ready -> memory, where every host's memory check
 * comes before the first service step (so a heap that does not fit restarts nothing). The install steps download and
 * verify a version on every host in parallel. Then the metadata quorum's role (roles/zookeeper.ts: members one after
 * another, the ensemble check; roles/controller.ts: storage formatted, controllers one after another, the quorum check
 * beside the brokers' steps), then the brokers one after another (so a change rolls through them one broker at a time,
 * each waiting for zero under-replicated partitions; secured ZooKeeper mode, after two such chains that switch brokers
 * still running plaintext listeners, and change nothing otherwise), then the broker check, then the smoke test and
 * (KRaft) the feature levels side by side. A service's link to its version switches inside its own configure step,
 * just before its restart, so a service not yet restarted (or restarted by systemd after a crash meanwhile) stays on
 * the old version. In existing-hosts mode every service also gets a `service` step whose delete stops it.
 */
export function planSteps(cfg: ClusterConfig, nodes: ClusterNode<unknown>[]): Step[] {
    const steps: Step[] = [];
    const kraft = cfg.metadata === "kraft";
    const brokers = brokerNodes(nodes).map((n) => n.name);
    const dist = distOf(cfg);
    const sources = kafkaSources(cfg);
    const serviceUser = { SERVICE_USER: PATHS.serviceUser, SERVICE_HOME: PATHS.kafkaData };
    const kafkaTools = { KAFKA_HOME: PATHS.current, TOOLS_LOG_DIR: PATHS.toolsLogDir };
    const internal = (n: ClusterNode) => internalEndpoint(cfg, n);
    const heapOf = { brokerHeap: cfg.brokerHeap, zookeeperHeap: cfg.zookeeperHeap, controllerHeap: cfg.migration ? cfg.migration.controllerHeap : cfg.quorum.heap };

    for (const n of nodes) {
        const roles = rolesOf(n);
        steps.push({
            name: `${n.name}-ready`, node: n.name, phase: "ready", dependsOn: [],
            create: hostCommand("wait-ready.sh", { HOST_KEY_FILE: PATHS.sshHostKey }),
        });
        // Memory for the heaps this host runs, checked on every host before any service anywhere (re)starts. (A host
        // that runs monitoring only has no Kafka heap.)
        const heaps = roles.map((r) => `kafka:${r.heapKey}=${heapMiB(heapOf[r.heapKey])}`);
        if (heaps.length > 0) {
            steps.push({
                name: `${n.name}-memory`, node: n.name, phase: "memory", dependsOn: [`${n.name}-ready`],
                create: hostCommand("check-memory.sh", { NODE_NAME: n.name, HEAPS: heaps.join(" "), MAX_HEAP_PERCENT: String(MAX_HEAP_SHARE * 100) }),
            });
        }
        // A kafka:security change the brokers cannot roll (down the order plaintext, tls, sasl_ssl; any on KRaft), or a
        // kafka:metadata other than the running brokers' mode, is refused before anything restarts.
        if (n.brokerId !== undefined) {
            steps.push({
                name: `${n.name}-listeners`, node: n.name, phase: "listeners", dependsOn: [`${n.name}-ready`],
                create: hostCommand("check-listeners.sh", {
                    NODE_NAME: n.name, SERVER_PROPERTIES: `${PATHS.configDir}/server.properties`,
                    PROTOCOL_MAP: brokerProtocolMap(cfg), SECURITY: cfg.security.mode, ...(kraft || cfg.migration ? { ROLLABLE: "false" } : {}),
                }),
            });
        }
        steps.push({ name: `${n.name}-java`, node: n.name, phase: "java", dependsOn: [`${n.name}-ready`], create: hostCommand("install-java.sh", { NEEDRESTART_CONF: PATHS.needrestartConf }) });
        const dirs = [PATHS.kafkaData, ...roles.flatMap((r) => r.dataDirs)];
        const installDeps = [`${n.name}-java`];
        if (n.dataVolumeId !== undefined) {
            // A broker's volume holds its log dirs; a dedicated ZooKeeper or controller node's its snapshots or metadata
            // log; the monitoring node's (EC2, kafka:monitoring) Prometheus' and Alertmanager's data. SIZE_GB makes the
            // step run again when the volume grows, to grow the filesystem.
            const role = roles[0];
            const ec2 = cfg.mode === "ec2" ? cfg.ec2 : undefined;
            const m = MONITORING_STORAGE;
            const [mountPoint, services, sizeGb, owner] = role === undefined
                ? [m.mountPoint, m.services.join(" "), ec2?.monitoring?.volumeGb, { SERVICE_USER: m.user, SERVICE_HOME: m.mountPoint }]
                : [role === BROKER_ROLE ? PATHS.kafkaData : role === CONTROLLER_ROLE ? PATHS.controllerData : PATHS.zookeeperData, role.service,
                    ec2?.dataVolume?.sizeGb, serviceUser];
            steps.push({
                name: `${n.name}-storage`, node: n.name, phase: "storage", dependsOn: [`${n.name}-ready`],
                create: (ns) => hostCommand("mount-data-volume.sh", {
                    VOLUME_ID: String(nodeNamed(ns, n.name).dataVolumeId), MOUNT_POINT: mountPoint,
                    SERVICES: services, ...(sizeGb !== undefined ? { SIZE_GB: String(sizeGb) } : {}), ...owner,
                }),
            });
            installDeps.push(`${n.name}-storage`);
        }
        // kafka:monitoring: the metrics agent first, so that every configure step (after the install) finds it.
        const agent = roles.length > 0 ? metricsAgentStep(cfg, n.name, [`${n.name}-java`]) : undefined;
        if (agent) {
            steps.push(agent);
            installDeps.push(agent.name);
        }
        // Download and verify only: each service's link switches to the new version in its own configure step.
        steps.push({
            name: `${n.name}-install`, node: n.name, phase: "install", dependsOn: installDeps,
            create: hostCommand("install-kafka.sh", {
                KAFKA_URLS: sources.map((s) => s.tarball).join(" "), KEYS_URLS: sources.map((s) => s.keys).join(" "), KAFKA_DIST: dist, INSTALL_ROOT: PATHS.installRoot,
                // (A monitoring host's tools run from the release itself: it has no service link.)
                SERVICE_LINKS: roles.length > 0 ? roles.map((r) => r.link).join(" ") : PATHS.current, CONFIG_DIR: PATHS.configDir, ...serviceUser, DATA_DIRS: dirs.join(" "),
                TOOLS_PROFILE: PATHS.toolsProfile, TOOLS_PROFILE_B64: b64(renderToolsProfile(kraft || cfg.migration?.target === "finalized")),
            }),
        });
    }

    // The first service step of each kind waits for every host's memory check and every broker's listener check (the
    // others follow it).
    const ctx: PlanContext = {
        cfg, dist, memoryChecks: [...nodes.filter((n) => rolesOf(n).length > 0).map((n) => `${n.name}-memory`), ...brokers.map((n) => `${n}-listeners`)],
    };
    const sec = secured(cfg);
    const clientConfig = { CLIENT_CONFIG: PATHS.adminConfig };
    // (A finalized migration has no ZooKeeper left: its controllers are the migration's.)
    const retired = cfg.migration?.target === "finalized";
    const quorum = kraft
        ? controllerSteps(ctx, controllerNodes(nodes).map((n) => n.name))
        : retired ? { steps: [], ready: [], checks: [] } : zookeeperSteps(ctx, zookeeperNodes(nodes).map((n) => n.name), brokers[0]);
    steps.push(...quorum.steps);
    // kafka:metadata kraft on 3.9: the migration's controllers, gates and broker rolls (roles/migration.ts) after the
    // ensemble, instead of the ZooKeeper-mode broker rolls.
    const migration = cfg.migration ? migrationSteps(ctx, nodes, quorum.ready) : undefined;
    if (migration) steps.push(...migration.steps);

    // ZooKeeper mode: every roll but the last (`protocol`) keeps the inter-broker protocol the cluster ran.
    const pinFrom = olderProtocolVersions(cfg).join(" ");
    type BrokerRoll = "listeners-add" | "listeners-switch" | "broker" | "protocol";
    const transition = (phase: BrokerRoll) => phase === "protocol" ? undefined : phase === "broker" ? (kraft ? undefined : "pin") : phase.slice("listeners-".length);
    const brokerStep = (name: string, phase: BrokerRoll, dependsOn: string[]): Step => ({
        name: `${name}-${phase}`, node: name, phase, dependsOn, generated: true,
        ...(sec ? { secrets: true as const } : {}),
        create: (ns, secrets, generated) => {
            const n = nodeNamed(ns, name);
            const t = transition(phase);
            return configureService("kafka", brokerFiles(cfg, n, ns, sec ? secrets : undefined), dist, PATHS.current, {
                SELF_BOOTSTRAP: internal(n), ...clientConfig, ...kafkaTools,
                ...(t ? { TRANSITION: t } : {}), ...(t && pinFrom ? { IBP_PIN_FROM: pinFrom } : {}),
            }, generated.generations?.[name]);
        },
    });
    // KRaft: each broker's log directory is formatted (only when empty) before its first start, after the controllers'
    // formats (which the first controller waits for; the brokers' run beside the controllers' first starts).
    if (kraft) {
        const controllerFormats = quorum.steps.filter((s) => s.phase === "format").map((s) => s.name);
        for (const name of brokers) {
            steps.push(formatStep(ctx, name, "broker", (n, ns, s) => renderServerProperties(cfg, n, ns, s, false),
                [`${name}-install`, ...ctx.memoryChecks, ...controllerFormats]));
        }
    }
    const first = quorum.ready;
    // Secured ZooKeeper mode: a cluster that runs plaintext listeners switches in three rolls, each one broker at a time:
    // the new listeners next to the old ones (listeners-add), inter-broker traffic onto the new ones (listeners-switch),
    // then the configured files alone (broker), which drops the old listeners. Clients of the old listener keep working
    // until every broker has the new one. On a cluster without old listeners the first two change nothing. (KRaft
    // clusters are built secured and refuse a switch: check-listeners.)
    // ZooKeeper mode, a version change onto a newer minor line: the roll `broker` runs the new binaries with the
    // inter-broker protocol pinned to the one the cluster ran (as do the listener rolls), and the roll `protocol`
    // writes the configured files, which raises it, once every broker runs the new version (Kafka's upgrade notes).
    // Any other change is done by the `broker` roll, and `protocol` finds nothing to change and restarts nothing.
    let previous: string | undefined;
    const chain = (phase: BrokerRoll) => brokers.forEach((name) => {
        const step = brokerStep(name, phase, [`${name}-install`, ...(kraft ? [`${name}-format`] : []), ...first, ...(previous ? [previous] : ctx.memoryChecks)]);
        steps.push(step);
        previous = step.name;
    });
    if (sec && !kraft && !migration) {
        chain("listeners-add");
        chain("listeners-switch");
    }
    if (!migration) chain("broker");
    if (!kraft && !migration) chain("protocol");
    const lastRoll = kraft ? "broker" : "protocol";
    /**
     * Changes whenever any broker's server.properties (its credentials left out), the certificates' generation or the
     * version does, so the checks after the brokers run again.
     */
    const brokerDigest = (ns: ClusterNode[]) => digest(...brokerNodes(ns).map((n) => renderServerProperties(cfg, n, ns, sec ? REDACTED : undefined)),
        dist, String(cfg.security.certificateRotation), ...(cfg.migration ? [cfg.migration.target] : []));
    const { factor, minIsr } = replication(brokers.length);
    steps.push({
        name: "cluster-brokers", node: brokers[0], phase: "brokers",
        dependsOn: [...(migration ? [migration.last, ...migration.checks] : brokerNodes(nodes).map((n) => `${n.name}-${lastRoll}`)), ...quorum.checks],
        create: (ns) => hostCommand("check-brokers.sh", {
            // (In phase C the brokers register with the controllers only.)
            ZK_CONNECT: kraft || migration ? "" : zookeeperConnect(cfg, ns), BROKER_IDS: brokerNodes(ns).map((n) => String(n.brokerId)).join(" "),
            BROKER_ENDPOINTS: brokerNodes(ns).map(internal).join(" "), ...clientConfig, ...kafkaTools, RERUN_DIGEST: brokerDigest(ns),
        }),
    });
    if (kraft || (retired && Number(cfg.kafkaVersion.split(".")[0]) >= 4)) {
        // (And on a migrated cluster once it runs 4.x.)
        // After a version change has rolled through every controller and broker: the new release's feature levels, named
        // one by one (never --release-version alone: it would also raise kraft.version, irreversibly). Beside the smoke
        // test, which needs no particular level.
        const levels = featureLevels(cfg.kafkaVersion);
        steps.push({
            name: "cluster-features", node: brokers[0], phase: "features", dependsOn: ["cluster-brokers"],
            create: (ns) => hostCommand("finalize-features.sh", {
                BOOTSTRAP: brokerNodes(ns).map(internal).join(","), FEATURES: Object.entries(levels).map(([f, l]) => `${f}=${l}`).join(" "),
                METADATA_VERSION_NAME: metadataVersionName(cfg.kafkaVersion),
                ...clientConfig, ...kafkaTools,
            }),
        });
    }
    if (sec && !kraft && !retired) {
        // Znodes created before the brokers logged in to ZooKeeper (a cluster that ran with kafka:security plaintext)
        // get the same ACLs as new ones: Kafka's zookeeper-security-migration, once every broker runs with
        // zookeeper.set.acl. Again whenever kafka:security changes.
        steps.push({
            name: "cluster-zookeeper-acls", node: brokers[0], phase: "zookeeper-acls", dependsOn: ["cluster-brokers"],
            create: (ns) => hostCommand("zookeeper-acls.sh", {
                ZK_CONNECT: zookeeperConnect(cfg, ns), JAAS_FILE: PATHS.kafkaJaas, ...kafkaTools, RERUN_DIGEST: cfg.security.mode,
            }),
        });
    }
    if (cfg.security.mode === "sasl_ssl") {
        // The SCRAM users of kafka:clientUsers and, with kafka:acls, exactly the ACLs it lists: users and ACLs that are no
        // longer listed are removed. Brokers read both from the metadata as they change: nothing restarts.
        steps.push({
            name: "cluster-users", node: brokers[0], phase: "users", dependsOn: ["cluster-brokers"], secrets: true,
            create: (ns, secrets) => hostCommand("client-users.sh", {
                BOOTSTRAP: brokerNodes(ns).map(internal).join(","), ...clientConfig, ADMIN_USER,
                USERS_B64: b64(cfg.security.clientUsers.map((u) => `${u} ${passwordOf(secrets, u)}\n`).join("")),
                ACLS_MANAGED: String(cfg.security.acls !== undefined), ACLS: aclLines(cfg).join("\n"), ...kafkaTools,
            }),
        });
    }
    steps.push({
        name: "cluster-smoke", node: brokers[0], phase: "smoke", dependsOn: ["cluster-brokers"],
        create: (ns) => hostCommand("smoke-test.sh", {
            BOOTSTRAP: brokerNodes(ns).map(internal).join(","), TOPIC: SMOKE_TOPIC, PARTITIONS: String(brokers.length),
            REPLICATION: String(factor), MIN_ISR: String(minIsr), ...clientConfig, ...kafkaTools, RERUN_DIGEST: brokerDigest(ns),
        }),
    });

    // New brokers (a scale-out) take a fair share of the existing partitions, throttled. It runs again only when the
    // set of broker ids (or their addresses) changes.
    steps.push({
        name: "cluster-rebalance", node: brokers[0], phase: "rebalance", dependsOn: ["cluster-smoke"],
        create: (ns) => hostCommand("rebalance.sh", {
            BOOTSTRAP: brokerNodes(ns).map(internal).join(","), BROKER_IDS: brokerNodes(ns).map((n) => String(n.brokerId)).join(" "),
            THROTTLE_BYTES: String(REBALANCE_THROTTLE_BYTES), ...clientConfig, ...kafkaTools,
        }),
    });

    // kafka:monitoring: the node exporters, Prometheus and Alertmanager (roles/monitoring.ts), beside everything else.
    steps.push(...monitoringSteps(cfg, nodes));

    // Existing hosts outlive the stack: `pulumi destroy` (or dropping a host from kafka:hosts) stops and disables
    // their services. EC2 instances are destroyed with the stack, so they need no such step. Every broker's step
    // depends on every quorum member's, so destroy stops all brokers before any ZooKeeper member or controller (a
    // broker needs its quorum for its controlled shutdown).
    if (cfg.mode !== "hosts") return steps;
    // (While migrating, both quorums: ZooKeeper and the controllers beside it; a finalized migration keeps its former
    // ZooKeeper members' service steps, retired, so that no step whose delete stops a service leaves mid-life.)
    const quorumRoles = migration ? [ZOOKEEPER_ROLE, CONTROLLER_ROLE] : kraft ? [CONTROLLER_ROLE] : [ZOOKEEPER_ROLE];
    const membersOf = (role: typeof quorumRoles[number]) =>
        (role === CONTROLLER_ROLE || (retired && role === ZOOKEEPER_ROLE) ? controllerNodes(nodes) : zookeeperNodes(nodes)).map((n) => n.name);
    const quorumServiceSteps = quorumRoles.flatMap((r) => membersOf(r).map((n) => `${n}-${r.service}-service`));
    const teardown = (services: string, wipe: string[]) =>
        hostCommand("teardown.sh", {
            SERVICES: services, WIPE: String(cfg.hosts.wipeOnDestroy), WIPE_PATHS: wipe.join(" "), UNIT_DIR: PATHS.unitDir,
        });
    // Whichever step stops last on a host also removes the shared install and configuration when wiping: the first quorum
    // role's (the host's other steps depend on it). While migrating that is ZooKeeper's, so that the controllers' steps,
    // which a rollback deletes, never remove what the broker needs; once finalized, the controller's, and ZooKeeper's
    // step (kept, no longer deleted by anything but destroy) stops first.
    const shared = [PATHS.configDir, PATHS.installRoot, PATHS.kafkaData];
    for (const n of nodes) {
        const roles = (retired ? [CONTROLLER_ROLE, ZOOKEEPER_ROLE] : quorumRoles).filter((r) => membersOf(r).includes(n.name));
        const runsQuorum = roles.length > 0;
        // While migrating, destroy stops every controller before any ZooKeeper member (a controller in migration mode
        // whose ZooKeeper is gone hangs in its shutdown until systemd kills it): each controller's step depends on every
        // member's.
        const zookeeperServices = migration && !retired ? membersOf(ZOOKEEPER_ROLE).map((m) => `${m}-zookeeper-service`) : [];
        roles.forEach((role, i) => {
            steps.push({
                name: `${n.name}-${role.service}-service`, node: n.name, phase: "service",
                dependsOn: [...new Set([`${n.name}-install`, ...roles.slice(0, i).map((r) => `${n.name}-${r.service}-service`),
                    ...(role === CONTROLLER_ROLE ? zookeeperServices : [])])],
                create: "true", delete: teardown(role.service, [...role.dataDirs, ...(i === 0 ? shared : [])]),
            });
        });
        if (n.brokerId !== undefined) {
            steps.push({
                name: `${n.name}-kafka-service`, node: n.name, phase: "service", dependsOn: [`${n.name}-install`, ...quorumServiceSteps],
                create: "true", delete: teardown("kafka", [...BROKER_ROLE.dataDirs, ...(runsQuorum ? [] : shared)]),
            });
        }
    }
    return steps;
}

/**
 * observe.sh's command line for one node (read-only: its services, its managed files against the sha256 its configure
 * steps recorded when they wrote them, and the facts of each role it was provisioned with). Run at every preview and up
 * (provision.ts).
 */
export function observeCommand(cfg: ClusterConfig, node: NodeIdentity): string {
    return hostCommand("observe.sh", {
        NODE_NAME: node.name, SERVICES: [...rolesOf(node).map((r) => r.service), ...monitoringServices(cfg, node)].join(" "), CONFIG_DIR: PATHS.configDir,
        GENERATION_FILE: PATHS.observedGeneration, BROKER_LINK: PATHS.current, CONTROLLER_LINK: PATHS.controllerCurrent,
        BROKER_META: `${PATHS.kafkaLogDirs}/meta.properties`,
    });
}

/** The plan with every step's command text for resolved nodes (what the tests and local tooling read). */
export function renderPlan(cfg: ClusterConfig, nodes: ClusterNode[], secrets?: ClusterSecrets, generated?: Generated): RenderedStep[] {
    return planSteps(cfg, nodes).map(({ create, delete: del, ...s }) => {
        const given = s.secrets ? secrets ?? NO_SECRETS : NO_SECRETS;
        const gen = s.generated ? generated ?? NONE_GENERATED : NO_GENERATED;
        return { ...s, create: commandText(create, nodes, given, gen), ...(del !== undefined ? { delete: commandText(del, nodes, given, gen) } : {}) };
    });
}

/** Steps grouped into waves: every step's dependencies are in earlier waves. */
export function waves<S extends { name: string; dependsOn: string[] }>(steps: S[]): S[][] {
    const done = new Set<string>();
    const left = [...steps];
    const out: S[][] = [];
    while (left.length > 0) {
        const wave = left.filter((s) => s.dependsOn.every((d) => done.has(d)));
        if (wave.length === 0) throw new Error(`dependency cycle or unknown step among: ${left.map((s) => s.name).join(", ")}`);
        wave.forEach((s) => left.splice(left.indexOf(s), 1));
        wave.forEach((s) => done.add(s.name));
        out.push(wave);
    }
    return out;
}

/**
 * EC2 rolling node change (rollout.ts): roll-gate.sh on the node this `pulumi up` changes, run by the roll-gate step
 * before its instance changes (`before`: the cluster healthy but for the node; with `stop`, its services stopped
 * because the instance is replaced) and by the roll-settled step after everything else (`after`: the node back, no
 * partition under-replicated). `nodes`: the cluster's nodes that have an instance (a node not created yet is no member).
 */
export function rollGateCommand(cfg: ClusterConfig, node: ClusterNode, nodes: ClusterNode[], phase: "before" | "after", stop: boolean): string {
    const zkClient = (n: ClusterNode) => `${n.privateAddress}:${PORTS.zookeeperClient}`;
    const isBroker = node.brokerId !== undefined;
    // A node that runs no Kafka service (the monitoring node) takes nothing from the cluster when it changes: its gates
    // check nothing there (it has no Kafka tools of its own, nor a way through the security group to ZooKeeper).
    const kafkaNode = rolesOf(node).length > 0;
    return hostCommand("roll-gate.sh", {
        PHASE: phase, STOP: String(stop),
        BROKER_ID: isBroker ? String(node.brokerId) : "",
        SELF_BOOTSTRAP: isBroker ? internalEndpoint(cfg, node) : "",
        BOOTSTRAP: kafkaNode ? brokerNodes(nodes).map((n) => internalEndpoint(cfg, n)).join(",") : "",
        ZK_SELF: node.zookeeperId !== undefined ? zkClient(node) : "",
        ZK_MEMBERS: kafkaNode ? zookeeperNodes(nodes).map(zkClient).join(" ") : "",
        CLIENT_CONFIG: PATHS.adminConfig, KAFKA_HOME: PATHS.current, TOOLS_LOG_DIR: PATHS.toolsLogDir,
    });
}
