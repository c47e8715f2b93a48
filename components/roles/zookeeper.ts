// Role `zookeeper` (kafka:metadata zookeeper): a ZooKeeper ensemble member. Its files, its configure steps (one member
// after another), the ensemble check, the admin's SCRAM credential in ZooKeeper (sasl_ssl), its JMX port and teardown.
import { ADMIN_USER } from "../config";
import { ManagedFile, b64, hostCommand } from "../host-command";
import { PATHS, PORTS, ZOOKEEPER_SASL_USER, kafkaTarballName, secured, zookeeperConnect } from "../layout";
import {
    ClusterSecrets, renderEnvFile, renderKafkaJaas, renderMyid, renderZookeeperJaas, renderZookeeperProperties, renderZookeeperUnit,
} from "../render";
import { ClusterNode, nodeNamed, zookeeperNodes } from "../topology";
import { ClusterConfig } from "../config";
import { PlanContext, Step, chained, configureService, jmxFiles, need, digest } from "./context";
import { metricsAgentOption, metricsFiles } from "./metrics";

export const ZOOKEEPER_ROLE = {
    service: "zookeeper", link: PATHS.zookeeperCurrent, jmxPort: PORTS.zookeeperJmx,
    dataDirs: [PATHS.zookeeperData, PATHS.zookeeperLogs], heapKey: "zookeeperHeap",
} as const;


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
        ...metricsFiles(cfg, "zookeeper"),
        [`${PATHS.configDir}/zookeeper.env`, "0640", group, renderEnvFile(cfg.zookeeperHeap, PATHS.zookeeperLogs, jaas, jmx, metricsAgentOption(cfg, node, "zookeeper"), cfg.jvmPerformanceOptions)],
        [`${PATHS.configDir}/zookeeper.version`, "0644", "root:root", `${kafkaTarballName(cfg)}\n`],
        [`${PATHS.unitDir}/zookeeper.service`, "0644", "root:root", renderZookeeperUnit()],
    ];
}

/**
 * The members configured one after another (the first after every memory check), then the ensemble check and, with
 * sasl_ssl, the admin principal's SCRAM credential written to ZooKeeper before any broker starts (the brokers
 * authenticate to each other with it, and the checks after them log in with it). Returns the steps, what the first
 * broker waits for and what the broker check waits for besides the brokers (nothing: the ensemble check came first).
 */
export function zookeeperSteps(ctx: PlanContext, zks: string[], firstBroker: string): { steps: Step[]; ready: string[]; checks: string[] } {
    const { cfg, dist } = ctx;
    const sec = secured(cfg);
    const steps = chained(zks, ctx.memoryChecks, (name, dependsOn) => ({
        name: `${name}-zookeeper`, node: name, phase: "zookeeper", dependsOn: [`${name}-install`, ...dependsOn], generated: true,
        ...(sec ? { secrets: true as const } : {}),
        create: (ns, secrets, generated) => {
            const n = nodeNamed(ns, name);
            return configureService("zookeeper", zookeeperFiles(cfg, n, ns, sec ? secrets : undefined), dist, PATHS.zookeeperCurrent, {
                SELF_ADDRESS: n.privateAddress, ZK_CLIENT_PORT: String(PORTS.zookeeperClient),
            }, generated.generations?.[name]);
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
    if (cfg.security.mode !== "sasl_ssl") return { steps, ready: ["cluster-ensemble"], checks: [] };
    steps.push({
        name: "cluster-admin", node: firstBroker, phase: "admin", dependsOn: [`${firstBroker}-install`, "cluster-ensemble"], secrets: true,
        create: (ns, secrets) => hostCommand("scram-admin.sh", {
            ZK_CONNECT: zookeeperConnect(cfg, ns), SCRAM_USER: ADMIN_USER, SCRAM_PASSWORD: secrets.adminPassword,
            ZK_SASL_USER: ZOOKEEPER_SASL_USER, JAAS_B64: b64(renderKafkaJaas(secrets)),
            KAFKA_HOME: `${PATHS.installRoot}/${dist}`, TOOLS_LOG_DIR: PATHS.toolsLogDir,
        }),
    });
    return { steps, ready: ["cluster-ensemble", "cluster-admin"], checks: [] };
}
