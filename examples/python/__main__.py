"""One OPNsense alias entry from a Python program, through the firewall-grants provider plugin.

The Python SDK is generated from the plugin's schema (docs/plugin.md):
    pulumi package gen-sdk <dir with pulumi-resource-firewall-grants> --language python -o sdk
    pip install ./sdk/python
"""
import pulumi
import pulumi_firewall_grants as fg

alice = fg.opnsense.AliasEntry(
    "alice",
    alias="jit_admins",
    address="203.0.113.7",
    description="alice, ticket 42",
)
pulumi.export("granted", alice.address)
