// Pure renderers: configuration in, file text out. Unit tests call these directly; the provisioning layer
// passes their output to the hosts as command inputs, so a change in rendered text updates exactly the
// commands that carry it. Paths and ports come from the layout.
import { ADMIN_USER, KafkaSettings } from "./config";
import {
    CONTROLLER_LISTENER, JMX_USER, PATHS, PORTS, ZOOKEEPER_SASL_USER, brokerProtocolMap, controllerProtocol, controllerQuorum, listenerProtocol,
    controllerVoters, listenersOf, nodePrincipal, protocolMap, replication, secured, zookeeperConnect,
} from "./layout";
import { ClusterNode, brokerNodes, zookeeperNodes } from "./topology";

/** Stand-ins for the credentials where a digest covers a rendered file (the digest must not depend on a secret). */
export const REDACTED: ClusterSecrets = { caCertificate: "", keystores: {}, adminPassword: "<redacted>", zookeeperPassword: "<redacted>", userPasswords: {} };

/** What the renderers read of the configuration. */
type RenderSettings = Pick<KafkaSettings, "brokerProperties" | "zookeeperChroot" | "security" | "metadata" | "clusterName">;

const HEADER = "# Managed by kafka-cluster (Pulumi). Local edits are overwritten by the next `pulumi up`.\n";

function properties(entries: [string, string | number | boolean][]): string {
    return entries.map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
}

/**
 * Generated credentials of a secured cluster (kafka:security tls or sasl_ssl), kept encrypted in the stack's state. The
 * renderers put them only into files of mode 0640 or tighter.
 */
export interface ClusterSecrets {
    /** The stack's CA certificate (PEM). */
    caCertificate: string;
    /** Per broker node name: its private key (PKCS#8 PEM), its certificate and the CA certificate (Kafka's PEM keystore). */
    keystores: Record<string, string>;
    /** SCRAM password of the admin principal (sasl_ssl). */
    adminPassword: string;
    /** ZooKeeper DIGEST-MD5 password of the brokers' user. */
    zookeeperPassword: string;
    /** SCRAM passwords of kafka:clientUsers. */
    userPasswords: Record<string, string>;
    /** kafka:jmx: the password of the JMX user (undefined without kafka:jmx). */
    jmxPassword?: string;
    /** kafka:monitoring with a monitoring host: the password of Prometheus' and Alertmanager's basic auth. */
    monitoringPassword?: string;
}

/** JAAS text of a SCRAM client login (as a `sasl.jaas.config` value). */
export function scramLogin(user: string, password: string): string {
    return `org.apache.kafka.common.security.scram.ScramLoginModule required username="${user}" password="${password}";`;
}

export function renderZookeeperProperties(nodes: ClusterNode[], cfg: Pick<KafkaSettings, "security">): string {
    const members = zookeeperNodes(nodes);
    return HEADER + properties([
        ["tickTime", 2000],
        // An ensemble has no defaults for these: followers get 10 ticks to connect and sync, 5 to stay in sync.
        ["initLimit", 10],
        ["syncLimit", 5],
        ["dataDir", PATHS.zookeeperData],
        ["clientPort", PORTS.zookeeperClient],
        ["maxClientCnxns", 60],
        ["admin.enableServer", false],
        ["4lw.commands.whitelist", "srvr,ruok,mntr"],
        ["autopurge.snapRetainCount", 3],
        ["autopurge.purgeInterval", 24],
        ["quorumListenOnAllIPs", true],
        // Secured: clients may authenticate with SASL (the brokers do, as "${ZOOKEEPER_SASL_USER}", and create their znodes
        // with ACLs naming that user); see zookeeper-jaas.conf.
        ...(secured(cfg) ? [["authProvider.sasl", "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"] as [string, string]] : []),
        ...members.map((n): [string, string] => [
            `server.${n.zookeeperId}`, `${n.privateAddress}:${PORTS.zookeeperPeer}:${PORTS.zookeeperElection}`,
        ]),
    ]);
}

export function renderMyid(node: ClusterNode): string {
    if (node.zookeeperId === undefined) throw new Error(`${node.name} is not a ZooKeeper member`);
    return `${node.zookeeperId}\n`;
}

