// Reads the stack's `kafka:` configuration, validates all of it before anything is registered, builds one
// KafkaCluster and exports its outputs. Nothing else lives here.
import * as pulumi from "@pulumi/pulumi";
import { parseConfig, splitNamespaces } from "./components/config";
import { KafkaCluster } from "./components/cluster";

// Pulumi holds every value as text (structures as JSON); parseConfig reads each as its key's type says.
// Settings of ours under another namespace are errors, not silently ignored.
const { raw, others } = splitNamespaces(pulumi.runtime.allConfig());
const config = parseConfig(raw, pulumi.getStack(), others);
const cluster = new KafkaCluster(config.clusterName, { config });

export const bootstrapServers = cluster.bootstrapServers;
export const zookeeperConnect = cluster.zookeeperConnect;
export const nodes = cluster.nodes;
export const smokeTest = cluster.smokeTest;
/** Secret: `pulumi stack output --show-secrets sshPrivateKey > key && chmod 600 key`. */
export const sshPrivateKey = cluster.sshPrivateKey;
