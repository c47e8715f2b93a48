// The real Pulumi engine for the tests and the benchmark: whatever scripts/engine.sh provides (an installed pulumi, or
// the CLI and language host built from the Go module proxy with the stand-in command provider), a local file
// backend, the passphrase secrets provider, no plugin downloads, and a stack on this repository's program.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigMap, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { RawConfig } from "../../components/config";
import { ROOT, log } from "./local";

let envCache: Record<string, string> | undefined;

/** Environment for the engine (scripts/engine.sh's KEY=VALUE lines); also applied to this process so the Automation API finds the CLI. */
export function pulumiEnv(): Record<string, string> {
    if (envCache) return envCache;
    const out = execFileSync(path.join(ROOT, "scripts", "engine.sh"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 60 * 60_000 });
    envCache = {};
    for (const line of out.split("\n")) {
        const eq = line.indexOf("=");
        if (eq > 0) envCache[line.slice(0, eq)] = line.slice(eq + 1);
    }
    Object.assign(process.env, envCache);
    return envCache;
}

/** The local file backend's directory. */
const backendDir = () => pulumiEnv().PULUMI_BACKEND_URL.replace(/^file:\/\//, "");
/** Where the file backend under `dir` keeps this project's checkpoints. */
const stacksDir = (dir: string) => path.join(dir, ".pulumi", "stacks", "kafka-cluster");

/** The stack's checkpoint file in the local file backend. */
export function checkpointFile(stack: Stack): string {
    return path.join(stacksDir(backendDir()), `${stack.name}.json`);
}

/** Settings that are secrets (README: `pulumi config set --secret`); the tests set them the same way. */
const SECRET_KEYS = new Set(["sshPrivateKey"]);

/** Turns raw `kafka:` values into Automation API config (objects as JSON strings, which index.ts parses). */
export function toConfigMap(raw: RawConfig): ConfigMap {
    const map: ConfigMap = {};
    for (const [k, v] of Object.entries(raw)) {
        if (v === undefined) continue;
        map[`kafka:${k}`] = { value: typeof v === "string" ? v : JSON.stringify(v), ...(SECRET_KEYS.has(k) ? { secret: true } : {}) };
    }
    return map;
}

/**
 * Removes the file backend's locks on stack `name` whose process, on this machine, is gone: a run killed during an
 * update leaves one, and every later update of the stack then fails with "the stack is currently locked". Once no
 * live process holds the stack, also removes what a kill in the middle of a checkpoint write leaves: the backend
 * writes the new checkpoint to a temporary file, then truncates and rewrites the checkpoint's attribute sidecar
 * (`<stack>.json.attrs`), then renames; killed in between, the sidecar is empty and every later command fails with
 * "failed to load checkpoint: EOF" (seen in CI). A missing sidecar is read as no attributes, so the empty one goes,
 * with the dead run's temporary file; the checkpoint itself is the last complete one.
 */
export function clearDeadLocks(name: string, backend = backendDir()): void {
    const dir = path.join(backend, ".pulumi", "locks", "organization", "kafka-cluster", name);
    let held = false;
    for (const f of fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".json")) : []) {
        let lock: { pid?: number; hostname?: string };
        try {
            lock = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
        } catch {
            held = true;
            continue;
        }
        if (lock.hostname !== os.hostname() || typeof lock.pid !== "number" || alive(lock.pid)) {
            held = true;
            continue;
        }
        for (const g of [f, `${f}.attrs`]) fs.rmSync(path.join(dir, g), { force: true });
        log(`removed the lock on stack ${name} left by process ${lock.pid}, which no longer runs`);
    }
    if (held) return;
    const stacks = stacksDir(backend);
    const sidecar = path.join(stacks, `${name}.json.attrs`);
    if (fs.existsSync(sidecar) && fs.statSync(sidecar).size === 0) {
        fs.rmSync(sidecar);
        for (const t of fs.readdirSync(stacks).filter((f) => f.startsWith(`${name}.json.`) && f.endsWith(".tmp"))) fs.rmSync(path.join(stacks, t));
        log(`removed the empty checkpoint attributes of stack ${name} that a killed run left (its checkpoint is the last complete one)`);
    }
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        return (e as NodeJS.ErrnoException).code === "EPERM";
    }
}

/** A stack of this repository's program, with exactly `raw` as its `kafka:` config (a dead run's lock on it removed). */
export async function programStack(name: string, raw: RawConfig): Promise<Stack> {
    const envVars = pulumiEnv();
    clearDeadLocks(name);
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
