// Rules for the settings both modes share: the Kafka distribution, the cluster's shape, the JVM heaps, the chroot and
// the broker's own properties.
import { CONTROLLER_LISTENER, LISTENERS } from "../layout";
import { Values } from "./decode";
import {
    ADMIN_USER, ARCHIVE_DOWNLOAD_URL, Bad, DEFAULT_DOWNLOAD_URL, DEFAULT_KAFKA_VERSION, DEFAULT_KRAFT_VERSION, DEFAULT_SCALA_VERSION, KRAFT_LINES,
    KafkaSettings, METADATA_QUORUMS, MetadataQuorum, MonitoringSettings, Placement, QuorumSettings, SECURITY_MODES, SecurityMode, SecuritySettings, UserAcl,
    ZookeeperPlacement,
} from "./types";

/** server.properties keys the program owns; brokerProperties may not set them. */
export const MANAGED_BROKER_KEYS = [
    "broker.id", "zookeeper.connect",
    // KRaft: identity and the controller quorum.
    "node.id", "process.roles", "controller.listener.names", "controller.quorum.bootstrap.servers", "controller.quorum.voters",
    "metadata.log.dir", "zookeeper.metadata.migration.enable", "log.dirs", "listeners", "advertised.listeners",
    "listener.security.protocol.map", "inter.broker.listener.name", "broker.rack",
    // kafka:security owns these.
    "security.inter.broker.protocol", "sasl.enabled.mechanisms", "sasl.mechanism.inter.broker.protocol", "ssl.keystore.type",
    "ssl.keystore.location", "ssl.truststore.type", "ssl.truststore.location", "ssl.client.auth", "ssl.key.password",
    "authorizer.class.name", "super.users", "allow.everyone.if.no.acl.found", "zookeeper.set.acl",
    "listener.name.internal.scram-sha-512.sasl.jaas.config", "listener.name.client.scram-sha-512.sasl.jaas.config",
    // Principals: super.users and the ACLs name the principals Kafka derives by default.
    "ssl.principal.mapping.rules", "sasl.kerberos.principal.to.local.rules", "principal.builder.class",
];

/** Every listener name this program uses, in any kafka:security mode and with KRaft (lower case, as in listener.name.*). */
const LISTENER_NAMES = [...Object.values(LISTENERS).flatMap((l) => [l.client.name, l.internal.name]), CONTROLLER_LISTENER].map((n) => n.toLowerCase());

/**
 * Why a listener.name.<listener>.<setting> override cannot be taken, or undefined when it can: a listener this program
 * does not run (the setting would configure nothing), or the security of one it runs (its TLS stores, SASL mechanisms
 * and logins, client authentication: kafka:security owns them, whatever the mode).
 */
function listenerOverrideProblem(key: string): string | undefined {
    const m = /^listener\.name\.([^.]+)\.(.+)$/.exec(key);
    if (!m) return undefined;
    const [, listener, setting] = m;
    if (!LISTENER_NAMES.includes(listener)) {
        return `names listener "${listener}", which no node of this cluster runs (its listeners are ${LISTENER_NAMES.join(", ")}), so it would configure nothing`;
    }
    if (MANAGED_BROKER_KEYS.includes(setting) || /^(ssl|sasl)\./.test(setting) || /^[a-z0-9-]+\.sasl\./.test(setting) || setting === "connections.max.reauth.ms") {
        return `is the security of the ${listener} listener, which kafka:security manages (TLS stores, SASL mechanisms and logins, client authentication)`;
    }
    return undefined;
}

/**
 * The odd quorum size a fix suggests for an even one: the next size up (2 -> 3 tolerates a failure, 2 -> 1 tolerates
 * none), unless co-located members would then outnumber the brokers: then the size below, which the hosts can carry
 * (so the advice never contradicts the host-count rule).
 */
function oddFix(count: number, max: number, placement: Placement, brokers: number): number {
    const up = Math.min(max, count % 2 ? count : count + 1);
    return placement === "colocated" && up > brokers ? Math.max(1, brokers % 2 ? brokers : brokers - 1) : up;
}

/** Parses "512m" / "1g" / "1536M" into MiB; undefined when it does not parse. */
export function heapMiB(heap: string): number | undefined {
    const m = /^([1-9][0-9]*)([mMgG])$/.exec(heap);
    if (!m) return undefined;
    const n = Number(m[1]);
    return m[2].toLowerCase() === "g" ? n * 1024 : n;
}

