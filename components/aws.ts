// The AWS layer: one security group (and, with kafka:monitoring, one of the monitoring node's own), instances spread
// across availability zones, data volumes. It turns the topology's EC2 node specs into ClusterNodes whose addresses
// are the instances' outputs; it knows nothing about Kafka beyond the ports in the layout.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { Ec2Cluster, vpcReachWarnings } from "./config";
import { Ec2Lookup, lookupEc2 } from "./aws-lookup";
import { CLIENT_PORTS, INTERNAL_PORTS, PORTS, portsFor } from "./layout";
import { Rollout, WantedImage, planRollout } from "./rollout";
import { ClusterNode, Ec2NodeSpec, NodeIdentity, isMonitoringNode } from "./topology";


/**
 * A client rule's name: the plaintext port keeps the name it had before the other modes' ports were opened (a renamed
 * rule would be replaced, and its copy refused as a duplicate while the old one still exists).
 */
const clientRuleName = (base: string, port: number) => (port === CLIENT_PORTS[0] ? base : `${base}-${port}`);

export interface AwsHostsArgs {
    config: Ec2Cluster;
    nodes: Ec2NodeSpec[];
    publicKey: pulumi.Input<string>;
    /** What lookupAws found and decided (every AWS resource takes an input through it). */
    lookup: pulumi.Output<AwsLookup>;
    /** What every instance waits for: the gate before the node that changes in this `pulumi up` (see rollout.ts). */
    instanceDependsOn?: pulumi.Resource[];
    parent: pulumi.Resource;
}

/** The lookups, and which node changes its image or instance type in this `pulumi up`. */
export interface AwsLookup extends Ec2Lookup {
    rollout: Rollout;
}

/**
 * Whether a node's clientAddress (what clients, or people, are told) is its public address: with kafka:publicAccess;
 * for the monitoring node (its Prometheus and Alertmanager URLs) whenever it has one (kafka:associatePublicIp).
 */
const reachedOnPublicIp = (cfg: Ec2Cluster, n: NodeIdentity) => cfg.ec2.publicAccess || (isMonitoringNode(n) && cfg.ec2.associatePublicIp);

/** Whether SSH goes to the instances' public addresses (else to their private ones: bastion, or from inside the VPC). */
export const sshOverPublicIp = (cfg: Ec2Cluster) => cfg.ec2.associatePublicIp && !cfg.ec2.bastion && !cfg.ec2.sshFromVpc;

/**
 * Every lookup and check, then the rollout: each node's wanted image (the pinned kafka:ami, or the current image of
 * kafka:os for its instance type's architecture) and type against what its instance runs.
 */
export function lookupAws(cfg: Ec2Cluster, nodes: Ec2NodeSpec[], parent: pulumi.Resource): pulumi.Output<AwsLookup> {
    return pulumi.output(lookupEc2(cfg, nodes, { parent }).then((found) => {
        const wanted = Object.fromEntries(nodes.map((n): [string, WantedImage] => [n.name, {
            ami: found.images[n.instanceType], instanceType: n.instanceType, os: cfg.ec2.os, arch: found.arch[n.instanceType],
            pinned: cfg.ec2.ami !== undefined,
        }]));
        const rollout = planRollout(nodes.map((n) => n.name), found.running, wanted);
        if (rollout.rolling) {
            pulumi.log.info(`rolling ${rollout.rolling.node} (${rollout.rolling.changes.join(", ")}) in this update` +
                (rollout.pending.length ? `; ${rollout.pending.join(", ")} in the next ones, one per pulumi up` : ""), parent);
        }
        return { ...found, rollout };
    }));
}

export interface AwsHosts {
    securityGroup: aws.ec2.SecurityGroup;
    instances: Record<string, aws.ec2.Instance>;
    /** The nodes, addressed by their instances' outputs. */
    nodes: ClusterNode<pulumi.Output<string>>[];
    /** Per node name: what its commands must wait for (the instance, the data volume's attachment). */
    dependencies: Record<string, pulumi.Resource[]>;
}

