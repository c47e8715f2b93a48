// Reads every raw `kafka:` value once, as its key's type in the table says (keys.ts). Unknown keys and values of the
// wrong type are problems; unset values (undefined, null, "") are left out. The rule sections work on the result.
import { ConfigKey, KEYS, KeySpec, isConfigKey } from "./keys";
import { Bad, RawConfig } from "./types";

type Decoded<T extends KeySpec["type"]> =
    T extends "int" ? number : T extends "bool" ? boolean : T extends "list" ? string[] : T extends "json" ? unknown : string;

/** Every set key with its value read as its type. */
export type Values = { -readonly [K in ConfigKey]?: Decoded<(typeof KEYS)[K]["type"]> };

/** Edit distance between two keys, case-insensitive (typos like brokerCont, BrokerCount, zookeperCount). */
function distance(a: string, b: string): number {
    a = a.toLowerCase();
    b = b.toLowerCase();
    let row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const next = [i];
        for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        row = next;
    }
    return row[b.length];
}

/** The known key a mistyped one most likely meant: within a third of its length in edits, or undefined. */
export function closestKey(key: string): ConfigKey | undefined {
    let best: ConfigKey | undefined;
    let bestDistance = Math.max(1, Math.floor(key.length / 3)) + 1;
    for (const k of Object.keys(KEYS) as ConfigKey[]) {
        const d = distance(key, k);
        if (d < bestDistance) [best, bestDistance] = [k, d];
    }
    return best;
}

/** The commands that move a value set under the wrong name to kafka:<key> (the value shown only when it is plain). */
export function moveCommand(from: string, key: ConfigKey, value: unknown): string {
    const spec: KeySpec = KEYS[key];
    const plain = !spec.secret && (typeof value === "string" || typeof value === "number" || typeof value === "boolean") &&
        !String(value).includes("\n");
    return `pulumi config set ${spec.secret ? "--secret " : ""}kafka:${key} ${plain ? q(String(value)) : "<value>"} && pulumi config rm ${from}`;
}

/** Copy of `s` quoted for a shell command line in `pulumi config set`. */
export function q(s: string): string {
    return /^[A-Za-z0-9._\/:-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function decode(raw: RawConfig, bad: Bad): Values {
    const values: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(raw)) {
        if (!isConfigKey(key)) {
            const near = closestKey(key);
            bad(key, near ? `unknown setting; did you mean kafka:${near}?` : "unknown setting",
                near ? `${moveCommand(`kafka:${key}`, near, v)}` : `remove it (pulumi config rm kafka:${key}); known settings are listed in README.md`);
            continue;
        }
        if (v === undefined || v === null || v === "") continue;
        const spec: KeySpec = KEYS[key];
        const read = readers[spec.type](v, spec, key);
        if (read.ok) values[key] = read.value;
        else bad(key, read.problem, read.fix ?? `pulumi config set kafka:${key} ${q(spec.example)}`);
    }
    return values as Values;
}

type Read = { ok: true; value: unknown } | { ok: false; problem: string; fix?: string };

const readers: Record<KeySpec["type"], (v: unknown, spec: KeySpec, key: string) => Read> = {
    string: (v) => typeof v === "number" ? { ok: true, value: String(v) }
        : typeof v === "string" ? { ok: true, value: v.trim() }
        : { ok: false, problem: `must be a string (got ${JSON.stringify(v)})` },
    text: (v) => typeof v === "string" ? { ok: true, value: v.trim() } : { ok: false, problem: `must be text (got ${JSON.stringify(v)})` },
    int: (v, { min = -Infinity, max = Infinity }) => {
        const n = typeof v === "number" ? v : typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
        return Number.isInteger(n) && n >= min && n <= max ? { ok: true, value: n }
            : { ok: false, problem: `must be a whole number from ${min} to ${max} (got ${JSON.stringify(v)})` };
    },
    bool: (v) => v === true || v === "true" ? { ok: true, value: true }
        : v === false || v === "false" ? { ok: true, value: false }
        : { ok: false, problem: `must be true or false (got ${JSON.stringify(v)})` },
    list: (v, _spec, key) => {
        let list = v;
        if (typeof v === "string") {
            try {
                list = v.trim().startsWith("[") ? JSON.parse(v) : v.split(",").map((s) => s.trim()).filter(Boolean);
            } catch {
                /* reported below */
            }
        }
        return Array.isArray(list) && list.every((x) => typeof x === "string") ? { ok: true, value: list.map((s: string) => s.trim()) }
            : { ok: false, problem: `must be a list of strings (got ${JSON.stringify(v)})`, fix: `pulumi config set --path 'kafka:${key}[0]' <value>` };
    },
    json: (v) => {
        if (typeof v !== "string") return { ok: true, value: v };
        try {
            return { ok: true, value: JSON.parse(v) };
        } catch {
            // Left as text: the rule for the key says what shape it wants.
            return { ok: true, value: v };
        }
    },
};
