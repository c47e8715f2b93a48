// Rolling node changes on EC2 (a pinned kafka:ami, a new kafka:os, an instance type): which one node changes in this
// `pulumi up`, and what every other node keeps. Pure: the nodes, what runs now (as EC2 reports it) and what the
// configuration wants in; each instance's inputs out.
//
// One `pulumi up` cannot replace nodes one after another with a health gate in between: every broker's and ZooKeeper
// member's configuration names every node's address, so the second node's replacement would wait on steps that wait on
// it. So each `pulumi up` changes at most one running node (the first in node order that differs), with a gate before
// it (the cluster healthy, then the node's broker and ZooKeeper member stopped) and one after it (the cluster healthy
// again, the node's replicas back in sync). Every other node keeps the image and type it runs: an instance's inputs
// are what it runs, so a new upstream image release, or a change that is not this node's turn, changes nothing. The
// next `pulumi up` takes the next node; the `rollout` output says what is left.
import { HostOs } from "./config";

/** What an instance runs, or is to be given: its image, its type and the OS the image is of (its `os` tag). */
export interface NodeImage {
    ami: string;
    instanceType: string;
    /** kafka:os of the image; unknown on instances created before the tag existed. */
    os?: HostOs;
}

/** A running (or stopped) instance of a node, as EC2 reports it. */
export interface RunningInstance extends NodeImage {
    instanceId: string;
    /** Its instance type's architecture (x86_64, arm64). */
    arch: string;
    privateIp: string;
    publicIp?: string;
}

/** What the configuration wants of a node: the image for its instance type (pinned, or the OS's current one) and type. */
export interface WantedImage {
    ami: string;
    instanceType: string;
    os: HostOs;
    /** The instance type's architecture: a node moving to a type of another architecture needs a new image too. */
    arch: string;
    /** Whether the image is pinned (kafka:ami): then a running node on another image rolls onto it. */
    pinned: boolean;
}

export interface NodeRoll {
    node: string;
    from: NodeImage;
    to: Required<NodeImage>;
    /** What changes, for the log and the output: "image ami-1 -> ami-2", "instance type t3.large -> m6i.xlarge". */
    changes: string[];
}

export interface Rollout {
    /** Per node: what its instance is given in this `pulumi up`. */
    inputs: Record<string, Required<NodeImage>>;
    /** The one running node that changes in this `pulumi up`. */
    rolling?: NodeRoll;
    /** Running nodes that differ too, left for the next `pulumi up`s, in the order they will roll. */
    pending: string[];
}

/** What a running node should become: the pinned image, or the new OS's image, and the configured type. */
function target(run: RunningInstance, want: WantedImage): Required<NodeImage> {
    // Untagged instances (created before the os tag) count as running the configured OS: an upgrade rolls nothing.
    const runningOs = run.os ?? want.os;
    const newImage = want.pinned ? want.ami !== run.ami : runningOs !== want.os || run.arch !== want.arch;
    return newImage
        ? { ami: want.ami, instanceType: want.instanceType, os: want.os }
        : { ami: run.ami, instanceType: want.instanceType, os: runningOs };
}

/**
 * Decides this `pulumi up`'s node change. `nodes` in rolling order (the topology's: dedicated ZooKeeper nodes first,
 * then brokers; co-located nodes by id); `running` keyed by node name (absent: the node is new, and is created with what
 * it wants); `wanted` per node name.
 */
export function planRollout(nodes: string[], running: Record<string, RunningInstance | undefined>, wanted: Record<string, WantedImage>): Rollout {
    const inputs: Record<string, Required<NodeImage>> = {};
    const differing: NodeRoll[] = [];
    for (const name of nodes) {
        const want = wanted[name];
        const run = running[name];
        if (run === undefined) {
            inputs[name] = { ami: want.ami, instanceType: want.instanceType, os: want.os };
            continue;
        }
        const to = target(run, want);
        const changes = [
            ...(to.ami !== run.ami ? [`image ${run.ami} -> ${to.ami}${to.os !== (run.os ?? want.os) ? ` (${to.os})` : ""}`] : []),
            ...(to.instanceType !== run.instanceType ? [`instance type ${run.instanceType} -> ${to.instanceType}`] : []),
        ];
        if (changes.length > 0) differing.push({ node: name, from: { ami: run.ami, instanceType: run.instanceType, ...(run.os ? { os: run.os } : {}) }, to, changes });
        // The os tag of an untagged instance is set (an in-place tag update) with what it is taken to run.
        inputs[name] = { ami: run.ami, instanceType: run.instanceType, os: run.os ?? want.os };
    }
    const [rolling, ...rest] = differing;
    if (rolling !== undefined) inputs[rolling.node] = rolling.to;
    return { inputs, ...(rolling ? { rolling } : {}), pending: rest.map((r) => r.node) };
}

/** The `rollout` stack output's text: what this `pulumi up` changed and what the next ones will. */
export function rolloutSummary(r: Rollout): string {
    if (!r.rolling) return "every node runs its configured image and instance type";
    const next = r.pending.length > 0
        ? `; run pulumi up again for the next node (${r.pending.length} left: ${r.pending.join(", ")})`
        : "; this was the last node";
    return `${r.rolling.node}: ${r.rolling.changes.join(", ")}${next}`;
}