/** Kafka's PEM stores: the key is PKCS#8 without a password (the file is 0640 root:kafka), so no ssl.key.password. */
const PEM_STORES: [string, string][] = [
    ["ssl.keystore.type", "PEM"],
    ["ssl.keystore.location", PATHS.brokerKeystore],
    ["ssl.truststore.type", "PEM"],
    ["ssl.truststore.location", PATHS.caCertificate],
];

/**
 * The ACL authorizer of the metadata quorum (kafka:acls): ZooKeeper mode's AclAuthorizer, KRaft's StandardAuthorizer.
 * Super users: the admin principal and, with KRaft, the nodes' certificate principal (brokers and controllers talk to
 * the controllers over TLS with client certificates).
 */
function authorizerEntries(cfg: Pick<KafkaSettings, "security" | "metadata" | "clusterName">, principals?: string[]): [string, string | boolean][] {
    if (cfg.security.acls === undefined) return [];
    const kraft = cfg.metadata === "kraft";
    return [
        ["authorizer.class.name", kraft ? "org.apache.kafka.metadata.authorizer.StandardAuthorizer" : "kafka.security.authorizer.AclAuthorizer"],
        ["super.users", kraft ? [`User:${ADMIN_USER}`, ...(principals ?? [nodePrincipal(cfg)])].join(";") : `User:${ADMIN_USER}`],
        ["allow.everyone.if.no.acl.found", false],
    ];
}

/** The server.properties entries kafka:security owns (none for plaintext). */
function securityEntries(cfg: Pick<KafkaSettings, "security" | "metadata" | "clusterName">, secrets: ClusterSecrets | undefined,
    principals?: string[]): [string, string | number | boolean][] {
    if (!secured(cfg)) return [];
    if (!secrets) throw new Error(`kafka:security ${cfg.security.mode} needs the cluster's generated credentials`);
    return [
        ...PEM_STORES,
        // With a JAAS `Client` section (kafka.env) the broker logs in to ZooKeeper and creates its znodes readable by all but
        // writable only by its own SASL user.
        ...(cfg.metadata === "zookeeper" ? [["zookeeper.set.acl", true] as [string, boolean]] : []),
        ...(cfg.security.mode === "sasl_ssl" ? [
            ["sasl.enabled.mechanisms", "SCRAM-SHA-512"],
            ["sasl.mechanism.inter.broker.protocol", "SCRAM-SHA-512"],
            [`listener.name.${listenersOf(cfg).internal.name.toLowerCase()}.scram-sha-512.sasl.jaas.config`, scramLogin(ADMIN_USER, secrets.adminPassword)],
            [`listener.name.${listenersOf(cfg).client.name.toLowerCase()}.scram-sha-512.sasl.jaas.config`, "org.apache.kafka.common.security.scram.ScramLoginModule required;"],
        ] as [string, string][] : []),
        ...authorizerEntries(cfg, principals),
    ];
}

/** The durability defaults and tuning of every node's properties, with kafka:brokerProperties' overrides and extras. */
function tuning(cfg: RenderSettings, nodes: ClusterNode[]): string {
    const { factor, minIsr } = replication(brokerNodes(nodes).length);
    const defaults: [string, string | number | boolean][] = [
        ...(cfg.metadata === "zookeeper" ? [["zookeeper.connection.timeout.ms", 18000], ["zookeeper.session.timeout.ms", 18000]] as [string, number][] : []),
        ["num.partitions", factor],
        ["default.replication.factor", factor],
        ["min.insync.replicas", minIsr],
        ["offsets.topic.replication.factor", factor],
        ["transaction.state.log.replication.factor", factor],
        ["transaction.state.log.min.isr", minIsr],
        ["unclean.leader.election.enable", false],
        ["auto.create.topics.enable", false],
        ["controlled.shutdown.enable", true],
        ["num.network.threads", 3],
        ["num.io.threads", 8],
        ["num.recovery.threads.per.data.dir", 2],
        ["log.retention.hours", 168],
        ["log.segment.bytes", 1073741824],
        ["log.retention.check.interval.ms", 300000],
        ["group.initial.rebalance.delay.ms", 3000],
    ];
    const overrides = cfg.brokerProperties;
    const merged = defaults.map(([k, v]): [string, string | number | boolean] => [k, k in overrides ? overrides[k] : v]);
    const extra = Object.keys(overrides).filter((k) => !defaults.some(([d]) => d === k)).sort()
        .map((k): [string, string] => [k, overrides[k]]);
    return "\n# Durability defaults and tuning (kafka:brokerProperties overrides these)\n" + properties(merged) +
        (extra.length ? "\n# From kafka:brokerProperties\n" + properties(extra) : "");
}

