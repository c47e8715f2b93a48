import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import {
    ClusterConfig, ConfigError, DEFAULT_KAFKA_VERSION, KEYS, RawConfig, cidrContains, cidrsOverlap, configTableMarkdown, heapMiB, parseConfig,
    vpcReachWarnings,
} from "../../components/config";
import { KEY, SSH, problems, stackConfig, withKeyFile } from "./stacks";

const hosts = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i + 1, address: `192.0.2.${i + 11}` }));
const HOSTS_BASE: RawConfig = { hosts: hosts(3), sshUser: "admin", sshPrivateKey: KEY };

/** The EC2 part of a configuration that must be in EC2 mode. */
function ec2Of(c: ClusterConfig) {
    assert.strictEqual(c.mode, "ec2");
    if (c.mode !== "ec2") throw new Error("unreachable");
    return c.ec2;
}

/** The hosts part of a configuration that must be in existing-hosts mode. */
function hostsOf(c: ClusterConfig) {
    assert.strictEqual(c.mode, "hosts");
    if (c.mode !== "hosts") throw new Error("unreachable");
    return c.hosts;
}

describe("config validation", () => {
    it("accepts the dev stack (with the user's sshCidrs) and applies its values", () => {
        const c = parseConfig(stackConfig("dev", SSH), "dev");
        assert.strictEqual(c.mode, "ec2");
        assert.strictEqual(c.brokerCount, 3);
        assert.strictEqual(c.zookeeperCount, 3);
        assert.strictEqual(c.zookeeperPlacement, "colocated");
        assert.strictEqual(ec2Of(c).brokerInstanceType, "t3.small");
        assert.strictEqual(c.brokerHeap, "400m");
        assert.strictEqual(c.kafkaVersion, DEFAULT_KAFKA_VERSION);
        assert.strictEqual(ec2Of(c).sshUser, "ubuntu");
        assert.strictEqual(c.clusterName, "kafka-dev");
        // publicAccess requires clientCidrs: the dev stack carries a documentation range as a placeholder.
        assert.strictEqual(ec2Of(c).publicAccess, true);
        assert.deepStrictEqual(ec2Of(c).clientCidrs, ["192.0.2.0/24"]);
    });

    it("publicAccess with clientCidrs is accepted; without publicAccess clientCidrs stays optional", () => {
        assert.deepStrictEqual(ec2Of(parseConfig({ ...SSH, publicAccess: true, clientCidrs: ["198.51.100.0/24"] })).clientCidrs, ["198.51.100.0/24"]);
        assert.strictEqual(ec2Of(parseConfig({ ...SSH })).clientCidrs, undefined);
    });

    it("accepts the prod stack: dedicated ensemble, gp3 data volumes, 3 AZs", () => {
        const c = parseConfig(stackConfig("prod", SSH), "prod");
        assert.strictEqual(c.zookeeperPlacement, "dedicated");
        assert.deepStrictEqual(ec2Of(c).dataVolume, { sizeGb: 500, type: "gp3", iops: 6000, throughputMiBps: 250 });
        assert.strictEqual(ec2Of(c).maxAzs, 3);
        assert.strictEqual(ec2Of(c).zookeeperInstanceType, "t3.medium");
    });

    it("accepts the local stack: existing hosts, no AWS settings needed", () => {
        withKeyFile(KEY, (file) => {
            const c = parseConfig(stackConfig("local", { sshPrivateKeyPath: file }), "local");
            assert.strictEqual(c.mode, "hosts");
            assert.deepStrictEqual(hostsOf(c).machines.map((h) => [h.id, h.address, h.user]), [[1, "10.77.0.11", "admin"], [2, "10.77.0.12", "admin"], [3, "10.77.0.13", "admin"]]);
            assert.deepStrictEqual(c.downloadUrls, ["http://10.77.0.1:8089/kafka"], "a set downloadUrl is the only source");
        });
    });

    it("both stacks fail without sshCidrs, and only for sshCidrs", () => {
        for (const stack of ["dev", "prod"]) {
            const p = problems(stackConfig(stack));
            assert.strictEqual(p.length, 1, p.join("\n"));
            assert.match(p[0], /^kafka:sshCidrs: is required in EC2 mode/);
            assert.match(p[0], /\/32/);
        }
    });

    it("defaults: newest 3.9.x, Scala 2.13, Apache's CDN then its archive, /kafka chroot, 3 brokers, 3 ZooKeeper", () => {
        const c = parseConfig({ ...SSH });
        assert.match(c.kafkaVersion, /^3\.9\.\d+$/);
        assert.strictEqual(c.scalaVersion, "2.13");
        assert.deepStrictEqual(c.downloadUrls, ["https://dlcdn.apache.org/kafka", "https://archive.apache.org/dist/kafka"]);
        assert.strictEqual(c.keysUrl, undefined);
        assert.strictEqual(c.zookeeperChroot, "/kafka");
        assert.strictEqual(c.brokerCount, 3);
        assert.strictEqual(c.zookeeperCount, 3);
        assert.strictEqual(hostsOf(parseConfig(HOSTS_BASE)).wipeOnDestroy, false);
    });

    it("reports every problem at once, each naming its key and a fix", () => {
        const p = problems({ brokerCount: 0, kafkaVersion: "4.0.0", brokerHeap: "lots" });
        assert.strictEqual(p.length, 4, p.join("\n")); // + missing sshCidrs
        for (const line of p) assert.match(line, /^kafka:[A-Za-z.\[\]"0-9]+: .+\. Fix: .+/);
        assert.throws(() => parseConfig({ brokerCount: 0 }), /invalid stack configuration \(2 problems\); nothing was created/);
    });

    it("reads the SSH key from kafka:sshPrivateKeyPath, keeping its text exactly", () => {
        withKeyFile(KEY, (file) => {
            const c = parseConfig({ ...HOSTS_BASE, sshPrivateKey: undefined, sshPrivateKeyPath: file });
            assert.strictEqual(hostsOf(c).sshPrivateKey, KEY);
        });
    });

    it("settings of the other mode are refused with their removal as the fix; sshPort 22 is fine on EC2", () => {
        assert.strictEqual(parseConfig({ ...SSH, sshPort: 22 }).mode, "ec2");
        assert.strictEqual(hostsOf(parseConfig({ ...HOSTS_BASE, sshPort: 2222 })).sshPort, 2222);
        const p = problems({ ...HOSTS_BASE, instanceType: "t3.small", os: "amazon-linux-2023", maxAzs: 2 });
        assert.deepStrictEqual(p.map((l) => l.split(":")[1]), ["instanceType", "os", "maxAzs"]);
        for (const line of p) assert.match(line, /Fix: remove it: pulumi config rm kafka:\w+$/);
    });

    it("a parsed configuration is the union of shared settings and one mode's part, frozen", () => {
        const e = parseConfig({ ...SSH });
        assert.deepStrictEqual(Object.keys(e).filter((k) => k === "ec2" || k === "hosts"), ["ec2"]);
        const h = parseConfig(HOSTS_BASE);
        assert.deepStrictEqual(Object.keys(h).filter((k) => k === "ec2" || k === "hosts"), ["hosts"]);
        assert.ok(Object.isFrozen(h) && Object.isFrozen(hostsOf(h).machines[0]), "validated config cannot be changed afterwards");
        assert.throws(() => { (hostsOf(h).machines as any).push({}); }, TypeError);
    });

    it("reads Pulumi's text values once, by each key's type (no guessing from JSON)", () => {
        const typed: RawConfig = { ...HOSTS_BASE, brokerCount: 3, wipeOnDestroy: true, brokerProperties: { "log.retention.hours": 72 }, sshPort: 2222 };
        const text = Object.fromEntries(Object.entries(typed).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
        assert.deepStrictEqual(parseConfig(text, "t"), parseConfig(typed, "t"));
        // A string setting keeps its text even when it looks like JSON.
        const h = hostsOf(parseConfig({ ...text, sshUser: "null", zookeeperChroot: "/1" }, "t"));
        assert.strictEqual(h.machines[0].user, "null");
        assert.strictEqual(parseConfig({ ...text, zookeeperChroot: "/1" }, "t").zookeeperChroot, "/1");
        assert.deepStrictEqual(ec2Of(parseConfig({ sshCidrs: '["198.51.100.7/32","203.0.113.0/24"]' })).sshCidrs, ["198.51.100.7/32", "203.0.113.0/24"]);
        assert.deepStrictEqual(ec2Of(parseConfig({ sshCidrs: "198.51.100.7/32, 203.0.113.0/24" })).sshCidrs, ["198.51.100.7/32", "203.0.113.0/24"]);
    });

    it("the README's configuration table is the key table (regenerate it from configTableMarkdown())", () => {
        const readme = fs.readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");
        const section = readme.split(/^## Configuration reference.*$/m)[1];
        assert.ok(section, "README.md has a Configuration reference section");
        const lines = section.split("\n");
        const start = lines.findIndex((l) => l.startsWith("|"));
        const end = lines.findIndex((l, i) => i > start && !l.startsWith("|"));
        const table = lines.slice(start, end);
        const expected = configTableMarkdown();
        assert.strictEqual(table.join("\n") + "\n", expected, `README.md's table differs from KEYS; it should read:\n${expected}`);
        assert.deepStrictEqual(expected.split("\n").slice(2, -1).map((l) => /^\| `(\w+)`/.exec(l)?.[1]), Object.keys(KEYS));
    });

    it("kafka:protectData defaults to true, false on stacks named dev*, local* or test*; a set value wins", () => {
        const protect = (stack: string, raw: RawConfig = {}) => ec2Of(parseConfig({ ...SSH, ...raw }, stack)).protectData;
        for (const stack of ["prod", "staging", "kafka-dev", "production"]) assert.strictEqual(protect(stack), true, stack);
        for (const stack of ["dev", "dev-alice", "development", "local", "test", "test2"]) assert.strictEqual(protect(stack), false, stack);
        assert.strictEqual(protect("dev", { protectData: true }), true);
        assert.strictEqual(protect("prod", { protectData: "false" }), false, "Pulumi's text value");
        assert.match(problems({ ...SSH, protectData: "maybe" }).join("\n"), /kafka:protectData/);
    });

    it("gp3 at its limits is accepted: the baseline at any size, 500 IOPS per GiB, 0.25 MiB/s per IOPS, 80000 IOPS, 2000 MiB/s", () => {
        for (const dataVolume of [{ sizeGb: 1, iops: 3000, throughputMiBps: 125 } as Record<string, number>, { sizeGb: 16, iops: 8000, throughputMiBps: 2000 },
            { sizeGb: 160, iops: 80000, throughputMiBps: 2000 }, { sizeGb: 8, throughputMiBps: 750 }]) {
            const expected: Record<string, unknown> = { type: "gp3", iops: undefined, throughputMiBps: undefined, ...dataVolume };
            assert.deepStrictEqual(ec2Of(parseConfig({ ...SSH, dataVolume })).dataVolume, expected);
        }
    });

    it("heaps are not checked against a table here: an instance's memory comes from EC2 (see the AWS lookup tests)", () => {
        assert.strictEqual(parseConfig({ ...SSH, instanceType: "t3.small", brokerHeap: "2g" }).brokerHeap, "2g");
    });

    it("parses heap sizes", () => {
        assert.strictEqual(heapMiB("400m"), 400);
        assert.strictEqual(heapMiB("2g"), 2048);
        assert.strictEqual(heapMiB("2gb"), undefined);
        assert.strictEqual(heapMiB("0m"), undefined);
    });

    it("existing-hosts mode: ids are stable, roles go to the lowest ids", () => {
        const c = parseConfig({ ...HOSTS_BASE, hosts: [...hosts(4)].reverse(), brokerCount: 4 });
        assert.strictEqual(c.mode, "hosts");
        const machines = hostsOf(c).machines;
        assert.deepStrictEqual(machines.map((h) => h.id), [1, 2, 3, 4]);
        assert.deepStrictEqual(machines.map((h) => h.roles), [["zookeeper", "broker"], ["zookeeper", "broker"], ["zookeeper", "broker"], ["broker"]]);
        assert.strictEqual(machines[0].user, "admin");
        assert.strictEqual(machines[0].privateAddress, "192.0.2.11");
    });

    // One case per bad input: [description, raw config, key the message must name, text it must contain]
    const cases: [string, RawConfig, string, RegExp][] = [
        ["Kafka 4.x has no ZooKeeper mode", { ...SSH, kafkaVersion: "4.1.0" }, "kafkaVersion", /no ZooKeeper mode/],
        ["Kafka 2.x is too old", { ...SSH, kafkaVersion: "2.8.2" }, "kafkaVersion", /older than 3\.0/],
        ["version that does not parse", { ...SSH, kafkaVersion: "latest" }, "kafkaVersion", /not a release version/],
        ["unknown Scala version", { ...SSH, scalaVersion: "3.3" }, "scalaVersion", /2\.13 or 2\.12/],
        ["download URL that is not http(s)", { ...SSH, downloadUrl: "ftp://mirror/kafka" }, "downloadUrl", /http\(s\) base URL.*\.asc.*pulumi config rm kafka:downloadUrl/],
        ["download URL with a space (the install step takes a space-separated list)", { ...SSH, downloadUrl: "https://mirror/a b" }, "downloadUrl", /http\(s\) base URL/],
        ["KEYS URL that is not http(s)", { ...SSH, keysUrl: "file:///etc/KEYS" }, "keysUrl", /http\(s\) URL of a KEYS file.*pulumi config set kafka:keysUrl https:\/\/downloads\.apache\.org\/kafka\/KEYS/],
        ["KEYS URL that names a directory", { ...SSH, keysUrl: "https://mirror.example/kafka/" }, "keysUrl", /not a directory/],
        ["no brokers", { ...SSH, brokerCount: 0 }, "brokerCount", /whole number from 1/],
        ["fractional broker count", { ...SSH, brokerCount: 2.5 }, "brokerCount", /whole number/],
        ["even ZooKeeper count", { ...SSH, zookeeperCount: 4 }, "zookeeperCount", /must be odd/],
        ["ZooKeeper count above 7", { ...SSH, zookeeperCount: 9 }, "zookeeperCount", /from 1 to 7/],
        ["more co-located ZooKeeper than hosts", { ...SSH, brokerCount: 1, zookeeperCount: 3 }, "zookeeperCount", /cannot be co-located on 1/],
        ["unknown placement", { ...SSH, zookeeperPlacement: "shared" }, "zookeeperPlacement", /colocated.*dedicated/],
        ["broker heap that does not parse", { ...SSH, brokerHeap: "1 GB" }, "brokerHeap", /not a heap size/],
        ["ZooKeeper heap that does not parse", { ...SSH, zookeeperHeap: "-5m" }, "zookeeperHeap", /not a heap size/],
        ["malformed instance type", { ...SSH, instanceType: "large" }, "instanceType", /not an EC2 instance type/],
        ["unknown OS", { ...SSH, os: "centos-7" }, "os", /ubuntu-24\.04.*amazon-linux-2023/],
        ["malformed AMI id", { ...SSH, ami: "ubuntu" }, "ami", /not an AMI id/],
        ["root volume too small", { ...SSH, rootVolumeGb: 4 }, "rootVolumeGb", /from 8/],
        ["data volume of another type", { ...SSH, dataVolume: { sizeGb: 100, type: "io2" } }, "dataVolume.type", /only gp3/],
        ["data volume without a size", { ...SSH, dataVolume: { type: "gp3" } }, "dataVolume.sizeGb", /whole number of GiB/],
        ["gp3 IOPS below the baseline", { ...SSH, dataVolume: { sizeGb: 100, iops: 100 } }, "dataVolume.iops", /3000 to 80000/],
        ["gp3 IOPS above 80000", { ...SSH, dataVolume: { sizeGb: 1000, iops: 90000 } }, "dataVolume.iops", /3000 to 80000 \(got 90000\)/],
        ["gp3 IOPS above 500 per GiB", { ...SSH, dataVolume: { sizeGb: 10, iops: 6000 } }, "dataVolume.iops",
            /6000 IOPS on 10 GiB exceeds gp3's 500 IOPS per GiB \(at most 5000 IOPS for this size\).*Fix: .*dataVolume\.iops 5000, or raise kafka:dataVolume\.sizeGb to 12$/],
        ["gp3 throughput above 2000 MiB/s", { ...SSH, dataVolume: { sizeGb: 100, iops: 16000, throughputMiBps: 2500 } }, "dataVolume.throughputMiBps", /125 to 2000 MiB\/s/],
        ["gp3 throughput above 0.25 MiB/s per IOPS", { ...SSH, dataVolume: { sizeGb: 100, iops: 4000, throughputMiBps: 1500 } }, "dataVolume.throughputMiBps",
            /1500 MiB\/s with 4000 IOPS exceeds gp3's 0\.25 MiB\/s per provisioned IOPS \(at most 1000 MiB\/s\).*dataVolume\.iops 6000$/],
        ["gp3 throughput above what the baseline IOPS allow", { ...SSH, dataVolume: { sizeGb: 100, throughputMiBps: 1000 } }, "dataVolume.throughputMiBps",
            /with 3000 IOPS \(the gp3 baseline\) exceeds .*at most 750 MiB\/s/],
        ["an IPv6 client CIDR (the instances get no IPv6 address)", { ...SSH, clientCidrs: ["10.0.0.0/8", "2001:db8::/32"] }, "clientCidrs",
            /"2001:db8::\/32" is an IPv6 block, but the instances get no IPv6 address.*Fix: use IPv4 blocks/],
        ["an IPv6 SSH CIDR", { sshCidrs: ["2001:db8::7/128"] }, "sshCidrs", /is an IPv6 block, but the instances get no IPv6 address/],
        ["client CIDR that does not parse", { ...SSH, clientCidrs: ["10.0.0.0/33"] }, "clientCidrs", /not a CIDR block/],
        ["missing sshCidrs in EC2 mode", {}, "sshCidrs", /required in EC2 mode/],
        ["SSH open to the world", { sshCidrs: ["0.0.0.0/0"] }, "sshCidrs", /whole internet/],
        ["SSH CIDR that does not parse", { sshCidrs: ["my-laptop"] }, "sshCidrs", /not a CIDR block/],
        ["publicAccess without clientCidrs (the VPC-only default would reach no outside client)", { ...SSH, publicAccess: true }, "clientCidrs",
            /required with kafka:publicAccess.*Fix: .*pulumi config set --path 'kafka:clientCidrs\[0\]'/],
        ["publicAccess with an empty clientCidrs list", { ...SSH, publicAccess: true, clientCidrs: [] }, "clientCidrs", /required with kafka:publicAccess/],
        ["publicAccess without public addresses", { ...SSH, publicAccess: true, associatePublicIp: false }, "publicAccess", /associatePublicIp/],
        ["malformed subnet id", { ...SSH, subnetIds: ["net-1"] }, "subnetIds", /not a subnet id/],
        ["chroot without a leading slash", { ...SSH, zookeeperChroot: "kafka" }, "zookeeperChroot", /leading slash/],
        ["chroot with a trailing slash", { ...SSH, zookeeperChroot: "/kafka/" }, "zookeeperChroot", /no trailing slash/],
        ["a heap in jvmPerformanceOptions", { ...SSH, jvmPerformanceOptions: "-XX:+UseG1GC -Xmx2g" }, "jvmPerformanceOptions", /"-Xmx2g" is not taken.*kafka:brokerHeap.*Fix: pulumi config set kafka:jvmPerformanceOptions/],
        ["a quote in jvmPerformanceOptions", { ...SSH, jvmPerformanceOptions: '-XX:+UseG1GC" -javaagent:/tmp/x.jar' }, "jvmPerformanceOptions", /"-XX:\+UseG1GC"" is not taken/],
        ["the JAAS login in jvmPerformanceOptions", { ...SSH, jvmPerformanceOptions: "-Djava.security.auth.login.config=/tmp/j" }, "jvmPerformanceOptions", /is not taken/],
        ["an empty jvmPerformanceOptions", { ...SSH, jvmPerformanceOptions: " " }, "jvmPerformanceOptions", /is empty.*config rm kafka:jvmPerformanceOptions/],
        ["broker property the program manages", { ...SSH, brokerProperties: { "broker.id": 7 } }, 'brokerProperties["broker.id"]', /managed by kafka-cluster/],
        ["broker property with a newline", { ...SSH, brokerProperties: { "log.retention.hours": "1\nbroker.id=9" } }, 'brokerProperties["log.retention.hours"]', /single-line/],
        ["broker properties that are not a map", { ...SSH, brokerProperties: ["a=b"] }, "brokerProperties", /must be a map/],
        ["publicAccess that is not a boolean", { ...SSH, publicAccess: "yes" }, "publicAccess", /true or false/],
        ["SSH key that is not a key", { ...SSH, sshPrivateKey: "hunter2" }, "sshPrivateKey", /not a PEM\/OpenSSH private key/],
        ["an unreadable key file", { ...HOSTS_BASE, sshPrivateKey: undefined, sshPrivateKeyPath: "/nonexistent/id_ed25519" }, "sshPrivateKeyPath", /cannot read \/nonexistent\/id_ed25519 \(ENOENT\)/],
        ["a key file that is not a key", { ...HOSTS_BASE, sshPrivateKey: undefined, sshPrivateKeyPath: __filename }, "sshPrivateKeyPath", /not a PEM\/OpenSSH private key/],
        ["both a key and a key file", { ...HOSTS_BASE, sshPrivateKeyPath: __filename }, "sshPrivateKeyPath", /together with kafka:sshPrivateKey/],
        ["unknown setting (typo)", { ...SSH, brokerCont: 3 }, "brokerCont", /unknown setting/],
        ["cluster name with capitals", { ...SSH, clusterName: "Kafka_Prod" }, "clusterName", /lower-case/],
        ["hosts that are not a list", { ...HOSTS_BASE, hosts: { address: "x" } }, "hosts", /non-empty list/],
        ["host without an id", { ...HOSTS_BASE, hosts: [{ address: "192.0.2.1" }] }, "hosts[0].id", /stable whole-number id/],
        ["two hosts with one id", { ...HOSTS_BASE, hosts: [{ id: 1, address: "192.0.2.1" }, { id: 1, address: "192.0.2.2" }] }, "hosts[1].id", /used by two hosts/],
        ["host without an address", { ...HOSTS_BASE, hosts: [{ id: 1 }] }, "hosts[0].address", /SSH address/],
        ["the same address twice", { ...HOSTS_BASE, hosts: [{ id: 1, address: "192.0.2.1" }, { id: 2, address: "192.0.2.1" }] }, "hosts[1].address", /listed twice/],
        ["unknown host field", { ...HOSTS_BASE, hosts: [...hosts(3), { id: 9, address: "192.0.2.99", port: 2222 }] }, "hosts[3].port", /unknown host field/],
        ["unknown host role", { ...HOSTS_BASE, hosts: [{ id: 1, address: "192.0.2.1", roles: ["controller"] }] }, "hosts[0].roles", /"zookeeper", "broker" and\/or "monitoring"/],
        ["fewer hosts than the counts need", { ...HOSTS_BASE, hosts: hosts(2) }, "hosts", /needs 3/],
        ["explicit roles that disagree with brokerCount", { ...HOSTS_BASE, brokerCount: 2, zookeeperCount: 1, hosts: [
            { id: 1, address: "192.0.2.1", roles: ["zookeeper", "broker"] }, { id: 2, address: "192.0.2.2", roles: ["zookeeper"] }] },
            "brokerCount", /is 2 but 1 host/],
        ["existing hosts without an SSH key", { hosts: hosts(3), sshUser: "admin" }, "sshPrivateKey", /required with kafka:hosts/],
        ["existing hosts without an SSH user", { hosts: hosts(3), sshPrivateKey: KEY }, "hosts[0].user", /no SSH user/],
        ["a data volume with existing hosts", { ...HOSTS_BASE, dataVolume: { sizeGb: 100 } }, "dataVolume", /EC2 setting.*would be ignored/],
        ["an instance type with existing hosts", { ...HOSTS_BASE, instanceType: "m6i.xlarge" }, "instanceType", /EC2 setting.*would be ignored/],
        ["SSH CIDRs with existing hosts", { ...HOSTS_BASE, ...SSH }, "sshCidrs", /EC2 setting/],
        ["an SSH port other than 22 on EC2", { ...SSH, sshPort: 2222 }, "sshPort", /must be 22 in EC2 mode.*security group opens only 22/],
        ["wipeOnDestroy on EC2", { ...SSH, wipeOnDestroy: true }, "wipeOnDestroy", /only to existing hosts/],
    ];
    for (const [what, raw, key, text] of cases) {
        it(`rejects ${what} (kafka:${key})`, () => {
            const p = problems(raw);
            const hit = p.find((line) => line.startsWith(`kafka:${key}: `));
            assert.ok(hit, `no problem names kafka:${key}; got:\n${p.join("\n")}`);
            assert.match(hit!, text);
            assert.match(hit!, /\. Fix: \S/);
        });
    }
});

describe("config: private subnets, kafka:bastion and kafka:sshFromVpc", () => {
    const BASTION_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nbastion\n-----END OPENSSH PRIVATE KEY-----\n";

    it("associatePublicIp false without a way in is refused, naming kafka:bastion and kafka:sshFromVpc", () => {
        const p = problems({ ...SSH, associatePublicIp: false });
        assert.strictEqual(p.length, 1, p.join("\n"));
        assert.match(p[0], /^kafka:associatePublicIp: is false, so the instances have private addresses only, which this program cannot reach over SSH/);
        assert.match(p[0], /Fix: .*pulumi config set --path kafka:bastion\.host <bastion address>.*pulumi config set kafka:sshFromVpc true/);
    });

    it("a bastion: defaults (port 22, the image's user), the cluster key unless bastionPrivateKey; sshCidrs optional", () => {
        const e = ec2Of(parseConfig({ associatePublicIp: false, bastion: { host: "203.0.113.5" }, sshPrivateKey: KEY }));
        assert.deepStrictEqual(e.bastion, { host: "203.0.113.5", port: 22, user: "ubuntu" });
        assert.strictEqual(e.sshCidrs, undefined, "the VPC's CIDR (the AWS layer)");
        const al = ec2Of(parseConfig({ ...SSH, os: "amazon-linux-2023", bastion: '{"host":"b.example.com","port":"2200"}', bastionPrivateKey: BASTION_KEY }));
        assert.deepStrictEqual(al.bastion, { host: "b.example.com", port: 2200, user: "ec2-user", privateKey: BASTION_KEY });
        assert.deepStrictEqual(al.sshCidrs, SSH.sshCidrs);
        const h = hostsOf(parseConfig({ ...HOSTS_BASE, bastion: { host: "10.0.0.2", user: "jump" } }));
        assert.deepStrictEqual(h.bastion, { host: "10.0.0.2", port: 22, user: "jump" });
        assert.strictEqual(hostsOf(parseConfig(HOSTS_BASE)).bastion, undefined);
    });

    it("sshFromVpc: accepted without a bastion, refused together with one", () => {
        const e = ec2Of(parseConfig({ associatePublicIp: false, sshFromVpc: true }));
        assert.deepStrictEqual([e.sshFromVpc, e.bastion, e.sshCidrs], [true, undefined, undefined]);
        const p = problems({ ...SSH, sshFromVpc: true, bastion: { host: "203.0.113.5" }, sshPrivateKey: KEY });
        assert.deepStrictEqual(p.map((l) => l.split(":")[1]), ["sshFromVpc"]);
        assert.match(p[0], /Fix: keep one/);
        assert.deepStrictEqual(problems({ ...HOSTS_BASE, sshFromVpc: true }).map((l) => l.split(":")[1]), ["sshFromVpc"], "an EC2 setting");
    });

    it("EC2 with a generated key needs bastionPrivateKey: no bastion can have authorized a key made on the first up", () => {
        const p = problems({ ...SSH, bastion: { host: "203.0.113.5" } });
        assert.strictEqual(p.length, 1, p.join("\n"));
        assert.match(p[0], /^kafka:bastion: needs a key the bastion accepts, but the cluster's SSH key is generated/);
        assert.match(p[0], /pulumi config set --secret kafka:bastionPrivateKey/);
        assert.ok(parseConfig({ ...SSH, bastion: { host: "203.0.113.5" }, bastionPrivateKey: BASTION_KEY }));
    });

    it("bad bastion settings are refused, each with its field and a fix", () => {
        const p = problems({ ...HOSTS_BASE, sshUser: undefined, hosts: hosts(3).map((h) => ({ ...h, user: "admin" })),
            bastion: { port: 0, via: "x" }, bastionPrivateKey: "nope" });
        assert.deepStrictEqual(p.map((l) => l.split(":")[1]).sort(), ["bastion.host", "bastion.port", "bastion.user", "bastion.via", "bastionPrivateKey"]);
        for (const line of p) assert.match(line, /\. Fix: .+/);
        assert.deepStrictEqual(problems({ ...HOSTS_BASE, bastion: "203.0.113.5" }).map((l) => l.split(":")[1]), ["bastion"]);
        assert.deepStrictEqual(problems({ ...HOSTS_BASE, bastion: { host: "203.0.113.5", user: "a b" } }).map((l) => l.split(":")[1]), ["bastion.user"]);
        const unused = problems({ ...HOSTS_BASE, bastionPrivateKey: BASTION_KEY });
        assert.match(unused[0], /^kafka:bastionPrivateKey: is set but kafka:bastion is not/);
    });

    it("bastionPrivateKey is a secret setting, kept out of plain text like the SSH key", () => {
        assert.strictEqual(KEYS.bastionPrivateKey.secret, true);
        const c = parseConfig({ ...HOSTS_BASE, bastion: { host: "203.0.113.5" }, bastionPrivateKey: BASTION_KEY }, "t", {}, ["bastionPrivateKey"]);
        assert.ok(c.secretValues.includes(BASTION_KEY.trim()));
    });
});

describe("config: address ranges against the VPC's CIDR", () => {
    it("cidrContains / cidrsOverlap on IPv4 blocks", () => {
        assert.ok(cidrContains("172.31.0.0/16", "172.31.5.0/24"));
        assert.ok(cidrContains("0.0.0.0/0", "10.0.0.0/8"));
        assert.ok(cidrContains("10.1.2.3/16", "10.1.0.0/16"), "host bits ignored");
        assert.ok(!cidrContains("172.31.5.0/24", "172.31.0.0/16"));
        assert.ok(!cidrContains("10.0.0.0/8", "172.31.0.0/16"));
        assert.ok(cidrsOverlap("172.31.5.0/24", "172.31.0.0/16") && !cidrsOverlap("10.0.0.0/8", "172.16.0.0/12"));
        assert.ok(!cidrContains("::/0", "10.0.0.0/8"), "IPv6 is not compared");
    });

    it("prod's example clientCidrs cover the VPC it deploys into (no subnetIds: the default VPC, 172.31.0.0/16)", () => {
        const e = ec2Of(parseConfig(stackConfig("prod", SSH), "prod"));
        assert.strictEqual(e.subnetIds, undefined, "prod deploys into the default VPC");
        assert.ok(e.clientCidrs!.some((c) => cidrContains(c, "172.31.0.0/16")), String(e.clientCidrs));
        assert.deepStrictEqual(vpcReachWarnings(e, "172.31.0.0/16"), []);
    });

    it("warns (not refuses) when clientCidrs or, through a bastion, sshCidrs admit no address of the VPC", () => {
        const e = ec2Of(parseConfig({ ...SSH, clientCidrs: ["10.0.0.0/8"], bastion: { host: "203.0.113.5" }, sshPrivateKey: KEY }));
        const w = vpcReachWarnings(e, "172.31.0.0/16");
        assert.strictEqual(w.length, 2, w.join("\n"));
        assert.match(w[0], /^kafka:clientCidrs \(10\.0\.0\.0\/8\) admits no address of the VPC \(172\.31\.0\.0\/16\).*kafka:clientCidrs\[1\]' 172\.31\.0\.0\/16$/);
        assert.match(w[1], /^kafka:sshCidrs \(198\.51\.100\.7\/32\) admits no address of the VPC.*bastion's private address/);
        assert.deepStrictEqual(vpcReachWarnings(ec2Of(parseConfig({ ...SSH, clientCidrs: ["10.0.0.0/8"] })), "10.50.0.0/16"), []);
        assert.deepStrictEqual(vpcReachWarnings(ec2Of(parseConfig({ ...SSH, publicAccess: true, clientCidrs: ["192.0.2.0/24"] })), "172.31.0.0/16"), [],
            "with publicAccess clients come from outside");
    });
});
