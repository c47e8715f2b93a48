// The stand-in `command` provider (scripts/engine/command-provider): real processes, a real sshd on 127.0.0.1
// (tests/support/loopback-sshd.ts), and the built plugin spoken to over gRPC. No mocks.
import * as assert from "assert";
import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import type { Provider } from "@pulumi/pulumi/provider";
import { isSecret, makeProvider, reveal, secret, setenvMessage, UNKNOWN } from "../../scripts/engine/command-provider/provider";
import { generateKeyPair, LoopbackSshd, startLoopbackSshd } from "../support/loopback-sshd";
import { teardownScript } from "../../components/provision";

/* eslint-disable @typescript-eslint/no-var-requires */
const structpb = require("google-protobuf/google/protobuf/struct_pb");
const emptypb = require("google-protobuf/google/protobuf/empty_pb");
const provpb = require("@pulumi/pulumi/proto/provider_pb");
const provgrpc = require("@pulumi/pulumi/proto/provider_grpc_pb");

const DIR = path.join(__dirname, "..", "..", "scripts", "engine", "command-provider");
const LOCAL = "urn:pulumi:test::kc::command:local:Command::c1";
const REMOTE = "urn:pulumi:test::kc::command:remote:Command::r1";
/** Temp dirs and ssh masters of the provider running in this process (others may run the stand-in meanwhile). */
const OWN = `cmd-standin-${process.pid}-`;

interface Entry { severity: string; message: string; urn: string; ephemeral: boolean }
function harness(): { p: Provider; logs: Entry[] } {
    const logs: Entry[] = [];
    return { logs, p: makeProvider((severity, message, urn, ephemeral) => { logs.push({ severity, message, urn, ephemeral }); }) };
}
async function checked(p: Provider, urn: string, news: any): Promise<any> {
    const r = await p.check!(urn, {}, news);
    assert.deepStrictEqual(r.failures ?? [], []);
    return r.inputs;
}
async function create(p: Provider, urn: string, news: any): Promise<{ id: string; state: any }> {
    const r = await p.create!(urn, await checked(p, urn, news));
    return { id: r.id, state: r.outs };
}
async function update(p: Provider, urn: string, olds: any, news: any): Promise<any> {
    const { stdout: _o, stderr: _e, ...inputs } = news; // a state passed as new inputs: drop its outputs
    return (await p.update!("id", urn, olds, await checked(p, urn, inputs))).outs;
}
async function rejection(work: Promise<unknown>): Promise<Error> {
    try { await work; } catch (e) { return e as Error; }
    assert.fail("expected the operation to fail");
}
const freeClosedPort = (): Promise<number> => new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => { const { port } = s.address() as net.AddressInfo; s.close(() => resolve(port)); });
});

