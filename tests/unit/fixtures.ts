// Resolved clusters for renderer and plan tests: N nodes, co-located or dedicated, plain addresses; the bash syntax check.
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ClusterConfig, RawConfig, parseConfig } from "../../components/config";
import { ClusterSecrets } from "../../components/render";
import { ClusterNode, NodeIdentity, ec2Nodes, hostNodes } from "../../components/topology";
import { SSH } from "./stacks";

/**
 * Stand-in credentials of a secured cluster: recognisable text in PEM dress (nothing parses it here) and passwords that
 * name what they are, so a test can search for each.
 */
export function testSecrets(cfg: ClusterConfig, nodes: ClusterNode[]): ClusterSecrets {
    const pem = (kind: string, body: string) => `-----BEGIN ${kind}-----\n${Buffer.from(body).toString("base64")}\n-----END ${kind}-----\n`;
    const caCertificate = pem("CERTIFICATE", `test CA of ${cfg.clusterName}`);
    return {
        caCertificate,
        keystores: Object.fromEntries(nodes.filter((n) => n.brokerId !== undefined || n.controllerId !== undefined || n.roles.includes("monitoring")).map((n) =>
            [n.name, pem("PRIVATE KEY", `key of ${n.name}`) + pem("CERTIFICATE", `certificate of ${n.name}`) + caCertificate])),
        adminPassword: "admin-password-0000",
        zookeeperPassword: "zookeeper-password-0000",
        userPasswords: Object.fromEntries(cfg.security.clientUsers.map((u) => [u, `${u}-password-0000`])),
        ...(cfg.jmx ? { jmxPassword: "jmx-password-0000" } : {}),
        ...(cfg.monitoring && nodes.some((n) => n.roles.includes("monitoring")) ? { monitoringPassword: "monitoring-password-0000" } : {}),
    };
}

export function cluster(brokers: number, zks: number, placement: "colocated" | "dedicated", extra: RawConfig = {}):
    { cfg: ClusterConfig; nodes: ClusterNode[]; secrets: ClusterSecrets } {
    return resolved(parseConfig({
        ...(extra.hosts ? {} : SSH), brokerCount: brokers, zookeeperCount: zks, zookeeperPlacement: placement, ...extra,
    }, "test"));
}

/** A KRaft cluster (kafka:metadata kraft) of `brokers` brokers and `controllers` controllers, resolved like cluster(). */
export function kraftCluster(brokers: number, controllers: number, placement: "colocated" | "dedicated", extra: RawConfig = {}):
    { cfg: ClusterConfig; nodes: ClusterNode[]; secrets: ClusterSecrets } {
    return resolved(parseConfig({
        ...(extra.hosts ? {} : SSH), metadata: "kraft", brokerCount: brokers, controllerCount: controllers, controllerPlacement: placement, ...extra,
    }, "test"));
}

/** The generated values of a KRaft test cluster. */
export const TEST_GENERATED = { clusterId: "MkU3OEVBNTcwNTJENDM2Qk" };

function resolved(cfg: ClusterConfig): { cfg: ClusterConfig; nodes: ClusterNode[]; secrets: ClusterSecrets } {
    const specs: (NodeIdentity & { dataVolume?: boolean })[] = cfg.mode === "hosts" ? hostNodes(cfg) : ec2Nodes(cfg);
    const nodes = specs.map(({ name, roles, brokerId, zookeeperId, controllerId, user, dataVolume }, i): ClusterNode => ({
        name, roles, user,
        ...(brokerId !== undefined ? { brokerId } : {}),
        ...(zookeeperId !== undefined ? { zookeeperId } : {}),
        ...(controllerId !== undefined ? { controllerId } : {}),
        sshAddress: `203.0.113.${i + 1}`,
        clientAddress: `203.0.113.${i + 1}`,
        privateAddress: `10.0.0.${i + 1}`,
        rack: `us-east-1${"abc"[i % 3]}`,
        ...(dataVolume ? { dataVolumeId: `vol-0${i + 1}` } : {}),
    }));
    return { cfg, nodes, secrets: testSecrets(cfg, nodes) };
}

/** Runs `f` with a fresh temporary directory (named after `prefix`), removed afterwards however `f` ends. */
export function withTempDir<T>(prefix: string, f: (dir: string) => T): T {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    try {
        return f(dir);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** `bash -n` on a script's text (from stdin); throws with bash's message when it does not parse. */
export function bashSyntax(script: string): void {
    try {
        execFileSync("bash", ["-n"], { input: script, stdio: ["pipe", "pipe", "pipe"] });
    } catch (e: any) {
        throw new Error(`bash -n: ${String(e.stderr).trim()}`);
    }
}

/** The files a configure step writes (its MANIFEST_B64: base64 of "path mode owner base64-content" lines), as text. */
export function manifestText(create: string): string {
    const b64 = /MANIFEST_B64='?([A-Za-z0-9+\/=]+)/.exec(create);
    assert.ok(b64, "the command carries MANIFEST_B64");
    return Buffer.from(b64![1], "base64").toString("utf8").split("\n").filter(Boolean)
        .map((l) => Buffer.from(l.split(" ")[3], "base64").toString("utf8")).join("\n");
}
