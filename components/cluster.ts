// KafkaCluster: the one component users build. A thin class over createKafkaCluster, which wires the layers: EC2
// mode creates the AWS layer and feeds its nodes to the provisioning layer; existing-hosts mode feeds it the hosts
// from config and creates no AWS resource.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { ADMIN_USER, ClusterConfig, Ec2Cluster, isValidated } from "./config";
import { createClusterId, createCredentials } from "./credentials";
import { JMX_USER, MONITORING_USER, NodeOutput, PORTS, clusterOutputs } from "./layout";
import { admitMigration, decideMigration, metadataTarget, observedClusterId } from "./migration";
import { ClusterSecrets, renderClientProperties } from "./render";
import { ProvisionArgs, RollGateTarget, observeNodes, provision, refuse, registerSteps, rollGate } from "./provision";
import { rollbackSteps } from "./roles/migration";
import { rolloutSummary } from "./rollout";
import { monitoringUrls, renderAlertRules, renderPrometheusConfig } from "./roles/monitoring";
import { Generated } from "./plan";
import { ClusterNode, NodeIdentity, controllerNodes, ec2Nodes, hostNodes, monitoringNodes, nodeNamed, zookeeperNodes } from "./topology";

export interface KafkaClusterArgs {
    /** The validated configuration: what parseConfig returns (the component refuses anything else). */
    config: ClusterConfig;
}

/** What a cluster gives back: its addresses for clients, its nodes and the results of its checks. */
export interface KafkaClusterOutputs {
    /** Client-reachable bootstrap servers, "host:port,..." (the client port of kafka:security's mode). */
    bootstrapServers: pulumi.Output<string>;
    /** ZooKeeper connect string with chroot (private addresses); empty on a KRaft cluster. */
    zookeeperConnect: pulumi.Output<string>;
    /** KRaft: the controllers' bootstrap addresses (private, the controllers' listener); empty in ZooKeeper mode. */
    controllerQuorum: pulumi.Output<string>;
    /** Every node: name, roles, ids, addresses, instance id (EC2) and an `ssh` command line. */
    nodes: pulumi.Output<NodeOutput[]>;
    /** Result of the final produce/consume check. */
    smokeTest: pulumi.Output<string>;
    /** Result of the quorum check: the ZooKeeper ensemble's, or the KRaft controllers'. */
    ensemble: pulumi.Output<string>;
    /** Result of the broker registration check. */
    brokers: pulumi.Output<string>;
    /** The SSH private key the program uses (secret). */
    sshPrivateKey: pulumi.Output<string>;
    /** The stack's CA certificate (PEM) that clients trust; empty with kafka:security plaintext (no CA). */
    caCertificate: pulumi.Output<string>;
    /** SCRAM passwords of kafka:clientUsers, by user (secret). */
    clientCredentials: pulumi.Output<Record<string, string>>;
    /**
     * Ready client.properties texts for Kafka's tools and Java clients, by user (secret): with sasl_ssl one per client
     * user and one for `admin`, the cluster's super user; otherwise one, `client`. The CA is inline.
     */
    clientProperties: pulumi.Output<Record<string, string>>;
    /** kafka:jmx: the JMX login and ports (secret); `{ enabled: false }` without it. */
    jmx: pulumi.Output<JmxOutput>;
    /** kafka:monitoring: each exporter's port, a Prometheus configuration scraping them and the alert rules; `{ enabled: false }` without it. */
    monitoring: pulumi.Output<MonitoringOutput>;
    /** EC2: which node this `pulumi up` moved to a new image or instance type, and which ones are left (one per up). */
    rollout: pulumi.Output<string>;
    /** The metadata mode the hosts run, as observed at this update (and, during a migration, its phase and the next command). */
    metadataMigration: pulumi.Output<string>;
}

/** What a Prometheus needs to watch the cluster (kafka:monitoring): the files to load, at the nodes' private addresses. */
export type MonitoringOutput = { enabled: false } |
    {
        enabled: true; brokerPort: number; zookeeperPort?: number; controllerPort?: number; nodeExporterPort: number; prometheusConfig: string; alertRules: string;
        /** With a monitoring host: its Prometheus, Alertmanager and overview page (TLS with the stack's CA), and the basic-auth login. */
        prometheusUrl?: string; alertmanagerUrl?: string; overviewUrl?: string; user?: string; password?: string;
    };

