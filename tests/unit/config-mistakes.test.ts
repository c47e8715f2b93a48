// Config mistakes a new user makes: a setting under the wrong namespace, a misspelled key, an even ensemble size.
// Each is an error naming the right key and a fix that works as written.
import * as assert from "assert";
import { parseConfig, splitNamespaces } from "../../components/config";
import { SSH, problems } from "./stacks";

describe("config mistakes", () => {
    it("a known setting under the project's namespace is an error naming kafka:<key> and the commands to move it", () => {
        const { raw, others } = splitNamespaces({ "kafka-cluster:brokerCount": "2", "kafka:sshCidrs": JSON.stringify(SSH.sshCidrs) });
        assert.deepStrictEqual(Object.keys(raw), ["sshCidrs"]);
        const p = problems(raw, others);
        assert.strictEqual(p.length, 1, p.join("\n"));
        assert.match(p[0], /^kafka-cluster:brokerCount: is not read: kafka-cluster takes its settings from the kafka: namespace/);
        assert.match(p[0], /Fix: pulumi config set kafka:brokerCount 2 && pulumi config rm kafka-cluster:brokerCount$/);
    });

    it("names the clash when the right key is set too; a secret value is never printed", () => {
        const p = problems({ ...SSH, brokerCount: 3 }, { "kafka-cluster:brokerCount": "2", "other:sshPrivateKey": "-----BEGIN x" });
        assert.ok(p.some((l) => /^kafka-cluster:brokerCount: .*kafka:brokerCount is set too: keep one/.test(l)), p.join("\n"));
        const secret = p.find((l) => l.startsWith("other:sshPrivateKey: "));
        assert.ok(secret, p.join("\n"));
        assert.match(secret!, /pulumi config set --secret kafka:sshPrivateKey <value> && pulumi config rm other:sshPrivateKey/);
        assert.doesNotMatch(secret!, /BEGIN/);
    });

    it("other namespaces' own settings (aws:region, the program's) are left alone", () => {
        assert.doesNotThrow(() => parseConfig({ ...SSH }, "test", { "aws:region": "eu-west-1", "kafka-cluster:owner": "team-a" }));
    });

    for (const [typo, meant] of [["brokerCont", "brokerCount"], ["zookeperCount", "zookeeperCount"], ["BrokerHeap", "brokerHeap"],
        ["sshCidr", "sshCidrs"]] as const) {
        it(`a misspelled key gets a "did you mean": ${typo} -> ${meant}`, () => {
            const p = problems({ ...SSH, [typo]: typo === "sshCidr" ? "198.51.100.7/32" : "3" });
            const hit = p.find((l) => l.startsWith(`kafka:${typo}: `));
            assert.ok(hit, p.join("\n"));
            assert.match(hit!, new RegExp(`unknown setting; did you mean kafka:${meant}\\?`));
            assert.match(hit!, new RegExp(`Fix: pulumi config set kafka:${meant} \\S+ && pulumi config rm kafka:${typo}$`));
        });
    }

    it("a key like nothing known gets no guess", () => {
        const hit = problems({ ...SSH, replicationStrategy: "x" }).find((l) => l.startsWith("kafka:replicationStrategy: "));
        assert.match(hit!, /unknown setting\. Fix: remove it/);
    });

    for (const [count, fix] of [[2, 3], [4, 5], [6, 7]] as const) {
        it(`an even ZooKeeper count ${count} suggests the next odd size up, ${fix}`, () => {
            const hit = problems({ ...SSH, brokerCount: 7, zookeeperCount: count }).find((l) => l.startsWith("kafka:zookeeperCount: "));
            assert.match(hit!, new RegExp(`must be odd.*Fix: pulumi config set kafka:zookeeperCount ${fix}$`));
        });
    }
});
