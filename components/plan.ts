// The host-agnostic provisioning plan: resolved nodes in, an ordered list of shell commands out. Pure, so the
// Pulumi layer (provision.ts) turns each step into one remote.Command and the real-host tests run the very
// same command text over SSH.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { ClusterConfig } from "./config";
import { PATHS, internalEndpoint, kafkaTarballName, kafkaTarballUrl, replication, zookeeperConnect } from "./layout";
import {
    renderEnvFile, renderKafkaUnit, renderMyid, renderServerProperties, renderZookeeperProperties, renderZookeeperUnit,
} from "./render";
import { ResolvedNode, brokerNodes, zookeeperNodes } from "./topology";

export type Phase = "ready" | "java" | "install" | "storage" | "zookeeper" | "ensemble" | "broker" | "brokers" | "smoke" | "service";

export interface Step {
    /** Unique, stable resource name: "<node>-<phase>" or "cluster-<phase>". */
    name: string;
    /** Node the command runs on. */
    node: string;
    phase: Phase;
    /** Names of steps that must finish first. */
    dependsOn: string[];
    /** Shell command line, run by the SSH user's login shell (it calls sudo itself). */
    create: string;
    /** Shell command line to run on the host on `pulumi destroy` (service step only). */
    delete?: string;
}

export const SMOKE_TOPIC = "_kafka_cluster_smoke";
export const HOST_SCRIPTS_DIR = path.join(__dirname, "..", "scripts", "host");

const scriptCache = new Map<string, string>();
function hostScript(name: string): string {
    let text = scriptCache.get(name);
    if (text === undefined) {
        text = fs.readFileSync(path.join(HOST_SCRIPTS_DIR, name), "utf8");
        scriptCache.set(name, text);
    }
    return text;
}