/** How a monitoring agent reaches the JMX connectors (kafka:jmx), at each node's private address. */
export type JmxOutput = { enabled: false } |
    { enabled: true; user: string; password: string; brokerPort: number; zookeeperPort?: number; controllerPort?: number };

export class KafkaCluster extends pulumi.ComponentResource implements KafkaClusterOutputs {
    public readonly bootstrapServers: pulumi.Output<string>;
    public readonly zookeeperConnect: pulumi.Output<string>;
    public readonly controllerQuorum: pulumi.Output<string>;
    public readonly nodes: pulumi.Output<NodeOutput[]>;
    public readonly smokeTest: pulumi.Output<string>;
    public readonly ensemble: pulumi.Output<string>;
    public readonly brokers: pulumi.Output<string>;
    public readonly sshPrivateKey: pulumi.Output<string>;
    public readonly caCertificate: pulumi.Output<string>;
    public readonly clientCredentials: pulumi.Output<Record<string, string>>;
    public readonly clientProperties: pulumi.Output<Record<string, string>>;
    public readonly jmx: pulumi.Output<JmxOutput>;
    public readonly monitoring: pulumi.Output<MonitoringOutput>;
    public readonly rollout: pulumi.Output<string>;
    public readonly metadataMigration: pulumi.Output<string>;

    constructor(name: string, args: KafkaClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kafka:index:KafkaCluster", name, {}, opts);
        const out = createKafkaCluster(name, args, this);
        this.bootstrapServers = out.bootstrapServers;
        this.zookeeperConnect = out.zookeeperConnect;
        this.controllerQuorum = out.controllerQuorum;
        this.nodes = out.nodes;
        this.smokeTest = out.smokeTest;
        this.ensemble = out.ensemble;
        this.brokers = out.brokers;
        this.sshPrivateKey = out.sshPrivateKey;
        this.caCertificate = out.caCertificate;
        this.clientCredentials = out.clientCredentials;
        this.clientProperties = out.clientProperties;
        this.jmx = out.jmx;
        this.monitoring = out.monitoring;
        this.rollout = out.rollout;
        this.metadataMigration = out.metadataMigration;
        this.registerOutputs({ ...out });
    }
}

