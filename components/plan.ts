// The host-agnostic provisioning plan: nodes in, an ordered list of steps out, each a shell command on one host.
// Pure. The structure (names, hosts, dependencies) comes from what the nodes run, so it is known before any EC2
// instance exists; each step's command text comes from the resolved nodes (addresses appear only there). The
// Pulumi layer (provision.ts) turns each step into one remote.Command.
import * as crypto from "crypto";
import { ClusterConfig, MAX_HEAP_SHARE, heapMiB } from "./config";
import { ManagedFile, b64, hostCommand, manifest } from "./host-command";
import { PATHS, PORTS, internalEndpoint, kafkaSources, kafkaTarballName, replication, zookeeperConnect } from "./layout";
import {
    renderEnvFile, renderKafkaUnit, renderMyid, renderServerProperties, renderToolsProfile, renderZookeeperProperties, renderZookeeperUnit,
} from "./render";
import { ClusterNode, brokerNodes, nodeNamed, zookeeperNodes } from "./topology";

export type Phase = "ready" | "memory" | "java" | "install" | "storage" | "zookeeper" | "ensemble" | "broker" | "brokers" | "smoke" | "rebalance" | "service";

/**
 * Command text for a step: fixed, or made from every node's resolved addresses. (Fixed text does not wait for any
 * address, so on EC2 a node's first commands start as soon as its own instance is up.)
 */
export type CommandText = string | ((nodes: ClusterNode[]) => string);

/** A step's command text for resolved nodes. */
export const commandText = (text: CommandText, nodes: ClusterNode[]): string => (typeof text === "string" ? text : text(nodes));

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

/** Everything a ZooKeeper member's configure step writes, in order. */
export function zookeeperFiles(cfg: ClusterConfig, node: ClusterNode, nodes: ClusterNode[]): ManagedFile[] {
    const group = `root:${PATHS.serviceUser}`;
    return [
        [`${PATHS.configDir}/zookeeper.properties`, "0640", group, renderZookeeperProperties(nodes)],
        [`${PATHS.zookeeperData}/myid`, "0644", `${PATHS.serviceUser}:${PATHS.serviceUser}`, renderMyid(node)],
        [`${PATHS.configDir}/zookeeper.env`, "0640", group, renderEnvFile(cfg.zookeeperHeap, PATHS.zookeeperLogs)],
        [`${PATHS.configDir}/zookeeper.version`, "0644", "root:root", `${kafkaTarballName(cfg)}\n`],
        [`${PATHS.unitDir}/zookeeper.service`, "0644", "root:root", renderZookeeperUnit()],
    ];
}

/** Everything a broker's configure step writes, in order. */
export function brokerFiles(cfg: ClusterConfig, node: ClusterNode, nodes: ClusterNode[]): ManagedFile[] {
    const group = `root:${PATHS.serviceUser}`;
    return [
        [`${PATHS.configDir}/server.properties`, "0640", group, renderServerProperties(cfg, node, nodes)],
        [`${PATHS.configDir}/kafka.env`, "0640", group, renderEnvFile(cfg.brokerHeap, PATHS.kafkaLogs)],
        [`${PATHS.configDir}/kafka.version`, "0644", "root:root", `${kafkaTarballName(cfg)}\n`],
        [`${PATHS.unitDir}/kafka.service`, "0644", "root:root", renderKafkaUnit()],
    ];
}

