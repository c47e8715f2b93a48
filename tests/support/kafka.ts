// Talking to the cluster from this machine in the real-host and e2e tests: a Kafka client unpacked from the tarball the
// hosts install, and ZooKeeper's `srvr` mode of a member.
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { PORTS } from "../../components/layout";
import { RunResult } from "../../scripts/lib/local";

/** ZooKeeper's `srvr` mode of a member (leader, follower, standalone), or undefined. */
export function zkMode(address: string, timeoutMs = 3000): Promise<string | undefined> {
    return new Promise((resolve) => {
        const sock = net.connect({ host: address, port: PORTS.zookeeperClient, timeout: timeoutMs });
        let data = "";
        sock.on("connect", () => sock.write("srvr"));
        sock.on("data", (d) => (data += d));
        sock.on("error", () => resolve(undefined));
        sock.on("timeout", () => { sock.destroy(); resolve(undefined); });
        sock.on("close", () => resolve(/^Mode: (\w+)/m.exec(data)?.[1]));
    });
}

/** The option each of Kafka's tools takes client properties with (the admin tools: --command-config). */
const CONFIG_OPTION: Record<string, string | undefined> = {
    "kafka-console-producer.sh": "--producer.config", "kafka-verifiable-producer.sh": "--producer.config",
    "kafka-console-consumer.sh": "--consumer.config", "kafka-verifiable-consumer.sh": "--consumer.config",
    "zookeeper-shell.sh": undefined, "kafka-run-class.sh": undefined,
};

/** `args` with `--<option> <file>` for a tool's client properties, when it takes some. */
export function withClientConfig(tool: string, args: string[], file: string | undefined): string[] {
    const option = tool in CONFIG_OPTION ? CONFIG_OPTION[tool] : "--command-config";
    return file && option ? [...args, option, file] : args;
}

/**
 * A Kafka client on this machine, unpacked from the same tarball the hosts install. After login(), every tool logs in
 * with those client properties (the stack's `clientProperties` output: TLS with the stack's CA, SCRAM).
 */
export class KafkaClient {
    readonly home: string;
    private readonly children = new Set<ChildProcess>();
    private config: string | undefined;

