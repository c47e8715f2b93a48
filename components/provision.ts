// Pulumi layer over plan.ts: one remote.Command per planned step, wired with the plan's dependencies. The nodes
// come from the AWS layer (EC2 mode, addresses are instance outputs) or straight from config (existing hosts).
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { Bastion, ClusterConfig } from "./config";
import { carriesSecret, remoteInvocation, stepCommand } from "./host-command";
import { hostKeyFrom, sshPort } from "./layout";
import { NodeReport, parseReport } from "./migration";
import { CommandText, Generated, Step, commandText, observeCommand, planSteps, rollGateCommand, waves } from "./plan";
import { ClusterSecrets } from "./render";
import { ClusterNode, nodeNamed } from "./topology";

export interface ProvisionArgs {
    config: ClusterConfig;
    /** The nodes; their addresses may still be unknown (EC2 instances being created). */
    nodes: ClusterNode<pulumi.Input<string>>[];
    /** Per node name: resources every command on the node waits for (instance, volume attachment). */
    nodeDependencies?: Record<string, pulumi.Resource[]>;
    /**
     * EC2: per node name, its instance's id. Every command on the node has it as `triggers`: a replaced instance (a new
     * image, or `pulumi up --replace`) runs all of the node's steps again, even where its addresses stay the same (an
     * Elastic IP, and a step whose text names no private address, such as the install).
     */
    nodeInstanceIds?: Record<string, pulumi.Input<string>>;
    privateKey: pulumi.Input<string>;
    /** The cluster's generated credentials (kafka:security tls, sasl_ssl): what steps marked `secrets` get. */
    secrets?: pulumi.Output<ClusterSecrets>;
    /** Values generated once per stack (the KRaft cluster id): what steps marked `generated` get. */
    generated?: pulumi.Output<Generated>;
    /**
     * What every step waits for before it gets its command: the observation's verdict on the hosts (a refusal fails it,
     * so that no step of any host runs).
     */
    admitted?: pulumi.Output<unknown>;
    /** How many failed SSH dials to accept per command (fresh instances refuse connections for a while). */
    dialErrorLimit: number;
    parent: pulumi.Resource;
}

export interface Provisioned {
    /** The nodes with their addresses resolved, in the order they were given. */
    nodes: pulumi.Output<ClusterNode[]>;
    /** One resource per planned step: remote.Command, or local.Command for the teardown steps. */
    commands: Record<string, pulumi.CustomResource>;
    /** The quorum check's result: the ZooKeeper ensemble's or the KRaft controllers'. */
    ensemble: pulumi.Output<string>;
    brokers: pulumi.Output<string>;
    smokeTest: pulumi.Output<string>;
    /** Per node name: the SSH host key its ready step saw. */
    hostKeys: pulumi.Output<Record<string, string | undefined>>;
}

export function provision(args: ProvisionArgs): Provisioned {
    const nodes = pulumi.output(args.nodes) as pulumi.Output<ClusterNode[]>;
    const commands = registerSteps(planSteps(args.config, args.nodes), args);
    return {
        nodes,
        commands,
        ensemble: (commands[commands["cluster-ensemble"] ? "cluster-ensemble" : "cluster-quorum"] as command.remote.Command).stdout,
        brokers: (commands["cluster-brokers"] as command.remote.Command).stdout,
        smokeTest: (commands["cluster-smoke"] as command.remote.Command).stdout,
        hostKeys: pulumi.all(Object.fromEntries(args.nodes.map((n) =>
            [n.name, (commands[`${n.name}-ready`] as command.remote.Command).stdout.apply(hostKeyFrom)]))),
    };
}

/**
 * One resource per step (remote.Command, or local.Command for a step with a `delete`), registered in dependency order
 * so that every step's dependencies exist when it is created. provision() registers the plan; KafkaCluster also the
 * steps an update needs once (a migration's rollback, roles/migration.ts).
 */
