// Reads the stack's `kafka:` configuration, validates all of it before anything is registered, builds one
// KafkaCluster and exports its outputs. Nothing else lives here.
import * as pulumi from "@pulumi/pulumi";
import { parseConfig, RawConfig } from "./components/config";
import { KafkaCluster } from "./components/cluster";

const raw: RawConfig = {};
const prefix = "kafka:";
for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (!key.startsWith(prefix)) continue;
    let v: unknown = value;
    try {
        v = JSON.parse(value);
    } catch {
        /* plain string */
    }
    raw[key.slice(prefix.length)] = typeof v === "number" || typeof v === "boolean" || typeof v === "object" ? v : value;
}

const config = parseConfig(raw, pulumi.getStack());
const cluster = new KafkaCluster(config.clusterName, { config });

export const bootstrapServers = cluster.bootstrapServers;
export const zookeeperConnect = cluster.zookeeperConnect;
export const nodes = cluster.nodes;
export const smokeTest = cluster.smokeTest;
/** Secret: `pulumi stack output --show-secrets sshPrivateKey > key && chmod 600 key`. */
export const sshPrivateKey = cluster.sshPrivateKey;
