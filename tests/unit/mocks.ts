// Pulumi mocks for the unit tests: record every registered resource with its inputs and the resource options it was
// registered with, answer the AWS lookups the program makes.
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { getMonitor } from "@pulumi/pulumi/runtime/settings";

/** Resource options as the SDK sent them to the (mock) engine. */
export interface RegisteredOptions {
    ignoreChanges: string[];
    /** URNs of the resources it depends on. */
    dependencies: string[];
    parent: string;
    customTimeouts?: { create: string; update: string; delete: string };
    protect: boolean;
    retainOnDelete: boolean;
    deleteBeforeReplace: boolean;
    additionalSecretOutputs: string[];
}

export interface Recorded {
    type: string;
    name: string;
    inputs: any;
    options: RegisteredOptions;
}

export const recorded: Recorded[] = [];

/**
 * Outputs a test wants a resource (by name) to report, over what the mock would compute from its inputs: what the
 * engine would keep from the previous deployment, e.g. an instance's availabilityZone when its subnetId is ignored.
 */
export const stateOverrides: Record<string, Record<string, unknown>> = {};

export const SUBNETS: Record<string, string> = {
    "subnet-0000000a": "us-east-1a",
    "subnet-0000000b": "us-east-1b",
    "subnet-0000000c": "us-east-1c",
    "subnet-0000000d": "us-east-1d",
};

/** The private key the mocked key generation returns. */
export const GENERATED_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nTEST\n-----END OPENSSH PRIVATE KEY-----\n";
/** PEM dress around a text (what the mocked openssl commands print). */
export const mockPem = (kind: string, text: string) => `-----BEGIN ${kind}-----\n${Buffer.from(text).toString("base64")}\n-----END ${kind}-----\n`;
/** Pulumi's wire marker for a secret value. */
export const SECRET_SIG = "4dabf18193072939515e22adb298388d";
export const isSecretValue = (v: any) => typeof v === "object" && v !== null && SECRET_SIG in v;
/** A recorded input as text, a secret's value unwrapped. */
export const plain = (v: any): any => (isSecretValue(v) ? v.value : v);
const hash = (s: unknown) => crypto.createHash("sha256").update(String(s)).digest("hex").slice(0, 8);

/** AZ IDs of the mock account's AZs (names map to IDs differently in every account). */
export const AZ_IDS: Record<string, string> = { "us-east-1a": "use1-az4", "us-east-1b": "use1-az6", "us-east-1c": "use1-az1", "us-east-1d": "use1-az2" };

/** A subnet of another VPC (vpc-00000002), for mixed-VPC checks; not in the default VPC's listing. */
export const OTHER_VPC_SUBNETS: Record<string, string> = { "subnet-000000e1": "us-east-1a", "subnet-000000e2": "us-east-1b" };

/** Instance types EC2 "knows" here: memory in MiB and architectures, as getInstanceType reports them. */
export const INSTANCE_TYPES: Record<string, { memorySize: number; supportedArchitectures: string[] }> = {
    "t3.micro": { memorySize: 1024, supportedArchitectures: ["x86_64"] },
    "t3.small": { memorySize: 2048, supportedArchitectures: ["x86_64"] },
    "t3.medium": { memorySize: 4096, supportedArchitectures: ["x86_64"] },
    "t3.large": { memorySize: 8192, supportedArchitectures: ["x86_64"] },
    "m6i.xlarge": { memorySize: 16384, supportedArchitectures: ["x86_64"] },
    "m6i.2xlarge": { memorySize: 32768, supportedArchitectures: ["x86_64"] },
    "c5.large": { memorySize: 4096, supportedArchitectures: ["i386", "x86_64"] },
    "t4g.medium": { memorySize: 4096, supportedArchitectures: ["arm64"] },
    "m7g.large": { memorySize: 8192, supportedArchitectures: ["arm64"] },
    "mac2.metal": { memorySize: 16384, supportedArchitectures: ["arm64_mac"] },
};

/** AZs that offer a type (getInstanceTypeOfferings); every AZ when not listed. */
export const OFFERED_IN: Record<string, string[]> = {
    "m7g.large": ["us-east-1b", "us-east-1c", "us-east-1d"],
    "mac2.metal": [],
};

/** Images by id, with their architecture (getAmi by image-id). */
export const AMIS: Record<string, string> = { "ami-0aaaaaaaaaaaaaaa1": "x86_64", "ami-0bbbbbbbbbbbbbbb2": "arm64" };

