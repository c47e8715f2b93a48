// The ZooKeeper -> KRaft migration (KIP-866, Kafka 3.9 docs "ZooKeeper to KRaft Migration"), as a converging `pulumi up`
// decides it: what the stack asks for (a target), what the hosts run (reports, read-only), and from the two the next
// actions, forward or back, or a refusal that names the fix. Pure: no Pulumi, no SSH.
//
// Phases, as Kafka's docs number them (and what a host shows of each):
//   zookeeper    brokers in ZooKeeper mode, no controller                      (server.properties: zookeeper.connect)
//   A controllers  KRaft controllers in migration mode beside ZooKeeper       (controller.properties: zookeeper.metadata.migration.enable=true)
//   B migrating  brokers still in ZooKeeper mode, with the migration settings (server.properties: both zookeeper.connect and the flag)
//                and the controllers' quorum; once the last one registers, the controllers copy the metadata (ZkMigrationState MIGRATION)
//   C dual-write brokers in KRaft mode (process.roles=broker), the controllers still writing every change to ZooKeeper too:
//                the last phase a rollback can leave
//   D finalized  controllers out of migration mode (no zookeeper.connect): ZooKeeper is no longer read or written
//
// Every phase is decided from what the hosts report, never from what a previous run did: an interrupted `pulumi up`
// carries on (or rolls back) from where the hosts are. The roll inside a phase (one broker at a time, gates on
// under-replicated partitions) is the plan's; this module says which rolls to run, in which order.
// Wired: observe.sh reports what each host's roles run (parseReport); KafkaCluster decides (decideMigration), admits
// (admitMigration: the preconditions, the running cluster's id, the actions the plan runs) or refuses before anything
// changes; roles/migration.ts has the steps of phases A to D. Not run by the plan yet (admitMigration refuses them with
// the fix): the rollback actions and the dynamic quorum of 4.x. The phases A to D, the rollback from C, a second
// attempt and 3.9 -> 4.3.2 with the static quorum made dynamic were run by hand on this project's lab hosts (3.9.2,
// sasl_ssl, ACLs, SCRAM users, a producer throughout: nothing acknowledged lost: docs/zk-migration-lab.md), which is
// where the action list below comes from.

/** What the stack asks for: derived from kafka:metadata, kafka:kafkaVersion and kafka:zookeeperRetired. */
export type MigrationTarget = "zookeeper" | "dual-write" | "finalized" | "kraft";

/** ZkMigrationState of the active controller (kafka.controller:type=KafkaController,name=ZkMigrationState), by its value. */
export const ZK_MIGRATION_STATES = ["NONE", "MIGRATION", "PRE_MIGRATION", "POST_MIGRATION", "ZK"] as const;
export type ZkMigrationState = typeof ZK_MIGRATION_STATES[number];

/** How a broker runs, from its server.properties. */
export type BrokerMode = "zookeeper" | "migrating" | "kraft";

/** What one node's host reports (observe.sh). A role the host has no unit of is absent. */
export interface NodeReport {
    node: string;
    /** `cluster`: the cluster id of its log directory (meta.properties), once it was formatted or started. */
    broker?: { active: boolean; mode: BrokerMode; version: string; id: number; ibp?: string; cluster?: string };
    zookeeper?: { active: boolean };
    /** `quorum`: how the controller names its quorum: `voters` (static, as a migration makes it) or `bootstrap` (dynamic). */
    controller?: { active: boolean; migration: boolean; zookeeperConnect: boolean; version: string; id: number; quorum: "voters" | "bootstrap" };
}

/** What the cluster reports besides its nodes: the active controller's migration state, and ZooKeeper's /migration znode. */
export interface QuorumReport {
    zkMigrationState?: ZkMigrationState;
    /** /migration exists under the chroot (a migration was started once; it must go before a new attempt). */
    migrationZnode: boolean;
}

/**
 * The phase the hosts are in, the lowest any node shows (a roll half-way is in the phase it started from); `new` when no
 * host runs a broker or a controller yet (the plan builds the cluster in the configured mode).
 */
export type MigrationPhase = "new" | "zookeeper" | "controllers" | "migrating" | "dual-write" | "finalized" | "kraft";

