import * as assert from "assert";
import { execFileSync } from "child_process";
import { parseHostCommand } from "../../components/host-command";
import { PATHS } from "../../components/layout";
import { RenderedStep, renderPlan, waves } from "../../components/plan";
import { TEST_GENERATED, bashSyntax, cluster, kraftCluster } from "./fixtures";
import { KEY } from "./stacks";

const wave = (steps: RenderedStep[]) => {
    const w = waves(steps);
    return (name: string) => w.findIndex((ws) => ws.some((s) => s.name === name));
};

describe("provisioning plan", () => {
    it("orders every host: ready -> java -> install -> service configuration", () => {
        const { cfg, nodes, secrets } = cluster(3, 3, "colocated");
        const at = wave(renderPlan(cfg, nodes, secrets));
        for (const n of nodes) {
            assert.ok(at(`${n.name}-ready`) < at(`${n.name}-java`));
            assert.ok(at(`${n.name}-java`) < at(`${n.name}-install`));
            assert.ok(at(`${n.name}-install`) < at(`${n.name}-zookeeper`));
            assert.ok(at(`${n.name}-install`) < at(`${n.name}-broker`));
        }
    });

    for (const placement of ["colocated", "dedicated"] as const) {
        it(`no broker starts before the ensemble check (${placement})`, () => {
            const { cfg, nodes, secrets } = cluster(3, 3, placement);
            const steps = renderPlan(cfg, nodes, secrets);
            const at = wave(steps);
            const ensemble = at("cluster-ensemble");
            for (const s of steps.filter((x) => x.phase === "zookeeper")) assert.ok(at(s.name) < ensemble);
            const brokers = steps.filter((x) => x.phase === "broker");
            assert.strictEqual(brokers.length, 3);
            for (const s of brokers) assert.ok(at(s.name) > ensemble, `${s.name} after the ensemble check`);
            assert.ok(at("cluster-brokers") > Math.max(...brokers.map((b) => at(b.name))));
            assert.ok(at("cluster-smoke") > at("cluster-brokers"));
        });
    }

    for (const placement of ["colocated", "dedicated"] as const) {
        it(`every host's memory check comes before any service step on any host, with the heaps that host runs (${placement})`, () => {
            const { cfg, nodes, secrets } = cluster(3, 3, placement, { brokerHeap: "2g", zookeeperHeap: "768m" });
            const steps = renderPlan(cfg, nodes, secrets);
            const byName = new Map(steps.map((s) => [s.name, s]));
            const ancestors = (name: string, seen = new Set<string>()): Set<string> => {
                for (const d of byName.get(name)!.dependsOn) if (!seen.has(d)) { seen.add(d); ancestors(d, seen); }
                return seen;
            };
            // Every broker's listener check too (a kafka:security change is refused before anything restarts).
            const checks = [...nodes.map((n) => `${n.name}-memory`), ...nodes.filter((n) => n.brokerId !== undefined).map((n) => `${n.name}-listeners`)];
            assert.ok(checks.every((c) => byName.has(c)), "a memory check per host, a listener check per broker");
            for (const s of steps.filter((x) => x.phase === "zookeeper" || x.phase === "broker")) {
                const before = ancestors(s.name);
                assert.deepStrictEqual(checks.filter((c) => !before.has(c)), [], `${s.name} waits for every memory and listener check`);
            }
            for (const n of nodes) {
                const { env } = parseHostCommand(byName.get(`${n.name}-memory`)!.create);
                const want = [...(n.brokerId !== undefined ? ["kafka:brokerHeap=2048"] : []), ...(n.zookeeperId !== undefined ? ["kafka:zookeeperHeap=768"] : [])];
                assert.deepStrictEqual(env.HEAPS.split(" "), want, n.name);
                assert.strictEqual(env.NODE_NAME, n.name);
                assert.strictEqual(env.MAX_HEAP_PERCENT, "75");
            }
        });
    }

    it("brokers are configured one at a time (a change rolls broker by broker)", () => {
        const { cfg, nodes, secrets } = cluster(5, 3, "colocated");
        const at = wave(renderPlan(cfg, nodes, secrets));
        const order = [1, 2, 3, 4, 5].map((i) => at(`node-${i}-broker`));
        for (let i = 1; i < order.length; i++) assert.ok(order[i] > order[i - 1], `broker ${i + 1} after broker ${i}`);
    });

    it("host work runs in parallel: all hosts' install steps share one wave", () => {
        const { cfg, nodes, secrets } = cluster(3, 3, "dedicated");
        const steps = renderPlan(cfg, nodes, secrets);
        const w = waves(steps);
        const installWave = w.find((ws) => ws.some((s) => s.phase === "install"))!;
        assert.strictEqual(installWave.filter((s) => s.phase === "install").length, 6);
    });

    it("changing one broker setting changes only broker commands", () => {
        const before = cluster(3, 3, "colocated");
        const after = cluster(3, 3, "colocated", { brokerProperties: { "log.retention.hours": 24 } });
        const a = new Map(renderPlan(before.cfg, before.nodes, before.secrets).map((s) => [s.name, s]));
        const b = new Map(renderPlan(after.cfg, after.nodes, after.secrets).map((s) => [s.name, s]));
        assert.deepStrictEqual([...a.keys()], [...b.keys()]);
        const changed = [...a.keys()].filter((k) => a.get(k)!.create !== b.get(k)!.create);
        assert.deepStrictEqual(changed.sort(), ["cluster-brokers", "cluster-smoke", ...[1, 2, 3].flatMap((i) =>
            ["broker", "listeners-add", "listeners-switch", "protocol"].map((s) => `node-${i}-${s}`))].sort());
    });

    it("ZooKeeper mode: every broker roll but the last (protocol) pins the inter-broker protocol to an older minor line the broker runs; KRaft has no protocol roll", () => {
        const envOf = (extra: Record<string, unknown>) => {
            const c = cluster(3, 3, "colocated", extra);
            const steps = renderPlan(c.cfg, c.nodes, c.secrets);
            return (name: string) => {
                const step = steps.find((s) => s.name === name);
                return step && parseHostCommand(step.create).env;
            };
        };
        const v392 = envOf({});
        for (const roll of ["listeners-add", "listeners-switch", "broker"]) {
            assert.strictEqual(v392(`node-2-${roll}`)!.IBP_PIN_FROM, "3.0 3.1 3.2 3.3 3.4 3.5 3.6 3.7 3.8", roll);
        }
        assert.strictEqual(v392("node-2-broker")!.TRANSITION, "pin");
        assert.strictEqual(v392("node-2-protocol")!.IBP_PIN_FROM, undefined, "the last roll raises the protocol");
        assert.strictEqual(v392("node-2-protocol")!.TRANSITION, undefined, "the last roll writes the configured files");
        assert.strictEqual(envOf({ kafkaVersion: "3.7.2" })("node-1-broker")!.IBP_PIN_FROM, "3.0 3.1 3.2 3.3 3.4 3.5 3.6");
        assert.strictEqual(envOf({ kafkaVersion: "3.0.2" })("node-1-broker")!.IBP_PIN_FROM, undefined, "nothing older than 3.0 to pin");
        // An operator who holds the protocol version in kafka:brokerProperties keeps it: no pin.
        const held = envOf({ brokerProperties: { "inter.broker.protocol.version": "3.8" } });
        assert.strictEqual(held("node-1-broker")!.IBP_PIN_FROM, undefined);
        const k = kraftCluster(3, 3, "colocated");
        const kraftSteps = renderPlan(k.cfg, k.nodes, k.secrets, TEST_GENERATED);
        assert.deepStrictEqual(kraftSteps.filter((s) => s.phase === "protocol"), []);
        assert.ok(kraftSteps.filter((s) => s.phase === "broker").every((s) => {
            const e = parseHostCommand(s.create).env;
            return e.IBP_PIN_FROM === undefined && e.TRANSITION === undefined;
        }));
        // The cluster-wide broker check waits for the last roll.
        const zk = cluster(3, 3, "colocated");
        const check = renderPlan(zk.cfg, zk.nodes, zk.secrets).find((s) => s.name === "cluster-brokers")!;
        assert.deepStrictEqual(check.dependsOn, ["node-1-protocol", "node-2-protocol", "node-3-protocol"]);
    });

    it("changing a ZooKeeper setting (heap) changes only ZooKeeper commands and the memory checks of their hosts", () => {
        const before = cluster(3, 3, "dedicated");
        const after = cluster(3, 3, "dedicated", { zookeeperHeap: "768m" });
        const a = renderPlan(before.cfg, before.nodes, before.secrets);
        const b = renderPlan(after.cfg, after.nodes, after.secrets);
        const changed = a.filter((s, i) => s.create !== b[i].create).map((s) => s.name);
        assert.deepStrictEqual(changed, ["zk-1-memory", "zk-2-memory", "zk-3-memory", "zk-1-zookeeper", "zk-2-zookeeper", "zk-3-zookeeper"]);
    });

    it("a version change: every install downloads it (in parallel), each service switches in its own one-at-a-time step", () => {
        const before = cluster(3, 3, "dedicated");
        const after = cluster(3, 3, "dedicated", { kafkaVersion: "3.9.1" });
        const a = renderPlan(before.cfg, before.nodes, before.secrets);
        const b = renderPlan(after.cfg, after.nodes, after.secrets);
        const changed = a.filter((s, i) => s.create !== b[i].create);
        assert.deepStrictEqual(changed.map((s) => s.phase).sort(), [...Array(6).fill("install"), ...Array(3).fill("zookeeper"),
            ...Array(3).fill("broker"), ...Array(3).fill("listeners-add"), ...Array(3).fill("listeners-switch"), ...Array(3).fill("protocol"), "brokers", "smoke", "admin"].sort(), "the admin credential is written again with the new version's tool");
        const env = (name: string) => parseHostCommand(b.find((s) => s.name === name)!.create).env;
        assert.strictEqual(env("zk-1-zookeeper").DIST_LINK, "/opt/kafka/zookeeper-current");
        assert.strictEqual(env("broker-1-broker").DIST_LINK, "/opt/kafka/current");
        for (const n of ["zk-1-zookeeper", "broker-1-broker", "broker-1-install"]) assert.strictEqual(env(n).KAFKA_DIST, "kafka_2.13-3.9.1");
        assert.strictEqual(env("broker-1-install").DIST_LINK, undefined, "the install step switches nothing");
    });

    it("adding a broker host changes no existing broker or ZooKeeper command", () => {
        const three = cluster(3, 3, "colocated");
        const four = cluster(4, 3, "colocated");
        const a = new Map(renderPlan(three.cfg, three.nodes, three.secrets).map((s) => [s.name, s.create]));
        const b = renderPlan(four.cfg, four.nodes, four.secrets);
        for (const s of b) {
            // The cluster-wide checks, the rebalance and the users step (it talks to every broker) run again.
            if (!a.has(s.name) || ["brokers", "smoke", "rebalance", "users"].includes(s.phase)) continue;
            assert.strictEqual(s.create, a.get(s.name), `${s.name} unchanged`);
        }
        assert.ok(b.some((s) => s.name === "node-4-broker"));
        // The new broker takes its share of the existing partitions: the rebalance step runs again, over all four.
        const rebalance = b.find((s) => s.name === "cluster-rebalance")!;
        assert.notStrictEqual(rebalance.create, a.get("cluster-rebalance"));
        assert.strictEqual(parseHostCommand(rebalance.create).env.BROKER_IDS, "1 2 3 4");
        assert.ok(rebalance.dependsOn.includes("cluster-smoke"));
    });

    it("a broker setting or a version change does not run the rebalance again", () => {
        const base = cluster(3, 3, "colocated");
        const a = renderPlan(base.cfg, base.nodes, base.secrets).find((s) => s.name === "cluster-rebalance")!.create;
        for (const change of [{ brokerProperties: { "log.retention.hours": 24 } }, { kafkaVersion: "3.9.1" }, { brokerHeap: "2g" }]) {
            const c = cluster(3, 3, "colocated", change);
            assert.strictEqual(renderPlan(c.cfg, c.nodes, c.secrets).find((s) => s.name === "cluster-rebalance")!.create, a, JSON.stringify(change));
        }
    });

    it("existing hosts get a service step whose delete stops the services, keeping data unless wipeOnDestroy", () => {
        const hosts = { hosts: [1, 2, 3].map((id) => ({ id, address: `192.0.2.${id}` })), sshUser: "admin", sshPrivateKey: KEY };
        const keep = cluster(3, 3, "colocated", hosts);
        const wipe = cluster(3, 3, "colocated", { ...hosts, wipeOnDestroy: true });
        assert.strictEqual(renderPlan(cluster(3, 3, "colocated").cfg, cluster(3, 3, "colocated").nodes, cluster(3, 3, "colocated").secrets).filter((s) => s.phase === "service").length, 0,
            "EC2 instances are destroyed with the stack: no teardown step");
        const k = renderPlan(keep.cfg, keep.nodes, keep.secrets).filter((s) => s.phase === "service");
        assert.deepStrictEqual(k.map((s) => s.name).sort(), ["host-1-kafka-service", "host-1-zookeeper-service", "host-2-kafka-service",
            "host-2-zookeeper-service", "host-3-kafka-service", "host-3-zookeeper-service"]);
        for (const s of k) assert.match(s.delete!, /WIPE='false'/);
        for (const s of renderPlan(wipe.cfg, wipe.nodes, wipe.secrets).filter((x) => x.phase === "service")) assert.match(s.delete!, /WIPE='true'/);
        // Destroy runs dependents first: every broker stops before any ZooKeeper member does.
        for (const s of k.filter((x) => x.name.endsWith("kafka-service"))) {
            assert.deepStrictEqual(s.dependsOn.filter((d) => d.endsWith("zookeeper-service")).sort(),
                ["host-1-zookeeper-service", "host-2-zookeeper-service", "host-3-zookeeper-service"]);
            assert.match(s.delete!, /SERVICES='kafka'/);
        }
    });

    it("no secret in any command text", () => {
        const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nSECRETKEYMATERIAL\n-----END OPENSSH PRIVATE KEY-----\n";
        const { cfg, nodes, secrets } = cluster(3, 3, "colocated", { sshPrivateKey: key });
        for (const s of renderPlan(cfg, nodes, secrets)) {
            assert.doesNotMatch(s.create + (s.delete ?? ""), /SECRETKEYMATERIAL|PRIVATE KEY/);
        }
    });

    it("command text is valid bash that carries its parameters in the environment", () => {
        const { cfg, nodes, secrets } = cluster(3, 3, "colocated");
        const step = renderPlan(cfg, nodes, secrets).find((s) => s.name === "node-1-install")!;
        assert.match(step.create, /^sudo -n env KC_STEP='install-kafka' KAFKA_URLS='https:\/\/dlcdn\.apache\.org\/kafka\/3\.9\.\d+\/kafka_2\.13-3\.9\.\d+\.tgz /);
        execFileSync("bash", ["-n", "-c", step.create]);
        // The outer line parses whatever the script inside says; the script text itself is checked too (and every
        // step's, in host-scripts.test.ts).
        bashSyntax(parseHostCommand(step.create).script);
    });

    it("the install step gets the release's sources in order with the KEYS file of each: CDN then archive by default, a set downloadUrl alone", () => {
        const envOf = (extra: Record<string, unknown>) => {
            const { cfg, nodes, secrets } = cluster(1, 1, "colocated", { kafkaVersion: "3.8.1", ...extra });
            return parseHostCommand(renderPlan(cfg, nodes, secrets).find((s) => s.phase === "install")!.create).env;
        };
        const def = envOf({});
        assert.strictEqual(def.KAFKA_URLS, "https://dlcdn.apache.org/kafka/3.8.1/kafka_2.13-3.8.1.tgz https://archive.apache.org/dist/kafka/3.8.1/kafka_2.13-3.8.1.tgz");
        assert.strictEqual(def.KEYS_URLS, "https://dlcdn.apache.org/kafka/KEYS https://archive.apache.org/dist/kafka/KEYS");
        assert.strictEqual(def.KAFKA_URL, undefined);
        const mirror = envOf({ downloadUrl: "https://mirror.example/kafka", keysUrl: "https://keys.example/kafka/KEYS" });
        assert.strictEqual(mirror.KAFKA_URLS, "https://mirror.example/kafka/3.8.1/kafka_2.13-3.8.1.tgz");
        assert.strictEqual(mirror.KEYS_URLS, "https://keys.example/kafka/KEYS");
    });

    it("data volumes get a storage step before the install, at the broker's or ZooKeeper's data directory", () => {
        const { cfg, nodes, secrets } = cluster(3, 3, "dedicated", { dataVolume: { sizeGb: 100 } });
        const steps = renderPlan(cfg, nodes, secrets);
        const at = wave(steps);
        const storage = steps.filter((s) => s.phase === "storage");
        assert.deepStrictEqual(storage.map((s) => s.node), ["zk-1", "zk-2", "zk-3", "broker-1", "broker-2", "broker-3"]);
        for (const s of storage) assert.ok(at(s.name) < at(`${s.node}-install`));
        const env = (node: string) => parseHostCommand(storage.find((s) => s.node === node)!.create).env;
        assert.deepStrictEqual([env("zk-1").VOLUME_ID, env("zk-1").MOUNT_POINT, env("zk-1").SERVICES], ["vol-01", PATHS.zookeeperData, "zookeeper"]);
        assert.deepStrictEqual([env("broker-1").VOLUME_ID, env("broker-1").MOUNT_POINT, env("broker-1").SERVICES], ["vol-04", PATHS.kafkaData, "kafka"]);
        assert.ok(storage.every((s) => parseHostCommand(s.create).env.SIZE_GB === "100"));
    });

    it("a lower broker count reruns the broker check (before Pulumi deletes the removed brokers) with the new ids", () => {
        const four = cluster(4, 3, "colocated");
        const three = cluster(3, 3, "colocated");
        const check = (c: typeof four) => renderPlan(c.cfg, c.nodes, c.secrets).find((s) => s.name === "cluster-brokers")!.create;
        assert.notStrictEqual(check(three), check(four));
        assert.strictEqual(parseHostCommand(check(three)).env.BROKER_IDS, "1 2 3");
        assert.strictEqual(parseHostCommand(check(four)).env.BROKER_IDS, "1 2 3 4");
    });

    it("co-located nodes mount their volume at the broker's data directory only", () => {
        const { cfg, nodes, secrets } = cluster(3, 3, "colocated", { dataVolume: { sizeGb: 100 } });
        const storage = renderPlan(cfg, nodes, secrets).filter((s) => s.phase === "storage");
        assert.deepStrictEqual(storage.map((s) => [s.node, parseHostCommand(s.create).env.MOUNT_POINT, parseHostCommand(s.create).env.SERVICES]),
            [1, 2, 3].map((i) => [`node-${i}`, PATHS.kafkaData, "kafka"]));
    });

    it("a larger data volume reruns only the storage steps (which grow the filesystem), nothing restarts", () => {
        const small = cluster(3, 3, "dedicated", { dataVolume: { sizeGb: 100 } });
        const big = cluster(3, 3, "dedicated", { dataVolume: { sizeGb: 150 } });
        const before = new Map(renderPlan(small.cfg, small.nodes, small.secrets).map((s) => [s.name, s.create]));
        const changed = renderPlan(big.cfg, big.nodes, big.secrets).filter((s) => before.get(s.name) !== s.create);
        assert.deepStrictEqual(changed.map((s) => s.name), ["zk-1-storage", "zk-2-storage", "zk-3-storage",
            "broker-1-storage", "broker-2-storage", "broker-3-storage"]);
        assert.ok(changed.every((s) => parseHostCommand(s.create).env.SIZE_GB === "150"));
    });
});