export function registerSteps(steps: Step[], args: ProvisionArgs): Record<string, pulumi.CustomResource> {
    const { config, parent } = args;
    const nodes = pulumi.output(args.nodes) as pulumi.Output<ClusterNode[]>;
    const commands: Record<string, pulumi.CustomResource> = {};
    const bastion = bastionOf(config);
    const admit = <T>(input: pulumi.Input<T>): pulumi.Input<T> =>
        (args.admitted === undefined ? input : pulumi.all([args.admitted, input]).apply(([, v]) => v as T));
    for (const step of waves(steps).flat()) {
        const node = nodeNamed(args.nodes, step.node);
        const deps: pulumi.Resource[] = [...step.dependsOn.map((d) => commands[d]), ...(args.nodeDependencies?.[step.node] ?? [])];
        if (step.delete !== undefined) {
            commands[step.name] = teardownCommand(step.name, step.delete, node, args, nodes, deps);
            continue;
        }
        commands[step.name] = new command.remote.Command(step.name, {
            connection: {
                host: node.sshAddress,
                port: sshPort(config),
                user: node.user,
                privateKey: args.privateKey,
                dialErrorLimit: args.dialErrorLimit,
                perDialTimeout: 15,
                // Through the bastion: the provider dials it first, then the host from it (kafka:bastion).
                ...(bastion !== undefined ? { proxy: proxyConnection(bastion, args.privateKey) } : {}),
            },
            // A short command naming the step; the script and its environment on stdin (see remoteInvocation), as a
            // secret when it carries a secret setting.
            create: stepCommand(step.name),
            stdin: admit(step.secrets
                ? withSecrets(step.create, nodes, args.secrets, (line) => remoteInvocation(line, step.name).stdin, step.generated ? needGenerated(args) : undefined)
                : secretIfCarrying(step.create, config, nodes, (line) => remoteInvocation(line, step.name).stdin, step.generated ? needGenerated(args) : undefined)),
            ...(args.nodeInstanceIds?.[step.node] !== undefined ? { triggers: [args.nodeInstanceIds[step.node]] } : {}),
            // Nothing here reads PULUMI_COMMAND_STDOUT/STDERR, and sending them needs AcceptEnv on every sshd (the
            // provider warns on each update where it is missing).
            addPreviousOutputInEnv: false,
        }, {
            parent,
            dependsOn: deps,
            customTimeouts: { create: "40m", update: "40m" },
        });
    }
    return commands;
}

/** kafka:bastion of either mode. */
export function bastionOf(config: ClusterConfig): Bastion | undefined {
    return config.mode === "hosts" ? config.hosts.bastion : config.ec2.bastion;
}

/**
 * remote.Command's `connection.proxy` for the bastion: its own key when kafka:bastionPrivateKey is set, else the
 * cluster's. The bastion is a jump host only: the dial limits are the real provider's defaults (10 failed dials, 15 s
 * each), as it is expected to be up before `pulumi up` starts, unlike fresh instances.
 */
function proxyConnection(bastion: Bastion, clusterKey: pulumi.Input<string>): command.types.input.remote.ProxyConnectionArgs {
    return {
        host: bastion.host,
        port: bastion.port,
        user: bastion.user,
        privateKey: bastion.privateKey !== undefined ? pulumi.secret(bastion.privateKey) : clusterKey,
        dialErrorLimit: 10,
        perDialTimeout: 15,
    };
}

/**
 * A step's command text (or what `as` makes of it) as a resource input: a Pulumi secret when the text carries a secret
 * setting (plain or base64, e.g. a secret broker property inside server.properties), so it is encrypted in state and
 * hidden in previews.
 */
function secretIfCarrying(text: CommandText, config: ClusterConfig, nodes: pulumi.Output<ClusterNode[]>,
    as: (line: string) => string = (line) => line, generated?: pulumi.Output<Generated>): pulumi.Input<string> {
    const protect = (t: string): pulumi.Output<string> =>
        (carriesSecret(t, config.secretValues) ? pulumi.secret(as(t)) : pulumi.output(as(t)));
    return typeof text === "string" ? protect(text)
        : pulumi.all([nodes, generated ?? NO_GENERATED_OUTPUT]).apply(([ns, g]) => protect(commandText(text, ns, undefined, g)));
}

/** No generated values (a step not marked `generated` gets NO_GENERATED, whose every read fails). */
const NO_GENERATED_OUTPUT = pulumi.output<Generated | undefined>(undefined);

/** The generated values, for a step marked `generated`. */
function needGenerated(args: ProvisionArgs): pulumi.Output<Generated> {
    if (args.generated === undefined) throw new Error("a step that needs the cluster id needs the cluster's generated values");
    return args.generated;
}

/** The command text of a step that carries generated credentials: always a secret. */
function withSecrets(text: CommandText, nodes: pulumi.Output<ClusterNode[]>, secrets: pulumi.Output<ClusterSecrets> | undefined,
    as: (line: string) => string, generated?: pulumi.Output<Generated>): pulumi.Output<string> {
    if (secrets === undefined) throw new Error("a step that carries credentials needs the cluster's generated credentials");
    return pulumi.secret(pulumi.all([nodes, secrets, generated ?? NO_GENERATED_OUTPUT]).apply(([ns, s, g]) => as(commandText(text, ns, s, g))));
}

/**
 * The destroy-time step: `create` does nothing, `delete` stops the node's service over SSH. It is a local command that
 * runs `ssh` itself, with the connection (key, port, user@address) in its secret environment.
 *
 * A remote.Command would behave the same on a connection change: in @pulumi/command 1.2.1 a change to `connection`
 * is an update (it runs `create` again, here a no-op), not a replacement, so neither runs `delete` on a healthy
 * host. The local command is the design that shipped and that the real-host teardown test covers; its `delete`
 * runs with the environment of its last successful create or update.
 */
