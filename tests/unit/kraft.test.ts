// KRaft (kafka:metadata kraft): the config rules, node identity, the renderers and the plan, without hosts.
import * as assert from "assert";
import { DEFAULT_KRAFT_VERSION, RawConfig, parseConfig } from "../../components/config";
import { parseHostCommand } from "../../components/host-command";
import { PATHS, portTable, portsFor } from "../../components/layout";
import { RenderedStep, renderPlan, waves } from "../../components/plan";
import { renderControllerProperties, renderKafkaUnit, renderServerProperties } from "../../components/render";
import { featureLevels, initialControllers, initialDirectoryId, metadataVersionName } from "../../components/roles/controller";
import { CONTROLLER_ID_BASE, ec2Nodes, hostNodes } from "../../components/topology";
import { TEST_GENERATED, cluster, kraftCluster } from "./fixtures";
import { KEY, SSH, problems } from "./stacks";

const hosts = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i + 1, address: `192.0.2.${i + 11}` }));
const HOSTS: RawConfig = { metadata: "kraft", hosts: hosts(3), sshUser: "admin", sshPrivateKey: KEY };
const at = (steps: RenderedStep[]) => {
    const w = waves(steps);
    return (name: string) => {
        const i = w.findIndex((ws) => ws.some((s) => s.name === name));
        assert.ok(i >= 0, `no step ${name}`);
        return i;
    };
};
const envOf = (steps: RenderedStep[], name: string) => parseHostCommand(steps.find((s) => s.name === name)!.create).env;