export function kafkaSettings(v: Values, stack: string, bad: Bad): KafkaSettings {
    // --- Metadata quorum and distribution ---------------------------------------------------------------------------
    const givenMetadata = v.metadata ?? "zookeeper";
    if (!METADATA_QUORUMS.includes(givenMetadata as MetadataQuorum)) {
        bad("metadata", `must be "zookeeper" (a ZooKeeper ensemble, Kafka 3.9) or "kraft" (KRaft controllers, Kafka 4.x), got "${givenMetadata}"`,
            "pulumi config set kafka:metadata kraft");
    }
    const metadata: MetadataQuorum = givenMetadata === "kraft" ? "kraft" : "zookeeper";
    const kraft = metadata === "kraft";
    const kafkaVersion = v.kafkaVersion ?? (kraft ? DEFAULT_KRAFT_VERSION : DEFAULT_KAFKA_VERSION);
    const vm = /^(\d+)\.(\d+)\.(\d+)$/.exec(kafkaVersion);
    if (!vm) {
        bad("kafkaVersion", `"${kafkaVersion}" is not a release version like ${kraft ? DEFAULT_KRAFT_VERSION : DEFAULT_KAFKA_VERSION}`,
            `pulumi config set kafka:kafkaVersion ${kraft ? DEFAULT_KRAFT_VERSION : DEFAULT_KAFKA_VERSION}`);
    } else if (kraft && `${vm[1]}.${vm[2]}` === "3.9") {
        // The ZooKeeper -> KRaft migration (KIP-866) of a running ZooKeeper-mode cluster: see `migrating` below.
    } else if (kraft && Number(vm[1]) < 4) {
        bad("kafkaVersion", `Kafka ${kafkaVersion} is a ZooKeeper-mode line, and kafka:metadata kraft builds KRaft controllers on Kafka 4.x ` +
            `(${KRAFT_LINES.join(", ")}) or, on 3.9, migrates a running ZooKeeper-mode cluster to KRaft (Kafka's migration needs 3.9)`,
            `pulumi config set kafka:kafkaVersion ${DEFAULT_KRAFT_VERSION} for a new cluster; to migrate a running one, first upgrade it to ` +
            `${DEFAULT_KAFKA_VERSION} in ZooKeeper mode (pulumi config rm kafka:metadata, pulumi config set kafka:kafkaVersion ${DEFAULT_KAFKA_VERSION}, pulumi up), then set kafka:metadata kraft`);
    } else if (kraft && !(KRAFT_LINES as readonly string[]).includes(`${vm[1]}.${vm[2]}`)) {
        bad("kafkaVersion", `Kafka ${kafkaVersion} is not a maintained 4.x line (${KRAFT_LINES.join(", ")}: Apache maintains the last three)`,
            `pulumi config set kafka:kafkaVersion ${DEFAULT_KRAFT_VERSION}`);
    } else if (!kraft && Number(vm[1]) >= 4) {
        bad("kafkaVersion", `Kafka ${kafkaVersion} has no ZooKeeper mode (Kafka 4.0 removed it), and kafka:metadata is zookeeper`,
            `build a KRaft cluster: pulumi config set kafka:metadata kraft; or use the last ZooKeeper-mode line: pulumi config set kafka:kafkaVersion ${DEFAULT_KAFKA_VERSION}`);
    } else if (!kraft && Number(vm[1]) < 3) {
        bad("kafkaVersion", `Kafka ${kafkaVersion} is older than 3.0 and is not supported on Java 17`,
            `pulumi config set kafka:kafkaVersion ${DEFAULT_KAFKA_VERSION}`);
    }
    // kafka:metadata kraft on Kafka 3.9: the ZooKeeper -> KRaft migration of the running ZooKeeper-mode cluster
    // (components/migration.ts). ZooKeeper keeps the metadata (and its settings stay valid) until the migration is
    // finalized; one KRaft controller runs beside each ZooKeeper member.
    // Once finalized (kafka:zookeeperRetired), the migrated cluster keeps that shape on 4.x too: its controllers beside
    // the former ZooKeeper members, with the migration's static quorum.
    const zookeeperRetired = v.zookeeperRetired ?? false;
    const migrating = kraft && vm !== null && (`${vm[1]}.${vm[2]}` === "3.9" || (Number(vm[1]) >= 4 && zookeeperRetired));
    if (zookeeperRetired && !kraft) {
        bad("zookeeperRetired", "is true, and kafka:metadata is zookeeper: a cluster whose ZooKeeper was retired keeps its metadata in KRaft controllers",
            "pulumi config set kafka:metadata kraft (the cluster's migration), or pulumi config rm kafka:zookeeperRetired");
    }
    // Settings of the other quorum are refused instead of being silently ignored.
    const zookeeperKeys = ["zookeeperCount", "zookeeperPlacement", "zookeeperHeap", "zookeeperChroot", "zookeeperInstanceType"] as const;
    const controllerKeys = ["controllerCount", "controllerPlacement", "controllerHeap", "controllerInstanceType"] as const;
    for (const k of migrating ? ["controllerCount", "controllerPlacement", "controllerInstanceType"] as const : kraft ? zookeeperKeys : controllerKeys) {
        if (v[k] === undefined) continue;
        if (migrating) {
            bad(k, "is set on a cluster that migrates or migrated from ZooKeeper to KRaft (kafka:metadata kraft on Kafka 3.9, or " +
                "kafka:zookeeperRetired): the migration runs one controller beside each ZooKeeper member (kafka:zookeeperCount, " +
                "kafka:zookeeperPlacement), where the metadata already is",
            `remove it for the migration: pulumi config rm kafka:${k}`);
            continue;
        }
        bad(k, kraft ? "is a ZooKeeper setting, and kafka:metadata kraft runs KRaft controllers instead of a ZooKeeper ensemble"
            : "is a KRaft controller setting, and kafka:metadata is zookeeper (a ZooKeeper ensemble keeps the metadata)",
        kraft ? `remove it: pulumi config rm kafka:${k}${k === "zookeeperChroot" ? "" : ` (kafka:${k.replace("zookeeper", "controller")} is its KRaft counterpart)`}`
            : `remove it (pulumi config rm kafka:${k}), or build a KRaft cluster: pulumi config set kafka:metadata kraft`);
    }
    const scalaVersion = v.scalaVersion ?? DEFAULT_SCALA_VERSION;
    if (!["2.12", "2.13"].includes(scalaVersion)) {
        bad("scalaVersion", `must be 2.13 or 2.12 (got "${scalaVersion}")`, `pulumi config set kafka:scalaVersion ${DEFAULT_SCALA_VERSION}`);
    }
    // Unset: Apache's CDN, then its archive for releases the CDN no longer carries. Set (a mirror, a bucket): alone.
    const downloadUrl = v.downloadUrl?.replace(/\/+$/, "");
    if (downloadUrl !== undefined && !/^https?:\/\/[^\s'"]+$/.test(downloadUrl)) {
        bad("downloadUrl", `must be an http(s) base URL under which <version>/kafka_<scala>-<version>.tgz and its .sha512 and .asc live (got "${downloadUrl}")`,
            `pulumi config set kafka:downloadUrl ${ARCHIVE_DOWNLOAD_URL}, or unset it for Apache's CDN with the archive as fallback: pulumi config rm kafka:downloadUrl`);
    }
    const downloadUrls = downloadUrl !== undefined ? [downloadUrl] : [DEFAULT_DOWNLOAD_URL, ARCHIVE_DOWNLOAD_URL];
    const keysUrl = v.keysUrl;
    if (keysUrl !== undefined && !/^https?:\/\/[^\s'"/]+\/[^\s'"]*[^\s'"/]$/.test(keysUrl)) {
        bad("keysUrl", `must be the http(s) URL of a KEYS file (Apache's format: the release managers' public keys), not a directory (got "${keysUrl}")`,
            `pulumi config set kafka:keysUrl https://downloads.apache.org/kafka/KEYS, or unset it to use <downloadUrl>/KEYS: pulumi config rm kafka:keysUrl`);
    }

    // --- Shape ----------------------------------------------------------------------------------------------------
    const brokerCount = v.brokerCount ?? 3;
    const placement = v.zookeeperPlacement ?? "colocated";
    if (placement !== "colocated" && placement !== "dedicated") {
        bad("zookeeperPlacement", `must be "colocated" (ZooKeeper on the broker hosts) or "dedicated" (own instances), got "${placement}"`,
            `pulumi config set kafka:zookeeperPlacement colocated`);
    }
    const zookeeperPlacement: ZookeeperPlacement = placement === "dedicated" ? "dedicated" : "colocated";
    // Default: the largest odd ensemble up to 3 that fits on the broker hosts (always 3 when dedicated).
    const zookeeperCount = v.zookeeperCount ??
        (zookeeperPlacement === "dedicated" ? 3 : Math.min(3, brokerCount % 2 === 0 ? brokerCount - 1 : brokerCount));
    if (![1, 3, 5, 7].includes(zookeeperCount)) {
        bad("zookeeperCount", `must be odd (1, 3, 5 or 7) so the ensemble keeps a majority (got ${zookeeperCount})`,
            `pulumi config set kafka:zookeeperCount ${oddFix(zookeeperCount, 7, zookeeperPlacement, brokerCount)}`);
    }

    const controllerPlacementRaw = v.controllerPlacement ?? "colocated";
    if (controllerPlacementRaw !== "colocated" && controllerPlacementRaw !== "dedicated") {
        bad("controllerPlacement", `must be "colocated" (a controller process next to the broker) or "dedicated" (own instances/hosts), got "${controllerPlacementRaw}"`,
            "pulumi config set kafka:controllerPlacement colocated");
    }
    const controllerPlacement: Placement = controllerPlacementRaw === "dedicated" ? "dedicated" : "colocated";
    const controllerCount = v.controllerCount ??
        (controllerPlacement === "dedicated" ? 3 : Math.min(3, brokerCount % 2 === 0 ? brokerCount - 1 : brokerCount));
    if (kraft && !migrating && ![1, 3, 5].includes(controllerCount)) {
        bad("controllerCount", `must be 1, 3 or 5 so the quorum keeps a majority (got ${controllerCount})`,
            `pulumi config set kafka:controllerCount ${oddFix(controllerCount, 5, controllerPlacement, brokerCount)}`);
    }
    const controllerHeap = v.controllerHeap ?? "512m";
    const ch = heapMiB(controllerHeap);
    if (kraft && (ch === undefined || ch < 128)) {
        bad("controllerHeap", `"${controllerHeap}" is not a heap size of at least 128m (a number followed by m or g, like 512m)`,
            "pulumi config set kafka:controllerHeap 512m");
    }

    // --- JVMs -----------------------------------------------------------------------------------------------------
    const brokerHeap = v.brokerHeap ?? "1g";
    const zookeeperHeap = v.zookeeperHeap ?? "512m";
    const bh = heapMiB(brokerHeap);
    const zh = heapMiB(zookeeperHeap);
    if (bh === undefined || bh < 128) {
        bad("brokerHeap", `"${brokerHeap}" is not a heap size of at least 128m (a number followed by m or g, like 1g or 768m)`,
            `pulumi config set kafka:brokerHeap 1g`);
    }
    if (zh === undefined || zh < 64) {
        bad("zookeeperHeap", `"${zookeeperHeap}" is not a heap size of at least 64m (a number followed by m or g, like 512m)`,
            `pulumi config set kafka:zookeeperHeap 512m`);
    }

    const jvmPerformanceOptions = v.jvmPerformanceOptions === undefined ? undefined : v.jvmPerformanceOptions.split(/\s+/).filter((o) => o !== "").join(" ");
    if (jvmPerformanceOptions !== undefined) {
        // It goes into the services' environment files between double quotes: only option characters, and no option the
        // program sets itself (the heaps, the metrics agent, the JAAS login).
        const wrong = jvmPerformanceOptions === "" ? [""] : jvmPerformanceOptions.split(" ").filter((o) => !JVM_OPTION.test(o) || /^-XX:[+-]?(Max|Initial|Min)HeapSize=/.test(o) ||
            /^-D(java\.security\.auth\.login\.config|com\.sun\.management\.)/.test(o));
        if (wrong.length > 0) {
            bad("jvmPerformanceOptions", `${wrong[0] === "" ? "is empty" : `"${wrong[0]}" is not taken`}: only -XX: options, -server and -D properties of ` +
                "letters, digits and . _ : / , + - = (the heaps are kafka:brokerHeap, kafka:controllerHeap and kafka:zookeeperHeap; JMX is kafka:jmx)",
                'pulumi config set kafka:jvmPerformanceOptions "-XX:+UseG1GC -XX:MaxGCPauseMillis=20", or pulumi config rm kafka:jvmPerformanceOptions for Kafka\'s defaults');
        }
    }

    // --- Kafka's own settings -------------------------------------------------------------------------------------
    const zookeeperChroot = v.zookeeperChroot ?? "/kafka";
    if (!/^(\/[A-Za-z0-9_.-]+)+$/.test(zookeeperChroot) || /\/\.\.?(\/|$)/.test(zookeeperChroot)) {
        bad("zookeeperChroot", `"${zookeeperChroot}" is not a ZooKeeper path like /kafka (leading slash, no trailing slash)`,
            `pulumi config set kafka:zookeeperChroot /kafka`);
    }
    const brokerProperties = parseBrokerProperties(v.brokerProperties, bad);
    const clusterName = v.clusterName ?? `kafka-${stack}`;
    if (!/^[a-z][a-z0-9-]{0,39}$/.test(clusterName)) {
        bad("clusterName", `"${clusterName}" must be lower-case letters, digits and dashes, starting with a letter, at most 40 characters`,
            `pulumi config set kafka:clusterName kafka-${stack.toLowerCase().replace(/[^a-z0-9-]/g, "-")}`);
    }
    const security = securitySettings(v, bad);
    const jmx = v.jmx ?? false;
    if (jmx && security.mode === "plaintext") {
        bad("jmx", "the JMX connector's password is generated with the cluster's other credentials, which kafka:security plaintext has none of " +
            "(and a monitoring login on a cluster anyone may write to protects little)",
            "pulumi config set kafka:security sasl_ssl (a running plaintext cluster switches in one rolling pulumi up), or pulumi config rm kafka:jmx");
    }
    const monitoringOn = v.monitoring ?? false;
    const mavenUrl = v.mavenUrl?.replace(/\/+$/, "");
    if (mavenUrl !== undefined && !/^https?:\/\/[^\s'"]+$/.test(mavenUrl)) {
        bad("mavenUrl", `must be the http(s) base URL of a Maven repository (got "${mavenUrl}")`,
            "pulumi config set kafka:mavenUrl <the base URL of Maven Central or of your mirror, under which io/prometheus/jmx/... lives>");
    } else if (monitoringOn && mavenUrl === undefined) {
        bad("mavenUrl", "is required with kafka:monitoring true: each host downloads the Prometheus JMX exporter agent " +
            "(io.prometheus.jmx:jmx_prometheus_javaagent:1.0.1, checked against a pinned SHA-256) from that Maven repository",
            "pulumi config set kafka:mavenUrl <the base URL of Maven Central or of your mirror>, or pulumi config rm kafka:monitoring");
    } else if (!monitoringOn && mavenUrl !== undefined) {
        bad("mavenUrl", "is read only with kafka:monitoring true (it is where the metrics agent comes from)",
            "pulumi config set kafka:monitoring true, or pulumi config rm kafka:mavenUrl");
    }
    const monitoring = monitoringOn && mavenUrl !== undefined ? { mavenUrl, ...monitoringSettings(v, bad) } : undefined;
    if (!monitoringOn) {
        for (const k of ["monitoringScrapeInterval", "alertAfter", "consumerLagAlert", "alertWebhookUrl"] as const) {
            if (v[k] !== undefined) bad(k, "is read only with kafka:monitoring true", `pulumi config set kafka:monitoring true, or pulumi config rm kafka:${k}`);
        }
    }
    if (migrating && [1, 3, 5, 7].includes(zookeeperCount) && ![1, 3, 5].includes(zookeeperCount)) {
        bad("zookeeperCount", `is ${zookeeperCount}, and the migration to KRaft runs a controller beside each ZooKeeper member: a KRaft quorum has 1, 3 or 5 voters`,
            "first shrink the ensemble in ZooKeeper mode (pulumi config set kafka:metadata zookeeper, kafka:zookeeperCount 5, pulumi up), then set kafka:metadata kraft again");
    }
    const quorum: QuorumSettings = kraft && !migrating
        ? { role: "controller", count: controllerCount, placement: controllerPlacement, heap: controllerHeap }
        : { role: "zookeeper", count: zookeeperCount, placement: zookeeperPlacement, heap: zookeeperHeap };
    return {
        clusterName, metadata: migrating ? "zookeeper" : metadata,
        ...(migrating ? { migration: { target: zookeeperRetired ? "finalized" as const : "dual-write" as const, controllerHeap } } : {}), quorum, kafkaVersion, scalaVersion, downloadUrls, ...(keysUrl !== undefined ? { keysUrl } : {}), brokerCount, zookeeperCount, zookeeperPlacement, brokerHeap,
        zookeeperHeap, ...(jvmPerformanceOptions !== undefined ? { jvmPerformanceOptions } : {}), zookeeperChroot, brokerProperties, security, jmx,
        ...(monitoring ? { monitoring } : {}),
    };
}

/** A Prometheus duration of whole seconds, minutes or hours: 15s, 5m, 1h. */
const DURATION = /^[1-9][0-9]{0,4}[smh]$/;

/** kafka:monitoring's Prometheus side: scrape interval, alert delays and lag threshold, the alert receiver. */
function monitoringSettings(v: Values, bad: Bad): Omit<MonitoringSettings, "mavenUrl"> {
    const duration = (key: "monitoringScrapeInterval" | "alertAfter", fallback: string): string => {
        const d = v[key] ?? fallback;
        if (!DURATION.test(d)) bad(key, `must be a duration like 15s, 5m or 1h (got "${d}")`, `pulumi config set kafka:${key} ${fallback}`);
        return d;
    };
    const scrapeInterval = duration("monitoringScrapeInterval", "15s");
    const alertAfter = duration("alertAfter", "5m");
    const webhookUrl = v.alertWebhookUrl;
    if (webhookUrl !== undefined && !/^https?:\/\/[^\s'"]+$/.test(webhookUrl)) {
        bad("alertWebhookUrl", `must be an http(s) URL Alertmanager posts its notifications to (got "${webhookUrl}")`,
            "pulumi config set kafka:alertWebhookUrl https://hooks.example.com/kafka");
    }
    return { scrapeInterval, alertAfter, lagAlert: v.consumerLagAlert ?? 10000, ...(webhookUrl !== undefined ? { webhookUrl } : {}) };
}

/** One option of kafka:jvmPerformanceOptions: -XX:[+-]Name[=value], -server, -Dname[=value]. */
const JVM_OPTION = /^(-server|-XX:[+-]?[A-Za-z][A-Za-z0-9]*(=[A-Za-z0-9._:\/,+-]+)?|-D[A-Za-z][A-Za-z0-9._-]*(=[A-Za-z0-9._:\/,+-]*)?)$/;

/** A SCRAM user name: letters, digits, `.`, `_`, `-` (it appears in JAAS text and ACL principals). */
const USER_NAME = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;
/** A topic or group name in kafka:acls: Kafka's legal characters, optionally ending in `*` (a prefix), or `*` alone. */
const RESOURCE_NAME = /^(\*|[A-Za-z0-9._-]{1,249}\*?)$/;

function securitySettings(v: Values, bad: Bad): SecuritySettings {
    const given = v.security ?? "sasl_ssl";
    if (!SECURITY_MODES.includes(given as SecurityMode)) {
        bad("security", `must be one of ${SECURITY_MODES.join(", ")} (got "${given}")`, "pulumi config set kafka:security sasl_ssl");
    }
    const mode: SecurityMode = SECURITY_MODES.includes(given as SecurityMode) ? given as SecurityMode : "sasl_ssl";
    const clientUsers = [...new Set(v.clientUsers ?? [])];
    for (const u of clientUsers) {
        if (!USER_NAME.test(u)) {
            bad("clientUsers", `"${u}" is not a user name (a letter, then letters, digits, ".", "_" or "-"; at most 64)`,
                "pulumi config set --path 'kafka:clientUsers[0]' app");
        } else if (u === ADMIN_USER) {
            bad("clientUsers", `"${ADMIN_USER}" is the cluster's own super user (the brokers and this program's checks use it); ` +
                "its password is in the secret output clientProperties", "choose another name for the client user");
        }
    }
    if (clientUsers.length > 0 && mode !== "sasl_ssl") {
        bad("clientUsers", `SCRAM users need kafka:security sasl_ssl (it is ${mode}, whose listeners authenticate no one)`,
            "pulumi config set kafka:security sasl_ssl, or remove them: pulumi config rm kafka:clientUsers");
    }
    const acls = v.acls === undefined ? undefined : parseAcls(v.acls, clientUsers, bad);
    if (acls !== undefined && mode !== "sasl_ssl") {
        bad("acls", `ACLs need authenticated users, i.e. kafka:security sasl_ssl (it is ${mode})`,
            "pulumi config set kafka:security sasl_ssl, or remove them: pulumi config rm kafka:acls");
    }
    const certificateRotation = v.certificateRotation ?? 0;
    if (v.certificateRotation !== undefined && mode === "plaintext") {
        bad("certificateRotation", "kafka:security plaintext uses no certificates", "pulumi config rm kafka:certificateRotation, or pulumi config set kafka:security sasl_ssl");
    }
    return { mode, clientUsers, ...(acls !== undefined ? { acls } : {}), certificateRotation };
}

function parseAcls(raw: unknown, users: string[], bad: Bad): Record<string, UserAcl> | undefined {
    const example = `pulumi config set --path 'kafka:acls.app.write[0]' orders`;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
        bad("acls", `must be a map of client users to { read, write, groups } (got ${JSON.stringify(raw)})`, example);
        return undefined;
    }
    const out: Record<string, UserAcl> = {};
    for (const [user, spec] of Object.entries(raw)) {
        if (!users.includes(user)) {
            bad(`acls.${user}`, `"${user}" is not in kafka:clientUsers (${users.length ? users.join(", ") : "none"})`,
                `add it: pulumi config set --path 'kafka:clientUsers[${users.length}]' ${user}, or remove its ACLs: pulumi config rm --path kafka:acls.${user}`);
            continue;
        }
        if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
            bad(`acls.${user}`, `must be { read?: [topics], write?: [topics], groups?: [groups] } (got ${JSON.stringify(spec)})`, example);
            continue;
        }
        const acl: UserAcl = { read: [], write: [], groups: [] };
        for (const [k, list] of Object.entries(spec as Record<string, unknown>)) {
            if (k !== "read" && k !== "write" && k !== "groups") {
                bad(`acls.${user}.${k}`, "unknown field (read, write and groups are)", `pulumi config rm --path kafka:acls.${user}.${k}`);
                continue;
            }
            if (!Array.isArray(list) || !list.every((x) => typeof x === "string" && RESOURCE_NAME.test(x))) {
                bad(`acls.${user}.${k}`, `must be a list of ${k === "groups" ? "group" : "topic"} names (letters, digits, ".", "_", "-"; ` +
                    `a trailing "*" for a prefix, "*" for all), got ${JSON.stringify(list)}`,
                    `pulumi config set --path 'kafka:acls.${user}.${k}[0]' ${k === "groups" ? "app-*" : "orders"}`);
                continue;
            }
            acl[k] = [...new Set(list as string[])];
        }
        out[user] = acl;
    }
    return out;
}

function parseBrokerProperties(v: unknown, bad: Bad): Record<string, string> {
    if (v === undefined) return {};
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
        bad("brokerProperties", `must be a map of server.properties keys to values (got ${JSON.stringify(v)})`,
            `pulumi config set --path 'kafka:brokerProperties["log.retention.hours"]' 72`);
        return {};
    }
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v)) {
        if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(k)) {
            bad(`brokerProperties["${k}"]`, "is not a server.properties key", "use dotted keys like log.retention.hours");
            continue;
        }
        if (MANAGED_BROKER_KEYS.includes(k)) {
            bad(`brokerProperties["${k}"]`, `${k} is managed by kafka-cluster (it is derived from the host list and config)`,
                `remove it: pulumi config rm --path 'kafka:brokerProperties["${k}"]'`);
            continue;
        }
        const listenerProblem = listenerOverrideProblem(k);
        if (listenerProblem !== undefined) {
            bad(`brokerProperties["${k}"]`, listenerProblem, `remove it: pulumi config rm --path 'kafka:brokerProperties["${k}"]'`);
            continue;
        }
        if (!["string", "number", "boolean"].includes(typeof val) || /[\r\n]/.test(String(val))) {
            bad(`brokerProperties["${k}"]`, `value must be a single-line string, number or boolean (got ${JSON.stringify(val)})`,
                `pulumi config set --path 'kafka:brokerProperties["${k}"]' <value>`);
            continue;
        }
        out[k] = String(val);
    }
    return out;
}