describe("command provider stand-in: local.Command", function () {
    this.timeout(60_000);
    let work: string;
    before(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), "standin-test-local-")); });
    after(() => fs.rmSync(work, { recursive: true, force: true }));

    it("check adds no addPreviousOutputInEnv (the 1.2.1 schema has no default for it), like the real provider", async () => {
        const { p } = harness();
        assert.deepStrictEqual(await checked(p, LOCAL, { create: "true" }), { create: "true" });
        assert.deepStrictEqual(await checked(p, LOCAL, { create: "true", addPreviousOutputInEnv: false }), { create: "true", addPreviousOutputInEnv: false });
    });

    it("diff: state an earlier stand-in wrote (addPreviousOutputInEnv: true, unset now) is no change; any real change still is", async () => {
        const { p } = harness();
        const same = await p.diff!("id", LOCAL, { create: "true", addPreviousOutputInEnv: true, stdout: "", stderr: "" }, { create: "true" });
        assert.strictEqual(same.changes, false);
        const off = await p.diff!("id", LOCAL, { create: "true", addPreviousOutputInEnv: true, stdout: "", stderr: "" },
            { create: "true", addPreviousOutputInEnv: false });
        assert.strictEqual(off.changes, true);
        const other = await p.diff!("id", LOCAL, { create: "true", addPreviousOutputInEnv: true }, { create: "false" });
        assert.strictEqual(other.changes, true);
    });

    it("the command:local:run invoke runs its command with environment and stdin every time, returning the arguments with stdout and stderr", async () => {
        const { p } = harness();
        const args = { command: 'printf "%s-%s\\n" "$KC_X" "$(cat)"; echo warn >&2', environment: { KC_X: "x" }, stdin: "in", logging: "none" };
        const first = await p.invoke!("command:local:run", args);
        assert.deepStrictEqual(first.outputs, { ...args, stdout: "x-in", stderr: "warn" });
        const failed = await rejection(p.invoke!("command:local:run", { command: "echo no >&2; exit 3" }));
        assert.match(failed.message, /^exit status 3: running "echo no >&2; exit 3":\nno/);
        assert.deepStrictEqual((await p.invoke!("command:local:run", {})).failures, [{ property: "command", reason: "Missing required property 'command'" }]);
        await assert.rejects(p.invoke!("command:remote:run", { command: "true" }), /not supported by the command provider stand-in/);
    });

    it("create runs `create`, trims one trailing newline and keeps the inputs in the outputs", async () => {
        const { p } = harness();
        const { id, state } = await create(p, LOCAL, { create: "printf 'out\\n\\n'; printf 'err\\n' >&2", delete: "true" });
        assert.match(id, /^c1[0-9a-f]{8}$/);
        assert.deepStrictEqual(state, { create: "printf 'out\\n\\n'; printf 'err\\n' >&2", delete: "true", stdout: "out\n", stderr: "err" });
        const none = await create(p, LOCAL, { delete: "true" });
        assert.deepStrictEqual([none.state.stdout, none.state.stderr], ["", ""]);
    });

    it("environment, stdin, dir and interpreter reach the command", async () => {
        const { p } = harness();
        const { state } = await create(p, LOCAL, {
            create: 'printf "%s|%s|" "$KC_A" "$(pwd)"; cat', environment: { KC_A: "a b" }, stdin: "from stdin", dir: work,
        });
        assert.strictEqual(state.stdout, `a b|${work}|from stdin`);
        const echo = await create(p, LOCAL, { create: "hello", interpreter: ["/bin/echo", "-n"] });
        assert.strictEqual(echo.state.stdout, "hello");
        const closed = await create(p, LOCAL, { create: "cat; echo end" }); // no stdin: EOF at once
        assert.strictEqual(closed.state.stdout, "end");
    });

    it("update runs `update`, else `create`; PULUMI_COMMAND_* only with addPreviousOutputInEnv", async () => {
        const { p } = harness();
        const { state } = await create(p, LOCAL, { create: "echo v1; echo e1 >&2" });
        const viaUpdate = await update(p, LOCAL, state, { create: "echo never", update: 'echo "u prev=$PULUMI_COMMAND_STDOUT/$PULUMI_COMMAND_STDERR"' });
        assert.strictEqual(viaUpdate.stdout, "u prev=v1/e1");
        const viaCreate = await update(p, LOCAL, state, { create: 'echo "c prev=${PULUMI_COMMAND_STDOUT-unset}"' });
        assert.strictEqual(viaCreate.stdout, "c prev=v1");
        const off = await update(p, LOCAL, state, { create: 'echo "c prev=${PULUMI_COMMAND_STDOUT-unset}"', addPreviousOutputInEnv: false });
        assert.strictEqual(off.stdout, "c prev=unset");
        const nothing = await update(p, LOCAL, state, { delete: "true" });
        assert.deepStrictEqual([nothing.stdout, nothing.stderr], ["v1", "e1"], "no command: the previous outputs stay");
    });

    it("delete runs the delete command of the state it is given, with that state's environment and outputs", async () => {
        const { p } = harness();
        const marker = path.join(work, "deleted");
        const del = (tag: string) => `echo "${tag} $KC_X $PULUMI_COMMAND_STDOUT" >> ${marker}`;
        const { state: old } = await create(p, LOCAL, { create: "echo v1", delete: del("A"), environment: { KC_X: "old" } });
        const replacement = await create(p, LOCAL, { create: "echo v2", delete: del("B"), environment: { KC_X: "new" } });
        await p.delete!("id", LOCAL, old);
        assert.strictEqual(fs.readFileSync(marker, "utf8"), "A old v1\n");
        await p.delete!("id", LOCAL, replacement.state);
        assert.strictEqual(fs.readFileSync(marker, "utf8"), "A old v1\nB new v2\n");
        await p.delete!("id", LOCAL, (await create(p, LOCAL, { create: "true" })).state); // no delete: nothing runs
    });

    it("a non-zero exit fails with the exit status and the output, and saves no partial state", async () => {
        const { p } = harness();
        const e = await rejection(create(p, LOCAL, { create: "echo boom; exit 3" }));
        assert.strictEqual(e.message, 'exit status 3: running "echo boom; exit 3":\nboom\n');
        assert.strictEqual((e as any).id, undefined, "the Node SDK turns an error with an id into partial state");
        const { state } = await create(p, LOCAL, { create: "echo ok" });
        const u = await rejection(update(p, LOCAL, state, { create: "echo bad >&2; kill -KILL $$" }));
        assert.strictEqual(u.message, 'signal: killed: running "echo bad >&2; kill -KILL $$":\nbad\n');
        const d = await rejection(p.delete!("id", LOCAL, { delete: "exit 4" }));
        assert.match(d.message, /^exit status 4: running "exit 4":\n$/);
    });

    it("logging selects which streams are streamed (ephemeral info per line); outputs capture both", async () => {
        const cmd = "echo o1; echo e1 >&2; sleep 0.1; echo o2";
        const streamed = async (logging?: string) => {
            const { p, logs } = harness();
            const { state } = await create(p, LOCAL, { create: cmd, ...(logging ? { logging } : {}) });
            assert.deepStrictEqual([state.stdout, state.stderr], ["o1\no2", "e1"]);
            assert.ok(logs.every((l) => l.severity === "info" && l.ephemeral && l.urn === LOCAL));
            return logs.map((l) => l.message).sort();
        };
        assert.deepStrictEqual(await streamed(), ["e1", "o1", "o2"]);
        assert.deepStrictEqual(await streamed("stdoutAndStderr"), ["e1", "o1", "o2"]);
        assert.deepStrictEqual(await streamed("stdout"), ["o1", "o2"]);
        assert.deepStrictEqual(await streamed("stderr"), ["e1"]);
        assert.deepStrictEqual(await streamed("none"), []);
    });

    it("diff: triggers replace, other inputs update, outputs and secretness are not compared, unknowns are changes", async () => {
        const { p } = harness();
        const { state } = await create(p, LOCAL, { create: "echo a", triggers: [1, "x"], environment: { K: secret("v") } });
        const diff = async (news: any) => p.diff!("id", LOCAL, state, await checked(p, LOCAL, news));
        const same = { create: "echo a", triggers: [1, "x"], environment: { K: secret("v") } };
        assert.deepStrictEqual(await diff(same), { changes: false, replaces: [], deleteBeforeReplace: false });
        assert.deepStrictEqual(await diff({ ...same, environment: { K: "v" } }), { changes: false, replaces: [], deleteBeforeReplace: false });
        assert.deepStrictEqual(await diff({ ...same, create: "echo b" }), { changes: true, replaces: [], deleteBeforeReplace: false });
        assert.deepStrictEqual(await diff({ ...same, triggers: [2, "x"] }), { changes: true, replaces: ["triggers"], deleteBeforeReplace: false });
        assert.deepStrictEqual(await diff({ ...same, triggers: undefined }), { changes: true, replaces: ["triggers"], deleteBeforeReplace: false });
        assert.deepStrictEqual(await diff({ ...same, create: UNKNOWN }), { changes: true, replaces: [], deleteBeforeReplace: false });
        assert.deepStrictEqual(await diff({ ...same, triggers: [UNKNOWN] }), { changes: true, replaces: ["triggers"], deleteBeforeReplace: false });
        assert.deepStrictEqual(await diff({ ...same, logging: "none" }), { changes: true, replaces: [], deleteBeforeReplace: false });
    });

    it("resource types and inputs the stand-in does not implement fail instead of doing nothing", async () => {
        const { p } = harness();
        const copy = "urn:pulumi:test::kc::command:remote:CopyToRemote::cp";
        assert.match((await rejection(p.create!(copy, {}))).message, /command:remote:CopyToRemote is not supported/);
        assert.match((await rejection(create(p, LOCAL, { create: "true", assetPaths: ["*"] }))).message, /assetPaths\/archivePaths are not supported/);
        const key = generateKeyPair().privateKey;
        const agent = { host: "h", privateKey: key, proxy: { host: "b", privateKey: key, agentSocketPath: "/run/agent" } };
        assert.match((await rejection(create(p, REMOTE, { create: "true", connection: agent }))).message, /connection.proxy.agentSocketPath is not supported/);
        const noKey = { host: "h", privateKey: key, proxy: { host: "b", password: undefined } };
        assert.match((await rejection(create(p, REMOTE, { create: "true", connection: noKey }))).message, /needs connection.proxy.privateKey/);
    });

    it("secret inputs stay secret in the outputs and reach the command in the clear", async () => {
        const { p } = harness();
        const { state } = await create(p, LOCAL, { create: 'echo "$KC_S"; cat', environment: { KC_S: secret("s3") }, stdin: secret("in") });
        assert.ok(isSecret(state.environment.KC_S) && isSecret(state.stdin));
        assert.strictEqual(state.stdout, "s3\nin");
        assert.strictEqual(typeof state.stdout, "string", "stdout's secretness is the engine's (additionalSecretOutputs)");
    });
});

