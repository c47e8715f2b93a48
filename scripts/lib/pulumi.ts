// The real Pulumi engine for the e2e test and the benchmark: binaries from scripts/pulumi-tools.sh, a local file
// backend, the passphrase secrets provider, no plugin downloads, and a stack on this repository's program.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ConfigMap, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { RawConfig } from "../../components/config";
import { ROOT } from "./local";

let envCache: Record<string, string> | undefined;

/** Environment for the engine; also applied to this process so the Automation API finds the CLI. */
export function pulumiEnv(stateDir = path.join(ROOT, ".pulumi-state")): Record<string, string> {
    if (envCache) return envCache;
    const out = execFileSync(path.join(ROOT, "scripts", "pulumi-tools.sh"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 60 * 60_000 });
    const bin = out.trim().split("\n").pop()!;
    fs.mkdirSync(stateDir, { recursive: true });
    envCache = {
        PATH: `${bin}:${path.join(ROOT, "node_modules", ".bin")}:${process.env.PATH}`,
        PULUMI_BACKEND_URL: `file://${stateDir}`,
        PULUMI_CONFIG_PASSPHRASE: "kafka-cluster-local",
        PULUMI_SKIP_UPDATE_CHECK: "1",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
    };
    Object.assign(process.env, envCache);
    return envCache;
}

/** Turns raw `kafka:` values into Automation API config (objects as JSON strings, which index.ts parses). */
export function toConfigMap(raw: RawConfig): ConfigMap {
    const map: ConfigMap = {};
    for (const [k, v] of Object.entries(raw)) {
        if (v === undefined) continue;
        map[`kafka:${k}`] = { value: typeof v === "string" ? v : JSON.stringify(v) };
    }
    return map;
}

/** A stack of this repository's program, with exactly `raw` as its `kafka:` config. */
export async function programStack(name: string, raw: RawConfig): Promise<Stack> {
    const envVars = pulumiEnv();
    const stack = await LocalWorkspace.createOrSelectStack({ stackName: name, workDir: ROOT }, { envVars });
    await setStackConfig(stack, raw);
    return stack;
}

export async function setStackConfig(stack: Stack, raw: RawConfig): Promise<void> {
    const current = await stack.getAllConfig();
    const stale = Object.keys(current).filter((k) => k.startsWith("kafka:") && !(k.slice(6) in raw));
    if (stale.length) await stack.removeAllConfig(stale);
    await stack.setAllConfig(toConfigMap(raw));
}

/** Removes a stack and its Pulumi.<name>.yaml (after its resources are gone). */
export async function removeStack(stack: Stack): Promise<void> {
    await stack.workspace.removeStack(stack.name, { force: true });
    fs.rmSync(path.join(ROOT, `Pulumi.${stack.name}.yaml`), { force: true });
}
