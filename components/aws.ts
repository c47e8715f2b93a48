// The AWS layer: one security group, instances spread across availability zones, data volumes. It turns the
// topology's EC2 node specs into ClusterNodes whose addresses are the instances' outputs; it knows nothing about
// Kafka beyond the ports in the layout.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { Ec2Cluster, HostOs } from "./config";
import { PORTS } from "./layout";
import { ClusterNode, Ec2NodeSpec } from "./topology";

/** Ports only cluster members may reach: ZooKeeper client, peer and election ports and the inter-broker listener. */
export const CLUSTER_ONLY_PORTS = [PORTS.zookeeperClient, PORTS.zookeeperPeer, PORTS.zookeeperElection, PORTS.internal];

export const AMI_FILTERS: Record<HostOs, { owners: string[]; name: string }> = {
    // Canonical's account; gp3 root images of Ubuntu 24.04 LTS.
    "ubuntu-24.04": { owners: ["099720109477"], name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*" },
    "amazon-linux-2023": { owners: ["amazon"], name: "al2023-ami-2023.*-x86_64" },
};

interface SubnetInfo {
    id: string;
    availabilityZone: string;
    vpcId: string;
}

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

    // Subnets: the configured ones, or the default VPC's default subnets; sorted by AZ, at most maxAzs of them.
    const subnetIds: pulumi.Output<string[]> = ec2.subnetIds
        ? pulumi.output(ec2.subnetIds)
        : aws.ec2.getVpcOutput({ default: true }, opts).apply((vpc) =>
            aws.ec2.getSubnetsOutput({ filters: [{ name: "vpc-id", values: [vpc.id] }, { name: "default-for-az", values: ["true"] }] }, opts).ids);
    const subnets: pulumi.Output<SubnetInfo[]> = subnetIds.apply(async (ids) => {
        if (ids.length === 0) throw new Error("kafka:subnetIds: no subnets found (the region has no default VPC?). Fix: set kafka:subnetIds");
        const infos = await Promise.all(ids.map((id) => aws.ec2.getSubnet({ id }, opts)));
        const byAz = new Map<string, SubnetInfo>();
        for (const s of [...infos].sort((a, b) => a.availabilityZone.localeCompare(b.availabilityZone) || a.id.localeCompare(b.id))) {
            if (!byAz.has(s.availabilityZone)) byAz.set(s.availabilityZone, { id: s.id, availabilityZone: s.availabilityZone, vpcId: s.vpcId });
        }
        return [...byAz.values()].slice(0, ec2.maxAzs);
    });
    const vpcId = subnets.apply((s) => s[0].vpcId);

    const securityGroup = new aws.ec2.SecurityGroup(`${cfg.clusterName}-sg`, {
        vpcId,
        description: `kafka-cluster ${cfg.clusterName}: brokers and ZooKeeper`,
        tags: tags({ Name: `${cfg.clusterName}` }),
    }, opts);
    const sgOpts = { parent: securityGroup };
    for (const port of [...CLUSTER_ONLY_PORTS, PORTS.client]) {
        new aws.vpc.SecurityGroupIngressRule(`${cfg.clusterName}-self-${port}`, {
            securityGroupId: securityGroup.id, referencedSecurityGroupId: securityGroup.id,
            ipProtocol: "tcp", fromPort: port, toPort: port, description: `cluster members on ${port}`,
        }, sgOpts);
    }
    const cidrRule = (name: string, cidr: string, port: number, description: string) =>
        new aws.vpc.SecurityGroupIngressRule(name, {
            securityGroupId: securityGroup.id, ipProtocol: "tcp", fromPort: port, toPort: port, description,
            ...(cidr.includes(":") ? { cidrIpv6: cidr } : { cidrIpv4: cidr }),
        }, sgOpts);
    if (ec2.clientCidrs) {
        ec2.clientCidrs.forEach((c, i) => cidrRule(`${cfg.clusterName}-client-${i}`, c, PORTS.client, "Kafka clients"));
    } else {
        new aws.vpc.SecurityGroupIngressRule(`${cfg.clusterName}-client-vpc`, {
            securityGroupId: securityGroup.id, ipProtocol: "tcp", fromPort: PORTS.client, toPort: PORTS.client,
            cidrIpv4: vpcId.apply(async (id) => (await aws.ec2.getVpc({ id }, opts)).cidrBlock),
            description: "Kafka clients in the VPC (default when kafka:clientCidrs is unset)",
        }, sgOpts);
    }
    ec2.sshCidrs.forEach((c, i) => cidrRule(`${cfg.clusterName}-ssh-${i}`, c, PORTS.ssh, "SSH for provisioning"));
    new aws.vpc.SecurityGroupEgressRule(`${cfg.clusterName}-egress`, {
        securityGroupId: securityGroup.id, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0", description: "packages and the Kafka download",
    }, sgOpts);

    const ami = ec2.ami ?? aws.ec2.getAmiOutput({
        mostRecent: true,
        owners: AMI_FILTERS[ec2.os].owners,
        filters: [{ name: "name", values: [AMI_FILTERS[ec2.os].name] }, { name: "architecture", values: ["x86_64"] }],
    }, opts).id;
    const keyPair = new aws.ec2.KeyPair(`${cfg.clusterName}-key`, { publicKey: args.publicKey, tags: tags() }, opts);

    const instances: Record<string, aws.ec2.Instance> = {};
    const dependencies: Record<string, pulumi.Resource[]> = {};
    const clusterNodes = nodes.map((node): ClusterNode<pulumi.Output<string>> => {
        const subnet = subnets.apply((s) => s[node.azIndex % s.length]);
        const role = node.roles.join("+");
        const instance = new aws.ec2.Instance(`${cfg.clusterName}-${node.name}`, {
            ami,
            instanceType: node.instanceType,
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
            // time, with `pulumi up --replace <instance urn>` (see README).
            ignoreChanges: ["ami"],
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
                tags: tags({ Name: `${cfg.clusterName}-${node.name}`, role, "broker-id": String(node.brokerId) }),
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
                tags: tags({ Name: `${cfg.clusterName}-${node.name}-data`, role: "kafka-data", ...(node.brokerId !== undefined ? { "broker-id": String(node.brokerId) } : {}) }),
            }, { parent });
            const attachment = new aws.ec2.VolumeAttachment(`${cfg.clusterName}-${node.name}-data`, {
                deviceName: "/dev/sdf", volumeId: volume.id, instanceId: instance.id, stopInstanceBeforeDetaching: true,
            }, { parent });
            dataVolumeId = volume.id;
            dependsOn.push(attachment);
        }
        dependencies[node.name] = dependsOn;
        return {
            name: node.name, roles: node.roles, brokerId: node.brokerId, zookeeperId: node.zookeeperId, user: node.user,
            sshAddress: ec2.associatePublicIp ? publicIp : instance.privateIp,
            clientAddress: ec2.publicAccess ? publicIp : instance.privateIp,
            privateAddress: instance.privateIp,
            rack: subnet.availabilityZone,
            ...(dataVolumeId !== undefined ? { dataVolumeId } : {}),
        };
    });
    return { securityGroup, instances, nodes: clusterNodes, dependencies };
}
