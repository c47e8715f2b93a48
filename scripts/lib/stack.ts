// Reads the `kafka:` values of a committed Pulumi.<stack>.yaml as parseConfig's raw input.
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { RawConfig, splitNamespaces } from "../../components/config";

export function stackConfig(stack: string, extra: RawConfig = {}): RawConfig {
    return { ...stackConfigAll(stack).raw, ...extra };
}

/** The committed stack file's `kafka:` values and, apart, its other namespaces' (see parseConfig). */
export function stackConfigAll(stack: string): { raw: RawConfig; others: Record<string, unknown> } {
    const dir = path.join(__dirname, "..", "..");
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) {
        const stacks = fs.readdirSync(dir).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => s !== undefined).sort();
        throw new StackFileError(`Pulumi.${stack}.yaml: no such stack file; the stacks here are ${stacks.join(", ")}`);
    }
    const doc = yaml.load(fs.readFileSync(file, "utf8")) as unknown;
    if (doc === undefined || doc === null) return splitNamespaces({});
    if (typeof doc !== "object" || Array.isArray(doc)) throw new StackFileError(`Pulumi.${stack}.yaml: not a stack file (a map with a config: key)`);
    const top = Object.keys(doc as object).filter((k) => !["config", "encryptionsalt", "secretsprovider", "encryptedkey", "environment"].includes(k));
    if (top.length > 0) {
        throw new StackFileError(`Pulumi.${stack}.yaml: top-level key(s) ${top.join(", ")} are not read by Pulumi` +
            `${top.some((k) => /^conf/i.test(k)) ? ' (the settings go under "config:")' : ""}. Fix: move the settings under config:`);
    }
    const config = (doc as { config?: unknown }).config;
    if (config !== undefined && config !== null && (typeof config !== "object" || Array.isArray(config))) {
        throw new StackFileError(`Pulumi.${stack}.yaml: config: must be a map of settings (kafka:<key>: <value>)`);
    }
    return splitNamespaces((config ?? {}) as Record<string, unknown>);
}

/** A stack file that cannot be read as one: missing, not a map, settings outside config:. */
export class StackFileError extends Error {}