/**
 * `withTuning` false: identity, listeners, quorum and security only, what `kafka-storage format` reads (so the format
 * step does not run again for a tuning change).
 */
/**
 * The quorum a node names and, during a ZooKeeper migration (KIP-866), the broker's phase: `voters` names the static
 * quorum a migration makes (controller.quorum.voters) instead of the bootstrap servers; `migrating` (with
 * cfg.metadata zookeeper) is phase B, a ZooKeeper-mode broker that also registers with the controllers; `principals`
 * are the nodes' certificate principals the KRaft authorizer takes for super users (a migrated cluster's per-node ones,
 * migrationPrincipals) instead of the one a KRaft cluster's certificates name. docs/zk-migration-lab.md has the files
 * these were taken from.
 */
export interface QuorumRender { voters?: boolean; migrating?: boolean; principals?: string[] }

export function renderServerProperties(cfg: RenderSettings, node: ClusterNode, nodes: ClusterNode[], secrets?: ClusterSecrets, withTuning = true,
    quorum: QuorumRender = {}): string {
    if (node.brokerId === undefined) throw new Error(`${node.name} is not a broker`);
    const { internal, client } = listenersOf(cfg);
    const kraft = cfg.metadata === "kraft";
    if (quorum.migrating && kraft) throw new Error("a broker in migration mode runs in ZooKeeper mode");
    const quorumEntry: [string, string] = quorum.voters ? ["controller.quorum.voters", controllerVoters(nodes)] : ["controller.quorum.bootstrap.servers", controllerQuorum(nodes)];
    const managed: [string, string | number | boolean][] = [
        ...(kraft ? [["process.roles", "broker"], ["node.id", node.brokerId]] as [string, string | number][] : [["broker.id", node.brokerId] as [string, number]]),
        ...(node.rack ? [["broker.rack", node.rack] as [string, string]] : []),
        ["listeners", `${internal.name}://0.0.0.0:${internal.port},${client.name}://0.0.0.0:${client.port}`],
        ["advertised.listeners", `${internal.name}://${node.privateAddress}:${internal.port},${client.name}://${node.clientAddress}:${client.port}`],
        ["listener.security.protocol.map", brokerProtocolMap(cfg) + (quorum.migrating ? `,${CONTROLLER_LISTENER}:${controllerProtocol(cfg)}` : "")],
        ["inter.broker.listener.name", internal.name],
        ...(kraft
            ? [["controller.listener.names", CONTROLLER_LISTENER], quorumEntry] as [string, string][]
            : [["zookeeper.connect", zookeeperConnect(cfg, nodes)] as [string, string]]),
        ["log.dirs", PATHS.kafkaLogDirs],
    ];
    const migration: [string, string | boolean][] = quorum.migrating
        ? [["zookeeper.metadata.migration.enable", true], ["controller.listener.names", CONTROLLER_LISTENER], ["controller.quorum.voters", controllerVoters(nodes)]]
        : [];
    const security = securityEntries(cfg, secrets, quorum.principals);
    return HEADER + `\n# Identity, listeners and ${kraft ? "the controller quorum" : "ZooKeeper"} (derived from the cluster layout)\n` + properties(managed) +
        (migration.length ? "\n# ZooKeeper migration (KIP-866), phase B: a ZooKeeper-mode broker that registers with the KRaft controllers\n" +
            properties(migration) : "") +
        (security.length ? `\n# Security (kafka:security ${cfg.security.mode})\n` + properties(security) : "") + (withTuning ? tuning(cfg, nodes) : "");
}

/**
 * A KRaft controller's properties: a process of its own (never combined with a broker), its listener with TLS client
 * authentication when secured, the dynamic quorum's bootstrap servers, and the defaults the controllers apply to new
 * topics (the same tuning block as the brokers').
 */
