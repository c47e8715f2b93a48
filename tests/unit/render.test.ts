import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PATHS, kafkaSources, replication } from "../../components/layout";
import {
    renderControllerProperties, renderEnvFile, renderKafkaUnit, renderMyid, renderServerProperties, renderToolsProfile, renderZookeeperProperties,
    renderZookeeperUnit,
} from "../../components/render";
import { brokerNodes, zookeeperNodes } from "../../components/topology";
import { cluster } from "./fixtures";

/** Parses a .properties text into a map, failing on duplicate keys. */
function props(text: string): Map<string, string> {
    const m = new Map<string, string>();
    for (const line of text.split("\n")) {
        if (!line || line.startsWith("#")) continue;
        const i = line.indexOf("=");
        assert.ok(i > 0, `not a property line: ${line}`);
        const k = line.slice(0, i);
        assert.ok(!m.has(k), `duplicate key ${k}`);
        m.set(k, line.slice(i + 1));
    }
    return m;
}

describe("renderers", () => {
    for (const [n, placement] of [[1, "colocated"], [3, "colocated"], [5, "colocated"], [3, "dedicated"], [5, "dedicated"]] as const) {
        describe(`${n} ZooKeeper member(s), ${placement}`, () => {
            const { cfg, nodes, secrets } = cluster(placement === "colocated" ? n : 3, n, placement);
            const zk = props(renderZookeeperProperties(nodes, cfg));

            it("zookeeper.properties lists server.N=host:2888:3888 for every member and nothing else", () => {
                const servers = [...zk.keys()].filter((k) => k.startsWith("server."));
                assert.strictEqual(servers.length, n);
                for (const m of zookeeperNodes(nodes)) {
                    assert.strictEqual(zk.get(`server.${m.zookeeperId}`), `${m.privateAddress}:2888:3888`);
                }
            });
            it("zookeeper.properties sets the limits an ensemble has no defaults for, 4lw, autopurge, no admin server", () => {
                assert.strictEqual(zk.get("tickTime"), "2000");
                assert.strictEqual(zk.get("initLimit"), "10");
                assert.strictEqual(zk.get("syncLimit"), "5");
                assert.strictEqual(zk.get("clientPort"), "2181");
                assert.strictEqual(zk.get("dataDir"), "/var/lib/zookeeper");
                assert.match(zk.get("4lw.commands.whitelist")!, /(^|,)srvr(,|$)/);
                assert.strictEqual(zk.get("admin.enableServer"), "false");
                assert.strictEqual(zk.get("autopurge.purgeInterval"), "24");
            });
            it("myid matches the member's server.N", () => {
                for (const m of zookeeperNodes(nodes)) {
                    const id = renderMyid(m).trim();
                    assert.ok(zk.has(`server.${id}`));
                    assert.strictEqual(id, String(m.zookeeperId));
                }
                const nonZk = nodes.find((x) => x.zookeeperId === undefined);
                if (nonZk) assert.throws(() => renderMyid(nonZk), /not a ZooKeeper member/);
            });
            it("server.properties: own broker.id, rack, ZooKeeper connect with chroot, listeners", () => {
                const brokers = brokerNodes(nodes);
                const ids = new Set<string>();
                for (const b of brokers) {
                    const p = props(renderServerProperties(cfg, b, nodes, secrets));
                    ids.add(p.get("broker.id")!);
                    assert.strictEqual(p.get("broker.id"), String(b.brokerId));
                    assert.strictEqual(p.get("broker.rack"), b.rack);
                    assert.strictEqual(p.get("zookeeper.connect"),
                        zookeeperNodes(nodes).map((z) => `${z.privateAddress}:2181`).join(",") + "/kafka");
                    assert.strictEqual(p.get("advertised.listeners"), `INTERNAL_SASL://${b.privateAddress}:9097,CLIENT_SASL://${b.clientAddress}:9096`);
                    assert.strictEqual(p.get("listeners"), "INTERNAL_SASL://0.0.0.0:9097,CLIENT_SASL://0.0.0.0:9096");
                    assert.strictEqual(p.get("inter.broker.listener.name"), "INTERNAL_SASL");
                    assert.strictEqual(p.get("log.dirs"), "/var/lib/kafka/data");
                    assert.strictEqual(p.get("unclean.leader.election.enable"), "false");
                    assert.strictEqual(p.get("auto.create.topics.enable"), "false");
                }
                assert.strictEqual(ids.size, brokers.length, "broker ids are unique");
            });
        });
    }

    it("replication defaults: min(3, brokers), min.insync.replicas min(2, that), internal topics too", () => {
        for (const [brokers, rf, isr] of [[1, 1, 1], [2, 2, 2], [3, 3, 2], [5, 3, 2]]) {
            assert.deepStrictEqual(replication(brokers), { factor: rf, minIsr: isr });
            const { cfg, nodes, secrets } = cluster(brokers, 1, "colocated");
            const p = props(renderServerProperties(cfg, brokerNodes(nodes)[0], nodes, secrets));
            for (const k of ["default.replication.factor", "offsets.topic.replication.factor", "transaction.state.log.replication.factor"]) {
                assert.strictEqual(p.get(k), String(rf), `${k} with ${brokers} brokers`);
            }
            assert.strictEqual(p.get("min.insync.replicas"), String(isr));
            assert.strictEqual(p.get("transaction.state.log.min.isr"), String(isr));
        }
    });

    it("brokerProperties override defaults in place and add new keys once", () => {
        const { cfg, nodes, secrets } = cluster(3, 3, "colocated", { brokerProperties: { "log.retention.hours": 72, "compression.type": "zstd" } });
        const text = renderServerProperties(cfg, nodes[0], nodes, secrets);
        const p = props(text);
        assert.strictEqual(p.get("log.retention.hours"), "72");
        assert.strictEqual(p.get("compression.type"), "zstd");
    });

    it("public access advertises the client address, private addresses stay internal", () => {
        const { cfg, nodes, secrets } = cluster(3, 3, "colocated");
        const n = { ...nodes[0], clientAddress: "54.0.0.1" };
        assert.match(renderServerProperties(cfg, n, nodes, secrets), /advertised\.listeners=INTERNAL_SASL:\/\/10\.0\.0\.1:9097,CLIENT_SASL:\/\/54\.0\.0\.1:9096/);
    });

    it("systemd units: Type=simple, no -daemon, restart on failure within start limits, high LimitNOFILE, enabled at boot", () => {
        // Each service starts from its own link to its version (switched in its own rolling restart).
        for (const [unit, start, conf, link] of [[renderKafkaUnit(), "kafka-server-start.sh", "server.properties", "current"],
            [renderZookeeperUnit(), "zookeeper-server-start.sh", "zookeeper.properties", "zookeeper-current"]]) {
            assert.match(unit, /^Type=simple$/m);
            assert.match(unit, /^Restart=on-failure$/m);
            assert.match(unit, /^User=kafka$/m);
            assert.match(unit, /^WantedBy=multi-user\.target$/m);
            assert.ok(Number(/^LimitNOFILE=(\d+)$/m.exec(unit)![1]) >= 100000);
            assert.ok(Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)![1]) >= 120);
            // Start limits end a crash loop: they belong in [Unit] (systemd ignores them in [Service]), and the burst
            // must be reachable within the interval at the restart delay.
            const unitSection = unit.split("[Service]")[0];
            const interval = Number(/^StartLimitIntervalSec=(\d+)$/m.exec(unitSection)?.[1]);
            const burst = Number(/^StartLimitBurst=(\d+)$/m.exec(unitSection)?.[1]);
            const restartSec = Number(/^RestartSec=(\d+)$/m.exec(unit)?.[1]);
            assert.ok(burst >= 3 && burst * restartSec < interval, `burst ${burst} x RestartSec ${restartSec} within ${interval}s`);
            assert.match(unit, new RegExp(`^ExecStart=/opt/kafka/${link}/bin/${start} /etc/kafka/${conf}$`, "m"));
            assert.doesNotMatch(unit, /-daemon/);
        }
        assert.match(renderKafkaUnit(), /^After=.*zookeeper\.service/m);
    });

    it("systemd units are sandboxed: read-only OS except the service's own data and log directories, no privilege gain", () => {
        for (const [unit, dirs] of [[renderKafkaUnit(), ["/var/lib/kafka", "/var/log/kafka"]],
            [renderZookeeperUnit(), ["/var/lib/zookeeper", "/var/log/zookeeper"]]] as const) {
            const service = unit.split("[Service]")[1].split("[Install]")[0];
            for (const line of ["NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "ProtectHome=yes", "UMask=0027"]) {
                assert.ok(service.split("\n").includes(line), `${line} missing from [Service]`);
            }
            // "-": a missing directory does not stop the service from starting (systemd would refuse with 226/NAMESPACE).
            assert.deepStrictEqual(/^ReadWritePaths=(.*)$/m.exec(service)![1].split(" "), dirs.map((d) => `-${d}`));
        }
    });

    it("env files turn off the JMX agent Kafka's launcher would start without authentication", () => {
        const env = renderEnvFile("1g", "/var/log/kafka");
        const jmx = /^KAFKA_JMX_OPTS="(.*)"$/m.exec(env);
        assert.ok(jmx && jmx[1].trim() !== "", "an empty KAFKA_JMX_OPTS makes kafka-run-class.sh add -Dcom.sun.management.jmxremote");
        assert.doesNotMatch(jmx[1], /jmxremote/);
    });

    it("env files carry the heap as KAFKA_HEAP_OPTS", () => {
        assert.match(renderEnvFile("400m", "/var/log/kafka"), /^KAFKA_HEAP_OPTS="-Xms400m -Xmx400m"$/m);
        assert.match(renderEnvFile("400m", "/var/log/kafka"), /^LOG_DIR="\/var\/log\/kafka"$/m);
    });

    it("download sources: Apache's CDN then its archive by default, each with its own KEYS; a set downloadUrl alone; keysUrl for all", () => {
        const { cfg } = cluster(1, 1, "colocated", { kafkaVersion: "3.9.1" });
        assert.deepStrictEqual(kafkaSources(cfg), [
            { tarball: "https://dlcdn.apache.org/kafka/3.9.1/kafka_2.13-3.9.1.tgz", keys: "https://dlcdn.apache.org/kafka/KEYS" },
            { tarball: "https://archive.apache.org/dist/kafka/3.9.1/kafka_2.13-3.9.1.tgz", keys: "https://archive.apache.org/dist/kafka/KEYS" },
        ]);
        const mirror = cluster(1, 1, "colocated", { kafkaVersion: "3.9.1", scalaVersion: "2.12", downloadUrl: "https://mirror.example/apache/kafka/" });
        assert.deepStrictEqual(kafkaSources(mirror.cfg), [
            { tarball: "https://mirror.example/apache/kafka/3.9.1/kafka_2.12-3.9.1.tgz", keys: "https://mirror.example/apache/kafka/KEYS" },
        ]);
        const keys = cluster(1, 1, "colocated", { kafkaVersion: "3.9.1", keysUrl: "https://downloads.apache.org/kafka/KEYS" });
        assert.deepStrictEqual(kafkaSources(keys.cfg).map((s) => s.keys), ["https://downloads.apache.org/kafka/KEYS", "https://downloads.apache.org/kafka/KEYS"]);
    });
});

