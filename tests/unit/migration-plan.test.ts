// The ZooKeeper -> KRaft migration as the plan runs it (kafka:metadata kraft on Kafka 3.9; roles/migration.ts): the
// configuration it is, the nodes it adds to, the steps in their order and the files each phase writes, what the
// observed broker modes change, and what KafkaCluster admits (components/migration.ts admitMigration). No hosts.
import * as assert from "assert";
import { parseConfig } from "../../components/config";
import { parseHostCommand } from "../../components/host-command";
import { PATHS, PORTS, portTable } from "../../components/layout";
import { NodeReport, admitMigration, decideMigration, observedClusterId } from "../../components/migration";
import { RenderedStep, commandText, renderPlan, waves } from "../../components/plan";
import { rollbackSteps } from "../../components/roles/migration";
import { renderServerProperties } from "../../components/render";
import { CONTROLLER_ID_BASE, controllerNodes, hostNodes } from "../../components/topology";
import { cluster, manifestText, testSecrets } from "./fixtures";
import { KEY, SSH, problems } from "./stacks";

const HOSTS = [1, 2, 3].map((id) => ({ id, address: `192.0.2.${id + 10}` }));
const ZK_STACK = { hosts: HOSTS, sshUser: "admin", sshPrivateKey: KEY, acls: { app: { read: ["orders"], write: ["orders"], groups: ["g"] } }, clientUsers: ["app"] };
const CLUSTER_ID = "oH81n1CwR9-cPnZUzue_0A";
const envOf = (steps: RenderedStep[], name: string) => {
    const s = steps.find((x) => x.name === name);
    assert.ok(s, `no step ${name}`);
    return parseHostCommand(s!.create).env;
};

/** A migrating stack's plan, resolved, with the observed broker modes given. */
function migrationPlan(modes: Record<string, "zookeeper" | "migrating" | "kraft"> = {}) {
    const { cfg, nodes, secrets } = cluster(3, 3, "colocated", { ...ZK_STACK, metadata: "kraft", kafkaVersion: "3.9.2" });
    const steps = renderPlan(cfg, nodes, secrets, { clusterId: CLUSTER_ID, brokerModes: modes, generations: {} });
    return { cfg, nodes, secrets, steps };
}

describe("migration: the configuration and the nodes", () => {
    it("kafka:metadata kraft on 3.9 is the migration of the ZooKeeper-mode cluster: ZooKeeper keeps the metadata, a controller joins each member", () => {
        const cfg = parseConfig({ ...ZK_STACK, metadata: "kraft", kafkaVersion: "3.9.2", controllerHeap: "384m" }, "test");
        assert.strictEqual(cfg.metadata, "zookeeper");
        assert.deepStrictEqual(cfg.migration, { target: "dual-write", controllerHeap: "384m" });
        assert.strictEqual(cfg.quorum.role, "zookeeper");
        if (cfg.mode !== "hosts") throw new Error("hosts mode");
        const nodes = hostNodes(cfg);
        assert.deepStrictEqual(nodes.map((n) => [n.name, n.roles, n.zookeeperId, n.controllerId, n.brokerId]), [1, 2, 3].map((i) =>
            [`host-${i}`, ["zookeeper", "controller", "broker"], i, CONTROLLER_ID_BASE + i, i]));
        // The same stack without kafka:metadata: no controller anywhere.
        const plain = parseConfig({ ...ZK_STACK }, "test");
        assert.strictEqual(plain.migration, undefined);
        if (plain.mode === "hosts") assert.ok(hostNodes(plain).every((n) => n.controllerId === undefined && !n.roles.includes("controller")));
    });

    it("EC2: controllers on the ZooKeeper nodes (co-located or dedicated), no node added; the controllers' port opens inside the cluster", () => {
        for (const placement of ["colocated", "dedicated"] as const) {
            const { cfg, nodes } = cluster(3, 3, placement, { metadata: "kraft", kafkaVersion: "3.9.2" });
            const plain = cluster(3, 3, placement, {});
            assert.deepStrictEqual(nodes.map((n) => n.name), plain.nodes.map((n) => n.name), placement);
            assert.deepStrictEqual(controllerNodes(nodes).map((n) => [n.name, n.controllerId]), nodes.filter((n) => n.zookeeperId !== undefined)
                .map((n) => [n.name, CONTROLLER_ID_BASE + n.zookeeperId!]), placement);
            const cluster_ = portTable(cfg).filter((r) => r.reach === "cluster").map((r) => r.port);
            for (const p of [PORTS.zookeeperClient, PORTS.zookeeperPeer, PORTS.zookeeperElection, PORTS.controller]) assert.ok(cluster_.includes(p), `${p}`);
            assert.ok(!portTable(cfg).some((r) => r.port === PORTS.controller && r.reach !== "cluster"));
            assert.ok(!portTable(plain.cfg).some((r) => r.port === PORTS.controller), "a ZooKeeper-mode stack opens no controller port");
        }
    });

    it("refused with the fix: controller settings the migration decides itself", () => {
        const p = problems({ ...SSH, metadata: "kraft", kafkaVersion: "3.9.2", controllerPlacement: "dedicated" });
        assert.match(p.join("\n"), /kafka:controllerPlacement: .*one controller beside each ZooKeeper member.*Fix: remove it for the migration/);
        // EC2: dedicated ZooKeeper nodes with data volumes (their volume holds the snapshots) are not migrated yet.
        const dedicated = problems({ ...SSH, metadata: "kraft", kafkaVersion: "3.9.2", zookeeperPlacement: "dedicated", dataVolume: { sizeGb: 100, type: "gp3" } });
        assert.match(dedicated.join("\n"), /kafka:metadata: kraft on Kafka 3\.9 \(the migration to KRaft\) is not run yet on dedicated ZooKeeper nodes with kafka:dataVolume\. Fix: /);
    });
});

