// Benchmark: `pulumi up` (the real engine, Automation API) from booted-but-empty hosts of the test lab, for 1 host
// and for 3 hosts (several runs each), plus a no-op `up` and one rolling change (a broker setting) on 3 hosts, in
// ZooKeeper mode and in KRaft mode side by side. Prints each run, the medians, the 3-host/1-host ratio (host work runs
// in parallel across hosts, so it should stay near 1) and, for the last run, the wall-clock span of each provisioning
// phase across hosts taken from the engine's events.
// Usage: npm run bench [-- runs [modes]]   (default 3 runs; modes: zookeeper,kraft)
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import { EngineEvent } from "@pulumi/pulumi/automation";
import { DEFAULT_KRAFT_VERSION } from "../components/config";
import { hostsDown, hostsUp, kafkaDist, localStackConfig, log } from "../scripts/lib/local";
import { programStack, pulumiEnv, removeStack, setStackConfig } from "../scripts/lib/pulumi";

const runs = Number(process.argv[2] ?? process.env.BENCH_RUNS ?? 3);
const modes = (process.argv[3] ?? "zookeeper,kraft").split(",") as ("zookeeper" | "kraft")[];

/** The bench stack of `n` hosts in `mode`: the quorum on every host (one member on one host). */
function benchConfig(env: ReturnType<typeof hostsUp>, n: number, mode: "zookeeper" | "kraft") {
    return mode === "kraft"
        ? localStackConfig(env, n, { brokerCount: n, metadata: "kraft", kafkaVersion: DEFAULT_KRAFT_VERSION, controllerCount: n === 1 ? 1 : 3, controllerHeap: "256m" })
        : localStackConfig(env, n, { brokerCount: n, zookeeperCount: n === 1 ? 1 : 3 });
}
const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }));
const CORES = os.cpus().length;

/** Busy CPU time of the whole machine so far (the hosts share its kernel), in seconds: /proc/stat minus idle and iowait. */
function busyCpuSeconds(): number {
    const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    return (f.reduce((a, b) => a + b, 0) - f[3] - f[4]) / TICKS;
}

/** Phase ("java", "install", "broker", ...) -> [first start, last end] in engine event seconds. */
type Phases = Map<string, [number, number]>;

function phasesOf(events: EngineEvent[]): Phases {
    const phases: Phases = new Map();
    for (const e of events) {
        const m = e.resourcePreEvent?.metadata ?? e.resOutputsEvent?.metadata;
        if (!m || !m.type.startsWith("command:") || e.timestamp === undefined) continue;
        const name = m.urn.split("::").pop()!;
        const phase = /^(?:cluster|host-\d+|node-\d+|zk-\d+|ctl-\d+|broker-\d+)-(.+)$/.exec(name)?.[1] ?? name;
        const [b, end] = phases.get(phase) ?? [Infinity, 0];
        phases.set(phase, e.resourcePreEvent ? [Math.min(b, e.timestamp), end] : [b, Math.max(end, e.timestamp)]);
    }
    return phases;
}

async function bench(mode: "zookeeper" | "kraft") {
    const provider = pulumiEnv().KAFKA_CLUSTER_COMMAND_PROVIDER;
    const times: Record<string, number[]> = { "1 host": [], "3 hosts": [], "no-op, 3 hosts": [], "rolling change, 3 hosts": [] };
    const cpu: Record<string, number[]> = { "1 host": [], "3 hosts": [] };
    const lastPhases: Record<string, Phases> = {};
    for (let r = 1; r <= runs; r++) {
        for (const n of [1, 3]) {
            hostsDown(); // fresh copies of the image: booted, nothing installed
            const env = hostsUp(n);
            const raw = benchConfig(env, n, mode);
            const stack = await programStack("bench", raw);
            const key = n === 1 ? "1 host" : "3 hosts";
            try {
                const events: EngineEvent[] = [];
                let t = Date.now();
                const cpu0 = busyCpuSeconds();
                await stack.up({ onOutput: () => undefined, onEvent: (e) => events.push(e) });
                const full = (Date.now() - t) / 1000;
                times[key].push(full);
                cpu[key].push(busyCpuSeconds() - cpu0);
                lastPhases[key] = phasesOf(events);
                let more = "";
                if (n === 3) {
                    t = Date.now();
                    const res = await stack.up({ onOutput: () => undefined });
                    const s = (Date.now() - t) / 1000;
                    times["no-op, 3 hosts"].push(s);
                    // One rolling change: a broker setting (KRaft: the controllers read the same tuning block, so they
                    // roll first).
                    await setStackConfig(stack, { ...raw, brokerProperties: { "log.retention.hours": 72 } });
                    t = Date.now();
                    await stack.up({ onOutput: () => undefined });
                    const roll = (Date.now() - t) / 1000;
                    times["rolling change, 3 hosts"].push(roll);
                    more = `, no-op ${s.toFixed(1)} s (${JSON.stringify(res.summary.resourceChanges)}), rolling change ${roll.toFixed(1)} s`;
                }
                log(`${mode} run ${r}: ${n} host(s) ${full.toFixed(1)} s, ${cpu[key][cpu[key].length - 1].toFixed(0)} CPU-s${more}`);
            } finally {
                await stack.destroy({ onOutput: () => undefined });
                await removeStack(stack);
            }
        }
    }
    hostsDown();
    console.log(`\n${mode}: pulumi up (command provider: ${provider}), from booted-but-empty hosts, ${runs} run(s) each; medians:`);
    for (const [k, v] of Object.entries(times)) console.log(`  ${k.padEnd(24)} ${median(v).toFixed(1)} s   (runs: ${v.map((x) => x.toFixed(1)).join(", ")})`);
    console.log(`  3-host / 1-host ratio: ${(median(times["3 hosts"]) / median(times["1 host"])).toFixed(2)}`);
    // All hosts share this machine's cores: CPU time / cores is a floor under the wall-clock time of an up.
    for (const k of ["1 host", "3 hosts"]) {
        const c = median(cpu[k]);
        console.log(`  CPU used, ${k.padEnd(8)} ${c.toFixed(0)} CPU-s (median), i.e. at least ${(c / CORES).toFixed(1)} s on ${CORES} cores`);
    }
    console.log(`\n${mode}: where the time goes (last run; wall-clock span of each phase across hosts, seconds):`);
    console.log(`  ${"phase".padEnd(18)} ${"1 host".padStart(8)} ${"3 hosts".padStart(8)}`);
    for (const [phase, [b, e]] of lastPhases["3 hosts"]) {
        const one = lastPhases["1 host"].get(phase);
        console.log(`  ${phase.padEnd(18)} ${(one ? (one[1] - one[0]).toFixed(1) : "-").padStart(8)} ${(e - b).toFixed(1).padStart(8)}`);
    }
}

async function main() {
    for (const mode of modes) {
        if (mode !== "zookeeper" && mode !== "kraft") throw new Error(`unknown mode ${mode} (zookeeper, kraft)`);
        kafkaDist(mode === "kraft" ? DEFAULT_KRAFT_VERSION : undefined);
    }
    for (const mode of modes) await bench(mode);
}

main().catch((e) => {
    console.error(e);
    try { hostsDown(); } catch { /* already down */ }
    process.exit(1);
});
