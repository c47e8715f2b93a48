// Pulumi mocks for the unit tests: record every registered resource with its inputs and the resource options it was
// registered with, answer the AWS lookups the program makes.
import * as pulumi from "@pulumi/pulumi";
import { getMonitor } from "@pulumi/pulumi/runtime/settings";

/** Resource options as the SDK sent them to the (mock) engine. */
export interface RegisteredOptions {
    ignoreChanges: string[];
    /** URNs of the resources it depends on. */
    dependencies: string[];
    parent: string;
    customTimeouts?: { create: string; update: string; delete: string };
}

export interface Recorded {
    type: string;
    name: string;
    inputs: any;
    options: RegisteredOptions;
}

export const recorded: Recorded[] = [];

export const SUBNETS: Record<string, string> = {
    "subnet-0000000a": "us-east-1a",
    "subnet-0000000b": "us-east-1b",
    "subnet-0000000c": "us-east-1c",
    "subnet-0000000d": "us-east-1d",
};

let counter = 0;
let eips = 0;
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
        if (args.type === "aws:ec2/keyPair:KeyPair") state.keyName = args.name;
        if (args.type === "command:local:Command") {
            state.stdout = args.name.endsWith("public-key") ? "ssh-ed25519 AAAATEST kafka" : "-----BEGIN OPENSSH PRIVATE KEY-----\nTEST\n-----END OPENSSH PRIVATE KEY-----\n";
        }
        if (args.type === "command:remote:Command") state.stdout = `${args.name} ok`;
        return { id: `${args.name}-id`, state };
    },
    call(args: pulumi.runtime.MockCallArgs) {
        switch (args.token) {
            case "aws:ec2/getAmi:getAmi":
                return { id: "ami-0123456789abcdef0", name: "mock-image" };
            case "aws:ec2/getVpc:getVpc":
                return { id: "vpc-00000001", cidrBlock: "172.31.0.0/16" };
            case "aws:ec2/getSubnets:getSubnets":
                return { ids: Object.keys(SUBNETS).reverse() };
            case "aws:ec2/getSubnet:getSubnet":
                return { id: args.inputs.id, availabilityZone: SUBNETS[args.inputs.id], vpcId: "vpc-00000001" };
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
}
