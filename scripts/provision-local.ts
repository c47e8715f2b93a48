// Engine-free provisioning of an existing-hosts stack: renders the same plan the Pulumi program turns into
// remote.Commands (components/plan.ts) and runs it over SSH, each step as soon as its dependencies are done.
// Used by the quick start where the Pulumi engine or the command provider plugin cannot be installed.
//   ts-node scripts/provision-local.ts up|down [stack]     (default stack: local)
import { parseConfig } from "../components/config";
import { clientEndpoint, planSteps } from "../components/plan";
import { replication, zookeeperConnect } from "../components/render";
import { brokerNodes, resolveExistingHosts } from "../components/topology";
import { Ssh, log, runPlan, runTeardown } from "./lib/local";
import { stackConfig } from "./lib/stack";

async function main(action: string, stack: string) {
    const raw = stackConfig(stack);
    const cfg = parseConfig(raw, stack);
    if (cfg.mode !== "hosts" || typeof raw.sshPrivateKeyPath !== "string") {
        throw new Error(`stack ${stack} must be an existing-hosts stack with kafka:sshPrivateKeyPath`);
    }
    const nodes = resolveExistingHosts(cfg);
    const steps = planSteps(cfg, nodes);
    const ssh = new Ssh({ sshKeyPath: raw.sshPrivateKeyPath, sshUser: cfg.sshUser });
    const t0 = Date.now();
    if (action === "down") {
        await runTeardown(ssh, steps, nodes);
        log(`services stopped and disabled on ${nodes.length} host(s) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        return;
    }
    const results = await runPlan(ssh, steps, nodes);
    log(`provisioned ${nodes.length} host(s) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const outputs = {
        bootstrapServers: brokerNodes(nodes).map(clientEndpoint).join(","),
        zookeeperConnect: zookeeperConnect(cfg, nodes),
        replication: replication(brokerNodes(nodes).length),
        nodes: nodes.map((n) => ({ name: n.name, roles: n.roles, brokerId: n.brokerId, zookeeperId: n.zookeeperId, address: n.sshAddress,
            ssh: `ssh -i ${raw.sshPrivateKeyPath} ${n.user}@${n.sshAddress}` })),
        ensemble: results.get("cluster-ensemble")!.stdout.trim(),
        brokers: results.get("cluster-brokers")!.stdout.trim(),
        smokeTest: results.get("cluster-smoke")!.stdout.trim(),
    };
    console.log(JSON.stringify(outputs, null, 2));
}

main(process.argv[2] ?? "up", process.argv[3] ?? "local").catch((e) => {
    console.error(String(e instanceof Error ? e.message : e));
    process.exit(1);
});
