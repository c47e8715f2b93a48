// scripts/engine.sh with an installed `pulumi`: it says which command provider plugin will run, from what the user's
// PULUMI_HOME holds (the stand-in is test equipment and must never pass for the real plugin).
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { withTempDir } from "./fixtures";

const ENGINE = path.join(__dirname, "..", "..", "scripts", "engine.sh");

function select(dir: string): { provider: string; log: string } {
    const r = spawnSync(ENGINE, [], {
        encoding: "utf8", timeout: 30_000,
        env: { ...process.env, PATH: `${dir}/bin:${process.env.PATH}`, PULUMI_HOME: `${dir}/home`, KAFKA_CLUSTER_STATE_DIR: `${dir}/state` },
    });
    assert.strictEqual(r.status, 0, r.stderr);
    return { provider: /^KAFKA_CLUSTER_COMMAND_PROVIDER=(\S+)$/m.exec(r.stdout)?.[1] ?? "", log: r.stderr };
}

describe("scripts/engine.sh with an installed pulumi", () => {
    it("reports the stand-in when PULUMI_HOME holds it, the real plugin when it holds a binary, and how to get it when it holds none", () => {
        withTempDir("kc-engine-", (dir) => {
            const plugin = path.join(dir, "home", "plugins", "resource-command-v1.2.1");
            fs.mkdirSync(path.join(dir, "bin"), { recursive: true });
            fs.mkdirSync(plugin, { recursive: true });
            fs.writeFileSync(path.join(dir, "bin", "pulumi"), "#!/bin/sh\necho v3.200.0\n", { mode: 0o755 });
            const none = select(dir);
            assert.strictEqual(none.provider, "real");
            assert.match(none.log, /installs on first use \(or now: pulumi plugin install resource command 1\.2\.1\)/);
            fs.writeFileSync(path.join(plugin, "provider.js"), "/** TEST EQUIPMENT: a stand-in */\n");
            fs.writeFileSync(path.join(plugin, "pulumi-resource-command"), "#!/bin/sh\n", { mode: 0o755 });
            const standIn = select(dir);
            assert.strictEqual(standIn.provider, "stand-in");
            assert.match(standIn.log, /the stand-in command provider in .*test equipment: remove it/);
            fs.rmSync(path.join(plugin, "provider.js"));
            assert.strictEqual(select(dir).provider, "real");
        });
    });
});
