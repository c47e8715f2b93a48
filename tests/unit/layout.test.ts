import * as assert from "assert";
import { CLIENT_PORTS, INTERNAL_PORTS, LISTENERS, clientEndpoint, clusterOutputs, internalEndpoint, kafkaTarballName, zookeeperConnect } from "../../components/layout";
import { cluster } from "./fixtures";

describe("layout", () => {
    it("endpoints: clients on the client address, members on the private address, each on its kafka:security mode's port", () => {
        const { cfg, nodes } = cluster(3, 3, "colocated");
        const as = (mode: "plaintext" | "tls" | "sasl_ssl") => ({ security: { ...cfg.security, mode } });
        assert.deepStrictEqual(["plaintext", "tls", "sasl_ssl"].map((m) => clientEndpoint(as(m as "tls"), nodes[0])),
            ["203.0.113.1:9092", "203.0.113.1:9094", "203.0.113.1:9096"]);
        assert.deepStrictEqual(["plaintext", "tls", "sasl_ssl"].map((m) => internalEndpoint(as(m as "tls"), nodes[0])),
            ["10.0.0.1:9093", "10.0.0.1:9095", "10.0.0.1:9097"]);
        // A switch runs two modes' listeners side by side: no name or port may be shared between modes.
        const names = Object.values(LISTENERS).flatMap((l) => [l.client.name, l.internal.name]);
        assert.strictEqual(new Set(names).size, 6);
        assert.strictEqual(new Set([...CLIENT_PORTS, ...INTERNAL_PORTS]).size, 6);
    });

    it("zookeeperConnect lists the ensemble by myid with the chroot", () => {
        const { cfg, nodes } = cluster(3, 3, "dedicated", { zookeeperChroot: "/kc" });
        assert.strictEqual(zookeeperConnect(cfg, nodes), "10.0.0.1:2181,10.0.0.2:2181,10.0.0.3:2181/kc");
    });

    it("tarball name follows the Apache layout", () => {
        assert.strictEqual(kafkaTarballName({ kafkaVersion: "3.9.1", scalaVersion: "2.12" }), "kafka_2.12-3.9.1.tgz");
    });

    it("stack outputs: bootstrap servers of the brokers only, ZooKeeper connect, one entry per node", () => {
        const { cfg, nodes } = cluster(3, 3, "dedicated");
        const out = clusterOutputs(cfg, nodes, { "broker-1": "i-0123" });
        assert.strictEqual(out.bootstrapServers, "203.0.113.4:9096,203.0.113.5:9096,203.0.113.6:9096");
        assert.strictEqual(out.zookeeperConnect, "10.0.0.1:2181,10.0.0.2:2181,10.0.0.3:2181/kafka");
        assert.deepStrictEqual(out.nodes.map((n) => n.name), ["zk-1", "zk-2", "zk-3", "broker-1", "broker-2", "broker-3"]);
        assert.deepStrictEqual(out.nodes[0], { name: "zk-1", roles: ["zookeeper"], zookeeperId: 1, publicAddress: "203.0.113.1",
            privateAddress: "10.0.0.1", ssh: "ssh -i <private-key-file> -o IdentitiesOnly=yes ubuntu@203.0.113.1" });
        assert.strictEqual(out.nodes[3].instanceId, "i-0123");
        assert.strictEqual(out.nodes[3].brokerId, 1);
    });
});