/** The public SSM parameters naming current images (anything else is ParameterNotFound). */
export const IMAGE_PARAMETERS: Record<string, string> = {
    "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id": "ami-0ubuntuamd64000001",
    "/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id": "ami-0ubuntuarm64000002",
    "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64": "ami-0al2023x8664000003",
    "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64": "ami-0al2023arm64000004",
};

/**
 * The cluster's instances EC2 reports (getInstances by the kafka-cluster tag, getInstance): what runs from an earlier
 * `pulumi up`, by Name tag. Empty: a new stack.
 */
export const RUNNING: Record<string, { instanceId: string; ami: string; instanceType: string; privateIp: string; publicIp?: string; tags: Record<string, string> }> = {};

/** Switches for a test: an account without a default VPC. */
export const account = { defaultVpc: true };

/** Every invoke the program made, in order (token and arguments). */
export const invokes: { token: string; inputs: any }[] = [];

let counter = 0;
let eips = 0;
/** Existing hosts: what observe.sh reports per SSH target ("user@address") in the mocked `command:local:run`. */
export const OBSERVED: Record<string, string> = {};

pulumi.runtime.setMocks({
    newResource(args: pulumi.runtime.MockResourceArgs) {
        recorded.push({ type: args.type, name: args.name, inputs: args.inputs, options: sentOptions.get(`${args.type}::${args.name}`)! });
        const state: any = { ...args.inputs };
        if (args.type === "aws:ec2/instance:Instance") {
            counter++;
            state.privateIp = `10.0.${counter}.10`;
            state.publicIp = `203.0.113.${counter}`;
            state.availabilityZone = SUBNETS[args.inputs.subnetId];
        }
        if (args.type === "aws:ec2/eip:Eip") {
            eips++;
            state.publicIp = `198.18.0.${eips}`;
            state.allocationId = `eipalloc-${args.name}`;
        }
        // An unnamed key pair is auto-named: a new public key is a new key pair with a new name.
        if (args.type === "aws:ec2/keyPair:KeyPair") state.keyName = args.inputs.keyName ?? `${args.name}-${hash(args.inputs.publicKey)}`;
        if (args.type === "command:local:Command") {
            // The public half depends on the private key it was derived from (stdin), as ssh-keygen -y's does; the CA and
            // each certificate are stand-in PEM text naming what they are; a password names its command.
            state.stdout = args.name.endsWith("public-key") ? `ssh-ed25519 AAAA${hash(args.inputs.stdin)} kafka`
                : args.name.endsWith("-ca") ? mockPem("PRIVATE KEY", `${args.name} key`) + mockPem("CERTIFICATE", `${args.name} certificate`)
                : args.name.includes("-cert-") ? mockPem("PRIVATE KEY", `${args.name} key`) + mockPem("CERTIFICATE", `${args.name} certificate`)
                : args.name.includes("-password-") ? `pw-${args.name}`
                : GENERATED_KEY;
        }
        if (args.type === "command:remote:Command") state.stdout = `${args.name} ok`;
        Object.assign(state, stateOverrides[args.name] ?? {});
        return { id: `${args.name}-id`, state };
    },
    call(args: pulumi.runtime.MockCallArgs) {
        invokes.push({ token: args.token, inputs: args.inputs });
        const filter = (name: string): string[] => args.inputs.filters?.find((f: any) => f.name === name)?.values ?? [];
        switch (args.token) {
            case "aws:ec2/getInstanceType:getInstanceType": {
                const t = INSTANCE_TYPES[args.inputs.instanceType];
                if (!t) throw new Error(`InvalidInstanceType: The following supplied instance types do not exist: [${args.inputs.instanceType}]`);
                return { id: args.inputs.instanceType, instanceType: args.inputs.instanceType, ...t };
            }
            case "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings": {
                if (args.inputs.locationType !== "availability-zone") throw new Error(`mock answers locationType availability-zone only`);
                const [type] = filter("instance-type");
                const azs = OFFERED_IN[type] ?? Object.values(SUBNETS);
                return { id: "us-east-1", instanceTypes: azs.map(() => type), locations: azs, locationTypes: azs.map(() => "availability-zone") };
            }
            case "aws:ec2/getAmi:getAmi": {
                const [id] = filter("image-id");
                if (!AMIS[id]) throw new Error("Your query returned no results. Please change your search criteria and try again.");
                return { id, architecture: AMIS[id], name: "mock-image" };
            }
            case "aws:ssm/getParameter:getParameter": {
                const value = IMAGE_PARAMETERS[args.inputs.name];
                if (!value) throw new Error(`ParameterNotFound: ${args.inputs.name}`);
                return { id: args.inputs.name, name: args.inputs.name, type: "String", value };
            }
            case "aws:ec2/getInstances:getInstances": {
                const cluster = args.inputs.instanceTags?.["kafka-cluster"];
                const ids = Object.values(RUNNING).filter((i) => i.tags["kafka-cluster"] === cluster).map((i) => i.instanceId);
                return { id: "us-east-1", ids, privateIps: [], publicIps: [], ipv6Addresses: [] };
            }
            case "aws:ec2/getInstance:getInstance": {
                const i = Object.values(RUNNING).find((r) => r.instanceId === args.inputs.instanceId);
                if (!i) throw new Error(`InvalidInstanceID.NotFound: ${args.inputs.instanceId}`);
                return { id: i.instanceId, ami: i.ami, instanceType: i.instanceType, privateIp: i.privateIp, publicIp: i.publicIp ?? "", tags: i.tags };
            }
            case "aws:ec2/getVpc:getVpc":
                if (args.inputs.default && !account.defaultVpc) throw new Error("no matching EC2 VPC found");
                return args.inputs.id === "vpc-00000002" ? { id: "vpc-00000002", cidrBlock: "10.50.0.0/16" } : { id: "vpc-00000001", cidrBlock: "172.31.0.0/16" };
            case "aws:ec2/getSubnets:getSubnets":
                return { ids: Object.keys(SUBNETS).reverse() };
            case "aws:ec2/getSubnet:getSubnet": {
                const az = SUBNETS[args.inputs.id] ?? OTHER_VPC_SUBNETS[args.inputs.id];
                if (!az) throw new Error(`InvalidSubnetID.NotFound: The subnet ID '${args.inputs.id}' does not exist`);
                return { id: args.inputs.id, availabilityZone: az, availabilityZoneId: AZ_IDS[az], vpcId: SUBNETS[args.inputs.id] ? "vpc-00000001" : "vpc-00000002" };
            }
            case "command:local:run":
                // Existing hosts' observation (observe.sh over SSH): what OBSERVED[target] says, else a healthy node.
                return { ...args.inputs, stdout: OBSERVED[String(args.inputs.environment?.KC_SSH_TARGET ?? "")] ?? "generation: 0", stderr: "" };
            default:
                throw new Error(`unexpected call ${args.token}`);
        }
    },
}, "kafka-cluster", "test", false);

