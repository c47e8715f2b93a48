// Which nodes a cluster has, what each runs and which stable ids they carry. Pure: config in, node list out.
//
// A node is a ClusterNode from here to provisioning and the stack outputs. Existing hosts are ClusterNodes at once
// (their addresses are in the configuration); in EC2 mode the AWS layer turns each Ec2NodeSpec into a ClusterNode
// whose addresses are the new instance's outputs.
import { Ec2Cluster, HostsCluster, KafkaSettings, Role } from "./config";

/**
 * KRaft controller node.ids: a range of their own, above every broker id (host ids and EC2 node numbers stay below 1000),
 * so a controller's id never collides with a broker's and never depends on a list position: host id + this, or EC2
 * node number + this.
 */
export const CONTROLLER_ID_BASE = 3000;

/** What a node runs and the ids it carries; the same in both modes. */
export interface NodeIdentity {
    /** Stable logical name, used in resource names: node-1, zk-1, broker-1, host-<id>. */
    name: string;
    roles: Role[];
    /** broker.id (stable: from the node's name or the host's configured id, never from a list position). */
    brokerId?: number;
    /** ZooKeeper myid. */
    zookeeperId?: number;
    /** KRaft controller node.id (CONTROLLER_ID_BASE + the host's id or node number). */
    controllerId?: number;
    /** SSH user. */
    user: string;
}

/** EC2 mode: a node still to be created. */
export interface Ec2NodeSpec extends NodeIdentity {
    instanceType: string;
    /** Spreads nodes of one role across availability zones. */
    azIndex: number;
    /** Whether the node gets a data volume of its own (every Kafka node with kafka:dataVolume; the monitoring node always). */
    dataVolume: boolean;
}

/**
 * A node of the cluster: the one type the renderers, the plan, provisioning and the stack outputs work with. `A` is
 * how its addresses are known: plain strings in the pure core, pulumi.Output<string> in the Pulumi layer while
 * instances are still being created.
 */
export interface ClusterNode<A = string> extends NodeIdentity {
    /** Address this program (and `ssh`) connects to. */
    sshAddress: A;
    /** Address clients are told to use (advertised CLIENT listener). */
    clientAddress: A;
    /** Address the cluster members use among themselves. */
    privateAddress: A;
    /** broker.rack. */
    rack?: A;
    /** EC2 mode: the EBS volume id of the node's data volume, if it has one. */
    dataVolumeId?: A;
}

/** Existing-hosts mode: one node per host that runs something, addresses from the configuration. */
export function hostNodes(cfg: HostsCluster): ClusterNode[] {
    return cfg.hosts.machines.filter((h) => h.roles.length > 0).map((h) => ({
        name: `host-${h.id}`,
        roles: migrationRoles(cfg, h.roles),
        ...(h.roles.includes("broker") ? { brokerId: h.id } : {}),
        ...(h.roles.includes("zookeeper") && !retired(cfg) ? { zookeeperId: h.id } : {}),
        ...(h.roles.includes("controller") || (cfg.migration && h.roles.includes("zookeeper")) ? { controllerId: CONTROLLER_ID_BASE + h.id } : {}),
        user: h.user,
        // Clients reach existing hosts on the address this program uses.
        sshAddress: h.address,
        clientAddress: h.address,
        privateAddress: h.privateAddress,
        ...(h.rack !== undefined ? { rack: h.rack } : {}),
    }));
}

/**
 * A node's roles: as configured, plus, while the cluster migrates from ZooKeeper to KRaft (kafka:metadata kraft on 3.9),
 * a KRaft controller beside each ZooKeeper member (where the metadata is; on EC2 no instance is added or replaced).
 */
function migrationRoles(cfg: Pick<KafkaSettings, "migration">, roles: readonly Role[]): Role[] {
    if (!cfg.migration || !roles.includes("zookeeper") || roles.includes("controller")) return [...roles];
    return [...(retired(cfg) ? [] : ["zookeeper" as const]), "controller", ...roles.filter((r) => r !== "zookeeper")];
}

/** A finalized migration (kafka:zookeeperRetired): the ZooKeeper members are gone, their controllers stay. */
const retired = (cfg: Pick<KafkaSettings, "migration">) => cfg.migration?.target === "finalized";

