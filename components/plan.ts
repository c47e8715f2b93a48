// The host-agnostic provisioning plan: nodes in, an ordered list of steps out, each a shell command on one host.
// Pure. The structure (names, hosts, dependencies) comes from what the nodes run, so it is known before any EC2
// instance exists; each step's command text comes from the resolved nodes (addresses appear only there). The
// Pulumi layer (provision.ts) turns each step into one remote.Command.
import * as crypto from "crypto";
import { ADMIN_USER, ClusterConfig, MAX_HEAP_SHARE, heapMiB } from "./config";
import { ManagedFile, b64, hostCommand, manifest } from "./host-command";
import { PATHS, PORTS, ZOOKEEPER_SASL_USER, internalEndpoint, protocolMap, kafkaSources, kafkaTarballName, replication, secured, zookeeperConnect } from "./layout";
import {
    ClusterSecrets, renderClientProperties, renderEnvFile, renderJmxFiles, renderKafkaJaas, renderKafkaUnit, renderMyid, renderServerProperties, renderToolsProfile,
    renderZookeeperJaas, renderZookeeperProperties, renderZookeeperUnit,
} from "./render";
import { ClusterNode, brokerNodes, nodeNamed, zookeeperNodes } from "./topology";

export type Phase = "ready" | "memory" | "listeners" | "java" | "install" | "storage" | "zookeeper" | "ensemble" | "admin" |
    "listeners-add" | "listeners-switch" | "broker" | "brokers" |
    "zookeeper-acls" | "users" | "smoke" | "rebalance" | "service";

/**
 * Command text for a step: fixed, or made from every node's resolved addresses and, for steps marked `secrets`, the
 * cluster's generated credentials. (Fixed text does not wait for any address, so on EC2 a node's first commands start
 * as soon as its own instance is up.)
 */
export type CommandText = string | ((nodes: ClusterNode[], secrets: ClusterSecrets) => string);

/** What a step not marked `secrets` gets instead of the credentials: reading any of them is a bug in the plan. */
export const NO_SECRETS: ClusterSecrets = new Proxy({} as ClusterSecrets, {
    get: (_t, k) => { throw new Error(`a step not marked "secrets" read the credential ${String(k)}`); },
});

/** A step's command text for resolved nodes (and credentials, for a step marked `secrets`). */
export const commandText = (text: CommandText, nodes: ClusterNode[], secrets: ClusterSecrets = NO_SECRETS): string =>
    (typeof text === "string" ? text : text(nodes, secrets));

export interface Step {
    /** Unique, stable resource name: "<node>-<phase>" or "cluster-<phase>". */
    name: string;
    /** Node the command runs on. */
    node: string;
    phase: Phase;
    /** Names of steps that must finish first. */
    dependsOn: string[];
    /** Shell command line, run by the SSH user's login shell (it calls sudo itself). */
    create: CommandText;
    /** Shell command line to run on the host on `pulumi destroy` (service steps only). */
    delete?: CommandText;
    /** The command text carries generated credentials (keys, passwords): it gets them, and it is a Pulumi secret. */
    secrets?: true;
}

/** A step with its command text for one set of resolved nodes. */
export interface RenderedStep extends Omit<Step, "create" | "delete"> {
    create: string;
    delete?: string;
}

export const SMOKE_TOPIC = "_kafka_cluster_smoke";

/** Replication throttle while a scale-out moves partitions onto new brokers (bytes/s per broker): 50 MiB/s. */
export const REBALANCE_THROTTLE_BYTES = 50 * 1024 * 1024;

const digest = (...parts: string[]) => crypto.createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 16);

/** kafka:jmx: the JMX connector's password file (0600, the service user's: the JVM refuses any other) and role file. */
function jmxFiles(cfg: ClusterConfig, secrets: ClusterSecrets | undefined): ManagedFile[] {
    if (!cfg.jmx) return [];
    const { password, access } = renderJmxFiles(need(secrets));
    return [[PATHS.jmxPassword, "0600", `${PATHS.serviceUser}:${PATHS.serviceUser}`, password], [PATHS.jmxAccess, "0644", "root:root", access]];
}

