// The host scripts and their contract with the plan: strict bash, shellcheck-clean, every embedded script text parses,
// every parameter arrives through the environment and is listed in the script's `# Env:` header, no layout path or
// port is written into a script, destructive paths pass the allow-list, a bad manifest fails the step.
import * as assert from "assert";
import { execFileSync, spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { HOST_SCRIPTS_DIR, hostCommand, hostScript, parseHostCommand, parseStepInput, remoteInvocation, shellQuote } from "../../components/host-command";
import { PATHS, PORTS } from "../../components/layout";
import { RenderedStep, renderPlan } from "../../components/plan";
import { parseReport } from "../../components/migration";
import { TEST_GENERATED, bashSyntax, cluster, kraftCluster, withTempDir } from "./fixtures";
import { KEY } from "./stacks";

const SCRIPTS = path.join(__dirname, "..", "..", "scripts");

/** Every command line of plans that use every host script: EC2 with dedicated ZooKeeper and data volumes, existing hosts that wipe. */
function allCommandLines(): { step: RenderedStep; line: string }[] {
    const ec2 = cluster(3, 3, "dedicated", { dataVolume: { sizeGb: 100 } });
    const hosts = cluster(3, 3, "colocated", {
        hosts: [1, 2, 3].map((id) => ({ id, address: `192.0.2.${id}` })), sshUser: "admin", sshPrivateKey: KEY, wipeOnDestroy: true,
    });
    // KRaft: dedicated controllers on EC2 with data volumes, co-located ones on existing hosts.
    const kEc2 = kraftCluster(3, 3, "dedicated", { dataVolume: { sizeGb: 100 }, jmx: true, monitoring: true, mavenUrl: "http://repo.test/maven2", monitoringCidrs: ["203.0.113.0/24"] });
    // (With a monitoring host: the node exporters, Prometheus and Alertmanager, and their teardowns.)
    const kHosts = kraftCluster(3, 3, "colocated", {
        hosts: [...[1, 2, 3].map((id) => ({ id, address: `192.0.2.${id}` })), { id: 4, address: "192.0.2.4", roles: ["monitoring"] }],
        sshUser: "admin", sshPrivateKey: KEY, wipeOnDestroy: true, clientUsers: ["app"], acls: { app: { read: ["t"] } },
        monitoring: true, mavenUrl: "http://repo.test/maven2",
    });
    const steps = [...renderPlan(ec2.cfg, ec2.nodes, ec2.secrets), ...renderPlan(hosts.cfg, hosts.nodes, hosts.secrets),
        ...renderPlan(kEc2.cfg, kEc2.nodes, kEc2.secrets, TEST_GENERATED), ...renderPlan(kHosts.cfg, kHosts.nodes, kHosts.secrets, TEST_GENERATED)];
    return steps.flatMap((step) => [step.create, step.delete].filter((l): l is string => l !== undefined && l !== "true").map((line) => ({ step, line })));
}

/** The variables a script's `# Env:` header lists (lines "#   NAME  description" after "# Env:"). */
function envHeader(name: string): string[] {
    const lines = hostScript(name).split("\n");
    const start = lines.findIndex((l) => /^# Env:/.test(l));
    assert.ok(start >= 0, `${name} has no "# Env:" header`);
    const names: string[] = [];
    for (const l of lines.slice(start + 1)) {
        const m = /^#\s{2,}([A-Z][A-Z0-9_]*)\s/.exec(l);
        if (m) names.push(m[1]);
        else if (!/^#\s{4,}/.test(l)) break;
    }
    return names;
}

/** Runs a host script as its command line would, without sudo and with `env` overriding the line's environment. */
function runLocally(line: string, env: Record<string, string>, extraPath?: string) {
    const { env: lineEnv, script } = parseHostCommand(line);
    return spawnSync("bash", ["-c", script], {
        encoding: "utf8", env: { PATH: `${extraPath ? extraPath + ":" : ""}${process.env.PATH}`, HOME: os.tmpdir(), ...lineEnv, ...env },
    });
}

describe("host scripts", () => {
    const scripts = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? scripts(path.join(d, e.name)) : e.name.endsWith(".sh") ? [path.join(d, e.name)] : []);

    it("shellcheck passes on every script in scripts/", function () {
        // shellcheck -x follows every sourced file: under the other suites' load it has taken 50 s.
        this.timeout(300_000);
        const files = scripts(SCRIPTS);
        assert.ok(files.length >= 10, `found ${files.length} scripts`);
        try {
            execFileSync("shellcheck", ["-x", "-P", "SCRIPTDIR", ...files], { stdio: "pipe" });
        } catch (e: any) {
            assert.fail(`shellcheck failed:\n${e.stdout}${e.stderr}`);
        }
    });

    it("every host script is strict (set -euo pipefail) and names its phase, not a step number", () => {
        for (const f of scripts(HOST_SCRIPTS_DIR)) {
            const text = fs.readFileSync(f, "utf8");
            assert.match(text, /^set -euo pipefail$/m, f);
            assert.doesNotMatch(text, /\bStep \d/, `${f} says "Step N"`);
        }
    });

    it("every embedded script text parses (bash -n on the script itself, not on the sudo line around it)", () => {
        const lines = allCommandLines();
        const used = new Set(lines.map(({ line }) => parseHostCommand(line).env.KC_STEP));
        assert.deepStrictEqual([...used].sort(), ["check-brokers", "check-ensemble", "check-listeners", "check-memory", "check-quorum", "client-users",
            "configure-monitoring", "configure-service", "finalize-features", "format-storage", "install-java", "install-kafka", "install-metrics-agent",
            "install-node-exporter", "mount-data-volume", "rebalance", "scram-admin", "smoke-test", "teardown", "teardown-monitoring", "wait-ready", "zookeeper-acls"]);
        for (const { step, line } of lines) {
            const { script } = parseHostCommand(line);
            assert.ok(script.startsWith(hostScript("lib.sh")), `${step.name}: lib.sh comes first`);
            assert.doesNotThrow(() => bashSyntax(script), `${step.name}`);
        }
    });

    it("the syntax check fails on a broken script even when the sudo line around it is valid bash", () => {
        const line = allCommandLines().find(({ step }) => step.phase === "install")!.line;
        const broken = line.replace(/\nfi\n/, "\nfy\n");
        assert.notStrictEqual(broken, line);
        execFileSync("bash", ["-n", "-c", broken]); // the outer line still parses: that check alone cannot fail
        assert.throws(() => bashSyntax(parseHostCommand(broken).script), /bash -n: .*(syntax error|unexpected end of file)/);
    });

    it("every parameter a step passes is in its script's # Env: header, and every required (:?) one is passed", () => {
        const passed = new Map<string, Set<string>>();
        for (const { line } of allCommandLines()) {
            const { env } = parseHostCommand(line);
            const script = `${env.KC_STEP}.sh`;
            if (!passed.has(script)) passed.set(script, new Set());
            for (const k of Object.keys(env)) if (k !== "KC_STEP") passed.get(script)!.add(k);
        }
        for (const [script, vars] of passed) {
            const header = envHeader(script);
            const text = hostScript(script);
            for (const v of vars) assert.ok(header.includes(v), `${script}: ${v} is passed but not in its # Env: header (${header.join(", ")})`);
            for (const [, v] of text.matchAll(/\$\{([A-Z][A-Z0-9_]*):\?/g)) {
                assert.ok(header.includes(v), `${script}: ${v} is required but not in its # Env: header`);
                assert.ok(vars.has(v), `${script}: ${v} is required but no step passes it`);
            }
            for (const v of header) {
                const optional = new RegExp(`\\$\\{${v}:-`).test(text) || /^RERUN_DIGEST$/.test(v);
                assert.ok(vars.has(v) || optional, `${script}: ${v} is in the header but neither passed nor optional`);
            }
        }
        assert.deepStrictEqual(envHeader("install-java.sh"), ["NEEDRESTART_CONF"]);
    });

    it("no layout path or port is written into a host script; they all arrive through the environment", () => {
        const code = (f: string) => fs.readFileSync(f, "utf8").split("\n").filter((l) => !/^\s*#/.test(l)).join("\n");
        const layout = [...Object.entries(PATHS).filter(([k]) => k !== "serviceUser").map(([, v]) => v),
            ...Object.entries(PORTS).filter(([k]) => k !== "ssh").map(([, v]) => String(v))];
        for (const f of scripts(HOST_SCRIPTS_DIR)) {
            const text = code(f);
            for (const v of layout) assert.ok(!text.includes(v), `${path.basename(f)} hard-codes ${v}`);
        }
    });

    it("the removal allow-list takes the layout's directories and nothing outside a kafka or zookeeper directory", () => {
        const check = (p: string) => spawnSync("bash", ["-c", `${hostScript("lib.sh")}\nremovable "$1"`, "_", p]).status === 0;
        for (const p of [PATHS.installRoot, PATHS.configDir, PATHS.kafkaData, PATHS.kafkaLogDirs, PATHS.zookeeperData, PATHS.kafkaLogs,
            PATHS.zookeeperLogs]) assert.ok(check(p), `${p} is refused`);
        for (const p of ["/", "/etc", "/var/lib", "/opt", "/home/kafka", "/etc/kafka/../..", "/etc/kafka/", "//etc/kafka", "etc/kafka",
            "/var/lib/kafka/../../etc", "/usr/lib/kafka", "/etc/ssh", "/var/lib/kafka/./x", ""]) assert.ok(!check(p), `${p} is allowed`);
    });

    it("teardown refuses a wipe path outside the allow-list before removing anything", () => {
        withTempDir("teardown-test-", (dir) => {
            // Stand-ins for the commands teardown runs, so nothing on this machine is stopped or removed.
            for (const cmd of ["systemctl", "rm"]) {
                fs.writeFileSync(path.join(dir, cmd), `#!/bin/sh\necho "${cmd} $*" >> "${dir}/calls"\n`, { mode: 0o755 });
            }
            const line = hostCommand("teardown.sh", { SERVICES: "kafka", WIPE: "true", WIPE_PATHS: `${PATHS.kafkaLogDirs} /etc`, UNIT_DIR: PATHS.unitDir });
            const r = runLocally(line, {}, dir);
            assert.notStrictEqual(r.status, 0);
            assert.match(r.stderr, /refusing to remove \/etc: not on the allow-list/);
            const calls = fs.existsSync(path.join(dir, "calls")) ? fs.readFileSync(path.join(dir, "calls"), "utf8") : "";
            assert.doesNotMatch(calls, /^rm /m, "nothing was removed");
        });
    });

    it("a manifest that is not valid base64 fails the configure step before any file is written", () => {
        withTempDir("manifest-test-", (dir) => {
            fs.mkdirSync(path.join(dir, "kafka_2.13-3.9.2"));
            fs.writeFileSync(path.join(dir, "kafka_2.13-3.9.2", ".verified"), "");
            const base = { SERVICE: "zookeeper", CONFIG_DIR: dir, INSTALL_ROOT: dir, KAFKA_DIST: "kafka_2.13-3.9.2", DIST_LINK: `${dir}/zk`,
                SELF_ADDRESS: "127.0.0.1", ZK_CLIENT_PORT: "2181" };
            const outer = runLocally(hostCommand("configure-service.sh", { ...base, MANIFEST_B64: "not*base64!" }), {});
            assert.notStrictEqual(outer.status, 0);
            assert.match(outer.stderr, /MANIFEST_B64 is not valid base64/);
            const file = path.join(dir, "zookeeper.properties");
            const manifest = Buffer.from(`${file} 0640 root:root not*base64!\n`).toString("base64");
            const inner = runLocally(hostCommand("configure-service.sh", { ...base, MANIFEST_B64: manifest }), {});
            assert.notStrictEqual(inner.status, 0);
            assert.match(inner.stderr, new RegExp(`content for ${file} is not valid base64`));
            assert.ok(!fs.existsSync(file), "nothing written");
        });
    });

    describe("check-brokers: replicas on a broker that is no longer configured (Kafka's tools replaced by stand-ins)", () => {
        let dir: string;
        beforeEach(() => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "check-brokers-test-"));
            const bin = path.join(dir, "bin");
            fs.mkdirSync(bin);
            const tool = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
            // Brokers 1-5 are registered and answer; the topics' layout is the test's.
            tool("zookeeper-shell.sh", "echo 'WATCHER::'; echo '[1, 2, 3, 4, 5]'");
            tool("kafka-broker-api-versions.sh", "for i in 1 2 3; do echo \"10.0.0.$i:9093 (id: $i rack: null) -> (\"; done");
            tool("kafka-topics.sh", `cat "${dir}/describe"`);
        });
        afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

        const describe = (replicas: string[]) => [
            "Topic: __consumer_offsets\tTopicId: abc\tPartitionCount: 2\tReplicationFactor: 3\tConfigs: compression.type=producer",
            ...replicas.map((r, i) => `\tTopic: __consumer_offsets\tPartition: ${i}\tLeader: ${r[0]}\tReplicas: ${r}\tIsr: ${r}\tElr: N/A\tLastKnownElr: N/A`),
        ].join("\n") + "\n";
        const run = (replicas: string[]) => {
            fs.writeFileSync(path.join(dir, "describe"), describe(replicas));
            return runLocally(hostCommand("check-brokers.sh", {
                ZK_CONNECT: "10.0.0.1:2181/kafka", BROKER_IDS: "1 2 3", BROKER_ENDPOINTS: "10.0.0.1:9093 10.0.0.2:9093 10.0.0.3:9093",
                CLIENT_CONFIG: path.join(dir, "admin.properties"), KAFKA_HOME: dir, TOOLS_LOG_DIR: dir, BROKERS_TIMEOUT: "1",
            }), {});
        };

        it("refuses when brokers to be removed (kafka:brokerCount lowered) still hold replicas, naming them and the fix", () => {
            const r = run(["1,2,3", "3,4,5", "5,1,2"]);
            assert.notStrictEqual(r.status, 0);
            assert.match(r.stderr, /broker\(s\) 4,5 still hold replicas of 2 partition\(s\) but are not among the configured brokers \[1,2,3\]/);
            assert.match(r.stderr, /kafka:brokerCount lowered.*kafka-reassign-partitions\.sh --generate --broker-list 1,2,3/s);
        });

        it("passes once every replica is on a configured broker (the extra brokers may still be registered)", () => {
            const r = run(["1,2,3", "3,1,2", "2,3,1"]);
            assert.strictEqual(r.status, 0, r.stderr);
            assert.match(r.stdout, /no replica outside \[1,2,3\]/);
        });
    });

    it("client-users: sets the listed SCRAM users, removes others (never admin), and makes the ACLs exactly the listed ones, one tool run per resource", () => {
        withTempDir("kc-users-", (dir) => {
            fs.mkdirSync(path.join(dir, "bin"));
            const calls = path.join(dir, "calls");
            // Stand-ins for Kafka's tools: each records its arguments (and, for --add-config-file, the file's content) and
            // answers the listings as Kafka 3.9 prints them.
            fs.writeFileSync(path.join(dir, "bin", "kafka-configs.sh"), [
                "#!/bin/bash",
                `echo "configs $*" >> ${calls}`,
                `for a in "$@"; do if [[ $prev == --add-config-file ]]; then echo "file $(cat "$a")" >> ${calls}; fi; prev=$a; done`,
                'if [[ " $* " == *" --describe "* ]]; then',
                "  echo \"SCRAM credential configs for user-principal 'admin' are SCRAM-SHA-512=iterations=8192\"",
                "  echo \"SCRAM credential configs for user-principal 'old' are SCRAM-SHA-512=iterations=8192\"",
                "  echo \"SCRAM credential configs for user-principal 'app' are SCRAM-SHA-512=iterations=8192\"",
                "fi",
            ].join("\n") + "\n", { mode: 0o755 });
            fs.writeFileSync(path.join(dir, "bin", "kafka-acls.sh"), [
                "#!/bin/bash",
                `echo "acls $*" >> ${calls}`,
                'if [[ " $* " == *" --list "* ]]; then cat <<"OUT"',
                "Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)`: ",
                " \t(principal=User:app, host=*, operation=READ, permissionType=ALLOW)",
                " \t(principal=User:old, host=*, operation=WRITE, permissionType=ALLOW)",
                " \t(principal=User:admin, host=*, operation=ALL, permissionType=ALLOW)",
                "",
                "Current ACLs for resource `ResourcePattern(resourceType=GROUP, name=app-, patternType=PREFIXED)`: ",
                " \t(principal=User:app, host=*, operation=READ, permissionType=ALLOW)",
                "",
                "OUT",
                "fi",
            ].join("\n") + "\n", { mode: 0o755 });
            const r = runLocally(hostCommand("client-users.sh", {
                BOOTSTRAP: "10.0.0.1:9093", CLIENT_CONFIG: "/etc/kafka/admin.properties", ADMIN_USER: "admin",
                USERS_B64: Buffer.from("app pw-app\naudit pw-audit\n").toString("base64"), ACLS_MANAGED: "true",
                ACLS: ["app GROUP app- PREFIXED READ", "app TOPIC orders LITERAL DESCRIBE", "app TOPIC orders LITERAL READ", "audit TOPIC orders LITERAL READ"].join("\n"),
                KAFKA_HOME: dir, TOOLS_LOG_DIR: dir,
            }), {});
            assert.strictEqual(r.status, 0, r.stderr);
            assert.match(r.stdout, /client users: app audit; ACLs: 4 in place \(2 added, 1 removed\)/);
            const log = fs.readFileSync(calls, "utf8").trim().split("\n");
            const common = "--bootstrap-server 10.0.0.1:9093 --command-config /etc/kafka/admin.properties";
            assert.deepStrictEqual(log.filter((l) => l.startsWith("file ")), ["file SCRAM-SHA-512=iterations=8192,password=pw-app",
                "file SCRAM-SHA-512=iterations=8192,password=pw-audit"], "passwords reach the tool in a file");
            assert.ok(!log.some((l) => l.startsWith("configs") && l.includes("pw-")), "no password on a command line");
            assert.ok(log.includes(`configs ${common} --alter --delete-config SCRAM-SHA-512 --entity-type users --entity-name old`));
            assert.ok(!log.some((l) => l.includes("--delete-config") && !l.endsWith("old")), "only the unlisted user goes, never admin");
            const acls = log.filter((l) => l.startsWith("acls") && !l.includes("--list"));
            assert.deepStrictEqual(acls, [
                `acls ${common} --remove --force --allow-principal User:old --operation WRITE --topic orders --resource-pattern-type literal`,
                `acls ${common} --add --allow-principal User:app --operation DESCRIBE --topic orders --resource-pattern-type literal`,
                `acls ${common} --add --allow-principal User:audit --operation READ --topic orders --resource-pattern-type literal`,
            ]);
            // Unmanaged ACLs (kafka:acls unset): users only, no ACL listed or changed.
            fs.writeFileSync(calls, "");
            const unmanaged = runLocally(hostCommand("client-users.sh", {
                BOOTSTRAP: "10.0.0.1:9093", CLIENT_CONFIG: "/etc/kafka/admin.properties", ADMIN_USER: "admin", USERS_B64: "", ACLS_MANAGED: "false", ACLS: "",
                KAFKA_HOME: dir, TOOLS_LOG_DIR: dir,
            }), {});
            assert.strictEqual(unmanaged.status, 0, unmanaged.stderr);
            assert.ok(!fs.readFileSync(calls, "utf8").includes("acls "), "no ACL touched");
            assert.match(fs.readFileSync(calls, "utf8"), /--delete-config SCRAM-SHA-512 --entity-type users --entity-name app\n/);
        });
    });

    it("check-listeners: up the order plaintext, tls, sasl_ssl (or a switch half-way) passes; back to plaintext or sasl_ssl -> tls is refused", () => {
        withTempDir("kc-listeners-", (dir) => {
            fs.mkdirSync(path.join(dir, "stubs"));
            // systemctl is-active kafka: the state file says.
            fs.writeFileSync(path.join(dir, "stubs", "systemctl"), `#!/bin/sh\n[ "$(cat ${dir}/state)" = active ]\n`, { mode: 0o755 });
            const PLAIN = "INTERNAL:PLAINTEXT,CLIENT:PLAINTEXT";
            const SASL = "INTERNAL_SASL:SASL_SSL,CLIENT_SASL:SASL_SSL";
            const TLS = "INTERNAL_TLS:SSL,CLIENT_TLS:SSL";
            const run = (state: string, running: string, map: string, security: string) => {
                fs.writeFileSync(path.join(dir, "state"), state);
                fs.writeFileSync(path.join(dir, "server.properties"), `broker.id=1\nlistener.security.protocol.map=${running}\n`);
                return runLocally(hostCommand("check-listeners.sh", {
                    NODE_NAME: "host-1", SERVER_PROPERTIES: path.join(dir, "server.properties"), PROTOCOL_MAP: map, SECURITY: security,
                }), {}, path.join(dir, "stubs"));
            };
            for (const [running, map, security] of [[SASL, PLAIN, "plaintext"], [TLS, PLAIN, "plaintext"], [SASL, TLS, "tls"], [`${TLS},${SASL}`, TLS, "tls"],
                [`${PLAIN},${SASL}`, PLAIN, "plaintext"], ["INTERNAL:SASL_SSL,CLIENT:SASL_SSL", PLAIN, "plaintext"]]) {
                const refused = run("active", running, map, security);
                assert.strictEqual(refused.status, 1, `${running} -> ${map}`);
                assert.match(refused.stderr, new RegExp(`^ERROR \\[check-listeners on .*\\]: the broker on host-1 .* runs listeners ${running}, and ` +
                    `kafka:security ${security} means ${map}: a running cluster can switch up the order plaintext, tls, sasl_ssl .*but not back to ` +
                    "plaintext or from sasl_ssl to tls\\. Nothing was changed on any host\\. Fix: set kafka:security back"));
            }
            // (The last: sasl_ssl under the listener names of earlier versions, INTERNAL and CLIENT, rolls onto the current ones.)
            for (const [running, map] of [[PLAIN, SASL], [PLAIN, TLS], [TLS, SASL], [`${PLAIN},${SASL}`, SASL], [`${SASL},${PLAIN}`, SASL], [`${TLS},${SASL}`, SASL],
                ["INTERNAL:SASL_SSL,CLIENT:SASL_SSL", SASL]]) {
                const ok = run("active", running, map, "sasl_ssl");
                assert.strictEqual(ok.status, 0, ok.stderr);
                assert.match(ok.stdout, new RegExp(`listeners ok on host-1: it runs ${running}; this update adds ${map} beside them`));
            }
            const same = run("active", SASL, SASL, "sasl_ssl");
            assert.strictEqual(same.status, 0, same.stderr);
            assert.match(same.stdout, /listeners ok on host-1: INTERNAL_SASL:SASL_SSL,CLIENT_SASL:SASL_SSL, as the running broker has/);
            const stopped = run("inactive", PLAIN, SASL, "sasl_ssl");
            assert.strictEqual(stopped.status, 0, stopped.stderr);
            assert.match(stopped.stdout, /no broker running yet/);
        });
    });

    it("observe: drift is a provisioned service down or a managed file changed or removed since its step wrote it; a node not provisioned yet has none; the generation goes up by one", () => {
        withTempDir("kc-observe-", (dir) => {
            fs.mkdirSync(path.join(dir, "stubs"));
            // systemctl is-enabled / is-active from files: <dir>/enabled-<unit>, <dir>/active-<unit>.
            fs.writeFileSync(path.join(dir, "stubs", "systemctl"), `#!/bin/sh\ncase $1 in\n` +
                `is-enabled) [ -f ${dir}/enabled-$2 ] && echo enabled || { echo disabled; exit 1; } ;;\n` +
                `is-active) q=0; [ "$2" = --quiet ] && { q=1; shift; }\n` +
                `  if [ -f ${dir}/active-$2 ]; then [ $q = 1 ] || echo active; exit 0; fi; [ $q = 1 ] || echo inactive; exit 3 ;;\nesac\n`, { mode: 0o755 });
            const sha = (t: string) => require("crypto").createHash("sha256").update(t).digest("hex");
            const [props, env] = [path.join(dir, "server.properties"), path.join(dir, "kafka.env")];
            const run = () => runLocally(hostCommand("observe.sh", {
                NODE_NAME: "host-1", SERVICES: "kafka kafka-controller", CONFIG_DIR: dir, GENERATION_FILE: path.join(dir, "generation"),
                BROKER_LINK: path.join(dir, "current"), CONTROLLER_LINK: path.join(dir, "controller-current"), BROKER_META: path.join(dir, "meta.properties"),
            }), {}, path.join(dir, "stubs"));
            const fresh = run();
            assert.strictEqual(fresh.status, 0, fresh.stderr);
            assert.strictEqual(fresh.stdout, "generation: 0\n", "nothing provisioned yet: no drift");
            // What a configure step leaves: the files, their record (sha256sum's format) and the generation.
            fs.writeFileSync(props, "a=1\n");
            fs.writeFileSync(env, "HEAP=1\n");
            fs.writeFileSync(path.join(dir, ".kafka.sha256"), `${sha("a=1\n")}  ${props}\n${sha("HEAP=1\n")}  ${env}\n`);
            for (const u of ["kafka", "kafka-controller"]) { fs.writeFileSync(path.join(dir, `enabled-${u}`), ""); fs.writeFileSync(path.join(dir, `active-${u}`), ""); }
            fs.writeFileSync(path.join(dir, "generation"), "2\n");
            // (server.properties without broker.id or a release link: the role line says so.)
            assert.strictEqual(run().stdout, "broker: active=1 mode=zookeeper version=- id=-1\ngeneration: 2\n", "healthy: the generation its steps wrote");
            fs.rmSync(path.join(dir, "active-kafka"));
            fs.writeFileSync(props, "a=1\nlog.retention.hours=1\n");
            fs.rmSync(env);
            const drift = run();
            assert.strictEqual(drift.status, 0, drift.stderr);
            assert.strictEqual(drift.stdout, `broker: active=0 mode=zookeeper version=- id=-1\ndrift: kafka is inactive\n` +
                `drift: ${props} was changed since kafka's configure step wrote it\ndrift: ${env} was removed\ngeneration: 3\n`);
        });
    });

    it("observe: each role the host was provisioned with, read from its properties and release link, in the lines migration.ts parses", () => {
        withTempDir("kc-observe-roles-", (dir) => {
            fs.mkdirSync(path.join(dir, "stubs"));
            fs.writeFileSync(path.join(dir, "stubs", "systemctl"), `#!/bin/sh\ncase $1 in\nis-enabled) [ -f ${dir}/enabled-$2 ] && echo enabled ;;\n` +
                `is-active) [ "$2" = --quiet ] && shift; [ -f ${dir}/active-$2 ] ;;\nesac\n`, { mode: 0o755 });
            const run = () => {
                const r = runLocally(hostCommand("observe.sh", {
                    NODE_NAME: "host-2", SERVICES: "kafka zookeeper", CONFIG_DIR: dir, GENERATION_FILE: path.join(dir, "generation"),
                    BROKER_LINK: path.join(dir, "current"), CONTROLLER_LINK: path.join(dir, "controller-current"), BROKER_META: path.join(dir, "meta.properties"),
                }), {}, path.join(dir, "stubs"));
                assert.strictEqual(r.status, 0, r.stderr);
                return parseReport("host-2", r.stdout).node;
            };
            const props = (name: string, text: string) => fs.writeFileSync(path.join(dir, name), text);
            fs.symlinkSync("/opt/kafka/kafka_2.13-3.9.2", path.join(dir, "current"));
            props("server.properties", "broker.id=2\nzookeeper.connect=a:2181/kafka\ninter.broker.protocol.version=3.9\n");
            props("zookeeper.properties", "dataDir=/x\n");
            for (const u of ["kafka", "zookeeper"]) fs.writeFileSync(path.join(dir, `active-${u}`), "");
            assert.deepStrictEqual(run(), { node: "host-2", broker: { active: true, mode: "zookeeper", version: "3.9.2", id: 2, ibp: "3.9" }, zookeeper: { active: true } });
            props("server.properties", "broker.id=2\nzookeeper.connect=a:2181/kafka\nzookeeper.metadata.migration.enable=true\n");
            // Down but enabled: still a member (a stopped one).
            fs.rmSync(path.join(dir, "active-zookeeper"));
            fs.writeFileSync(path.join(dir, "enabled-zookeeper"), "");
            // Once the broker ran, its log directory names the cluster it belongs to.
            props("meta.properties", "version=0\nbroker.id=2\ncluster.id=oH81n1CwR9-cPnZUzue_0A\n");
            assert.deepStrictEqual(run(), {
                node: "host-2", broker: { active: true, mode: "migrating", version: "3.9.2", id: 2, cluster: "oH81n1CwR9-cPnZUzue_0A" }, zookeeper: { active: false },
            });
            fs.rmSync(path.join(dir, "meta.properties"));
            // New files written but the restart still pending (an interrupted roll): the broker runs the files it had.
            props("server.properties", "process.roles=broker\nnode.id=2\n");
            fs.mkdirSync(path.join(dir, ".kafka.previous", "files", dir), { recursive: true });
            fs.writeFileSync(path.join(dir, ".kafka.previous", "files", dir, "server.properties"), "broker.id=2\nzookeeper.connect=a:2181/kafka\nzookeeper.metadata.migration.enable=true\n");
            fs.writeFileSync(path.join(dir, ".kafka.restart-pending"), "");
            assert.strictEqual(run().broker?.mode, "migrating");
            fs.rmSync(path.join(dir, ".kafka.restart-pending"));
            assert.strictEqual(run().broker?.mode, "kraft");
            props("server.properties", "broker.id=2\nzookeeper.connect=a:2181/kafka\nzookeeper.metadata.migration.enable=true\n");
            // Stopped and disabled (retired by a finalized migration), its files kept: no longer a member.
            fs.rmSync(path.join(dir, "enabled-zookeeper"));
            assert.strictEqual(run().zookeeper, undefined);
            // A KRaft broker (node.id) beside a controller, whose link names its own release.
            props("server.properties", "process.roles=broker\nnode.id=2\n");
            fs.rmSync(path.join(dir, "zookeeper.properties"));
            fs.symlinkSync("/opt/kafka/kafka_2.13-4.3.2", path.join(dir, "controller-current"));
            props("controller.properties", "process.roles=controller\nnode.id=3002\nzookeeper.metadata.migration.enable=true\nzookeeper.connect=a:2181/kafka\n" +
                "controller.quorum.voters=3002@a:9098\n");
            fs.writeFileSync(path.join(dir, "active-kafka-controller"), "");
            assert.deepStrictEqual(run(), {
                node: "host-2", broker: { active: true, mode: "kraft", version: "3.9.2", id: 2 },
                controller: { active: true, migration: true, zookeeperConnect: true, version: "4.3.2", id: 3002, quorum: "voters" },
            });
            props("controller.properties", "process.roles=controller\nnode.id=3002\ncontroller.quorum.bootstrap.servers=a:9098\n");
            assert.deepStrictEqual(run().controller, { active: true, migration: false, zookeeperConnect: false, version: "4.3.2", id: 3002, quorum: "bootstrap" });
        });
    });

    it("check-listeners: a KRaft cluster (or one migrating to KRaft) switches no kafka:security; the metadata mode is not its to judge", () => {
        withTempDir("kc-mode-", (dir) => {
            fs.mkdirSync(path.join(dir, "stubs"));
            fs.writeFileSync(path.join(dir, "stubs", "systemctl"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
            const SASL = "INTERNAL_SASL:SASL_SSL,CLIENT_SASL:SASL_SSL";
            const run = (props: string, map = SASL, extra: Record<string, string> = {}) => {
                fs.writeFileSync(path.join(dir, "server.properties"), props);
                return runLocally(hostCommand("check-listeners.sh", {
                    NODE_NAME: "host-1", SERVER_PROPERTIES: path.join(dir, "server.properties"), PROTOCOL_MAP: map, SECURITY: "sasl_ssl", ...extra,
                }), {}, path.join(dir, "stubs"));
            };
            const kraft = `process.roles=broker\nnode.id=1\nlistener.security.protocol.map=${SASL},CONTROLLER:SSL\n`;
            // A broker in KRaft mode (phase C of a migration) checked against the ZooKeeper-mode map: the same listeners.
            const migrated = run(kraft, SASL, { ROLLABLE: "false" });
            assert.strictEqual(migrated.status, 0, migrated.stderr);
            const same = run(kraft, `${SASL},CONTROLLER:SSL`, { ROLLABLE: "false" });
            assert.strictEqual(same.status, 0, same.stderr);
            const sw = run(kraft.replace(/SASL_SSL/g, "SSL").replace(/_SASL/g, "_TLS"), `${SASL},CONTROLLER:SSL`, { ROLLABLE: "false" });
            assert.strictEqual(sw.status, 1);
            assert.match(sw.stderr, /a running KRaft cluster does not switch kafka:security .*Nothing was changed on any host/);
        });
    });

    it("configure-service TRANSITION add, then switch, then none: both listeners, inter-broker moved, then the configured file (stand-in systemctl and tools)", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kc-transition-"));
        // The running broker's old inter-broker listener: something must answer there for the step's "listening" wait.
        const server = net.createServer((c) => c.destroy());
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
        const port = (server.address() as net.AddressInfo).port;
        try {
            const dist = "kafka_2.13-3.9.1";
            fs.mkdirSync(path.join(dir, "stubs"));
            fs.mkdirSync(path.join(dir, dist, "bin"), { recursive: true });
            fs.writeFileSync(path.join(dir, dist, ".verified"), "");
            fs.symlinkSync(dist, path.join(dir, "current"));
            fs.writeFileSync(path.join(dir, "stubs", "systemctl"), [
                "#!/bin/sh",
                'case "$1" in is-active) exit 0 ;; is-enabled) echo enabled ;;',
                '  show) case "$3" in MainPID) echo 4242 ;; ActiveState) echo active ;; esac ;;',
                `  *) echo "$*" >> ${dir}/calls ;; esac`,
            ].join("\n") + "\n", { mode: 0o755 });
            // Healthy, no under-replicated partition; each tool run logs where it connected and its login file, on one line.
            for (const tool of ["kafka-broker-api-versions.sh", "kafka-topics.sh"]) {
                fs.writeFileSync(path.join(dir, dist, "bin", tool), `#!/bin/bash\necho "$2|$(paste -sd' ' "$4")" >> ${dir}/tools\n`, { mode: 0o755 });
            }
            const props = path.join(dir, "server.properties");
            const running = ["broker.id=1", `listeners=INTERNAL://0.0.0.0:${port},CLIENT://0.0.0.0:9092`,
                `advertised.listeners=INTERNAL://127.0.0.1:${port},CLIENT://192.0.2.1:9092`,
                "listener.security.protocol.map=INTERNAL:PLAINTEXT,CLIENT:PLAINTEXT", "inter.broker.listener.name=INTERNAL", "log.dirs=/x", ""].join("\n");
            fs.writeFileSync(props, running);
            const target = ["# managed", "broker.id=1", "listeners=INTERNAL_SASL://0.0.0.0:9097,CLIENT_SASL://0.0.0.0:9096",
                "advertised.listeners=INTERNAL_SASL://127.0.0.1:9097,CLIENT_SASL://192.0.2.1:9096",
                "listener.security.protocol.map=INTERNAL_SASL:SASL_SSL,CLIENT_SASL:SASL_SSL", "inter.broker.listener.name=INTERNAL_SASL",
                "zookeeper.set.acl=true", "sasl.enabled.mechanisms=SCRAM-SHA-512", "ssl.truststore.location=/etc/kafka/ca.pem", "authorizer.class.name=kafka.security.authorizer.AclAuthorizer",
                "super.users=User:admin", "allow.everyone.if.no.acl.found=false", "log.dirs=/x", ""].join("\n");
            const admin = path.join(dir, "admin.properties");
            fs.writeFileSync(admin, "security.protocol=SASL_SSL\n");
            const me = os.userInfo().username;
            const run = (transition?: string) => {
                const { env, script } = parseHostCommand(hostCommand("configure-service.sh", {
                    SERVICE: "kafka", MANIFEST_B64: Buffer.from(`${props} 0644 ${me} ${Buffer.from(target).toString("base64")}\n`).toString("base64"),
                    CONFIG_DIR: dir, INSTALL_ROOT: dir, KAFKA_DIST: dist, DIST_LINK: path.join(dir, "current"),
                    SELF_BOOTSTRAP: `127.0.0.1:${port}`, CLIENT_CONFIG: admin, KAFKA_HOME: path.join(dir, "current"), TOOLS_LOG_DIR: dir,
                    ...(transition ? { TRANSITION: transition } : {}),
                }));
                for (const f of ["calls", "tools"]) fs.rmSync(path.join(dir, f), { force: true });
                const r = spawnSync("bash", ["-c", script], { env: { PATH: `${dir}/stubs:${process.env.PATH}`, ...env, ROLL_TIMEOUT: "5" }, encoding: "utf8" });
                const read = (f: string) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), "utf8") : "");
                return { ...r, calls: read("calls"), tools: read("tools"), props: fs.readFileSync(props, "utf8") };
            };
            const value = (text: string, key: string) => text.split("\n").filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));

            const add = run("add");
            assert.strictEqual(add.status, 0, add.stderr);
            assert.deepStrictEqual(value(add.props, "listeners"), [`INTERNAL://0.0.0.0:${port},CLIENT://0.0.0.0:9092,INTERNAL_SASL://0.0.0.0:9097,CLIENT_SASL://0.0.0.0:9096`]);
            assert.deepStrictEqual(value(add.props, "advertised.listeners"),
                [`INTERNAL://127.0.0.1:${port},CLIENT://192.0.2.1:9092,INTERNAL_SASL://127.0.0.1:9097,CLIENT_SASL://192.0.2.1:9096`]);
            assert.deepStrictEqual(value(add.props, "listener.security.protocol.map"), ["INTERNAL:PLAINTEXT,CLIENT:PLAINTEXT,INTERNAL_SASL:SASL_SSL,CLIENT_SASL:SASL_SSL"]);
            assert.deepStrictEqual(value(add.props, "inter.broker.listener.name"), ["INTERNAL"], "inter-broker traffic stays on the old listener");
            assert.deepStrictEqual(value(add.props, "zookeeper.set.acl"), ["false"]);
            for (const k of ["authorizer.class.name", "super.users", "allow.everyone.if.no.acl.found"]) assert.deepStrictEqual(value(add.props, k), [], k);
            assert.deepStrictEqual(value(add.props, "sasl.enabled.mechanisms"), ["SCRAM-SHA-512"], "the new listener's settings are there");
            assert.match(add.calls, /^restart kafka$/m);
            // The health checks went to the old plaintext listener, without a login (an empty client config).
            assert.ok(add.tools.trim().split("\n").every((l) => l === `127.0.0.1:${port}|`), add.tools);

            const again = run("add");
            assert.strictEqual(again.status, 0, again.stderr);
            assert.match(again.stderr, /listeners-add: nothing to change/);
            assert.doesNotMatch(again.calls, /restart/);
            // Interrupted after writing its files (a restart pending): the files are not what runs, so it restarts.
            fs.writeFileSync(path.join(dir, ".kafka.restart-pending"), "");
            const resumed = run("add");
            assert.strictEqual(resumed.status, 0, resumed.stderr);
            assert.match(resumed.calls, /^restart kafka$/m);
            assert.ok(!fs.existsSync(path.join(dir, ".kafka.restart-pending")));

            const sw = run("switch");
            assert.strictEqual(sw.status, 0, sw.stderr);
            assert.deepStrictEqual(value(sw.props, "inter.broker.listener.name"), ["INTERNAL_SASL"]);
            assert.deepStrictEqual(value(sw.props, "zookeeper.set.acl"), ["true"]);
            assert.deepStrictEqual(value(sw.props, "listener.security.protocol.map"), ["INTERNAL:PLAINTEXT,CLIENT:PLAINTEXT,INTERNAL_SASL:SASL_SSL,CLIENT_SASL:SASL_SSL"]);
            assert.deepStrictEqual(value(sw.props, "authorizer.class.name"), []);
            assert.match(sw.calls, /^restart kafka$/m);

            const last = run();
            assert.strictEqual(last.status, 0, last.stderr);
            assert.strictEqual(last.props, target, "the last roll writes the configured file");
            assert.match(last.calls, /^restart kafka$/m);
            assert.ok(last.tools.trim().split("\n").every((l) => l === `127.0.0.1:${port}|security.protocol=SASL_SSL`), last.tools);
            // After it, neither transition has anything to do.
            for (const t of ["add", "switch"]) {
                const r = run(t);
                assert.strictEqual(r.status, 0, r.stderr);
                assert.doesNotMatch(r.calls, /restart/, t);
            }
            // From tls: the checks go to the old TLS listener over TLS, trusting the cluster's CA (no SASL login there yet).
            fs.writeFileSync(props, running.replace(/INTERNAL:/g, "INTERNAL_TLS:").replace(/CLIENT:/g, "CLIENT_TLS:").replace(/:PLAINTEXT/g, ":SSL")
                .replace("inter.broker.listener.name=INTERNAL", "inter.broker.listener.name=INTERNAL_TLS"));
            const fromTls = run("add");
            assert.strictEqual(fromTls.status, 0, fromTls.stderr);
            assert.deepStrictEqual(value(fromTls.props, "listener.security.protocol.map"), ["INTERNAL_TLS:SSL,CLIENT_TLS:SSL,INTERNAL_SASL:SASL_SSL,CLIENT_SASL:SASL_SSL"]);
            assert.deepStrictEqual(value(fromTls.props, "inter.broker.listener.name"), ["INTERNAL_TLS"]);
            assert.ok(fromTls.tools.trim().split("\n").every((l) =>
                l === `127.0.0.1:${port}|security.protocol=SSL ssl.truststore.type=PEM ssl.truststore.location=/etc/kafka/ca.pem`), fromTls.tools);
            // From a SASL_SSL broker that enforces ACLs already (stop 15's listener names): the authorizer stays through the
            // rolls, and the checks log in as the admin.
            fs.rmSync(path.join(dir, ".kafka.restart-pending"), { force: true });
            fs.writeFileSync(props, running.replace(/:PLAINTEXT/g, ":SASL_SSL") + "authorizer.class.name=kafka.security.authorizer.AclAuthorizer\n");
            const fromAcls = run("add");
            assert.strictEqual(fromAcls.status, 0, fromAcls.stderr);
            assert.deepStrictEqual(value(fromAcls.props, "authorizer.class.name"), ["kafka.security.authorizer.AclAuthorizer"]);
            assert.deepStrictEqual(value(fromAcls.props, "allow.everyone.if.no.acl.found"), ["false"]);
            assert.ok(fromAcls.tools.trim().split("\n").every((l) => l === `127.0.0.1:${port}|security.protocol=SASL_SSL`), fromAcls.tools);
            // A restart left pending by the broker step itself (the configured file is on disk) is not this step's.
            fs.writeFileSync(props, target);
            fs.writeFileSync(path.join(dir, ".kafka.restart-pending"), "");
            for (const t of ["add", "switch"]) {
                const r = run(t);
                assert.strictEqual(r.status, 0, r.stderr);
                assert.doesNotMatch(r.calls, /restart/, t);
                assert.strictEqual(r.props, target, t);
            }
        } finally {
            server.close();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("configure-service kafka-controller: one back in a formed quorum (records in its metadata log) waits out a failing quorum probe and is added; one of a quorum still forming is left alone", async () => {
        // Another controller answers on loopback (the kernel accepts the probe's connection).
        const other = net.createServer().listen(0, "127.0.0.1");
        await new Promise((r) => other.once("listening", r));
        const port = (other.address() as net.AddressInfo).port;
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "join-test-"));
        try {
            const dist = "kafka_2.13-4.3.2";
            fs.mkdirSync(path.join(dir, dist, "bin"), { recursive: true });
            fs.writeFileSync(path.join(dir, dist, ".verified"), "");
            fs.symlinkSync(dist, path.join(dir, "current"));
            fs.mkdirSync(path.join(dir, "stubs"));
            fs.writeFileSync(path.join(dir, "stubs", "systemctl"), '#!/bin/sh\ncase "$1" in is-enabled) echo enabled ;; esac\nexit 0\n', { mode: 0o755 });
            // The quorum tool: the first FAIL `describe --replication` calls fail (a controller just started knows no
            // leader yet); then 3001 leads, with 3002 a voter (a follower) once add-controller ran. Only --replication is
            // answered: the scripts read the whole quorum from it.
            fs.writeFileSync(path.join(dir, dist, "bin", "kafka-metadata-quorum.sh"), [
                "#!/bin/bash", `d=${dir}`, 'echo "$5 $6" >> $d/quorum-calls',
                'case "$5 $6" in',
                '  "describe --replication") n=$(( $(cat $d/count 2>/dev/null || echo 0) + 1 )); echo $n > $d/count',
                '    (( n > $(cat $d/fail) )) || exit 1',
                '    printf "NodeId\\tDirectoryId\\tLogEndOffset\\tLag\\tLastFetchTimestamp\\tLastCaughtUpTimestamp\\tStatus\\n"',
                '    printf "3001\\tAAAAAAAAAAAAAAAAAAAAAA\\t10\\t0\\t1\\t1\\tLeader\\n"',
                '    [[ -f $d/added ]] && printf "3002\\tBBBBBBBBBBBBBBBBBBBBBB\\t10\\t0\\t1\\t1\\tFollower\\n"',
                '    printf "3003\\tCCCCCCCCCCCCCCCCCCCCCC\\t10\\t0\\t1\\t1\\tObserver\\n" ;;',
                '  "add-controller "*) touch $d/added ;;',
                "esac",
            ].join("\n") + "\n", { mode: 0o755 });
            const meta = path.join(dir, "metadata");
            fs.mkdirSync(path.join(meta, "__cluster_metadata-0"), { recursive: true });
            fs.writeFileSync(path.join(meta, "meta.properties"), "node.id=3002\ndirectory.id=BBBBBBBBBBBBBBBBBBBBBB\nversion=1\n");
            const props = path.join(dir, "controller.properties");
            fs.writeFileSync(props, "node.id=3002\n");
            fs.writeFileSync(path.join(dir, "quorum.properties"), "security.protocol=SSL\n");
            const run = (fail: number, voterAlready = false) => {
                for (const f of ["quorum-calls", "count", "added"]) fs.rmSync(path.join(dir, f), { force: true });
                if (voterAlready) fs.writeFileSync(path.join(dir, "added"), "");
                fs.writeFileSync(path.join(dir, "fail"), `${fail}\n`);
                // Running, its file unchanged: the step only checks that it is a voter.
                return runLocally(hostCommand("configure-service.sh", {
                    SERVICE: "kafka-controller", MANIFEST_B64: Buffer.from(`${props} 0644 ${os.userInfo().username} ${Buffer.from("node.id=3002\n").toString("base64")}\n`).toString("base64"),
                    CONFIG_DIR: dir, INSTALL_ROOT: dir, KAFKA_DIST: dist, DIST_LINK: path.join(dir, "current"), KAFKA_HOME: path.join(dir, "current"),
                    TOOLS_LOG_DIR: dir, SELF_ADDRESS: "127.0.0.2", CONTROLLER_PORT: "9", NODE_ID: "3002",
                    QUORUM_BOOTSTRAP: `127.0.0.1:${port},127.0.0.2:9`, QUORUM_CONFIG: path.join(dir, "quorum.properties"),
                    CONTROLLER_CONFIG: props, METADATA_DIR: meta, JOIN_MARKER: path.join(dir, "join-marker"), INITIAL_MARKER: path.join(dir, "initial-voter"),
                }), { ROLL_TIMEOUT: "30" }, path.join(dir, "stubs"));
            };
            const calls = () => fs.readFileSync(path.join(dir, "quorum-calls"), "utf8");

            // A new quorum still forming (nothing written in its metadata log): no leader yet is nothing to wait for.
            const forming = run(1);
            assert.strictEqual(forming.status, 0, forming.stderr);
            assert.doesNotMatch(calls(), /add-controller/);

            // Formatted as an initial voter (the format step's marker), nothing written yet: a voter by its format, no probe.
            fs.writeFileSync(path.join(dir, "initial-voter"), "");
            const initial = run(0);
            assert.strictEqual(initial.status, 0, initial.stderr);
            assert.ok(!fs.existsSync(path.join(dir, "quorum-calls")), "no quorum tool started");

            // Back after a lower controllerCount removed it: its log has records, so the failing probes are waited out.
            fs.writeFileSync(path.join(meta, "__cluster_metadata-0", "00000000000000000000.log"), "records");
            const back = run(2);
            assert.strictEqual(back.status, 0, back.stderr);
            assert.match(back.stderr, /the controller quorum has a leader after/);
            assert.match(calls(), /^add-controller $/m, "it was added as a voter");
            assert.ok(fs.existsSync(path.join(dir, "added")));

            // Already a voter with this directory: nothing to add.
            const again = run(1, true);
            assert.strictEqual(again.status, 0, again.stderr);
            assert.match(calls(), /^describe --replication$/m);
            assert.doesNotMatch(calls(), /--status/, "one tool run per probe");
            assert.doesNotMatch(calls(), /add-controller/, "a voter is not added again");
        } finally {
            other.close();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("finalize-features: a cluster at the release's levels (metadata.version by its name) runs one describe and no upgrade; an older one names only what is behind; a level above fails", () => {
        withTempDir("features-test-", (dir) => {
            const home = path.join(dir, "kafka");
            fs.mkdirSync(path.join(home, "bin"), { recursive: true });
            // Kafka's describe layout, one line per feature, tab-separated; the levels come from $d/levels.
            fs.writeFileSync(path.join(home, "bin", "kafka-features.sh"), [
                "#!/bin/bash", `d=${dir}`, 'echo "${*:5}" >> $d/calls',
                'case "$5" in',
                '  describe) while read -r f min max fin; do printf "Feature: %s\\tSupportedMinVersion: %s\\tSupportedMaxVersion: %s\\tFinalizedVersionLevel: %s\\tEpoch: 7\\n" "$f" "$min" "$max" "$fin"; done < $d/levels ;;',
                '  upgrade) : ;;', "esac",
            ].join("\n") + "\n", { mode: 0o755 });
            const levels = (mv: string, group: string) => fs.writeFileSync(path.join(dir, "levels"),
                `metadata.version 3.3-IV3 4.3-IV0 ${mv}\ngroup.version 0 1 ${group}\nkraft.version 0 1 1\ntransaction.version 0 2 2\n`);
            const run = () => {
                fs.rmSync(path.join(dir, "calls"), { force: true });
                const r = runLocally(hostCommand("finalize-features.sh", {
                    BOOTSTRAP: "127.0.0.1:9", FEATURES: "metadata.version=30 transaction.version=2 group.version=1", METADATA_VERSION_NAME: "4.3-IV0",
                    CLIENT_CONFIG: path.join(dir, "admin.properties"), KAFKA_HOME: home, TOOLS_LOG_DIR: dir,
                }), {});
                return { ...r, calls: fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n") };
            };
            levels("4.3-IV0", "1");
            const fresh = run();
            assert.strictEqual(fresh.status, 0, fresh.stderr);
            assert.deepStrictEqual(fresh.calls, ["describe"], "a new cluster's levels: one describe, nothing to finalize");
            assert.match(fresh.stdout, /features ok: metadata\.version=4\.3-IV0 group\.version=1 kraft\.version=1 transaction\.version=2/);
            levels("4.2-IV1", "1");
            const older = run();
            assert.strictEqual(older.status, 0, older.stderr);
            assert.deepStrictEqual(older.calls, ["describe", "upgrade --feature metadata.version=30", "describe"]);
            levels("4.3-IV0", "2");
            const above = run();
            assert.notStrictEqual(above.status, 0);
            assert.match(above.stderr, /group\.version is finalized at 2, above 1 of the configured release/);
            assert.ok(!above.calls.some((c) => c.startsWith("upgrade")), "nothing finalized when one level is above");
        });
    });

    it("quorum_state: leader, voters with their directories and lagging voters from one describe --replication; observers are no voters", () => {
        withTempDir("quorum-state-test-", (dir) => {
            const home = path.join(dir, "kafka");
            fs.mkdirSync(path.join(home, "bin"), { recursive: true });
            fs.writeFileSync(path.join(home, "bin", "kafka-metadata-quorum.sh"), `#!/bin/bash\necho "\${*:5}" >> ${dir}/calls\ncat ${dir}/out\n`, { mode: 0o755 });
            const state = (rows: string[]) => {
                fs.writeFileSync(path.join(dir, "out"), ["NodeId  DirectoryId             LogEndOffset  Lag  LastFetchTimestamp  LastCaughtUpTimestamp  Status", ...rows].join("\n") + "\n");
                const r = spawnSync("bash", ["-c", `set -euo pipefail; . ${path.join(HOST_SCRIPTS_DIR, "lib.sh")}; quorum_state b c; ` +
                    'echo "$QUORUM_LEADER|$QUORUM_VOTERS|$QUORUM_VOTER_DIRS|$QUORUM_LAGGING"'], { encoding: "utf8", env: { ...process.env, KAFKA_HOME: home, KC_STEP: "t" } });
                assert.strictEqual(r.status, 0, r.stderr);
                return r.stdout.trim();
            };
            assert.strictEqual(state([
                "3002    BBBBBBBBBBBBBBBBBBBBBB  120           0    1764990000000       1764990000000          Follower",
                "3001    AAAAAAAAAAAAAAAAAAAAAA  120           0    1764990000000       1764990000000          Leader",
                "3003    CCCCCCCCCCCCCCCCCCCCCC  10            110  1764990000000       1764980000000          Follower",
                "1       DDDDDDDDDDDDDDDDDDDDDD  120           0    1764990000000       1764990000000          Observer",
            ]), "3001|3001 3002 3003|3001:AAAAAAAAAAAAAAAAAAAAAA 3002:BBBBBBBBBBBBBBBBBBBBBB 3003:CCCCCCCCCCCCCCCCCCCCCC|3003:110");
            assert.strictEqual(state(["3001    AAAAAAAAAAAAAAAAAAAAAA  120  0  0  0  Follower"]), "-1|3001|3001:AAAAAAAAAAAAAAAAAAAAAA|", "no leader");
            assert.deepStrictEqual(fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n"), ["describe --replication", "describe --replication"]);
        });
    });

    describe("version switch in configure-service (systemctl and Kafka's tools replaced by stand-ins)", () => {
        let dir: string;
        const OLD = "kafka_2.13-3.9.1";
        const NEW = "kafka_2.13-3.9.2";
        beforeEach(() => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "switch-test-"));
            fs.mkdirSync(path.join(dir, "stubs"));
            // A running, enabled service; each restart is logged with the version the service's link names at that moment.
            fs.writeFileSync(path.join(dir, "stubs", "systemctl"), [
                "#!/bin/sh",
                'case "$1" in is-active) exit 0 ;; is-enabled) echo enabled ;;',
                '  show) case "$3" in MainPID) echo 4242 ;; ActiveState) echo active ;; esac ;;',
                '  *) echo "$* link=$(readlink "$DIST_LINK")" >> "$CALLS" ;; esac',
            ].join("\n") + "\n", { mode: 0o755 });
            for (const d of [OLD, NEW]) {
                fs.mkdirSync(path.join(dir, d, "bin"), { recursive: true });
                fs.writeFileSync(path.join(dir, d, ".verified"), "");
                // The cluster never reports healthy: a broker must not restart (and must not switch) while it is not.
                fs.writeFileSync(path.join(dir, d, "bin", "kafka-broker-api-versions.sh"), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
            }
            fs.symlinkSync(OLD, path.join(dir, "current"));
            fs.symlinkSync(OLD, path.join(dir, "zookeeper-current"));
        });
        afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

        const run = (service: "kafka" | "zookeeper", zkPort = "1", extraEnv: Record<string, string> = {}) => {
            const link = path.join(dir, service === "kafka" ? "current" : "zookeeper-current");
            const file = path.join(dir, `${service}.version`);
            const line = hostCommand("configure-service.sh", {
                SERVICE: service, MANIFEST_B64: Buffer.from(`${file} 0644 ${os.userInfo().username} ${Buffer.from(`${NEW}\n`).toString("base64")}\n`).toString("base64"),
                CONFIG_DIR: dir, INSTALL_ROOT: dir, KAFKA_DIST: NEW, DIST_LINK: link, SELF_BOOTSTRAP: "127.0.0.1:1", CLIENT_CONFIG: path.join(dir, "admin.properties"), KAFKA_HOME: link,
                TOOLS_LOG_DIR: dir, SELF_ADDRESS: "127.0.0.1", ZK_CLIENT_PORT: zkPort,
            });
            return new Promise<{ status: number | null; stderr: string; calls: string; link: string }>((resolve) => {
                const { env, script } = parseHostCommand(line);
                const child = spawn("bash", ["-c", script], {
                    env: { PATH: `${dir}/stubs:${process.env.PATH}`, ...env, ROLL_TIMEOUT: "3", CALLS: path.join(dir, "calls"), ...extraEnv },
                });
                let stderr = "";
                child.stderr.on("data", (d) => (stderr += d));
                child.on("close", (status) => resolve({
                    status, stderr, link: fs.readlinkSync(link),
                    calls: fs.existsSync(path.join(dir, "calls")) ? fs.readFileSync(path.join(dir, "calls"), "utf8") : "",
                }));
            });
        };

        it("a broker that cannot restart yet keeps its link on the old version (a crash meanwhile comes back on it)", async () => {
            const r = await run("kafka");
            assert.notStrictEqual(r.status, 0);
            assert.match(r.stderr, /under-replicated partitions after 3s; not restarting kafka/);
            assert.strictEqual(r.link, OLD);
            assert.doesNotMatch(r.calls, /restart/);
        });

        it("a ZooKeeper member switches its own link right before its restart, and not the broker's", async () => {
            // A member that answers srvr, so the restart is seen healthy.
            const server = net.createServer((c) => c.once("data", () => c.end("Zookeeper version: test\nMode: follower\n")));
            await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
            try {
                const r = await run("zookeeper", String((server.address() as net.AddressInfo).port));
                assert.strictEqual(r.status, 0, r.stderr);
                assert.deepStrictEqual(r.calls.trim().split("\n"), [`daemon-reload link=${OLD}`, `reset-failed zookeeper link=${NEW}`, `restart zookeeper link=${NEW}`]);
                assert.match(r.stderr, new RegExp(`switched \\S+/zookeeper-current from ${OLD} to ${NEW}`));
                assert.strictEqual(fs.readlinkSync(path.join(dir, "current")), OLD, "the broker's link is untouched");
            } finally {
                server.close();
            }
        });

        it("a restart whose process exits fails at once with the service's error first, and the service goes back to its old files and version", async () => {
            const server = net.createServer((c) => c.once("data", () => c.end("Mode: follower\n")));
            await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
            const versionFile = path.join(dir, "zookeeper.version");
            fs.writeFileSync(versionFile, `${OLD}\n`);
            // The first restart's process is gone at once (MainPID 0); the second (on the old files) runs.
            fs.writeFileSync(path.join(dir, "stubs", "systemctl"), [
                "#!/bin/sh",
                'n=$(cat "$CALLS.n" 2>/dev/null || echo 0)',
                'case "$1" in is-active) exit 0 ;; is-enabled) echo enabled ;;',
                '  show) if [ "$n" = 1 ]; then case "$3" in MainPID) echo 0 ;; ActiveState) echo activating ;; esac;',
                '        else case "$3" in MainPID) echo 4242 ;; ActiveState) echo active ;; esac; fi ;;',
                '  restart) echo $((n + 1)) > "$CALLS.n"; echo "restart link=$(readlink "$DIST_LINK") file=$(cat "$VERSION_FILE")" >> "$CALLS" ;;',
                '  *) echo "$*" >> "$CALLS" ;; esac',
            ].join("\n") + "\n", { mode: 0o755 });
            fs.writeFileSync(path.join(dir, "stubs", "journalctl"), [
                "#!/bin/sh",
                'echo "INFO Reading configuration"',
                'echo "java.lang.IllegalArgumentException: bad value for tickTime"',
                'echo "ERROR Unexpected exception, exiting abnormally"',
            ].join("\n") + "\n", { mode: 0o755 });
            try {
                const r = await run("zookeeper", String((server.address() as net.AddressInfo).port), { VERSION_FILE: versionFile });
                assert.notStrictEqual(r.status, 0);
                const lines = r.stderr.split("\n").filter((l) => !l.includes(".bashrc"));
                assert.match(lines[0], new RegExp("^ERROR \\[configure-service on [^\\]]+\\]: zookeeper exited \\d+s after its start: " +
                    "java\\.lang\\.IllegalArgumentException: bad value for tickTime -- it runs its previous configuration again\\."));
                assert.match(lines[1], /^--- journal of zookeeper since \d\d:\d\d:\d\d ---$/);
                assert.ok(lines.indexOf("--- step log ---") > 1, r.stderr);
                assert.deepStrictEqual(r.calls.split("\n").filter((l) => l.startsWith("restart")),
                    [`restart link=${NEW} file=${NEW}`, `restart link=${OLD} file=${OLD}`]);
                assert.match(r.calls, /^stop zookeeper$/m, "the failed start was stopped before going back");
                assert.strictEqual(fs.readFileSync(versionFile, "utf8"), `${OLD}\n`);
                assert.strictEqual(r.link, OLD);
                assert.ok(!fs.existsSync(path.join(dir, ".zookeeper.restart-pending")), "no restart left pending: the old configuration runs");
            } finally {
                server.close();
            }
        });
    });

    describe("the inter-broker protocol pin in configure-service (a version change onto a newer minor line; stand-in systemctl and tools)", () => {
        let dir: string;
        const PINS = "3.0 3.1 3.2 3.3 3.4 3.5 3.6 3.7 3.8";
        const NEW = "kafka_2.13-3.9.2";
        const TARGET = "broker.id=1\nzookeeper.connect=zk:2181/kafka\n";
        beforeEach(() => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "ibp-test-"));
            fs.mkdirSync(path.join(dir, "stubs"));
            fs.writeFileSync(path.join(dir, "stubs", "systemctl"), [
                "#!/bin/sh",
                'case "$1" in is-active) [ -n "$STOPPED" ] && exit 3; exit 0 ;; is-enabled) echo enabled ;;',
                '  show) case "$3" in MainPID) echo 4242 ;; ActiveState) echo active ;; esac ;; esac',
            ].join("\n") + "\n", { mode: 0o755 });
            for (const d of ["kafka_2.13-3.8.1", "kafka_2.13-3.9.1", NEW]) {
                fs.mkdirSync(path.join(dir, d, "bin"), { recursive: true });
                fs.writeFileSync(path.join(dir, d, ".verified"), "");
                // The cluster never reports healthy: the step writes the files, then refuses to restart (and fails).
                fs.writeFileSync(path.join(dir, d, "bin", "kafka-broker-api-versions.sh"), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
            }
        });
        afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

        /** One broker step with the broker running `running` and server.properties `onDisk`; what it wrote. */
        const step = (running: string, onDisk: string | undefined, env: Record<string, string>) => {
            fs.rmSync(path.join(dir, "current"), { force: true });
            fs.symlinkSync(running, path.join(dir, "current"));
            const props = path.join(dir, "server.properties");
            if (onDisk === undefined) fs.rmSync(props, { force: true }); else fs.writeFileSync(props, onDisk);
            const { env: stepEnv, script } = parseHostCommand(hostCommand("configure-service.sh", {
                SERVICE: "kafka", MANIFEST_B64: Buffer.from(`${props} 0644 ${os.userInfo().username} ${Buffer.from(TARGET).toString("base64")}\n`).toString("base64"),
                CONFIG_DIR: dir, INSTALL_ROOT: dir, KAFKA_DIST: NEW, DIST_LINK: path.join(dir, "current"), SELF_BOOTSTRAP: "127.0.0.1:1",
                CLIENT_CONFIG: path.join(dir, "admin.properties"), KAFKA_HOME: path.join(dir, "current"), TOOLS_LOG_DIR: dir, ...env,
            }));
            const r = spawnSync("bash", ["-c", script], { env: { PATH: `${dir}/stubs:${process.env.PATH}`, ...stepEnv, ROLL_TIMEOUT: "1" }, encoding: "utf8" });
            const written = fs.existsSync(props) ? fs.readFileSync(props, "utf8") : "";
            return { status: r.status, stderr: r.stderr, written, ibp: written.split("\n").filter((l) => l.startsWith("inter.broker.protocol.version=")) };
        };

        it("a broker running 3.8 keeps protocol 3.8 in the pinned roll; the last roll writes the configured file, which raises it", () => {
            const pinned = step("kafka_2.13-3.8.1", TARGET, { TRANSITION: "pin", IBP_PIN_FROM: PINS });
            assert.deepStrictEqual(pinned.ibp, ["inter.broker.protocol.version=3.8"]);
            assert.ok(pinned.written.startsWith(TARGET), "the configured settings are all there");
            assert.match(pinned.stderr, /inter\.broker\.protocol\.version stays 3\.8 through this roll/);
            // Interrupted after the restart: the link names the new version, the file the pin; the next pinned roll keeps it.
            const again = step(NEW, pinned.written, { TRANSITION: "pin", IBP_PIN_FROM: PINS });
            assert.deepStrictEqual(again.ibp, ["inter.broker.protocol.version=3.8"]);
            const last = step(NEW, pinned.written, {});
            assert.strictEqual(last.written, TARGET);
        }).timeout(60_000);

        it("no pin for a patch change, a running protocol that is not older, a broker not running yet; the pin list only goes with a roll before the last", () => {
            assert.deepStrictEqual(step("kafka_2.13-3.9.1", TARGET, { TRANSITION: "pin", IBP_PIN_FROM: PINS }).written, TARGET);
            const held = `${TARGET}inter.broker.protocol.version=3.9\n`;
            assert.deepStrictEqual(step("kafka_2.13-3.8.1", held, { TRANSITION: "pin", IBP_PIN_FROM: PINS }).ibp, []);
            const fresh = step("kafka_2.13-3.8.1", undefined, { TRANSITION: "pin", IBP_PIN_FROM: PINS, STOPPED: "1" });
            assert.strictEqual(fresh.written, TARGET, "a broker that does not run starts on the configured file");
            const wrong = step("kafka_2.13-3.8.1", TARGET, { IBP_PIN_FROM: PINS });
            assert.notStrictEqual(wrong.status, 0);
            assert.match(wrong.stderr, /IBP_PIN_FROM goes with a TRANSITION/);
        }).timeout(60_000);
    });

    describe("first boot: package manager busy, JDK held, needrestart kept off the services (stand-in commands)", () => {
        let dir: string;
        beforeEach(() => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "firstboot-"));
            fs.mkdirSync(path.join(dir, "stubs"));
        });
        afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
        const stub = (name: string, body: string) => fs.writeFileSync(path.join(dir, "stubs", name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });

        it("wait-ready gives up after its bound and names the process holding the package manager", () => {
            stub("pgrep", 'if [ "$3" = unattended-upgr ] || [ "$2" = unattended-upgr ]; then [ "$1" = -a ] && echo "4242 /usr/bin/python3 /usr/bin/unattended-upgrade"; exit 0; fi; exit 1');
            stub("apt-get", "exit 0");
            stub("cloud-init", "exit 0");
            const r = runLocally(hostCommand("wait-ready.sh", { HOST_KEY_FILE: "/nonexistent" }), { READY_TIMEOUT: "1" }, path.join(dir, "stubs"));
            assert.notStrictEqual(r.status, 0);
            assert.match(r.stderr.split("\n").find((l) => l.startsWith("ERROR ["))!,
                /apt\/dpkg still busy after 1s \(held by: 4242 \/usr\/bin\/python3 \/usr\/bin\/unattended-upgrade;\); wait for it/);
        });

        it("install-java holds the JDK package it finds installed and writes a needrestart drop-in that perl accepts", () => {
            stub("java", 'echo \'openjdk version "17.0.13" 2024-10-15\' >&2');
            stub("apt-get", "exit 0");
            stub("dpkg-query", "printf 'install ok installed'");
            stub("apt-mark", `case "$1" in showhold) cat "${dir}/held" 2>/dev/null ;; hold) echo "$2" >> "${dir}/held" ;; esac`);
            fs.mkdirSync(path.join(dir, "needrestart", "conf.d"), { recursive: true });
            const conf = path.join(dir, "needrestart", "conf.d", "kafka-cluster.conf");
            const line = hostCommand("install-java.sh", { NEEDRESTART_CONF: conf });
            for (let run = 0; run < 2; run++) {
                const r = runLocally(line, {}, path.join(dir, "stubs"));
                assert.strictEqual(r.status, 0, r.stderr);
            }
            assert.strictEqual(fs.readFileSync(path.join(dir, "held"), "utf8"), "openjdk-17-jre-headless\n", "held once, not again on the rerun");
            // needrestart evaluates its conf.d files as Perl with %nrconf in scope.
            const check = spawnSync("perl", ["-e", 'our %nrconf; do $ARGV[0]; die $@ if $@; print join(",", map { "$_=$nrconf{override_rc}{$_}" } sort keys %{$nrconf{override_rc}})', conf], { encoding: "utf8" });
            assert.strictEqual(check.status, 0, check.stderr);
            assert.strictEqual(check.stdout, "(?^:^kafka\\.service$)=0,(?^:^zookeeper\\.service$)=0");
        });
        it("install-java waits out another apt run's lock before it holds the JDK (Java works while a cut-off run's apt finishes); another error fails at once", () => {
            stub("java", 'echo \'openjdk version "17.0.13" 2024-10-15\' >&2');
            stub("apt-get", "exit 0");
            stub("dpkg-query", "printf 'install ok installed'");
            // The first two holds meet the lock, as dpkg reports it.
            stub("apt-mark", `case "$1" in showhold) cat "${dir}/held" 2>/dev/null ;;
  hold) n=$(cat "${dir}/tries" 2>/dev/null || echo 0); echo $((n + 1)) > "${dir}/tries"
    if [ "$n" -lt 2 ]; then echo "dpkg: error: dpkg frontend lock was locked by another process with pid 155" >&2; exit 100; fi
    echo "$2" >> "${dir}/held" ;; esac`);
            const line = hostCommand("install-java.sh", { NEEDRESTART_CONF: path.join(dir, "none", "kafka-cluster.conf") });
            const r = runLocally(line, {}, path.join(dir, "stubs"));
            assert.strictEqual(r.status, 0, r.stderr);
            assert.strictEqual(fs.readFileSync(path.join(dir, "tries"), "utf8").trim(), "3");
            assert.strictEqual(fs.readFileSync(path.join(dir, "held"), "utf8"), "openjdk-17-jre-headless\n");
            stub("apt-mark", 'case "$1" in hold) echo "E: Unable to locate package" >&2; exit 100 ;; esac');
            const bad = runLocally(line, {}, path.join(dir, "stubs"));
            assert.notStrictEqual(bad.status, 0);
            assert.match(bad.stderr, /apt-mark hold openjdk-17-jre-headless failed: E: Unable to locate package/);
        });
    });

    describe("release download: sources in order, SHA-512, then the .asc signature against KEYS (real curl and gpg, a local HTTP server)", function () {
        this.timeout(60_000);
        let dir: string;
        let server: http.Server;
        let base: string;
        let requests: string[];
        const VERSION = "3.9.2";
        const OLD = "3.8.1";
        const NAME = (v: string) => `kafka_2.13-${v}.tgz`;
        const www = () => path.join(dir, "www");
        const gpg = (home: string, ...args: string[]) => execFileSync("gpg", ["--homedir", home, "--batch", ...args], { stdio: ["ignore", "pipe", "pipe"] });
        /** A release under www/<site>/<version>/ as Apache lays it out: tarball, .sha512 (gpg --print-md format), .asc by `signer`. */
        const publish = (site: string, version: string, data: Buffer, signer = "rm") => {
            const d = path.join(www(), site, version);
            fs.mkdirSync(d, { recursive: true });
            const file = path.join(d, NAME(version));
            fs.writeFileSync(file, data);
            const hex = crypto.createHash("sha512").update(data).digest("hex").toUpperCase().match(/.{8}/g)!.join(" ");
            fs.writeFileSync(`${file}.sha512`, `${NAME(version)}: ${hex}\n`);
            gpg(path.join(dir, signer), "--yes", "--armor", "--detach-sign", "-o", `${file}.asc`, file);
            return file;
        };
        const tarball = (text: string) => Buffer.from(`${text}\n`.repeat(1000));

        before(function () {
            this.timeout(60_000);
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "release-test-"));
            // Two release managers' keys (in KEYS) and a stranger's (not in it), each in a throwaway home of the test's.
            for (const [home, uid] of [["rm", "Release Manager <rm@example.invalid>"], ["rm2", "Other Release Manager <rm2@example.invalid>"],
                ["stranger", "Stranger <x@example.invalid>"]]) {
                fs.mkdirSync(path.join(dir, home), { mode: 0o700 });
                gpg(path.join(dir, home), "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never");
            }
            // KEYS as Apache writes it: text, then each armored key after a listing of it (the signer's is not the first).
            fs.writeFileSync(path.join(dir, "KEYS"), ["This file contains the PGP keys of various developers.\n\n",
                "pub   ed25519 2026-01-01 [SC]\n", gpg(path.join(dir, "rm2"), "--armor", "--export").toString(),
                "\npub   ed25519 2026-01-01 [SC]\n", gpg(path.join(dir, "rm"), "--armor", "--export").toString()].join(""));
            for (const site of ["cdn", "archive"]) {
                fs.mkdirSync(path.join(www(), site), { recursive: true });
                fs.writeFileSync(path.join(www(), site, "KEYS"), fs.readFileSync(path.join(dir, "KEYS")));
            }
            // The CDN carries the current release only; the archive carries both.
            publish("cdn", VERSION, tarball("current"));
            publish("archive", VERSION, tarball("current"));
            publish("archive", OLD, tarball("older"));
        });
        after(() => {
            for (const home of ["rm", "rm2", "stranger"]) spawnSync("gpgconf", ["--homedir", path.join(dir, home), "--kill", "all"]);
            fs.rmSync(dir, { recursive: true, force: true });
        });
        beforeEach(async () => {
            requests = [];
            server = http.createServer((req, res) => {
                requests.push(req.url!);
                if (req.url!.startsWith("/forbidden/")) return void res.writeHead(403).end();
                const file = path.join(www(), path.normalize(decodeURIComponent(req.url!)));
                if (!file.startsWith(www()) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return void res.writeHead(404).end();
                res.writeHead(200).end(fs.readFileSync(file));
            });
            await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
            base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
        });
        afterEach(() => server.close());

        /** fetch_release as install-kafka.sh calls it, for `version` from `sites` (each with its own KEYS unless `keys` is given). */
        const fetchRelease = (version: string, sites: string[], keys?: string[]) => new Promise<{ status: number | null; stderr: string; tmp: string; out: string }>((resolve) => {
            const out = fs.mkdtempSync(path.join(dir, "out-"));
            const tmp = fs.mkdtempSync(path.join(dir, "tmp-"));
            const urls = sites.map((s) => `${base}/${s}/${version}/${NAME(version)}`).join(" ");
            const keysUrls = (keys ?? sites.map((s) => `${base}/${s}/KEYS`)).join(" ");
            const script = `${hostScript("lib.sh")}\nfetch_release "$OUT" "nothing was installed" "$URLS" "$KEYS_URLS"\n`;
            const child = spawn("bash", ["-c", script], { env: { PATH: process.env.PATH, HOME: tmp, TMPDIR: tmp, KC_STEP: "install-kafka", OUT: out, URLS: urls, KEYS_URLS: keysUrls } });
            let stderr = "";
            child.stderr.on("data", (d) => (stderr += d));
            child.on("close", (status) => resolve({ status, stderr, tmp, out }));
        });
        const errorLine = (stderr: string) => stderr.split("\n").find((l) => l.startsWith("ERROR ["));

        it("a current release comes from the first source (the CDN), checksum and signature verified; the throwaway keyring is gone", async () => {
            const r = await fetchRelease(VERSION, ["cdn", "archive"]);
            assert.strictEqual(r.status, 0, r.stderr);
            assert.match(r.stderr, /sha512 verified/);
            assert.match(r.stderr, new RegExp(`signature verified: signed by key [0-9A-F]{40} \\(Release Manager <rm@example\\.invalid>\\) \\(KEYS: ${base}/cdn/KEYS\\)`));
            assert.deepStrictEqual(fs.readFileSync(path.join(r.out, "dist.tgz")), tarball("current"));
            assert.deepStrictEqual(requests, [`/cdn/${VERSION}/${NAME(VERSION)}`, `/cdn/${VERSION}/${NAME(VERSION)}.sha512`, `/cdn/${VERSION}/${NAME(VERSION)}.asc`, "/cdn/KEYS"]);
            assert.deepStrictEqual(fs.readdirSync(r.tmp), [], "no GNUPGHOME left behind");
        });

        it("an older release the CDN answers 404 for comes from the archive, with the archive's KEYS", async () => {
            const r = await fetchRelease(OLD, ["cdn", "archive"]);
            assert.strictEqual(r.status, 0, r.stderr);
            assert.match(r.stderr, new RegExp(`${base}/cdn/${OLD}/${NAME(OLD)}: 404 .*trying the next source`));
            assert.match(r.stderr, /signature verified/);
            assert.deepStrictEqual(requests, [`/cdn/${OLD}/${NAME(OLD)}`, `/archive/${OLD}/${NAME(OLD)}`, `/archive/${OLD}/${NAME(OLD)}.sha512`,
                `/archive/${OLD}/${NAME(OLD)}.asc`, "/archive/KEYS"]);
            assert.deepStrictEqual(fs.readFileSync(path.join(r.out, "dist.tgz")), tarball("older"));
        });

        it("only a 404 moves on: another failure (403) of the first source fails the step; so does a 404 of the last", async () => {
            const forbidden = await fetchRelease(VERSION, ["forbidden", "archive"]);
            assert.notStrictEqual(forbidden.status, 0);
            assert.match(errorLine(forbidden.stderr)!, new RegExp(`download of ${base}/forbidden/\\S+ failed \\(HTTP 403\\); check kafka:downloadUrl and kafka:kafkaVersion; nothing was installed`));
            assert.ok(!requests.some((u) => u.startsWith("/archive/")), "the archive was not asked");
            const missing = await fetchRelease("3.9.99", ["cdn", "archive"]);
            assert.match(errorLine(missing.stderr)!, new RegExp(`download of ${base}/archive/3\\.9\\.99/\\S+ failed \\(HTTP 404; before it ${base}/cdn/3\\.9\\.99/\\S+: 404\\)`));
        });

        it("a tampered tarball whose .sha512 was replaced to match fails on the signature", async () => {
            const file = publish("tampered", VERSION, tarball("current"));
            const asc = fs.readFileSync(`${file}.asc`);
            publish("tampered", VERSION, tarball("current, with a backdoor"));
            fs.writeFileSync(`${file}.asc`, asc);
            fs.writeFileSync(path.join(www(), "tampered", "KEYS"), fs.readFileSync(path.join(dir, "KEYS")));
            const r = await fetchRelease(VERSION, ["tampered"]);
            assert.notStrictEqual(r.status, 0);
            assert.match(r.stderr, /sha512 verified/);
            assert.match(errorLine(r.stderr)!, new RegExp(`signature check failed for ${base}/tampered/\\S+\\.tgz: the signature does not match the file ` +
                `\\(a corrupt or altered download\\) \\(KEYS: ${base}/tampered/KEYS\\); .*check kafka:downloadUrl and kafka:keysUrl; nothing was installed`));
            assert.deepStrictEqual(fs.readdirSync(r.tmp), [], "no GNUPGHOME left behind");
        });

        it("a signature by a key that is not in KEYS fails, naming the key", async () => {
            publish("stranger", VERSION, tarball("current"), "stranger");
            fs.writeFileSync(path.join(www(), "stranger", "KEYS"), fs.readFileSync(path.join(dir, "KEYS")));
            const r = await fetchRelease(VERSION, ["stranger"]);
            assert.notStrictEqual(r.status, 0);
            assert.match(errorLine(r.stderr)!, /signature check failed for \S+: the signature was made by key [0-9A-F]{16}, which is not in the KEYS file/);
            // The same release passes against a KEYS that has the stranger's key (kafka:keysUrl).
            fs.writeFileSync(path.join(www(), "stranger", "KEYS.own"), gpg(path.join(dir, "stranger"), "--armor", "--export"));
            const own = await fetchRelease(VERSION, ["stranger"], [`${base}/stranger/KEYS.own`]);
            assert.strictEqual(own.status, 0, own.stderr);
            assert.match(own.stderr, /signed by key [0-9A-F]{40} \(Stranger <x@example\.invalid>\)/);
        });

        it("a missing .asc or KEYS fails the step, naming the URL and the fix", async () => {
            const file = publish("unsigned", VERSION, tarball("current"));
            fs.rmSync(`${file}.asc`);
            const r = await fetchRelease(VERSION, ["unsigned"]);
            assert.notStrictEqual(r.status, 0);
            assert.match(errorLine(r.stderr)!, new RegExp(`download of ${base}/unsigned/\\S+\\.tgz\\.asc failed \\(HTTP 404\\); the release signature is verified too`));
            const nokeys = await fetchRelease(VERSION, ["cdn"], [`${base}/cdn/NOKEYS`]);
            assert.match(errorLine(nokeys.stderr)!, new RegExp(`download of ${base}/cdn/NOKEYS failed \\(HTTP 404\\); .*set kafka:keysUrl`));
        });

        it("a corrupt tarball with the genuine .sha512 fails on the checksum before .asc or KEYS are asked for (the hosts suite's bad-checksum test serves no .asc)", async () => {
            const d = path.join(www(), "corrupt", VERSION);
            fs.mkdirSync(d, { recursive: true });
            const data = tarball("current");
            data[data.length >> 1] ^= 0xff;
            fs.writeFileSync(path.join(d, NAME(VERSION)), data);
            fs.copyFileSync(path.join(www(), "cdn", VERSION, `${NAME(VERSION)}.sha512`), path.join(d, `${NAME(VERSION)}.sha512`));
            const r = await fetchRelease(VERSION, ["corrupt"]);
            assert.notStrictEqual(r.status, 0);
            assert.match(errorLine(r.stderr)!, new RegExp(`checksum mismatch for ${base}/corrupt/\\S+\\.tgz: .*; nothing was installed`));
            assert.ok(!requests.some((u) => u.endsWith(".asc") || u.endsWith("KEYS")));
        });
    });

    describe("a step over SSH (remoteInvocation) and its report on failure", () => {
        const runRemote = (line: string, step: string) => {
            const { command, stdin } = remoteInvocation(line, step);
            return spawnSync("bash", ["-c", command.replace(/^sudo -n /, "")], {
                input: stdin, encoding: "utf8", env: { PATH: process.env.PATH, HOME: os.tmpdir() },
            });
        };
        const memMiB = Math.floor(os.totalmem() / 1048576);

        it("the command is one short line naming the step; the parameters and the script travel on stdin", () => {
            const line = hostCommand("check-memory.sh", { NODE_NAME: "node-1", HEAPS: "kafka:brokerHeap=256", MAX_HEAP_PERCENT: "75" });
            const { command, stdin } = remoteInvocation(line, "node-1-memory");
            assert.strictEqual(command, `sudo -n bash -c 'eval "$(cat)"' node-1-memory`);
            assert.match(stdin, /^export NODE_NAME='node-1'$/m);
            assert.match(stdin, /^export KC_STEP='node-1-memory'$/m);
            assert.throws(() => remoteInvocation(line, "a b"), /step name/);
            // And the tests can read it back: the same environment (the step's name as KC_STEP) and script.
            const back = parseStepInput(stdin);
            assert.deepStrictEqual(back.env, { ...parseHostCommand(line).env, KC_STEP: "node-1-memory" });
            assert.strictEqual(back.script, parseHostCommand(line).script + "\n");
            const r = runRemote(line, "node-1-memory");
            assert.strictEqual(r.status, 0, r.stderr);
            assert.match(r.stdout, /^memory ok on node-1: heaps 256 MiB of \d+ MiB/);
        });

        it("a step's stdout and log survive its exit hooks (on_exit, never a script's own EXIT trap)", () => {
            for (const f of scripts(HOST_SCRIPTS_DIR).filter((f) => !f.endsWith("lib.sh"))) {
                assert.doesNotMatch(fs.readFileSync(f, "utf8"), /^\s*trap\b.*\bEXIT\b/m, `${path.basename(f)} sets an EXIT trap`);
            }
            const script = `${hostScript("lib.sh")}\non_exit 'echo "hook ran" >&2'\nlog working\necho result`;
            const r = runRemote(`sudo -n env KC_STEP='t' bash -c ${shellQuote(script)}`, "t");
            assert.strictEqual(r.status, 0, r.stderr);
            assert.strictEqual(r.stdout, "result\n");
            assert.match(r.stderr, /\[t@\S+\] working\n/);
            assert.match(r.stderr, /hook ran/);
        });

        it("a program in the script that reads stdin gets its end, never the rest of the script", () => {
            const line = `sudo -n env KC_STEP='t' bash -c ${shellQuote('if read -r x; then echo "read: $x"; else echo eof; fi\necho after')}`;
            const r = runRemote(line, "t");
            assert.strictEqual(r.stdout, "eof\nafter\n", r.stderr);
        });

        it("check-memory: heaps over 75% of the host's memory fail with the error first, naming host, memory, heaps and fix", () => {
            const line = hostCommand("check-memory.sh", {
                NODE_NAME: "node-2", HEAPS: `kafka:brokerHeap=${memMiB} kafka:zookeeperHeap=512`, MAX_HEAP_PERCENT: "75",
            });
            const r = runRemote(line, "node-2-memory");
            assert.notStrictEqual(r.status, 0);
            const lines = r.stderr.split("\n").filter((l) => !l.includes(".bashrc"));
            assert.match(lines[0], new RegExp(`^ERROR \\[node-2-memory on \\S+\\]: node-2 \\(\\S+\\) has \\d+ MiB of memory ` +
                `\\((MemTotal|cgroup memory\\.max)\\); the heaps asked for \\(kafka:brokerHeap ${memMiB} MiB \\+ kafka:zookeeperHeap 512 MiB = ` +
                `${memMiB + 512} MiB\\) exceed the 75% \\(\\d+ MiB\\)`));
            assert.match(lines[0], /Nothing was restarted\. Fix: lower the heap\(s\) so they add up to at most \d+ MiB, or use a host with at least \d+ MiB$/);
            assert.strictEqual(lines[1], "--- step log ---");
            assert.strictEqual(r.stdout, "");
        });
    });
});
