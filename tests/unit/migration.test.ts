// The migration's decisions (components/migration.ts): targets from the configuration, the phase from what the hosts
// report, the preconditions, what each `pulumi up` does forward and back, and that an up interrupted after any single
// host change carries on to the same place.
import * as assert from "assert";
import {
    MigrationAction, MigrationTarget, NodeReport, QuorumReport, decideMigration, migrationPreconditions, migrationTarget,
    observedPhase, parseReport,
} from "../../components/migration";

/** Three hosts, each with a ZooKeeper member and a broker (ids 1..3), as a ZooKeeper-mode cluster of this program runs. */
function zookeeperCluster(): NodeReport[] {
    return [1, 2, 3].map((i) => ({
        node: `host-${i}`, broker: { active: true, mode: "zookeeper" as const, version: "3.9.2", id: i }, zookeeper: { active: true },
    }));
}
const NO_ZNODE: QuorumReport = { migrationZnode: false };

/** A model of the hosts: each action as the single host changes it makes, one at a time (an interruption can fall between any two). */
interface Model { nodes: NodeReport[]; quorum: QuorumReport }
function hostChanges(action: MigrationAction, m: Model): ((m: Model) => void)[] {
    const each = (pick: (n: NodeReport) => boolean, change: (n: NodeReport) => void) =>
        m.nodes.filter(pick).map((n) => (x: Model) => change(x.nodes.find((y) => y.node === n.node)!));
    const brokerTo = (from: string[], mode: "zookeeper" | "migrating" | "kraft") =>
        each((n) => n.broker !== undefined && from.includes(n.broker.mode), (n) => { n.broker!.mode = mode; });
    switch (action) {
    case "deploy-controllers":
        return each((n) => n.zookeeper !== undefined && n.controller === undefined, (n) => {
            n.controller = { active: true, migration: true, zookeeperConnect: true, version: "3.9.2", id: 3000 + Number(n.node.slice(5)), quorum: "voters" };
        });
    case "await-migration": return [(x) => { x.quorum.migrationZnode = true; }];
    case "roll-brokers-migrating": return brokerTo(["zookeeper"], "migrating");
    case "roll-brokers-kraft": return brokerTo(["zookeeper", "migrating"], "kraft");
    case "roll-brokers-zookeeper": return brokerTo(["kraft"], "migrating");
    case "roll-brokers-plain":
        // Kafka's recipe never moves a KRaft-mode broker straight to plain ZooKeeper mode: back to B first.
        return m.nodes.filter((n) => n.broker !== undefined && n.broker.mode !== "zookeeper").map((n) => (x: Model) => {
            if (x.nodes.some((y) => y.broker?.mode === "kraft")) throw new Error("roll-brokers-plain while a broker runs in KRaft mode");
            x.nodes.find((y) => y.node === n.node)!.broker!.mode = "zookeeper";
        });
    case "finalize-controllers":
        return each((n) => n.controller?.migration === true, (n) => { n.controller = { ...n.controller!, migration: false, zookeeperConnect: false }; });
    case "retire-zookeeper": return each((n) => n.zookeeper !== undefined, (n) => { delete n.zookeeper; });
    case "remove-controllers": return each((n) => n.controller !== undefined, (n) => { delete n.controller; });
    case "delete-migration-znode": return [(x) => { x.quorum.migrationZnode = false; }];
    case "dynamic-quorum": return each((n) => n.controller?.quorum === "voters", (n) => { n.controller!.quorum = "bootstrap"; });
    default: return [];
    }
}
const clone = (m: Model): Model => JSON.parse(JSON.stringify(m)) as Model;

/** Runs `pulumi up`s until nothing is left to do (at most 5); fails on a refusal. Returns the model and every action run. */
function converge(target: MigrationTarget, start: Model): { model: Model; actions: MigrationAction[] } {
    const m = clone(start);
    const actions: MigrationAction[] = [];
    for (let up = 0; up < 5; up++) {
        const d = decideMigration(target, m.nodes, m.quorum);
        assert.strictEqual(d.refusal, undefined, `refused in ${d.phase}: ${d.refusal}`);
        if (d.actions.length === 0) return { model: m, actions };
        for (const a of d.actions) {
            actions.push(a);
            for (const change of hostChanges(a, m)) change(m);
        }
    }
    throw new Error(`no convergence towards ${target}: ${actions.join(", ")}`);
}

