// Shared by the real-host tests, the e2e test and the benchmark: the test lab's hosts (systemd-nspawn on a private
// bridge of their own, scripts/local/hosts.sh with KAFKA_CLUSTER_LAB=test, never the quick start's hosts), the Kafka
// tarball stand-in and SSH. Helpers only the tests use (a Kafka client, poll, zkMode) live in tests/support.
import { execFileSync, spawn } from "child_process";
import * as path from "path";
import { DEFAULT_KAFKA_VERSION, DEFAULT_SCALA_VERSION, RawConfig } from "../../components/config";
import { METRICS_AGENT } from "../../components/roles/metrics";

export const ROOT = path.join(__dirname, "..", "..");
export const CACHE = process.env.KAFKA_CLUSTER_CACHE ?? "/var/cache/kafka-cluster";
const HOSTS_SH = path.join(ROOT, "scripts", "local", "hosts.sh");
/**
 * The tests' own labs, never the quick start's hosts: each suite has one, with its own host names, bridge and subnet, so
 * that the suites can run at the same time (scripts/test.sh runs them so).
 */
export type TestLab = "test" | "test2" | "test3" | "test4" | "test5";
export const LABS: Record<"hosts" | "dataVolume" | "e2e" | "kraft" | "migration", TestLab> = {
    hosts: "test", dataVolume: "test2", e2e: "test3", kraft: "test4", migration: "test5",
};
/** The hosts suite's lab, and the benchmark's. */
export const LAB: TestLab = LABS.hosts;
const isTestLab = (lab: string): lab is TestLab => (Object.values(LABS) as string[]).includes(lab);

export interface LocalEnv {
    bridgeAddress: string;
    httpBase: string;
    kafkaDownloadUrl: string;
    /** The lab's Maven repository (scripts/local/maven-dist.sh), for kafka:mavenUrl. */
    mavenUrl: string;
    sshUser: string;
    sshKeyPath: string;
    hosts: { name: string; address: string }[];
}

export function log(msg: string): void {
    process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** Runs a local tool (in `lab`, for hosts.sh), inheriting stderr; returns stdout. */
function run(cmd: string, args: string[], timeoutMs = 40 * 60_000, lab: TestLab = LAB): string {
    if (!isTestLab(lab)) throw new Error(`a test lab is one of ${Object.values(LABS).join(", ")}, not ${lab}`);
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: timeoutMs, maxBuffer: 64 << 20,
        env: { ...process.env, KAFKA_CLUSTER_LAB: lab } });
}

/** Boots `n` hosts of a test lab (the suite's LAB unless a test file picks one of its own); running ones are kept. */
export function hostsUp(n: number, lab: TestLab = LAB): LocalEnv {
    run(HOSTS_SH, ["up", String(n)], undefined, lab);
    return hostsEnv(lab);
}
/**
 * A suite's start: `n` new hosts. A lab an interrupted run left up (another suite's stack, its services and data, more
 * hosts than asked for) is torn down first, so no test starts on what an earlier one left behind.
 */
export function freshHostsUp(n: number, lab: TestLab = LAB): LocalEnv {
    hostsDown(lab);
    return hostsUp(n, lab);
}
export function hostsEnv(lab: TestLab = LAB): LocalEnv {
    return JSON.parse(run(HOSTS_SH, ["env"], 60_000, lab));
}
export function hostsDown(lab: TestLab = LAB): void {
    run(HOSTS_SH, ["down"], 5 * 60_000, lab);
}

/** Builds (or reuses) the Kafka tarball stand-in for `version`; returns its path. */
export function kafkaDist(version = DEFAULT_KAFKA_VERSION, scala = DEFAULT_SCALA_VERSION): string {
    const out = run(path.join(ROOT, "scripts", "local", "kafka-dist.sh"), [version, scala]).trim().split("\n");
    return out[out.length - 1];
}

/** Puts the artifacts the hosts fetch with kafka:mavenUrl (the JMX exporter agent) into the lab's Maven repository. */
export function mavenDist(): void {
    run(path.join(ROOT, "scripts", "local", "maven-dist.sh"), [METRICS_AGENT.coordinates]);
}

/**
 * The service JVMs' options in the test and bench labs: three clusters of up to ten JVMs share this machine's two
 * cores during CI, where the JIT's second compiler (C2) and G1's background threads cost more CPU than the few hundred
 * messages a second the tests write ever gain from them.
 */
export const LAB_JVM_OPTIONS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true";

/** Stack config for existing-hosts mode on the local hosts: host i+1 gets id i+1. */
export function localStackConfig(env: LocalEnv, count = env.hosts.length, extra: RawConfig = {}): RawConfig {
    return {
        hosts: env.hosts.slice(0, count).map((h, i) => ({ id: i + 1, address: h.address })),
        sshUser: env.sshUser,
        sshPrivateKeyPath: env.sshKeyPath,
        downloadUrl: env.kafkaDownloadUrl,
        brokerHeap: "512m",
        jvmPerformanceOptions: LAB_JVM_OPTIONS,
        // A KRaft stack refuses ZooKeeper settings.
        ...(extra.metadata === "kraft" ? {} : { zookeeperHeap: "256m" }),
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
