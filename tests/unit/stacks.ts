// Inputs the unit tests share: the committed stacks, the SSH source range the AWS stacks leave to the user, a key.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { ConfigError, RawConfig, parseConfig } from "../../components/config";

export { stackConfig } from "../../scripts/lib/stack";

/** The problems parseConfig reports for a configuration that must be rejected (`others`: other namespaces). */
export function problems(raw: RawConfig, others: Record<string, unknown> = {}): string[] {
    try {
        parseConfig(raw, "test", others);
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
        return (e as ConfigError).problems;
    }
    assert.fail("expected the configuration to be rejected");
}

/** The user-set value both AWS stacks leave out on purpose. */
export const SSH = { sshCidrs: ["198.51.100.7/32"] };

/** A private key as config holds it (its text only has to look like one). */
export const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n";

/** Runs `f` with the path of a private key file holding `text` (mode 0600), removed afterwards. */
export function withKeyFile<T>(text: string, f: (file: string) => T): T {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kc-key-"));
    const file = path.join(dir, "id_ed25519");
    fs.writeFileSync(file, text, { mode: 0o600 });
    try {
        return f(file);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
