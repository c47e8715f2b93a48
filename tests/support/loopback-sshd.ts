// A real OpenSSH server on 127.0.0.1 for tests (test equipment; nothing here is installed system-wide).
//
// The machine has no sshd, so the Debian packages are fetched with `apt-get download` into
// ${KAFKA_CLUSTER_CACHE:-/var/cache/kafka-cluster}/test-sshd and unpacked there with `dpkg-deb -x` (plus libwrap0, which sshd links
// against and which the base system lacks; `apt-get update` only if the download fails). What sshd needs to
// run as root, and how it is given without touching the system:
// - an absolute path to the binary (sshd re-executes itself for every connection);
// - the privilege-separation user `sshd` (fatal "Privilege separation user sshd does not exist" otherwise):
//   sshd runs in a private mount namespace (`unshare --mount`) where /etc/passwd is bind-mounted with an
//   extra `sshd` line, so the host's /etc/passwd is never changed;
// - the privsep chroot directory /run/sshd (root-owned, not group/world-writable), created if missing;
// - `UsePAM no` (no PAM configuration for an unpacked sshd), key-only auth for the current user,
//   `StrictModes no` because AuthorizedKeysFile lives under the world-writable /tmp.
// Every wait is bounded; the server is stopped by its PID (unshare and sh exec into sshd, so the PID we
// spawned is sshd's).
import { execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

export const CACHE_DIR = path.join(process.env.KAFKA_CLUSTER_CACHE ?? "/var/cache/kafka-cluster", "test-sshd");
const PACKAGES = ["openssh-server", "openssh-sftp-server", "libwrap0"];

export interface KeyPair { privateKey: string; publicKey: string }

export interface LoopbackSshd {
    host: string;
    port: number;
    pid: number;
    user: string;
    /** Private key authorized on this server. */
    privateKey: string;
    /** The server's host key, "ssh-ed25519 AAAA...". */
    hostKey: string;
    /** The server's log (sshd -e). */
    log(): string;
    stop(): Promise<void>;
}

export function generateKeyPair(): KeyPair {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "loopback-key-"));
    try {
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "loopback-test", "-f", path.join(dir, "k")]);
        return { privateKey: fs.readFileSync(path.join(dir, "k"), "utf8"), publicKey: fs.readFileSync(path.join(dir, "k.pub"), "utf8") };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** The unpacked sshd (cached) and the directories holding its private libraries. Throws if it cannot be had. */
export function ensureSshd(): { sshd: string; libDirs: string[] } {
    const root = path.join(CACHE_DIR, "root");
    const sshd = path.join(root, "usr", "sbin", "sshd");
    if (!fs.existsSync(sshd)) {
        fs.mkdirSync(CACHE_DIR, { recursive: true });
        const debs = fs.mkdtempSync(path.join(CACHE_DIR, "debs-"));
        try {
            const download = () => spawnSync("apt-get", ["download", ...PACKAGES], { cwd: debs, encoding: "utf8", timeout: 180_000 });
            let r = download();
            if (r.status !== 0) {
                spawnSync("apt-get", ["update"], { encoding: "utf8", timeout: 300_000 });
                r = download();
            }
            if (r.status !== 0) {
                throw new Error(`cannot obtain sshd for the loopback SSH tests: 'apt-get download ${PACKAGES.join(" ")}' failed ` +
                    `(status ${r.status}${r.error ? `, ${r.error.message}` : ""}):\n${r.stderr}`);
            }
            const staging = fs.mkdtempSync(path.join(CACHE_DIR, "root-"));
            for (const deb of fs.readdirSync(debs).filter((f) => f.endsWith(".deb"))) {
                execFileSync("dpkg-deb", ["-x", path.join(debs, deb), staging]);
            }
            fs.rmSync(root, { recursive: true, force: true });
            fs.renameSync(staging, root);
        } finally {
            fs.rmSync(debs, { recursive: true, force: true });
        }
    }
    if (!fs.existsSync(sshd)) throw new Error(`cannot obtain sshd for the loopback SSH tests: ${sshd} missing after unpacking`);
    const libDirs = new Set<string>();
    const walk = (d: string): void => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            if (e.isDirectory()) walk(path.join(d, e.name));
            else if (/\.so(\.\d+)*$/.test(e.name)) libDirs.add(d);
        }
    };
    walk(root);
    const ldd = spawnSync("ldd", [sshd], { encoding: "utf8", env: { ...process.env, LD_LIBRARY_PATH: [...libDirs].join(":") } });
    if (/not found/.test(ldd.stdout)) throw new Error(`cannot run the unpacked sshd, libraries missing:\n${ldd.stdout}`);
    return { sshd, libDirs: [...libDirs] };
}

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.once("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

function canConnect(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const s = net.connect({ host: "127.0.0.1", port });
        s.once("connect", () => { s.destroy(); resolve(true); });
        s.once("error", () => resolve(false));
    });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts sshd on a free port of 127.0.0.1. `acceptEnv`: AcceptEnv patterns (none: the server accepts no variable);
 * `authorizedKeys`: public keys authorized besides the generated client key; `logLevel`: sshd's LogLevel (INFO;
 * DEBUG1 logs each forwarded channel, e.g. a bastion's direct-tcpip to its target).
 */