/**
 * One action of a converging `pulumi up`, in the order they run. Forward: deploy-controllers (A) -> await-pre-migration
 * -> roll-brokers-migrating (B) -> await-migration -> roll-brokers-kraft (C) ... finalize-controllers -> retire-zookeeper
 * (D, the active controller last: the first controller without the flag that becomes active finalizes). Back (Kafka's
 * revert table): roll-brokers-zookeeper (C back to B, the migration flag kept) -> remove-controllers (stopped, disabled,
 * their metadata directories wiped: a later attempt formats afresh, never on the stale log) -> delete-controller-znode
 * -> delete-migration-znode (else a new attempt skips the copy) -> roll-brokers-plain (the migration settings removed).
 * After finalizing, on 4.x: dynamic-quorum (kraft.version 1 named alone, then every node's files from the static
 * controller.quorum.voters to controller.quorum.bootstrap.servers; until then every node keeps the voters, as a node
 * given only bootstrap servers cannot find the leader of a static quorum).
 */
export type MigrationAction =
    | "check-preconditions" | "deploy-controllers" | "await-pre-migration" | "roll-brokers-migrating" | "await-migration"
    | "roll-brokers-kraft" | "finalize-controllers" | "await-post-migration" | "retire-zookeeper"
    | "roll-brokers-zookeeper" | "remove-controllers" | "delete-controller-znode" | "delete-migration-znode" | "roll-brokers-plain"
    | "dynamic-quorum";

export interface MigrationDecision {
    /** Where the hosts are. */
    phase: MigrationPhase;
    /** What this `pulumi up` does, in order; empty when the cluster is where the stack wants it. */
    actions: MigrationAction[];
    /** Set when the stack asks for something the hosts cannot go to: nothing is changed, and this says why and the fix. */
    refusal?: string;
    /** What this `pulumi up` does, in words (or where the cluster is, when it does nothing). */
    summary: string;
    /** The `metadataMigration` output: where the cluster is once this `pulumi up` is done, and the next command. */
    after: string;
}

/** The target a configuration means; a problem (with its fix) when the combination is not one. */
export function migrationTarget(metadata: "zookeeper" | "kraft", kafkaVersion: string, zookeeperRetired: boolean):
    { target: MigrationTarget } | { problem: string } {
    const major = Number(kafkaVersion.split(".")[0]);
    const line = kafkaVersion.split(".").slice(0, 2).join(".");
    if (metadata === "zookeeper") {
        if (zookeeperRetired) {
            return { problem: "kafka:zookeeperRetired is true, and kafka:metadata is zookeeper: a cluster whose ZooKeeper was retired keeps " +
                "its metadata in KRaft controllers. Fix: pulumi config set kafka:metadata kraft, or pulumi config rm kafka:zookeeperRetired" };
        }
        return { target: "zookeeper" };
    }
    if (major >= 4) return { target: "kraft" };
    if (line !== "3.9") {
        return { problem: `Kafka ${kafkaVersion} cannot migrate to KRaft: the migration runs on Kafka 3.9 (brokers and controllers). ` +
            "Fix: first upgrade the ZooKeeper-mode cluster (pulumi config set kafka:kafkaVersion 3.9.2 with kafka:metadata zookeeper, " +
            "pulumi up), then set kafka:metadata kraft" };
    }
    return { target: zookeeperRetired ? "finalized" : "dual-write" };
}

/**
 * The target of a validated configuration (parseConfig refuses the combinations migrationTarget has a problem with; a
 * stack that migrates says so in `migration`).
 */
export function metadataTarget(cfg: { metadata: "zookeeper" | "kraft"; kafkaVersion: string; migration?: { target: MigrationTarget } }): MigrationTarget {
    if (cfg.migration) return cfg.migration.target;
    const t = migrationTarget(cfg.metadata, cfg.kafkaVersion, false);
    if ("problem" in t) throw new Error(t.problem);
    return t.target;
}

/** A broker's phase rank: how far along the migration it is. */
const BROKER_RANK: Record<BrokerMode, number> = { zookeeper: 0, migrating: 1, kraft: 2 };

/**
 * The phase the hosts are in: the lowest any broker shows while the controllers migrate; finalized as soon as one
 * controller runs without the migration flag (from then on there is no way back).
 */
