// KafkaCluster: the one component users build. EC2 mode creates the AWS layer and feeds its hosts to the
// provisioning layer; existing-hosts mode feeds it the addresses from config and creates no AWS resource.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { ClusterConfig } from "./config";
import { HostNode, provision } from "./provision";
import { NodeOutput, clusterOutputs } from "./layout";
import { planNodes, resolveExistingHosts } from "./topology";

export interface KafkaClusterArgs {
    /** Validated configuration (see parseConfig). */
    config: ClusterConfig;
}

export class KafkaCluster extends pulumi.ComponentResource {
    /** Client-reachable bootstrap servers, "host:9092,...". */
    public readonly bootstrapServers: pulumi.Output<string>;
    /** ZooKeeper connect string with chroot (private addresses). */
    public readonly zookeeperConnect: pulumi.Output<string>;
    public readonly nodes: pulumi.Output<NodeOutput[]>;
    /** Result of the final produce/consume check. */
    public readonly smokeTest: pulumi.Output<string>;
    public readonly ensemble: pulumi.Output<string>;
    public readonly brokers: pulumi.Output<string>;
    /** The SSH private key the program uses (secret). */
    public readonly sshPrivateKey: pulumi.Output<string>;

    constructor(name: string, args: KafkaClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kafka:index:KafkaCluster", name, {}, opts);
        const cfg = args.config;

        let hosts: HostNode[];
        let privateKey: pulumi.Input<string>;
        let instanceIds: Record<string, pulumi.Output<string>> = {};
        if (cfg.mode === "hosts") {
            privateKey = pulumi.secret(cfg.sshPrivateKey!);
            hosts = resolveExistingHosts(cfg).map((n) => ({
                spec: n, sshAddress: n.sshAddress, clientAddress: n.clientAddress, privateAddress: n.privateAddress, rack: n.rack,
            }));
        } else {
            const key = sshKey(cfg, this);
            privateKey = key.privateKey;
            // Loaded here so that existing-hosts mode never touches the AWS SDK.
            // eslint-disable-next-line @typescript-eslint/no-var-requires
            const { createAwsHosts } = require("./aws") as typeof import("./aws");
            const awsHosts = createAwsHosts({ config: cfg, nodes: planNodes(cfg), publicKey: key.publicKey, parent: this });
            hosts = awsHosts.hosts;
            instanceIds = Object.fromEntries(Object.entries(awsHosts.instances).map(([n, i]) => [n, i.id]));
        }

        const result = provision({
            config: cfg, hosts, privateKey, parent: this,
            // EC2 instances refuse SSH for a minute or two after boot; existing hosts should answer at once.
            dialErrorLimit: cfg.mode === "ec2" ? 60 : 5,
        });

        const outputs = pulumi.all([result.nodes, pulumi.all(instanceIds)]).apply(([nodes, ids]) => clusterOutputs(cfg, nodes, ids));
        this.bootstrapServers = outputs.bootstrapServers;
        this.zookeeperConnect = outputs.zookeeperConnect;
        this.nodes = outputs.nodes;
        this.smokeTest = result.smokeTest;
        this.ensemble = result.ensemble;
        this.brokers = result.brokers;
        this.sshPrivateKey = pulumi.secret(privateKey);
        this.registerOutputs({
            bootstrapServers: this.bootstrapServers, zookeeperConnect: this.zookeeperConnect, nodes: this.nodes,
            smokeTest: this.smokeTest, ensemble: this.ensemble, brokers: this.brokers, sshPrivateKey: this.sshPrivateKey,
        });
    }
}

/**
 * The SSH key for EC2 mode: the configured private key, or one generated once and kept (encrypted) in state.
 * The public half is derived locally with ssh-keygen; the private key never appears in a command line.
 */
function sshKey(cfg: ClusterConfig, parent: pulumi.Resource): { privateKey: pulumi.Output<string>; publicKey: pulumi.Output<string> } {
    const privateKey = cfg.sshPrivateKey !== undefined
        ? pulumi.secret(cfg.sshPrivateKey)
        : new command.local.Command(`${cfg.clusterName}-ssh-key`, {
            create: `set -eu; d=$(mktemp -d); trap 'rm -rf "$d"' EXIT; ssh-keygen -q -t ed25519 -N '' -C ${cfg.clusterName} -f "$d/key"; cat "$d/key"`,
            logging: "none",
        }, { parent, additionalSecretOutputs: ["stdout"] }).stdout;
    const publicKey = new command.local.Command(`${cfg.clusterName}-ssh-public-key`, {
        create: `set -eu; umask 077; f=$(mktemp); trap 'rm -f "$f"' EXIT; cat > "$f"; ssh-keygen -y -f "$f"`,
        stdin: privateKey.apply((k) => (k.endsWith("\n") ? k : k + "\n")),
        logging: "stderr",
    }, { parent }).stdout;
    return { privateKey, publicKey };
}

