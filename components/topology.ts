// Which nodes a cluster has, what each runs and which stable ids they carry. Pure: config in, node list out.
import { ClusterConfig, Role } from "./config";

export interface NodeSpec {
    /** Stable logical name, used in resource names: node-1, zk-1, broker-1, host-<id>. */
    name: string;
    roles: Role[];
    /** broker.id (stable: from the node's name or the host's configured id, never from a list position). */
    brokerId?: number;
    /** ZooKeeper myid. */
    zookeeperId?: number;
    /** SSH user. */
    user: string;
    /** EC2 mode: instance type and the index used to spread nodes across availability zones. */
    instanceType?: string;
    azIndex?: number;
    /** Existing-hosts mode: addresses and rack from config. */
    address?: string;
    privateAddress?: string;
    rack?: string;
}

/** A node once its addresses are known (plain strings). */
export interface ResolvedNode extends NodeSpec {
    /** Address this program (and `ssh`) connects to. */
    sshAddress: string;
    /** Address clients are told to use (advertised CLIENT listener). */
    clientAddress: string;
    /** Address the cluster members use among themselves. */
    privateAddress: string;
    rack?: string;
    /** EC2 mode: EBS volume id of the data volume, if any. */
    dataVolumeId?: string;
}

export function planNodes(cfg: ClusterConfig): NodeSpec[] {
    if (cfg.mode === "hosts") {
        return cfg.hosts.map((h) => ({
            name: `host-${h.id}`,
            roles: h.roles ?? [],
            brokerId: h.roles?.includes("broker") ? h.id : undefined,
            zookeeperId: h.roles?.includes("zookeeper") ? h.id : undefined,
            user: h.user || cfg.sshUser,
            address: h.address,
            privateAddress: h.privateAddress,
            rack: h.rack,
        })).filter((n) => n.roles.length > 0);
    }
    const nodes: NodeSpec[] = [];
    if (cfg.zookeeperPlacement === "colocated") {
        for (let i = 1; i <= cfg.brokerCount; i++) {
            const zk = i <= cfg.zookeeperCount;
            nodes.push({
                name: `node-${i}`,
                roles: zk ? ["zookeeper", "broker"] : ["broker"],
                brokerId: i,
                zookeeperId: zk ? i : undefined,
                user: cfg.sshUser,
                instanceType: cfg.brokerInstanceType,
                azIndex: i - 1,
            });
        }
        return nodes;
    }
    for (let i = 1; i <= cfg.zookeeperCount; i++) {
        nodes.push({ name: `zk-${i}`, roles: ["zookeeper"], zookeeperId: i, user: cfg.sshUser, instanceType: cfg.zookeeperInstanceType, azIndex: i - 1 });
    }
    for (let i = 1; i <= cfg.brokerCount; i++) {
        nodes.push({ name: `broker-${i}`, roles: ["broker"], brokerId: i, user: cfg.sshUser, instanceType: cfg.brokerInstanceType, azIndex: i - 1 });
    }
    return nodes;
}

export const zookeeperNodes = <T extends NodeSpec>(nodes: T[]): T[] =>
    nodes.filter((n) => n.zookeeperId !== undefined).sort((a, b) => a.zookeeperId! - b.zookeeperId!);
export const brokerNodes = <T extends NodeSpec>(nodes: T[]): T[] =>
    nodes.filter((n) => n.brokerId !== undefined).sort((a, b) => a.brokerId! - b.brokerId!);

/** Existing-hosts mode: nodes with the addresses from config (clients use the SSH address). */
export function resolveExistingHosts(cfg: ClusterConfig): ResolvedNode[] {
    if (cfg.mode !== "hosts") throw new Error("resolveExistingHosts needs kafka:hosts");
    return planNodes(cfg).map((n) => ({ ...n, sshAddress: n.address!, clientAddress: n.address!, privateAddress: n.privateAddress! }));
}
