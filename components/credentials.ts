// The credentials of a secured cluster (kafka:security tls or sasl_ssl), generated once per stack and kept encrypted in
// its state: a CA, one certificate per broker carrying every address it advertises, the SCRAM password of the admin
// principal and of each client user, and the ZooKeeper password of the brokers. Each is a local.Command run with
// openssl on the machine that runs `pulumi up`, like the generated SSH key: its output is a secret, it logs nothing, and
// a key travels only on a secret stdin, never on a command line. A command runs again only when its inputs change, so
// nothing is regenerated on a later `up`: a broker's certificate when its addresses or kafka:certificateRotation change.
import * as net from "net";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { ClusterConfig } from "./config";
import { nodeCertificateName, secured } from "./layout";
import { ClusterSecrets } from "./render";
import { ClusterNode, NodeIdentity, isMonitoringNode, monitoringNodes } from "./topology";

/** Days a broker certificate is valid; raise kafka:certificateRotation (a rolling restart) before then. */
export const CERTIFICATE_DAYS = 825;
/** Days the stack's CA is valid. */
export const CA_DAYS = 3650;

export interface Credentials {
    /** What the configure steps put on the hosts (secret). */
    secrets: pulumi.Output<ClusterSecrets>;
    /** The CA certificate clients trust (PEM; not secret). */
    caCertificate: pulumi.Output<string>;
}

/** PEM blocks of one kind ("CERTIFICATE", "PRIVATE KEY") in a text, each ending in a newline. */
export function pemBlocks(text: string, kind: string): string[] {
    const re = new RegExp(`-----BEGIN ${kind}-----[\\s\\S]*?-----END ${kind}-----`, "g");
    return (text.match(re) ?? []).map((b) => `${b}\n`);
}

/** The subjectAltName of a broker's certificate: every address it advertises (IP or DNS entries), each once. */
export function subjectAltNames(node: Pick<ClusterNode, "privateAddress" | "clientAddress">): string {
    const addresses = [...new Set([node.privateAddress, node.clientAddress])];
    return addresses.map((a) => (net.isIP(a) ? `IP:${a}` : `DNS:${a}`)).join(",");
}

const quiet = { logging: "none" as const };

/** openssl: a self-signed CA (EC P-256), its PKCS#8 key then its certificate on stdout. */
export function caScript(cluster: string): string {
    return [
        "set -eu; umask 077; d=$(mktemp -d); trap 'rm -rf \"$d\"' EXIT",
        `openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days ${CA_DAYS} -subj '/CN=${cluster} CA' ` +
            "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -keyout \"$d/key\" -out \"$d/cert\" 2>\"$d/err\" " +
            "|| { cat \"$d/err\" >&2; exit 1; }",
        "openssl pkcs8 -topk8 -nocrypt -in \"$d/key\"; cat \"$d/cert\"",
    ].join("; ");
}

/**
 * openssl: a broker key (EC P-256, PKCS#8) and its certificate signed by the CA read from stdin (key and certificate),
 * for server and client authentication, with subjectAltName $KC_SANS; key then certificate on stdout.
 */
export const CERT_SCRIPT = [
    "set -eu; umask 077; d=$(mktemp -d); trap 'rm -rf \"$d\"' EXIT; cat > \"$d/ca.pem\"",
    "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj \"/CN=$KC_CN\" -keyout \"$d/key\" -out \"$d/csr\" 2>\"$d/err\" " +
        "|| { cat \"$d/err\" >&2; exit 1; }",
    "printf 'basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature,keyEncipherment\\nextendedKeyUsage=serverAuth,clientAuth\\n" +
        "subjectAltName=%s\\n' \"$KC_SANS\" > \"$d/ext\"",
    `openssl x509 -req -in "$d/csr" -CA "$d/ca.pem" -CAkey "$d/ca.pem" -set_serial "0x$(openssl rand -hex 16)" -days ${CERTIFICATE_DAYS} ` +
        "-sha256 -extfile \"$d/ext\" -out \"$d/cert\" 2>\"$d/err\" || { cat \"$d/err\" >&2; exit 1; }",
    "openssl pkcs8 -topk8 -nocrypt -in \"$d/key\"; cat \"$d/cert\"",
].join("; ");

/** A random password: 24 random bytes, base64url (32 characters, nothing a JAAS or properties text must escape). */
export const PASSWORD_SCRIPT = "set -eu; head -c 24 /dev/urandom | base64 | tr '+/' '-_'";

/**
 * Creates the credentials of a secured cluster; undefined for kafka:security plaintext. The certificates wait for
 * `admitted` (the observation's verdict on this update).
 */
