// A service's main process on a test host, as the hardening checks read it; and a local program run with a bound that
// holds for the processes it starts too.
import { spawn } from "child_process";
import { Ssh } from "../../scripts/lib/local";

export interface BoundedRun { code: number | null; stdout: string; stderr: string; timedOut: boolean }

/**
 * Runs `cmd` in a process group of its own and resolves when it exits; after `timeoutMs` the whole group is killed.
 * Whatever of the group is still running when it exits is killed too. (spawnSync's timeout kills only the program it
 * started, then waits for every holder of its output pipes: a multi-process program such as Chromium can block it,
 * and the event loop with it, for good.)
 */
export function runBounded(cmd: string, args: string[], timeoutMs: number): Promise<BoundedRun> {
    return new Promise((resolve) => {
        const child = spawn(cmd, args, { detached: true, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        let timedOut = false;
        child.stdout!.on("data", (d) => (stdout += d));
        child.stderr!.on("data", (d) => (stderr = (stderr + d).slice(-20_000)));
        const killGroup = () => { try { process.kill(-child.pid!, "SIGKILL"); } catch { /* the group is gone */ } };
        const timer = setTimeout(() => { timedOut = true; killGroup(); }, timeoutMs);
        child.on("error", (e) => { clearTimeout(timer); resolve({ code: null, stdout, stderr: `${stderr}${e.message}`, timedOut }); });
        // Exited: what is left of its group goes too, so that the pipes close and "close" follows.
        child.on("exit", () => { clearTimeout(timer); killGroup(); });
        child.on("close", (code) => resolve({ code, stdout, stderr, timedOut }));
    });
}

export interface ServiceProcess {
    pid: number;
    /** Its command line, arguments separated by spaces. */
    cmdline: string;
    /** The sockets it listens on, address:port (an IPv4-mapped IPv6 address, [::ffff:10.0.0.1], as 10.0.0.1). */
    sockets: string[];
    /** Their ports, each once, sorted. */
    ports: number[];
}

/** The main process of `svc` on the host at `address` (systemd's MainPID), its command line and listening sockets. */
export async function serviceProcess(ssh: Ssh, address: string, svc: "kafka" | "zookeeper"): Promise<ServiceProcess> {
    const pid = Number((await ssh.must(address, `systemctl show -p MainPID --value ${svc}`)).trim());
    if (!(pid > 0)) throw new Error(`${address}: ${svc} has no main process`);
    const cmdline = await ssh.must(address, `sudo -n cat /proc/${pid}/cmdline | tr '\\0' ' '`);
    const sockets = (await ssh.must(address, "sudo -n ss -Hltnp")).split("\n").filter((l) => l.includes(`pid=${pid},`))
        .map((l) => l.split(/\s+/)[3].replace(/^\[::ffff:([0-9.]+)\]/, "$1"));
    const ports = [...new Set(sockets.map((a) => Number(a.slice(a.lastIndexOf(":") + 1))))].sort((a, b) => a - b);
    return { pid, cmdline, sockets, ports };
}
