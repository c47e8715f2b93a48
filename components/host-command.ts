// How a host script travels. The plan describes each step as one command line, `sudo -n env K=V ... bash -c
// '<lib.sh + script>'` (what the tests read and run); over SSH it goes as `remoteInvocation`: a short command that
// names the step, with the environment and the script on its standard input. The scripts' parameters go in the
// environment (each script lists them in its `# Env:` header). A credential (a key in a manifest file, a password)
// goes only into the steps the plan marks `secrets`, whose standard input is then a Pulumi secret; the `sudo -n env`
// line itself never reaches a host's process list, only the short command does.
import * as fs from "fs";
import * as path from "path";

export const HOST_SCRIPTS_DIR = path.join(__dirname, "..", "scripts", "host");

const scriptCache = new Map<string, string>();

/** The text of scripts/host/<name>. */
export function hostScript(name: string): string {
    let text = scriptCache.get(name);
    if (text === undefined) {
        text = fs.readFileSync(path.join(HOST_SCRIPTS_DIR, name), "utf8");
        scriptCache.set(name, text);
    }
    return text;
}

export function shellQuote(s: string): string {
    return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The command line for one host script with its environment. */
export function hostCommand(script: string, env: Record<string, string>): string {
    const vars = Object.entries({ KC_STEP: script.replace(/\.sh$/, ""), ...env })
        .map(([k, v]) => `${k}=${shellQuote(v)}`).join(" ");
    return `sudo -n env ${vars} bash -c ${shellQuote(hostScript("lib.sh") + "\n" + hostScript(script))}`;
}

/**
 * What remote.Command runs for a step's command line: `sudo -n bash -c 'eval "$(cat)"' <step>`, with the
 * environment (as exports, KC_STEP set to the step's name) and the script on standard input. The provider quotes the
 * command in its error message, so a failure reads "running "sudo -n bash -c ... <step>"" followed by the step's own
 * report, not tens of kilobytes of script; and no parameter shows in any process's command line on the host.
 * `$(cat)` reads all of stdin before the script starts, so a program in the script that reads stdin sees its end,
 * never the script.
 */
export function remoteInvocation(line: string, step: string): { command: string; stdin: string } {
    const { env, script } = parseHostCommand(line);
    const exports = Object.entries({ ...env, KC_STEP: step }).map(([k, v]) => `export ${k}=${shellQuote(v)}\n`).join("");
    return { command: stepCommand(step), stdin: exports + script + "\n" };
}

/** What a remoteInvocation's stdin carries: its environment (the exports) and the script after them. */
export function parseStepInput(stdin: string): { env: Record<string, string>; script: string } {
    const env: Record<string, string> = {};
    const exportLine = /^export ([A-Z_][A-Z0-9_]*)='((?:[^']|'\\'')*)'\n/s;
    let rest = stdin;
    for (let m = exportLine.exec(rest); m; m = exportLine.exec(rest)) {
        env[m[1]] = m[2].replace(/'\\''/g, "'");
        rest = rest.slice(m[0].length);
    }
    return { env, script: rest };
}

/** The command part of remoteInvocation: fixed per step, so it is known before any address is. */
export function stepCommand(step: string): string {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(step)) throw new Error(`step name ${JSON.stringify(step)} must be lower-case letters, digits and dashes`);
    return `sudo -n bash -c 'eval "$(cat)"' ${step}`;
}

/** What a hostCommand line carries: its environment and the script text `bash -c` runs. */
export function parseHostCommand(line: string): { env: Record<string, string>; script: string } {
    const quoted = "'((?:[^']|'\\\\'')*)'";
    const m = new RegExp(`^sudo -n env ((?:[A-Z_][A-Z0-9_]*=${quoted} )*)bash -c ${quoted}$`, "s").exec(line);
    if (!m) throw new Error(`not a host command line: ${line.slice(0, 80)}...`);
    const unquote = (q: string) => q.replace(/'\\''/g, "'");
    const env: Record<string, string> = {};
    for (const v of m[1].matchAll(new RegExp(`([A-Z_][A-Z0-9_]*)=${quoted} `, "gs"))) env[v[1]] = unquote(v[2]);
    return { env, script: unquote(m[m.length - 1]) };
}

export const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

/** A file a configure step writes: path, mode, owner, content. */
export type ManagedFile = [path: string, mode: string, owner: string, content: string];

/** The files for configure-service.sh's MANIFEST_B64: one line per file, "path mode owner base64", all base64. */
export function manifest(files: ManagedFile[]): string {
    return b64(files.map(([p, mode, owner, content]) => `${p} ${mode} ${owner} ${b64(content)}`).join("\n") + "\n");
}

/**
 * Everything a command line carries, readable: the line itself, then each `*_B64` value of a host command decoded and,
 * for MANIFEST_B64, each file's content. What must not be in a resource input in plain text must not be in here either.
 */
export function revealed(line: string): string {
    let env: Record<string, string> = {};
    try {
        env = parseHostCommand(line).env;
    } catch {
        // Not a command line: an environment given as `export K='v'` lines (a script's standard input) is read too.
        for (const m of line.matchAll(/^export ([A-Z_][A-Z0-9_]*)='((?:[^']|'\\'')*)'$/gm)) env[m[1]] = m[2].replace(/'\\''/g, "'");
    }
    const parts = [line];
    for (const [k, v] of Object.entries(env)) {
        if (!k.endsWith("_B64")) continue;
        const text = Buffer.from(v, "base64").toString("utf8");
        parts.push(text);
        if (k === "MANIFEST_B64") {
            for (const l of text.split("\n")) if (l.split(" ").length === 4) parts.push(Buffer.from(l.split(" ")[3], "base64").toString("utf8"));
        }
    }
    return parts.join("\n");
}

/** Whether a command line carries any of `secrets` in plain or base64 text (see revealed). */
export function carriesSecret(line: string, secrets: readonly string[]): boolean {
    if (secrets.length === 0) return false;
    const text = revealed(line);
    return secrets.some((s) => text.includes(s));
}
