#!/usr/bin/env bash
# Packs the firewall-grants provider plugin for a machine without a checkout: a tarball that
#   pulumi plugin install resource firewall-grants <version> --file pulumi-resource-firewall-grants-v<version>-<os>-<arch>.tar.gz
# installs into ~/.pulumi/plugins. It holds the npm package (`npm pack` of this checkout) installed with
# its production dependencies, and a launcher `pulumi-resource-firewall-grants` at its root. It needs
# `node` (>= 20.18.1) on the machine that runs it, like the TypeScript resources do.
#   scripts/pack-plugin.sh [OUT_DIR]   (default: dist/plugin-pack/)
# It builds dist/ in place (`npm run build`) and packs with --ignore-scripts: `prepack` would delete dist/
# under a running test or program.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/dist/plugin-pack}"
VERSION="$(node -p "require('$ROOT/package.json').version")"
PULUMI_SDK="$(node -p "require('$ROOT/node_modules/@pulumi/pulumi/package.json').version")"
OS="$(uname -s | tr '[:upper:]' '[:lower:]')"
case "$(uname -m)" in x86_64 | amd64) ARCH=amd64 ;; aarch64 | arm64) ARCH=arm64 ;; *) ARCH="$(uname -m)" ;; esac

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/pack" "$TMP/stage" "$OUT"
(cd "$ROOT" && npm run --silent build >&2 && npm pack --ignore-scripts --silent --pack-destination "$TMP/pack" >/dev/null)
TGZ="$(ls "$TMP/pack"/*.tgz)"
cd "$TMP/stage"
printf '{ "name": "firewall-grants-plugin", "private": true }\n' >package.json
npm install --omit=dev --no-audit --no-fund --silent "$TGZ" "@pulumi/pulumi@$PULUMI_SDK" >&2
cat >pulumi-resource-firewall-grants <<'SH'
#!/bin/sh
here="$(cd "$(dirname "$0")" && pwd)"
exec node "$here/node_modules/pulumi-firewall-grants/dist/provider/plugin/main.js" "$@"
SH
chmod 0755 pulumi-resource-firewall-grants
NAME="pulumi-resource-firewall-grants-v$VERSION-$OS-$ARCH.tar.gz"
tar -czf "$OUT/$NAME" .
printf '%s\n' "$OUT/$NAME"