export function renderControllerProperties(cfg: RenderSettings, node: ClusterNode, nodes: ClusterNode[], withTuning = true,
    quorum: QuorumRender & { migration?: { secrets?: ClusterSecrets } } = {}): string {
    if (node.controllerId === undefined) throw new Error(`${node.name} is not a KRaft controller`);
    const migration = quorum.migration;
    const managed: [string, string | number][] = [
        ["process.roles", "controller"],
        ["node.id", node.controllerId],
        ["controller.listener.names", CONTROLLER_LISTENER],
        ["listeners", `${CONTROLLER_LISTENER}://0.0.0.0:${PORTS.controller}`],
        ["advertised.listeners", `${CONTROLLER_LISTENER}://${node.privateAddress}:${PORTS.controller}`],
        // In migration mode the controllers also talk to the ZooKeeper-mode brokers, over the inter-broker listener.
        ["listener.security.protocol.map", `${CONTROLLER_LISTENER}:${controllerProtocol(cfg)}` + (migration ? `,${protocolMap(cfg)}` : "")],
        quorum.voters || migration ? ["controller.quorum.voters", controllerVoters(nodes)] : ["controller.quorum.bootstrap.servers", controllerQuorum(nodes)],
        ["log.dirs", PATHS.controllerLogDir],
    ];
    const security: [string, string | boolean][] = secured(cfg)
        ? [...PEM_STORES, [`listener.name.${CONTROLLER_LISTENER.toLowerCase()}.ssl.client.auth`, "required"], ...authorizerEntries(cfg, quorum.principals)]
        : [];
    const { internal } = listenersOf(cfg);
    // Phases A to C: the controllers read ZooKeeper (logged in as the brokers are, with zookeeper.set.acl), write every
    // change back to it, and send the ZooKeeper-mode brokers their metadata as the admin over the inter-broker listener
    // (the SCRAM mechanism has to be among sasl.enabled.mechanisms for that: KafkaConfig refuses the file otherwise).
    const zookeeper: [string, string | number | boolean][] = migration ? [
        ["zookeeper.metadata.migration.enable", true],
        ["zookeeper.connect", zookeeperConnect(cfg, nodes)],
        ...(secured(cfg) ? [["zookeeper.set.acl", true] as [string, boolean]] : []),
        ["zookeeper.connection.timeout.ms", 18000],
        ["zookeeper.session.timeout.ms", 18000],
        ["inter.broker.listener.name", internal.name],
        ...(cfg.security.mode === "sasl_ssl" ? [
            ["sasl.enabled.mechanisms", "SCRAM-SHA-512"],
            ["sasl.mechanism.inter.broker.protocol", "SCRAM-SHA-512"],
            [`listener.name.${internal.name.toLowerCase()}.scram-sha-512.sasl.jaas.config`, scramLogin(ADMIN_USER, need(migration.secrets).adminPassword)],
        ] as [string, string][] : []),
    ] : [];
    return HEADER + "\n# Identity, listener and the controller quorum (derived from the cluster layout)\n" + properties(managed) +
        (zookeeper.length ? "\n# ZooKeeper migration (KIP-866), phases A to C: read ZooKeeper, write every change back to it, serve the ZooKeeper-mode brokers\n" +
            properties(zookeeper) : "") +
        (security.length ? `\n# Security (kafka:security ${cfg.security.mode}: TLS with client certificates from the stack's CA)\n` + properties(security) : "") +
        (withTuning ? tuning(cfg, nodes) : "");
}

/** The generated credentials, which a secured cluster's files are made from. */
export function need(secrets: ClusterSecrets | undefined): ClusterSecrets {
    if (!secrets) throw new Error("a secured cluster's configure steps need its generated credentials");
    return secrets;
}

/** Client properties of the controllers' listener, for the quorum tools (kafka-metadata-quorum, add/remove-controller). */
export function renderControllerClientProperties(cfg: Pick<KafkaSettings, "security">): string {
    // Bounded: a quorum without a leader makes a tool wait its whole api timeout (60 s by default) per call.
    return properties([["security.protocol", controllerProtocol(cfg)], ...(secured(cfg) ? PEM_STORES : []),
        ["request.timeout.ms", 10000], ["default.api.timeout.ms", 20000]]);
}

/**
 * /etc/profile.d script for people who log in: Kafka's tools on PATH (the broker's install, or ZooKeeper's on a
 * dedicated member), and LOG_DIR in the user's home, because Apache's launchers default it to <install>/logs, which
 * only root may write (the tools log to the terminal; LOG_DIR only has to be writable). A LOG_DIR already set wins.
 */