describe("the tools profile (/etc/profile.d) for people who log in", () => {
    const run = (env: Record<string, string>) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "profile-"));
        try {
            const file = path.join(dir, "kafka-cluster.sh");
            fs.writeFileSync(file, renderToolsProfile());
            return execFileSync("sh", ["-c", `. ${file}; echo "LOG_DIR=\${LOG_DIR:-}"`], { encoding: "utf8", env: { PATH: "/usr/bin:/bin", ...env } });
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    };

    it("is shellcheck-clean POSIX sh naming both installs' bin directories", () => {
        const text = renderToolsProfile();
        assert.ok(text.includes(`${PATHS.current}/bin`) && text.includes(`${PATHS.zookeeperCurrent}/bin`));
        execFileSync("shellcheck", ["-"], { input: text });
    });

    it("puts LOG_DIR in the user's home, and keeps a LOG_DIR the user set", () => {
        assert.match(run({ HOME: "/home/alice" }), /^LOG_DIR=\/home\/alice\/\.kafka\/logs$/m);
        assert.match(run({ HOME: "/home/alice", LOG_DIR: "/srv/logs" }), /^LOG_DIR=\/srv\/logs$/m);
    });
});

describe("renderers: the ZooKeeper migration's files (KIP-866; the files of the lab run, docs/zk-migration-lab.md)", () => {
    // A ZooKeeper-mode cluster of three co-located nodes, with a controller beside each ZooKeeper member.
    const { cfg, nodes: zkNodes, secrets } = cluster(3, 3, "colocated");
    const nodes = zkNodes.map((n) => ({ ...n, controllerId: 3000 + n.zookeeperId! }));
    const kraft = { ...cfg, metadata: "kraft" as const };
    const voters = nodes.map((n) => `${n.controllerId}@${n.privateAddress}:9098`).join(",");
    /** The lines of `b` not in `a`, and of `a` not in `b`. */
    const diff = (a: string, b: string) => {
        const [la, lb] = [a.split("\n"), b.split("\n")];
        return { added: lb.filter((l) => l && !la.includes(l)), removed: la.filter((l) => l && !lb.includes(l)) };
    };

    it("a controller in migration mode (phases A to C): the KRaft controller's file with static voters, the brokers' listeners, ZooKeeper and the admin's login", () => {
        const n = nodes[0];
        const migrating = renderControllerProperties(kraft, n, nodes, true, { migration: { secrets } });
        const { added, removed } = diff(renderControllerProperties(kraft, n, nodes), migrating);
        assert.deepStrictEqual(removed, [`listener.security.protocol.map=CONTROLLER:SSL`, `controller.quorum.bootstrap.servers=${nodes.map((x) => `${x.privateAddress}:9098`).join(",")}`]);
        const zk = nodes.map((x) => `${x.privateAddress}:2181`).join(",") + "/kafka";
        assert.deepStrictEqual(added.filter((l) => !l.startsWith("#")), [
            "listener.security.protocol.map=CONTROLLER:SSL,INTERNAL_SASL:SASL_SSL,CLIENT_SASL:SASL_SSL",
            `controller.quorum.voters=${voters}`,
            "zookeeper.metadata.migration.enable=true",
            `zookeeper.connect=${zk}`,
            "zookeeper.set.acl=true",
            "zookeeper.connection.timeout.ms=18000",
            "zookeeper.session.timeout.ms=18000",
            "inter.broker.listener.name=INTERNAL_SASL",
            "sasl.enabled.mechanisms=SCRAM-SHA-512",
            "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512",
            `listener.name.internal_sasl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${secrets.adminPassword}";`,
        ]);
        assert.throws(() => renderControllerProperties(kraft, n, nodes, true, { migration: {} }), /need its generated credentials/);
        // Finalized (phase D, still on the static quorum): the KRaft file with the voters, nothing of ZooKeeper.
        const finalized = diff(renderControllerProperties(kraft, n, nodes), renderControllerProperties(kraft, n, nodes, true, { voters: true }));
        assert.deepStrictEqual(finalized.added, [`controller.quorum.voters=${voters}`]);
    });

    it("a broker in phase B: its ZooKeeper-mode file plus the controllers' listener and static quorum; in phase C the KRaft file with the static quorum", () => {
        const n = nodes[1];
        const zookeeper = renderServerProperties(cfg, n, nodes, secrets);
        const b = renderServerProperties(cfg, n, nodes, secrets, true, { migrating: true });
        const phaseB = diff(zookeeper, b);
        assert.deepStrictEqual(phaseB.removed, ["listener.security.protocol.map=INTERNAL_SASL:SASL_SSL,CLIENT_SASL:SASL_SSL"]);
        assert.deepStrictEqual(phaseB.added.filter((l) => !l.startsWith("#")), [
            "listener.security.protocol.map=INTERNAL_SASL:SASL_SSL,CLIENT_SASL:SASL_SSL,CONTROLLER:SSL",
            "zookeeper.metadata.migration.enable=true", "controller.listener.names=CONTROLLER", `controller.quorum.voters=${voters}`,
        ]);
        assert.match(b, /^broker\.id=2$/m);
        assert.match(b, /^zookeeper\.connect=/m);
        const phaseC = diff(renderServerProperties(kraft, n, nodes, secrets), renderServerProperties(kraft, n, nodes, secrets, true, { voters: true }));
        assert.deepStrictEqual(phaseC.removed, [`controller.quorum.bootstrap.servers=${nodes.map((x) => `${x.privateAddress}:9098`).join(",")}`]);
        assert.deepStrictEqual(phaseC.added, [`controller.quorum.voters=${voters}`]);
        assert.throws(() => renderServerProperties(kraft, n, nodes, secrets, true, { migrating: true }), /runs in ZooKeeper mode/);
    });
});