/**
 * The ordered steps for a cluster. `nodes` may carry addresses of any kind (or still unknown ones): the structure
 * reads only names, roles, ids and whether a node has a data volume.
 *
 * Per host: ready -> java -> install (-> storage) -> zookeeper / broker; ready -> memory, where every host's memory
 * check comes before the first ZooKeeper and the first broker step (so a heap that does not fit restarts nothing). The install steps download and verify a
 * version on every host in parallel; ZooKeeper members are configured one after another, then the ensemble check;
 * brokers follow the ensemble check, one after another (so a change rolls through them one broker at a time, each
 * waiting for zero under-replicated partitions), then the broker check and the smoke test. A service's link to its
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

    // The first service step of each kind waits for every host's memory check (the others follow it).
    const memoryChecks = nodes.map((n) => `${n.name}-memory`);
    zks.forEach((name, i) => steps.push({
        name: `${name}-zookeeper`, node: name, phase: "zookeeper",
        dependsOn: [`${name}-install`, ...(i > 0 ? [`${zks[i - 1]}-zookeeper`] : memoryChecks)],
        create: (ns) => {
            const n = nodeNamed(ns, name);
            return hostCommand("configure-service.sh", {
                SERVICE: "zookeeper", MANIFEST_B64: manifest(zookeeperFiles(cfg, n, ns)), CONFIG_DIR: PATHS.configDir,
                INSTALL_ROOT: PATHS.installRoot, KAFKA_DIST: dist, DIST_LINK: PATHS.zookeeperCurrent,
                SELF_ADDRESS: n.privateAddress, ZK_CLIENT_PORT: String(PORTS.zookeeperClient),
            });
        },
    }));
    steps.push({
        name: "cluster-ensemble", node: zks[0], phase: "ensemble", dependsOn: zks.map((n) => `${n}-zookeeper`),
        create: (ns) => {
            const members = zookeeperNodes(ns);
            const properties = renderZookeeperProperties(ns);
            return hostCommand("check-ensemble.sh", {
                ZK_MEMBERS: members.map((n) => n.privateAddress).join(" "), ZK_CLIENT_PORT: String(PORTS.zookeeperClient),
                RERUN_DIGEST: digest(...members.map((n) => properties + n.name)),
            });
        },
    });

    brokers.forEach((name, i) => steps.push({
        name: `${name}-broker`, node: name, phase: "broker",
        dependsOn: [`${name}-install`, "cluster-ensemble", ...(i > 0 ? [`${brokers[i - 1]}-broker`] : memoryChecks)],
        create: (ns) => {
            const n = nodeNamed(ns, name);
            return hostCommand("configure-service.sh", {
                SERVICE: "kafka", MANIFEST_B64: manifest(brokerFiles(cfg, n, ns)), CONFIG_DIR: PATHS.configDir,
                INSTALL_ROOT: PATHS.installRoot, KAFKA_DIST: dist, DIST_LINK: PATHS.current,
                SELF_BOOTSTRAP: internalEndpoint(n), ...kafkaTools,
            });
        },
    }));
    /** Changes whenever any broker's server.properties or the version does, so the checks after the brokers run again. */
    const brokerDigest = (ns: ClusterNode[]) => digest(...brokerNodes(ns).map((n) => renderServerProperties(cfg, n, ns)), dist);
    const { factor, minIsr } = replication(brokers.length);
    steps.push({
        name: "cluster-brokers", node: brokers[0], phase: "brokers", dependsOn: brokers.map((n) => `${n}-broker`),
        create: (ns) => hostCommand("check-brokers.sh", {
            ZK_CONNECT: zookeeperConnect(cfg, ns), BROKER_IDS: brokerNodes(ns).map((n) => String(n.brokerId)).join(" "),
            BROKER_ENDPOINTS: brokerNodes(ns).map(internalEndpoint).join(" "), ...kafkaTools, RERUN_DIGEST: brokerDigest(ns),
        }),
    });
    steps.push({
        name: "cluster-smoke", node: brokers[0], phase: "smoke", dependsOn: ["cluster-brokers"],
        create: (ns) => hostCommand("smoke-test.sh", {
            BOOTSTRAP: brokerNodes(ns).map(internalEndpoint).join(","), TOPIC: SMOKE_TOPIC, PARTITIONS: String(brokers.length),
            REPLICATION: String(factor), MIN_ISR: String(minIsr), ...kafkaTools, RERUN_DIGEST: brokerDigest(ns),
        }),
    });

    // New brokers (a scale-out) take a fair share of the existing partitions, throttled. It runs again only when the
    // set of broker ids (or their addresses) changes.
    steps.push({
        name: "cluster-rebalance", node: brokers[0], phase: "rebalance", dependsOn: ["cluster-smoke"],
        create: (ns) => hostCommand("rebalance.sh", {
            BOOTSTRAP: brokerNodes(ns).map(internalEndpoint).join(","), BROKER_IDS: brokerNodes(ns).map((n) => String(n.brokerId)).join(" "),
            THROTTLE_BYTES: String(REBALANCE_THROTTLE_BYTES), ...kafkaTools,
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
export function renderPlan(cfg: ClusterConfig, nodes: ClusterNode[]): RenderedStep[] {
    return planSteps(cfg, nodes).map(({ create, delete: del, ...s }) => ({
        ...s, create: commandText(create, nodes), ...(del !== undefined ? { delete: commandText(del, nodes) } : {}),
    }));
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
