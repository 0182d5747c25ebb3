/**
 * What state holds for one `FortigateAddress`, apart from the device code (grant.ts) so that the public
 * declarations reach no client and no zod type (issue 20).
 */
/** What state holds for one grant (the resource's outputs). */
export interface FortigateAddressState {
  readonly connection?: { url?: string; vdom?: string; caCert?: string; insecure?: boolean; timeoutMs?: number };
  readonly credentials?: { token?: string };
  readonly name: string;
  /** Canonical address as the device holds it (`203.0.113.7`, `10.0.0.0/24`). */
  readonly address: string;
  readonly cidr: string;
  readonly family: "ipv4" | "ipv6";
  readonly vdom: string;
  readonly group?: string;
  readonly comment: string;
  readonly allowBroad?: boolean;
  /** True when the object existed with the same value before this grant and was taken over (informational: delete removes it all the same). */
  readonly adopted: boolean;
  /**
   * True when this grant added the group membership, false when the group read before the add showed
   * it a member already (informational: delete removes the membership either way, SPEC §3).
   */
  readonly membershipAdded?: boolean;
  /** False when the membership was found missing on `read` (drift). */
  readonly member?: boolean;
  /** Device path of the object, e.g. `/api/v2/cmdb/firewall/address/grant-alice`. */
  readonly objectPath: string;
  readonly uuid?: string;
}
