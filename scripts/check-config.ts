// Validates a committed stack's `kafka:` configuration with the program's own rules (parseConfig) and exits non-zero
// with every problem, each naming its key and the fix. The quick start runs it first, so a bad value fails within
// seconds, before any host boots or the engine is built.   Usage: ts-node scripts/check-config.ts <stack> [--kafka-version]
// With --kafka-version it prints the Kafka release the stack runs (what the quick start builds the tarball of).
import { ConfigError, parseConfig } from "../components/config";
import { StackFileError, stackConfigAll } from "./lib/stack";

const stack = process.argv[2] ?? "local";
try {
    const { raw, others } = stackConfigAll(stack);
    const cfg = parseConfig(raw, stack, others);
    if (process.argv[3] === "--kafka-version") console.log(cfg.kafkaVersion);
} catch (e) {
    console.error(e instanceof ConfigError ? `Pulumi.${stack}.yaml: ${e.message}` : e instanceof StackFileError ? e.message : String(e));
    process.exit(1);
}
