// Rules for existing-hosts mode: the host list (stable ids, addresses, roles, racks), the SSH user of each host and
// the key that logs in to all of them.
import { bastionSettings } from "./bastion";
import { Values } from "./decode";
import { Bad, ExistingHost, HostsSettings, KafkaSettings, QuorumSettings, Role } from "./types";

/** A host as listed in kafka:hosts, before its roles and SSH user are resolved. */
type ListedHost = Omit<ExistingHost, "roles" | "user"> & { user: string; roles?: Role[]; badRoles?: true };

export function isHostAddress(s: string): boolean {
    return /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(s) || /^[0-9a-fA-F:]+$/.test(s);
}

export function hostsSettings(v: Values, kafka: KafkaSettings, sshPrivateKey: string | undefined, bad: Bad): HostsSettings {
    const listed = parseHosts(v.hosts, kafka.quorum, bad);
    const roles = hostRoles(listed, kafka.brokerCount, kafka.quorum, bad);
    monitoringHost(listed, kafka, bad);
    if (sshPrivateKey === undefined) {
        bad("sshPrivateKey", "is required with kafka:hosts (existing hosts need the key that logs in to them)",
            `pulumi config set --secret kafka:sshPrivateKey < ~/.ssh/id_ed25519 (or kafka:sshPrivateKeyPath ~/.ssh/id_ed25519)`);
    }
    const machines = listed.map((h, i): ExistingHost => {
        const user = h.user || v.sshUser || "";
        if (!user) bad(`hosts[${i}].user`, "no SSH user for this host", `set kafka:sshUser (for all hosts) or "user" on the host`);
        return { id: h.id, address: h.address, privateAddress: h.privateAddress, user, roles: roles[i] ?? [], ...(h.rack !== undefined ? { rack: h.rack } : {}) };
    });
    // The key is required in this mode (above), so the bastion never waits for a generated one.
    const bastion = bastionSettings(v, v.sshUser || undefined, sshPrivateKey ?? "", bad);
    return {
        machines, sshPort: v.sshPort ?? 22, sshPrivateKey: sshPrivateKey ?? "", wipeOnDestroy: v.wipeOnDestroy ?? false,
        ...(bastion !== undefined ? { bastion } : {}),
    };
}

function parseHosts(v: unknown, quorum: QuorumSettings, bad: Bad): ListedHost[] {
    const example = `pulumi config set --path 'kafka:hosts[0].id' 1 && pulumi config set --path 'kafka:hosts[0].address' 203.0.113.10`;
    if (!Array.isArray(v) || v.length === 0) {
        bad("hosts", "must be a non-empty list of { id, address, privateAddress?, user?, roles?, rack? }", example);
        return [];
    }
    const out: ListedHost[] = [];
    const ids = new Set<number>();
    const addrs = new Set<string>();
    v.forEach((h: unknown, i: number) => {
        const key = `hosts[${i}]`;
        if (typeof h !== "object" || h === null || Array.isArray(h)) {
            bad(key, "must be an object { id, address, ... }", example);
            return;
        }
        const f = h as Record<string, unknown>;
        for (const k of Object.keys(f)) {
            if (!["id", "address", "privateAddress", "user", "roles", "rack"].includes(k)) {
                bad(`${key}.${k}`, "unknown host field", "use only id, address, privateAddress, user, roles, rack");
            }
        }
        const id = typeof f.id === "string" && /^\d+$/.test(f.id) ? Number(f.id) : f.id;
        if (typeof id !== "number" || !Number.isInteger(id) || id < 1 || id > 999) {
            bad(`${key}.id`, `needs a stable whole-number id from 1 to 999 (got ${JSON.stringify(f.id)}); it becomes broker.id and myid and must never change`,
                `pulumi config set --path 'kafka:${key}.id' ${i + 1}`);
        } else if (ids.has(id)) {
            bad(`${key}.id`, `id ${id} is used by two hosts`, "give every host its own id");
        } else ids.add(id);
        const address = typeof f.address === "string" ? f.address.trim() : "";
        if (!address || !isHostAddress(address)) {
            bad(`${key}.address`, `needs the host's SSH address (got ${JSON.stringify(f.address)})`, `pulumi config set --path 'kafka:${key}.address' <ip-or-dns>`);
        } else if (addrs.has(address)) {
            bad(`${key}.address`, `address ${address} is listed twice`, "list every host once");
        } else addrs.add(address);
        const privateAddress = typeof f.privateAddress === "string" && f.privateAddress.trim() ? f.privateAddress.trim() : address;
        if (!isHostAddress(privateAddress)) {
            bad(`${key}.privateAddress`, `"${privateAddress}" is not an address`, `pulumi config set --path 'kafka:${key}.privateAddress' <ip>`);
        }
        let roles: Role[] | undefined;
        let badRoles = false;
        if (f.roles !== undefined) {
            if (!Array.isArray(f.roles) || f.roles.length === 0 || !f.roles.every((r: unknown) => r === quorum.role || r === "broker" || r === "monitoring")) {
                const other = quorum.role === "controller" ? "zookeeper" : "controller";
                bad(`${key}.roles`, `must be a list of "${quorum.role}", "broker" and/or "monitoring" (got ${JSON.stringify(f.roles)})` +
                    ((f.roles as unknown[] | undefined)?.includes?.(other)
                        ? `; "${other}" is a role of kafka:metadata ${other === "controller" ? "kraft" : "zookeeper"}, and this stack's is ${quorum.role === "controller" ? "kraft" : "zookeeper"}`
                        : ""),
                    `pulumi config set --path 'kafka:${key}.roles[0]' broker`);
                badRoles = true;
            } else roles = [...new Set(f.roles as Role[])];
        }
        let rack: string | undefined;
        if (f.rack !== undefined) {
            if (typeof f.rack !== "string" || !/^[A-Za-z0-9_.-]+$/.test(f.rack)) {
                bad(`${key}.rack`, `must be a rack name like us-east-1a (got ${JSON.stringify(f.rack)})`, `pulumi config set --path 'kafka:${key}.rack' rack-1`);
            } else rack = f.rack;
        }
        out.push({
            id: id as number, address, privateAddress, user: typeof f.user === "string" ? f.user : "", roles, ...(rack !== undefined ? { rack } : {}),
            ...(badRoles ? { badRoles: true as const } : {}),
        });
    });
    return out.sort((a, b) => a.id - b.id);
}