describe("migration: the plan (phases A, B and C in one pulumi up)", () => {
    it("after the ensemble: controllers formatted with the running cluster's id and started one by one, the gates, roll B, roll C, then the checks", () => {
        const { steps } = migrationPlan();
        const w = waves(steps);
        const at = (name: string) => {
            const i = w.findIndex((ws) => ws.some((s) => s.name === name));
            assert.ok(i >= 0, `no step ${name}`);
            return i;
        };
        const order = ["host-3-zookeeper", "host-1-controller-format", "host-1-controller", "host-2-controller", "host-3-controller", "cluster-quorum",
            "cluster-migration-ready", "host-1-migrating", "host-2-migrating", "host-3-migrating", "cluster-migration-copied",
            "host-1-kraft", "host-2-kraft", "host-3-kraft", "cluster-brokers", "cluster-smoke"];
        for (let i = 1; i < order.length; i++) assert.ok(at(order[i - 1]) < at(order[i]), `${order[i - 1]} before ${order[i]}`);
        // No ZooKeeper-mode roll: the migration's rolls replace them.
        for (const gone of ["broker", "protocol", "listeners-add", "listeners-switch"]) {
            assert.ok(!steps.some((s) => s.name === `host-1-${gone}`), gone);
        }
        const format = envOf(steps, "host-2-controller-format");
        assert.strictEqual(format.CLUSTER_ID, CLUSTER_ID);
        assert.strictEqual(format.STATIC_QUORUM, "true");
        assert.strictEqual(format.INITIAL_CONTROLLERS, undefined, "a static quorum: no --initial-controllers");
        assert.strictEqual(format.SCRAM_USER, undefined, "the migration copies the SCRAM credentials");
        assert.strictEqual(envOf(steps, "host-2-controller").STATIC_QUORUM, "true");
        assert.strictEqual(envOf(steps, "cluster-migration-ready").AWAIT, "created");
        assert.strictEqual(envOf(steps, "cluster-migration-copied").AWAIT, "copied");
        assert.match(envOf(steps, "cluster-migration-copied").ZK_CONNECT, /:2181\/kafka$/);
        assert.strictEqual(envOf(steps, "cluster-brokers").ZK_CONNECT, "", "phase C brokers register with the controllers only");
        // Memory: the controller's heap counts on every ZooKeeper host.
        assert.match(envOf(steps, "host-1-memory").HEAPS, /kafka:controllerHeap=512/);
        // Teardown stops the controllers too (existing hosts), every one before any ZooKeeper member (destroy deletes a
        // step before the ones it depends on), every broker before both.
        for (const c of ["host-1", "host-2", "host-3"]) {
            const deps = steps.find((s) => s.name === `${c}-kafka-controller-service`)!.dependsOn;
            for (const z of ["host-1", "host-2", "host-3"]) assert.ok(deps.includes(`${z}-zookeeper-service`), `${c} controller after ${z}'s ZooKeeper`);
        }
        assert.ok(steps.find((s) => s.name === "host-2-kafka-service")!.dependsOn.includes("host-3-kafka-controller-service"));
    });

    it("the files: a controller in migration mode; B the ZooKeeper file plus the quorum; C the KRaft file with the static quorum and the nodes' principals", () => {
        const { cfg, nodes, secrets, steps } = migrationPlan();
        const controller = manifestText(steps.find((s) => s.name === "host-1-controller")!.create);
        for (const line of ["zookeeper.metadata.migration.enable=true", "controller.quorum.voters=3001@10.0.0.1:9098,3002@10.0.0.2:9098,3003@10.0.0.3:9098",
            "zookeeper.connect=10.0.0.1:2181,10.0.0.2:2181,10.0.0.3:2181/kafka", "sasl.enabled.mechanisms=SCRAM-SHA-512",
            `super.users=User:admin;User:CN=host-1.${cfg.clusterName};User:CN=host-2.${cfg.clusterName};User:CN=host-3.${cfg.clusterName}`,
            `KAFKA_OPTS="-Djava.security.auth.login.config=${PATHS.kafkaJaas}"`, 'KAFKA_HEAP_OPTS="-Xms512m -Xmx512m"']) {
            assert.ok(controller.includes(line), `controller files lack ${line}`);
        }
        const b = manifestText(steps.find((s) => s.name === "host-2-migrating")!.create);
        assert.ok(b.includes(renderServerProperties(cfg, nodes[1], nodes, secrets, true, { migrating: true })), "phase B's file");
        assert.ok(b.includes("zookeeper.connect=") && b.includes("zookeeper.metadata.migration.enable=true") && b.includes("broker.id=2"));
        const c = manifestText(steps.find((s) => s.name === "host-2-kraft")!.create);
        for (const line of ["process.roles=broker", "node.id=2", "controller.quorum.voters=3001@10.0.0.1:9098,3002@10.0.0.2:9098,3003@10.0.0.3:9098",
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            `super.users=User:admin;User:CN=host-1.${cfg.clusterName};User:CN=host-2.${cfg.clusterName};User:CN=host-3.${cfg.clusterName}`]) {
            assert.ok(c.includes(line), `phase C lacks ${line}`);
        }
        assert.ok(!/^zookeeper\.connect=/m.test(c) && !/^broker\.id=/m.test(c), "no ZooKeeper in phase C");
        // The same certificates throughout: no node certificate is re-issued for the migration.
        assert.deepStrictEqual(Object.keys(testSecrets(cfg, nodes).keystores), ["host-1", "host-2", "host-3"]);
    });

    it("a broker that runs in KRaft mode already is never rolled back to phase B: its B step does nothing; the others' are as before", () => {
        const before = migrationPlan().steps;
        const after = migrationPlan({ "host-1": "kraft", "host-2": "migrating", "host-3": "migrating" }).steps;
        const step = (steps: RenderedStep[], name: string) => steps.find((s) => s.name === name)!.create;
        assert.deepStrictEqual(parseHostCommand(step(after, "host-1-migrating")).env, { KC_STEP: "phase-done", NOTE: "host-1: the broker runs in KRaft mode (phase C) already; nothing to do in phase B" });
        // Every step of every variant is a host command (what provision.ts sends over SSH).
        for (const s of [...before, ...after]) if (s.node && !s.name.endsWith("-service")) assert.doesNotThrow(() => parseHostCommand(s.create), s.name);
        assert.strictEqual(step(after, "host-2-migrating"), step(before, "host-2-migrating"));
        for (const n of ["host-1-kraft", "host-2-kraft", "cluster-migration-copied"]) assert.strictEqual(step(after, n), step(before, n), n);
    });

    it("a ZooKeeper-mode stack that never sets kafka:metadata plans exactly as before: no controller, no migration step", () => {
        const { cfg, nodes, secrets } = cluster(3, 3, "colocated", { ...ZK_STACK });
        const steps = renderPlan(cfg, nodes, secrets, { generations: {} });
        assert.ok(!steps.some((s) => /controller|migrat|kraft/.test(s.name)), steps.map((s) => s.name).join(" "));
        assert.ok(steps.some((s) => s.name === "host-1-broker") && steps.some((s) => s.name === "host-1-protocol"));
    });
});

