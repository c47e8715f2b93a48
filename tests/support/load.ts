// Shared by the real-host suites (ZooKeeper and KRaft): acknowledged sends of Kafka's VerifiableProducer, consuming a
// topic back with partition, offset and key, an acks=all producer kept writing while a fault happens (zero acknowledged
// messages lost), and waiting for under-replicated partitions to return to zero.
import * as assert from "assert";
import { log } from "../../scripts/lib/local";
import { KafkaClient } from "./kafka";
import { poll } from "./poll";

/** Messages per second of the producer that writesUnderLoad keeps writing. */
const LOAD_RATE = 100;

export interface Acked { value: number; partition: number; offset: number; key?: string }

/** Parses VerifiableProducer's JSON lines into acknowledged sends. */
export function acked(output: string): Acked[] {
    const out: Acked[] = [];
    for (const line of output.split("\n")) {
        if (!line.includes("producer_send_success")) continue;
        const e = JSON.parse(line);
        out.push({ value: Number(e.value), partition: e.partition, offset: e.offset, key: e.key });
    }
    return out;
}

/** Consumes a topic from the beginning until `want` values are seen (bounded), with partition, offset, key. */
export async function consumeTopic(client: KafkaClient, bootstrap: string, topic: string, want: number): Promise<Acked[]> {
    const out = await client.must("kafka-console-consumer.sh", ["--bootstrap-server", bootstrap, "--topic", topic,
        "--from-beginning", "--max-messages", String(want), "--timeout-ms", "60000",
        "--property", "print.partition=true", "--property", "print.offset=true", "--property", "print.key=true",
        "--property", "key.separator=|"], 300_000);
    const rows: Acked[] = [];
    for (const line of out.split("\n")) {
        const m = /^Partition:(\d+)[|\t]Offset:(\d+)[|\t](\S*)\|(\d+)$/.exec(line.trim());
        if (m) rows.push({ partition: Number(m[1]), offset: Number(m[2]), key: m[3], value: Number(m[4]) });
    }
    return rows;
}

/**
 * Runs `fault` while an acks=all producer keeps writing; then asserts no acknowledged message was lost (and, with
 * `noErrors`, that no send failed at all: what a client saw).
 */
export async function writesUnderLoad(client: KafkaClient, bootstrap: string, topic: string, fault: (ackedSoFar: () => number) => Promise<void>,
    noErrors = false): Promise<void> {
    await client.must("kafka-topics.sh", ["--bootstrap-server", bootstrap, "--create", "--topic", topic,
        "--partitions", "6", "--replication-factor", "3"]);
    // VerifiableProducer turns retries off (a leader change then fails a send); a client that must see no error is an
    // ordinary one: Kafka's default retries, within its default delivery timeout.
    const config = noErrors ? client.propertiesFile("retrying", `${client.loginProperties ?? ""}retries=2147483647\n`) : undefined;
    // A cap out of reach: it writes until it is stopped. 200,000 ran out during a 22-minute fault (200 messages/s reach
    // it in 1,000 s), and the producer had exited before the check that it is still acknowledged.
    // LOAD_RATE: a broker restart still falls among a thousand sends or more. At 200/s a loaded lab's three brokers took
    // about a third of a core, and the brokers were the largest share of the CPU of a CI run (four real-host suites on
    // two cores).
    const producer = client.start("kafka-verifiable-producer.sh", ["--bootstrap-server", bootstrap, "--topic", topic,
        "--max-messages", "100000000", "--acks", "-1", "--throughput", String(LOAD_RATE)], ...(config ? [config] : []));
    const span = (t: number) => `${((Date.now() - t) / 1000).toFixed(1)} s`;
    // Waits until the producer has `more` acknowledgements beyond `from`; on a timeout its last output says why.
    const ackedBeyond = async (what: string, timeoutMs: number, from: number, more: number) => {
        try {
            await poll(what, timeoutMs, async () => acked(producer.output()).length > from + more);
        } catch (e) {
            log(`${topic}: ${from} acknowledged before "${what}"; the producer's last output: ${producer.output().split("\n").slice(-15).join("\n")}`);
            throw e;
        }
    };
    try {
        // The first acknowledgements wait for the producer's JVM, its login and metadata: slow on a loaded machine.
        await ackedBeyond("producer acknowledgements", 180_000, 0, 200);
        const t = Date.now();
        await fault(() => acked(producer.output()).length);
        log(`${topic}: fault and recovery took ${span(t)}`);
        await ackedBeyond("producer keeps being acknowledged after the fault", 120_000, acked(producer.output()).length, 200);
    } finally {
        await client.stop(producer.child);
    }
    const sent = acked(producer.output());
    const values = new Set(sent.map((a) => a.value));
    assert.ok(values.size > 400, `only ${values.size} acknowledged`);
    const failed = (producer.output().match(/"name":"producer_send_error"/g) ?? []).length;
    if (noErrors) assert.strictEqual(failed, 0, `${failed} sends failed: ${(/.*producer_send_error.*/.exec(producer.output()) ?? [""])[0].slice(0, 500)}`);
    // Read exactly what the topic holds (sends that failed may or may not have been written), so the consumer stops
    // as soon as it has everything instead of waiting out its timeout.
    const t = Date.now();
    const held = await client.recordCount(bootstrap, topic);
    assert.ok(held >= values.size, `the topic holds ${held} records, fewer than the ${values.size} acknowledged`);
    const consumed = new Set((await consumeTopic(client, bootstrap, topic, held)).map((c) => c.value));
    const lost = [...values].filter((v) => !consumed.has(v));
    assert.deepStrictEqual(lost, [], `${lost.length} acknowledged messages lost`);
    log(`${topic}: ${values.size} acknowledged, ${failed} sends failed, ${held} held, ${consumed.size} consumed in ${span(t)}, 0 lost`);
}

export async function urpBackToZero(client: KafkaClient, bootstrap: string, what: string): Promise<void> {
    await poll(`${what}: under-replicated partitions back to 0`, 300_000, async () => (await client.underReplicated(bootstrap)) === 0, 3000);
}