/**
 * The `monitoring` role (Prometheus, Alertmanager, the lag collector): on one host at most, and only with
 * kafka:monitoring, whose TLS certificate and password come from the cluster's credentials (not with plaintext).
 */
function monitoringHost(hosts: ListedHost[], kafka: KafkaSettings, bad: Bad): void {
    const at = hosts.flatMap((h, i) => (h.roles?.includes("monitoring") ? [i] : []));
    if (at.length > 1) {
        bad(`hosts[${at[1]}].roles`, `"monitoring" is given to ${at.length} hosts (${at.map((i) => `hosts[${i}]`).join(", ")}); one host runs the cluster's Prometheus and Alertmanager`,
            `keep "monitoring" on hosts[${at[0]}] only`);
    }
    if (at.length > 0 && !kafka.monitoring) {
        bad(`hosts[${at[0]}].roles`, `"monitoring" needs kafka:monitoring true (the metrics the monitoring host scrapes)`,
            "pulumi config set kafka:monitoring true (and kafka:mavenUrl), or remove \"monitoring\" from the host's roles");
    }
    if (at.length > 0 && kafka.security.mode === "plaintext") {
        bad(`hosts[${at[0]}].roles`, "the monitoring host serves Prometheus and Alertmanager over TLS with a password, made with the cluster's " +
            "credentials, which kafka:security plaintext has none of",
            "pulumi config set kafka:security sasl_ssl (a running plaintext cluster switches in one rolling pulumi up), or remove \"monitoring\"");
    }
}

/**
 * Each host's roles, by position. A host whose only role is `monitoring` keeps it, and the others' roles are decided
 * without it (kafkaRoles), so a monitoring host can join a cluster whose roles are assigned by position.
 */
function hostRoles(hosts: ListedHost[], brokers: number, quorum: QuorumSettings, bad: Bad): Role[][] {
    const monitoringOnly = (h: ListedHost) => h.roles?.length === 1 && h.roles[0] === "monitoring";
    const kafka = kafkaRoles(hosts.filter((h) => !monitoringOnly(h)), brokers, quorum, bad);
    if (kafka.length === 0) return [];
    let i = 0;
    return hosts.map((h) => (monitoringOnly(h) ? ["monitoring"] : kafka[i++]));
}

/**
 * The Kafka hosts' roles, by position: the explicit ones, or (when no host sets any) the lowest ids take the quorum's
 * role (ZooKeeper or KRaft controller) and, co-located, brokers too.
 */
function kafkaRoles(hosts: ListedHost[], brokers: number, quorum: QuorumSettings, bad: Bad): Role[][] {
    if (hosts.length === 0) return [];
    const what = quorum.role === "zookeeper" ? "ZooKeeper member(s)" : "KRaft controller(s)";
    const countKey = quorum.role === "zookeeper" ? "zookeeperCount" : "controllerCount";
    const { count, placement } = quorum;
    if (!hosts.some((h) => h.roles !== undefined)) {
        const need = placement === "colocated" ? Math.max(brokers, count) : brokers + count;
        if (hosts.length < need) {
            bad("hosts", `${hosts.length} host(s) listed, but ${placement} placement of ${brokers} broker(s) and ${count} ${what} needs ${need}`,
                `add hosts to kafka:hosts or lower kafka:brokerCount / kafka:${countKey}`);
            return [];
        }
        return hosts.map((_, i): Role[] => {
            if (placement === "colocated") return [...(i < count ? [quorum.role] : []), ...(i < brokers ? ["broker" as const] : [])];
            if (i < count) return [quorum.role];
            return i < count + brokers ? ["broker"] : [];
        });
    }
    hosts.forEach((h, i) => {
        if (h.roles === undefined && !h.badRoles) bad(`hosts[${i}].roles`, "some hosts set roles, so every host must", `pulumi config set --path 'kafka:hosts[${i}].roles[0]' broker`);
    });
    // A host whose roles did not parse is reported as such; counting it as having none would add advice that misleads.
    if (hosts.some((h) => h.badRoles)) return hosts.map((h) => h.roles ?? []);
    const nb = hosts.filter((h) => h.roles?.includes("broker")).length;
    const nq = hosts.filter((h) => h.roles?.includes(quorum.role)).length;
    if (nb !== brokers) bad("brokerCount", `is ${brokers} but ${nb} host(s) have the broker role`, `pulumi config set kafka:brokerCount ${nb}`);
    if (nq !== count) bad(countKey, `is ${count} but ${nq} host(s) have the ${quorum.role} role`, `pulumi config set kafka:${countKey} ${nq}`);
    return hosts.map((h) => h.roles ?? []);
}