describe("KRaft: configuration", () => {
    it("kafka:metadata kraft defaults to the newest 4.3.x, three co-located controllers, controller heap 512m", () => {
        const c = parseConfig({ ...SSH, metadata: "kraft" });
        assert.strictEqual(c.metadata, "kraft");
        assert.strictEqual(c.kafkaVersion, DEFAULT_KRAFT_VERSION);
        assert.match(DEFAULT_KRAFT_VERSION, /^4\.3\.\d+$/);
        assert.deepStrictEqual(c.quorum, { role: "controller", count: 3, placement: "colocated", heap: "512m" });
        assert.strictEqual(parseConfig({ ...SSH }).metadata, "zookeeper", "ZooKeeper stays the default");
    });

    it("fewer controllers by default with 1-2 brokers; 4.2.x to 4.4.x accepted", () => {
        assert.strictEqual(parseConfig({ ...SSH, metadata: "kraft", brokerCount: 1 }).quorum.count, 1);
        assert.strictEqual(parseConfig({ ...SSH, metadata: "kraft", brokerCount: 2 }).quorum.count, 1);
        for (const v of ["4.2.2", "4.3.2", "4.4.0"]) assert.strictEqual(parseConfig({ ...SSH, metadata: "kraft", kafkaVersion: v }).kafkaVersion, v);
    });

    const refused: [string, RawConfig, string, RegExp][] = [
        ["a 3.x version before 3.9 with kraft", { metadata: "kraft", kafkaVersion: "3.8.1" }, "kafkaVersion",
            /ZooKeeper-mode line.*pulumi config set kafka:kafkaVersion 4\.3.*first upgrade it to 3\.9\.2 in ZooKeeper mode/],
        ["a controller count while migrating (kraft on 3.9)", { metadata: "kraft", kafkaVersion: "3.9.2", controllerCount: 3 }, "controllerCount",
            /migrates or migrated from ZooKeeper to KRaft.*one controller beside each ZooKeeper member.*pulumi config rm kafka:controllerCount/],
        ["seven ZooKeeper members while migrating", { metadata: "kraft", kafkaVersion: "3.9.2", zookeeperCount: 7, brokerCount: 7 }, "zookeeperCount",
            /a KRaft quorum has 1, 3 or 5 voters.*first shrink the ensemble/],
        ["a 4.x version with zookeeper", { kafkaVersion: "4.3.2" }, "kafkaVersion", /no ZooKeeper mode.*pulumi config set kafka:metadata kraft/],
        ["an unmaintained 4.x line", { metadata: "kraft", kafkaVersion: "4.1.1" }, "kafkaVersion", /not a maintained 4\.x line \(4\.2, 4\.3, 4\.4/],
        ["ZooKeeper settings with kraft", { metadata: "kraft", zookeeperCount: 3 }, "zookeeperCount", /ZooKeeper setting.*kafka:controllerCount is its KRaft counterpart/],
        ["the chroot with kraft", { metadata: "kraft", zookeeperChroot: "/k" }, "zookeeperChroot", /ZooKeeper setting/],
        ["controller settings with zookeeper", { controllerCount: 3 }, "controllerCount", /KRaft controller setting.*pulumi config set kafka:metadata kraft/],
        ["an even controller count", { metadata: "kraft", controllerCount: 2 }, "controllerCount", /1, 3 or 5.*pulumi config set kafka:controllerCount 3/],
        ["an unknown quorum", { metadata: "etcd" }, "metadata", /"zookeeper".*"kraft"/],
        ["more co-located controllers than brokers", { metadata: "kraft", brokerCount: 1, controllerCount: 3 }, "controllerCount",
            /3 KRaft controllers cannot be co-located on 1 broker host/],
        ["a controller heap that does not parse", { metadata: "kraft", controllerHeap: "lots" }, "controllerHeap", /not a heap size/],
        ["a broker property the controllers' quorum owns", { metadata: "kraft", brokerProperties: { "process.roles": "broker,controller" } },
            'brokerProperties["process.roles"]', /managed by kafka-cluster/],
    ];
    for (const [what, raw, key, message] of refused) {
        it(`refused with the fix: ${what}`, () => {
            const p = problems({ ...SSH, ...raw });
            const mine = p.filter((x) => x.startsWith(`kafka:${key}:`));
            assert.ok(mine.length > 0, `no problem names kafka:${key}: ${p.join("\n")}`);
            assert.match(mine.join("\n"), message);
            assert.match(mine.join("\n"), /Fix: /);
        });
    }

    it("existing hosts: the role `controller` with kraft, `zookeeper` refused naming the other mode", () => {
        const c = parseConfig({ ...HOSTS, controllerPlacement: "dedicated", brokerCount: 2, controllerCount: 1,
            hosts: [{ id: 1, address: "192.0.2.1", roles: ["controller"] }, { id: 2, address: "192.0.2.2", roles: ["broker"] }, { id: 3, address: "192.0.2.3", roles: ["broker"] }] });
        assert.deepStrictEqual(hostNodes(c as any).map((n) => [n.name, n.roles, n.controllerId, n.brokerId]),
            [["host-1", ["controller"], 3001, undefined], ["host-2", ["broker"], undefined, 2], ["host-3", ["broker"], undefined, 3]]);
        const p = problems({ ...HOSTS, hosts: [{ id: 1, address: "192.0.2.1", roles: ["zookeeper", "broker"] }] });
        assert.match(p.join("\n"), /hosts\[0\]\.roles: must be a list of "controller", "broker" and\/or "monitoring".*"zookeeper" is a role of kafka:metadata zookeeper/);
    });
});

describe("KRaft: node identity", () => {
    it("controller ids are 3000 + the host id: a range of their own, unchanged when the host list is reordered", () => {
        const a = hostNodes(parseConfig({ ...HOSTS, hosts: [{ id: 7, address: "192.0.2.7" }, { id: 2, address: "192.0.2.2" }, { id: 4, address: "192.0.2.4" }] }) as any);
        const b = hostNodes(parseConfig({ ...HOSTS, hosts: [{ id: 4, address: "192.0.2.4" }, { id: 7, address: "192.0.2.7" }, { id: 2, address: "192.0.2.2" }] }) as any);
        const ids = (ns: typeof a) => Object.fromEntries(ns.map((n) => [n.name, [n.brokerId, n.controllerId]]));
        assert.deepStrictEqual(ids(a), ids(b));
        assert.deepStrictEqual(ids(a)["host-7"], [7, CONTROLLER_ID_BASE + 7]);
        for (const n of a) assert.ok(n.controllerId! > 999, "never a broker id (host ids stop at 999)");
    });

    it("EC2: co-located controllers on node-N, dedicated ones on ctl-N with controllerInstanceType, listed first", () => {
        const co = ec2Nodes(parseConfig({ ...SSH, metadata: "kraft", brokerCount: 4 }) as any);
        assert.deepStrictEqual(co.map((n) => [n.name, n.roles, n.controllerId]),
            [["node-1", ["controller", "broker"], 3001], ["node-2", ["controller", "broker"], 3002], ["node-3", ["controller", "broker"], 3003], ["node-4", ["broker"], undefined]]);
        const ded = ec2Nodes(parseConfig({ ...SSH, metadata: "kraft", controllerPlacement: "dedicated", controllerInstanceType: "m7g.medium" }) as any);
        assert.deepStrictEqual(ded.slice(0, 3).map((n) => [n.name, n.roles, n.instanceType]), [1, 2, 3].map((i) => [`ctl-${i}`, ["controller"], "m7g.medium"]));
    });
});

describe("KRaft: renderers", () => {
    const { cfg, nodes, secrets } = kraftCluster(3, 3, "colocated", { clientUsers: ["app"], acls: { app: { read: ["t"] } } });
    const controller = renderControllerProperties(cfg, nodes[0], nodes);
    const broker = renderServerProperties(cfg, nodes[0], nodes, secrets);
    const quorum = "10.0.0.1:9098,10.0.0.2:9098,10.0.0.3:9098";

    it("a controller: process.roles=controller, its own node.id, the TLS listener with client certificates, the dynamic quorum", () => {
        for (const line of ["process.roles=controller", "node.id=3001", "controller.listener.names=CONTROLLER", "listeners=CONTROLLER://0.0.0.0:9098",
            "advertised.listeners=CONTROLLER://10.0.0.1:9098", "listener.security.protocol.map=CONTROLLER:SSL", `controller.quorum.bootstrap.servers=${quorum}`,
            `log.dirs=${PATHS.controllerLogDir}`, "listener.name.controller.ssl.client.auth=required",
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer", "super.users=User:admin;User:CN=kafka-node.kafka-test",
            "default.replication.factor=3", "min.insync.replicas=2"]) {
            assert.ok(controller.split("\n").includes(line), `controller.properties lacks ${line}:\n${controller}`);
        }
        assert.doesNotMatch(controller, /controller\.quorum\.voters|zookeeper|broker\.id|sasl\.jaas|password/);
    });

    it("a broker: process.roles=broker, node.id = broker id, the quorum instead of zookeeper.connect, StandardAuthorizer", () => {
        for (const line of ["process.roles=broker", "node.id=1", "controller.listener.names=CONTROLLER", `controller.quorum.bootstrap.servers=${quorum}`,
            "listener.security.protocol.map=INTERNAL_SASL:SASL_SSL,CLIENT_SASL:SASL_SSL,CONTROLLER:SSL", "inter.broker.listener.name=INTERNAL_SASL",
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer", "super.users=User:admin;User:CN=kafka-node.kafka-test"]) {
            assert.ok(broker.split("\n").includes(line), `server.properties lacks ${line}`);
        }
        assert.doesNotMatch(broker, /zookeeper|broker\.id=|controller\.quorum\.voters/);
        assert.match(renderKafkaUnit("kraft"), /^After=network-online\.target kafka-controller\.service$/m);
        assert.match(renderKafkaUnit(), /^After=network-online\.target zookeeper\.service$/m, "ZooKeeper mode's unit as before");
    });

    it("plaintext: the controllers' listener is PLAINTEXT and no authorizer", () => {
        const p = kraftCluster(3, 3, "colocated", { security: "plaintext" });
        const text = renderControllerProperties(p.cfg, p.nodes[1], p.nodes);
        assert.match(text, /^listener\.security\.protocol\.map=CONTROLLER:PLAINTEXT$/m);
        assert.doesNotMatch(text, /ssl\.|authorizer/);
    });

    it("--initial-controllers names every controller with a directory id derived from the cluster id (22 base64url characters, stable)", () => {
        const list = initialControllers(nodes, TEST_GENERATED.clusterId);
        assert.match(list, /^3001@10\.0\.0\.1:9098:[A-Za-z0-9_-]{22},3002@10\.0\.0\.2:9098:[A-Za-z0-9_-]{22},3003@10\.0\.0\.3:9098:[A-Za-z0-9_-]{22}$/);
        assert.strictEqual(initialDirectoryId("a", 3001), initialDirectoryId("a", 3001));
        assert.notStrictEqual(initialDirectoryId("a", 3001), initialDirectoryId("a", 3002));
        assert.notStrictEqual(initialDirectoryId("a", 3001), initialDirectoryId("b", 3001));
    });

    it("feature levels per release are named one by one, kraft.version never among them", () => {
        assert.strictEqual(featureLevels("4.3.2")["metadata.version"], 30);
        assert.strictEqual(featureLevels("4.4.0")["share.version"], 2);
        assert.deepStrictEqual(["4.2.2", "4.3.2", "4.4.0"].map(metadataVersionName), ["4.2-IV1", "4.3-IV0", "4.4-IV2"]);
        assert.throws(() => metadataVersionName("4.1.0"), /no metadata.version name/);
        for (const v of ["4.2.2", "4.3.2", "4.4.0"]) assert.ok(!("kraft.version" in featureLevels(v)));
        assert.throws(() => featureLevels("4.1.0"), /no feature levels/);
    });

    it("the port table: the controllers' listener cluster-only, no ZooKeeper port; ZooKeeper mode's ports as before", () => {
        assert.deepStrictEqual(portsFor(cfg, "cluster"), [9098, 9093, 9095, 9097]);
        const zk = cluster(3, 3, "colocated");
        assert.deepStrictEqual(portsFor(zk.cfg, "cluster"), [2181, 2888, 3888, 9093, 9095, 9097]);
        assert.deepStrictEqual(portsFor(zk.cfg, "clients"), [9092, 9094, 9096]);
        assert.deepStrictEqual(portTable({ metadata: "kraft", jmx: true }).filter((r) => r.reach === "jmx").map((r) => r.port), [9999, 9997]);
    });
});

describe("KRaft: the plan", () => {
    const { cfg, nodes, secrets } = kraftCluster(3, 3, "colocated", {
        hosts: [1, 2, 3].map((id) => ({ id, address: `192.0.2.${id}` })), sshUser: "admin", sshPrivateKey: KEY,
    });
    const steps = renderPlan(cfg, nodes, secrets, TEST_GENERATED);
    const w = at(steps);

    it("storage formatted everywhere before any controller starts; controllers one after another, then brokers beside the quorum check", () => {
        const formats = steps.filter((s) => s.phase === "format").map((s) => s.name).sort();
        assert.deepStrictEqual(formats, ["host-1-controller-format", "host-1-format", "host-2-controller-format", "host-2-format", "host-3-controller-format", "host-3-format"]);
        for (const n of nodes) assert.ok(w(`${n.name}-controller-format`) < w("host-1-controller"), "every controller formatted before the first starts");
        // The brokers' formats after every controller's (which hold up the first controller), beside the controllers' starts.
        for (const n of nodes) assert.ok(w(`${n.name}-format`) > w("host-3-controller-format") && w(`${n.name}-format`) < w("host-1-broker"));
        assert.ok(w("host-1-controller") < w("host-2-controller") && w("host-2-controller") < w("host-3-controller"));
        assert.ok(w("host-3-controller") < w("cluster-quorum"));
        // Every controller's step waited for a healthy quorum around its restart: the first broker follows the last one,
        // and the quorum check runs beside the brokers; the broker check waits for both.
        const deps = (name: string) => steps.find((s) => s.name === name)!.dependsOn;
        assert.ok(deps("host-1-broker").includes("host-3-controller"));
        assert.ok(!deps("host-1-broker").includes("cluster-quorum"));
        for (const n of nodes) assert.ok(w(`${n.name}-broker`) > w("host-3-controller"));
        assert.ok(deps("cluster-brokers").includes("cluster-quorum") && w("cluster-brokers") > w("host-3-broker"));
        assert.ok(w("host-1-broker") < w("host-2-broker") && w("host-2-broker") < w("host-3-broker"));
        // The feature levels and the smoke test side by side, after the broker check.
        assert.ok(w("cluster-brokers") < w("cluster-features") && w("cluster-brokers") < w("cluster-smoke"));
        assert.deepStrictEqual(deps("cluster-smoke"), ["cluster-brokers"]);
        assert.deepStrictEqual(steps.filter((s) => /ensemble|zookeeper|admin|listeners-(add|switch)/.test(s.phase)).map((s) => s.name), []);
    });

    it("the controllers' format names the initial voters and bootstraps admin's SCRAM credential in a secret step; brokers format with the cluster id only", () => {
        const c = steps.find((s) => s.name === "host-2-controller-format")!;
        assert.strictEqual(c.secrets, true);
        const env = parseHostCommand(c.create).env;
        assert.strictEqual(env.CLUSTER_ID, TEST_GENERATED.clusterId);
        assert.strictEqual(env.INITIAL_CONTROLLERS, initialControllers(nodes, TEST_GENERATED.clusterId));
        assert.deepStrictEqual([env.SCRAM_USER, env.SCRAM_PASSWORD], ["admin", secrets.adminPassword]);
        assert.strictEqual(env.KAFKA_HOME, `${PATHS.installRoot}/kafka_2.13-${DEFAULT_KRAFT_VERSION}`, "formatted by the release the node will run");
        const b = envOf(steps, "host-2-format");
        assert.strictEqual(b.ROLE, "broker");
        assert.strictEqual(b.INITIAL_CONTROLLERS, undefined);
        assert.strictEqual(b.SCRAM_PASSWORD, undefined);
    });

    it("the memory check counts the broker's and the controller's heaps on a co-located host", () => {
        assert.strictEqual(envOf(steps, "host-1-memory").HEAPS, "kafka:brokerHeap=1024 kafka:controllerHeap=512");
    });

    it("features: the configured release's levels, one by one, never --release-version", () => {
        const env = envOf(steps, "cluster-features");
        assert.strictEqual(env.FEATURES, "metadata.version=30 transaction.version=2 group.version=1 eligible.leader.replicas.version=1 share.version=1 streams.version=1");
        assert.strictEqual(env.METADATA_VERSION_NAME, "4.3-IV0", "how describe names level 30");
        assert.doesNotMatch(steps.map((s) => s.create).join("\n"), /--release-version [0-9]/);
    });

    it("destroy stops every broker before any controller (their service steps depend on the controllers')", () => {
        const kafka = steps.filter((s) => /-kafka-service$/.test(s.name));
        assert.strictEqual(kafka.length, 3);
        for (const s of kafka) assert.deepStrictEqual(s.dependsOn.filter((d) => d.endsWith("-kafka-controller-service")).sort(),
            ["host-1-kafka-controller-service", "host-2-kafka-controller-service", "host-3-kafka-controller-service"]);
        assert.match(steps.find((s) => s.name === "host-1-kafka-controller-service")!.delete!, /SERVICES='kafka-controller'/);
    });

    it("a changed broker setting rolls controllers and brokers and re-runs the checks, never a format step", () => {
        const other = kraftCluster(3, 3, "colocated", {
            hosts: [1, 2, 3].map((id) => ({ id, address: `192.0.2.${id}` })), sshUser: "admin", sshPrivateKey: KEY, brokerProperties: { "log.retention.hours": 72 },
        });
        const after = renderPlan(other.cfg, other.nodes, other.secrets, TEST_GENERATED);
        const changed = after.filter((s) => s.create !== steps.find((x) => x.name === s.name)?.create).map((s) => s.name).sort();
        assert.deepStrictEqual(changed, ["cluster-brokers", "cluster-quorum", "cluster-smoke",
            ...[1, 2, 3].flatMap((i) => [`host-${i}-broker`, `host-${i}-controller`])].sort());
    });

    it("a changed setting that only the controllers read changes only the controllers' steps and the checks after them", () => {
        const other = kraftCluster(3, 3, "colocated", {
            hosts: [1, 2, 3].map((id) => ({ id, address: `192.0.2.${id}` })), sshUser: "admin", sshPrivateKey: KEY, controllerHeap: "768m",
        });
        const after = renderPlan(other.cfg, other.nodes, other.secrets, TEST_GENERATED);
        const changed = after.filter((s) => s.create !== steps.find((x) => x.name === s.name)?.create).map((s) => s.name).sort();
        assert.deepStrictEqual(changed, ["host-1-controller", "host-1-memory", "host-2-controller", "host-2-memory", "host-3-controller", "host-3-memory"]);
    });
});