describe("migration: finalizing (kafka:zookeeperRetired)", () => {
    const finalize = () => cluster(3, 3, "colocated", { ...ZK_STACK, metadata: "kraft", kafkaVersion: "3.9.2", zookeeperRetired: true });

    it("the configuration: refused without kafka:metadata kraft; with it the ZooKeeper members are gone and their controllers stay", () => {
        assert.match(problems({ ...SSH, zookeeperRetired: true }).join("\n"), /kafka:zookeeperRetired: is true, and kafka:metadata is zookeeper.*Fix: pulumi config set kafka:metadata kraft/);
        const { cfg, nodes } = finalize();
        assert.deepStrictEqual(cfg.migration, { target: "finalized", controllerHeap: "512m" });
        assert.deepStrictEqual(nodes.map((n) => [n.name, n.roles, n.zookeeperId, n.controllerId]),
            [1, 2, 3].map((i) => [`host-${i}`, ["controller", "broker"], undefined, CONTROLLER_ID_BASE + i]));
        assert.ok(!portTable(cfg).some((r) => ([PORTS.zookeeperClient, PORTS.zookeeperPeer, PORTS.zookeeperElection] as number[]).includes(r.port)));
        assert.ok(portTable(cfg).some((r) => r.port === PORTS.controller && r.reach === "cluster"));
    });

    it("the plan: the controllers rolled out of migration mode one at a time, the brokers' phase C files as they were, nothing of ZooKeeper", () => {
        const { cfg, nodes, secrets } = finalize();
        const steps = renderPlan(cfg, nodes, secrets, { clusterId: CLUSTER_ID, brokerModes: {}, generations: {} });
        assert.ok(!steps.some((s) => /-zookeeper$|ensemble|acls|migration-|-migrating$/.test(s.name)), steps.map((s) => s.name).join(" "));
        const controller = manifestText(steps.find((s) => s.name === "host-1-controller")!.create);
        assert.ok(!/zookeeper|KAFKA_OPTS|migration/.test(controller), "no ZooKeeper, no ZooKeeper login");
        for (const line of ["controller.quorum.voters=3001@10.0.0.1:9098,3002@10.0.0.2:9098,3003@10.0.0.3:9098", "listener.security.protocol.map=CONTROLLER:SSL",
            `super.users=User:admin;User:CN=host-1.${cfg.clusterName};User:CN=host-2.${cfg.clusterName};User:CN=host-3.${cfg.clusterName}`]) {
            assert.ok(controller.includes(line), `finalized controller lacks ${line}`);
        }
        const w = waves(steps);
        const at = (name: string) => w.findIndex((ws) => ws.some((s) => s.name === name));
        assert.ok(at("host-1-controller") < at("host-2-controller") && at("host-2-controller") < at("host-3-controller"));
        // The brokers' files are phase C's: unchanged by the finalize, so nothing restarts them.
        const dual = migrationPlan().steps;
        for (const n of ["host-1-kraft", "host-2-kraft", "host-3-kraft"]) {
            assert.strictEqual(manifestText(steps.find((s) => s.name === n)!.create), manifestText(dual.find((s) => s.name === n)!.create), n);
        }
        // ZooKeeper stopped and disabled on each former member once the controllers are finalized; its service step stays
        // (no step whose delete stops a service leaves mid-life): destroy stops it before the controller, whose step now
        // removes what the roles share. While migrating, that was ZooKeeper's, so a rollback (which deletes the
        // controllers' steps) never removes the broker's files.
        assert.ok(!steps.some((s) => /-zookeeper$|ensemble/.test(s.name)));
        for (const n of ["host-1", "host-2", "host-3"]) {
            assert.ok(at(`${n}-zookeeper-retire`) > at("cluster-quorum"), n);
            assert.deepStrictEqual(parseHostCommand(steps.find((s) => s.name === `${n}-zookeeper-retire`)!.create).env.SERVICES, "zookeeper");
        }
        const wipes = (plan: RenderedStep[], name: string) => parseHostCommand(plan.find((s) => s.name === name)!.delete!).env.WIPE_PATHS;
        const shared = `${PATHS.configDir} ${PATHS.installRoot} ${PATHS.kafkaData}`;
        assert.ok(wipes(dual, "host-1-zookeeper-service").endsWith(shared) && !wipes(dual, "host-1-kafka-controller-service").includes(PATHS.configDir));
        assert.ok(wipes(steps, "host-1-kafka-controller-service").endsWith(shared) && !wipes(steps, "host-1-zookeeper-service").includes(PATHS.configDir));
        assert.ok(steps.find((s) => s.name === "host-1-zookeeper-service")!.dependsOn.includes("host-1-kafka-controller-service"));
    });

    it("then Kafka 4.x: the same shape and static quorum, controllers then brokers onto the release, then its feature levels named one by one", () => {
        const { cfg, nodes, secrets } = cluster(3, 3, "colocated", { ...ZK_STACK, metadata: "kraft", kafkaVersion: "4.3.2", zookeeperRetired: true });
        assert.deepStrictEqual(cfg.migration, { target: "finalized", controllerHeap: "512m" });
        const steps = renderPlan(cfg, nodes, secrets, { clusterId: CLUSTER_ID, brokerModes: {}, generations: {} });
        const w = waves(steps);
        const at = (name: string) => w.findIndex((ws) => ws.some((s) => s.name === name));
        const order = ["host-1-controller", "host-2-controller", "host-3-controller", "cluster-quorum", "host-1-kraft", "host-2-kraft", "host-3-kraft",
            "cluster-brokers", "cluster-features"];
        for (let i = 1; i < order.length; i++) assert.ok(at(order[i - 1]) >= 0 && at(order[i - 1]) < at(order[i]), `${order[i - 1]} before ${order[i]}`);
        assert.strictEqual(envOf(steps, "host-2-kraft").KAFKA_DIST, "kafka_2.13-4.3.2");
        assert.strictEqual(envOf(steps, "host-2-controller").KAFKA_DIST, "kafka_2.13-4.3.2");
        assert.match(envOf(steps, "cluster-features").FEATURES, /^metadata\.version=30 /);
        assert.ok(!/kraft\.version/.test(envOf(steps, "cluster-features").FEATURES), "kraft.version stays 0 (KAFKA-21426)");
        assert.ok(manifestText(steps.find((s) => s.name === "host-1-controller")!.create).includes("controller.quorum.voters=3001@10.0.0.1:9098"));
        assert.ok(manifestText(steps.find((s) => s.name === "host-1-kraft")!.create).includes("controller.quorum.voters=3001@10.0.0.1:9098"),
            "brokers keep the static voters (bootstrap servers cannot find a static quorum's leader)");
        assert.match(problems({ ...ZK_STACK, metadata: "kraft", kafkaVersion: "4.3.2", zookeeperRetired: true, controllerCount: 3 }).join("\n"),
            /kafka:controllerCount: is set on a cluster that migrates or migrated/);
    });

    it("admitted from phase C only; refused from ZooKeeper mode or phase B with the fix", () => {
        const reports = (mode: "zookeeper" | "migrating" | "kraft", controllers: boolean): NodeReport[] => [1, 2, 3].map((i) => ({
            node: `host-${i}`, broker: { active: true, mode, version: "3.9.2", id: i, cluster: CLUSTER_ID }, zookeeper: { active: true },
            ...(controllers ? { controller: { active: true, migration: true, zookeeperConnect: true, version: "3.9.2", id: 3000 + i, quorum: "voters" as const } } : {}),
        }));
        const expect = { controllerIds: [3001, 3002, 3003], zookeeperMembers: 3, migrating: true };
        const ok = admitMigration(decideMigration("finalized", reports("kraft", true), { migrationZnode: true }), reports("kraft", true), expect);
        assert.deepStrictEqual([ok.actions, ok.refusal], [["finalize-controllers", "await-post-migration", "retire-zookeeper"], undefined]);
        for (const [mode, controllers] of [["zookeeper", false], ["migrating", true]] as const) {
            const d = admitMigration(decideMigration("finalized", reports(mode, controllers), { migrationZnode: false }), reports(mode, controllers), expect);
            assert.match(d.refusal ?? "", /cannot be undone, and it needs every broker in KRaft mode first.*Fix: pulumi config rm kafka:zookeeperRetired/, mode);
        }
    });
});

