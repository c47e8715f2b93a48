// Reads a Prometheus exporter the way Prometheus does: an HTTP GET of /metrics, the text exposition format parsed into
// samples. Shared by the real-host tests of kafka:monitoring.
import * as http from "http";

export interface Sample { name: string; labels: Record<string, string>; value: number }

/** Parses Prometheus' text format (comments skipped; label values unescaped). */
export function parseExposition(text: string): Sample[] {
    const samples: Sample[] = [];
    for (const line of text.split("\n")) {
        if (!line || line.startsWith("#")) continue;
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
        if (!m) throw new Error(`not an exposition line: ${line}`);
        const labels: Record<string, string> = {};
        for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
        samples.push({ name: m[1], labels, value: Number(m[3]) });
    }
    return samples;
}

/** GET http://address:port/metrics (bounded by `timeoutMs`), parsed. */
export function scrape(address: string, port: number, timeoutMs = 15_000): Promise<Sample[]> {
    return new Promise((resolve, reject) => {
        const req = http.get({ host: address, port, path: "/metrics", timeout: timeoutMs }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (c: string) => (body += c));
            res.on("end", () => {
                if (res.statusCode !== 200) reject(new Error(`${address}:${port}/metrics answered ${res.statusCode}`));
                else {
                    try { resolve(parseExposition(body)); } catch (e) { reject(e); }
                }
            });
        });
        req.on("timeout", () => req.destroy(new Error(`${address}:${port}/metrics: no answer within ${timeoutMs} ms`)));
        req.on("error", reject);
    });
}

/** The values of metric `name` (optionally only samples whose labels include `labels`). */
export function values(samples: Sample[], name: string, labels: Record<string, string> = {}): number[] {
    return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).map((s) => s.value);
}