export function renderToolsProfile(kraftTools = false): string {
    return "# shellcheck shell=sh\n" + HEADER +
        `for kc_bin in ${PATHS.current}/bin ${PATHS.zookeeperCurrent}/bin${kraftTools ? ` ${PATHS.controllerCurrent}/bin` : ""}; do\n` +
        `  if [ -d "$kc_bin" ]; then\n` +
        `    case ":$PATH:" in *":$kc_bin:"*) ;; *) PATH="$PATH:$kc_bin" ;; esac\n` +
        `    break\n` +
        `  fi\n` +
        `done\n` +
        `unset kc_bin\n` +
        `export PATH\n` +
        `if [ -z "\${LOG_DIR:-}" ] && [ -n "\${HOME:-}" ]; then LOG_DIR="$HOME/.kafka/logs"; export LOG_DIR; fi\n` +
        // Kafka's launcher would start a JMX agent (no authentication) in every tool run: slower, and a port it needs not.
        `if [ -z "\${KAFKA_JMX_OPTS:-}" ]; then KAFKA_JMX_OPTS="-Dkafka-cluster.jmx=off"; export KAFKA_JMX_OPTS; fi\n`;
}

/**
 * Environment file read by a service's unit: heap, log directory, (secured) the JAAS file the JVM reads and, with
 * kafka:jmx, the JMX connector: on `jmx.address` only (registry and server on one port), password and read-only role
 * files required; with kafka:monitoring, `agent`: the Prometheus JMX exporter's JVM option (the service's JVM only: the
 * tools never read this file); with kafka:jvmPerformanceOptions, `performance` replaces Kafka's collector and compiler
 * defaults.
 */
export function renderEnvFile(heap: string, logDir: string, jaas?: string, jmx?: { address: string; port: number }, agent?: string,
    performance?: string): string {
    const jmxOpts = (j: { address: string; port: number }) => [
        "-Dcom.sun.management.jmxremote", `-Dcom.sun.management.jmxremote.host=${j.address}`, `-Djava.rmi.server.hostname=${j.address}`,
        `-Dcom.sun.management.jmxremote.rmi.port=${j.port}`, "-Dcom.sun.management.jmxremote.authenticate=true",
        `-Dcom.sun.management.jmxremote.password.file=${PATHS.jmxPassword}`, `-Dcom.sun.management.jmxremote.access.file=${PATHS.jmxAccess}`,
        "-Dcom.sun.management.jmxremote.ssl=false", "-Dcom.sun.management.jmxremote.registry.ssl=false",
        // The file is read-only to the service (ProtectSystem=strict): the JVM must not try to rewrite it as hashes.
        "-Dcom.sun.management.jmxremote.password.toHashes=false",
    ].join(" ");
    return HEADER + `KAFKA_HEAP_OPTS="-Xms${heap} -Xmx${heap}"\nLOG_DIR="${logDir}"\n` +
        (performance !== undefined ? `# kafka:jvmPerformanceOptions, instead of Kafka's defaults.\nKAFKA_JVM_PERFORMANCE_OPTS="${performance}"\n` : "") +
        (jaas || agent ? `KAFKA_OPTS="${[...(jaas ? [`-Djava.security.auth.login.config=${jaas}`] : []), ...(agent ? [agent] : [])].join(" ")}"\n` : "") +
        (jmx
            ? `# kafka:jmx: the JMX connector on the private address, for the read-only user ${JMX_USER} (password file 0600).\n` +
              `KAFKA_JMX_OPTS="${jmxOpts(jmx)}"\nJMX_PORT=${jmx.port}\n`
            // Kafka's launcher starts a JMX agent (-Dcom.sun.management.jmxremote, no authentication) whenever this is
            // empty; any value replaces that, and the JVM starts no agent without the jmxremote property.
            : `# No JMX agent: Kafka's launcher would otherwise start one without authentication.\n` +
              `KAFKA_JMX_OPTS="-Dkafka-cluster.jmx=off"\n`);
}

/** kafka:jmx: the JMX connector's password file (its owner only may read it) and its access file (read-only). */
export function renderJmxFiles(secrets: ClusterSecrets): { password: string; access: string } {
    if (secrets.jmxPassword === undefined) throw new Error("kafka:jmx needs the generated JMX password");
    return { password: `${JMX_USER} ${secrets.jmxPassword}\n`, access: `${JMX_USER} readonly\n` };
}

