// Benchmark: provisioning from booted-but-empty local hosts, for 1 host and for 3 hosts (several runs each), plus
// a no-op re-run. Prints each run, the medians and the 3-host/1-host ratio: host work runs in parallel across
// hosts, so the ratio should stay near 1.
// With the Pulumi engine and command provider available (scripts/pulumi-tools.sh) it times `pulumi up`;
// otherwise (or with BENCH_ENGINE=direct) it times the program's rendered plan run over SSH with the same
// dependency waves (scripts/lib/local.ts runPlan). Usage: npm run bench [-- runs]   (default 3)
import { execFileSync } from "child_process";
import * as path from "path";
import { parseConfig, RawConfig } from "../components/config";
import { planSteps } from "../components/plan";
import { resolveExistingHosts } from "../components/topology";
import { ROOT, Ssh, hostsDown, hostsUp, kafkaDist, localStackConfig, log, runPlan } from "../scripts/lib/local";

const runs = Number(process.argv[2] ?? process.env.BENCH_RUNS ?? 3);
const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function engineAvailable(): boolean {
    if (process.env.BENCH_ENGINE === "direct") return false;
    try {
        execFileSync(path.join(ROOT, "scripts", "pulumi-tools.sh"), { stdio: "ignore", timeout: 60 * 60_000 });
        return true;
    } catch {
        return false;
    }
}

/** Returns a function that provisions once (timed by the caller) and a cleanup. */
type Phases = Map<string, [number, number]>;

async function provisioner(engine: boolean, raw: RawConfig): Promise<{ up: () => Promise<Phases | undefined>; done: () => Promise<void> }> {
    if (engine) {
        const { programStack, removeStack } = await import("../scripts/lib/pulumi");
        const stack = await programStack("bench", raw);
        return {
            up: async () => { await stack.up({ onOutput: () => undefined }); return undefined; },
            done: async () => { await stack.destroy({ onOutput: () => undefined }); await removeStack(stack); },
        };
    }
    const cfg = parseConfig(raw, "bench");
    const nodes = resolveExistingHosts(cfg);
    const steps = planSteps(cfg, nodes);
    const ssh = new Ssh({ sshKeyPath: raw.sshPrivateKeyPath as string, sshUser: cfg.sshUser });
    return {
        up: async () => {
            const results = await runPlan(ssh, steps, nodes);
            // Wall-clock span of each phase, across all hosts.
            const phases: Phases = new Map();
            for (const st of steps) {
                const r = results.get(st.name)!;
                const [b, e] = phases.get(st.phase) ?? [Infinity, 0];
                phases.set(st.phase, [Math.min(b, r.begin!), Math.max(e, r.end!)]);
            }
            return phases;
        },
        done: async () => undefined,
    };
}

async function main() {
    kafkaDist();
    const engine = engineAvailable();
    const what = engine ? "pulumi up" : "rendered plan over SSH (no Pulumi engine on this machine)";
    const times: Record<string, number[]> = { "1 host": [], "3 hosts": [], "no-op, 3 hosts": [] };
    const lastPhases: Record<string, Phases | undefined> = {};
    for (let r = 1; r <= runs; r++) {
        for (const n of [1, 3]) {
            hostsDown(); // fresh copies of the image: booted, nothing installed
            const env = hostsUp(n);
            const p = await provisioner(engine, localStackConfig(env, n, { brokerCount: n, zookeeperCount: n === 1 ? 1 : 3 }));
            try {
                let t = Date.now();
                lastPhases[n === 1 ? "1 host" : "3 hosts"] = await p.up();
                const full = (Date.now() - t) / 1000;
                times[n === 1 ? "1 host" : "3 hosts"].push(full);
                let noop = "";
                if (n === 3) {
                    t = Date.now();
                    await p.up();
                    const s = (Date.now() - t) / 1000;
                    times["no-op, 3 hosts"].push(s);
                    noop = `, no-op ${s.toFixed(1)} s`;
                }
                log(`run ${r}: ${n} host(s) ${full.toFixed(1)} s${noop}`);
            } finally {
                await p.done();
            }
        }
    }
    hostsDown();
    console.log(`\n${what}, from booted-but-empty hosts, ${runs} run(s) each; medians:`);
    for (const [k, v] of Object.entries(times)) console.log(`  ${k.padEnd(16)} ${median(v).toFixed(1)} s   (runs: ${v.map((x) => x.toFixed(1)).join(", ")})`);
    console.log(`  3-host / 1-host ratio: ${(median(times["3 hosts"]) / median(times["1 host"])).toFixed(2)}`);
    if (lastPhases["1 host"] && lastPhases["3 hosts"]) {
        console.log("\nwhere the time goes (last run; wall-clock span of each phase across hosts, seconds):");
        console.log(`  ${"phase".padEnd(10)} ${"1 host".padStart(8)} ${"3 hosts".padStart(8)}`);
        for (const [phase, [b, e]] of lastPhases["3 hosts"]) {
            const one = lastPhases["1 host"].get(phase);
            console.log(`  ${phase.padEnd(10)} ${(one ? ((one[1] - one[0]) / 1000).toFixed(1) : "-").padStart(8)} ${((e - b) / 1000).toFixed(1).padStart(8)}`);
        }
    }
}

main().catch((e) => {
    console.error(e);
    try { hostsDown(); } catch { /* already down */ }
    process.exit(1);
});
