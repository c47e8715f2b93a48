// Resolved clusters for renderer and plan tests: N nodes, co-located or dedicated, plain addresses.
import { ClusterConfig, RawConfig, parseConfig } from "../../components/config";
import { ResolvedNode, planNodes } from "../../components/topology";

export function cluster(brokers: number, zks: number, placement: "colocated" | "dedicated", extra: RawConfig = {}):
    { cfg: ClusterConfig; nodes: ResolvedNode[] } {
    const cfg = parseConfig({
        ...(extra.hosts ? {} : { sshCidrs: ["198.51.100.7/32"] }), brokerCount: brokers, zookeeperCount: zks, zookeeperPlacement: placement, ...extra,
    }, "test");
    const nodes = planNodes(cfg).map((n, i): ResolvedNode => ({
        ...n,
        sshAddress: `203.0.113.${i + 1}`,
        clientAddress: `203.0.113.${i + 1}`,
        privateAddress: `10.0.0.${i + 1}`,
        rack: `us-east-1${"abc"[i % 3]}`,
    }));
    return { cfg, nodes };
}