// The mock monitor hands newResource only type, name and inputs; the rest of each registration request (the resource
// options) is taken here, on its way in.
const sentOptions = new Map<string, RegisteredOptions>();
const monitor = getMonitor() as any;
const registerResource = monitor.registerResource.bind(monitor);
monitor.registerResource = (req: any, callback: unknown) => {
    const timeouts = req.getCustomtimeouts();
    sentOptions.set(`${req.getType()}::${req.getName()}`, {
        ignoreChanges: req.getIgnorechangesList(),
        dependencies: req.getDependenciesList(),
        parent: req.getParent(),
        ...(timeouts ? { customTimeouts: { create: timeouts.getCreate(), update: timeouts.getUpdate(), delete: timeouts.getDelete() } } : {}),
        protect: req.getProtect() === true,
        retainOnDelete: req.getRetainondelete() === true,
        deleteBeforeReplace: req.getDeletebeforereplace() === true,
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
    });
    return registerResource(req, callback);
};

/** Resolves an Output in a test. */
export function value<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply((v) => { resolve(v); return v; }));
}

/** Waits until every registration started so far has been recorded. */
export async function settle(): Promise<void> {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 50));
}

export function reset(): void {
    recorded.length = 0;
    counter = 0; // instance addresses follow registration order, the same in every build
    eips = 0;
    for (const k of Object.keys(stateOverrides)) delete stateOverrides[k];
    for (const k of Object.keys(RUNNING)) delete RUNNING[k];
    invokes.length = 0;
    account.defaultVpc = true;
    for (const k of Object.keys(OBSERVED)) delete OBSERVED[k];
}
