// The monitoring host's web servers as a user reaches them: HTTPS with the stack's CA and the basic-auth login of the
// stack output `monitoring`, or deliberately without one of them (the refusal tests). Bounded; never follows redirects.
import * as http from "http";
import * as https from "https";

export interface WebAnswer { status: number; body: string }

/** GET `url` (https with `ca`, or plain http when the URL says so), with `auth` "user:password" when given. */
export function webGet(url: string, opts: { ca?: string; auth?: string; timeoutMs?: number } = {}): Promise<WebAnswer> {
    const u = new URL(url);
    const lib = u.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
        const req = lib.get({
            host: u.hostname, port: Number(u.port), path: u.pathname + u.search, timeout: opts.timeoutMs ?? 15_000,
            ...(opts.auth ? { auth: opts.auth } : {}), ...(u.protocol === "https:" ? { ca: opts.ca, servername: undefined } : {}),
        }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (c: string) => (body += c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
        req.on("error", reject);
    });
}

/** A Prometheus or Alertmanager API answer's JSON, failing on anything but 200. */
export async function webJson<T = any>(url: string, ca: string, auth: string): Promise<T> {
    const r = await webGet(url, { ca, auth });
    if (r.status !== 200) throw new Error(`GET ${url}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
    return JSON.parse(r.body) as T;
}
