// Removes the local file backend's locks on a stack whose process (on this machine) is gone: what a `pulumi up` killed
// half-way (SIGKILL, a lost SSH session) leaves, after which every update fails with "the stack is currently locked".
// A lock whose process still runs is kept.   Usage: ts-node scripts/clear-dead-locks.ts <stack>
import { clearDeadLocks } from "./lib/pulumi";

clearDeadLocks(process.argv[2] ?? "local");