function teardownCommand(name: string, remoteCommand: CommandText, node: ClusterNode<pulumi.Input<string>>, args: ProvisionArgs,
    nodes: pulumi.Output<ClusterNode[]>, deps: pulumi.Resource[]): command.local.Command {
    return new command.local.Command(name, {
        create: "true",
        delete: teardownScript(bastionOf(args.config) !== undefined),
        environment: pulumi.secret(pulumi.all([args.privateKey, node.sshAddress, secretIfCarrying(remoteCommand, args.config, nodes)])
            .apply(([key, address, remote]) => sshEnvironment(args.config, key, `${node.user}@${address}`, remote))),
        logging: "stderr",
    }, { parent: args.parent, dependsOn: deps, customTimeouts: { delete: "10m" } });
}

/** The node a roll gate runs on, with the cluster as that gate sees it. */
export interface RollGateTarget {
    node: ClusterNode;
    nodes: ClusterNode[];
    /** Stop the node's services after the check (its instance is replaced). */
    stop: boolean;
    /** What changes (the rollout summary): a new one makes the gate run again. */
    summary: string;
}

/**
 * EC2 rolling node change: a local command that runs roll-gate.sh over SSH (the teardown's ssh line) on the node this
 * `pulumi up` changes, or does nothing when no node changes. `phase` before: every instance waits for it; after: it
 * waits for every other step. It runs again whenever the node or the change is a new one.
 */
export function rollGate(name: string, config: ClusterConfig, phase: "before" | "after", target: pulumi.Output<RollGateTarget | undefined>,
    privateKey: pulumi.Input<string>, parent: pulumi.Resource, dependsOn: pulumi.Resource[] = []): command.local.Command {
    return new command.local.Command(name, {
        create: target.apply((t) => (t ? teardownScript(bastionOf(config) !== undefined) : "true")),
        environment: pulumi.secret(pulumi.all([target, privateKey]).apply(([t, key]): Record<string, string> => (t === undefined ? {} : {
            KC_ROLL: t.summary,
            ...sshEnvironment(config, key, `${t.node.user}@${t.node.sshAddress}`, rollGateCommand(config, t.node, t.nodes, phase, t.stop)),
        }))),
        logging: "stderr",
    }, { parent, dependsOn, customTimeouts: { create: "40m", update: "40m" } });
}

/**
 * The environment teardownScript's ssh line reads: the key, port and user@address of the host, the command to run
 * there and, with kafka:bastion, the bastion's key (its own, else the cluster's), port and user@host.
 */
function sshEnvironment(config: ClusterConfig, key: string, target: string, remoteCommand: string): Record<string, string> {
    const bastion = bastionOf(config);
    return {
        KC_SSH_KEY: key, KC_SSH_PORT: String(sshPort(config)), KC_SSH_TARGET: target, KC_REMOTE_COMMAND: remoteCommand,
        ...(bastion !== undefined
            ? { KC_BASTION_KEY: bastion.privateKey ?? key, KC_BASTION_PORT: String(bastion.port), KC_BASTION_TARGET: `${bastion.user}@${bastion.host}` }
            : {}),
    };
}

/** OpenSSH options of every ssh the teardown runs: no agent, no prompts, no known_hosts, bounded connect time. */
const SSH_OPTIONS = "-o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null " +
    "-o ConnectTimeout=20 -o LogLevel=ERROR";

/**
 * The teardown's shell script: `ssh` to KC_SSH_TARGET (port KC_SSH_PORT) running KC_REMOTE_COMMAND, with the key
 * KC_SSH_KEY written to a 0600 temp file. With `viaBastion`, the connection goes through KC_BASTION_TARGET (port
 * KC_BASTION_PORT, key KC_BASTION_KEY in a file of its own) as a ProxyCommand `ssh -W`, which is what `-J` does, but
 * with the bastion's key: `-J` would log in to the bastion with the user's default keys, not `-i`. Only file names
 * appear on command lines, never a key.
 */
export function teardownScript(viaBastion: boolean): string {
    // Without a bastion this is, byte for byte, the script of stacks from before kafka:bastion (no update on upgrade).
    if (!viaBastion) {
        return [
            'set -eu; umask 077; key=$(mktemp); trap \'rm -f "$key"\' EXIT; printf \'%s\\n\' "$KC_SSH_KEY" > "$key"',
            `ssh -i "$key" ${SSH_OPTIONS} -p "$KC_SSH_PORT" "$KC_SSH_TARGET" "$KC_REMOTE_COMMAND"`,
        ].join("; ");
    }
    return [
        'set -eu; umask 077; key=$(mktemp); bkey=$(mktemp); trap \'rm -f "$key" "$bkey"\' EXIT',
        'printf \'%s\\n\' "$KC_SSH_KEY" > "$key"; printf \'%s\\n\' "$KC_BASTION_KEY" > "$bkey"',
        `proxy="ssh -i '$bkey' ${SSH_OPTIONS} -p $KC_BASTION_PORT -W [%h]:%p $KC_BASTION_TARGET"`,
        `ssh -i "$key" ${SSH_OPTIONS} -o "ProxyCommand=$proxy" -p "$KC_SSH_PORT" "$KC_SSH_TARGET" "$KC_REMOTE_COMMAND"`,
    ].join("; ");
}

