// The AWS layer: one security group, instances spread across availability zones, data volumes. It turns the
// topology's EC2 node specs into ClusterNodes whose addresses are the instances' outputs; it knows nothing about
// Kafka beyond the ports in the layout.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { Ec2Cluster, vpcReachWarnings } from "./config";
import { lookupEc2 } from "./aws-lookup";
import { CLIENT_PORTS, INTERNAL_PORTS, PORTS } from "./layout";
import { ClusterNode, Ec2NodeSpec } from "./topology";

/** Ports only cluster members may reach: ZooKeeper client, peer and election ports and the inter-broker listeners. */
export const CLUSTER_ONLY_PORTS = [PORTS.zookeeperClient, PORTS.zookeeperPeer, PORTS.zookeeperElection, ...INTERNAL_PORTS];

/**
 * A client rule's name: the plaintext port keeps the name it had before the other modes' ports were opened (a renamed
 * rule would be replaced, and its copy refused as a duplicate while the old one still exists).
 */
const clientRuleName = (base: string, port: number) => (port === CLIENT_PORTS[0] ? base : `${base}-${port}`);

export interface AwsHostsArgs {
    config: Ec2Cluster;
    nodes: Ec2NodeSpec[];
    publicKey: pulumi.Input<string>;
    parent: pulumi.Resource;
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
    const lookup = pulumi.output(lookupEc2(cfg, nodes, opts));
    const vpcId = lookup.vpcId;
    // Ranges that would shut out clients or the bastion inside the VPC (known only now): warnings in the update's output.
    lookup.vpcCidr.apply((cidr) => vpcReachWarnings(ec2, cidr).forEach((w) => pulumi.log.warn(w, parent)));