export function observedPhase(nodes: NodeReport[]): MigrationPhase {
    const brokers = nodes.flatMap((n) => (n.broker ? [n.broker] : []));
    const controllers = nodes.flatMap((n) => (n.controller ? [n.controller] : []));
    if (controllers.length === 0 && brokers.length === 0) return "new";
    if (controllers.length === 0) {
        // No controller: ZooKeeper mode (brokers left with migration settings by an interrupted rollback are still that),
        // unless a broker runs in KRaft mode (it cannot serve without controllers; only bringing them back helps).
        return brokers.some((b) => b.mode === "kraft") ? "dual-write" : "zookeeper";
    }
    if (controllers.some((c) => !c.migration)) {
        const settled = controllers.every((c) => !c.migration && !c.zookeeperConnect) && brokers.every((b) => b.mode === "kraft") &&
            !nodes.some((n) => n.zookeeper !== undefined);
        return settled ? "kraft" : "finalized";
    }
    const lowest = Math.min(...brokers.map((b) => BROKER_RANK[b.mode]));
    if (brokers.length === 0 || lowest === 0) return "controllers";
    return lowest === 1 ? "migrating" : "dual-write";
}

/** The brokers not yet in `mode` (the ones a roll towards it restarts), by node name. */
export function brokersNotIn(nodes: NodeReport[], mode: BrokerMode): string[] {
    return nodes.filter((n) => n.broker !== undefined && n.broker.mode !== mode).map((n) => n.node);
}

/**
 * Before the first change of a migration, on every host: what Kafka's docs require. Each problem names the host and the
 * fix; any problem stops the migration before anything changes.
 */
export function migrationPreconditions(nodes: NodeReport[], controllerIds: number[], zookeeperMembers: number): string[] {
    const problems: string[] = [];
    const brokers = nodes.filter((n) => n.broker !== undefined);
    if (brokers.length === 0) problems.push("no broker reported from any host: the migration moves a running cluster. Fix: check kafka:hosts");
    for (const n of brokers) {
        const b = n.broker!;
        if (!b.active) {
            problems.push(`${n.node}: the broker is not running; the controllers copy the metadata only once every broker has registered ` +
                `with them. Fix: start it (sudo systemctl start kafka) or run pulumi up with kafka:metadata zookeeper to repair it first`);
        }
        if (!b.version.startsWith("3.9.")) {
            problems.push(`${n.node}: the broker runs Kafka ${b.version}, and the migration needs every broker on 3.9. ` +
                "Fix: pulumi config set kafka:metadata zookeeper and kafka:kafkaVersion 3.9.2, pulumi up, then set kafka:metadata kraft again");
        }
        // Without inter.broker.protocol.version a broker speaks its release's; only a 3.9 broker can be pinned lower.
        const ibp = b.ibp ?? b.version.split(".").slice(0, 2).join(".");
        if (b.version.startsWith("3.9.") && !/^3\.9(-IV\d+)?$/.test(ibp)) {
            problems.push(`${n.node}: the broker runs with inter.broker.protocol.version ${ibp}, and the migration needs 3.9 ` +
                "(changing it during the migration can break the cluster). Fix: remove inter.broker.protocol.version from kafka:brokerProperties " +
                "and pulumi up with kafka:metadata zookeeper (a roll that raises it), then set kafka:metadata kraft again");
        }
        if (!Number.isInteger(b.id) || b.id < 0) {
            problems.push(`${n.node}: the broker has no fixed broker.id (${b.id}); the migration needs each broker's id in its configuration. ` +
                "Fix: pulumi up with kafka:metadata zookeeper once (it writes broker.id)");
        }
        if (controllerIds.includes(b.id)) {
            problems.push(`${n.node}: broker.id ${b.id} is also a controller's node.id (one id space in KRaft). Fix: give the host another id in kafka:hosts`);
        }
    }
    const members = nodes.filter((n) => n.zookeeper !== undefined);
    const down = members.filter((n) => !n.zookeeper!.active).map((n) => n.node);
    if (members.length < zookeeperMembers || down.length > 0) {
        problems.push(`ZooKeeper: ${members.length - down.length} of ${zookeeperMembers} members run${down.length ? ` (down: ${down.join(", ")})` : ""}; ` +
            "the controllers read and write the metadata there until the migration is finalized. Fix: run pulumi up with kafka:metadata zookeeper to repair the ensemble first");
    }
    return problems;
}

