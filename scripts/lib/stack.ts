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
    const file = path.join(__dirname, "..", "..", `Pulumi.${stack}.yaml`);
    const doc = yaml.load(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
    return splitNamespaces(doc.config ?? {});
}
