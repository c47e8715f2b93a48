// planRollout: which one running node changes its image or instance type in a `pulumi up`, and what the others keep.
import * as assert from "assert";
import { RunningInstance, WantedImage, planRollout, rolloutSummary } from "../../components/rollout";

const NODES = ["node-1", "node-2", "node-3"];
const run = (n: number, extra: Partial<RunningInstance> = {}): RunningInstance => ({
    instanceId: `i-${n}`, ami: "ami-old", instanceType: "t3.large", os: "ubuntu-24.04", arch: "x86_64", privateIp: `10.0.0.${n}`, ...extra,
});
const allRunning = (extra: Partial<RunningInstance> = {}) => Object.fromEntries(NODES.map((n, i) => [n, run(i + 1, extra)]));
const want = (w: Partial<WantedImage> = {}) => Object.fromEntries(NODES.map((n) => [n, {
    ami: "ami-current", instanceType: "t3.large", os: "ubuntu-24.04", arch: "x86_64", pinned: false, ...w,
} as WantedImage]));

describe("planRollout (one node per pulumi up)", () => {
    it("a new upstream image release (kafka:ami unset) changes no running node; new nodes get the current image", () => {
        const r = planRollout([...NODES, "node-4"], allRunning(), { ...want(), "node-4": want()["node-1"] });
        assert.strictEqual(r.rolling, undefined);
        assert.deepStrictEqual(r.pending, []);
        for (const n of NODES) assert.deepStrictEqual(r.inputs[n], { ami: "ami-old", instanceType: "t3.large", os: "ubuntu-24.04" });
        assert.deepStrictEqual(r.inputs["node-4"], { ami: "ami-current", instanceType: "t3.large", os: "ubuntu-24.04" });
        assert.strictEqual(rolloutSummary(r), "every node runs its configured image and instance type");
    });

    it("a pinned kafka:ami rolls the first differing node only; the others keep their image until their turn", () => {
        const wanted = want({ ami: "ami-pinned", pinned: true });
        let running = allRunning();
        const order: string[] = [];
        // Each `pulumi up` changes one node; what it changed is what runs at the next one.
        for (let up = 1; up <= 4; up++) {
            const r = planRollout(NODES, running, wanted);
            const changed = NODES.filter((n) => r.inputs[n].ami !== running[n].ami);
            assert.ok(changed.length <= 1, `up ${up} changes ${changed.join(", ")}`);
            if (!r.rolling) break;
            assert.deepStrictEqual(changed, [r.rolling.node]);
            assert.deepStrictEqual(r.rolling.changes, ["image ami-old -> ami-pinned"]);
            order.push(r.rolling.node);
            running = { ...running, [r.rolling.node]: run(up + 10, { ami: "ami-pinned" }) };
        }
        assert.deepStrictEqual(order, NODES);
        assert.strictEqual(planRollout(NODES, running, wanted).rolling, undefined);
    });

    it("the summary names the node, the change and what is left", () => {
        const r = planRollout(NODES, allRunning(), want({ ami: "ami-pinned", pinned: true }));
        assert.deepStrictEqual(r.pending, ["node-2", "node-3"]);
        assert.strictEqual(rolloutSummary(r), "node-1: image ami-old -> ami-pinned; run pulumi up again for the next node (2 left: node-2, node-3)");
    });

    it("an instance type change is one node per up, image kept (same architecture)", () => {
        const r = planRollout(NODES, allRunning(), want({ instanceType: "m6i.xlarge" }));
        assert.strictEqual(r.rolling?.node, "node-1");
        assert.deepStrictEqual(r.rolling?.changes, ["instance type t3.large -> m6i.xlarge"]);
        assert.deepStrictEqual(r.inputs["node-1"], { ami: "ami-old", instanceType: "m6i.xlarge", os: "ubuntu-24.04" });
        assert.deepStrictEqual(r.inputs["node-2"], { ami: "ami-old", instanceType: "t3.large", os: "ubuntu-24.04" });
    });

    it("a type of another architecture needs the image of that architecture too", () => {
        const r = planRollout(NODES, allRunning(), want({ instanceType: "m7g.large", arch: "arm64", ami: "ami-arm" }));
        assert.deepStrictEqual(r.rolling?.changes, ["image ami-old -> ami-arm", "instance type t3.large -> m7g.large"]);
    });

    it("a new kafka:os rolls onto that OS's current image; untagged instances count as running the configured OS", () => {
        const r = planRollout(NODES, allRunning(), want({ os: "amazon-linux-2023", ami: "ami-al2023" }));
        assert.deepStrictEqual(r.rolling?.changes, ["image ami-old -> ami-al2023 (amazon-linux-2023)"]);
        const legacy = planRollout(NODES, allRunning({ os: undefined }), want({ os: "amazon-linux-2023", ami: "ami-al2023" }));
        assert.strictEqual(legacy.rolling, undefined);
        // ... and get the tag (an in-place tag update) with that OS.
        assert.strictEqual(legacy.inputs["node-1"].os, "amazon-linux-2023");
    });

    it("a node whose turn has not come keeps even a type it no longer should have; a node that already changed is not taken again", () => {
        const running = { ...allRunning(), "node-1": run(1, { instanceType: "m6i.xlarge" }) };
        const r = planRollout(NODES, running, want({ instanceType: "m6i.xlarge" }));
        assert.strictEqual(r.rolling?.node, "node-2");
        assert.deepStrictEqual(r.pending, ["node-3"]);
        assert.strictEqual(r.inputs["node-3"].instanceType, "t3.large");
    });
});
