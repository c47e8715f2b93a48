// Typed stack configuration for kafka-cluster, and the one place it is validated.
//
// parseConfig() takes the raw values of the `kafka:` namespace, reads each as the key table says (keys.ts,
// decode.ts), decides the mode (kafka:hosts set: existing hosts, else EC2), refuses settings of the other mode, runs
// the rules of the shared settings (kafka.ts) and of the mode (ec2.ts or hosts.ts), and throws one ConfigError naming
// every problem's key and fix. Nothing here touches Pulumi resources, so a bad stack fails before anything is
// registered; the only I/O is reading kafka:sshPrivateKeyPath (ssh-key.ts).
import { Values, decode, moveCommand } from "./decode";
import { ec2Settings } from "./ec2";
import { hostsSettings } from "./hosts";
import { kafkaSettings } from "./kafka";
import { ConfigKey, KEYS, KeySpec } from "./keys";
import { sshPrivateKey } from "./ssh-key";
import { Bad, ClusterConfig, ConfigError, RawConfig, issue } from "./types";

export * from "./types";
export { ConfigKey, KEYS, KeySpec, KeyType, configTableMarkdown } from "./keys";
export { GP3, MAX_HEAP_SHARE, checkHeaps, cidrContains, cidrsOverlap, isCidr, vpcReachWarnings } from "./ec2";
export { MANAGED_BROKER_KEYS, heapMiB } from "./kafka";

/** The namespace every setting lives in. */
export const NAMESPACE = "kafka";

/** Splits a stack's whole configuration ("namespace:key" -> value) into the `kafka:` values and everything else. */
export function splitNamespaces(all: Record<string, unknown>): { raw: RawConfig; others: Record<string, unknown> } {
    const raw: RawConfig = {};
    const others: Record<string, unknown> = {};
    for (const [full, value] of Object.entries(all)) {
        if (full.startsWith(`${NAMESPACE}:`)) raw[full.slice(NAMESPACE.length + 1)] = value;
        else others[full] = value;
    }
    return { raw, others };
}

/**
 * Validates and normalises raw `kafka:` config; `stack` names the stack (for defaults like clusterName). `others` is
 * the rest of the stack's configuration: a setting of ours under another namespace (e.g. `kafka-cluster:brokerCount`,
 * what `pulumi config set brokerCount 2` writes) would be silently ignored, so it is an error naming the right key.
 */
export function parseConfig(raw: RawConfig, stack = "dev", others: Record<string, unknown> = {}, secretKeys: string[] = []): ClusterConfig {
    const problems: string[] = [];
    const bad: Bad = (key, msg, fix) => problems.push(`${NAMESPACE}:${key}: ${msg}. Fix: ${fix}`);
    for (const full of Object.keys(others)) {
        const key = full.slice(full.indexOf(":") + 1);
        // `config: { kafka: { brokerCount: 5 } }` in a stack file is one setting named `<project>:kafka` holding a map.
        if (key === NAMESPACE) {
            const nested = nestedKeys(others[full]);
            problems.push(`${full}: settings nested under a key named "${NAMESPACE}" are not read (each setting is its own key, ` +
                `written kafka:<key> in the stack file)${nested.length ? `: ${nested.join(", ")}` : ""}. Fix: ` +
                (nested.length ? nested.map((k) => `kafka:${k}: <value>`).join(", ") + " directly under config:" : `move each to config: as kafka:<key>`) +
                `, then pulumi config rm ${full}`);
            continue;
        }
        if (!(key in KEYS)) continue; // another provider's or the program's own setting
        problems.push(`${full}: is not read: kafka-cluster takes its settings from the ${NAMESPACE}: namespace, so this value ` +
            `is ignored. Fix: ${moveCommand(full, key as ConfigKey, others[full])}` +
            (raw[key] !== undefined ? ` (${NAMESPACE}:${key} is set too: keep one, pulumi config rm ${full})` : ""));
    }
    const v = decode(raw, bad);
    // kafka:hosts set at all, even emptied (null, "", []), means existing hosts: an emptied list is an error there,
    // never a silent switch to EC2 mode.
    const mode = v.hosts !== undefined || Object.prototype.hasOwnProperty.call(raw, "hosts") ? "hosts" : "ec2";

    // A setting that means something in one mode only is refused in the other, instead of being silently ignored.
    for (const [key, spec] of Object.entries(KEYS) as [keyof typeof v, KeySpec][]) {
        if (v[key] === undefined || spec.modes === "both" || spec.modes === mode) continue;
        if (spec.modes === "ec2") {
            bad(key, "is an EC2 setting, and with kafka:hosts no instance, volume or security group is created, so it would be ignored",
                `remove it: pulumi config rm kafka:${key}`);
        } else {
            bad(key, "applies only to existing hosts (kafka:hosts); EC2 instances and their volumes are deleted with the stack",
                `remove it: pulumi config rm kafka:${key}`);
        }
    }

    const kafka = kafkaSettings(v, stack, bad);
    const key = sshPrivateKey(v, bad);
    const secretValues = secretTexts(v, kafka.brokerProperties, secretKeys);
    const cfg = mode === "hosts"
        ? { ...kafka, secretValues, mode, hosts: hostsSettings(v, kafka, key, bad) } as const
        : { ...kafka, secretValues, mode, ec2: ec2Settings(v, kafka, stack, key, bad) } as const;
    if (problems.length > 0 && Object.keys(raw).length === 0) {
        problems.push(`${NAMESPACE}: no kafka: setting is set at all, so this is an EC2 cluster of defaults. Fix: check that the stack ` +
            `file's settings are under a top-level "config:" key, written kafka:<key>, and that the stack is the one you meant ` +
            `(pulumi stack ls); for existing hosts set kafka:hosts`);
    }
    if (problems.length > 0) throw new ConfigError(problems);
    return issue(cfg);
}

/** The keys of a map given as an object or as its JSON text (what Pulumi's config holds), or []. */
function nestedKeys(value: unknown): string[] {
    let v = value;
    if (typeof v === "string") {
        try { v = JSON.parse(v); } catch { return []; }
    }
    return typeof v === "object" && v !== null && !Array.isArray(v) ? Object.keys(v) : [];
}

/**
 * The text of the settings named in `secretKeys` (kafka: keys Pulumi holds as secrets) as it appears in what the program
 * renders: broker properties as their `key=value` lines (a secret map is secret as a whole: `--secret --path` marks the
 * top-level key), anything else as its value or, for a structure, its leaves.
 */
function secretTexts(v: Values, brokerProperties: Record<string, string>, secretKeys: string[]): string[] {
    const leaves = (x: unknown): string[] =>
        typeof x === "string" || typeof x === "number" ? [String(x)]
        : typeof x === "object" && x !== null ? Object.values(x).flatMap(leaves) : [];
    const texts = secretKeys.filter((k): k is ConfigKey => k in KEYS && v[k as ConfigKey] !== undefined).flatMap((k) =>
        k === "brokerProperties" ? Object.entries(brokerProperties).map(([p, x]) => `${p}=${x}`) : leaves(v[k]));
    return [...new Set(texts.filter((t) => t.length > 0))];
}