describe("command provider stand-in: remote.Command against a real sshd", function () {
    this.timeout(120_000);
    let noEnv: LoopbackSshd, withEnv: LoopbackSshd, work: string;
    const seen: string[] = []; // every error message and log line, checked for key material at the end
    const conn = (s: LoopbackSshd, extra: any = {}) => ({ host: s.host, port: s.port, user: s.user, privateKey: s.privateKey, dialErrorLimit: 2, perDialTimeout: 5, ...extra });
    const record = (logs: Entry[]) => seen.push(...logs.map((l) => l.message));
    const fail = async (op: Promise<unknown>) => { const e = await rejection(op); seen.push(e.message); return e; };
    const tmpBefore = new Set(fs.readdirSync(os.tmpdir()));

    before(async () => {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "standin-test-remote-"));
        noEnv = await startLoopbackSshd();
        withEnv = await startLoopbackSshd({ acceptEnv: ["KC_*", "PULUMI_COMMAND_*"] });
    });
    after(async () => {
        await noEnv?.stop();
        await withEnv?.stop();
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("check applies the connection defaults and makes the connection secret", async () => {
        const { p } = harness();
        const inputs = await checked(p, REMOTE, { create: "true", connection: { host: "h", privateKey: "k" } });
        assert.ok(isSecret(inputs.connection));
        assert.deepStrictEqual(inputs.connection.value, { host: "h", privateKey: "k", port: 22, user: "root", dialErrorLimit: 10, perDialTimeout: 15 });
        const kept = await checked(p, REMOTE, { connection: secret({ host: "h", port: 2222, user: "u", dialErrorLimit: -1 }) });
        assert.deepStrictEqual(reveal(kept.connection), { host: "h", port: 2222, user: "u", dialErrorLimit: -1, perDialTimeout: 15 });
        const unknown = await checked(p, REMOTE, { connection: UNKNOWN });
        assert.strictEqual(reveal(unknown.connection), UNKNOWN);
        const missing = await p.check!(REMOTE, {}, { create: "true" });
        assert.deepStrictEqual(missing.failures?.map((f) => f.property), ["connection"]);
    });

    it("diff: a changed connection is an update, not a replacement (v1.x schema)", async () => {
        const { p } = harness();
        const olds = { ...(await checked(p, REMOTE, { create: "true", connection: conn(noEnv) })), stdout: "", stderr: "" };
        const news = await checked(p, REMOTE, { create: "true", connection: conn(noEnv, { user: "other" }) });
        assert.deepStrictEqual(await p.diff!("id", REMOTE, olds, news), { changes: true, replaces: [], deleteBeforeReplace: false });
    });

    it("create, update and delete run over ssh as the connection's user; outputs keep the connection secret", async () => {
        const { p, logs } = harness();
        const f = path.join(work, "crud");
        const { state } = await create(p, REMOTE, {
            connection: conn(noEnv), addPreviousOutputInEnv: false,
            create: `echo created > ${f}; id -un; echo err >&2`, update: `echo updated >> ${f}; echo u`, delete: `echo deleted >> ${f}`,
        });
        assert.ok(isSecret(state.connection));
        assert.deepStrictEqual([state.stdout, state.stderr], [noEnv.user, "err"]);
        const next = await update(p, REMOTE, state, { ...state, connection: conn(noEnv) });
        assert.strictEqual(next.stdout, "u");
        await p.delete!("id", REMOTE, next);
        assert.strictEqual(fs.readFileSync(f, "utf8"), "created\nupdated\ndeleted\n");
        assert.deepStrictEqual(logs.filter((l) => !l.ephemeral), [], "no warning or error");
        assert.deepStrictEqual(logs.map((l) => l.message).sort(), [noEnv.user, "err", "u"].sort(), "streamed lines");
        record(logs);
    });

    it("stdin is piped to the remote command; the key file is 0600 in a 0700 dir while it runs, removed after", async () => {
        const { p, logs } = harness();
        const { state } = await create(p, REMOTE, {
            connection: conn(noEnv), stdin: "line1\nline2",
            create: `cat; echo; stat -c '%a %n' ${os.tmpdir()}/${OWN}*/ ${os.tmpdir()}/${OWN}*/key`,
        });
        const [l1, l2, dirMode, keyMode] = state.stdout.split("\n");
        assert.deepStrictEqual([l1, l2], ["line1", "line2"]);
        assert.match(dirMode, /^700 \S+\/cmd-standin-\d+-\w+\/$/);
        assert.match(keyMode, /^600 \S+\/cmd-standin-\d+-\w+\/key$/);
        assert.ok(!fs.existsSync(keyMode.split(" ")[1]), "the key file is removed");
        record(logs);
    });

    it("a non-zero remote exit fails with the real provider's message", async () => {
        const { p } = harness();
        const e = await fail(create(p, REMOTE, { connection: conn(noEnv), create: "echo x; exit 7" }));
        assert.strictEqual(e.message, 'Process exited with status 7: running "echo x; exit 7":\nx\n');
    });

    it("a closed port fails after dialErrorLimit retries, in bounded time, naming host:port", async () => {
        const { p, logs } = harness();
        const port = await freeClosedPort();
        const t0 = Date.now();
        const e = await fail(create(p, REMOTE, { connection: conn(noEnv, { port, dialErrorLimit: 2, perDialTimeout: 3 }), create: "true" }));
        assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
        assert.match(e.message, new RegExp(`^after 2 failed attempts: 127\\.0\\.0\\.1:${port}: .*Connection refused`));
        assert.deepStrictEqual(logs.map((l) => [l.message, l.severity, l.ephemeral]),
            [["Dial 1/2 failed: retrying", "info", true], ["Dial 2/2 failed: retrying", "info", true]]);
        record(logs);
    });

    it("a wrong key is a dial error too, and no key material appears in the error", async () => {
        const { p, logs } = harness();
        const wrong = generateKeyPair().privateKey;
        const e = await fail(create(p, REMOTE, { connection: conn(noEnv, { privateKey: wrong, dialErrorLimit: 1 }), create: "true" }));
        assert.match(e.message, new RegExp(`^after 1 failed attempts: 127\\.0\\.0\\.1:${noEnv.port}: .*Permission denied \\(publickey\\)`));
        for (const line of wrong.split("\n").filter((l) => l.length > 20 && !l.startsWith("-----"))) assert.ok(!e.message.includes(line));
        const bad = await fail(create(p, REMOTE, { connection: conn(noEnv, { privateKey: "not a key" }), create: "true" }));
        assert.strictEqual(bad.message, "ssh: no key found");
        record(logs);
    });

    it("environment refused by the server (no AcceptEnv): the real provider's error, and the command does not run", async () => {
        const { p, logs } = harness();
        const f = path.join(work, "never");
        const e = await fail(create(p, REMOTE, { connection: conn(noEnv), environment: { KC_GREETING: "hello" }, create: `touch ${f}` }));
        assert.strictEqual(e.message, 'could not set environment variable "KC_GREETING": ssh: setenv failed');
        assert.deepStrictEqual(logs.map((l) => [l.severity, l.message]), [["error", setenvMessage("KC_GREETING")]]);
        assert.ok(!fs.existsSync(f));
        record(logs);
    });

    it("previous outputs refused by the server: a warning only, and none with addPreviousOutputInEnv false", async () => {
        const { p, logs } = harness();
        const { state } = await create(p, REMOTE, { connection: conn(noEnv), create: "echo first" });
        const next = await update(p, REMOTE, state, { connection: conn(noEnv), create: 'echo "second ${PULUMI_COMMAND_STDOUT-unset}"' });
        assert.strictEqual(next.stdout, "second unset");
        assert.deepStrictEqual(logs.filter((l) => !l.ephemeral).map((l) => [l.severity, l.message]), [["warning", setenvMessage("PULUMI_COMMAND_STDOUT")]]);
        const quiet = harness();
        const off = await update(quiet.p, REMOTE, state, { connection: conn(noEnv), addPreviousOutputInEnv: false, create: 'echo "second ${PULUMI_COMMAND_STDOUT-unset}"' });
        assert.strictEqual(off.stdout, "second unset");
        await quiet.p.delete!("id", REMOTE, { ...off, delete: "true" });
        assert.deepStrictEqual(quiet.logs.filter((l) => !l.ephemeral), []);
        record(logs);
        record(quiet.logs);
    });

    it("with AcceptEnv KC_* PULUMI_COMMAND_*, environment and previous outputs reach the remote command", async () => {
        const { p, logs } = harness();
        const f = path.join(work, "env-delete");
        const { state } = await create(p, REMOTE, {
            connection: conn(withEnv), environment: { KC_GREETING: "hello world" }, create: 'echo "$KC_GREETING"',
            delete: `echo "$KC_GREETING/$PULUMI_COMMAND_STDOUT" > ${f}`,
        });
        assert.strictEqual(state.stdout, "hello world");
        const next = await update(p, REMOTE, state, { ...state, connection: conn(withEnv), update: 'echo "prev=$PULUMI_COMMAND_STDOUT"' });
        assert.strictEqual(next.stdout, "prev=hello world");
        await p.delete!("id", REMOTE, next);
        assert.strictEqual(fs.readFileSync(f, "utf8"), "hello world/prev=hello world\n");
        assert.deepStrictEqual(logs.filter((l) => !l.ephemeral), []);
        record(logs);
    });

    it("no private key in any message, no temp dir and no ssh master left behind", async () => {
        for (const key of [noEnv.privateKey, withEnv.privateKey]) {
            const body = key.split("\n").filter((l) => l.length > 20 && !l.startsWith("-----"));
            for (const m of seen) for (const line of body) assert.ok(!m.includes(line), `key material in: ${m}`);
        }
        const left = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith(OWN) && !tmpBefore.has(f));
        assert.deepStrictEqual(left, []);
        // A master the provider stopped may take a moment to exit on a loaded machine; one that lives on is a leak.
        let masters = "";
        for (let i = 0; i < 50; i++) {
            masters = spawnText("pgrep", ["-f", `${OWN}.* -M -N `]).trim();
            if (!masters) break;
            await new Promise((r) => setTimeout(r, 200));
        }
        assert.strictEqual(masters, "", `ssh masters still running after 10 s: ${spawnText("ps", ["-o", "pid,etime,args", "-p", masters.split("\n").join(",")])}`);
    });
});

