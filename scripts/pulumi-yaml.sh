#!/usr/bin/env bash
# Makes the Pulumi YAML language host (`pulumi-language-yaml`) available and prints, as the LAST
# line on stdout, the directory to put on PATH. Progress goes to stderr.
#
#   export PATH="$(scripts/pulumi-yaml.sh | tail -n1):$(scripts/pulumi-cli.sh | tail -n1):$PATH"
#
# 1. A `pulumi-language-yaml` already on PATH is used (PULUMI_YAML_IGNORE_SYSTEM=1 skips it).
# 2. Otherwise it is built once from Go modules (needs `go` and a Go module proxy) into
#    ${PULUMI_FIRST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-firewall-grants}/pulumi-yaml/v<ver>/bin
#    in a temp dir renamed into place (no half caches), under a flock (no double builds).
#
# Which version: the language host speaks the engine's gRPC protocol, so it need not match the CLI
# exactly, but a host built against a NEWER pulumi/pkg than the CLI scripts/pulumi-cli.sh builds may
# send fields the CLI does not know. $PULUMI_YAML_VERSIONS are tried in order; the first one requires
# pulumi/pkg v3.206.0 (<= the CLI's 3.248.0). Unlike the CLI, pulumi-yaml's go.mod has no `replace`,
# so a plain `go install module/cmd@version` builds it with exactly the versions it was released with.
set -euo pipefail

PULUMI_YAML_VERSIONS="${PULUMI_YAML_VERSIONS:-1.25.0 1.11.1}"
YAML_MOD="github.com/pulumi/pulumi-yaml"
VERSION_VAR="$YAML_MOD/pkg/version.Version"
CACHE_ROOT="${PULUMI_FIRST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-firewall-grants}/pulumi-yaml"

log() { printf '%s\n' "pulumi-yaml: $*" >&2; }
die() { log "error: $*"; exit 1; }

if [ "${PULUMI_YAML_IGNORE_SYSTEM:-0}" != "1" ] && command -v pulumi-language-yaml >/dev/null 2>&1; then
  sys="$(command -v pulumi-language-yaml)"
  log "using installed $sys"
  dirname "$sys"
  exit 0
fi

cache_ok() { [ -x "$CACHE_ROOT/v$1/bin/pulumi-language-yaml" ] && [ -f "$CACHE_ROOT/v$1/BUILD-INFO" ]; }

mkdir -p "$CACHE_ROOT"
for v in $PULUMI_YAML_VERSIONS; do cache_ok "$v" && { printf '%s\n' "$CACHE_ROOT/v$v/bin"; exit 0; }; done

command -v go >/dev/null 2>&1 || die "no pulumi-language-yaml on PATH and no 'go' to build one (need Go and a Go module proxy)"
export GOFLAGS="" GOWORK=off GO111MODULE=on CGO_ENABLED=0
unset GOOS GOARCH

if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE_ROOT/.lock"
  if ! flock -n 9; then
    log "waiting for another process that is building the YAML language host…"
    flock 9
  fi
fi
for v in $PULUMI_YAML_VERSIONS; do cache_ok "$v" && { printf '%s\n' "$CACHE_ROOT/v$v/bin"; exit 0; }; done
rm -rf "$CACHE_ROOT"/.build-v*

BUILD_TMP=""
cleanup() { [ -z "$BUILD_TMP" ] || rm -rf "$BUILD_TMP"; }
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

for v in $PULUMI_YAML_VERSIONS; do
  BUILD_TMP="$(mktemp -d "$CACHE_ROOT/.build-v$v.XXXXXX")"
  chmod 0755 "$BUILD_TMP"
  mkdir -p "$BUILD_TMP/bin"
  log "building pulumi-language-yaml v$v from Go modules (first run only, a few minutes on 2 cores)…"
  # GOTOOLCHAIN=auto: go fetches the toolchain the module asks for when the local one is older.
  if (cd "$BUILD_TMP" && GOTOOLCHAIN=auto GOBIN="$BUILD_TMP/bin" go install -trimpath \
    -ldflags "-X $VERSION_VAR=v$v" "$YAML_MOD/cmd/pulumi-language-yaml@v$v") >"$BUILD_TMP/build.log" 2>&1 &&
    [ -x "$BUILD_TMP/bin/pulumi-language-yaml" ]; then
    printf 'pulumi-language-yaml: %s/cmd/pulumi-language-yaml@v%s\ngo: %s\nbuilt: %s\n' \
      "$YAML_MOD" "$v" "$(go env GOVERSION)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$BUILD_TMP/BUILD-INFO"
    rm -rf "$CACHE_ROOT/v$v"
    mv "$BUILD_TMP" "$CACHE_ROOT/v$v"
    BUILD_TMP=""
    log "built pulumi-language-yaml v$v into $CACHE_ROOT/v$v/bin"
    printf '%s\n' "$CACHE_ROOT/v$v/bin"
    exit 0
  fi
  cp "$BUILD_TMP/build.log" "$CACHE_ROOT/build-v$v.failed.log" || true
  log "v$v could not be built (log: $CACHE_ROOT/build-v$v.failed.log); last lines:"
  tail -n 10 "$BUILD_TMP/build.log" >&2 || true
  cleanup; BUILD_TMP=""
done
die "could not build any of: $PULUMI_YAML_VERSIONS"
