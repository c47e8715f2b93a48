// scripts/check-config.ts, which the quick start runs before it builds or boots anything: a committed stack file
// with a bad value exits non-zero with the program's own message, a good one exits 0, both within seconds.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "..", "..");
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n";

function check(stack: string, config: Record<string, unknown> | string): { status: number | null; stderr: string } {
    const file = path.join(ROOT, `Pulumi.${stack}.yaml`);
    const yaml = typeof config === "string" ? config
        : ["config:", ...Object.entries(config).map(([k, v]) => `  kafka:${k}: ${JSON.stringify(v)}`)].join("\n") + "\n";
    if (stack !== "unit-check-missing") fs.writeFileSync(file, yaml);
    try {
        const r = spawnSync(path.join(ROOT, "node_modules", ".bin", "ts-node"), [path.join(ROOT, "scripts", "check-config.ts"), stack],
            { cwd: ROOT, encoding: "utf8", timeout: 60_000, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "1" } });
        return { status: r.status, stderr: r.stderr };
    } finally {
        fs.rmSync(file, { force: true });
    }
}

describe("scripts/check-config.ts (the quick start's first check)", function () {
    this.timeout(120_000);
    const good = { hosts: [{ id: 1, address: "192.0.2.1" }], sshUser: "admin", sshPrivateKey: KEY, brokerCount: 1 };

    it("exits 0 for a valid stack file", () => {
        const r = check("unit-check-good", good);
        assert.strictEqual(r.status, 0, r.stderr);
    });

    it("exits 1 naming the stack file, the key and the fix for a bad value", () => {
        const r = check("unit-check-bad", { ...good, brokerCount: 0 });
        assert.strictEqual(r.status, 1);
        assert.match(r.stderr, /^Pulumi\.unit-check-bad\.yaml: kafka-cluster: invalid stack configuration/);
        assert.match(r.stderr, /kafka:brokerCount: .*Fix: \S/);
    });

    it("an empty stack file, settings under a misspelt top-level key, a missing stack: one clear line each, no stack trace", () => {
        const empty = check("unit-check-empty", "");
        assert.strictEqual(empty.status, 1);
        assert.match(empty.stderr, /kafka: no kafka: setting is set at all.*top-level "config:" key/);
        assert.doesNotMatch(empty.stderr, /TypeError|    at /);
        const typo = check("unit-check-typo", "configs:\n  kafka:brokerCount: 1\n");
        assert.strictEqual(typo.status, 1);
        assert.match(typo.stderr, /^Pulumi\.unit-check-typo\.yaml: top-level key\(s\) configs are not read by Pulumi \(the settings go under "config:"\)/);
        const missing = check("unit-check-missing", "");
        assert.strictEqual(missing.status, 1);
        assert.match(missing.stderr, /^Pulumi\.unit-check-missing\.yaml: no such stack file; the stacks here are .*\blocal\b.*\blocal-kraft\b/);
        assert.doesNotMatch(missing.stderr, /ENOENT/);
    });
});