describe("migration: the rollback (kafka:metadata zookeeper before finalizing)", () => {
    const reports = (modes: ("zookeeper" | "migrating" | "kraft")[], controllers = true): NodeReport[] => modes.map((mode, i) => ({
        node: `host-${i + 1}`, broker: { active: true, mode, version: "3.9.2", id: i + 1, cluster: CLUSTER_ID }, zookeeper: { active: true },
        ...(controllers ? { controller: { active: true, migration: true, zookeeperConnect: true, version: "3.9.2", id: 3001 + i, quorum: "voters" as const } } : {}),
    }));
    const zkStack = () => cluster(3, 3, "colocated", { ...ZK_STACK });
    const render = (modes: ("zookeeper" | "migrating" | "kraft")[], controllers = true) => {
        const { cfg, nodes, secrets } = zkStack();
        const r = reports(modes, controllers);
        const steps = rollbackSteps(cfg, decideMigration("zookeeper", r, { migrationZnode: false }), r);
        return { cfg, nodes, secrets, steps, text: (name: string) => commandText(steps.find((x) => x.name === name)!.create, nodes, secrets) };
    };

    it("from phase C: brokers back into phase B one at a time, then every controller removed, then /controller and /migration deleted", () => {
        const { cfg, nodes, secrets, steps, text } = render(["kraft", "kraft", "kraft"]);
        assert.deepStrictEqual(waves(steps).map((w) => w.map((x) => x.name)), [
            ["host-1-rollback-migrating"], ["host-2-rollback-migrating"], ["host-3-rollback-migrating"],
            ["host-1-rollback-controller", "host-2-rollback-controller", "host-3-rollback-controller"], ["cluster-rollback-znodes"]]);
        // Phase B's file, with the controllers' quorum taken from what the hosts report (the stack no longer names them).
        const withIds = nodes.map((n, i) => ({ ...n, controllerId: 3001 + i }));
        assert.ok(manifestText(text("host-2-rollback-migrating")).includes(renderServerProperties(cfg, withIds[1], withIds, secrets, true, { migrating: true })));
        assert.match(manifestText(text("host-2-rollback-migrating")), /^controller\.quorum\.voters=3001@10\.0\.0\.1:9098,3002@10\.0\.0\.2:9098,3003@10\.0\.0\.3:9098$/m);
        const z = parseHostCommand(text("cluster-rollback-znodes")).env;
        assert.deepStrictEqual([z.ZNODES, z.CONTROLLER_IDS, z.JAAS_FILE], ["/controller /migration", "3001 3002 3003", PATHS.kafkaJaas]);
        assert.strictEqual(parseHostCommand(text("host-3-rollback-controller")).env.METADATA_DIR, PATHS.controllerLogDir);
    });

    it("a rollback from C interrupted after one broker went back to B: the brokers still in KRaft mode go back to B first, never straight to plain", () => {
        const r = reports(["migrating", "kraft", "kraft"]);
        const d = decideMigration("zookeeper", r, { migrationZnode: false });
        assert.strictEqual(d.phase, "migrating");
        assert.deepStrictEqual(d.actions, ["roll-brokers-zookeeper", "remove-controllers", "delete-controller-znode", "delete-migration-znode", "roll-brokers-plain"]);
        assert.deepStrictEqual(render(["migrating", "kraft", "kraft"]).steps.map((x) => x.name).slice(0, 2), ["host-2-rollback-migrating", "host-3-rollback-migrating"]);
    });

    it("from phase B: no broker roll of its own (the plan's roll writes the plain files); from phase A: the controllers and /migration only", () => {
        assert.deepStrictEqual(render(["migrating", "migrating", "migrating"]).steps.map((x) => x.name),
            ["host-1-rollback-controller", "host-2-rollback-controller", "host-3-rollback-controller", "cluster-rollback-znodes"]);
        const a = render(["zookeeper", "zookeeper", "zookeeper"]);
        assert.strictEqual(parseHostCommand(a.text("cluster-rollback-znodes")).env.ZNODES, "/migration");
        // Nothing to roll back: no step at all.
        assert.deepStrictEqual(render(["zookeeper", "zookeeper", "zookeeper"], false).steps, []);
    });
});