/**
 * The running cluster's id, which the migration's controllers are formatted with: the one every broker's log directory
 * names (they all must agree).
 */
export function observedClusterId(nodes: NodeReport[]): { id: string } | { problem: string } {
    const brokers = nodes.filter((n) => n.broker !== undefined);
    const missing = brokers.filter((n) => n.broker!.cluster === undefined).map((n) => n.node);
    const ids = [...new Set(brokers.flatMap((n) => (n.broker!.cluster !== undefined ? [n.broker!.cluster] : [])))];
    if (ids.length === 1 && missing.length === 0) return { id: ids[0] };
    if (ids.length > 1) {
        return { problem: `the brokers belong to different clusters (${brokers.map((n) => `${n.node}: ${n.broker!.cluster ?? "none"}`).join(", ")}). ` +
            "Fix: point kafka:hosts at the hosts of one cluster" };
    }
    return { problem: `no cluster id in the log directory of the broker on ${missing.join(", ") || "any host"} (meta.properties): a broker writes it at its ` +
        "first start. Fix: run pulumi up with kafka:metadata zookeeper once, so that every broker runs, then set kafka:metadata kraft again" };
}

/** What the plan runs of a decision so far (roles/migration.ts): the forward migration up to phase C. */
export const PLANNED_ACTIONS: ReadonlySet<MigrationAction> = new Set<MigrationAction>([
    "check-preconditions", "deploy-controllers", "await-pre-migration", "roll-brokers-migrating", "await-migration", "roll-brokers-kraft",
    "finalize-controllers", "await-post-migration", "retire-zookeeper",
    "roll-brokers-zookeeper", "remove-controllers", "delete-controller-znode", "delete-migration-znode", "roll-brokers-plain",
]);

/**
 * The decision this `pulumi up` may carry out: refused when a precondition of the migration's start fails on any host
 * (every problem named, with its fix), when the running cluster's id is not known (a migration needs it), or when it
 * needs an action the plan does not run yet. Nothing changes on any host in these cases.
 */
export function admitMigration(d: MigrationDecision, nodes: NodeReport[], expect: { controllerIds: number[]; zookeeperMembers: number; migrating: boolean }):
    MigrationDecision {
    if (d.refusal !== undefined) return d;
    const refused = (refusal: string): MigrationDecision => ({ ...d, actions: [], refusal, summary: NEXT[d.phase], after: NEXT[d.phase] });
    if (d.actions.includes("check-preconditions")) {
        const problems = migrationPreconditions(nodes, expect.controllerIds, expect.zookeeperMembers);
        if (problems.length > 0) return refused(`the migration to KRaft cannot start: ${problems.join("; ")}`);
    }
    if (expect.migrating) {
        const id = observedClusterId(nodes);
        if ("problem" in id) return refused(`the migration to KRaft needs the running cluster's id: ${id.problem}`);
    }
    const missing = d.actions.filter((a) => !PLANNED_ACTIONS.has(a));
    if (missing.length > 0) {
        // (Only the static quorum's move to a dynamic one is left: a migrated cluster's controllers without
        // kafka:zookeeperRetired on 4.x.)
        return refused(`the cluster is in ${NEXT[d.phase]}, and this update would need ${d.summary}: this program does not run ` +
            `${missing.join(", ")} yet. Fix: pulumi config set kafka:zookeeperRetired true (a migrated cluster keeps the migration's ` +
            "controllers and static quorum on 4.x; docs/zk-migration-lab.md, section 8b, has the move to a dynamic quorum done by hand)");
    }
    return d;
}

const NEXT: Record<MigrationPhase, string> = {
    new: "not built yet",
    zookeeper: "ZooKeeper mode",
    controllers: "phase A: KRaft controllers run beside ZooKeeper in migration mode; the brokers are in ZooKeeper mode",
    migrating: "phase B: brokers in ZooKeeper mode with the migration settings; the controllers hold the copied metadata",
    "dual-write": "phase C: brokers in KRaft mode, the controllers still write every change to ZooKeeper (a rollback is still possible)",
    finalized: "finalized: the controllers no longer use ZooKeeper",
    kraft: "KRaft mode",
};

