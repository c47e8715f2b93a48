// Shared by the real-host tests, the e2e test and the benchmark: the test lab's hosts (systemd-nspawn on a private
// bridge of their own, scripts/local/hosts.sh with KAFKA_CLUSTER_LAB=test, never the quick start's hosts), the Kafka
// tarball stand-in, SSH, and a local Kafka client.
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { DEFAULT_KAFKA_VERSION, DEFAULT_SCALA_VERSION, RawConfig } from "../../components/config";

export const ROOT = path.join(__dirname, "..", "..");
export const CACHE = process.env.KAFKA_CLUSTER_CACHE ?? "/var/cache/kafka-cluster";
const HOSTS_SH = path.join(ROOT, "scripts", "local", "hosts.sh");
/**
 * The tests' own lab: its own host names, bridge and subnet, so they never touch a cluster the quick start built.
 * KAFKA_CLUSTER_TEST_LAB=test2 picks a second one, for running the suites from a second checkout at the same time.
 */
export const LAB = process.env.KAFKA_CLUSTER_TEST_LAB ?? "test";
if (LAB !== "test" && LAB !== "test2") throw new Error(`KAFKA_CLUSTER_TEST_LAB must be test or test2 (the quick start's lab is never used by tests), not ${LAB}`);

export interface LocalEnv {
    bridgeAddress: string;
    httpBase: string;
    kafkaDownloadUrl: string;
    sshUser: string;
    sshKeyPath: string;
    hosts: { name: string; address: string }[];
}

export function log(msg: string): void {
    process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** Runs a local tool, inheriting stderr; returns stdout. */
function run(cmd: string, args: string[], timeoutMs = 40 * 60_000): string {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: timeoutMs, maxBuffer: 64 << 20,
        env: { ...process.env, KAFKA_CLUSTER_LAB: LAB } });
}

export function hostsUp(n: number): LocalEnv {
    run(HOSTS_SH, ["up", String(n)]);
    return hostsEnv();
}
export function hostsEnv(): LocalEnv {
    return JSON.parse(run(HOSTS_SH, ["env"], 60_000));
}
export function hostsDown(): void {
    run(HOSTS_SH, ["down"], 5 * 60_000);
}

/** Builds (or reuses) the Kafka tarball stand-in for `version`; returns its path. */
export function kafkaDist(version = DEFAULT_KAFKA_VERSION, scala = DEFAULT_SCALA_VERSION): string {
    const out = run(path.join(ROOT, "scripts", "local", "kafka-dist.sh"), [version, scala]).trim().split("\n");
    return out[out.length - 1];
}

/** Stack config for existing-hosts mode on the local hosts: host i+1 gets id i+1. */
export function localStackConfig(env: LocalEnv, count = env.hosts.length, extra: RawConfig = {}): RawConfig {
    return {
        hosts: env.hosts.slice(0, count).map((h, i) => ({ id: i + 1, address: h.address })),
        sshUser: env.sshUser,
        sshPrivateKeyPath: env.sshKeyPath,
        downloadUrl: env.kafkaDownloadUrl,
        brokerHeap: "512m",
        zookeeperHeap: "256m",
        ...extra,
    };
}

export interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
}

export class Ssh {
    constructor(private readonly env: Pick<LocalEnv, "sshKeyPath" | "sshUser">) {}

    args(address: string): string[] {
        return ["-i", this.env.sshKeyPath, "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=6",
            "-o", "LogLevel=ERROR", `${this.env.sshUser}@${address}`];
    }