    const securityGroup = new aws.ec2.SecurityGroup(`${cfg.clusterName}-sg`, {
        vpcId,
        description: `kafka-cluster ${cfg.clusterName}: brokers and ZooKeeper`,
        tags: tags({ Name: `${cfg.clusterName}` }),
    }, opts);
    const sgOpts = { parent: securityGroup };
    for (const port of [...CLUSTER_ONLY_PORTS, ...CLIENT_PORTS]) {
        new aws.vpc.SecurityGroupIngressRule(`${cfg.clusterName}-self-${port}`, {
            securityGroupId: securityGroup.id, referencedSecurityGroupId: securityGroup.id,
            ipProtocol: "tcp", fromPort: port, toPort: port, description: `cluster members on ${port}`,
        }, sgOpts);
    }
    const cidrRule = (name: string, cidr: pulumi.Input<string>, port: number, description: string) =>
        new aws.vpc.SecurityGroupIngressRule(name, {
            securityGroupId: securityGroup.id, ipProtocol: "tcp", fromPort: port, toPort: port, description,
            cidrIpv4: cidr, // IPv6 blocks are refused: the instances get no IPv6 address
        }, sgOpts);
    // Every mode's client port (only the configured mode's listener answers): while kafka:security switches, the brokers
    // run the old and the new client listeners side by side, and neither may be cut off half-way.
    for (const port of CLIENT_PORTS) {
        if (ec2.clientCidrs) {
            ec2.clientCidrs.forEach((c, i) => cidrRule(clientRuleName(`${cfg.clusterName}-client-${i}`, port), c, port, "Kafka clients"));
        } else {
            cidrRule(clientRuleName(`${cfg.clusterName}-client-vpc`, port), lookup.vpcCidr, port,
                "Kafka clients in the VPC (default when kafka:clientCidrs is unset)");
        }
    }
    // kafka:jmx: the JMX connectors (bound to the private addresses, password required) for monitoring inside the VPC.
    if (cfg.jmx) {
        for (const port of [PORTS.brokerJmx, PORTS.zookeeperJmx]) {
            cidrRule(`${cfg.clusterName}-jmx-${port}`, lookup.vpcCidr, port, "JMX monitoring in the VPC (kafka:jmx)");
        }
    }
    if (ec2.sshCidrs) {
        ec2.sshCidrs.forEach((c, i) => cidrRule(`${cfg.clusterName}-ssh-${i}`, c, PORTS.ssh, "SSH for provisioning"));
    } else {
        // Only with a bastion or kafka:sshFromVpc (config refuses it otherwise): SSH comes from inside the VPC.
        cidrRule(`${cfg.clusterName}-ssh-vpc`, lookup.vpcCidr, PORTS.ssh,
            "SSH for provisioning from the VPC: bastion or sshFromVpc (default when kafka:sshCidrs is unset)");
    }
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
        const instance = new aws.ec2.Instance(`${cfg.clusterName}-${node.name}`, {
            ami: lookup.images.apply((i) => i[node.instanceType]),
            instanceType: lookup.apply(() => node.instanceType),
            subnetId: subnet.id,
            vpcSecurityGroupIds: [securityGroup.id],
            keyName: keyPair.keyName,
            associatePublicIpAddress: ec2.associatePublicIp,
            rootBlockDevice: { volumeSize: ec2.rootVolumeGb, volumeType: "gp3", encrypted: true },
            metadataOptions: { httpTokens: "required" },
            tags: tags({
                Name: `${cfg.clusterName}-${node.name}`, role,
                ...(node.brokerId !== undefined ? { "broker-id": String(node.brokerId) } : {}),
                ...(node.zookeeperId !== undefined ? { "zookeeper-id": String(node.zookeeperId) } : {}),
            }),
        }, {
            parent,
            // A new AMI release must never replace a running broker. Roll to a new image on purpose, one node at a
            // time, with `pulumi up --replace <instance urn>` (see README). A changed subnet list (subnetId) must not
            // replace it either: a node stays in the subnet and AZ it was created in (new nodes use the current list).
            // keyName: it no longer changes (above), but the key pair's delete-first replacement makes the engine ask
            // whether each instance, whose keyName then reads as unknown, would be replaced too: only an ignored keyName
            // says no. It also keeps instances of stacks whose key pair was auto-named.
            // associatePublicIpAddress: moving a running cluster to private addresses (kafka:associatePublicIp false with a
            // bastion) must not replace every instance at once; existing nodes keep their public IP (SSH goes to the
            // private one through the bastion anyway), nodes created or replaced later follow the setting.
            ignoreChanges: ["ami", "keyName", "subnetId", "associatePublicIpAddress"],
            // A replaced node with a data volume: the old instance goes first, so that its volume is free (detached
            // by the termination; the attachment below only leaves the state) for the new instance to attach.
            ...(node.dataVolume && ec2.dataVolume ? { deleteBeforeReplace: true } : {}),
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
        const dataVolume = node.dataVolume ? ec2.dataVolume : undefined;
        if (dataVolume) {
            const volume = new aws.ebs.Volume(`${cfg.clusterName}-${node.name}-data`, {
                availabilityZone: subnet.availabilityZone,
                size: dataVolume.sizeGb,
                type: dataVolume.type,
                iops: dataVolume.iops,
                throughput: dataVolume.throughputMiBps,
                encrypted: true,
                tags: tags({
                    Name: `${cfg.clusterName}-${node.name}-data`, role: node.brokerId !== undefined ? "kafka-data" : "zookeeper-data",
                    ...(node.brokerId !== undefined ? { "broker-id": String(node.brokerId) } : {}),
                    ...(node.brokerId === undefined && node.zookeeperId !== undefined ? { "zookeeper-id": String(node.zookeeperId) } : {}),
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
            name: node.name, roles: node.roles, brokerId: node.brokerId, zookeeperId: node.zookeeperId, user: node.user,
            // Through a bastion, or from inside the VPC, SSH goes to the private address (the only one without public IPs).
            sshAddress: ec2.associatePublicIp && !ec2.bastion && !ec2.sshFromVpc ? publicIp : instance.privateIp,
            clientAddress: ec2.publicAccess ? publicIp : instance.privateIp,
            privateAddress: instance.privateIp,
            // The ID (the same zone in every account) of the AZ the instance is in: its own subnet's, which it keeps when
            // the subnet list changes (subnetId is ignored above).
            rack: instance.subnetId.apply(async (id) => (await aws.ec2.getSubnet({ id }, opts)).availabilityZoneId),
            ...(dataVolumeId !== undefined ? { dataVolumeId } : {}),
        };
    });
    return { securityGroup, instances, nodes: clusterNodes, dependencies };
}