export function shellQuote(s: string): string {
    return `'${s.replace(/'/g, `'\\''`)}'`;
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
const digest = (...parts: string[]) => crypto.createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 16);

/**
 * The command line for one host script: `sudo -n env K=V ... bash -c '<lib.sh + script>'`. Parameters travel
 * in the environment; nothing secret ever goes in here.
 */
export function hostCommand(script: string, env: Record<string, string>): string {
    const vars = Object.entries({ KC_STEP: script.replace(/\.sh$/, ""), ...env })
        .map(([k, v]) => `${k}=${shellQuote(v)}`).join(" ");
    return `sudo -n env ${vars} bash -c ${shellQuote(hostScript("lib.sh") + "\n" + hostScript(script))}`;
}

/** One manifest line per file: "path mode owner base64". */
function manifest(files: [string, string, string, string][]): string {
    return b64(files.map(([p, mode, owner, content]) => `${p} ${mode} ${owner} ${b64(content)}`).join("\n") + "\n");
}

/** Everything a ZooKeeper member's configure step writes, in order. */
export function zookeeperFiles(cfg: ClusterConfig, node: ResolvedNode, nodes: ResolvedNode[]): [string, string, string, string][] {
    const group = `root:${PATHS.serviceUser}`;
    return [
        [`${PATHS.configDir}/zookeeper.properties`, "0640", group, renderZookeeperProperties(nodes)],
        [`${PATHS.zookeeperData}/myid`, "0644", `${PATHS.serviceUser}:${PATHS.serviceUser}`, renderMyid(node)],
        [`${PATHS.configDir}/zookeeper.env`, "0640", group, renderEnvFile(cfg.zookeeperHeap, PATHS.zookeeperLogs)],
        [`${PATHS.configDir}/zookeeper.version`, "0644", "root:root", `${kafkaTarballName(cfg)}\n`],
        ["/etc/systemd/system/zookeeper.service", "0644", "root:root", renderZookeeperUnit()],
    ];
}

/** Everything a broker's configure step writes, in order. */
export function brokerFiles(cfg: ClusterConfig, node: ResolvedNode, nodes: ResolvedNode[]): [string, string, string, string][] {
    const group = `root:${PATHS.serviceUser}`;
    return [
        [`${PATHS.configDir}/server.properties`, "0640", group, renderServerProperties(cfg, node, nodes)],
        [`${PATHS.configDir}/kafka.env`, "0640", group, renderEnvFile(cfg.brokerHeap, PATHS.kafkaLogs)],
        [`${PATHS.configDir}/kafka.version`, "0644", "root:root", `${kafkaTarballName(cfg)}\n`],
        ["/etc/systemd/system/kafka.service", "0644", "root:root", renderKafkaUnit()],
    ];
}

/**
 * The ordered steps for a cluster. The structure (names, hosts, dependencies) depends only on the node specs;
 * addresses appear only inside command text.
 *
 * Per host: ready -> java -> install (-> storage) -> zookeeper / broker. ZooKeeper members are configured one
 * after another, then the ensemble check; brokers follow the ensemble check, one after another (so a change
 * rolls through them one broker at a time, each waiting for zero under-replicated partitions), then the
 * broker check and the smoke test. In existing-hosts mode every service also gets a `service` step whose delete
 * stops it.
 */
export function planSteps(cfg: ClusterConfig, nodes: ResolvedNode[]): Step[] {
    const steps: Step[] = [];
    const zks = zookeeperNodes(nodes);
    const brokers = brokerNodes(nodes);
    const dist = kafkaTarballName(cfg).replace(/\.tgz$/, "");

    for (const n of nodes) {
        steps.push({ name: `${n.name}-ready`, node: n.name, phase: "ready", dependsOn: [], create: hostCommand("wait-ready.sh", {}) });
        steps.push({ name: `${n.name}-java`, node: n.name, phase: "java", dependsOn: [`${n.name}-ready`], create: hostCommand("install-java.sh", {}) });
        const dirs = [PATHS.kafkaData, ...(n.brokerId !== undefined ? [PATHS.kafkaLogDirs, PATHS.kafkaLogs] : []),
            ...(n.zookeeperId !== undefined ? [PATHS.zookeeperData, PATHS.zookeeperLogs] : [])];
        const installDeps = [`${n.name}-java`];
        if (n.dataVolumeId && n.brokerId !== undefined) {
            steps.push({
                name: `${n.name}-storage`, node: n.name, phase: "storage", dependsOn: [`${n.name}-ready`],
                create: hostCommand("mount-data-volume.sh", { VOLUME_ID: n.dataVolumeId, MOUNT_POINT: PATHS.kafkaData, SERVICE_USER: PATHS.serviceUser }),
            });
            installDeps.push(`${n.name}-storage`);
        }
        steps.push({
            name: `${n.name}-install`, node: n.name, phase: "install", dependsOn: installDeps,
            create: hostCommand("install-kafka.sh", {
                KAFKA_URL: kafkaTarballUrl(cfg), KAFKA_DIST: dist, INSTALL_ROOT: PATHS.installRoot,
                SERVICE_USER: PATHS.serviceUser, DATA_DIRS: dirs.join(" "),
            }),
        });
    }

    let previous: string | undefined;
    for (const n of zks) {
        const name = `${n.name}-zookeeper`;
        steps.push({
            name, node: n.name, phase: "zookeeper", dependsOn: [`${n.name}-install`, ...(previous ? [previous] : [])],
            create: hostCommand("configure-service.sh", {
                SERVICE: "zookeeper", MANIFEST_B64: manifest(zookeeperFiles(cfg, n, nodes)), SELF_ADDRESS: n.privateAddress,
            }),
        });
        previous = name;
    }
    const zkProperties = renderZookeeperProperties(nodes);
    const zkDigest = digest(...zks.map((n) => zkProperties + n.name));
    steps.push({
        name: "cluster-ensemble", node: zks[0].name, phase: "ensemble", dependsOn: zks.map((n) => `${n.name}-zookeeper`),
        create: hostCommand("check-ensemble.sh", { ZK_MEMBERS: zks.map((n) => n.privateAddress).join(" "), CONFIG_DIGEST: zkDigest }),
    });

    previous = undefined;
    for (const n of brokers) {
        const name = `${n.name}-broker`;
        steps.push({
            name, node: n.name, phase: "broker", dependsOn: [`${n.name}-install`, "cluster-ensemble", ...(previous ? [previous] : [])],
            create: hostCommand("configure-service.sh", {
                SERVICE: "kafka", MANIFEST_B64: manifest(brokerFiles(cfg, n, nodes)), SELF_BOOTSTRAP: internalEndpoint(n),
            }),
        });
        previous = name;
    }
    const brokerDigest = digest(...brokers.map((n) => renderServerProperties(cfg, n, nodes)));
    const { factor, minIsr } = replication(brokers.length);
    steps.push({
        name: "cluster-brokers", node: brokers[0].name, phase: "brokers", dependsOn: brokers.map((n) => `${n.name}-broker`),
        create: hostCommand("check-brokers.sh", {
            ZK_CONNECT: zookeeperConnect(cfg, nodes), BROKER_IDS: brokers.map((n) => String(n.brokerId)).join(" "),
            BROKER_ENDPOINTS: brokers.map(internalEndpoint).join(" "), CONFIG_DIGEST: brokerDigest,
        }),
    });
    steps.push({
        name: "cluster-smoke", node: brokers[0].name, phase: "smoke", dependsOn: ["cluster-brokers"],
        create: hostCommand("smoke-test.sh", {
            BOOTSTRAP: brokers.map(internalEndpoint).join(","), TOPIC: SMOKE_TOPIC, PARTITIONS: String(brokers.length),
            REPLICATION: String(factor), MIN_ISR: String(minIsr), CONFIG_DIGEST: brokerDigest,
        }),
    });

    // Existing hosts outlive the stack: `pulumi destroy` (or dropping a host from kafka:hosts) stops and disables
    // their services. EC2 instances are destroyed with the stack, so they need no such step. Every broker's step
    // depends on every ZooKeeper member's, so destroy stops all brokers before any ZooKeeper member (a broker
    // needs ZooKeeper for its controlled shutdown).
    if (cfg.mode !== "hosts") return steps;
    const zkServiceSteps = zks.map((n) => `${n.name}-zookeeper-service`);
    const teardown = (services: string, wipe: string[]) =>
        hostCommand("teardown.sh", { SERVICES: services, WIPE: String(cfg.wipeOnDestroy), WIPE_PATHS: wipe.join(" ") });
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

/** Steps grouped into waves: every step's dependencies are in earlier waves. */
export function waves(steps: Step[]): Step[][] {
    const done = new Set<string>();
    const left = [...steps];
    const out: Step[][] = [];
    while (left.length > 0) {
        const wave = left.filter((s) => s.dependsOn.every((d) => done.has(d)));
        if (wave.length === 0) throw new Error(`dependency cycle or unknown step among: ${left.map((s) => s.name).join(", ")}`);
        wave.forEach((s) => left.splice(left.indexOf(s), 1));
        wave.forEach((s) => done.add(s.name));
        out.push(wave);
    }
    return out;
}
