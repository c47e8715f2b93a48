// Shared by the real-host and e2e suites: `pulumi up` through the Automation API with the operations it performed,
// and the state the engine recorded for each command.
import * as assert from "assert";
import { EngineEvent, Stack, UpOptions, UpResult } from "@pulumi/pulumi/automation";
import { RawConfig } from "../../components/config";
import { programStack, removeStack } from "../../scripts/lib/pulumi";

/** Names of resources per operation (create, update, replace, delete, same) seen in an update's events. */
export function opsOf(events: EngineEvent[]): Map<string, string[]> {
    const ops = new Map<string, string[]>();
    for (const e of events) {
        const m = e.resOutputsEvent?.metadata;
        if (!m || m.type === "pulumi:pulumi:Stack" || m.type.startsWith("pulumi:providers:") || m.type === "kafka:index:KafkaCluster") continue;
        const name = m.urn.split("::").pop()!;
        if (!ops.has(m.op)) ops.set(m.op, []);
        ops.get(m.op)!.push(name);
    }
    for (const list of ops.values()) list.sort();
    return ops;
}

/**
 * Seconds each resource the update changed took (its pre event to its outputs event; the engine stamps whole
 * seconds), for the log.
 */
export function stepSeconds(events: EngineEvent[]): Map<string, number> {
    const started = new Map<string, number>();
    const took = new Map<string, number>();
    for (const e of events) {
        const pre = e.resourcePreEvent?.metadata;
        if (pre && pre.op !== "same") started.set(pre.urn, e.timestamp);
        const out = e.resOutputsEvent?.metadata;
        if (out && started.has(out.urn)) took.set(out.urn.split("::").pop()!, e.timestamp - started.get(out.urn)!);
    }
    return took;
}

/** A successful `pulumi up`, with the operations it performed per resource and the seconds each change took. */
export async function upWithOps(stack: Stack, opts: UpOptions = {}): Promise<{ result: UpResult; ops: Map<string, string[]>; seconds: Map<string, number> }> {
    const events: EngineEvent[] = [];
    const result = await stack.up({ ...opts, onEvent: (e) => events.push(e), onOutput: () => undefined });
    assert.strictEqual(result.summary.result, "succeeded");
    return { result, ops: opsOf(events), seconds: stepSeconds(events) };
}

/** A `pulumi up` that is expected to fail: its error, or undefined when it succeeded. */
export function failedUp(stack: Stack): Promise<Error | undefined> {
    return stack.up({ onOutput: () => undefined }).then(() => undefined, (e) => e as Error);
}

/** What a preview would change now: [operation, count] for every operation other than "same". */
export async function pendingChanges(stack: Stack): Promise<[string, number][]> {
    const preview = await stack.preview({ onOutput: () => undefined });
    return Object.entries(preview.changeSummary).filter(([op, n]) => op !== "same" && n > 0);
}

export interface CommandState { urn: string; type: string; name: string; outputs: Record<string, unknown> }

/** The command resources in the stack's state, by resource name. */
export async function commandStates(stack: Stack): Promise<Map<string, CommandState>> {
    const resources = ((await stack.exportStack()).deployment.resources ?? []) as { urn: string; type: string; outputs?: Record<string, unknown> }[];
    return new Map(resources.filter((r) => r.type.startsWith("command:"))
        .map((r) => [r.urn.split("::").pop()!, { urn: r.urn, type: r.type, name: r.urn.split("::").pop()!, outputs: r.outputs ?? {} }]));
}

/** How many resources the stack's state holds. */
export async function resourceCount(stack: Stack): Promise<number> {
    return ((await stack.exportStack()).deployment.resources ?? []).length;
}

/** `pulumi destroy` when the stack holds anything (a leftover of an interrupted run, or a suite's cluster). */
export async function destroyIfAny(stack: Stack): Promise<void> {
    if ((await resourceCount(stack)) > 0) await stack.destroy({ onOutput: () => undefined });
}

/**
 * A suite's stack at its start, on hosts freshHostsUp has just rebuilt, empty. What an interrupted run left in it (a
 * killed CI job, a restarted machine) describes hosts that no longer exist: their delete commands would reach wiped
 * hosts or, for one not booted this time, nothing at all (the destroy fails). So such a stack is dropped, not
 * destroyed, and made again; a leftover never makes the first `up` a partial one.
 */
export async function freshStack(name: string, raw: RawConfig): Promise<Stack> {
    const stack = await programStack(name, raw);
    if ((await resourceCount(stack)) === 0) return stack;
    await removeStack(stack);
    const again = await programStack(name, raw);
    assert.strictEqual(await resourceCount(again), 0, `stack ${name} still holds resources after it was removed`);
    return again;
}

/** A suite's stack gone for good: its resources destroyed, then the stack and its Pulumi.<name>.yaml removed. */
export async function disposeStack(stack: Stack | undefined): Promise<void> {
    if (!stack) return;
    await destroyIfAny(stack);
    await removeStack(stack);
}
