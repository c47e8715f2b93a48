// A service's main process on a test host, as the hardening checks read it.
import { Ssh } from "../../scripts/lib/local";

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
