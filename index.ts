// Reads the stack's `kafka:` configuration, validates all of it before anything is registered, builds one
// KafkaCluster and exports its outputs. Nothing else lives here.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseConfig, splitNamespaces } from "./components/config";
import { KafkaCluster } from "./components/cluster";

// Pulumi holds every value as text (structures as JSON); parseConfig reads each as its key's type says.
// Settings of ours under another namespace are errors, not silently ignored.
const { raw, others } = splitNamespaces(pulumi.runtime.allConfig());
const config = (() => {
    try {
        return parseConfig(raw, pulumi.getStack(), others, secretKeys(Object.keys(raw)));
    } catch (e) {
        // The problem list alone, once: a RunError is shown without the program's stack trace.
        if (e instanceof ConfigError) throw new pulumi.RunError(e.message);
        throw e;
    }
})();
/**
 * Which `kafka:` settings Pulumi holds as secrets. allConfig() returns every value decrypted and unmarked; the engine
 * passes the secret keys' names alongside, read by the SDK's isConfigSecret (internal to @pulumi/pulumi, hence the
 * require). Without it every setting counts as secret: commands carrying config are then encrypted, never leaked.
 */
function secretKeys(keys: string[]): string[] {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: (k: string) => boolean };
    return isConfigSecret ? keys.filter((k) => isConfigSecret(`kafka:${k}`)) : keys;
}

const cluster = new KafkaCluster(config.clusterName, { config });

export const bootstrapServers = cluster.bootstrapServers;
export const zookeeperConnect = cluster.zookeeperConnect;
/** KRaft: the controllers' bootstrap addresses (controller.quorum.bootstrap.servers); empty in ZooKeeper mode. */
export const controllerQuorum = cluster.controllerQuorum;
export const nodes = cluster.nodes;
export const smokeTest = cluster.smokeTest;
/** Secret: `pulumi stack output --show-secrets sshPrivateKey > key && chmod 600 key`. */
export const sshPrivateKey = cluster.sshPrivateKey;
/** The CA clients trust (kafka:security tls, sasl_ssl); empty with plaintext. */
export const caCertificate = cluster.caCertificate;
/** Secret: the SCRAM password of each kafka:clientUsers user. */
export const clientCredentials = cluster.clientCredentials;
/** Secret: a ready client.properties per user: `pulumi stack output --show-secrets clientProperties | jq -r .app > client.properties`. */
export const clientProperties = cluster.clientProperties;
/** Secret, with kafka:jmx: the JMX user, its password and the brokers' and ZooKeeper members' JMX ports (private addresses); else { enabled: false }. */
export const jmx = cluster.jmx;
/**
 * With kafka:monitoring: the exporters' ports and a Prometheus configuration and alert rules for this cluster:
 * `pulumi stack output monitoring | jq -r .prometheusConfig > prometheus.yml`, `... .alertRules > kafka-alerts.yml`; else { enabled: false }.
 */
export const monitoring = cluster.monitoring;
/** EC2: the node this update moved to a new image or instance type and the ones left, one per `pulumi up`. */
export const rollout = cluster.rollout;
/** The metadata mode the hosts run (ZooKeeper mode, KRaft mode), as observed at this update. */
export const metadataMigration = cluster.metadataMigration;