/** Where a cluster is once an update towards each target is done, and the next command. */
const AFTER: Record<MigrationTarget, string> = {
    zookeeper: NEXT.zookeeper,
    "dual-write": `${NEXT["dual-write"]}. Next: pulumi config set kafka:zookeeperRetired true && pulumi up (finalizes: cannot be undone), ` +
        "or pulumi config rm kafka:metadata && pulumi up to roll back",
    finalized: `${NEXT.finalized}, which is retired; the migration's static quorum stays (kraft.version 0). On 3.9, next: Kafka 4.x ` +
        "(pulumi config set kafka:kafkaVersion 4.3.2, pulumi up): controllers, then brokers, then the feature levels",
    kraft: NEXT.kraft,
};

/** Kafka's rollback from phase B (and from A once a broker has the migration settings). */
const ROLLBACK_B: [MigrationAction[], string] = [["remove-controllers", "delete-controller-znode", "delete-migration-znode", "roll-brokers-plain"],
    "rolling back phase B: controllers removed, /controller and /migration deleted, brokers rolled without the migration settings"];

/**
 * What this `pulumi up` does for `target`, given what the hosts report. Forward it stops at dual-write unless the target
 * is finalized; back it follows Kafka's revert table for the phase the hosts are in. A half-done roll carries on.
 */
