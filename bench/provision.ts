// Benchmark: `pulumi up` from booted-but-empty local hosts, for 1 host and for 3 hosts, several runs each, plus a
// no-op `up`. Prints each run, the medians and the 3-host/1-host ratio (host work runs in parallel across hosts,
// so the ratio should stay near 1). Usage: npm run bench [-- runs]   (default 3 runs)
import { hostsDown, hostsUp, kafkaDist, log } from "../scripts/lib/local";
import { programStack, removeStack } from "../scripts/lib/pulumi";

const runs = Number(process.argv[2] ?? process.env.BENCH_RUNS ?? 3);
const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
    kafkaDist();
    const times: Record<string, number[]> = { "up 1 host": [], "up 3 hosts": [], "no-op up (3 hosts)": [] };
    for (let r = 1; r <= runs; r++) {
        for (const n of [1, 3]) {
            hostsDown(); // fresh copies of the image: booted, nothing installed
            const env = hostsUp(n);
            const stack = await programStack("bench", {
                hosts: env.hosts.slice(0, n).map((h, i) => ({ id: i + 1, address: h.address })),
                brokerCount: n, zookeeperCount: n === 1 ? 1 : 3, sshUser: env.sshUser, sshPrivateKeyPath: env.sshKeyPath,
                downloadUrl: env.kafkaDownloadUrl, brokerHeap: "512m", zookeeperHeap: "256m",
            });
            try {
                let t = Date.now();
                await stack.up({ onOutput: () => undefined });
                const full = (Date.now() - t) / 1000;
                times[`up ${n} host${n > 1 ? "s" : ""}`].push(full);
                let noop = "";
                if (n === 3) {
                    t = Date.now();
                    await stack.up({ onOutput: () => undefined });
                    const s = (Date.now() - t) / 1000;
                    times["no-op up (3 hosts)"].push(s);
                    noop = `, no-op up ${s.toFixed(1)} s`;
                }
                log(`run ${r}: up with ${n} host(s) ${full.toFixed(1)} s${noop}`);
                await stack.destroy({ onOutput: () => undefined });
            } finally {
                await removeStack(stack);
            }
        }
    }
    hostsDown();
    console.log(`\npulumi up from booted-but-empty hosts (${runs} runs each), medians:`);
    for (const [k, v] of Object.entries(times)) console.log(`  ${k.padEnd(20)} ${median(v).toFixed(1)} s   (runs: ${v.map((x) => x.toFixed(1)).join(", ")})`);
    console.log(`  3-host / 1-host ratio: ${(median(times["up 3 hosts"]) / median(times["up 1 host"])).toFixed(2)}`);
}

main().catch((e) => {
    console.error(e);
    try { hostsDown(); } catch { /* already down */ }
    process.exit(1);
});
