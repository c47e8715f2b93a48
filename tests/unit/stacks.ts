export { stackConfig } from "../../scripts/lib/stack";

/** The user-set value both AWS stacks leave out on purpose. */
export const SSH = { sshCidrs: ["198.51.100.7/32"] };
