#!/usr/bin/env bash
# Builds the peers of the side-by-side benchmark (bench/peer.ts, BENCHMARKS.md "Peer"): OpenTofu,
# browningluke/terraform-provider-opnsense and fortinetdev/terraform-provider-fortios, pinned, into
# $PEERS_DIR (default ~/.cache/pulumi-firewall-grants/peers). Idempotent: a binary already built at the
# pinned version is kept. Prints the three paths (KEY=path) on stdout, the build log on stderr.
#
#   OpenTofu      `go mod download` of github.com/opentofu/opentofu, then `go build ./cmd/tofu` inside the
#                 module copy (`go install` refuses the module's replace directive); ~20 min on 2 cores.
#   the providers are not served by the Go module proxy: their sources come from git (a local mirror when
#                 PEERS_MIRRORS names a directory of <owner>+<name>/repo git mirrors, else a clone), their
#                 dependencies from the proxy. browningluke/opnsense-go (the OPNsense provider's client) is
#                 not served either: it is built from its source through a `replace` in the build copy.
#
# Usage: scripts/peers.sh [tofu|opnsense|fortios]...   (default: all three)
# Then:  node dist/bench/peer.js --tofu "$TOFU" --tofu-opnsense "$OPNSENSE" --tofu-fortios "$FORTIOS"
set -euo pipefail

TOFU_VERSION="${TOFU_VERSION:-v1.12.6}"
OPNSENSE_REF="${OPNSENSE_REF:-v0.24.0}"
# fortios publishes releases as commits ("init/updateFortiOSTerraform: 1.25.0"); its last git tag is v1.16.0.
FORTIOS_REF="${FORTIOS_REF:-f4e824b2}"
FORTIOS_LABEL="${FORTIOS_LABEL:-1.25.0}"

P="${PEERS_DIR:-$HOME/.cache/pulumi-firewall-grants/peers}"
mkdir -p "$P/src" "$P/logs"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
log() { printf 'peers: %s\n' "$*" >&2; }

# Checks out <owner>/<name> at <ref> into <dir> (a fresh copy: the build edits go.mod there).
checkout() {
  local repo="$1" ref="$2" dir="$3" git_dir
  if [ -n "${PEERS_MIRRORS:-}" ] && [ -d "$PEERS_MIRRORS/${repo/\//+}/repo" ]; then
    git_dir="$PEERS_MIRRORS/${repo/\//+}/repo"
  else
    git_dir="$P/src/${repo/\//+}.git"
    [ -d "$git_dir" ] || git clone --quiet --bare "https://github.com/$repo" "$git_dir"
    git --git-dir="$git_dir" cat-file -e "$ref^{commit}" 2>/dev/null || git --git-dir="$git_dir" fetch --quiet --tags origin
  fi
  rm -rf "$dir" && mkdir -p "$dir"
  git --git-dir="$git_dir" archive "$ref" | tar -x -C "$dir"
}

# Runs a build once per pinned version: <stamp> records what <out> was built from.
built() { [ -x "$1" ] && [ -f "$1.version" ] && [ "$(cat "$1.version")" = "$2" ]; }
timed() {
  local name="$1" s
  shift
  s=$(date +%s)
  "$@" >"$P/logs/$name.log" 2>&1 || {
    log "$name failed, see $P/logs/$name.log"
    tail -n 20 "$P/logs/$name.log" >&2
    return 1
  }
  log "$name built in $(($(date +%s) - s)) s"
}

build_tofu() {
  local out="$P/tofu"
  built "$out" "$TOFU_VERSION" && return 0
  log "OpenTofu $TOFU_VERSION (go mod download + go build ./cmd/tofu; ~20 min)"
  # shellcheck disable=SC2016
  timed tofu bash -c 'dir=$(go mod download -json "github.com/opentofu/opentofu@$1" | sed -n "s/^\t\"Dir\": \"\(.*\)\",$/\1/p")
    [ -n "$dir" ] || { echo "go mod download gave no directory"; exit 1; }
    cd "$dir" && go build -o "$2" ./cmd/tofu' _ "$TOFU_VERSION" "$out"
  echo "$TOFU_VERSION" >"$out.version"
}

build_opnsense() {
  local out="$P/terraform-provider-opnsense" src="$P/src/opnsense" client
  built "$out" "$OPNSENSE_REF" && return 0
  log "terraform-provider-opnsense $OPNSENSE_REF"
  checkout browningluke/terraform-provider-opnsense "$OPNSENSE_REF" "$src"
  client=$(awk '$1 == "github.com/browningluke/opnsense-go" { print $2 }' "$src/go.mod")
  if ! (cd "$src" && go mod download "github.com/browningluke/opnsense-go@$client" >/dev/null 2>&1); then
    log "browningluke/opnsense-go $client is not served by the module proxy: built from its source"
    checkout browningluke/opnsense-go "$client" "$P/src/opnsense-go"
    (cd "$src" && go mod edit -replace "github.com/browningluke/opnsense-go=../opnsense-go")
  fi
  (cd "$src" && timed opnsense go build -o "$out" .)
  echo "$OPNSENSE_REF" >"$out.version"
}

build_fortios() {
  local out="$P/terraform-provider-fortios" src="$P/src/fortios"
  built "$out" "$FORTIOS_REF" && return 0
  log "terraform-provider-fortios $FORTIOS_LABEL ($FORTIOS_REF)"
  checkout fortinetdev/terraform-provider-fortios "$FORTIOS_REF" "$src"
  (cd "$src" && timed fortios go build -o "$out" .)
  echo "$FORTIOS_REF" >"$out.version"
}

parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(tofu opnsense fortios)
for part in "${parts[@]}"; do
  case "$part" in
    tofu) build_tofu ;;
    opnsense) build_opnsense ;;
    fortios) build_fortios ;;
    *) log "unknown part $part (tofu, opnsense, fortios)" && exit 2 ;;
  esac
done

{
  echo "opentofu $TOFU_VERSION (github.com/opentofu/opentofu)"
  echo "terraform-provider-opnsense $OPNSENSE_REF (browningluke)"
  echo "terraform-provider-fortios $FORTIOS_LABEL ($FORTIOS_REF, fortinetdev)"
} >"$P/VERSIONS"
[ -x "$P/tofu" ] && echo "TOFU=$P/tofu"
[ -x "$P/terraform-provider-opnsense" ] && echo "OPNSENSE=$P/terraform-provider-opnsense"
[ -x "$P/terraform-provider-fortios" ] && echo "FORTIOS=$P/terraform-provider-fortios"
exit 0
