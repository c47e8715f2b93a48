/**
 * TEST EQUIPMENT: a stand-in for the `command` resource provider plugin v1.2.1 (github.com/pulumi/pulumi-command),
 * whose binary cannot be obtained on this project's build machines. It runs on the Node.js provider SDK
 * (`main` from "@pulumi/pulumi/provider") and is installed under a private PULUMI_HOME only (build.sh).
 * Nothing here is copied from the real provider; comments cite the file of pulumi-command (or of
 * pulumi-go-provider / pulumi, which it builds on) whose behaviour each part reproduces.
 *
 * Implemented, for `command:local:Command` and `command:remote:Command`:
 * - check: the schema defaults (connection port 22, user root, dialErrorLimit 10, perDialTimeout 15) and `connection`
 *   always secret. addPreviousOutputInEnv has no schema default in 1.2.1: an unset value is stored as unset (and means
 *   true when a command runs), as the real provider does. Like the real provider, `logging` and `interpreter` get
 *   no value in check: an absent value means "log stdout and stderr" and ["/bin/sh", "-c"] when run. The same
 *   defaults for `connection.proxy` (ProxyConnection: port 22, user root, dialErrorLimit 10, perDialTimeout 15).
 * - diff: old state vs new inputs over input properties only; `triggers` (the one replaceOnChanges property in
 *   the v1.x schema; `connection` is not) replaces, any other change updates; an unknown value is a change.
 * - create/update/delete/read with the real provider's command choice, outputs, environment, stdin, logging,
 *   trimming and error texts; secrets stay wrapped as the engine sent them (the SDK passes raw protobuf
 *   structs: secrets as {SIG: SECRET, value}, unknowns as a sentinel string); no partial state on failure.
 * - remote: the machine's OpenSSH client instead of Go's x/crypto/ssh (see runRemote for how), directly or
 *   through `connection.proxy` (a bastion; see runRemote).
 * - the `command:local:run` invoke (local/run.go): the command runs at every preview and update, as local.Command's
 *   create would (interpreter, environment, stdin, dir); the result is the arguments with stdout and stderr; a failure
 *   is the invoke's error, with the same text as a Command's.
 * Not implemented (an error says so): assetPaths/archivePaths (assets, archives), CopyToRemote/CopyFile and
 * remote invokes, password/privateKeyPassword auth, ssh agent, hostKey checking (for the host and the proxy).
 * No schema: `pulumi up/preview/destroy` with the published @pulumi/command SDK never asks for one (GetSchema
 * answers the SDK server's "{}"). No preview-time Create/Update either: the Node SDK server does not announce
 * supportsPreview, so the engine does not call them during previews.
 */
import { ChildProcess, spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { StringDecoder } from "string_decoder";
import * as provider from "@pulumi/pulumi/provider";

export const VERSION = "1.2.1";
const SIG = "4dabf18193072939515e22adb298388d"; // @pulumi/pulumi runtime/rpc.ts specialSigKey
const SECRET = "1b47061264138c4ac30d75fd1eb44270"; // specialSecretSig
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"; // unknownValue
const LOCAL = "command:local:Command", REMOTE = "command:remote:Command";
const OUTPUT_ONLY = new Set(["stdout", "stderr", "assets", "archive"]);
// provider/pkg/provider/util/util.go
const STDOUT_VAR = "PULUMI_COMMAND_STDOUT", STDERR_VAR = "PULUMI_COMMAND_STDERR";

export type Severity = "debug" | "info" | "warning" | "error";
/** Where log messages go: the engine's Log RPC when served, a test's collector otherwise. */
export type LogSink = (severity: Severity, message: string, urn: string, ephemeral: boolean) => void | Promise<void>;
type Log = (severity: Severity, message: string, ephemeral?: boolean) => void;
type Props = Record<string, any>;
interface Outputs { stdout: string; stderr: string }

export const isSecret = (v: any): boolean => v !== null && typeof v === "object" && v[SIG] === SECRET;
export const secret = (v: any): any => (isSecret(v) ? v : { [SIG]: SECRET, value: v });
/** Deeply removes secret wrappers (other special values, e.g. assets in triggers, are kept as they are). */
export function reveal(v: any): any {
    if (isSecret(v)) return reveal(v.value);
    if (Array.isArray(v)) return v.map(reveal);
    if (v !== null && typeof v === "object" && !(SIG in v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reveal(x)]));
    return v;
}
const hasUnknown = (v: any): boolean => v === UNKNOWN || (v !== null && typeof v === "object" && Object.values(v).some(hasUnknown));
const stable = (v: any): string => JSON.stringify(v ?? null, (_k, x) => x !== null && typeof x === "object" && !Array.isArray(x)
    ? Object.fromEntries(Object.keys(x).sort().filter((k) => x[k] !== undefined).map((k) => [k, x[k]])) : x);