describe("migration: the stack's target", () => {
    it("kafka:metadata, kafkaVersion and zookeeperRetired map to one target, or a problem with its fix", () => {
        assert.deepStrictEqual(migrationTarget("zookeeper", "3.9.2", false), { target: "zookeeper" });
        assert.deepStrictEqual(migrationTarget("kraft", "3.9.2", false), { target: "dual-write" });
        assert.deepStrictEqual(migrationTarget("kraft", "3.9.1", true), { target: "finalized" });
        assert.deepStrictEqual(migrationTarget("kraft", "4.3.2", false), { target: "kraft" });
        assert.deepStrictEqual(migrationTarget("kraft", "4.3.2", true), { target: "kraft" });
        const older = migrationTarget("kraft", "3.8.1", false);
        assert.ok("problem" in older && /3\.9/.test(older.problem) && /kafka:kafkaVersion 3\.9\.2/.test(older.problem), JSON.stringify(older));
        const retired = migrationTarget("zookeeper", "3.9.2", true);
        assert.ok("problem" in retired && /pulumi config rm kafka:zookeeperRetired/.test(retired.problem), JSON.stringify(retired));
    });
});

describe("migration: the phase the hosts are in", () => {
    it("each phase from what the hosts run; a roll half-way counts as the phase it started from", () => {
        const m = { nodes: zookeeperCluster(), quorum: NO_ZNODE };
        assert.strictEqual(observedPhase(m.nodes), "zookeeper");
        for (const c of hostChanges("deploy-controllers", m)) c(m);
        assert.strictEqual(observedPhase(m.nodes), "controllers");
        const toMigrating = hostChanges("roll-brokers-migrating", m);
        toMigrating[0](m);
        assert.strictEqual(observedPhase(m.nodes), "controllers", "one broker of three migrating");
        toMigrating.slice(1).forEach((c) => c(m));
        assert.strictEqual(observedPhase(m.nodes), "migrating");
        const toKraft = hostChanges("roll-brokers-kraft", m);
        toKraft[0](m);
        assert.strictEqual(observedPhase(m.nodes), "migrating", "one broker of three in KRaft mode");
        toKraft.slice(1).forEach((c) => c(m));
        assert.strictEqual(observedPhase(m.nodes), "dual-write");
        hostChanges("finalize-controllers", m)[0](m);
        assert.strictEqual(observedPhase(m.nodes), "finalized", "one controller out of migration mode is past the point of no return");
        for (const a of ["finalize-controllers", "retire-zookeeper"] as const) for (const c of hostChanges(a, m)) c(m);
        assert.strictEqual(observedPhase(m.nodes), "kraft");
    });

    it("a host with no broker or controller provisioned yet is new: a mode's target builds it, a migration's is refused", () => {
        const fresh: NodeReport[] = [{ node: "host-1" }, { node: "host-2" }];
        assert.strictEqual(observedPhase(fresh), "new");
        for (const t of ["zookeeper", "kraft"] as const) {
            const d = decideMigration(t, fresh, NO_ZNODE);
            assert.deepStrictEqual([d.actions, d.refusal], [[], undefined], t);
        }
        for (const t of ["dual-write", "finalized"] as const) {
            const d = decideMigration(t, fresh, NO_ZNODE);
            assert.deepStrictEqual(d.actions, [], t);
            assert.match(d.refusal ?? "", /migrates a running ZooKeeper-mode cluster to KRaft, and no broker runs on these hosts yet\. Fix: build the cluster in ZooKeeper mode first/, t);
        }
        assert.strictEqual(decideMigration("kraft", fresh, NO_ZNODE).after, "KRaft mode");
    });

    it("brokers in KRaft mode with no controller left are reported as dual-write (only the controllers' return helps them)", () => {
        const nodes = zookeeperCluster();
        nodes[0].broker!.mode = "kraft";
        assert.strictEqual(observedPhase(nodes), "dual-write");
        const d = decideMigration("zookeeper", nodes, NO_ZNODE);
        assert.match(d.refusal ?? "", /no controller runs.*kafka:metadata kraft/);
        assert.deepStrictEqual(d.actions, []);
    });
});