export function createCredentials(cfg: ClusterConfig, nodes: ClusterNode<pulumi.Input<string>>[], parent: pulumi.Resource,
    admitted?: pulumi.Output<unknown>): Credentials | undefined {
    if (!secured(cfg)) return undefined;
    const name = cfg.clusterName;
    const secretCommand = (resource: string, args: command.local.CommandArgs) =>
        new command.local.Command(resource, { ...args, ...quiet }, { parent, additionalSecretOutputs: ["stdout"] }).stdout;

    const ca = secretCommand(`${name}-ca`, { create: caScript(name) });
    const caCertificate = pulumi.unsecret(ca.apply((t) => pemBlocks(t, "CERTIFICATE")[0] ?? ""));
    // Every node that runs a broker or a controller has one certificate (its services share it). On a KRaft cluster every
    // certificate names one principal (nodePrincipal, a super user), so a new node needs no ACL.
    // The monitoring host's serves Prometheus and Alertmanager; on a host of its own it names no Kafka principal.
    const kafkaNode = (n: NodeIdentity) => n.brokerId !== undefined || n.controllerId !== undefined;
    const certified = nodes.filter((n) => kafkaNode(n) || isMonitoringNode(n));
    const keystores = Object.fromEntries(certified.map((n) => [n.name, secretCommand(`${name}-cert-${n.name}`, {
        create: CERT_SCRIPT,
        stdin: pulumi.secret(ca.apply((t) => t.endsWith("\n") ? t : `${t}\n`)),
        environment: {
            // (Once the observation's verdict admits this update: see KafkaCluster.)
            KC_CN: pulumi.all([admitted, !kafkaNode(n) ? `monitoring.${name}` : cfg.metadata === "kraft" ? nodeCertificateName(cfg) : `${n.name}.${name}`])
                .apply(([, cn]) => cn),
            KC_SANS: pulumi.all([n.privateAddress, n.clientAddress]).apply(([privateAddress, clientAddress]) =>
                subjectAltNames({ privateAddress, clientAddress })),
            KC_ROTATION: String(cfg.security.certificateRotation),
        },
    })]));
    const password = (id: string) => secretCommand(`${name}-password-${id}`, { create: PASSWORD_SCRIPT }).apply((p) => p.trim());
    const userPasswords = Object.fromEntries(cfg.security.clientUsers.map((u) => [u, password(`user-${u}`)]));

    const jmxPassword = cfg.jmx ? password("jmx") : pulumi.output(undefined);
    const monitoringPassword = cfg.monitoring && monitoringNodes(nodes).length > 0 ? password("monitoring") : pulumi.output(undefined);
    const secrets = pulumi.secret(pulumi.all([caCertificate, pulumi.all(keystores), password("admin"), password("zookeeper"), pulumi.all(userPasswords), jmxPassword,
        monitoringPassword])
        .apply(([caCert, ks, adminPassword, zookeeperPassword, users, jmx, monitoring]): ClusterSecrets => ({
        caCertificate: caCert,
        // Kafka's PEM keystore: the key, then the chain (the broker's certificate, the CA's).
        keystores: Object.fromEntries(Object.entries(ks).map(([node, t]) =>
            [node, pemBlocks(t, "PRIVATE KEY").join("") + pemBlocks(t, "CERTIFICATE").join("") + caCert])),
        adminPassword, zookeeperPassword, userPasswords: users, ...(jmx !== undefined ? { jmxPassword: jmx } : {}),
        ...(monitoring !== undefined ? { monitoringPassword: monitoring } : {}),
    })));
    return { secrets, caCertificate };
}

/**
 * A Kafka cluster id: 16 random bytes, base64url without padding (Kafka's Uuid text), never starting with "-" (which a
 * tool's argument parser would read as an option; Kafka's own random-uuid avoids it the same way).
 */
export const CLUSTER_ID_SCRIPT = "set -eu; for i in 1 2 3 4 5 6 7 8; do id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '='); " +
    "case $id in -*) continue ;; esac; printf '%s' \"$id\"; exit 0; done; exit 1";

/**
 * KRaft: the cluster id, generated once per stack and kept in its state (not secret): a command that runs again only
 * when its inputs change, and it has none. Undefined in ZooKeeper mode (ZooKeeper assigns the id).
 */
export function createClusterId(cfg: ClusterConfig, parent: pulumi.Resource, admitted?: pulumi.Output<unknown>): pulumi.Output<string> | undefined {
    if (cfg.metadata !== "kraft") return undefined;
    // Made only once the observation's verdict admits this update (a refused mode change creates nothing).
    const create = pulumi.all([admitted, CLUSTER_ID_SCRIPT]).apply(([, script]) => script);
    return new command.local.Command(`${cfg.clusterName}-cluster-id`, { create, logging: "none" }, { parent }).stdout
        .apply((id) => id.trim());
}
