// Timed phases of the real-host and e2e suites: each is logged as it ends ("[timing] <prefix><what>: N s") and kept
// for the suite's summary line.
import { log } from "../../scripts/lib/local";

export function stopwatch(prefix = ""): { timed: <T>(what: string, f: () => Promise<T> | T) => Promise<T>; summary: () => string } {
    const spans: [string, number][] = [];
    async function timed<T>(what: string, f: () => Promise<T> | T): Promise<T> {
        const t = Date.now();
        try {
            return await f();
        } finally {
            const s = (Date.now() - t) / 1000;
            spans.push([what, s]);
            log(`[timing] ${prefix}${what}: ${s.toFixed(1)} s`);
        }
    }
    return { timed, summary: () => spans.map(([w, s]) => `${w}=${s.toFixed(1)}s`).join(", ") };
}
