/**
 * The diagnosis catalogue: one row per code, with a title, the likely cause and numbered fixes.
 * Numbers and meanings follow the just-in-time-access agent scheme (docs/reference/diagnosis-codes.md);
 * rows marked "ours" fill gaps in that scheme. `{name}` placeholders are filled from the diagnosis
 * context (see diagnosis.ts); the README table is generated from this table and a test keeps them equal.
 */

/**
 * A diagnosis family: the vendor scheme a device's codes come from. What the core needs of it is data
 * here, next to the family's rows, so that no core function chooses by family name: the last-resort
 * code for an answer nobody diagnosed, the code of each transport failure, the README's device column.
 */
export interface DiagnosisFamily<Code extends string = string> {
  /** The README table's Device column. */
  readonly displayName: string;
  /** The code of a low-level failure (DNS, refused, TLS, timeout, an undiagnosed HTTP answer). */
  readonly transport: Readonly<Record<"timeout" | "tls" | "refused" | "reset" | "dns" | "http", Code>>;
  /** The code of an answer or failure no client diagnosed (toGrantError's last resort). */
  readonly unexpected: Code;
}

/** Every family, in the README table's order. A new vendor's device adds its family here with its rows. */
export const DIAGNOSIS_FAMILIES = {
  opnsense: {
    displayName: "OPNsense",
    transport: { timeout: "OPN002", tls: "OPN003", refused: "OPN004", reset: "OPN004", dns: "OPN005", http: "OPN900" },
    unexpected: "OPN900",
  },
  fortinet: {
    displayName: "Fortinet",
    transport: { timeout: "202004", tls: "202003", refused: "202000", reset: "202000", dns: "202000", http: "202090" },
    unexpected: "202090",
  },
} as const satisfies Record<string, DiagnosisFamily>;

export type DeviceFamily = keyof typeof DIAGNOSIS_FAMILIES;

export interface CatalogueEntry {
  readonly family: DeviceFamily;
  readonly title: string;
  readonly cause: string;
  readonly fix: readonly string[];
  /** True for codes this library added to the scheme. */
  readonly ours?: boolean;
}