/**
 * Stops this preview or update with `message` as the error a user reads: logged on `on` (the KafkaCluster), because
 * what the program throws inside an output reaches the engine wrapped in one "error serializing property" per output
 * it passed through; the thrown error only says where to look.
 */
export function refuse(message: string, on: pulumi.Resource): never {
    pulumi.log.error(message, on);
    throw new Refusal(message);
}

/** The error refuse() throws: a short pointer to the logged reason, which it keeps as `reason`. */
export class Refusal extends pulumi.RunError {
    constructor(public readonly reason: string) {
        super("kafka-cluster: stopped before any change; the reason is the error logged on the KafkaCluster resource");
    }
}

/** What observe.sh reports of the running nodes: each node's repair generation, and what each host's roles run. */
export interface Observation {
    /** Per node name (every node of the plan; "0" for a node with no host running yet). */
    generations: Record<string, string>;
    /** The facts of each role the running hosts were provisioned with (components/migration.ts reads them). */
    reports: NodeReport[];
}

/**
 * Each node whose host runs observed at this preview or up (observe.sh over SSH, read-only, through the
 * `command:local:run` invoke, which runs every time): its repair generation, by node name, and its roles' facts. A node
 * with drift (a provisioned service down, a managed file changed by hand) gets a new generation, so its configure steps
 * show as changes in the preview and `pulumi up` runs them (inside their usual gates); each drift is reported on the
 * node. A node that cannot be reached fails the preview or update with its name, address and SSH's error. A node of
 * `all` with no host running yet (a new EC2 instance) has a fresh node's generation, 0, which is what observe.sh
 * reports once it runs.
 */
export function observeNodes(config: ClusterConfig, nodes: pulumi.Input<ClusterNode[]>, all: string[], privateKey: pulumi.Input<string>,
    parent: pulumi.Resource): pulumi.Output<Observation> {
    const bastion = bastionOf(config) !== undefined;
    const observeOne = async (n: ClusterNode, key: string): Promise<[string, string, NodeReport]> => {
        const env = sshEnvironment(config, key, `${n.user}@${n.sshAddress}`, observeCommand(config, n));
        // The script reports; a failed ssh is reported by the program with the node's name instead of an invoke error.
        const result = await command.local.run({
            command: `( ${teardownScript(bastion)} ) 2>&1 || { rc=$?; echo "kc-observe-failed: exit status $rc"; }`,
            environment: env, logging: "none",
        }, { parent });
        const out = result.stdout;
        if (/^kc-observe-failed: /m.test(out)) {
            refuse(`observing ${n.name} (${n.user}@${n.sshAddress}:${sshPort(config)}) over SSH failed: ` +
                `${out.replace(/^kc-observe-failed: .*$/m, "").trim().slice(-600)}. Fix: check that the host is up and kafka:sshPrivateKey, ` +
                "kafka:sshUser and kafka:sshPort are right, then run pulumi up again", parent);
        }
        for (const d of out.split("\n").filter((l) => l.startsWith("drift: "))) {
            pulumi.log.warn(`${n.name}: ${d.slice("drift: ".length)}; its configure steps run again`, parent);
        }
        const generation = /^generation: (\d+)$/m.exec(out)?.[1];
        if (generation === undefined) refuse(`observing ${n.name} gave no generation: ${out.slice(-600)}`, parent);
        let report: NodeReport;
        try {
            report = parseReport(n.name, out).node;
        } catch (e) {
            refuse(`observing ${n.name}: ${(e as Error).message}`, parent);
        }
        return [n.name, generation, report];
    };
    const observed = pulumi.all([nodes, privateKey]).apply(async ([ns, key]): Promise<Observation> => {
        const results = await Promise.all(ns.map((n) => observeOne(n, key)));
        return {
            generations: { ...Object.fromEntries(all.map((name) => [name, "0"])), ...Object.fromEntries(results.map(([name, g]) => [name, g])) },
            reports: results.map(([, , r]) => r),
        };
    });
    // Generations and role facts are not secrets (they only come from a secret because the SSH key reaches the host):
    // kept plain, so that the steps they go into are secret only when their own text is.
    return pulumi.unsecret(observed);
}
