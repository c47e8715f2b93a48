export { stackConfig } from "../../scripts/lib/stack";

/** The user-set value both AWS stacks leave out on purpose. */
export const SSH = { sshCidrs: ["198.51.100.7/32"] };

/** A private key as config holds it (its text only has to look like one). */
export const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n";
