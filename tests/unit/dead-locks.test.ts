// What a killed `pulumi up` leaves in the local file backend, and what clearDeadLocks removes (a temporary backend
// directory; no engine runs).
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { clearDeadLocks } from "../../scripts/lib/pulumi";
import { withTempDir } from "./fixtures";

describe("clearDeadLocks (local file backend after a killed run)", () => {
    const layout = (dir: string, pid: number) => {
        const locks = path.join(dir, ".pulumi", "locks", "organization", "kafka-cluster", "s");
        const stacks = path.join(dir, ".pulumi", "stacks", "kafka-cluster");
        fs.mkdirSync(locks, { recursive: true });
        fs.mkdirSync(stacks, { recursive: true });
        fs.writeFileSync(path.join(locks, "a.json"), JSON.stringify({ pid, hostname: os.hostname() }));
        fs.writeFileSync(path.join(stacks, "s.json"), "{\"version\":3}");
        fs.writeFileSync(path.join(stacks, "s.json.attrs"), "");
        fs.writeFileSync(path.join(stacks, "s.json.0123abcd.tmp"), "{\"version\":3,");
        fs.writeFileSync(path.join(stacks, "other.json.attrs"), "");
        return { locks, stacks };
    };

    it("a dead process's lock goes, and with it the empty checkpoint sidecar and temporary file of that stack only", () => {
        withTempDir("dead-locks-", (dir) => {
            // A pid that no process has: above the kernel's pid_max.
            const { locks, stacks } = layout(dir, 99_999_999);
            clearDeadLocks("s", dir);
            assert.deepStrictEqual(fs.readdirSync(locks), []);
            assert.deepStrictEqual(fs.readdirSync(stacks).sort(), ["other.json.attrs", "s.json"]);
        });
    });

    it("a live process's lock, its sidecar and its temporary file stay", () => {
        withTempDir("live-locks-", (dir) => {
            const { locks, stacks } = layout(dir, process.pid);
            clearDeadLocks("s", dir);
            assert.deepStrictEqual(fs.readdirSync(locks), ["a.json"]);
            assert.ok(fs.existsSync(path.join(stacks, "s.json.attrs")) && fs.existsSync(path.join(stacks, "s.json.0123abcd.tmp")));
        });
    });
});
