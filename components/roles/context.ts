// What every role module's steps share: the configuration, the release and the steps a role's first service step waits
// for. plan.ts makes one per plan and orders the roles; the role modules (zookeeper.ts, controller.ts, broker.ts) own
// their files, steps, health checks, paths and teardown.
import * as crypto from "crypto";
import { ClusterConfig } from "../config";
import { ManagedFile, hostCommand, manifest } from "../host-command";
import { PATHS, kafkaTarballName } from "../layout";
import { ClusterSecrets, need, renderJmxFiles } from "../render";
import { ClusterNode } from "../topology";

export type Phase = "ready" | "memory" | "listeners" | "java" | "install" | "storage" | "format" | "zookeeper" | "ensemble" | "admin" |
    "controller" | "quorum" | "listeners-add" | "listeners-switch" | "broker" | "protocol" | "brokers" | "features" |
    "zookeeper-acls" | "users" | "smoke" | "rebalance" | "service" |
    "migration-ready" | "migrating" | "migration-copied" | "kraft" | "retire" | "rollback" | "node-exporter" | "monitoring";

/**
 * Command text for a step: fixed, or made from every node's resolved addresses and, for steps marked `secrets`, the
 * cluster's generated credentials (and, with KRaft, its cluster id). (Fixed text does not wait for any address, so on
 * EC2 a node's first commands start as soon as its own instance is up.)
 */
export type CommandText = string | ((nodes: ClusterNode[], secrets: ClusterSecrets, generated: Generated) => string);

/**
 * Values that are not credentials and not configuration: the KRaft cluster id (generated once per stack) and, on
 * existing hosts, each node's repair generation as observed at this preview or up (observe.sh: it goes up by one when a
 * provisioned service is down or a managed file was changed by hand, which gives that node's configure steps a new input).
 */
export interface Generated {
    /** KRaft: the stack's cluster id; a ZooKeeper migration: the running cluster's own, as its brokers report it. */
    clusterId?: string;
    /** A ZooKeeper migration: how each broker runs as observed at this preview or up (observe.sh), by node name. */
    brokerModes?: Record<string, "zookeeper" | "migrating" | "kraft">;
    /** Per node name: its observed repair generation. */
    generations?: Record<string, string>;
}

export interface Step {
    /** Unique, stable resource name: "<node>-<phase>" or "cluster-<phase>". */
    name: string;
    /** Node the command runs on. */
    node: string;
    phase: Phase;
    /** Names of steps that must finish first. */
    dependsOn: string[];
    /** Shell command line, run by the SSH user's login shell (it calls sudo itself). */
    create: CommandText;
    /** Shell command line to run on the host on `pulumi destroy` (service steps only). */
    delete?: CommandText;
    /** The command text carries generated credentials (keys, passwords): it gets them, and it is a Pulumi secret. */
    secrets?: true;
    /** The command text needs the values generated once per stack (the KRaft cluster id). */
    generated?: true;
}

/** What a role's steps are made from. */
export interface PlanContext {
    cfg: ClusterConfig;
    /** The release directory the services run (kafka_<scala>-<version>). */
    dist: string;
    /** What the first service step of each role waits for: every host's memory check and every broker's listener check. */
    memoryChecks: string[];
}

/** A short digest of texts: put into a check's command line, it makes Pulumi run the check again when they change. */
export const digest = (...parts: string[]) => crypto.createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 16);

export function distOf(cfg: ClusterConfig): string {
    return kafkaTarballName(cfg).replace(/\.tgz$/, "");
}

export { need } from "../render";

export function keystoreOf(secrets: ClusterSecrets, node: string): string {
    const pem = secrets.keystores[node];
    if (pem === undefined) throw new Error(`no certificate was issued for node ${node}`);
    return pem;
}

/** kafka:jmx: the JMX connector's password file (0600, the service user's: the JVM refuses any other) and role file. */
export function jmxFiles(cfg: ClusterConfig, secrets: ClusterSecrets | undefined): ManagedFile[] {
    if (!cfg.jmx) return [];
    const { password, access } = renderJmxFiles(need(secrets));
    return [[PATHS.jmxPassword, "0600", `${PATHS.serviceUser}:${PATHS.serviceUser}`, password], [PATHS.jmxAccess, "0644", "root:root", access]];
}

/** Members of a role's chain configured one after another: each step waits for the one before, the first for `first`. */
export function chained(names: string[], first: string[], make: (name: string, dependsOn: string[]) => Step): Step[] {
    const steps: Step[] = [];
    names.forEach((name, i) => steps.push(make(name, i > 0 ? [steps[i - 1].name] : first)));
    return steps;
}

/**
 * A configure step's command line: configure-service.sh writing `files` for `service` (its unit's name) and switching
 * its link `link` to the release `dist` inside its restart, with the service's own health-check parameters (`extra`).
 */
export function configureService(service: string, files: ManagedFile[], dist: string, link: string, extra: Record<string, string>,
    generation?: string): string {
    return hostCommand("configure-service.sh", {
        SERVICE: service, MANIFEST_B64: manifest(files), CONFIG_DIR: PATHS.configDir,
        INSTALL_ROOT: PATHS.installRoot, KAFKA_DIST: dist, DIST_LINK: link, ...extra,
        ...(generation !== undefined ? { OBSERVED_GENERATION: generation, GENERATION_FILE: PATHS.observedGeneration } : {}),
    });
}