export function decideMigration(target: MigrationTarget, nodes: NodeReport[], quorum: QuorumReport): MigrationDecision {
    const phase = observedPhase(nodes);
    const decided = (actions: MigrationAction[], summary: string): MigrationDecision => ({ phase, actions, summary, after: AFTER[target] });
    const refused = (refusal: string): MigrationDecision => ({ phase, actions: [], refusal, summary: NEXT[phase], after: NEXT[phase] });
    const migratingLeft = brokersNotIn(nodes, "migrating").length > 0;
    const kraftLeft = brokersNotIn(nodes, "kraft").length > 0;
    const zookeeperLeft = brokersNotIn(nodes, "zookeeper").length > 0;
    const hasControllers = nodes.some((n) => n.controller !== undefined);
    // Back from B; a broker in KRaft mode (a phase the lowest broker hides) goes back to B first, never straight to plain.
    const rollbackB = () => (nodes.some((n) => n.broker?.mode === "kraft")
        ? decided(["roll-brokers-zookeeper", ...ROLLBACK_B[0]], `brokers still in KRaft mode back to phase B first; ${ROLLBACK_B[1]}`)
        : decided(...ROLLBACK_B));
    // Nothing runs yet: the plan builds the cluster as configured (a migration target on a new cluster is the
    // configuration's to refuse).
    if (phase === "new") {
        if (target === "dual-write" || target === "finalized") {
            return refused("kafka:metadata kraft with Kafka 3.9 migrates a running ZooKeeper-mode cluster to KRaft, and no broker runs on these " +
                "hosts yet. Fix: build the cluster in ZooKeeper mode first (pulumi config rm kafka:metadata, pulumi up), or build a KRaft " +
                "cluster on Kafka 4.x (pulumi config set kafka:kafkaVersion 4.3.2)");
        }
        return decided([], `${NEXT.new}: pulumi up builds it in ${target === "zookeeper" ? "ZooKeeper" : "KRaft"} mode`);
    }
    switch (target) {
    case "zookeeper":
        switch (phase) {
        case "zookeeper":
            // Brokers left with migration settings (a rollback interrupted after the controllers went) get them removed.
            return zookeeperLeft
                ? decided(["delete-controller-znode", "delete-migration-znode", "roll-brokers-plain"],
                    "rolling back phase B (carried on): /controller and /migration deleted, brokers rolled without the migration settings")
                : decided([], NEXT.zookeeper);
        case "controllers":
            // Phase A: the brokers never saw the controllers. Some may have been rolled half-way into B: treated as B.
            return zookeeperLeft
                ? rollbackB()
                : decided(["remove-controllers", ...(quorum.migrationZnode ? ["delete-migration-znode" as const] : [])], "rolling back phase A: controllers removed");
        case "migrating":
            // (A rollback from C interrupted half-way: the brokers still in KRaft mode go back to B first.)
            return rollbackB();
        case "dual-write":
            if (!hasControllers) {
                return refused("brokers run in KRaft mode and no controller runs: they cannot serve. Fix: set kafka:metadata kraft and pulumi up " +
                    "(it brings the controllers back), then roll back again");
            }
            return decided(["roll-brokers-zookeeper", "remove-controllers", "delete-controller-znode", "delete-migration-znode", "roll-brokers-plain"],
                "rolling back phase C: brokers back to ZooKeeper mode (the migration flag kept), controllers removed, /controller and /migration " +
                "deleted, then the brokers rolled without the migration settings");
        case "finalized":
        case "kraft":
            return refused("the cluster runs in KRaft mode (its controllers keep the metadata without ZooKeeper), and kafka:metadata is " +
                "zookeeper: a KRaft cluster (or one whose migration was finalized) cannot go back to ZooKeeper mode. Fix: pulumi config set " +
                "kafka:metadata kraft, with the kafka:kafkaVersion it runs");
        }
        break;
    case "dual-write":
        switch (phase) {
        case "zookeeper":
            return decided(["check-preconditions", ...(quorum.migrationZnode ? ["delete-migration-znode" as const] : []), "deploy-controllers",
                "await-pre-migration", "roll-brokers-migrating", "await-migration", "roll-brokers-kraft"], "migrating: phases A, B and C");
        case "controllers":
            return decided(["check-preconditions", "deploy-controllers", "await-pre-migration", "roll-brokers-migrating", "await-migration", "roll-brokers-kraft"],
                "migrating from phase A: brokers into migration mode, then into KRaft mode");
        case "migrating":
            return decided([...(migratingLeft ? ["roll-brokers-migrating" as const] : []), "await-migration", "roll-brokers-kraft"],
                "migrating from phase B: brokers into KRaft mode");
        case "dual-write":
            return kraftLeft
                ? decided(["roll-brokers-kraft"], "migrating: the remaining brokers into KRaft mode")
                : decided([], AFTER["dual-write"]);
        case "finalized":
        case "kraft":
            return refused("the cluster's migration was finalized already, and kafka:zookeeperRetired is not set. Fix: pulumi config set kafka:zookeeperRetired true");
        }
        break;
    case "finalized":
        if (phase === "finalized" || phase === "kraft") {
            if (kraftLeft) {
                return refused(`controllers run without ZooKeeper, and the brokers on ${brokersNotIn(nodes, "kraft").join(", ")} do not run in KRaft ` +
                    "mode: they cannot reach the metadata. Fix: move those brokers to KRaft mode by hand (process.roles=broker) or rebuild them");
            }
            const unfinished = nodes.some((n) => n.controller?.migration || n.controller?.zookeeperConnect);
            return decided([...(unfinished ? ["finalize-controllers" as const, "await-post-migration" as const] : []),
                ...(nodes.some((n) => n.zookeeper !== undefined) ? ["retire-zookeeper" as const] : [])],
            AFTER.finalized);
        }
        if (phase !== "dual-write" || kraftLeft) {
            return refused("finalizing the migration (kafka:zookeeperRetired true) cannot be undone, and it needs every broker in KRaft mode first " +
                `(the cluster is in ${NEXT[phase]}). Fix: pulumi config rm kafka:zookeeperRetired, pulumi up (it migrates up to phase C), check the ` +
                "cluster, then set kafka:zookeeperRetired true again");
        }
        return decided(["finalize-controllers", "await-post-migration", "retire-zookeeper"], "finalizing: controllers out of migration mode, then ZooKeeper retired");
    case "kraft":
        if (phase === "kraft" || phase === "finalized") {
            // A migrated cluster's quorum is static; on 4.x it becomes dynamic (what controllerCount changes need).
            const staticQuorum = nodes.some((n) => n.controller?.quorum === "voters");
            return decided(staticQuorum ? ["dynamic-quorum"] : [], staticQuorum ? "the static controller quorum of the migration becomes dynamic" : NEXT[phase]);
        }
        // Kafka's migration runs on 3.9 (KIP-866): 4.x comes after it is finalized.
        return refused(`kafka:kafkaVersion is a 4.x release (KRaft only), and the cluster runs in ${NEXT[phase]}: a ZooKeeper-mode ` +
            "cluster moves to KRaft by Kafka's migration on 3.9 first. Fix: pulumi config set kafka:kafkaVersion 3.9.2 (with kafka:metadata " +
            "kraft: the migration), pulumi up; then 4.x once it is finalized. Or pulumi config set kafka:metadata zookeeper to keep ZooKeeper mode");
    }
    throw new Error(`unhandled migration target ${target} in phase ${phase}`);
}