    /** Runs a command line on a host through its login shell, exactly as the command provider does. */
    exec(address: string, command: string, timeoutMs = 15 * 60_000): Promise<RunResult> {
        return new Promise((resolve) => {
            const child = spawn("ssh", [...this.args(address), command], { stdio: ["ignore", "pipe", "pipe"] });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d) => (stdout += d));
            child.stderr.on("data", (d) => (stderr += d));
            const timer = setTimeout(() => { stderr += `\n[timed out after ${timeoutMs} ms]`; child.kill("SIGKILL"); }, timeoutMs);
            child.on("close", (code) => { clearTimeout(timer); resolve({ code: code ?? -1, stdout, stderr }); });
        });
    }

    async must(address: string, command: string, timeoutMs?: number): Promise<string> {
        const r = await this.exec(address, command, timeoutMs);
        if (r.code !== 0) throw new Error(`ssh ${address} '${command.slice(0, 120)}' exited ${r.code}:\n${r.stderr.slice(-3000)}`);
        return r.stdout;
    }

    /**
     * The journal lines of the Kafka services on a host that explain a failure: warnings, errors and systemd's own
     * lines about the units (starts, exits, restarts) from the last 15 minutes, then the last few lines as they are.
     * Unfiltered, a busy broker's INFO lines bury the one line that matters.
     */
    async journal(address: string, lines = 40): Promise<string> {
        const journal = "sudo -n journalctl -u zookeeper -u kafka --no-pager -o short-monotonic";
        const r = await this.exec(address, `${journal} --since -15min | grep -E '\\] (WARN|ERROR|FATAL) |systemd\\[1\\]:' | ` +
            `tail -n ${lines}; echo '--- last lines ---'; ${journal} -n 15`, 30_000);
        return r.stdout + r.stderr;
    }
}

/** Polls `check` every `everyMs` until it returns a truthy value or `timeoutMs` passes. */
export async function poll<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined | false>, everyMs = 2000): Promise<T> {
    const start = Date.now();
    let last: unknown;
    for (let i = 0; Date.now() - start < timeoutMs && i < 10_000; i++) {
        try {
            const v = await check();
            if (v) return v;
        } catch (e) {
            last = e;
        }
        await new Promise((r) => setTimeout(r, everyMs));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ""}`);
}

/** ZooKeeper's `srvr` mode of a member (leader, follower, standalone), or undefined. */
export function zkMode(address: string, timeoutMs = 3000): Promise<string | undefined> {
    return new Promise((resolve) => {
        const sock = net.connect({ host: address, port: 2181, timeout: timeoutMs });
        let data = "";
        sock.on("connect", () => sock.write("srvr"));
        sock.on("data", (d) => (data += d));
        sock.on("error", () => resolve(undefined));
        sock.on("timeout", () => { sock.destroy(); resolve(undefined); });
        sock.on("close", () => resolve(/^Mode: (\w+)/m.exec(data)?.[1]));
    });
}

/** A Kafka client on this machine, unpacked from the same tarball the hosts install. */
export class KafkaClient {
    readonly home: string;
    private readonly children = new Set<ChildProcess>();

    constructor(tarball: string) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kafka-client-"));
        execFileSync("tar", ["-xzf", tarball, "-C", dir]);
        const top = fs.readdirSync(dir).find((d) => d.startsWith("kafka_"))!;
        this.home = path.join(dir, top);
    }

    private env(): NodeJS.ProcessEnv {
        return { ...process.env, LOG_DIR: path.join(this.home, "logs"), KAFKA_HEAP_OPTS: "-Xmx256m" };
    }

    /** Runs a tool to completion (bounded). */
    tool(name: string, args: string[], timeoutMs = 120_000, input?: string): Promise<RunResult> {
        return new Promise((resolve) => {
            const child = spawn(path.join(this.home, "bin", name), args, { env: this.env(), stdio: ["pipe", "pipe", "pipe"] });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d) => (stdout += d));
            child.stderr.on("data", (d) => (stderr += d));
            child.stdin.end(input ?? "");
            const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
            child.on("close", (code) => { clearTimeout(timer); resolve({ code: code ?? -1, stdout, stderr }); });
        });
    }

    async must(name: string, args: string[], timeoutMs?: number, input?: string): Promise<string> {
        const r = await this.tool(name, args, timeoutMs, input);
        if (r.code !== 0) throw new Error(`${name} ${args.join(" ")} exited ${r.code}:\n${r.stderr.slice(-3000)}`);
        return r.stdout;
    }

    /** Starts a long-running tool; stop it with stop(). */
    start(name: string, args: string[]): { child: ChildProcess; output: () => string } {
        const child = spawn(path.join(this.home, "bin", name), args, { env: this.env(), stdio: ["ignore", "pipe", "pipe"] });
        this.children.add(child);
        let out = "";
        child.stdout!.on("data", (d) => (out += d));
        child.stderr!.on("data", () => undefined);
        child.on("close", () => this.children.delete(child));
        return { child, output: () => out };
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
