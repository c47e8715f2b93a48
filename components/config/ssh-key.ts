// The SSH private key, from kafka:sshPrivateKey or the file kafka:sshPrivateKeyPath names (the only I/O of config).
import * as fs from "fs";
import * as nodeOs from "os";
import { Values } from "./decode";
import { Bad } from "./types";

/** The key's text (with its final newline, which OpenSSH wants), or undefined when none is configured. */
export function sshPrivateKey(v: Values, bad: Bad): string | undefined {
    let text = v.sshPrivateKey ?? "";
    const keyPath = v.sshPrivateKeyPath ?? "";
    if (keyPath && text) {
        bad("sshPrivateKeyPath", "is set together with kafka:sshPrivateKey", "keep one of them: pulumi config rm kafka:sshPrivateKeyPath");
    } else if (keyPath) {
        const file = keyPath.replace(/^~(?=\/)/, nodeOs.homedir());
        try {
            text = fs.readFileSync(file, "utf8");
        } catch (e) {
            bad("sshPrivateKeyPath", `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? e})`,
                "point it at a readable private key file, or use pulumi config set --secret kafka:sshPrivateKey < key");
        }
    }
    if (!text) return undefined;
    const key = text.endsWith("\n") ? text : text + "\n";
    if (!isPrivateKey(key)) {
        bad(keyPath ? "sshPrivateKeyPath" : "sshPrivateKey", "is not a PEM/OpenSSH private key", `pulumi config set --secret kafka:sshPrivateKey < ~/.ssh/id_ed25519`);
    }
    return key;
}

/** Whether a text looks like a PEM/OpenSSH private key. */
export function isPrivateKey(text: string): boolean {
    return /^\s*-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text);
}
