// The ready-made policy pack of pulumi-firewall-grants (source: policy/index.ts, compiled to dist/policy):
//   pulumi preview --policy-pack node_modules/pulumi-firewall-grants/policy/pack [--policy-pack-config grants-policy.json]
// Needs @pulumi/policy installed in the project (`npm install @pulumi/policy`).
"use strict";
const { PolicyPack } = require("@pulumi/policy");
const { firewallGrantsPolicies } = require("../../dist/policy");

new PolicyPack("firewall-grants", { policies: firewallGrantsPolicies() });
