// Reads the `kafka:` values of a committed Pulumi.<stack>.yaml as parseConfig's raw input.
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { RawConfig } from "../../components/config";

export function stackConfig(stack: string, extra: RawConfig = {}): RawConfig {
    const file = path.join(__dirname, "..", "..", `Pulumi.${stack}.yaml`);
    const doc = yaml.load(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
    const raw: RawConfig = {};
    for (const [k, v] of Object.entries(doc.config)) if (k.startsWith("kafka:")) raw[k.slice(6)] = v;
    return { ...raw, ...extra };
}