export async function startLoopbackSshd(opts: { acceptEnv?: string[]; authorizedKeys?: string[]; logLevel?: string } = {}): Promise<LoopbackSshd> {
    const { sshd, libDirs } = ensureSshd();
    const user = os.userInfo().username;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "loopback-sshd-"));
    const file = (name: string) => path.join(dir, name);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", file("host_ed25519")]);
    const client = generateKeyPair();
    fs.writeFileSync(file("authorized_keys"), [client.publicKey, ...(opts.authorizedKeys ?? [])].join(""), { mode: 0o600 });
    const passwd = fs.readFileSync("/etc/passwd", "utf8");
    const usedUids = new Set(passwd.split("\n").map((l) => l.split(":")[2]));
    let uid = 64_990;
    while (usedUids.has(String(uid))) uid--;
    fs.writeFileSync(file("passwd"), `${passwd.replace(/\n?$/, "\n")}sshd:x:${uid}:65534:sshd privsep:/run/sshd:/usr/sbin/nologin\n`);
    fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
    const port = await freePort();
    fs.writeFileSync(file("sshd_config"), [
        `Port ${port}`, "ListenAddress 127.0.0.1", `HostKey ${file("host_ed25519")}`, "PidFile none", "UsePAM no",
        "StrictModes no", "PermitRootLogin prohibit-password", "PubkeyAuthentication yes", "PasswordAuthentication no",
        "KbdInteractiveAuthentication no", "AuthenticationMethods publickey", `AuthorizedKeysFile ${file("authorized_keys")}`,
        `AllowUsers ${user}`, "UseDNS no", "PrintMotd no", `LogLevel ${opts.logLevel ?? "INFO"}`,
        ...(opts.acceptEnv?.length ? [`AcceptEnv ${opts.acceptEnv.join(" ")}`] : []), "",
    ].join("\n"));
    const logFd = fs.openSync(file("sshd.log"), "a");
    const script = 'mount --bind "$1" /etc/passwd && exec "$2" -D -e -f "$3"';
    const child = spawn("unshare", ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", script, "sh", file("passwd"), sshd, file("sshd_config")], {
        stdio: ["ignore", logFd, logFd],
        env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", LD_LIBRARY_PATH: libDirs.join(":") },
    });
    fs.closeSync(logFd);
    const log = () => fs.existsSync(file("sshd.log")) ? fs.readFileSync(file("sshd.log"), "utf8") : "";
    let exited = false;
    const exit = new Promise<void>((resolve) => child.once("exit", () => { exited = true; resolve(); }));
    const stop = async (): Promise<void> => {
        if (!exited) {
            process.kill(child.pid!, "SIGTERM");
            await Promise.race([exit, sleep(5_000)]);
            if (!exited) { process.kill(child.pid!, "SIGKILL"); await Promise.race([exit, sleep(5_000)]); }
        }
        fs.rmSync(dir, { recursive: true, force: true });
    };
    const deadline = Date.now() + 15_000;
    while (!(await canConnect(port))) {
        if (exited || Date.now() > deadline) {
            const text = log();
            await stop();
            throw new Error(`loopback sshd did not start on 127.0.0.1:${port} (${exited ? "it exited" : "timeout"}):\n${text}`);
        }
        await sleep(50);
    }
    const hostKey = fs.readFileSync(file("host_ed25519.pub"), "utf8").split(" ").slice(0, 2).join(" ");
    return { host: "127.0.0.1", port, pid: child.pid!, user, privateKey: client.privateKey, hostKey, log, stop };
}