export function createAwsHosts(args: AwsHostsArgs): AwsHosts {
    const { config: cfg, nodes, parent } = args;
    const ec2 = cfg.ec2;
    const opts = { parent };
    const tags = (extra: Record<string, string> = {}) => ({ "kafka-cluster": cfg.clusterName, ...extra });

    // Every lookup and check first: each AWS resource takes an input through it, so a failed check registers nothing.
    const lookup = args.lookup;
    const vpcId = lookup.vpcId;
    // Ranges that would shut out clients or the bastion inside the VPC (known only now): warnings in the update's output.
    lookup.vpcCidr.apply((cidr) => vpcReachWarnings(ec2, cidr).forEach((w) => pulumi.log.warn(w, parent)));

    const securityGroup = new aws.ec2.SecurityGroup(`${cfg.clusterName}-sg`, {
        vpcId,
        description: `kafka-cluster ${cfg.clusterName}: brokers and ${cfg.metadata === "kraft" ? "KRaft controllers" : "ZooKeeper"}`,
        tags: tags({ Name: `${cfg.clusterName}` }),
    }, opts);
    const sgOpts = { parent: securityGroup };
    for (const port of [...portsFor(cfg, "cluster"), ...portsFor(cfg, "clients")]) {
        new aws.vpc.SecurityGroupIngressRule(`${cfg.clusterName}-self-${port}`, {
            securityGroupId: securityGroup.id, referencedSecurityGroupId: securityGroup.id,
            ipProtocol: "tcp", fromPort: port, toPort: port, description: `cluster members on ${port}`,
        }, sgOpts);
    }
    const cidrRule = (name: string, cidr: pulumi.Input<string>, port: number, description: string, group = securityGroup) =>
        new aws.vpc.SecurityGroupIngressRule(name, {
            securityGroupId: group.id, ipProtocol: "tcp", fromPort: port, toPort: port, description,
            cidrIpv4: cidr, // IPv6 blocks are refused: the instances get no IPv6 address
        }, { parent: group });
    // SSH for provisioning, into every node's group.
    const sshRules = (prefix: string, group: aws.ec2.SecurityGroup) => {
        if (ec2.sshCidrs) {
            ec2.sshCidrs.forEach((c, i) => cidrRule(`${prefix}-ssh-${i}`, c, PORTS.ssh, "SSH for provisioning", group));
        } else {
            // Only with a bastion or kafka:sshFromVpc (config refuses it otherwise): SSH comes from inside the VPC.
            cidrRule(`${prefix}-ssh-vpc`, lookup.vpcCidr, PORTS.ssh,
                "SSH for provisioning from the VPC: bastion or sshFromVpc (default when kafka:sshCidrs is unset)", group);
        }
    };

    // kafka:monitoring: the monitoring node has a group of its own. Its Prometheus and Alertmanager (TLS, basic auth)
    // answer kafka:monitoringCidrs; the exporters of the cluster's nodes (bound to their private addresses) answer it
    // alone, and so does the brokers' internal listener besides the members (the consumer lag collector logs in there
    // as admin). It is no member of the cluster's group: no other Kafka port of the cluster is open to it.
    let monitoringGroup: aws.ec2.SecurityGroup | undefined;
    if (ec2.monitoring) {
        const group = new aws.ec2.SecurityGroup(`${cfg.clusterName}-monitoring-sg`, {
            vpcId,
            description: `kafka-cluster ${cfg.clusterName}: the monitoring node (Prometheus, Alertmanager)`,
            tags: tags({ Name: `${cfg.clusterName}-monitoring` }),
        }, opts);
        monitoringGroup = group;
        const fromMonitoring = (name: string, port: number, description: string) =>
            new aws.vpc.SecurityGroupIngressRule(name, {
                securityGroupId: securityGroup.id, referencedSecurityGroupId: group.id,
                ipProtocol: "tcp", fromPort: port, toPort: port, description,
            }, sgOpts);
        for (const port of portsFor(cfg, "metrics")) {
            fromMonitoring(`${cfg.clusterName}-metrics-${port}`, port, `Prometheus on the monitoring node scrapes ${port}`);
        }
        for (const port of INTERNAL_PORTS) {
            fromMonitoring(`${cfg.clusterName}-lag-${port}`, port, `the consumer lag collector on the monitoring node (internal listener ${port})`);
        }
        for (const port of portsFor(cfg, "monitoring")) {
            ec2.monitoring.cidrs.forEach((c, i) => cidrRule(`${cfg.clusterName}-monitoring-${i}-${port}`, c, port,
                `${port === PORTS.prometheus ? "Prometheus" : "Alertmanager"} (TLS, basic auth) for kafka:monitoringCidrs`, group));
        }
        sshRules(`${cfg.clusterName}-monitoring`, group);
        new aws.vpc.SecurityGroupEgressRule(`${cfg.clusterName}-monitoring-egress`, {
            securityGroupId: group.id, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0", description: "packages, the Kafka download, the brokers and the alert webhook",
        }, { parent: group });
    }
    // Every mode's client port (only the configured mode's listener answers): while kafka:security switches, the brokers
    // run the old and the new client listeners side by side, and neither may be cut off half-way.
    for (const port of portsFor(cfg, "clients")) {
        if (ec2.clientCidrs) {
            ec2.clientCidrs.forEach((c, i) => cidrRule(clientRuleName(`${cfg.clusterName}-client-${i}`, port), c, port, "Kafka clients"));
        } else {
            cidrRule(clientRuleName(`${cfg.clusterName}-client-vpc`, port), lookup.vpcCidr, port,
                "Kafka clients in the VPC (default when kafka:clientCidrs is unset)");
        }
    }
    // kafka:jmx: the JMX connectors (bound to the private addresses, password required) for monitoring inside the VPC.
    if (cfg.jmx) {
        for (const port of portsFor(cfg, "jmx")) {
            cidrRule(`${cfg.clusterName}-jmx-${port}`, lookup.vpcCidr, port, "JMX monitoring in the VPC (kafka:jmx)");
        }
    }
    sshRules(cfg.clusterName, securityGroup);
    new aws.vpc.SecurityGroupEgressRule(`${cfg.clusterName}-egress`, {
        securityGroupId: securityGroup.id, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0", description: "packages and the Kafka download",
    }, sgOpts);

    // One key pair name for the cluster's life: a new key replaces the key pair's content under the same name (delete
    // first, as names are unique), so instances never see a keyName change, and any instance created or replaced later
    // gets the current key. (Stacks from before this had an auto-named key pair, resource `<cluster>-key`: this is a
    // new resource rather than a replacement of that one, so that upgrading replaces no instance; see README.)
    // Its public key goes through the lookup, so a refused lookup registers nothing.
    const keyPair = new aws.ec2.KeyPair(`${cfg.clusterName}-ssh`, {
        keyName: `${cfg.clusterName}-ssh`, publicKey: lookup.apply(() => pulumi.output(args.publicKey)), tags: tags(),
    }, { parent, deleteBeforeReplace: true });

    const instances: Record<string, aws.ec2.Instance> = {};
    const dependencies: Record<string, pulumi.Resource[]> = {};
    const clusterNodes = nodes.map((node): ClusterNode<pulumi.Output<string>> => {
        const subnet = lookup.subnets.apply((s) => s[node.instanceType][node.azIndex % s[node.instanceType].length]);
        const role = node.roles.join("+");
        const given = lookup.rollout.inputs.apply((i) => i[node.name]);
        const instance = new aws.ec2.Instance(`${cfg.clusterName}-${node.name}`, {
            // What the node runs now, unless it is the one node this `pulumi up` rolls (rollout.ts): so a new upstream
            // image release, or a kafka:ami / kafka:os / instance type change that is not this node's turn yet, changes
            // nothing. A new image replaces the instance; a new type stops and starts it.
            ami: given.ami,
            instanceType: given.instanceType,
            subnetId: subnet.id,
            vpcSecurityGroupIds: [isMonitoringNode(node) && monitoringGroup ? monitoringGroup.id : securityGroup.id],
            keyName: keyPair.keyName,
            associatePublicIpAddress: ec2.associatePublicIp,
            rootBlockDevice: { volumeSize: ec2.rootVolumeGb, volumeType: "gp3", encrypted: true },
            metadataOptions: { httpTokens: "required" },
            tags: given.os.apply((os) => tags({
                Name: `${cfg.clusterName}-${node.name}`, role,
                ...(node.brokerId !== undefined ? { "broker-id": String(node.brokerId) } : {}),
                ...(node.zookeeperId !== undefined ? { "zookeeper-id": String(node.zookeeperId) } : {}),
                ...(node.controllerId !== undefined ? { "controller-id": String(node.controllerId) } : {}),
                // The OS of its image: what a kafka:os change compares with.
                os,
            })),
        }, {
            parent,
            // A changed subnet list (subnetId) must not replace an instance: a node stays in the subnet and AZ it was
            // created in (new nodes use the current list).
            // keyName: it no longer changes (above), but the key pair's delete-first replacement makes the engine ask
            // whether each instance, whose keyName then reads as unknown, would be replaced too: only an ignored keyName
            // says no. It also keeps instances of stacks whose key pair was auto-named.
            // associatePublicIpAddress: moving a running cluster to private addresses (kafka:associatePublicIp false with a
            // bastion) must not replace every instance at once; existing nodes keep their public IP (SSH goes to the
            // private one through the bastion anyway), nodes created or replaced later follow the setting.
            ignoreChanges: ["keyName", "subnetId", "associatePublicIpAddress"],
            // A replaced node goes first: its broker leaves /brokers/ids before the new one registers under the same id,
            // and its data volume is free (detached by the termination; the attachment below only leaves the state) for
            // the new instance to attach.
            deleteBeforeReplace: true,
            // The roll gate (the cluster healthy, the node's services stopped) before any instance changes.
            ...(args.instanceDependsOn ? { dependsOn: args.instanceDependsOn } : {}),
        });
        instances[node.name] = instance;
        let dataVolumeId: pulumi.Output<string> | undefined;
        const dependsOn: pulumi.Resource[] = [instance];
        // With publicAccess a broker gets an Elastic IP: the address clients are told (and SSH uses) survives a stop/start
        // of the instance, which gives it a new public IP, and a replacement of the instance (the association moves).
        let publicIp = instance.publicIp;
        if (ec2.publicAccess && node.brokerId !== undefined) {
            const eip = new aws.ec2.Eip(`${cfg.clusterName}-${node.name}-ip`, {
                domain: "vpc",
                // Through the lookup: no address is allocated when a check fails.
                tags: lookup.apply(() => tags({ Name: `${cfg.clusterName}-${node.name}`, role, "broker-id": String(node.brokerId) })),
            }, { parent });
            const association = new aws.ec2.EipAssociation(`${cfg.clusterName}-${node.name}-ip`, {
                allocationId: eip.allocationId, instanceId: instance.id,
            }, { parent });
            dependsOn.push(association);
            publicIp = eip.publicIp;
        }
        const dataVolume = !node.dataVolume ? undefined
            : isMonitoringNode(node) ? (ec2.monitoring ? { sizeGb: ec2.monitoring.volumeGb, type: "gp3" as const } : undefined) : ec2.dataVolume;
        if (dataVolume) {
            const volume = new aws.ebs.Volume(`${cfg.clusterName}-${node.name}-data`, {
                availabilityZone: subnet.availabilityZone,
                size: dataVolume.sizeGb,
                type: dataVolume.type,
                iops: dataVolume.iops,
                throughput: dataVolume.throughputMiBps,
                encrypted: true,
                // kafka:finalSnapshot: deleted (protectData off, or dataVolume removed), the volume leaves a snapshot.
                finalSnapshot: ec2.finalSnapshot,
                tags: tags({
                    Name: `${cfg.clusterName}-${node.name}-data`,
                    role: node.brokerId !== undefined ? "kafka-data" : node.controllerId !== undefined ? "controller-data"
                        : node.zookeeperId !== undefined ? "zookeeper-data" : "monitoring-data",
                    ...(node.brokerId !== undefined ? { "broker-id": String(node.brokerId) } : {}),
                    ...(node.brokerId === undefined && node.zookeeperId !== undefined ? { "zookeeper-id": String(node.zookeeperId) } : {}),
                    ...(node.brokerId === undefined && node.controllerId !== undefined ? { "controller-id": String(node.controllerId) } : {}),
                }),
            }, {
                parent,
                // Stays in the AZ it was created in, like its instance (a new subnet list moves neither).
                ignoreChanges: ["availabilityZone"],
                // kafka:protectData: Pulumi refuses to delete or replace the volume, and a volume removed from the
                // stack anyway (`pulumi state unprotect`) stays in the account.
                protect: ec2.protectData,
                retainOnDelete: ec2.protectData,
            });
            const attachment = new aws.ec2.VolumeAttachment(`${cfg.clusterName}-${node.name}-data`, {
                // Deleting the attachment never detaches the volume from a running node (and never stops the instance):
                // it only leaves the state. The volume detaches when its instance terminates.
                deviceName: "/dev/sdf", volumeId: volume.id, instanceId: instance.id, skipDestroy: true,
            }, { parent });
            dataVolumeId = volume.id;
            dependsOn.push(attachment);
        }
        dependencies[node.name] = dependsOn;
        return {
            name: node.name, roles: node.roles, brokerId: node.brokerId, zookeeperId: node.zookeeperId, controllerId: node.controllerId, user: node.user,
            // Through a bastion, or from inside the VPC, SSH goes to the private address (the only one without public IPs).
            sshAddress: sshOverPublicIp(cfg) ? publicIp : instance.privateIp,
            clientAddress: reachedOnPublicIp(cfg, node) ? publicIp : instance.privateIp,
            privateAddress: instance.privateIp,
            // The ID (the same zone in every account) of the AZ the instance is in: its own subnet's, which it keeps when
            // the subnet list changes (subnetId is ignored above).
            rack: instance.subnetId.apply(async (id) => (await aws.ec2.getSubnet({ id }, opts)).availabilityZoneId),
            ...(dataVolumeId !== undefined ? { dataVolumeId } : {}),
        };
    });
    return { securityGroup, instances, nodes: clusterNodes, dependencies };
}

/** The nodes that have an instance now, addressed as EC2 reports them (what the roll gate before any change sees). */
export function runningNodes(cfg: Ec2Cluster, nodes: Ec2NodeSpec[], lookup: Ec2Lookup): ClusterNode[] {
    return nodes.filter((n) => lookup.running[n.name] !== undefined).map((n) => {
        const r = lookup.running[n.name];
        const publicIp = r.publicIp ?? r.privateIp;
        return {
            name: n.name, roles: n.roles, brokerId: n.brokerId, zookeeperId: n.zookeeperId, controllerId: n.controllerId, user: n.user,
            sshAddress: sshOverPublicIp(cfg) ? publicIp : r.privateIp, clientAddress: reachedOnPublicIp(cfg, n) ? publicIp : r.privateIp,
            privateAddress: r.privateIp,
        };
    });
}
