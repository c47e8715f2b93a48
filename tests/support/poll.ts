// Waiting for a condition in the real-host and e2e tests.

/**
 * Polls `check` until it returns a truthy value or `timeoutMs` passes. Between two checks it pauses `everyMs`, or as
 * long as the check took when that was longer: many checks start a Kafka tool's JVM, which takes seconds of CPU on
 * the busy CI machine, and polling should never take more than half of it (as the host scripts' wait_until). A watch
 * for a short window (`everyMs` under a second) keeps its pace.
 */
export async function poll<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined | false>, everyMs = 2000): Promise<T> {
    const start = Date.now();
    let last: unknown;
    for (let i = 0; Date.now() - start < timeoutMs && i < 10_000; i++) {
        const t = Date.now();
        try {
            const v = await check();
            if (v) return v;
        } catch (e) {
            last = e;
        }
        await new Promise((r) => setTimeout(r, everyMs < 1000 ? everyMs : Math.max(everyMs, Date.now() - t)));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ""}`);
}