describe("command provider stand-in: remote.Command through connection.proxy (a bastion sshd in front of a target sshd)", function () {
    this.timeout(120_000);
    // Each sshd authorizes only its own generated key: the proxy's key cannot log in to the target, nor the target's to
    // the bastion, so a success shows that each hop used its own key. The bastion logs forwarded channels (DEBUG1).
    let bastion: LoopbackSshd, target: LoopbackSshd, work: string;
    const seen: string[] = [];
    const proxyOf = (b: LoopbackSshd, extra: any = {}) => ({ host: b.host, port: b.port, user: b.user, privateKey: b.privateKey, dialErrorLimit: 1, perDialTimeout: 5, ...extra });
    const conn = (extra: any = {}, proxy: any = {}) => ({
        host: target.host, port: target.port, user: target.user, privateKey: target.privateKey, dialErrorLimit: 1, perDialTimeout: 5,
        proxy: proxyOf(bastion, proxy), ...extra,
    });
    /** The bastion's log lines of direct-tcpip channels it opened to 127.0.0.1:<port> ("debug1: server_request_direct_tcpip: originator ..., target 127.0.0.1 port N"). */
    const forwards = (port: number) => bastion.log().split("\n").filter((l) => /direct.tcpip/i.test(l) && l.includes(`target 127.0.0.1 port ${port}`));
    const fail = async (op: Promise<unknown>) => { const e = await rejection(op); seen.push(e.message); return e; };

    before(async () => {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "standin-test-proxy-"));
        bastion = await startLoopbackSshd({ logLevel: "DEBUG1" });
        target = await startLoopbackSshd();
    });
    after(async () => {
        await bastion?.stop();
        await target?.stop();
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("check applies ProxyConnection's defaults to connection.proxy", async () => {
        const { p } = harness();
        const inputs = await checked(p, REMOTE, { create: "true", connection: { host: "10.0.0.5", privateKey: "k", proxy: { host: "b", privateKey: "pk" } } });
        assert.deepStrictEqual(reveal(inputs.connection).proxy, { host: "b", privateKey: "pk", port: 22, user: "root", dialErrorLimit: 10, perDialTimeout: 15 });
        const kept = await checked(p, REMOTE, { connection: { host: "h", proxy: { host: "b", port: 2222, user: "u", dialErrorLimit: -1, perDialTimeout: 0 } } });
        assert.deepStrictEqual(reveal(kept.connection).proxy, { host: "b", port: 2222, user: "u", dialErrorLimit: -1, perDialTimeout: 0 });
        const hidden = await checked(p, REMOTE, { connection: { host: "h", proxy: secret({ host: "b" }) } });
        assert.ok(isSecret(hidden.connection.value.proxy), "a secret proxy stays secret, with the defaults inside");
        assert.deepStrictEqual(reveal(hidden.connection).proxy, { host: "b", port: 22, user: "root", dialErrorLimit: 10, perDialTimeout: 15 });
    });

    it("create/update/delete reach the target through the bastion: one direct-tcpip channel on the bastion per connection", async () => {
        const { p, logs } = harness();
        const f = path.join(work, "crud");
        const before = forwards(target.port).length;
        const { state } = await create(p, REMOTE, {
            connection: conn(), addPreviousOutputInEnv: false,
            create: `echo created > ${f}; echo "$SSH_CONNECTION"`, update: `echo updated >> ${f}`, delete: `echo deleted >> ${f}`,
        });
        // The target saw a connection to its own port (from 127.0.0.1, as the bastion dials it on this loopback).
        assert.match(state.stdout, new RegExp(`^127\\.0\\.0\\.1 \\d+ 127\\.0\\.0\\.1 ${target.port}$`));
        assert.strictEqual(forwards(target.port).length, before + 1, `bastion log:\n${bastion.log().slice(-3000)}`);
        const next = await update(p, REMOTE, state, { ...state, connection: conn() });
        await p.delete!("id", REMOTE, next);
        assert.strictEqual(fs.readFileSync(f, "utf8"), "created\nupdated\ndeleted\n");
        assert.strictEqual(forwards(target.port).length, before + 3, "every dial went through the bastion");
        assert.deepStrictEqual(logs.filter((l) => !l.ephemeral), []);
        seen.push(...logs.map((l) => l.message));
    });

    it("the host key cannot log in to the bastion: the proxy's own key is what it uses (and the error says proxy)", async () => {
        const { p, logs } = harness();
        const before = forwards(target.port).length;
        const e = await fail(create(p, REMOTE, { connection: conn({}, { privateKey: target.privateKey }), create: "true" }));
        assert.match(e.message, new RegExp(`^proxy: after 1 failed attempts: 127\\.0\\.0\\.1:${bastion.port}: .*Permission denied \\(publickey\\)`));
        assert.deepStrictEqual(logs.map((l) => l.message), ["Dial proxy 1/1 failed: retrying"]);
        assert.strictEqual(forwards(target.port).length, before, "the target was never dialled");
        const bad = await fail(create(p, REMOTE, { connection: conn({}, { privateKey: "not a key" }), create: "true" }));
        assert.strictEqual(bad.message, "proxy: ssh: no key found");
    });

    it("a wrong key for the target fails the handshake through the bastion as a Dial error", async () => {
        const { p, logs } = harness();
        const e = await fail(create(p, REMOTE, { connection: conn({ privateKey: bastion.privateKey }), create: "true" }));
        assert.match(e.message, new RegExp(`^proxy: after 1 failed attempts: 127\\.0\\.0\\.1:${target.port}: .*Permission denied \\(publickey\\)`));
        assert.deepStrictEqual(logs.map((l) => l.message), ["Dial 1/1 failed: retrying"]);
    });

    it("a target port the bastion cannot reach fails as Dial from proxy, after dialErrorLimit retries", async () => {
        const { p, logs } = harness();
        const port = await freeClosedPort();
        const e = await fail(create(p, REMOTE, { connection: conn({ port, dialErrorLimit: 2 }), create: "true" }));
        assert.match(e.message, new RegExp(`^proxy: after 2 failed attempts: 127\\.0\\.0\\.1:${port}: Stdio forwarding request failed`));
        assert.deepStrictEqual(logs.map((l) => l.message), ["Dial from proxy 1/2 failed: retrying", "Dial from proxy 2/2 failed: retrying"]);
        assert.ok(bastion.log().includes(`port ${port}`), "the bastion tried the port");
    });

    it("the teardown's ssh (a local.Command) reaches the target through the bastion with -W, keys only in files", () => {
        const f = path.join(work, "teardown");
        const env = {
            ...process.env, KC_SSH_KEY: target.privateKey, KC_SSH_PORT: String(target.port), KC_SSH_TARGET: `${target.user}@${target.host}`,
            KC_REMOTE_COMMAND: `echo torn-down > ${f}`, KC_BASTION_KEY: bastion.privateKey, KC_BASTION_PORT: String(bastion.port),
            KC_BASTION_TARGET: `${bastion.user}@${bastion.host}`,
        };
        const before = forwards(target.port).length;
        execFileSync("/bin/sh", ["-c", teardownScript(true)], { env, stdio: "pipe" });
        assert.strictEqual(fs.readFileSync(f, "utf8"), "torn-down\n");
        assert.strictEqual(forwards(target.port).length, before + 1);
        for (const text of [teardownScript(true), teardownScript(false)]) assert.ok(!/BEGIN|PRIVATE/.test(text));
        // Without the bastion's key the bastion refuses, and the teardown fails.
        const refused = spawnSync("/bin/sh", ["-c", teardownScript(true)], { env: { ...env, KC_BASTION_KEY: target.privateKey }, encoding: "utf8" });
        assert.notStrictEqual(refused.status, 0);
        assert.match(refused.stderr, /Permission denied \(publickey\)/);
    });

    it("with the bastion stopped, the command fails naming the proxy; no key in any message, no master left", async () => {
        await bastion.stop();
        const { p, logs } = harness();
        const e = await fail(create(p, REMOTE, { connection: conn(), create: "true" }));
        assert.match(e.message, new RegExp(`^proxy: after 1 failed attempts: 127\\.0\\.0\\.1:${bastion.port}: .*Connection refused`));
        assert.deepStrictEqual(logs.map((l) => l.message), ["Dial proxy 1/1 failed: retrying"]);
        for (const key of [bastion.privateKey, target.privateKey]) {
            const body = key.split("\n").filter((l) => l.length > 20 && !l.startsWith("-----"));
            for (const m of seen) for (const line of body) assert.ok(!m.includes(line), `key material in: ${m}`);
        }
        let masters = "";
        for (let i = 0; i < 50; i++) {
            masters = spawnText("pgrep", ["-f", `${OWN}.* -M -N `]).trim();
            if (!masters) break;
            await new Promise((r) => setTimeout(r, 200));
        }
        assert.strictEqual(masters, "", "no ssh master (host or proxy) left running");
    });
});

