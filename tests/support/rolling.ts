// Shared by the real-host and e2e tests: service start/stop times from systemd, an outside monitor of
// under-replicated partitions, and the assertion that a change rolled through the brokers one at a time.
import * as assert from "assert";
import * as path from "path";
import { Ssh } from "../../scripts/lib/local";
import { KafkaClient } from "./kafka";

export interface ServiceState { pid: number; start: bigint; stop: bigint }

/** MainPID and CLOCK_MONOTONIC start/stop times (µs) of a unit on each host (hosts share this machine's kernel). */
export async function serviceStates(ssh: Ssh, addresses: string[], svc: "kafka" | "zookeeper" | "kafka-controller"): Promise<Map<string, ServiceState>> {
    const out = new Map<string, ServiceState>();
    for (const a of addresses) {
        const r = await ssh.must(a, `systemctl show -p MainPID -p ExecMainStartTimestampMonotonic -p ActiveExitTimestampMonotonic ${svc}`, 30_000);
        const v = Object.fromEntries(r.trim().split("\n").map((l) => l.split("=")));
        out.set(a, { pid: Number(v.MainPID ?? 0), start: BigInt(v.ExecMainStartTimestampMonotonic || 0), stop: BigInt(v.ActiveExitTimestampMonotonic || 0) });
    }
    return out;
}

/** Asserts that each of `units` on the host at `address` (named `name` in the message) is disabled and inactive. */
export async function assertStoppedAndDisabled(ssh: Ssh, address: string, name: string, units: string[]): Promise<void> {
    const r = await ssh.exec(address, `systemctl is-enabled ${units.join(" ")}; systemctl is-active ${units.join(" ")}`, 30_000);
    assert.strictEqual(r.stdout.trim(), [...units.map(() => "disabled"), ...units.map(() => "inactive")].join("\n"), `${name}: ${units.join(", ")} stopped and disabled`);
}

/** When a unit last began stopping and when it was last fully stopped (CLOCK_MONOTONIC µs; 0n if never in this boot). */
export interface StopTimes { stopping: bigint; stopped: bigint }

/**
 * Stop times of units on one host, from systemd's own journal messages of the host's current boot ("Stopping X" when
 * the stop job starts, "Stopped X" when the unit is down). systemctl's timestamps cannot serve here: a stopped,
 * disabled unit is unloaded by systemd and `systemctl show` then reports 0 for all of them.
 */
export async function stopTimes(ssh: Ssh, address: string, services: string[]): Promise<Map<string, StopTimes>> {
    const units = services.map((s) => `UNIT=${s}.service`).join(" ");
    const out = await ssh.must(address, `sudo -n journalctl -b --no-pager -o json --output-fields=UNIT,MESSAGE,JOB_TYPE,JOB_RESULT ${units}`, 30_000);
    const times = new Map<string, StopTimes>(services.map((s) => [s, { stopping: 0n, stopped: 0n }]));
    for (const line of out.split("\n")) {
        if (!line.startsWith("{")) continue;
        const e = JSON.parse(line) as Record<string, unknown>;
        const svc = String(e.UNIT ?? "").replace(/\.service$/, "");
        const t = times.get(svc);
        const msg = typeof e.MESSAGE === "string" ? e.MESSAGE : "";
        if (!t || e.JOB_TYPE !== "stop") continue;
        const at = BigInt(String(e.__MONOTONIC_TIMESTAMP));
        if (msg.startsWith("Stopping ")) t.stopping = at;
        else if (msg.startsWith("Stopped ")) t.stopped = at;
    }
    return times;
}

export interface UrpSample { start: bigint; end: bigint; urp: number | undefined }

/**
 * Samples under-replicated partitions from outside, every half second, until stop() is called: one JVM for the whole
 * change (UrpWatch.java, Kafka's admin client; bounded to 20,000 samples). samples fills in at stop(), which fails
 * with the watcher's own error when it took no sample at all.
 */
export function urpMonitor(client: KafkaClient, bootstrap: string): { samples: UrpSample[]; stop: () => Promise<void> } {
    const samples: UrpSample[] = [];
    const watcher = client.start("kafka-run-class.sh", [path.join(__dirname, "UrpWatch.java"), bootstrap, client.loginFile ?? "", "500", "20000"]);
    return {
        samples,
        stop: async () => {
            await client.stop(watcher.child, 5000);
            for (const line of watcher.output().split("\n")) {
                const m = /^(\d+) (\d+) (\d+|-)$/.exec(line.trim());
                if (m) samples.push({ start: BigInt(m[1]), end: BigInt(m[2]), urp: m[3] === "-" ? undefined : Number(m[3]) });
            }
            if (samples.length === 0) throw new Error(`the URP watcher took no sample: ${watcher.errors().slice(-2000)}`);
        },
    };
}

/**
 * Asserts that every broker was restarted exactly once, in `order`, each stop only after the previous broker was
 * running again and, given `samples`, after the cluster had been seen with zero under-replicated partitions.
 */
export function assertRolled(order: string[], before: Map<string, ServiceState>, after: Map<string, ServiceState>, samples?: UrpSample[]): void {
    for (const a of order) {
        assert.notStrictEqual(after.get(a)!.pid, before.get(a)!.pid, `${a} restarted`);
        assert.ok(after.get(a)!.stop > before.get(a)!.start, `${a} stopped during the change`);
    }
    const rolled = [...order].sort((x, y) => (after.get(x)!.stop < after.get(y)!.stop ? -1 : 1));
    assert.deepStrictEqual(rolled, order, "brokers restart in id order");
    for (let i = 1; i < order.length; i++) {
        const prev = after.get(order[i - 1])!;
        const cur = after.get(order[i])!;
        assert.ok(cur.stop > prev.start, `${order[i]} stopped only after ${order[i - 1]} was running again`);
        if (!samples) continue;
        const between = samples.filter((s) => s.start > prev.start && s.end < cur.stop);
        assert.ok(between.some((s) => s.urp === 0), `no URP=0 sample between ${order[i - 1]} restart and ${order[i]} stop`);
        const last = samples.filter((s) => s.end < cur.stop).pop();
        assert.strictEqual(last?.urp, 0, `${order[i]} stopped while URP was ${last?.urp}`);
    }
}
