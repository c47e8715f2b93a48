// Which nodes a cluster has, what each runs and which stable ids they carry. Pure: config in, node list out.
//
// A node is a ClusterNode from here to provisioning and the stack outputs. Existing hosts are ClusterNodes at once
// (their addresses are in the configuration); in EC2 mode the AWS layer turns each Ec2NodeSpec into a ClusterNode
// whose addresses are the new instance's outputs.
import { Ec2Cluster, HostsCluster, Role } from "./config";

/** What a node runs and the ids it carries; the same in both modes. */
export interface NodeIdentity {
    /** Stable logical name, used in resource names: node-1, zk-1, broker-1, host-<id>. */
    name: string;
    roles: Role[];
    /** broker.id (stable: from the node's name or the host's configured id, never from a list position). */
    brokerId?: number;
    /** ZooKeeper myid. */
    zookeeperId?: number;
    /** SSH user. */
    user: string;
}

/** EC2 mode: a node still to be created. */
export interface Ec2NodeSpec extends NodeIdentity {
    instanceType: string;
    /** Spreads nodes of one role across availability zones. */
    azIndex: number;
    /** Whether the node gets a data volume of its own (every node, with kafka:dataVolume). */
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
        roles: [...h.roles],
        ...(h.roles.includes("broker") ? { brokerId: h.id } : {}),
        ...(h.roles.includes("zookeeper") ? { zookeeperId: h.id } : {}),
        user: h.user,
        // Clients reach existing hosts on the address this program uses.
        sshAddress: h.address,
        clientAddress: h.address,
        privateAddress: h.privateAddress,
        ...(h.rack !== undefined ? { rack: h.rack } : {}),
    }));
}

/** EC2 mode: the instances to create; co-located (node-N) or dedicated (zk-N, broker-N). */
export function ec2Nodes(cfg: Ec2Cluster): Ec2NodeSpec[] {
    const user = cfg.ec2.sshUser;
    const dataVolume = cfg.ec2.dataVolume !== undefined;
    const nodes: Ec2NodeSpec[] = [];
    if (cfg.zookeeperPlacement === "colocated") {
        for (let i = 1; i <= cfg.brokerCount; i++) {
            const zk = i <= cfg.zookeeperCount;
            nodes.push({
                name: `node-${i}`, roles: zk ? ["zookeeper", "broker"] : ["broker"], brokerId: i, ...(zk ? { zookeeperId: i } : {}),
                user, instanceType: cfg.ec2.brokerInstanceType, azIndex: i - 1, dataVolume,
            });
        }
        return nodes;
    }
    for (let i = 1; i <= cfg.zookeeperCount; i++) {
        nodes.push({ name: `zk-${i}`, roles: ["zookeeper"], zookeeperId: i, user, instanceType: cfg.ec2.zookeeperInstanceType, azIndex: i - 1, dataVolume });
    }
    for (let i = 1; i <= cfg.brokerCount; i++) {
        nodes.push({ name: `broker-${i}`, roles: ["broker"], brokerId: i, user, instanceType: cfg.ec2.brokerInstanceType, azIndex: i - 1, dataVolume });
    }
    return nodes;
}

export const zookeeperNodes = <T extends NodeIdentity>(nodes: T[]): (T & { zookeeperId: number })[] =>
    nodes.filter((n): n is T & { zookeeperId: number } => n.zookeeperId !== undefined).sort((a, b) => a.zookeeperId - b.zookeeperId);
export const brokerNodes = <T extends NodeIdentity>(nodes: T[]): (T & { brokerId: number })[] =>
    nodes.filter((n): n is T & { brokerId: number } => n.brokerId !== undefined).sort((a, b) => a.brokerId - b.brokerId);

/** The node called `name` among `nodes` (a plan's step names its node; the node list always holds it). */
export function nodeNamed<T extends NodeIdentity>(nodes: T[], name: string): T {
    const n = nodes.find((x) => x.name === name);
    if (n === undefined) throw new Error(`no node named ${name} among ${nodes.map((x) => x.name).join(", ")}`);
    return n;
}
