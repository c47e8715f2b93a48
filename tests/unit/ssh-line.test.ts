// The `ssh` line of the `nodes` output, run as a user would: real ssh against a real sshd on 127.0.0.1
// (tests/support/loopback-sshd.ts), with no terminal and no known_hosts entry, or a stale one from a rebuilt host.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { hostKeyFrom, sshLine } from "../../components/layout";
import { generateKeyPair, LoopbackSshd, startLoopbackSshd } from "../support/loopback-sshd";

describe("the ssh output line (real ssh, loopback sshd)", function () {
    this.timeout(60_000);
    let sshd: LoopbackSshd;
    let home: string;
    let keyFile: string;

    before(async () => {
        sshd = await startLoopbackSshd();
        home = fs.mkdtempSync(path.join(os.tmpdir(), "ssh-line-home-"));
        fs.mkdirSync(path.join(home, ".ssh"), { mode: 0o700 });
        keyFile = path.join(home, "kafka.key");
        fs.writeFileSync(keyFile, sshd.privateKey, { mode: 0o600 });
    });
    after(async () => {
        await sshd?.stop();
        if (home) fs.rmSync(home, { recursive: true, force: true });
    });

    /** Runs the line the way a script would: no terminal, stdin closed, a HOME of its own. */
    function run(line: string) {
        const cmd = `${line.replace("<private-key-file>", keyFile)} -o BatchMode=yes -o ConnectTimeout=10 echo pinned-ok`;
        return spawnSync("bash", ["-c", cmd], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH, HOME: home }, timeout: 30_000 });
    }

    it("reads the host key a ready step printed", () => {
        assert.strictEqual(hostKeyFrom("noise\nhost-key: ssh-ed25519 AAAAC3Nza\n"), "ssh-ed25519 AAAAC3Nza");
        assert.strictEqual(hostKeyFrom("ready: Debian\n"), undefined);
    });

    it("works without a terminal with the pinned key, and writes nothing to known_hosts", () => {
        const r = run(sshLine(sshd.port, sshd.user, sshd.host, sshd.hostKey));
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.stdout.trim(), "pinned-ok");
        assert.ok(!fs.existsSync(path.join(home, ".ssh", "known_hosts")) || fs.readFileSync(path.join(home, ".ssh", "known_hosts"), "utf8") === "");
    });

    it("still works when known_hosts holds the old key of a rebuilt host at that address", () => {
        const old = generateKeyPair().publicKey.split(" ").slice(0, 2).join(" ");
        const known = path.join(home, ".ssh", "known_hosts");
        fs.writeFileSync(known, `[${sshd.host}]:${sshd.port} ${old}\n`, { mode: 0o600 });
        try {
            // Plain ssh with that known_hosts refuses: what users saw before the pin.
            const plain = spawnSync("bash", ["-c", `ssh -i ${keyFile} -o BatchMode=yes -p ${sshd.port} ${sshd.user}@${sshd.host} true`],
                { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH, HOME: home }, timeout: 30_000 });
            assert.notStrictEqual(plain.status, 0);
            assert.match(plain.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
            const r = run(sshLine(sshd.port, sshd.user, sshd.host, sshd.hostKey));
            assert.strictEqual(r.status, 0, r.stderr);
        } finally {
            fs.rmSync(known, { force: true });
        }
    });

    it("refuses a host whose key is not the pinned one", () => {
        const other = generateKeyPair().publicKey.split(" ").slice(0, 2).join(" ");
        const r = run(sshLine(sshd.port, sshd.user, sshd.host, other));
        assert.notStrictEqual(r.status, 0);
        assert.match(r.stderr, /Host key verification failed/);
    });
});