describe("migration: preconditions, checked on every host before the first change", () => {
    const ids = [3001, 3002, 3003];
    it("a healthy 3.9 cluster passes", () => {
        assert.deepStrictEqual(migrationPreconditions(zookeeperCluster(), ids, 3), []);
        const pinned = zookeeperCluster();
        pinned[0].broker!.ibp = "3.9-IV0";
        assert.deepStrictEqual(migrationPreconditions(pinned, ids, 3), []);
    });
    const cases: [string, (n: NodeReport[]) => void, RegExp][] = [
        ["a stopped broker", (n) => { n[1].broker!.active = false; }, /^host-2: the broker is not running.*systemctl start kafka/],
        ["a broker on 3.8", (n) => { n[2].broker!.version = "3.8.1"; }, /^host-3: the broker runs Kafka 3\.8\.1.*kafka:kafkaVersion 3\.9\.2/],
        ["an older inter-broker protocol", (n) => { n[0].broker!.ibp = "3.8"; }, /^host-1: .*inter\.broker\.protocol\.version 3\.8.*kafka:brokerProperties/],
        ["a broker id a controller has", (n) => { n[0].broker!.id = 3001; }, /^host-1: broker\.id 3001 is also a controller's node\.id/],
        ["a broker without a fixed id", (n) => { n[0].broker!.id = -1; }, /^host-1: the broker has no fixed broker\.id/],
        ["a ZooKeeper member down", (n) => { n[2].zookeeper!.active = false; }, /^ZooKeeper: 2 of 3 members run \(down: host-3\)/],
        ["a ZooKeeper member missing", (n) => { delete n[2].zookeeper; }, /^ZooKeeper: 2 of 3 members run;/],
    ];
    for (const [what, spoil, expected] of cases) {
        it(`refused: ${what}, naming the host and the fix`, () => {
            const nodes = zookeeperCluster();
            spoil(nodes);
            const problems = migrationPreconditions(nodes, ids, 3);
            assert.strictEqual(problems.length, 1, problems.join("\n"));
            assert.match(problems[0], expected);
            assert.match(problems[0], /Fix: /);
        });
    }
});

describe("migration: what each pulumi up does", () => {
    const start: Model = { nodes: zookeeperCluster(), quorum: NO_ZNODE };

    it("kafka:metadata kraft on a ZooKeeper-mode cluster: preconditions, phases A, B and C, then it stops at dual-write", () => {
        const d = decideMigration("dual-write", start.nodes, start.quorum);
        assert.deepStrictEqual(d.actions, ["check-preconditions", "deploy-controllers", "await-pre-migration", "roll-brokers-migrating",
            "await-migration", "roll-brokers-kraft"]);
        const { model } = converge("dual-write", start);
        assert.strictEqual(observedPhase(model.nodes), "dual-write");
        const again = decideMigration("dual-write", model.nodes, model.quorum);
        assert.deepStrictEqual(again.actions, []);
        assert.match(again.summary, /kafka:zookeeperRetired true.*cannot be undone.*pulumi config rm kafka:metadata && pulumi up to roll back/);
    });

    it("a /migration znode left by an earlier attempt is deleted before the controllers start (else they skip the copy)", () => {
        const d = decideMigration("dual-write", start.nodes, { migrationZnode: true });
        assert.deepStrictEqual(d.actions.slice(0, 3), ["check-preconditions", "delete-migration-znode", "deploy-controllers"]);
    });

    it("rollback from each phase follows Kafka's revert table and ends in ZooKeeper mode with no /migration", () => {
        const expected: Record<string, MigrationAction[]> = {
            controllers: ["remove-controllers"],
            migrating: ["remove-controllers", "delete-controller-znode", "delete-migration-znode", "roll-brokers-plain"],
            "dual-write": ["roll-brokers-zookeeper", "remove-controllers", "delete-controller-znode", "delete-migration-znode", "roll-brokers-plain"],
        };
        for (const [phase, actions] of Object.entries(expected)) {
            // Forward until the hosts are in `phase`.
            const m = clone(start);
            for (const a of decideMigration("dual-write", m.nodes, m.quorum).actions) {
                if (observedPhase(m.nodes) === phase) break;
                for (const c of hostChanges(a, m)) c(m);
            }
            assert.strictEqual(observedPhase(m.nodes), phase);
            assert.deepStrictEqual(decideMigration("zookeeper", m.nodes, m.quorum).actions, actions, phase);
            const { model } = converge("zookeeper", m);
            assert.deepStrictEqual(model, start, `rolled back from ${phase}`);
        }
    });

    it("finalizing: refused before every broker runs in KRaft mode; after it, controllers out of migration mode and ZooKeeper retired", () => {
        const refused = decideMigration("finalized", start.nodes, start.quorum);
        assert.deepStrictEqual(refused.actions, []);
        assert.match(refused.refusal ?? "", /cannot be undone.*every broker in KRaft mode.*pulumi config rm kafka:zookeeperRetired/);
        const { model: dual } = converge("dual-write", start);
        assert.deepStrictEqual(decideMigration("finalized", dual.nodes, dual.quorum).actions, ["finalize-controllers", "await-post-migration", "retire-zookeeper"]);
        const { model } = converge("finalized", dual);
        assert.strictEqual(observedPhase(model.nodes), "kraft");
        assert.ok(model.nodes.every((n) => n.zookeeper === undefined && n.controller?.migration === false && n.broker?.mode === "kraft"));
    });

    it("no way back after finalizing; 4.x only once finalized", () => {
        const { model: dual } = converge("dual-write", start);
        const half = clone(dual);
        hostChanges("finalize-controllers", half)[0](half);
        for (const m of [half, converge("finalized", dual).model]) {
            assert.match(decideMigration("zookeeper", m.nodes, m.quorum).refusal ?? "", /cannot go back to ZooKeeper mode/);
            assert.match(decideMigration("dual-write", m.nodes, m.quorum).refusal ?? "", /kafka:zookeeperRetired true/);
        }
        // A finalize interrupted half-way carries on.
        assert.deepStrictEqual(decideMigration("finalized", half.nodes, half.quorum).actions, ["finalize-controllers", "await-post-migration", "retire-zookeeper"]);
        // On 4.x the migration's static quorum becomes dynamic, once; a native KRaft cluster's is already.
        const finalized = converge("finalized", dual).model;
        assert.deepStrictEqual(decideMigration("kraft", finalized.nodes, NO_ZNODE).actions, ["dynamic-quorum"]);
        const { model: on4 } = converge("kraft", finalized);
        assert.ok(on4.nodes.every((n) => n.controller?.quorum === "bootstrap"));
        assert.deepStrictEqual(decideMigration("kraft", on4.nodes, NO_ZNODE).actions, []);
        for (const m of [start, dual]) {
            assert.match(decideMigration("kraft", m.nodes, m.quorum).refusal ?? "", /kafka:kafkaVersion is a 4\.x release \(KRaft only\).*Fix: pulumi config set kafka:kafkaVersion 3\.9\.2 \(with kafka:metadata kraft: the migration\)/);
        }
    });

    it("an up interrupted after any single host change carries on to the same end, forward and back", () => {
        const { model: dual } = converge("dual-write", start);
        const runs: [MigrationTarget, Model][] = [["dual-write", start], ["zookeeper", dual], ["finalized", dual]];
        for (const [target, from] of runs) {
            const whole = converge(target, from).model;
            // Every prefix of the host changes one uninterrupted up makes (the model records them as it goes), then
            // a fresh decision from the hosts as they are.
            const actions = decideMigration(target, from.nodes, from.quorum).actions;
            const replay = (limit: number): { model: Model; total: number } => {
                const x = clone(from);
                let done = 0;
                for (const a of actions) {
                    for (const change of hostChanges(a, x)) {
                        if (done < limit) change(x);
                        done++;
                    }
                }
                return { model: x, total: done };
            };
            const total = replay(Number.MAX_SAFE_INTEGER).total;
            assert.ok(total >= 4, `${target}: only ${total} host changes`);
            for (let cut = 0; cut <= total; cut++) {
                assert.deepStrictEqual(converge(target, replay(cut).model).model, whole, `${target}: interrupted after ${cut} of ${total} host changes`);
            }
        }
    });
});

describe("migration: what observe.sh reports", () => {
    it("parses each role's line and the cluster's migration state", () => {
        const { node, quorum } = parseReport("host-1", [
            "generation: 3",
            "broker: active=1 mode=migrating version=3.9.2 id=1 ibp=3.9",
            "zookeeper: active=0",
            "controller: active=1 migration=1 zookeeper=1 version=3.9.2 id=3001 quorum=voters",
            "zk-migration-state: 2",
            "migration-znode: 1",
        ].join("\n"));
        assert.deepStrictEqual(node, {
            node: "host-1", broker: { active: true, mode: "migrating", version: "3.9.2", id: 1, ibp: "3.9" }, zookeeper: { active: false },
            controller: { active: true, migration: true, zookeeperConnect: true, version: "3.9.2", id: 3001, quorum: "voters" },
        });
        assert.deepStrictEqual(quorum, { zkMigrationState: "PRE_MIGRATION", migrationZnode: true });
        assert.deepStrictEqual(parseReport("host-2", "generation: 0\n").node, { node: "host-2" });
    });

    it("a malformed line fails loudly with the node's name instead of being read as some phase", () => {
        assert.throws(() => parseReport("host-1", "broker: active=1 mode=hybrid version=3.9.2 id=1"), /host-1: .*unknown broker mode/);
        assert.throws(() => parseReport("host-1", "broker: active=yes mode=kraft version=3.9.2 id=1"), /host-1: .*active must be 0 or 1/);
        assert.throws(() => parseReport("host-1", "controller: active=1 migration=1 zookeeper=1 id=3001 quorum=voters"), /host-1: .*no version/);
        assert.throws(() => parseReport("host-1", "controller: active=1 migration=1 zookeeper=1 version=3.9.2 id=3001"), /host-1: .*quorum must be voters or bootstrap/);
        assert.throws(() => parseReport("host-1", "zk-migration-state: 7"), /unknown ZkMigrationState "7"/);
    });
});