const str = (v: any): string | undefined => { const x = reveal(v); return typeof x === "string" ? x : undefined; };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Go's %q, which the real provider uses for the command in its error message (close enough for tests). */
const goQuote = (s: string) => JSON.stringify(s).replace(/\\u00([0-7][0-9a-f])/g, "\\x$1").replace(/\x7f/g, "\\x7f");
// Go's strings.TrimSuffix(s, "\n"): at most one newline (local/commandOutputs.go, remote/commandOutputs.go).
const trim1 = (s: string) => (s.endsWith("\n") ? s.slice(0, -1) : s);
const typeOf = (urn: string) => (urn.split("::")[2] ?? "").split("$").pop()!;

/** Live children and temp dirs, so that cancel and process exit never leave a process or a key file behind. */
const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
process.on("exit", () => {
    for (const c of children) c.kill("SIGKILL");
    for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

interface Captured extends Outputs { combined: string; code: number | null; signal: NodeJS.Signals | null; error?: Error }

/**
 * Collects a child's output like the real run(): stdout, stderr and both in arrival order (for the error
 * message); the streams chosen by `logging` go, line by line and merged, to the engine as ephemeral info
 * status messages (util.LogOutput uses InfoStatus; logging.go: nil logs both streams).
 */
function capture(child: ChildProcess, logging: string | undefined, log: Log): Promise<Captured> {
    children.add(child);
    const out: Buffer[] = [], err: Buffer[] = [], both: Buffer[] = [];
    const logOut = logging === undefined || logging === "stdout" || logging === "stdoutAndStderr";
    const logErr = logging === undefined || logging === "stderr" || logging === "stdoutAndStderr";
    const decoder = new StringDecoder("utf8");
    let pending = "";
    const lines = (text: string) => {
        pending += text;
        for (let i = pending.indexOf("\n"); i >= 0; i = pending.indexOf("\n")) {
            log("info", pending.slice(0, i).replace(/\r$/, ""), true);
            pending = pending.slice(i + 1);
        }
    };
    child.stdout!.on("data", (c: Buffer) => { out.push(c); both.push(c); if (logOut) lines(decoder.write(c)); });
    child.stderr!.on("data", (c: Buffer) => { err.push(c); both.push(c); if (logErr) lines(decoder.write(c)); });
    return new Promise((resolve) => {
        let error: Error | undefined;
        child.on("error", (e) => { error = e; });
        child.on("close", (code, signal) => {
            children.delete(child);
            lines(decoder.end());
            if (pending !== "") log("info", pending.replace(/\r$/, ""), true);
            const text = (b: Buffer[]) => Buffer.concat(b).toString("utf8");
            resolve({ stdout: text(out), stderr: text(err), combined: text(both), code, signal, error });
        });
    });
}

/** Variables from the previous outputs (addPreviousOutputInEnv, default true; only non-empty values). */
function previousEnv(inputs: Props, prev: Outputs): [string, string][] {
    if (reveal(inputs.addPreviousOutputInEnv) === false) return [];
    return ([[STDOUT_VAR, prev.stdout], [STDERR_VAR, prev.stderr]] as [string, string][]).filter(([, v]) => v !== "");
}

const SIGNALS: Record<string, string> = { SIGKILL: "killed", SIGTERM: "terminated", SIGINT: "interrupt", SIGHUP: "hangup", SIGPIPE: "broken pipe" };

/** local/commandOutputs.go run(): interpreter + command, provider's env + environment + previous outputs. */
async function runLocal(inputs: Props, cmd: string, prev: Outputs, log: Log): Promise<Outputs> {
    if (inputs.assetPaths != null || inputs.archivePaths != null) {
        throw new Error("assetPaths/archivePaths are not supported by the command provider stand-in");
    }
    const interpreter: string[] = (reveal(inputs.interpreter) ?? []).length ? reveal(inputs.interpreter) : ["/bin/sh", "-c"];
    const stdin = str(inputs.stdin) ?? "";
    const env = { ...process.env, ...reveal(inputs.environment ?? {}), ...Object.fromEntries(previousEnv(inputs, prev)) };
    const cwd = str(inputs.dir) ?? process.cwd();
    if (!fs.existsSync(cwd)) throw new Error(`chdir ${cwd}: no such file or directory: running ${goQuote(cmd)}:\n`);
    const child = spawn(interpreter[0], [...interpreter.slice(1), cmd], { cwd, env, stdio: [stdin ? "pipe" : "ignore", "pipe", "pipe"] });
    if (stdin) { child.stdin!.on("error", () => undefined); child.stdin!.end(stdin); }
    const r = await capture(child, str(inputs.logging), log);
    // Go's exec errors: "exit status N", "signal: killed", or the start error.
    const status = r.error ? r.error.message : r.signal ? `signal: ${SIGNALS[r.signal] ?? r.signal}` : r.code !== 0 ? `exit status ${r.code}` : "";
    if (status) throw new Error(`${status}: running ${goQuote(cmd)}:\n${r.combined}`);
    return { stdout: trim1(r.stdout), stderr: trim1(r.stderr) };
}

const UNSUPPORTED = ["password", "privateKeyPassword", "agentSocketPath", "hostKey"];
/** ssh.ParsePrivateKey's error when there is no PEM block. */
const hasPemKey = (k: string) => /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(k);
/** OpenSSH options every ssh here runs with: no config, agent, prompts or host key checks (InsecureIgnoreHostKey). */
const SSH_OPTIONS = ["-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
    "-o", "GlobalKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "IdentitiesOnly=yes",
    "-o", "IdentityAgent=none", "-o", "PasswordAuthentication=no", "-o", "KbdInteractiveAuthentication=no"];
/** "host:port" as net.JoinHostPort writes it. */
const joinHostPort = (host: string, port: number) => (host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** remote/commandOutputs.go logAndWrapSetenvErr: the text the real provider logs when Setenv is refused. */
export const setenvMessage = (key: string) => `Unable to set '${key}'. This only works if your SSH server is configured to accept
\tthese variables via AcceptEnv. Alternatively, if a Bash-like shell runs the command on the remote host, you could
\tprefix the command itself with the variables in the form 'VAR=value command'`;

/**
 * remote/commandOutputs.go run() with OpenSSH in place of x/crypto/ssh:
 * 1. Dial (remote/connection.go Dial/dialWithRetry): a ControlMaster connection (`ssh -M -N`). It is up when
 *    its control socket appears, which OpenSSH creates only after authentication, so refused/unreachable
 *    hosts and rejected keys are dial errors, as with ssh.Dial. Up to dialErrorLimit+1 attempts (-1: no
 *    limit), each killed after perDialTimeout seconds (0: none), 100 ms backoff growing 1.5x to 5 s
 *    (pulumi sdk retry.Until defaults), "Dial n/limit failed: retrying" status messages.
 * 2. Environment (session.Setenv): OpenSSH sends "env" requests without asking for a reply, so acceptance is
 *    probed first: a session over the master, with SendEnv for the names and a random token as every value,
 *    runs `env`; a name counts as accepted when `NAME=token` comes back. A refused `environment` entry is
 *    an error (logged, command not run); a refused PULUMI_COMMAND_* only a warning. No variable, no probe.
 * 3. The command is the remote command of a session over the master (the remote login shell runs it, as
 *    session.Run does); stdin is piped; its exit status is the command's.
 * The key goes to a 0600 file in a 0700 temp dir that is always removed; configs and agents are ignored
 * (-F /dev/null, IdentityAgent=none) and host keys are not checked, as with InsecureIgnoreHostKey.
 *
 * With `connection.proxy` (remote/connection.go Dial, the proxy branch):
 * 1. the proxy's key is parsed first (its error prefixed "proxy: "), then the proxy is dialled: a ControlMaster
 *    connection to it (its own key file, user, port), retried as above with the proxy's dialErrorLimit and
 *    perDialTimeout, "Dial proxy n/limit failed: retrying"; the error "proxy: after n failed attempts: ...";
 * 2. the host is dialled through it: the host's master connects with a ProxyCommand that is a stdio forward
 *    (`ssh -W`, a direct-tcpip channel) over the proxy's master connection, so every dial of the host goes through
 *    the one proxy connection, as proxyClient.Dial does. Retried with the host's dialErrorLimit: a refused channel
 *    (the proxy cannot reach host:port) as "Dial from proxy n/limit failed: retrying", a failed SSH handshake or
 *    login over it as "Dial n/limit failed: retrying"; errors are prefixed "proxy: ". Differences: the real provider
 *    retries a failed handshake on the same (closed) channel, so its last error is less telling than the one here,
 *    and bounds only the TCP connect by perDialTimeout, where here each dial through the proxy is bounded too.
 * No key is ever on a command line: the ProxyCommand names only the proxy master's control socket.
 */
async function runRemote(inputs: Props, cmd: string, prev: Outputs, log: Log): Promise<Outputs> {
    const c = reveal(inputs.connection) ?? {};
    for (const k of UNSUPPORTED) if (c[k] != null) throw new Error(`connection.${k} is not supported by the command provider stand-in`);
    if (typeof c.privateKey !== "string") throw new Error("the command provider stand-in needs connection.privateKey");
    if (!hasPemKey(c.privateKey)) throw new Error("ssh: no key found");
    const proxy = c.proxy ?? undefined;
    if (proxy !== undefined) {
        for (const k of UNSUPPORTED) if (proxy[k] != null) throw new Error(`connection.proxy.${k} is not supported by the command provider stand-in`);
        if (typeof proxy.privateKey !== "string") throw new Error("the command provider stand-in needs connection.proxy.privateKey");
        if (!hasPemKey(proxy.privateKey)) throw new Error("proxy: ssh: no key found");
    }
    const host = String(c.host), port = Number(c.port ?? 22);
    const endpoint = joinHostPort(host, port);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cmd-standin-${process.pid}-`));
    tempDirs.add(dir);
    const key = path.join(dir, "key"), ctl = path.join(dir, "ctl");
    const keyFile = (file: string, text: string) => fs.writeFileSync(file, text.endsWith("\n") ? text : `${text}\n`, { mode: 0o600 });
    let proxyMaster: ChildProcess | undefined;
    try {
        keyFile(key, c.privateKey);
        const perDial = Number(c.perDialTimeout ?? 15);
        const limit = Number(c.dialErrorLimit ?? 10);
        let through: string[] = [];
        if (proxy !== undefined) {
            const proxyKey = path.join(dir, "proxy-key"), proxyCtl = path.join(dir, "proxy-ctl");
            keyFile(proxyKey, proxy.privateKey);
            const proxyPerDial = Number(proxy.perDialTimeout ?? 15), proxyPort = Number(proxy.port ?? 22);
            const proxyBase = [...SSH_OPTIONS, "-i", proxyKey, "-l", String(proxy.user ?? "root"), "-p", String(proxyPort), "-S", proxyCtl,
                ...(proxyPerDial > 0 ? ["-o", `ConnectTimeout=${proxyPerDial}`] : [])];
            try {
                proxyMaster = await dial(proxyBase, String(proxy.host), proxyCtl, joinHostPort(String(proxy.host), proxyPort),
                    Number(proxy.dialErrorLimit ?? 10), proxyPerDial, log, () => "Dial proxy");
            } catch (e) {
                throw new Error(`proxy: ${(e as Error).message}`);
            }
            // A stdio forward over the proxy's master (a mux client: no key, no new connection to the proxy).
            const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
            through = ["-o", `ProxyCommand=ssh -F /dev/null -S ${q(proxyCtl)} -o ControlMaster=no -o LogLevel=ERROR -W [%h]:%p proxy`];
        }
        const base = [...SSH_OPTIONS, "-i", key, "-l", String(c.user ?? "root"), "-p", String(port), "-S", ctl, ...through,
            ...(perDial > 0 ? ["-o", `ConnectTimeout=${perDial}`] : [])];
        const session = (names: string[], command: string, env: Record<string, string>, stdin: string) => {
            const child = spawn("ssh", [...base, "-o", "ControlMaster=no", "-T", ...names.flatMap((n) => ["-o", `SendEnv=${n}`]),
                host, "--", command], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...env } });
            child.stdin!.on("error", () => undefined);
            child.stdin!.end(stdin);
            return child;
        };
        let master: ChildProcess;
        try {
            master = await dial(base, host, ctl, endpoint, limit, perDial, log,
                (error) => (proxy !== undefined && FORWARD_REFUSED.test(error) ? "Dial from proxy" : "Dial"));
        } catch (e) {
            throw proxy !== undefined ? new Error(`proxy: ${(e as Error).message}`) : e;
        }
        try {
            const wanted: [string, string, boolean][] = [
                ...Object.entries(reveal(inputs.environment ?? {}) as Record<string, string>).sort().map(([k, v]): [string, string, boolean] => [k, String(v), true]),
                ...previousEnv(inputs, prev).map(([k, v]): [string, string, boolean] => [k, v, false]),
            ];
            const env: Record<string, string> = {};
            if (wanted.length > 0) {
                const names = wanted.map(([k]) => k).filter((k) => ENV_NAME.test(k));
                const token = crypto.randomBytes(12).toString("hex");
                const probe = await capture(session(names, "env", Object.fromEntries(names.map((n) => [n, token])), ""), "none", log);
                const seen = new Set(probe.stdout.split("\n").map((l) => l.replace(/\r$/, "")));
                for (const [k, v, fatal] of wanted) {
                    if (ENV_NAME.test(k) && seen.has(`${k}=${token}`)) { env[k] = v; continue; }
                    log(fatal ? "error" : "warning", setenvMessage(k));
                    if (fatal) throw new Error(`could not set environment variable ${goQuote(k)}: ssh: setenv failed`);
                }
            }
            const r = await capture(session(Object.keys(env), cmd, env, str(inputs.stdin) ?? ""), str(inputs.logging), log);
            // x/crypto/ssh ExitError text; OpenSSH reports a lost connection as 255 as well.
            if (r.code !== 0) throw new Error(`Process exited with status ${r.code ?? 255}: running ${goQuote(cmd)}:\n${r.combined}`);
            return { stdout: trim1(r.stdout), stderr: trim1(r.stderr) };
        } finally {
            await stopChild(master);
        }
    } finally {
        if (proxyMaster !== undefined) await stopChild(proxyMaster);
        fs.rmSync(dir, { recursive: true, force: true });
        tempDirs.delete(dir);
    }
}

/**
 * Stops a master connection: SIGTERM, and SIGKILL when it has not exited 3 s later (one was seen, rarely, to live on
 * after SIGTERM); then waits (at most 2 s more) until it is gone.
 */
async function stopChild(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const closed = new Promise((res) => child.once("close", res));
    child.kill("SIGTERM");
    if (await Promise.race([closed.then(() => true), sleep(3_000).then(() => false)])) return;
    child.kill("SIGKILL");
    await Promise.race([closed, sleep(2_000)]);
}

/** What a stdio forward (`ssh -W`) over a master says when the proxy refuses to open the channel to host:port. */
const FORWARD_REFUSED = /Stdio forwarding request failed|open failed/;

/**
 * dialWithRetry: up to limit+1 attempts (-1: no limit). `phase` names a failed attempt from its error ("Dial",
 * "Dial proxy", "Dial from proxy"): each phase counts its own failures, as the real provider's loops do.
 */
async function dial(base: string[], host: string, ctl: string, endpoint: string, limit: number, perDial: number, log: Log,
    phase: (error: string) => string): Promise<ChildProcess> {
    let delay = 100;
    const failures = new Map<string, number>();
    for (;;) {
        const r = await dialOnce(base, host, ctl, perDial);
        if (typeof r !== "string") return r;
        const label = phase(r);
        const dials = (failures.get(label) ?? 0) + 1;
        failures.set(label, dials);
        if (limit > -1 && dials > limit) throw new Error(`after ${dials - 1} failed attempts: ${endpoint}: ${r}`);
        log("info", `${label} ${dials}/${limit === -1 ? "inf" : limit} failed: retrying`, true);
        await sleep(delay);
        delay = Math.min(delay * 1.5, 5_000);
    }
}

/** One dial: the connected master, or the error text (a refused stdio forward's line, else ssh's last line). */
function dialOnce(base: string[], host: string, ctl: string, perDial: number): Promise<ChildProcess | string> {
    fs.rmSync(ctl, { force: true });
    const master = spawn("ssh", [...base, "-M", "-N", "-o", "ControlPersist=no", "-o", "SendEnv=*", host],
        { stdio: ["ignore", "ignore", "pipe"] });
    children.add(master);
    master.once("close", () => children.delete(master));
    let stderr = "", timedOut = false;
    master.stderr!.on("data", (d) => { stderr += d; });
    return new Promise((resolve) => {
        const finish = (r: ChildProcess | string) => { clearInterval(poll); clearTimeout(timer); resolve(r); };
        const poll = setInterval(() => { if (fs.existsSync(ctl)) finish(master); }, 20);
        const timer = perDial > 0 ? setTimeout(() => { timedOut = true; master.kill("SIGKILL"); }, perDial * 1000) : undefined;
        master.once("error", (e) => finish(e.message));
        master.once("close", (code) => {
            const lines = stderr.split("\n").map((l) => l.trim()).filter(Boolean);
            finish(timedOut ? `i/o timeout after ${perDial}s`
                : lines.find((l) => FORWARD_REFUSED.test(l)) ?? lines.pop() ?? `ssh exited with status ${code}`);
        });
    });
}

/**
 * The provider object. `sink` receives log messages (the engine when served); every operation waits for its
 * messages to be delivered before it returns, as the real provider's logging calls are synchronous.
 */
export function makeProvider(sink: LogSink = () => undefined): provider.Provider {
    let delivered: Promise<unknown> = Promise.resolve();
    const logFor = (urn: string): Log => (severity, message, ephemeral = false) => {
        delivered = delivered.then(() => sink(severity, message, urn, ephemeral)).catch(() => undefined);
    };
    const op = async <T>(urn: string, work: () => Promise<T>): Promise<T> => {
        try {
            if (typeOf(urn) !== LOCAL && typeOf(urn) !== REMOTE) throw new Error(`${typeOf(urn)} is not supported by the command provider stand-in`);
            return await work();
        } finally { await delivered; }
    };
    const run = (urn: string, inputs: Props, cmd: string, prev: Outputs) =>
        (typeOf(urn) === REMOTE ? runRemote : runLocal)(inputs, cmd, prev, logFor(urn));
    const outputs = (urn: string, props: Props): Props =>
        // `connection` is `provider:"secret"` (remote/command.go), so it is secret in state whatever came in.
        typeOf(urn) === REMOTE && props.connection !== undefined ? { ...props, connection: secret(props.connection) } : props;
    const previous = (state: Props): Outputs => ({ stdout: str(state.stdout) ?? "", stderr: str(state.stderr) ?? "" });

    return {
        version: VERSION,
        // Schema defaults applied by pulumi-go-provider infer's Check (applyDefaults); see the top comment.
        async check(urn, _olds, news) {
            const inputs: Props = { ...news };
            if (typeOf(urn) !== REMOTE) return { inputs };
            if (inputs.connection == null) return { inputs, failures: [{ property: "connection", reason: "Missing required property 'connection'" }] };
            const conn = isSecret(inputs.connection) ? inputs.connection.value : inputs.connection;
            if (conn !== null && typeof conn === "object") {
                const defaults: Props = { port: 22, user: "root", dialErrorLimit: 10, perDialTimeout: 15 };
                const withDefaults = (o: Props): Props => {
                    const out = { ...o };
                    for (const [k, v] of Object.entries(defaults)) if (o[k] == null) out[k] = v;
                    return out;
                };
                inputs.connection = withDefaults(conn);
                // ProxyConnection has the same defaults (remote/proxyConnection.go), inside a secret too; an unknown stays unknown.
                const proxy = conn.proxy;
                if (isSecret(proxy) && proxy.value !== null && typeof proxy.value === "object") inputs.connection.proxy = secret(withDefaults(proxy.value));
                else if (proxy !== null && typeof proxy === "object" && !(SIG in proxy)) inputs.connection.proxy = withDefaults(proxy);
            }
            return { inputs: outputs(urn, inputs) };
        },
        // infer's default Diff: old state restricted to input properties vs new inputs; replaceOnChanges only
        // on `triggers` (common/inputs.go); an unknown new value counts as a change.
        async diff(_id, _urn, olds, news) {
            const keys = new Set([...Object.keys(olds), ...Object.keys(news)].filter((k) => !OUTPUT_ONLY.has(k)));
            // Earlier versions of this stand-in stored addPreviousOutputInEnv: true for every command that left it unset
            // (the real provider stores nothing): such state is what the real provider's own state would be, not a change.
            const legacy = (k: string) => k === "addPreviousOutputInEnv" && olds[k] === true && news[k] === undefined;
            const changed = [...keys].filter((k) => !legacy(k) && (hasUnknown(news[k]) || stable(reveal(olds[k])) !== stable(reveal(news[k]))));
            return { changes: changed.length > 0, replaces: changed.filter((k) => k === "triggers"), deleteBeforeReplace: false };
        },
        // commandController.go Create: id = name + 8 random hex digits; `create` runs if set; no partial state.
        create: (urn, inputs) => op(urn, async () => {
            const state: Props = { ...inputs, stdout: "", stderr: "" };
            const cmd = str(inputs.create);
            if (cmd !== undefined) Object.assign(state, await run(urn, inputs, cmd, { stdout: "", stderr: "" }));
            return { id: `${urn.split("::")[3] ?? "command"}${crypto.randomBytes(4).toString("hex")}`, outs: outputs(urn, state) };
        }),
        // Update: `update`, else `create`, else nothing; previous outputs are kept unless a command ran.
        update: (_id, urn, olds, news) => op(urn, async () => {
            const prev = previous(olds);
            const state: Props = { ...news, ...prev };
            const cmd = str(news.update) ?? str(news.create);
            if (cmd !== undefined) Object.assign(state, await run(urn, news, cmd, prev));
            return { outs: outputs(urn, state) };
        }),
        // Delete: the old state's `delete`, with the old state's environment and outputs.
        delete: (_id, urn, props) => op(urn, async () => {
            const cmd = str(props.delete);
            if (cmd !== undefined) await run(urn, props, cmd, previous(props));
        }),
        // infer's default Read: the state as it is.
        async read(id, _urn, props) { return { id, props }; },
        async invoke(token, inputs) {
            if (token !== "command:local:run") throw new Error(`${token} is not supported by the command provider stand-in`);
            const cmd = str(inputs.command);
            if (cmd === undefined) return { outputs: {}, failures: [{ property: "command", reason: "Missing required property 'command'" }] };
            try {
                return { outputs: { ...inputs, ...(await runLocal(inputs, cmd, { stdout: "", stderr: "" }, logFor(""))) } };
            } finally { await delivered; }
        },
        async cancel() { for (const c of children) c.kill("SIGKILL"); },
    };
}

/** Entry point when the engine starts the plugin: serves the provider; logs go to the engine's Log RPC. */
export function serve(args: string[]): Promise<void> {
    // The launcher put the repo's node_modules first in NODE_PATH; commands must see the engine's environment.
    const nodeModules = path.resolve(path.dirname(require.resolve("@pulumi/pulumi/package.json")), "..", "..");
    const rest = (process.env.NODE_PATH ?? "").split(path.delimiter);
    if (rest[0] === nodeModules) {
        rest.shift();
        if (rest.join("") === "") delete process.env.NODE_PATH; else process.env.NODE_PATH = rest.join(path.delimiter);
    }
    // The engine address, parsed as provider/internals.ts parseArgs does.
    const clean = args.filter((a, i) => a !== "--logtostderr" && !a.startsWith("-v=") && a !== "--tracing" && args[i - 1] !== "--tracing");
    let sink: LogSink = () => undefined;
    if (clean[0]) {
        /* eslint-disable @typescript-eslint/no-var-requires */
        const grpc = require("@grpc/grpc-js");
        const engrpc = require("@pulumi/pulumi/proto/engine_grpc_pb");
        const engproto = require("@pulumi/pulumi/proto/engine_pb");
        const engine = new engrpc.EngineClient(clean[0], grpc.credentials.createInsecure());
        const levels = { debug: engproto.LogSeverity.DEBUG, info: engproto.LogSeverity.INFO, warning: engproto.LogSeverity.WARNING, error: engproto.LogSeverity.ERROR };
        sink = (severity, message, urn, ephemeral) => new Promise<void>((resolve) => {
            const req = new engproto.LogRequest();
            req.setSeverity(levels[severity]);
            req.setMessage(message);
            req.setUrn(urn);
            req.setEphemeral(ephemeral);
            engine.log(req, () => resolve());
        });
    }
    const p = makeProvider(sink);
    // The engine that started this plugin is gone (killed, as a lost SSH session or a cancelled CI job does): exit, which
    // kills the commands still running (see the exit handler), instead of living on as an orphan.
    const engine = process.ppid;
    setInterval(() => { if (process.ppid !== engine) process.exit(1); }, 2000).unref();
    // The SDK's server echoes a failed Delete's error and stack to stderr, which the engine would print; the
    // real provider prints nothing there (the error reaches the engine through the RPC either way).
    const quiet = new Set<string>();
    const consoleError = console.error.bind(console);
    console.error = (...a: unknown[]) => { if (a.length === 1 && typeof a[0] === "string" && quiet.delete(a[0])) return; consoleError(...a); };
    const del = p.delete!;
    p.delete = async (id, urn, props) => {
        try { await del(id, urn, props); } catch (e: any) { quiet.add(`${e}: ${e.stack}`); throw e; }
    };
    return provider.main(p, args);
}

if (require.main === module) void serve(process.argv.slice(2));