/** Everything a ZooKeeper member's configure step writes, in order. */
export function zookeeperFiles(cfg: ClusterConfig, node: ClusterNode, nodes: ClusterNode[], secrets?: ClusterSecrets): ManagedFile[] {
    const group = `root:${PATHS.serviceUser}`;
    const jaas = secured(cfg) ? PATHS.zookeeperJaas : undefined;
    const jmx = cfg.jmx ? { address: node.privateAddress, port: PORTS.zookeeperJmx } : undefined;
    return [
        [`${PATHS.configDir}/zookeeper.properties`, "0640", group, renderZookeeperProperties(nodes, cfg)],
        [`${PATHS.zookeeperData}/myid`, "0644", `${PATHS.serviceUser}:${PATHS.serviceUser}`, renderMyid(node)],
        ...(jaas ? [[jaas, "0640", group, renderZookeeperJaas(need(secrets))] as ManagedFile] : []),
        ...jmxFiles(cfg, secrets),
        [`${PATHS.configDir}/zookeeper.env`, "0640", group, renderEnvFile(cfg.zookeeperHeap, PATHS.zookeeperLogs, jaas, jmx)],
        [`${PATHS.configDir}/zookeeper.version`, "0644", "root:root", `${kafkaTarballName(cfg)}\n`],
        [`${PATHS.unitDir}/zookeeper.service`, "0644", "root:root", renderZookeeperUnit()],
    ];
}

/** Everything a broker's configure step writes, in order. */
export function brokerFiles(cfg: ClusterConfig, node: ClusterNode, nodes: ClusterNode[], secrets?: ClusterSecrets): ManagedFile[] {
    const group = `root:${PATHS.serviceUser}`;
    const jaas = secured(cfg) ? PATHS.kafkaJaas : undefined;
    const tls: ManagedFile[] = secured(cfg) ? [
        [PATHS.caCertificate, "0644", "root:root", need(secrets).caCertificate],
        [PATHS.brokerKeystore, "0640", group, keystoreOf(need(secrets), node.name)],
        [PATHS.kafkaJaas, "0640", group, renderKafkaJaas(need(secrets))],
    ] : [];
    const admin = cfg.security.mode === "sasl_ssl" ? { user: ADMIN_USER, password: need(secrets).adminPassword } : undefined;
    const jmx = cfg.jmx ? { address: node.privateAddress, port: PORTS.brokerJmx } : undefined;
    return [
        ...tls,
        ...jmxFiles(cfg, secrets),
        // The checks this program runs on the broker log in with this (root only).
        [PATHS.adminConfig, "0600", "root:root", renderClientProperties(cfg, admin)],
        [`${PATHS.configDir}/server.properties`, "0640", group, renderServerProperties(cfg, node, nodes, secrets)],
        [`${PATHS.configDir}/kafka.env`, "0640", group, renderEnvFile(cfg.brokerHeap, PATHS.kafkaLogs, jaas, jmx)],
        [`${PATHS.configDir}/kafka.version`, "0644", "root:root", `${kafkaTarballName(cfg)}\n`],
        [`${PATHS.unitDir}/kafka.service`, "0644", "root:root", renderKafkaUnit()],
    ];
}

/** Stand-ins for the credentials where a digest covers a rendered file (the digest must not depend on a secret). */
const REDACTED: ClusterSecrets = { caCertificate: "", keystores: {}, adminPassword: "<redacted>", zookeeperPassword: "<redacted>", userPasswords: {} };

function passwordOf(secrets: ClusterSecrets, user: string): string {
    const pw = secrets.userPasswords[user];
    if (pw === undefined) throw new Error(`no password was generated for client user ${user}`);
    return pw;
}

function need(secrets: ClusterSecrets | undefined): ClusterSecrets {
    if (!secrets) throw new Error("a secured cluster's configure steps need its generated credentials");
    return secrets;
}