    constructor(tarball: string) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kafka-client-"));
        execFileSync("tar", ["-xzf", tarball, "-C", dir]);
        const top = fs.readdirSync(dir).find((d) => d.startsWith("kafka_"))!;
        this.home = path.join(dir, top);
    }

    /** Writes client properties (mode 0600, inside this client's directory) and returns the file's path. */
    propertiesFile(name: string, text: string): string {
        const file = path.join(path.dirname(this.home), `${name}.properties`);
        fs.writeFileSync(file, text, { mode: 0o600 });
        return file;
    }

    /** From now on every tool logs in with these client properties. */
    login(properties: string): void {
        this.config = this.propertiesFile("login", properties);
    }

    private env(): NodeJS.ProcessEnv {
        // Like the host scripts' tools: no JMX agent (Kafka's launcher starts one in every JVM otherwise), the C1 compiler
        // and the serial collector (these JVMs live for seconds, or produce a few hundred messages a second).
        return {
            ...process.env, LOG_DIR: path.join(this.home, "logs"), KAFKA_HEAP_OPTS: "-Xmx256m", KAFKA_JMX_OPTS: "-Dkafka-cluster.jmx=off",
            KAFKA_JVM_PERFORMANCE_OPTS: "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true",
        };
    }

    /** Runs a tool to completion (bounded), logged in as login() said, or with `config` (a properties file) when given. */
    tool(name: string, args: string[], timeoutMs = 120_000, input?: string, config = this.config): Promise<RunResult> {
        return new Promise((resolve) => {
            const child = spawn(path.join(this.home, "bin", name), withClientConfig(name, args, config), { env: this.env(), stdio: ["pipe", "pipe", "pipe"] });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d) => (stdout += d));
            child.stderr.on("data", (d) => (stderr += d));
            child.stdin.end(input ?? "");
            const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
            child.on("close", (code) => { clearTimeout(timer); resolve({ code: code ?? -1, stdout, stderr }); });
        });
    }

    async must(name: string, args: string[], timeoutMs?: number, input?: string, config = this.config): Promise<string> {
        const r = await this.tool(name, args, timeoutMs, input, config);
        if (r.code !== 0) throw new Error(`${name} ${args.join(" ")} exited ${r.code}:\n${r.stderr.slice(-3000)}`);
        return r.stdout;
    }

    /** The file of client properties login() wrote (undefined before). */
    get loginFile(): string | undefined {
        return this.config;
    }

    /** The client properties login() set (undefined before). */
    get loginProperties(): string | undefined {
        return this.config === undefined ? undefined : fs.readFileSync(this.config, "utf8");
    }

    /** Starts a long-running tool, logged in as login() said or with `config`; stop it with stop(). */
    start(name: string, args: string[], config = this.config): { child: ChildProcess; output: () => string; errors: () => string } {
        const child = spawn(path.join(this.home, "bin", name), withClientConfig(name, args, config), { env: this.env(), stdio: ["ignore", "pipe", "pipe"] });
        this.children.add(child);
        let out = "";
        let err = "";
        child.stdout!.on("data", (d) => (out += d));
        child.stderr!.on("data", (d) => (err = (err + d).slice(-4000)));
        child.on("close", () => this.children.delete(child));
        return { child, output: () => out, errors: () => err };
    }

    /** Stops a started tool by its PID: SIGTERM, then SIGKILL after a bounded wait. */
    async stop(child: ChildProcess, graceMs = 30_000): Promise<void> {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const done = new Promise<void>((r) => child.once("close", () => r()));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await done;
        clearTimeout(timer);
    }

    async close(): Promise<void> {
        for (const c of [...this.children]) await this.stop(c, 5000);
        fs.rmSync(path.dirname(this.home), { recursive: true, force: true });
    }

    async underReplicated(bootstrap: string): Promise<number | undefined> {
        const r = await this.tool("kafka-topics.sh", ["--bootstrap-server", bootstrap, "--describe", "--under-replicated-partitions"], 60_000);
        if (r.code !== 0) return undefined;
        return (r.stdout.match(/Partition:/g) ?? []).length;
    }

    /** How many records a topic holds (the sum of its partitions' latest offsets; no transactions are used here). */
    async recordCount(bootstrap: string, topic: string): Promise<number> {
        const out = await this.must("kafka-get-offsets.sh", ["--bootstrap-server", bootstrap, "--topic", topic, "--time", "-1"], 60_000);
        return out.split("\n").filter((l) => l.startsWith(`${topic}:`)).reduce((sum, l) => sum + Number(l.split(":")[2]), 0);
    }

    /**
     * The ZooKeeper session that owns broker `id`'s registration (its znode's ephemeralOwner), or undefined when the
     * broker is not registered. After a crash the old session's znode outlives the process until the session times
     * out, so "registered" alone does not mean "the new process is up": compare owners.
     */
    async brokerSession(zkConnect: string, id: number): Promise<string | undefined> {
        const r = await this.tool("zookeeper-shell.sh", [zkConnect, "stat", `/brokers/ids/${id}`], 60_000);
        return /^ephemeralOwner = (0x[0-9a-f]+)$/m.exec(r.stdout)?.[1];
    }

    async registeredBrokers(zkConnect: string): Promise<number[]> {
        const out = await this.must("zookeeper-shell.sh", [zkConnect, "ls", "/brokers/ids"], 60_000);
        const line = out.split("\n").filter((l) => l.startsWith("[")).pop() ?? "[]";
        return line.replace(/[\[\]\s]/g, "").split(",").filter(Boolean).map(Number).sort((a, b) => a - b);
    }
}