/** The identity a quorum member gets from its number: ZooKeeper myid (and its controller's node.id while migrating), or a KRaft controller's node.id. */
function quorumIdentity(cfg: Pick<KafkaSettings, "quorum" | "migration">, i: number): Pick<NodeIdentity, "zookeeperId" | "controllerId"> {
    if (cfg.quorum.role === "zookeeper") {
        return { ...(retired(cfg) ? {} : { zookeeperId: i }), ...(cfg.migration ? { controllerId: CONTROLLER_ID_BASE + i } : {}) };
    }
    return { controllerId: CONTROLLER_ID_BASE + i };
}

/**
 * EC2 mode: the instances to create; co-located (node-N) or dedicated (zk-N or ctl-N, then broker-N). Dedicated quorum
 * members come first: the node order is also the order a rolling node change takes.
 */
export function ec2Nodes(cfg: Ec2Cluster): Ec2NodeSpec[] {
    const user = cfg.ec2.sshUser;
    const dataVolume = cfg.ec2.dataVolume !== undefined;
    const { role, count, placement } = cfg.quorum;
    const nodes: Ec2NodeSpec[] = [];
    if (placement === "colocated") {
        for (let i = 1; i <= cfg.brokerCount; i++) {
            const member = i <= count;
            nodes.push({
                name: `node-${i}`, roles: migrationRoles(cfg, member ? [role, "broker"] : ["broker"]), brokerId: i, ...(member ? quorumIdentity(cfg, i) : {}),
                user, instanceType: cfg.ec2.brokerInstanceType, azIndex: i - 1, dataVolume,
            });
        }
    } else {
        const [prefix, instanceType] = role === "zookeeper" ? ["zk", cfg.ec2.zookeeperInstanceType] : ["ctl", cfg.ec2.controllerInstanceType];
        for (let i = 1; i <= count; i++) {
            nodes.push({ name: `${prefix}-${i}`, roles: migrationRoles(cfg, [role]), ...quorumIdentity(cfg, i), user, instanceType, azIndex: i - 1, dataVolume });
        }
        for (let i = 1; i <= cfg.brokerCount; i++) {
            nodes.push({ name: `broker-${i}`, roles: ["broker"], brokerId: i, user, instanceType: cfg.ec2.brokerInstanceType, azIndex: i - 1, dataVolume });
        }
    }
    // kafka:monitoring: the monitoring node, an instance of its own with its own volume (its time series), last: it runs
    // no Kafka service, so it never comes before one in a rolling node change.
    if (cfg.ec2.monitoring) {
        nodes.push({ name: MONITORING_NODE, roles: ["monitoring"], user, instanceType: cfg.ec2.monitoring.instanceType, azIndex: 0, dataVolume: true });
    }
    return nodes;
}

/** EC2 mode: the monitoring node's name (kafka:monitoring). */
export const MONITORING_NODE = "monitoring-1";

export const zookeeperNodes = <T extends NodeIdentity>(nodes: T[]): (T & { zookeeperId: number })[] =>
    nodes.filter((n): n is T & { zookeeperId: number } => n.zookeeperId !== undefined).sort((a, b) => a.zookeeperId - b.zookeeperId);
export const controllerNodes = <T extends NodeIdentity>(nodes: T[]): (T & { controllerId: number })[] =>
    nodes.filter((n): n is T & { controllerId: number } => n.controllerId !== undefined).sort((a, b) => a.controllerId - b.controllerId);
export const brokerNodes = <T extends NodeIdentity>(nodes: T[]): (T & { brokerId: number })[] =>
    nodes.filter((n): n is T & { brokerId: number } => n.brokerId !== undefined).sort((a, b) => a.brokerId - b.brokerId);

/** kafka:monitoring: the node that runs Prometheus and Alertmanager (existing hosts: the host with the role `monitoring`). */
/** Whether the node runs Prometheus and Alertmanager (the role `monitoring`). */
export const isMonitoringNode = (n: NodeIdentity): boolean => n.roles.includes("monitoring");
export const monitoringNodes = <T extends NodeIdentity>(nodes: T[]): T[] => nodes.filter(isMonitoringNode);

/** The node called `name` among `nodes` (a plan's step names its node; the node list always holds it). */
export function nodeNamed<T extends NodeIdentity>(nodes: T[], name: string): T {
    const n = nodes.find((x) => x.name === name);
    if (n === undefined) throw new Error(`no node named ${name} among ${nodes.map((x) => x.name).join(", ")}`);
    return n;
}