function unit(description: string, after: string, envFile: string, exec: string, writable: string[]): string {
    return HEADER + `[Unit]
Description=${description}
Documentation=https://kafka.apache.org/documentation/
Wants=network-online.target
After=${after}
# A service that fails 10 times within 10 minutes stays down instead of crash-looping for ever; pulumi up (or
# systemctl reset-failed, then start) starts it again.
StartLimitIntervalSec=600
StartLimitBurst=10

[Service]
Type=simple
User=${PATHS.serviceUser}
Group=${PATHS.serviceUser}
EnvironmentFile=${envFile}
ExecStart=${exec}
Restart=on-failure
RestartSec=5
LimitNOFILE=100000
TimeoutStopSec=180
# The JVM exits with 143 after SIGTERM; that is a clean stop.
SuccessExitStatus=143
# Sandbox: new files readable by the service's group only; the OS read-only except the service's own directories;
# no setuid escalation, a private /tmp, no access to home directories.
UMask=0027
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=${writable.map((p) => `-${p}`).join(" ")}
PrivateTmp=yes
ProtectHome=yes

[Install]
WantedBy=multi-user.target
`;
}

export function renderZookeeperUnit(): string {
    return unit("Apache ZooKeeper (kafka-cluster)", "network-online.target", `${PATHS.configDir}/zookeeper.env`,
        `${PATHS.zookeeperCurrent}/bin/zookeeper-server-start.sh ${PATHS.configDir}/zookeeper.properties`,
        [PATHS.zookeeperData, PATHS.zookeeperLogs]);
}

export function renderKafkaUnit(metadata: KafkaSettings["metadata"] = "zookeeper"): string {
    return unit("Apache Kafka broker (kafka-cluster)", `network-online.target ${metadata === "kraft" ? "kafka-controller" : "zookeeper"}.service`,
        `${PATHS.configDir}/kafka.env`,
        `${PATHS.current}/bin/kafka-server-start.sh ${PATHS.configDir}/server.properties`,
        [PATHS.kafkaData, PATHS.kafkaLogs]);
}

export function renderControllerUnit(): string {
    return unit("Apache Kafka KRaft controller (kafka-cluster)", "network-online.target", `${PATHS.configDir}/kafka-controller.env`,
        `${PATHS.controllerCurrent}/bin/kafka-server-start.sh ${PATHS.configDir}/controller.properties`,
        [PATHS.controllerData, PATHS.controllerLogs]);
}

/** A ZooKeeper member's JAAS file: the one SASL (DIGEST-MD5) user the brokers log in as. */
export function renderZookeeperJaas(secrets: ClusterSecrets): string {
    return `Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_${ZOOKEEPER_SASL_USER}="${secrets.zookeeperPassword}";\n};\n`;
}

/** A broker's JAAS file: its ZooKeeper login (`Client`), which makes it create its znodes with ACLs. */
export function renderKafkaJaas(secrets: ClusterSecrets): string {
    return `Client {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  username="${ZOOKEEPER_SASL_USER}"\n` +
        `  password="${secrets.zookeeperPassword}";\n};\n`;
}

/**
 * Client properties for Kafka's tools and clients: the listeners' protocol and, secured, the CA as truststore (a file,
 * or the PEM inline, which makes the text self-contained), with sasl_ssl the SCRAM login of `user`.
 */
export function renderClientProperties(cfg: Pick<KafkaSettings, "security">, login?: { user: string; password: string },
    truststore: { location: string } | { pem: string } = { location: PATHS.caCertificate }): string {
    const lines: [string, string][] = [["security.protocol", listenerProtocol(cfg)]];
    if (cfg.security.mode === "sasl_ssl") {
        if (!login) throw new Error("sasl_ssl client properties need a SCRAM login");
        lines.push(["sasl.mechanism", "SCRAM-SHA-512"], ["sasl.jaas.config", scramLogin(login.user, login.password)]);
    }
    if (secured(cfg)) {
        lines.push(["ssl.truststore.type", "PEM"]);
        if ("location" in truststore) lines.push(["ssl.truststore.location", truststore.location]);
        // A properties value continues on the next line after a backslash; leading blanks there are skipped.
        else lines.push(["ssl.truststore.certificates", truststore.pem.trim().split("\n").join(" \\\n  ")]);
    }
    return properties(lines);
}