describe("migration: what KafkaCluster admits", () => {
    const zk = (version = "3.9.2", cluster = CLUSTER_ID): NodeReport[] => [1, 2, 3].map((i) => ({
        node: `host-${i}`, broker: { active: true, mode: "zookeeper" as const, version, id: i, cluster }, zookeeper: { active: true },
    }));
    const expect = { controllerIds: [3001, 3002, 3003], zookeeperMembers: 3, migrating: true };

    it("the migration from ZooKeeper mode, with every precondition met and the cluster id known", () => {
        const d = admitMigration(decideMigration("dual-write", zk(), { migrationZnode: false }), zk(), expect);
        assert.strictEqual(d.refusal, undefined);
        assert.deepStrictEqual(d.actions, ["check-preconditions", "deploy-controllers", "await-pre-migration", "roll-brokers-migrating", "await-migration", "roll-brokers-kraft"]);
        assert.deepStrictEqual(observedClusterId(zk()), { id: CLUSTER_ID });
    });

    it("refused before anything changes: a broker not on 3.9, a broker down, ZooKeeper short of a member, an unknown or split cluster id", () => {
        const old = zk();
        old[1].broker!.version = "3.8.1";
        assert.match(admitMigration(decideMigration("dual-write", old, { migrationZnode: false }), old, expect).refusal ?? "",
            /cannot start: host-2: the broker runs Kafka 3\.8\.1, and the migration needs every broker on 3\.9\. Fix: /);
        const down = zk();
        down[2].broker!.active = false;
        assert.match(admitMigration(decideMigration("dual-write", down, { migrationZnode: false }), down, expect).refusal ?? "", /host-3: the broker is not running.*Fix: start it/);
        const short = zk();
        short[0].zookeeper!.active = false;
        assert.match(admitMigration(decideMigration("dual-write", short, { migrationZnode: false }), short, expect).refusal ?? "", /ZooKeeper: 2 of 3 members run \(down: host-1\)/);
        const unknown = zk();
        delete unknown[0].broker!.cluster;
        assert.match(admitMigration(decideMigration("dual-write", unknown, { migrationZnode: false }), unknown, expect).refusal ?? "",
            /needs the running cluster's id: no cluster id in the log directory of the broker on host-1/);
        const split = zk();
        split[2].broker!.cluster = "AAAAAAAAAAAAAAAAAAAAAA";
        assert.match(admitMigration(decideMigration("dual-write", split, { migrationZnode: false }), split, expect).refusal ?? "", /belong to different clusters/);
    });

    it("a rollback is admitted; what the plan does not run (4.x's dynamic quorum) is refused with the fix; a ZooKeeper cluster staying so is admitted", () => {
        const dual = zk().map((n) => ({ ...n, broker: { ...n.broker!, mode: "kraft" as const }, controller: {
            active: true, migration: true, zookeeperConnect: true, version: "3.9.2", id: 3000 + n.broker!.id, quorum: "voters" as const } }));
        const back = admitMigration(decideMigration("zookeeper", dual, { migrationZnode: true }), dual, { ...expect, migrating: false });
        assert.deepStrictEqual([back.actions, back.refusal], [["roll-brokers-zookeeper", "remove-controllers", "delete-controller-znode", "delete-migration-znode", "roll-brokers-plain"], undefined]);
        const finalized = dual.map((n) => ({ ...n, zookeeper: undefined, controller: { ...n.controller!, migration: false, zookeeperConnect: false } }));
        const dynamic = admitMigration(decideMigration("kraft", finalized, { migrationZnode: false }), finalized, { ...expect, migrating: false });
        assert.match(dynamic.refusal ?? "", /this program does not run dynamic-quorum yet\. Fix: /);
        const stay = admitMigration(decideMigration("zookeeper", zk(), { migrationZnode: false }), zk(), { ...expect, migrating: false });
        assert.deepStrictEqual([stay.actions, stay.refusal], [[], undefined]);
    });
});
