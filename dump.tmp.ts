import { parseConfig } from "./components/config";
import * as topo from "./components/topology";
import * as plan from "./components/plan";
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n";
const configs: any[] = [
  { sshCidrs: ["198.51.100.7/32"] },
  { sshCidrs: ["198.51.100.7/32"], zookeeperPlacement: "dedicated", dataVolume: { sizeGb: 100 } },
  { hosts: [1,2,3].map((id) => ({ id, address: `192.0.2.${id}` })), sshUser: "admin", sshPrivateKey: KEY },
  { hosts: [1,2,3,4].map((id) => ({ id, address: `192.0.2.${id}` })), sshUser: "admin", sshPrivateKey: KEY, brokerCount: 4, wipeOnDestroy: true },
];
const out: any[] = [];
for (const raw of configs) {
  const cfg: any = parseConfig(raw, "t");
  const specs: any[] = (topo as any).planNodes ? (topo as any).planNodes(cfg) : (cfg.mode === "hosts" ? (topo as any).hostNodes(cfg) : (topo as any).ec2Nodes(cfg));
  const nodes = specs.map((n: any, i: number) => ({ name: n.name, roles: n.roles, user: n.user, brokerId: n.brokerId, zookeeperId: n.zookeeperId,
    sshAddress: `203.0.113.${i+1}`, clientAddress: `203.0.113.${i+1}`, privateAddress: `10.0.0.${i+1}`, rack: "r1",
    ...((raw.dataVolume && n.brokerId) ? { dataVolumeId: `vol-${n.brokerId}` } : {}) }));
  const steps = (plan as any).renderPlan ? (plan as any).renderPlan(cfg, nodes) : (plan as any).planSteps(cfg, nodes);
  out.push(steps.map((s: any) => ({ name: s.name, dependsOn: s.dependsOn, create: s.create, delete: s.delete })));
}
console.log(JSON.stringify(out, null, 1));