/** Builds a cluster's resources under `parent`; refuses a configuration that did not come from parseConfig. */
export function createKafkaCluster(name: string, args: KafkaClusterArgs, parent: pulumi.Resource): KafkaClusterOutputs {
    const cfg = args.config;
    if (!isValidated(cfg)) {
        throw new Error(`KafkaCluster ${name}: args.config must be the result of parseConfig(raw, stack), which validates every ` +
            "setting before anything is created; build it with parseConfig instead of by hand");
    }

    let target: Pick<ProvisionArgs, "nodes" | "nodeDependencies" | "nodeInstanceIds" | "privateKey" | "dialErrorLimit">;
    let instanceIds: Record<string, pulumi.Output<string>> = {};
    let rollout: pulumi.Output<string> = pulumi.output("existing hosts: no instance to roll");
    let settle: ((nodes: pulumi.Output<ClusterNode[]>, after: pulumi.Resource[]) => void) | undefined;
    // What the hosts that run now report, observed at this preview or up (drift gives their configure steps a new
    // input), and the verdict on this update: the metadata mode they run against the configured one
    // (components/migration.ts). A change they cannot make is refused here, at preview, before any step of any host runs
    // and before anything is created: every step, certificate, cluster id and (EC2) AWS resource waits for the verdict.
    const judge = (observed: pulumi.Output<ClusterNode[]>, specs: NodeIdentity[], privateKey: pulumi.Input<string>) => {
        const observation = observeNodes(cfg, observed, specs.map((n) => n.name), privateKey, parent);
        const migration = observation.apply((o) => {
            const d = admitMigration(decideMigration(metadataTarget(cfg), o.reports, { migrationZnode: false }), o.reports, {
                controllerIds: controllerNodes(specs).map((n) => n.controllerId), zookeeperMembers: zookeeperNodes(specs).length,
                migrating: cfg.migration !== undefined,
            });
            if (d.refusal !== undefined) refuse(`kafka-cluster: ${d.refusal}. Nothing was changed on any host.`, parent);
            return d;
        });
        return { observation, migration };
    };
    let verdict: ReturnType<typeof judge>;
    if (cfg.mode === "hosts") {
        // Existing hosts should answer at once.
        target = { nodes: hostNodes(cfg), privateKey: pulumi.secret(cfg.hosts.sshPrivateKey), dialErrorLimit: 5 };
        verdict = judge(pulumi.output(hostNodes(cfg)), hostNodes(cfg), target.privateKey);
    } else {
        const key = sshKey(cfg, parent);
        // Loaded here so that existing-hosts mode never touches the AWS SDK.
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        const { createAwsHosts, lookupAws, runningNodes } = require("./aws") as typeof import("./aws");
        const specs = ec2Nodes(cfg);
        const found = lookupAws(cfg, specs, parent);
        // The instances running before this update (a new one has nothing to observe yet; one being replaced is
        // observed as it runs, and its successor's steps carry on from there).
        verdict = judge(found.apply((l) => runningNodes(cfg, specs, l)), specs, key.privateKey);
        // Every AWS resource and the roll gate take an input through the lookup: through the verdict too.
        const lookup = pulumi.all([found, verdict.migration]).apply(([l]) => l);
        // At most one running node changes its image or instance type per `pulumi up` (rollout.ts), between two gates.
        const rolling = lookup.rollout.rolling;
        rollout = lookup.rollout.apply(rolloutSummary);
        const gate = rollGate(`${cfg.clusterName}-roll-gate`, cfg, "before", pulumi.all([lookup, rollout]).apply(([l, summary]): RollGateTarget | undefined => {
            const r = l.rollout.rolling;
            if (r === undefined) return undefined;
            const nodes = runningNodes(cfg, specs, l);
            return { node: nodeNamed(nodes, r.node), nodes, stop: r.to.ami !== r.from.ami, summary };
        }), key.privateKey, parent);
        const aws = createAwsHosts({ config: cfg, nodes: specs, publicKey: key.publicKey, lookup, instanceDependsOn: [gate], parent });
        instanceIds = Object.fromEntries(Object.entries(aws.instances).map(([n, i]) => [n, i.id]));
        settle = (nodes, after) => rollGate(`${cfg.clusterName}-roll-settled`, cfg, "after",
            pulumi.all([nodes, rolling, rollout]).apply(([ns, r, summary]) =>
                (r === undefined ? undefined : { node: nodeNamed(ns, r.node), nodes: ns, stop: false, summary })),
            key.privateKey, parent, after);
        // EC2 instances refuse SSH for a minute or two after boot.
        target = { nodes: aws.nodes, nodeDependencies: aws.dependencies, nodeInstanceIds: instanceIds, privateKey: key.privateKey, dialErrorLimit: 60 };
    }
    const { observation, migration } = verdict;
    const clusterId = createClusterId(cfg, parent, migration);
    // A migration's controllers are formatted with the running cluster's id (admitMigration made sure there is one), and
    // its broker rolls read how each broker runs.
    const generated = pulumi.all([clusterId, observation, migration]).apply(([id, o]): Generated => {
        const running = cfg.migration ? observedClusterId(o.reports) : undefined;
        const clusterIdOf = running && "id" in running ? running.id : id;
        return {
            ...(clusterIdOf !== undefined ? { clusterId: clusterIdOf } : {}), generations: o.generations,
            ...(cfg.migration ? { brokerModes: Object.fromEntries(o.reports.flatMap((r) => (r.broker ? [[r.node, r.broker.mode]] : []))) } : {}),
        };
    });
    // The credentials wait for the verdict too: a certificate names the mode's principal, so a refused mode change would
    // otherwise issue new ones.
    const credentials = createCredentials(cfg, target.nodes, parent, migration);
    const base = { config: cfg, ...target, ...(credentials ? { secrets: credentials.secrets } : {}), generated, parent };
    // A migration's rollback (roles/migration.ts): steps this update alone needs, registered from the verdict (known at
    // preview: the observation runs there); every step of the plan waits until they are done.
    const admitted = pulumi.all([migration, observation]).apply(([d, o]) => {
        const steps = rollbackSteps(cfg, d, o.reports);
        if (steps.length === 0) return pulumi.output(d);
        const commands = registerSteps(steps, { ...base, admitted: migration });
        return pulumi.all(Object.values(commands).map((c) => (c as command.remote.Command).stdout)).apply(() => d);
    });
    const result = provision({ ...base, admitted, parent });
    settle?.(result.nodes, Object.values(result.commands));
    const outputs = pulumi.all([result.nodes, pulumi.all(instanceIds), result.hostKeys])
        .apply(([nodes, ids, hostKeys]) => clusterOutputs(cfg, nodes, ids, hostKeys));
    return {
        bootstrapServers: outputs.bootstrapServers,
        zookeeperConnect: outputs.zookeeperConnect,
        controllerQuorum: outputs.controllerQuorum,
        nodes: outputs.nodes,
        smokeTest: result.smokeTest,
        ensemble: result.ensemble,
        brokers: result.brokers,
        sshPrivateKey: pulumi.secret(target.privateKey),
        // (An undefined stack output makes the engine warn: a plaintext cluster has no CA, said as an empty text.)
        caCertificate: credentials ? credentials.caCertificate : pulumi.output(""),
        clientCredentials: credentials ? pulumi.secret(credentials.secrets.apply((s) => s.userPasswords)) : pulumi.output<Record<string, string>>({}),
        clientProperties: credentials ? pulumi.secret(credentials.secrets.apply((s) => clientPropertiesOf(cfg, s))) : pulumi.output(clientPropertiesOf(cfg)),
        // Off is said as such, for the same reason.
        jmx: credentials && cfg.jmx
            ? pulumi.secret(credentials.secrets.apply((s): JmxOutput => ({
                enabled: true, user: JMX_USER, password: s.jmxPassword ?? "", brokerPort: PORTS.brokerJmx,
                ...(cfg.metadata === "kraft" ? { controllerPort: PORTS.controllerJmx } : { zookeeperPort: PORTS.zookeeperJmx }),
            })))
            : pulumi.output<JmxOutput>({ enabled: false }),
        monitoring: cfg.monitoring
            ? pulumi.secret(pulumi.all([result.nodes, credentials?.secrets]).apply(([ns, s]): MonitoringOutput => {
                const host = monitoringNodes(ns)[0];
                const urls = host ? monitoringUrls(host) : undefined;
                return {
                    enabled: true, brokerPort: PORTS.brokerMetrics,
                    ...(cfg.metadata === "kraft" ? { controllerPort: PORTS.controllerMetrics } : { zookeeperPort: PORTS.zookeeperMetrics }),
                    nodeExporterPort: PORTS.nodeExporter, prometheusConfig: renderPrometheusConfig(cfg, ns), alertRules: renderAlertRules(cfg),
                    ...(urls ? {
                        prometheusUrl: urls.prometheus, alertmanagerUrl: urls.alertmanager, overviewUrl: urls.overview,
                        user: MONITORING_USER, password: s?.monitoringPassword ?? "",
                    } : {}),
                };
            }))
            : pulumi.output<MonitoringOutput>({ enabled: false }),
        rollout,
        // Once the steps are done (an update that failed leaves the output as it was).
        metadataMigration: pulumi.all([migration, result.smokeTest]).apply(([d]) => d.after),
    };
}

/** The clientProperties output: a client.properties text per user (sasl_ssl, admin included), else one, `client`. */
function clientPropertiesOf(cfg: ClusterConfig, secrets?: ClusterSecrets): Record<string, string> {
    const truststore = secrets ? { pem: secrets.caCertificate } : undefined;
    if (cfg.security.mode !== "sasl_ssl" || !secrets) return { client: renderClientProperties(cfg, undefined, truststore) };
    const logins = { [ADMIN_USER]: secrets.adminPassword, ...secrets.userPasswords };
    return Object.fromEntries(Object.entries(logins).map(([user, password]) => [user, renderClientProperties(cfg, { user, password }, truststore)]));
}

/**
 * The SSH key for EC2 mode: the configured private key, or one generated once and kept (encrypted) in state.
 * The public half is derived locally with ssh-keygen; the private key never appears in a command line.
 */
function sshKey(cfg: Ec2Cluster, parent: pulumi.Resource): { privateKey: pulumi.Output<string>; publicKey: pulumi.Output<string> } {
    const privateKey = cfg.ec2.sshPrivateKey !== undefined
        ? pulumi.secret(cfg.ec2.sshPrivateKey)
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