/**
 * Parses what observe.sh prints about a node's roles, one line per unit present:
 *   broker: active=<0|1> mode=<zookeeper|migrating|kraft> version=<x.y.z> id=<n> [ibp=<v>]
 *   zookeeper: active=<0|1>
 *   controller: active=<0|1> migration=<0|1> zookeeper=<0|1> version=<x.y.z|-> id=<n> quorum=<voters|bootstrap>
 * and, for the cluster, `zk-migration-state: <0..4>` and `migration-znode: <0|1>`. Other lines are ignored.
 */
export function parseReport(node: string, text: string): { node: NodeReport; quorum: Partial<QuorumReport> } {
    const report: NodeReport = { node };
    const quorum: Partial<QuorumReport> = {};
    for (const line of text.split("\n")) {
        const m = /^(broker|zookeeper|controller|zk-migration-state|migration-znode):\s*(.*)$/.exec(line.trim());
        if (!m) continue;
        const fields = Object.fromEntries(m[2].split(/\s+/).filter((f) => f.includes("=")).map((f) => [f.slice(0, f.indexOf("=")), f.slice(f.indexOf("=") + 1)]));
        const flag = (k: string) => {
            if (fields[k] !== "0" && fields[k] !== "1") throw new Error(`${node}: observe reported "${line.trim()}": ${k} must be 0 or 1`);
            return fields[k] === "1";
        };
        const id = (k: string) => {
            if (!/^-?\d+$/.test(fields[k] ?? "")) throw new Error(`${node}: observe reported "${line.trim()}": ${k} must be a number`);
            return Number(fields[k]);
        };
        // `-`: the role's link to its release is missing (the preconditions then refuse a migration of it).
        const version = () => {
            if (fields.version === "-") return "unknown";
            if (!/^\d+\.\d+\.\d+$/.test(fields.version ?? "")) throw new Error(`${node}: observe reported "${line.trim()}": no version`);
            return fields.version;
        };
        switch (m[1]) {
        case "broker": {
            const mode = fields.mode as BrokerMode;
            if (!(mode in BROKER_RANK)) throw new Error(`${node}: observe reported "${line.trim()}": unknown broker mode`);
            if (fields.cluster !== undefined && !/^[A-Za-z0-9_-]{22}$/.test(fields.cluster)) throw new Error(`${node}: observe reported "${line.trim()}": cluster is not a cluster id`);
            report.broker = {
                active: flag("active"), mode, version: version(), id: id("id"), ...(fields.ibp ? { ibp: fields.ibp } : {}), ...(fields.cluster ? { cluster: fields.cluster } : {}),
            };
            break;
        }
        case "zookeeper":
            report.zookeeper = { active: flag("active") };
            break;
        case "controller":
            if (fields.quorum !== "voters" && fields.quorum !== "bootstrap") throw new Error(`${node}: observe reported "${line.trim()}": quorum must be voters or bootstrap`);
            report.controller = {
                active: flag("active"), migration: flag("migration"), zookeeperConnect: flag("zookeeper"), version: version(), id: id("id"), quorum: fields.quorum,
            };
            break;
        case "zk-migration-state": {
            const v = Number(m[2].trim());
            if (!/^[0-4]$/.test(m[2].trim())) throw new Error(`${node}: observe reported an unknown ZkMigrationState "${m[2].trim()}"`);
            quorum.zkMigrationState = ZK_MIGRATION_STATES[v];
            break;
        }
        case "migration-znode":
            quorum.migrationZnode = m[2].trim() === "1";
            break;
        }
    }
    return { node: report, quorum };
}