function spawnText(cmd: string, args: string[]): string {
    try { return execFileSync(cmd, args, { encoding: "utf8" }); } catch (e: any) { return e.stdout ?? ""; }
}

describe("command provider stand-in: the built plugin over gRPC", function () {
    this.timeout(120_000);
    let out: string, plugin: ChildProcess, client: any, stderr = "";
    const call = (method: string, req: any): Promise<any> => new Promise((resolve, reject) =>
        client[method](req, (err: any, resp: any) => (err ? reject(err) : resolve(resp))));
    const struct = (v: any) => structpb.Struct.fromJavaScript(v);
    const SIG = "4dabf18193072939515e22adb298388d", SECRET = "1b47061264138c4ac30d75fd1eb44270";

    before(async () => {
        out = fs.mkdtempSync(path.join(os.tmpdir(), "standin-test-plugin-"));
        const tgz = execFileSync(path.join(DIR, "build.sh"), [out, path.join(__dirname, "..", "..")], { encoding: "utf8" }).trim();
        assert.strictEqual(tgz, path.join(fs.realpathSync(out), "pulumi-resource-command-v1.2.1-standin.tgz"));
        assert.deepStrictEqual(execFileSync("tar", ["-tzf", tgz], { encoding: "utf8" }).trim().split("\n").sort(), ["provider.js", "pulumi-resource-command"]);
        fs.mkdirSync(path.join(out, "plugin"));
        execFileSync("tar", ["-xzf", tgz, "-C", path.join(out, "plugin")]);
        plugin = spawn(path.join(out, "plugin", "pulumi-resource-command"), [], { stdio: ["ignore", "pipe", "pipe"], cwd: out });
        plugin.stderr!.on("data", (d) => { stderr += d; });
        const port = await new Promise<string>((resolve, reject) => {
            let text = "";
            const timer = setTimeout(() => reject(new Error(`no port within 20 s; stderr: ${stderr}`)), 20_000);
            plugin.stdout!.on("data", (d) => { text += d; if (text.includes("\n")) { clearTimeout(timer); resolve(text.split("\n")[0]); } });
        });
        assert.match(port, /^\d+$/, "the first stdout line is the port, as the SDK's main() prints it");
        client = new provgrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    });
    after(() => {
        client?.close();
        if (plugin?.pid && plugin.exitCode === null) process.kill(plugin.pid, "SIGTERM");
        fs.rmSync(out, { recursive: true, force: true });
    });

    it("reports version 1.2.1", async () => {
        assert.strictEqual((await call("getPluginInfo", new emptypb.Empty())).getVersion(), "1.2.1");
    });

    it("Create keeps a secret input secret in the returned properties", async () => {
        const req = new provpb.CreateRequest();
        req.setUrn(LOCAL);
        req.setProperties(struct({ create: 'echo "$KC_S"', environment: { KC_S: { [SIG]: SECRET, value: "hush" } }, addPreviousOutputInEnv: true }));
        const props = (await call("create", req)).getProperties().toJavaScript();
        assert.deepStrictEqual(props.environment, { KC_S: { [SIG]: SECRET, value: "hush" } });
        assert.strictEqual(props.stdout, "hush");
    });

    it("Diff reports a trigger change as a replacement", async () => {
        const req = new provpb.DiffRequest();
        req.setUrn(LOCAL);
        req.setOlds(struct({ create: "true", triggers: [1], stdout: "" }));
        req.setNews(struct({ create: "true", triggers: [2] }));
        const resp = await call("diff", req);
        assert.deepStrictEqual([resp.getChanges(), resp.getReplacesList()], [provpb.DiffResponse.DiffChanges.DIFF_SOME, ["triggers"]]);
    });

    it("a failed Delete returns the error over gRPC and prints nothing on the plugin's stderr", async () => {
        const req = new provpb.DeleteRequest();
        req.setId("c1");
        req.setUrn(LOCAL);
        req.setProperties(struct({ delete: "echo gone; exit 4" }));
        const err = await rejection(call("delete", req));
        assert.match(err.message, /exit status 4: running "echo gone; exit 4":\ngone/);
        await new Promise((r) => setTimeout(r, 300));
        assert.strictEqual(stderr, "");
    });

    it("the launcher is shellcheck-clean", () => {
        execFileSync("shellcheck", [path.join(DIR, "pulumi-resource-command"), path.join(DIR, "build.sh")], { stdio: "pipe" });
    });
});