export const CATALOGUE = {
  OPN000: {
    family: "opnsense",
    title: "OPNsense authentication failed",
    cause:
      "the API key/secret pair was not accepted: a typo or stray whitespace, a regenerated pair, a key deleted from its user, or a disabled or expired user.",
    fix: [
      "Re-enter the key and secret from the key file OPNsense downloaded when the key was created (apiKeyFile reads it as is).",
      "Check System > Access > Users: the API user is enabled, not expired, and still holds this key.",
      "If the secret is lost, generate a new key pair for the user and update the stack config.",
    ],
  },
  OPN001: {
    family: "opnsense",
    title: "OPNsense authorization failed",
    cause: "the API key is valid but none of its user's (or groups') privileges cover this URL.",
    fix: [
      'System > Access > Groups > (the API user\'s group) > Assigned privileges: add "{privilege}" (or add it on the user under System > Access > Users).',
      "Check that the API user is a member of that group.",
      'On OPNsense 25.7 or later, check the group\'s "Source Networks": privileges apply only to clients inside them.',
    ],
  },
  OPN002: {
    family: "opnsense",
    title: "OPNsense answered too late",
    cause:
      "no answer in time ({timeoutMs} ms: the request timeout, or for a config-mode read the window a write may follow it): the firewall is busy, a filter reload is running, a very large alias slows the reload, or the network path to it is slow or shaped.",
    fix: [
      "Run the operation again: grants are idempotent, so a retry is safe.",
      "A request that timed out: raise connection.timeoutMs if the firewall is known to be slow.",
      'A config-mode read answered after its window (the message says so; raising connection.timeoutMs does not help): run the program closer to the firewall, or use method "table" (alias_util changes need no read).',
      "Check Firewall > Aliases for very large aliases and System > Log Files for a reload in progress.",
    ],
  },
  OPN003: {
    family: "opnsense",
    title: "OPNsense TLS verification failed",
    cause: "the firewall's certificate is not trusted by this machine: self-signed or private CA, expired, or issued for another name ({tlsReason}).",
    fix: [
      "Install a certificate for this host name from a trusted CA under System > Settings > Administration.",
      "Or pass the CA certificate (PEM) as connection.caCert.",
      "Only in a lab: set connection.insecure = true to skip verification.",
    ],
  },
  OPN004: {
    family: "opnsense",
    title: "OPNsense connection failed",
    cause: "the connection was refused or reset before any HTTP answer: wrong port, the web GUI not listening on that interface, or a firewall in the path.",
    fix: [
      "Check the URL and port (System > Settings > Administration > TCP port).",
      "Check that the web GUI listens on the interface this machine reaches (Listen Interfaces).",
      "Check for a firewall rule or anti-lockout setting blocking this machine.",
    ],
  },
  OPN005: {
    family: "opnsense",
    title: "OPNsense host name lookup failed",
    cause: "the host name in the URL does not resolve from this machine.",
    fix: ["Check the spelling of the host name in connection.url.", "Use the IP address, or fix this machine's DNS."],
  },
  OPN100: {
    family: "opnsense",
    title: "OPNsense alias not found",
    cause: 'no alias named "{alias}" exists: not created, renamed, or a case mismatch (alias names are case-sensitive).',
    fix: [
      "Create the alias under Firewall > Aliases as type Host(s) or Network(s) and reference it from a rule: this library manages only its contents and never creates it.",
      "Check the exact spelling and case of the alias name.",
    ],
  },
  OPN101: {
    family: "opnsense",
    title: "OPNsense alias cannot hold addresses",
    cause: 'the alias "{alias}" is of type "{aliasType}", which does not hold IP addresses for this method.',
    fix: ["Use an alias of type Host(s) or Network(s).", 'For grants that must vanish at reboot, use an External (advanced) alias with method "table".'],
    ours: true,
  },
  OPN102: {
    family: "opnsense",
    title: "OPNsense refused the address",
    cause: 'the firewall rejected the change to alias "{alias}".',
    fix: [
      "Read the device message above; Firewall > Aliases shows the alias content.",
      "Check the firewall's System > Log Files > Backend for the validation error.",
    ],
  },
  OPN103: {
    family: "opnsense",
    title: "OPNsense did not remove the address",
    cause: 'after the delete the alias "{alias}" still holds {address}.',
    fix: [
      "Remove the address by hand under Firewall > Aliases, then run the operation again.",
      "Check that nothing else (another tool, a cron job) re-adds it.",
    ],
  },
  OPN104: {
    family: "opnsense",
    title: "OPNsense Host(s) alias cannot hold a network",
    cause:
      'alias "{alias}" is a Host(s) alias, which holds single addresses only: the firewall refuses a prefix there, even /32. Nothing was sent to the device.',
    fix: [
      "Put {address} into a Network(s) alias (create one under Firewall > Aliases and reference it from the rule).",
      "Or grant single addresses to this alias.",
    ],
    ours: true,
  },
  OPN200: {
    family: "opnsense",
    title: "OPNsense alias apply failed",
    cause: "the alias content was saved, but reloading the aliases (reconfigure) failed: pending invalid configuration elsewhere, or a reload already running.",
    fix: ["Open Firewall > Aliases and press Apply: the firewall shows the error.", "Fix the reported alias, then run the operation again."],
  },
  OPN201: {
    family: "opnsense",
    title: "OPNsense user may not write the configuration",
    cause: 'the API user holds the privilege "System: Deny config write", so every save is refused.',
    fix: ['Remove "System: Deny config write" from the API user and from its groups (System > Access).'],
    ours: true,
  },
  OPN900: {
    family: "opnsense",
    title: "OPNsense answered unexpectedly",
    cause:
      "the answer did not have the shape this library expects from the OPNsense API (wrong URL pointing at another service, a proxy page, or an unsupported OPNsense version).",
    fix: [
      "Check that connection.url points at the OPNsense web GUI (https://host[:port]).",
      "Report the device message and OPNsense version to the library maintainers.",
    ],
    ours: true,
  },
  "202000": {
    family: "fortinet",
    title: "Fortinet connection failed",
    cause:
      "no connection: the host or port is wrong (default 443), management access (HTTPS) is not enabled on that interface, the name does not resolve, or the device is down.",
    fix: [
      "Check the host and port in connection.url.",
      "Check that HTTPS administrative access is enabled on the interface this machine reaches.",
      "Check the name resolves from this machine, or use the IP address.",
    ],
  },
  "202001": {
    family: "fortinet",
    title: "Fortinet token or session rejected",
    cause:
      "the API token or login was not accepted: wrong, regenerated or deleted — or the administrator's trusted hosts do not include this machine's address (FortiGate answers that with HTTP 401 too). On FortiManager a valid key whose profile lacks System Settings can look the same until its owner is known.",
    fix: [
      "Check the token (or user name and password) against the administrator under System > Administrators; regenerate the token if in doubt.",
      "Check the administrator's trusted hosts include this machine's source address.",
      "Do not retry in a loop: repeated failures lock this address out (FortiGate answers HTTP 429 while it lasts).",
    ],
  },
  "202002": {
    family: "fortinet",
    title: "Fortinet permission denied",
    cause: "the credentials are valid, but {scope} does not allow {permission}.",
    fix: ["{fixPermission}", "{fixScope}"],
  },
  "202003": {
    family: "fortinet",
    title: "Fortinet TLS verification failed",
    cause: "the device's certificate is not trusted by this machine: self-signed or private CA, expired, or issued for another name ({tlsReason}).",
    fix: [
      "Install a certificate for this host name from a trusted CA on the device.",
      "Or pass the CA certificate (PEM) as connection.caCert.",
      "Only in a lab: set connection.insecure = true to skip verification.",
    ],
  },
  "202004": {
    family: "fortinet",
    title: "Fortinet request timed out",
    cause: "no answer within {timeoutMs} ms: a filtered path or an overloaded device.",
    fix: ["Run the operation again: grants are idempotent.", "Raise connection.timeoutMs if the device is known to be slow."],
  },
  "202005": {
    family: "fortinet",
    title: "Fortinet source address locked out",
    cause: "the device answered HTTP 429: this machine's address is temporarily locked out after repeated failed logins.",
    fix: ["Wait for the lockout to expire (admin-lockout-duration, 60 s by default).", "Fix the token before trying again; do not retry in a loop."],
    ours: true,
  },
  "202006": {
    family: "fortinet",
    title: "Fortinet API key and username disagree",
    cause:
      "the API key is valid but belongs to another administrator than connection.username names, so the preflight would judge the wrong administrator's rights.",
    fix: [
      "With a token, set connection.username (stack config fortimanager:username) to the id of the API administrator that owns the key, or leave it unset.",
      "Or use the key of the administrator that username names.",
    ],
    ours: true,
  },
  "202050": {
    family: "fortinet",
    title: "Fortinet trusted-host update failed",
    cause:
      'the FortiManager refused the change to administrator "{adminUser}", or other writers kept taking the free slots it chose (concurrent grants from other processes), or the address is also in slot 1, which this library never writes.',
    fix: ["Read the JSON-RPC code and message above.", "Check the administrator under System Settings > Administrators."],
  },
  "202051": {
    family: "fortinet",
    title: "Fortinet administrator not found",
    cause: 'no administrator "{adminUser}" exists on the FortiManager (user ids are case-sensitive).',
    fix: ["Check the exact spelling and case of adminUser under System Settings > Administrators."],
  },
  "202052": {
    family: "fortinet",
    title: "Fortinet trusted-host slots full",
    cause: 'trusted-host slots 2–10 of administrator "{adminUser}" are all in use ({family}); slot 1 is never touched.',
    fix: ["Remove grants that are no longer needed, or merge addresses into a wider prefix.", "Use another administrator for further grants."],
    ours: true,
  },
  "202060": {
    family: "fortinet",
    title: "Fortinet address group not found",
    cause: 'the address group "{group}" does not exist in {scope}.',
    fix: ["Create the group first (Policy & Objects > Addresses > Address Group).", "Check the VDOM/ADOM and the group's exact name."],
    ours: true,
  },
  "202061": {
    family: "fortinet",
    title: "Fortinet address name already used",
    cause: 'an address object named "{name}" exists with a different value ({existing}) and was not created by this grant.',
    fix: ["Choose another name for this grant.", "Or change or delete the existing object by hand if it is yours."],
    ours: true,
  },
  "202062": {
    family: "fortinet",
    title: "Fortinet workspace locked",
    cause: "the ADOM is locked by another administrator ({lockUser}) in workspace mode.",
    fix: ["Ask {lockUser} to save and unlock the ADOM, or unlock it under System Settings > Workspace.", "Run the operation again once unlocked."],
    ours: true,
  },
  "202063": {
    family: "fortinet",
    title: "Fortinet object still in use",
    cause: 'the device refused to delete "{name}" because other entries (a firewall policy, another group) still reference it (FortiOS error -23).',
    fix: [
      "Remove the reference on the device (Policy & Objects shows where the object is used), then run the operation again.",
      "Or keep the object: remove the resource from the program with `pulumi state delete` and manage it by hand.",
    ],
    ours: true,
  },
  "202064": {
    family: "fortinet",
    title: "Fortinet address group cannot be emptied",
    cause:
      'FortiOS {version} (before 7.2.0) refuses to remove the last member of an address group, and "{name}" is the last member of "{group}" in {scope}. Nothing was removed.',
    fix: [
      "Add another member to the group first, e.g. a placeholder address no traffic uses (config firewall address / edit grants-placeholder / set subnet 192.0.2.255 255.255.255.255, then append it to the group), and run the operation again.",
      "Or upgrade FortiOS to 7.2.0 or later, where empty address groups are allowed.",
      "Or keep the grant on the device: set retainOnDelete on the resource, or `pulumi state delete` it.",
    ],
    ours: true,
  },
  "202100": {
    family: "fortinet",
    title: "Fortinet feed push failed",
    cause:
      'the push of {address} into feed "{feed}" did not succeed on every device: {devices}. With a push-only feed there is no scheduled poll to catch up, so the devices listed as failed do not hold the change.',
    fix: [
      "Fix the cause named for each device (offline or unknown to the manager, timeout, refused: see 202002, feed missing: see 202102).",
      "Run `pulumi up` again: the grant completes on the devices that missed it, and `pulumi destroy` removes it from every device that holds it.",
    ],
  },
  "202102": {
    family: "fortinet",
    title: "Fortinet threat feed missing or not a push feed",
    cause:
      'the external resource "{feed}" is missing on {device} (VDOM {vdom}), or it is not an IP address feed with update method Push API (FortiOS 7.2.1 or later).',
    fix: [
      "Feed names are case-sensitive and per VDOM (global feeds start with g-): check the name under Security Fabric > External Connectors.",
      "Create it: config system external-resource / edit {feed} / set type address / set update-method push / set status enable / end.",
      "Firmware before 7.2.1 has no push feeds: upgrade, or grant with FortigateAddress instead.",
    ],
  },
  "202103": {
    family: "fortinet",
    title: "Fortinet feed did not take the entry",
    cause: 'after the push, the entry list of feed "{feed}" on {device} lacks {address}, marks it invalid, or reports overflow (entry limit reached).',
    fix: [
      "Check the feed's valid/invalid counts (diagnose sys external-resource stats) and the device-wide limit: 128K entries per feed before 7.4.4, 300,000 IP entries per device from 7.4.4, where the newest entries are dropped.",
      "Remove unused entries or feeds, then run `pulumi up` again.",
    ],
    ours: true,
  },
  "202104": {
    family: "fortinet",
    title: "FortiManager target device unavailable",
    cause: 'device "{device}" is not managed in ADOM "{adom}", or its connection status is not up.',
    fix: ["Check the device name (case-sensitive) and its ADOM in Device Manager.", "Wait for the device to reconnect, or remove it from the grant's devices."],
    ours: true,
  },
  "202090": {
    family: "fortinet",
    title: "Fortinet device answered unexpectedly",
    cause: "the answer did not have the shape this library expects from the device API (wrong URL, a proxy page, or an unsupported firmware).",
    fix: [
      "Check that connection.url points at the device's HTTPS management address.",
      "Report the device message and firmware version to the library maintainers.",
    ],
    ours: true,
  },
} as const satisfies Record<string, CatalogueEntry>;

export type DiagnosisCode = keyof typeof CATALOGUE;

export const DIAGNOSIS_CODES = Object.keys(CATALOGUE) as DiagnosisCode[];