function keystoreOf(secrets: ClusterSecrets, node: string): string {
    const pem = secrets.keystores[node];
    if (pem === undefined) throw new Error(`no certificate was issued for broker ${node}`);
    return pem;
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
 * Per host: ready -> java -> install (-> storage) -> zookeeper / broker; ready -> memory, where every host's memory
 * check comes before the first ZooKeeper and the first broker step (so a heap that does not fit restarts nothing). The install steps download and verify a
 * version on every host in parallel; ZooKeeper members are configured one after another, then the ensemble check;
 * brokers follow the ensemble check, one after another (so a change rolls through them one broker at a time, each
 * waiting for zero under-replicated partitions; secured, after two such chains that switch brokers still running
 * plaintext listeners, and change nothing otherwise), then the broker check and the smoke test. A service's link to its
 * version switches inside its own configure step, just before its restart, so a service not yet restarted (or
 * restarted by systemd after a crash meanwhile) stays on the old version. In existing-hosts mode every service also
 * gets a `service` step whose delete stops it.
 */
export function planSteps(cfg: ClusterConfig, nodes: ClusterNode<unknown>[]): Step[] {
    const steps: Step[] = [];
    const zks = zookeeperNodes(nodes).map((n) => n.name);
    const brokers = brokerNodes(nodes).map((n) => n.name);
    const dist = kafkaTarballName(cfg).replace(/\.tgz$/, "");
    const sources = kafkaSources(cfg);
    const serviceUser = { SERVICE_USER: PATHS.serviceUser, SERVICE_HOME: PATHS.kafkaData };
    const kafkaTools = { KAFKA_HOME: PATHS.current, TOOLS_LOG_DIR: PATHS.toolsLogDir };
    const internal = (n: ClusterNode) => internalEndpoint(cfg, n);

    for (const n of nodes) {
        steps.push({
            name: `${n.name}-ready`, node: n.name, phase: "ready", dependsOn: [],
            create: hostCommand("wait-ready.sh", { HOST_KEY_FILE: PATHS.sshHostKey }),
        });
        // Memory for the heaps this host runs, checked on every host before any service anywhere (re)starts.
        const heaps = [...(n.brokerId !== undefined ? [`kafka:brokerHeap=${heapMiB(cfg.brokerHeap)}`] : []),
            ...(n.zookeeperId !== undefined ? [`kafka:zookeeperHeap=${heapMiB(cfg.zookeeperHeap)}`] : [])];
        steps.push({
            name: `${n.name}-memory`, node: n.name, phase: "memory", dependsOn: [`${n.name}-ready`],
            create: hostCommand("check-memory.sh", { NODE_NAME: n.name, HEAPS: heaps.join(" "), MAX_HEAP_PERCENT: String(MAX_HEAP_SHARE * 100) }),
        });
        // A kafka:security change the brokers cannot roll (down the order plaintext, tls, sasl_ssl) is refused before
        // anything restarts.
        if (n.brokerId !== undefined) {
            steps.push({
                name: `${n.name}-listeners`, node: n.name, phase: "listeners", dependsOn: [`${n.name}-ready`],
                create: hostCommand("check-listeners.sh", {
                    NODE_NAME: n.name, SERVER_PROPERTIES: `${PATHS.configDir}/server.properties`,
                    PROTOCOL_MAP: protocolMap(cfg), SECURITY: cfg.security.mode,
                }),
            });
        }
        steps.push({ name: `${n.name}-java`, node: n.name, phase: "java", dependsOn: [`${n.name}-ready`], create: hostCommand("install-java.sh", { NEEDRESTART_CONF: PATHS.needrestartConf }) });
        const dirs = [PATHS.kafkaData, ...(n.brokerId !== undefined ? [PATHS.kafkaLogDirs, PATHS.kafkaLogs] : []),
            ...(n.zookeeperId !== undefined ? [PATHS.zookeeperData, PATHS.zookeeperLogs] : [])];
        const installDeps = [`${n.name}-java`];
        if (n.dataVolumeId !== undefined) {
            // A broker's volume holds its log dirs; a dedicated ZooKeeper node's holds its snapshots and logs. SIZE_GB
            // makes the step run again when the volume grows, to grow the filesystem.
            const broker = n.brokerId !== undefined;
            const sizeGb = cfg.mode === "ec2" && cfg.ec2.dataVolume ? String(cfg.ec2.dataVolume.sizeGb) : "";
            steps.push({
                name: `${n.name}-storage`, node: n.name, phase: "storage", dependsOn: [`${n.name}-ready`],
                create: (ns) => hostCommand("mount-data-volume.sh", {
                    VOLUME_ID: String(nodeNamed(ns, n.name).dataVolumeId), MOUNT_POINT: broker ? PATHS.kafkaData : PATHS.zookeeperData,
                    SERVICES: broker ? "kafka" : "zookeeper", ...(sizeGb ? { SIZE_GB: sizeGb } : {}), ...serviceUser,
                }),
            });
            installDeps.push(`${n.name}-storage`);
        }
        // Download and verify only: each service's link switches to the new version in its own configure step.
        const links = [...(n.brokerId !== undefined ? [PATHS.current] : []), ...(n.zookeeperId !== undefined ? [PATHS.zookeeperCurrent] : [])];
        steps.push({
            name: `${n.name}-install`, node: n.name, phase: "install", dependsOn: installDeps,
            create: hostCommand("install-kafka.sh", {
                KAFKA_URLS: sources.map((s) => s.tarball).join(" "), KEYS_URLS: sources.map((s) => s.keys).join(" "), KAFKA_DIST: dist, INSTALL_ROOT: PATHS.installRoot, SERVICE_LINKS: links.join(" "),
                CONFIG_DIR: PATHS.configDir, ...serviceUser, DATA_DIRS: dirs.join(" "),
                TOOLS_PROFILE: PATHS.toolsProfile, TOOLS_PROFILE_B64: b64(renderToolsProfile()),
            }),
        });
    }

    // The first service step of each kind waits for every host's memory check and every broker's listener check (the
    // others follow it).
    const memoryChecks = [...nodes.map((n) => `${n.name}-memory`), ...brokers.map((n) => `${n}-listeners`)];
    const sec = secured(cfg);
    const sasl = cfg.security.mode === "sasl_ssl";
    const clientConfig = { CLIENT_CONFIG: PATHS.adminConfig };
    zks.forEach((name, i) => steps.push({
        name: `${name}-zookeeper`, node: name, phase: "zookeeper",
        dependsOn: [`${name}-install`, ...(i > 0 ? [`${zks[i - 1]}-zookeeper`] : memoryChecks)],
        ...(sec ? { secrets: true as const } : {}),
        create: (ns, secrets) => {
            const n = nodeNamed(ns, name);
            return hostCommand("configure-service.sh", {
                SERVICE: "zookeeper", MANIFEST_B64: manifest(zookeeperFiles(cfg, n, ns, sec ? secrets : undefined)), CONFIG_DIR: PATHS.configDir,
                INSTALL_ROOT: PATHS.installRoot, KAFKA_DIST: dist, DIST_LINK: PATHS.zookeeperCurrent,
                SELF_ADDRESS: n.privateAddress, ZK_CLIENT_PORT: String(PORTS.zookeeperClient),
            });
        },
    }));
    steps.push({
        name: "cluster-ensemble", node: zks[0], phase: "ensemble", dependsOn: zks.map((n) => `${n}-zookeeper`),
        create: (ns) => {
            const members = zookeeperNodes(ns);
            const properties = renderZookeeperProperties(ns, cfg);
            return hostCommand("check-ensemble.sh", {
                ZK_MEMBERS: members.map((n) => n.privateAddress).join(" "), ZK_CLIENT_PORT: String(PORTS.zookeeperClient),
                RERUN_DIGEST: digest(...members.map((n) => properties + n.name)),
            });
        },
    });
    // sasl_ssl: the admin principal's SCRAM credential, written to ZooKeeper before any broker starts (the brokers
    // authenticate to each other with it, and the checks after them log in with it).
    if (sasl) {
        steps.push({
            name: "cluster-admin", node: brokers[0], phase: "admin", dependsOn: [`${brokers[0]}-install`, "cluster-ensemble"], secrets: true,
            create: (ns, secrets) => hostCommand("scram-admin.sh", {
                ZK_CONNECT: zookeeperConnect(cfg, ns), SCRAM_USER: ADMIN_USER, SCRAM_PASSWORD: secrets.adminPassword,
                ZK_SASL_USER: ZOOKEEPER_SASL_USER, JAAS_B64: b64(renderKafkaJaas(secrets)),
                KAFKA_HOME: `${PATHS.installRoot}/${dist}`, TOOLS_LOG_DIR: PATHS.toolsLogDir,
            }),
        });
    }

    const brokerStep = (name: string, phase: "listeners-add" | "listeners-switch" | "broker", dependsOn: string[]): Step => ({
        name: phase === "broker" ? `${name}-broker` : `${name}-${phase}`, node: name, phase, dependsOn,
        ...(sec ? { secrets: true as const } : {}),
        create: (ns, secrets) => {
            const n = nodeNamed(ns, name);
            return hostCommand("configure-service.sh", {
                SERVICE: "kafka", MANIFEST_B64: manifest(brokerFiles(cfg, n, ns, sec ? secrets : undefined)), CONFIG_DIR: PATHS.configDir,
                INSTALL_ROOT: PATHS.installRoot, KAFKA_DIST: dist, DIST_LINK: PATHS.current,
                SELF_BOOTSTRAP: internal(n), ...clientConfig, ...kafkaTools,
                ...(phase !== "broker" ? { TRANSITION: phase.slice("listeners-".length) } : {}),
            });
        },
    });
    const first = ["cluster-ensemble", ...(sasl ? ["cluster-admin"] : [])];
    // Secured: a cluster that runs plaintext listeners switches in three rolls, each one broker at a time: the new
    // listeners next to the old ones (listeners-add), inter-broker traffic onto the new ones (listeners-switch), then the
    // configured files alone (broker), which drops the old listeners. Clients of the old listener keep working until
    // every broker has the new one. On a cluster without old listeners the first two change nothing.
    let previous: string | undefined;
    const chain = (phase: "listeners-add" | "listeners-switch" | "broker") => brokers.forEach((name) => {
        const step = brokerStep(name, phase, [`${name}-install`, ...first, ...(previous ? [previous] : memoryChecks)]);
        steps.push(step);
        previous = step.name;
    });
    if (sec) {
        chain("listeners-add");
        chain("listeners-switch");
    }
    chain("broker");
    /**
     * Changes whenever any broker's server.properties (its credentials left out), the certificates' generation or the
     * version does, so the checks after the brokers run again.
     */
    const brokerDigest = (ns: ClusterNode[]) => digest(...brokerNodes(ns).map((n) => renderServerProperties(cfg, n, ns, sec ? REDACTED : undefined)),
        dist, String(cfg.security.certificateRotation));
    const { factor, minIsr } = replication(brokers.length);
    steps.push({
        name: "cluster-brokers", node: brokers[0], phase: "brokers", dependsOn: brokers.map((n) => `${n}-broker`),
        create: (ns) => hostCommand("check-brokers.sh", {
            ZK_CONNECT: zookeeperConnect(cfg, ns), BROKER_IDS: brokerNodes(ns).map((n) => String(n.brokerId)).join(" "),
            BROKER_ENDPOINTS: brokerNodes(ns).map(internal).join(" "), ...clientConfig, ...kafkaTools, RERUN_DIGEST: brokerDigest(ns),
        }),
    });
    if (sec) {
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
    if (sasl) {
        // The SCRAM users of kafka:clientUsers and, with kafka:acls, exactly the ACLs it lists: users and ACLs that are no
        // longer listed are removed. Brokers read both from ZooKeeper as they change: nothing restarts.
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

    // Existing hosts outlive the stack: `pulumi destroy` (or dropping a host from kafka:hosts) stops and disables
    // their services. EC2 instances are destroyed with the stack, so they need no such step. Every broker's step
    // depends on every ZooKeeper member's, so destroy stops all brokers before any ZooKeeper member (a broker
    // needs ZooKeeper for its controlled shutdown).
    if (cfg.mode !== "hosts") return steps;
    const zkServiceSteps = zks.map((n) => `${n}-zookeeper-service`);
    const teardown = (services: string, wipe: string[]) =>
        hostCommand("teardown.sh", {
            SERVICES: services, WIPE: String(cfg.hosts.wipeOnDestroy), WIPE_PATHS: wipe.join(" "), UNIT_DIR: PATHS.unitDir,
        });
    // Whichever step stops last on a host also removes the shared install and configuration when wiping.
    const shared = [PATHS.configDir, PATHS.installRoot, PATHS.kafkaData];
    for (const n of nodes) {
        const runsZk = n.zookeeperId !== undefined;
        if (runsZk) {
            steps.push({
                name: `${n.name}-zookeeper-service`, node: n.name, phase: "service", dependsOn: [`${n.name}-install`],
                create: "true", delete: teardown("zookeeper", [PATHS.zookeeperData, PATHS.zookeeperLogs, ...shared]),
            });
        }
        if (n.brokerId !== undefined) {
            steps.push({
                name: `${n.name}-kafka-service`, node: n.name, phase: "service", dependsOn: [`${n.name}-install`, ...zkServiceSteps],
                create: "true", delete: teardown("kafka", [PATHS.kafkaLogDirs, PATHS.kafkaLogs, ...(runsZk ? [] : shared)]),
            });
        }
    }
    return steps;
}

/** The plan with every step's command text for resolved nodes (what the tests and local tooling read). */
export function renderPlan(cfg: ClusterConfig, nodes: ClusterNode[], secrets?: ClusterSecrets): RenderedStep[] {
    return planSteps(cfg, nodes).map(({ create, delete: del, ...s }) => {
        const given = s.secrets ? secrets ?? NO_SECRETS : NO_SECRETS;
        return { ...s, create: commandText(create, nodes, given), ...(del !== undefined ? { delete: commandText(del, nodes, given) } : {}) };
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
    return hostCommand("roll-gate.sh", {
        PHASE: phase, STOP: String(stop),
        BROKER_ID: isBroker ? String(node.brokerId) : "",
        SELF_BOOTSTRAP: isBroker ? internalEndpoint(cfg, node) : "",
        BOOTSTRAP: brokerNodes(nodes).map((n) => internalEndpoint(cfg, n)).join(","),
        ZK_SELF: node.zookeeperId !== undefined ? zkClient(node) : "",
        ZK_MEMBERS: zookeeperNodes(nodes).map(zkClient).join(" "),
        CLIENT_CONFIG: PATHS.adminConfig, KAFKA_HOME: PATHS.current, TOOLS_LOG_DIR: PATHS.toolsLogDir,
    });
}
