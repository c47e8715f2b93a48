// Waiting for a condition in the real-host and e2e tests.

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
