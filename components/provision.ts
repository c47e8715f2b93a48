// Pulumi layer over plan.ts: one remote.Command per planned step, wired with the plan's dependencies.
// Hosts come from the AWS layer (EC2 mode) or straight from config (existing-hosts mode).
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { ClusterConfig } from "./config";
import { Step, planSteps, waves } from "./plan";
import { NodeSpec, ResolvedNode } from "./topology";

/** A node whose addresses may not be known yet. */
export interface HostNode {
    spec: NodeSpec;
    sshAddress: pulumi.Input<string>;
    clientAddress: pulumi.Input<string>;
    privateAddress: pulumi.Input<string>;
    rack?: pulumi.Input<string>;
    dataVolumeId?: pulumi.Input<string>;
    /** Resources every command on the node waits for (instance, volume attachment). */
    dependsOn?: pulumi.Resource[];
}

export interface ProvisionArgs {
    config: ClusterConfig;
    hosts: HostNode[];
    privateKey: pulumi.Input<string>;
    /** How many failed SSH dials to accept per command (fresh instances refuse connections for a while). */
    dialErrorLimit: number;
    parent: pulumi.Resource;
}

export interface Provisioned {
    /** The hosts with their addresses resolved, in the order they were given. */
    nodes: pulumi.Output<ResolvedNode[]>;
    /** One resource per planned step: remote.Command, or local.Command for the teardown steps. */
    commands: Record<string, pulumi.CustomResource>;
    ensemble: pulumi.Output<string>;
    brokers: pulumi.Output<string>;
    smokeTest: pulumi.Output<string>;
}

const PENDING = "0.0.0.0";

export function provision(args: ProvisionArgs): Provisioned {
    const { config, hosts, parent } = args;
    // The plan's structure depends only on the node specs, so it is known before any address is.
    const placeholder = hosts.map((h): ResolvedNode => ({
        ...h.spec, sshAddress: PENDING, clientAddress: PENDING, privateAddress: PENDING,
        dataVolumeId: h.dataVolumeId === undefined ? undefined : "vol-pending",
    }));
    const skeleton = planSteps(config, placeholder);
    const nodes: pulumi.Output<ResolvedNode[]> = pulumi
        .all(hosts.map((h) => pulumi.all([h.sshAddress, h.clientAddress, h.privateAddress, h.rack, h.dataVolumeId])))
        .apply((addrs) => hosts.map((h, i): ResolvedNode => ({
            ...h.spec,
            sshAddress: addrs[i][0], clientAddress: addrs[i][1], privateAddress: addrs[i][2],
            rack: addrs[i][3] ?? h.spec.rack, dataVolumeId: addrs[i][4],
        })));
    const resolved: pulumi.Output<Record<string, Step>> = nodes.apply((ns) => Object.fromEntries(planSteps(config, ns).map((s) => [s.name, s])));

    const byNode = new Map(hosts.map((h) => [h.spec.name, h]));
    const commands: Record<string, pulumi.CustomResource> = {};
    // Register in dependency order, so every step's dependencies exist when it is created.
    for (const step of waves(skeleton).flat()) {
        const host = byNode.get(step.node)!;
        const deps: pulumi.Resource[] = [...step.dependsOn.map((d) => commands[d]), ...(host.dependsOn ?? [])];
        if (step.delete !== undefined) {
            commands[step.name] = teardownCommand(step, host, args, resolved, deps);
            continue;
        }
        commands[step.name] = new command.remote.Command(step.name, {
            connection: {
                host: host.sshAddress,
                port: config.sshPort,
                user: host.spec.user,
                privateKey: args.privateKey,
                dialErrorLimit: args.dialErrorLimit,
                perDialTimeout: 15,
            },
            create: resolved.apply((s) => s[step.name].create),
            // Nothing here reads PULUMI_COMMAND_STDOUT/STDERR, and sending them needs AcceptEnv on every sshd (the
            // provider warns on each update where it is missing).
            addPreviousOutputInEnv: false,
        }, {
            parent,
            dependsOn: deps,
            customTimeouts: { create: "40m", update: "40m" },
        });
    }
    return {
        nodes,
        commands,
        ensemble: (commands["cluster-ensemble"] as command.remote.Command).stdout,
        brokers: (commands["cluster-brokers"] as command.remote.Command).stdout,
        smokeTest: (commands["cluster-smoke"] as command.remote.Command).stdout,
    };
}

/**
 * The destroy-time step. A remote.Command is replaced whenever its connection changes (a new key, user or
 * address), and replacing it would run its delete, stopping the services of a healthy host. So this step is a
 * local command that carries the connection in its (secret) environment, where a change is a plain update,
 * and runs `ssh` itself only when the step is really deleted.
 */
function teardownCommand(step: Step, host: HostNode, args: ProvisionArgs, resolved: pulumi.Output<Record<string, Step>>,
    deps: pulumi.Resource[]): command.local.Command {
    return new command.local.Command(step.name, {
        create: "true",
        delete: [
            'set -eu; umask 077; key=$(mktemp); trap \'rm -f "$key"\' EXIT; printf \'%s\\n\' "$KC_SSH_KEY" > "$key"',
            'ssh -i "$key" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null' +
            ' -o ConnectTimeout=20 -o LogLevel=ERROR -p "$KC_SSH_PORT" "$KC_SSH_TARGET" "$KC_REMOTE_COMMAND"',
        ].join("; "),
        environment: {
            KC_SSH_KEY: pulumi.secret(args.privateKey),
            KC_SSH_PORT: String(args.config.sshPort),
            KC_SSH_TARGET: pulumi.interpolate`${host.spec.user}@${host.sshAddress}`,
            KC_REMOTE_COMMAND: resolved.apply((s) => s[step.name].delete!),
        },
        logging: "stderr",
    }, { parent: args.parent, dependsOn: deps, customTimeouts: { delete: "10m" } });
}
