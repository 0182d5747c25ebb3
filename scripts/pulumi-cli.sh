#!/usr/bin/env bash
# Makes the Pulumi CLI available and prints, as the LAST line on stdout, the directory
# to put on PATH (it holds `pulumi`, `pulumi-language-nodejs` and, for a built CLI,
# `pulumi-resource-pulumi-nodejs`, the dynamic-provider plugin). Progress goes to stderr.
#
#   export PATH="$(scripts/pulumi-cli.sh | tail -n1):$PATH"
#
# 1. A `pulumi` already on PATH is used when it is >= $PULUMI_CLI_MIN_VERSION (exit code 7
#    for `--expect-no-changes`) and `pulumi-language-nodejs` is on PATH or next to it.
#    Set PULUMI_CLI_IGNORE_SYSTEM=1 to skip this.
# 2. Otherwise the CLI is built once from Go modules (needs `go` and a Go module proxy) into
#    ${PULUMI_FIRST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-firewall-grants}/pulumi-cli/v<ver>/bin
#    Later runs return at once. Builds happen in a temp dir that is renamed into place
#    (no half caches) under a flock (no double builds).
#    Versions are tried in the order of $PULUMI_CLI_VERSIONS; the first one matches the
#    pinned @pulumi/pulumi SDK, the others are nearby releases used when a Go module proxy
#    does not serve (or cannot checksum-verify) the first.
#
# Why a wrapper module: `go install github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@vX` is refused
# because pkg/go.mod has `replace ... => ../sdk`. The wrapper requires pkg/v3 and sdk/v3 at the
# same version and copies pkg/go.mod's non-path replaces (what `cd pkg && go build` uses).
# The nodejs language host is its own untagged module (sdk/nodejs/cmd/pulumi-language-nodejs/v3);
# it is required at the pseudo-version of the release commit. If the proxy does not serve it,
# the language host that shipped inside sdk/v3 up to v3.66.0 is built instead (it speaks the
# same gRPC protocol; newer CLIs fall back for the RPCs it lacks).
#
# Policy packs: a CLI >= 3.150 starts a `runtime: nodejs` policy pack (`--policy-pack DIR`) through
# the language host's RunPlugin RPC, which the v3.66.0 host answers "not supported". So the fallback
# host is built from a copy of its sources with one addition, RunPlugin for policy packs (it runs
# `node <@pulumi/pulumi resolved from the pack>/cmd/run-policy-pack <engine> .` in the pack's directory,
# as the released host does). Caches built before that addition are upgraded once, in place (Go
# needed; ~10 s with a warm module cache); without Go they keep working for programs, not for packs.
set -euo pipefail

PULUMI_CLI_VERSIONS="${PULUMI_CLI_VERSIONS:-3.248.0 3.250.0 3.246.0}"
PULUMI_CLI_MIN_VERSION="${PULUMI_CLI_MIN_VERSION:-3.226.0}"
# Last sdk/v3 release that still contained nodejs/cmd/pulumi-language-nodejs as a package.
LANGHOST_FALLBACK_SDK_VERSION="3.66.0"

PKG_MOD="github.com/pulumi/pulumi/pkg/v3"
SDK_MOD="github.com/pulumi/pulumi/sdk/v3"
LANGHOST_MOD="github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3"
LANGHOST_FALLBACK_PKG="github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs"
# Recorded in BUILD-INFO when the fallback host has RunPlugin for policy packs; bump to rebuild it.
LANGHOST_RUNPLUGIN_MARK="runplugin-policy-packs r1"
VERSION_VAR="github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_ROOT="${PULUMI_FIRST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-firewall-grants}/pulumi-cli"

log() { printf '%s\n' "pulumi-cli: $*" >&2; }
die() { log "error: $*"; exit 1; }

# version_ge A B: A >= B (plain x.y.z, leading v and -/+ suffixes ignored)
norm_version() { local v="${1#v}"; v="${v%%[-+]*}"; printf '%s' "$v"; }
version_ge() {
  local a b
  a="$(norm_version "$1")"; b="$(norm_version "$2")"
  [ "$(printf '%s\n%s\n' "$a" "$b" | sort -V | head -n1)" = "$b" ]
}

run_version() { # prints `<binary> version` or nothing
  local out
  if command -v timeout >/dev/null 2>&1; then
    out="$(PULUMI_SKIP_UPDATE_CHECK=true timeout 30 "$1" version 2>/dev/null)" || return 0
  else
    out="$(PULUMI_SKIP_UPDATE_CHECK=true "$1" version 2>/dev/null)" || return 0
  fi
  printf '%s' "$out" | tr -d '[:space:]'
}

# ---------------------------------------------------------------- 1. system CLI
if [ "${PULUMI_CLI_IGNORE_SYSTEM:-0}" != "1" ] && command -v pulumi >/dev/null 2>&1; then
  sys_pulumi="$(command -v pulumi)"
  sys_real="$(readlink -f "$sys_pulumi" 2>/dev/null || printf '%s' "$sys_pulumi")"
  sys_dir="$(dirname "$sys_real")"
  sys_ver="$(run_version "$sys_pulumi")"
  if [ -n "$sys_ver" ] && [[ "$sys_ver" =~ ^v?[0-9]+\.[0-9]+\.[0-9]+ ]] && version_ge "$sys_ver" "$PULUMI_CLI_MIN_VERSION"; then
    if command -v pulumi-language-nodejs >/dev/null 2>&1 || [ -x "$sys_dir/pulumi-language-nodejs" ]; then
      if ! command -v pulumi-resource-pulumi-nodejs >/dev/null 2>&1 && [ ! -x "$sys_dir/pulumi-resource-pulumi-nodejs" ]; then
        log "warning: pulumi-resource-pulumi-nodejs not found on PATH or next to $sys_real; dynamic providers may fail"
      fi
      log "using installed Pulumi CLI $sys_ver ($sys_real)"
      printf '%s\n' "$sys_dir"
      exit 0
    fi
    log "installed pulumi $sys_ver has no pulumi-language-nodejs next to it or on PATH; using a built CLI"
  elif [ -n "$sys_ver" ]; then
    log "installed pulumi ($sys_ver) is older than $PULUMI_CLI_MIN_VERSION or unparsable; using a built CLI"
  fi
fi

# ---------------------------------------------------------------- helpers for the build
DYN_PLUGIN_SRC=""
resolve_dynamic_plugin() {
  local pj
  pj="$(cd "$REPO_ROOT" && node -p "require.resolve('@pulumi/pulumi/package.json')" 2>/dev/null)" || pj=""
  if [ -n "$pj" ] && [ -f "$(dirname "$pj")/pulumi-resource-pulumi-nodejs" ]; then
    DYN_PLUGIN_SRC="$(dirname "$pj")/pulumi-resource-pulumi-nodejs"
  else
    log "warning: cannot resolve @pulumi/pulumi/pulumi-resource-pulumi-nodejs from $REPO_ROOT (run npm ci);" \
      "dynamic providers will not be found by the CLI"
  fi
}

# install_dynamic_plugin BIN_DIR: copy (not link: the plugin script resolves @pulumi/pulumi from
# the program's cwd, so one copy serves every checkout) atomically, only when it changed.
install_dynamic_plugin() {
  local bin="$1" tmp
  [ -n "$DYN_PLUGIN_SRC" ] || return 0
  if ! cmp -s "$DYN_PLUGIN_SRC" "$bin/pulumi-resource-pulumi-nodejs" 2>/dev/null; then
    tmp="$(mktemp "$bin/.pulumi-resource-pulumi-nodejs.XXXXXX")"
    cp "$DYN_PLUGIN_SRC" "$tmp" && chmod 0755 "$tmp" && mv -f "$tmp" "$bin/pulumi-resource-pulumi-nodejs"
  fi
}

cache_ok() { # cache_ok VER
  local bin="$CACHE_ROOT/v$1/bin"
  [ -x "$bin/pulumi" ] && [ -x "$bin/pulumi-language-nodejs" ] && [ "$(run_version "$bin/pulumi")" = "v$1" ]
}

finish() { # finish VER
  local bin="$CACHE_ROOT/v$1/bin"
  upgrade_langhost "$1"
  install_dynamic_plugin "$bin"
  printf '%s\n' "$bin"
  exit 0
}

# json_field FIELD < go-mod-download-json : first "FIELD": "value"
json_field() { sed -n "s/^[[:space:]]*\"$1\": \"\\(.*\\)\",\\{0,1\\}\$/\\1/p" | head -n1; }

# nonpath_replaces GOMOD_FILE: replace directives whose target is a module (not ./ ../ /), one per line
nonpath_replaces() {
  awk '
    /^[[:space:]]*replace[[:space:]]*\([[:space:]]*$/ { inblock = 1; next }
    inblock && /^[[:space:]]*\)/ { inblock = 0; next }
    { line = $0; sub(/\/\/.*/, "", line) }
    inblock { r = line }
    !inblock && line ~ /^[[:space:]]*replace[[:space:]]/ { r = line; sub(/^[[:space:]]*replace[[:space:]]+/, "", r) }
    r != "" && r ~ /=>/ {
      split(r, parts, /=>/); tgt = parts[2]; gsub(/^[[:space:]]+|[[:space:]]+$/, "", tgt)
      if (tgt !~ /^(\.|\/)/) { gsub(/^[[:space:]]+|[[:space:]]+$/, "", r); print r }
    }
    { r = "" }
  ' "$1"
}

go_directive() { sed -n 's/^go[[:space:]]\{1,\}\([0-9][0-9.]*\).*/\1/p' "$1" | head -n1; }

# write_wrapper DIR GO_DIRECTIVE TOOL_PKGS REQUIRES REPLACES  (newline-separated lists)
write_wrapper() {
  local dir="$1" gov="$2" tools="$3" reqs="$4" reps="$5"
  mkdir -p "$dir"
  {
    printf 'module example.invalid/pulumi-cli-wrapper\n\ngo %s\n\nrequire (\n' "$gov"
    printf '%s\n' "$reqs" | sed '/^$/d; s/^/\t/'
    printf ')\n\ntool (\n'
    printf '%s\n' "$tools" | sed '/^$/d; s/^/\t/'
    printf ')\n'
    if [ -n "$reps" ]; then
      printf '\nreplace (\n'
      printf '%s\n' "$reps" | sed '/^$/d; s/^/\t/'
      printf ')\n'
    fi
  } >"$dir/go.mod"
}

# build_tools DIR VERSION_STRING OUT_DIR LOG PKG...
build_tools() {
  local dir="$1" ver="$2" out="$3" logf="$4"; shift 4
  (cd "$dir" && go mod tidy) >>"$logf" 2>&1 || return 1
  (cd "$dir" && CGO_ENABLED=0 go build -trimpath -tags osusergo,grpcnotrace \
    -ldflags "-X $VERSION_VAR=$ver" -o "$out/" "$@") >>"$logf" 2>&1
}

# write_runplugin FILE: the RunPlugin method added to the v3.66.0 language host (see the header).
write_runplugin() {
  cat >"$1" <<'GOEOF'
// Added by pulumi-firewall-grants' scripts/pulumi-cli.sh to the v3.66.0 nodejs language host, whose
// RunPlugin answers "not supported": CLIs >= 3.150 start `runtime: nodejs` policy packs through it.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/encoding/protowire"
)

// runPluginFields reads what the v3.66 proto does not declare: RunPluginRequest field 5 `info`
// (ProgramInfo: 2 program_directory, 3 entry_point) and field 6 `kind`.
func runPluginFields(req *pulumirpc.RunPluginRequest) (dir, entry, kind string) {
	eachBytesField(req.ProtoReflect().GetUnknown(), func(num protowire.Number, v []byte) {
		switch num {
		case 5:
			eachBytesField(v, func(n protowire.Number, w []byte) {
				switch n {
				case 2:
					dir = string(w)
				case 3:
					entry = string(w)
				}
			})
		case 6:
			kind = string(v)
		}
	})
	return dir, entry, kind
}

// eachBytesField calls f for every length-delimited field of the wire-format message b.
func eachBytesField(b []byte, f func(protowire.Number, []byte)) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return
		}
		b = b[n:]
		if typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return
			}
			f(num, v)
			b = b[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return
		}
		b = b[m:]
	}
}

func (host *nodeLanguageHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	dir, entry, kind := runPluginFields(req)
	if dir == "" {
		dir = req.GetProgram()
	}
	if kind != "analyzer" || dir == "" {
		return fmt.Errorf("RunPlugin: this language host (v3.66.0 with policy-pack support) runs policy packs only, not %q plugins", kind)
	}
	if entry == "" {
		entry = "."
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return errors.New("could not find node on the $PATH")
	}
	// @pulumi/pulumi as the pack resolves it (also when the pack sits inside a node_modules folder).
	resolve := exec.Command(node, "-e", "process.stdout.write(require.resolve('@pulumi/pulumi/cmd/run-policy-pack'))")
	resolve.Dir = dir
	runPath, err := resolve.Output()
	if err != nil {
		return fmt.Errorf("it looks like the policy pack's dependencies are not installed: "+
			"@pulumi/pulumi/cmd/run-policy-pack cannot be resolved from %q; run npm install there", dir)
	}
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	args := append(append([]string{string(runPath)}, req.GetArgs()...), entry)
	cmd := exec.Command(node, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), req.GetEnv()...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	code := int32(0)
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			_ = closer.Close()
			return err
		}
		code = int32(exit.ExitCode())
	}
	if err := closer.Close(); err != nil {
		return err
	}
	return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: code}})
}
GOEOF
}

# build_fallback_langhost DIR GO_DIRECTIVE OUT_DIR LOG: the v3.66.0 language host from a copy of its
# package sources, with RunPlugin replaced by write_runplugin's, into OUT_DIR/pulumi-language-nodejs.
build_fallback_langhost() {
  local dir="$1" gov="$2" out="$3" logf="$4" info src_dir lh_gomod f
  info="$(cd "$(dirname "$dir")" && go mod download -json "$SDK_MOD@v$LANGHOST_FALLBACK_SDK_VERSION" 2>>"$logf" || true)"
  printf '%s\n' "$info" >>"$logf"
  lh_gomod="$(printf '%s\n' "$info" | json_field GoMod)"
  src_dir="$(printf '%s\n' "$info" | json_field Dir)/nodejs/cmd/pulumi-language-nodejs"
  if [ -z "$lh_gomod" ] || [ -n "$(printf '%s\n' "$info" | json_field Error)" ] || [ ! -f "$src_dir/main.go" ]; then
    log "$SDK_MOD@v$LANGHOST_FALLBACK_SDK_VERSION not available"; return 1
  fi
  mkdir -p "$dir"
  {
    printf 'module example.invalid/pulumi-language-nodejs-fallback\n\ngo %s\n\nrequire %s v%s\n' "$gov" "$SDK_MOD" "$LANGHOST_FALLBACK_SDK_VERSION"
    nonpath_replaces "$lh_gomod" | sed 's/^/replace /'
  } >"$dir/go.mod"
  for f in main.go proxy.go proxy_unix.go proxy_windows.go; do
    [ -f "$src_dir/$f" ] || continue
    cp "$src_dir/$f" "$dir/$f" && chmod 0644 "$dir/$f"
  done
  # Drop the stub `func (host *nodeLanguageHost) RunPlugin(...) error { return errors.New("not supported") }`.
  awk '/^func \(host \*nodeLanguageHost\) RunPlugin\(/ { skip = 1 } skip && /^}/ { skip = 0; next } !skip' \
    "$src_dir/main.go" >"$dir/main.go"
  if grep -q 'RunPlugin(' "$dir/main.go" || ! grep -q 'RunPlugin(' "$src_dir/main.go"; then
    log "unexpected $src_dir/main.go: cannot replace its RunPlugin"; return 1
  fi
  write_runplugin "$dir/runplugin.go"
  (cd "$dir" && go mod tidy) >>"$logf" 2>&1 || return 1
  (cd "$dir" && CGO_ENABLED=0 go build -trimpath -tags osusergo,grpcnotrace \
    -ldflags "-X $VERSION_VAR=v$LANGHOST_FALLBACK_SDK_VERSION" -o "$out/pulumi-language-nodejs" .) >>"$logf" 2>&1
}

# upgrade_langhost VER: a cache built with the plain v3.66.0 fallback host gets the one with RunPlugin
# (policy packs), built beside it and renamed into place. Without Go, or when the build fails, the
# cache stays as it is (programs run; policy packs do not) and a warning says so.
upgrade_langhost() {
  local dest="$CACHE_ROOT/v$1" tmp gov local_gov
  grep -q '(fallback' "$dest/BUILD-INFO" 2>/dev/null || return 0
  grep -qF "$LANGHOST_RUNPLUGIN_MARK" "$dest/BUILD-INFO" && return 0
  if ! command -v go >/dev/null 2>&1; then
    log "warning: $dest/bin/pulumi-language-nodejs cannot start policy packs and there is no 'go' to rebuild it"; return 0
  fi
  lock_cache
  grep -qF "$LANGHOST_RUNPLUGIN_MARK" "$dest/BUILD-INFO" && return 0
  export GOFLAGS="" GOWORK=off GO111MODULE=on
  gov="$(go_directive "$dest/wrapper/langhost/go.mod" 2>/dev/null)"
  local_gov="$(GOTOOLCHAIN=local go env GOVERSION)"; local_gov="${local_gov#go}"
  [ -n "$gov" ] || gov="$local_gov"
  if version_ge "$local_gov" "$gov"; then export GOTOOLCHAIN=local; else export GOTOOLCHAIN=auto; fi
  log "adding policy-pack support (RunPlugin) to the cached v$LANGHOST_FALLBACK_SDK_VERSION language host (once)…"
  tmp="$(mktemp -d "$CACHE_ROOT/.langhost-v$1.XXXXXX")"
  if build_fallback_langhost "$tmp/src" "$gov" "$tmp" "$tmp/build.log"; then
    mv -f "$tmp/pulumi-language-nodejs" "$dest/bin/pulumi-language-nodejs"
    # (no `sed -i`: BSD sed needs a different flag)
    sed "s|^pulumi-language-nodejs: .*|pulumi-language-nodejs: $LANGHOST_FALLBACK_PKG@v$LANGHOST_FALLBACK_SDK_VERSION (fallback, $LANGHOST_RUNPLUGIN_MARK)|" \
      "$dest/BUILD-INFO" >"$tmp/BUILD-INFO"
    grep -qF "$LANGHOST_RUNPLUGIN_MARK" "$tmp/BUILD-INFO" || printf 'langhost: %s\n' "$LANGHOST_RUNPLUGIN_MARK" >>"$tmp/BUILD-INFO"
    mv -f "$tmp/BUILD-INFO" "$dest/BUILD-INFO"
    log "policy packs enabled in $dest/bin"
  else
    log "warning: could not rebuild the language host with RunPlugin (policy packs will not start); last lines:"
    tail -n 10 "$tmp/build.log" >&2 || true
  fi
  rm -rf "$tmp"
}

# lock_cache: serialises builds and upgrades of the cache (once per process).
CACHE_LOCKED=0
lock_cache() {
  [ "$CACHE_LOCKED" = 0 ] || return 0
  CACHE_LOCKED=1
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$CACHE_ROOT/.lock"
    if ! flock -n 9; then
      log "waiting for another process that is building the Pulumi CLI…"
      flock 9
    fi
  else
    log "warning: flock not found; building without a lock"
  fi
}

# build VER: builds into a temp dir next to the cache dir, then renames it into place.
BUILD_TMP=""
cleanup() { [ -z "$BUILD_TMP" ] || rm -rf "$BUILD_TMP"; }
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

build() {
  local ver="$1" dest="$CACHE_ROOT/v$1" logf info pkg_gomod hash gov local_gov lh_json lh_ver lh_gomod lh_desc
  BUILD_TMP="$(mktemp -d "$CACHE_ROOT/.build-v$ver.XXXXXX")"
  chmod 0755 "$BUILD_TMP"
  logf="$BUILD_TMP/build.log"
  mkdir -p "$BUILD_TMP/bin"

  # CLI module (also verifies it against the checksum database).
  info="$(cd "$BUILD_TMP" && go mod download -json "$PKG_MOD@v$ver" 2>>"$logf" || true)"
  printf '%s\n' "$info" >>"$logf"
  if [ -n "$(printf '%s\n' "$info" | json_field Error)" ] || [ -z "$(printf '%s\n' "$info" | json_field GoMod)" ]; then
    log "v$ver: $PKG_MOD@v$ver not available: $(printf '%s\n' "$info" | json_field Error | head -c 300)"
    return 1
  fi
  pkg_gomod="$(printf '%s\n' "$info" | json_field GoMod)"
  hash="$(printf '%s\n' "$info" | json_field Hash)"
  gov="$(go_directive "$pkg_gomod")"
  local_gov="$(cd "$BUILD_TMP" && GOTOOLCHAIN=local go env GOVERSION)"; local_gov="${local_gov#go}"
  if version_ge "$local_gov" "$gov"; then export GOTOOLCHAIN=local; else
    log "go $local_gov < go $gov required by $PKG_MOD@v$ver; letting go fetch toolchain go$gov (GOTOOLCHAIN=auto)"
    export GOTOOLCHAIN=auto
  fi

  log "building Pulumi CLI v$ver from Go modules (first run only, ~5 minutes on 2 cores)…"
  write_wrapper "$BUILD_TMP/cli" "$gov" "$PKG_MOD/cmd/pulumi" \
    "$PKG_MOD v$ver
$SDK_MOD v$ver" "$(nonpath_replaces "$pkg_gomod")"
  if ! build_tools "$BUILD_TMP/cli" "v$ver" "$BUILD_TMP/bin" "$logf" "$PKG_MOD/cmd/pulumi"; then
    log "v$ver: building pulumi failed; last lines of $logf:"; tail -n 15 "$logf" >&2; return 1
  fi

  # Language host: its own module at the release commit's pseudo-version, else the sdk/v3 fallback.
  lh_json=""
  [ -z "$hash" ] || lh_json="$(cd "$BUILD_TMP" && go mod download -json "$LANGHOST_MOD@$hash" 2>>"$logf" || true)"
  printf '%s\n' "$lh_json" >>"$logf"
  lh_ver="$(printf '%s\n' "$lh_json" | json_field Version)"
  lh_gomod="$(printf '%s\n' "$lh_json" | json_field GoMod)"
  if [ -n "$lh_gomod" ] && [ -z "$(printf '%s\n' "$lh_json" | json_field Error)" ]; then
    log "building pulumi-language-nodejs $lh_ver (commit of v$ver)…"
    write_wrapper "$BUILD_TMP/langhost" "$gov" "$LANGHOST_MOD" \
      "$LANGHOST_MOD $lh_ver
$PKG_MOD v$ver
$SDK_MOD v$ver" "$(nonpath_replaces "$lh_gomod")"
    build_tools "$BUILD_TMP/langhost" "v$ver" "$BUILD_TMP/bin" "$logf" "$LANGHOST_MOD" || {
      log "v$ver: building pulumi-language-nodejs failed; last lines of $logf:"; tail -n 15 "$logf" >&2; return 1; }
    lh_desc="$LANGHOST_MOD@$lh_ver"
  else
    log "$LANGHOST_MOD@${hash:-?} not served by the Go module proxy" \
      "($(printf '%s\n' "$lh_json" | json_field Error | head -c 400)); building the language host from $SDK_MOD@v$LANGHOST_FALLBACK_SDK_VERSION…"
    build_fallback_langhost "$BUILD_TMP/langhost" "$gov" "$BUILD_TMP/bin" "$logf" || {
      log "v$ver: building pulumi-language-nodejs failed; last lines of $logf:"; tail -n 15 "$logf" >&2; return 1; }
    lh_desc="$LANGHOST_FALLBACK_PKG@v$LANGHOST_FALLBACK_SDK_VERSION (fallback, $LANGHOST_RUNPLUGIN_MARK)"
  fi

  [ "$(run_version "$BUILD_TMP/bin/pulumi")" = "v$ver" ] || { log "v$ver: built pulumi does not report v$ver"; return 1; }
  install_dynamic_plugin "$BUILD_TMP/bin"
  {
    printf 'pulumi: %s/cmd/pulumi@v%s\n' "$PKG_MOD" "$ver"
    printf 'pulumi-language-nodejs: %s\n' "$lh_desc"
    printf 'go: %s\nbuilt: %s\n' "$(go env GOVERSION)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } >"$BUILD_TMP/BUILD-INFO"
  mkdir -p "$BUILD_TMP/wrapper"
  for d in cli langhost; do
    mkdir -p "$BUILD_TMP/wrapper/$d"; cp "$BUILD_TMP/$d/go.mod" "$BUILD_TMP/$d/go.sum" "$BUILD_TMP/wrapper/$d/"
  done
  rm -rf "$BUILD_TMP/cli" "$BUILD_TMP/langhost"
  rm -rf "$dest"
  mv "$BUILD_TMP" "$dest" || return 1
  rm -f "$CACHE_ROOT/build-v$ver.failed.log"
  BUILD_TMP=""
  log "built Pulumi CLI v$ver into $dest/bin ($lh_desc)"
}

# ---------------------------------------------------------------- 2. cached or built CLI
mkdir -p "$CACHE_ROOT"
resolve_dynamic_plugin
for v in $PULUMI_CLI_VERSIONS; do cache_ok "$v" && finish "$v"; done

command -v go >/dev/null 2>&1 || die "no usable pulumi on PATH and no 'go' to build one (need Go >= 1.21 and a Go module proxy)"
export GOFLAGS="" GOWORK=off GO111MODULE=on
unset GOOS GOARCH

lock_cache
# Leftovers of interrupted builds (only builds holding this lock create them).
rm -rf "$CACHE_ROOT"/.build-v* "$CACHE_ROOT"/.langhost-v*
# Someone else may have finished while we waited.
for v in $PULUMI_CLI_VERSIONS; do cache_ok "$v" && finish "$v"; done

for v in $PULUMI_CLI_VERSIONS; do
  if build "$v"; then finish "$v"; fi
  if [ -n "$BUILD_TMP" ] && [ -f "$BUILD_TMP/build.log" ]; then
    cp "$BUILD_TMP/build.log" "$CACHE_ROOT/build-v$v.failed.log" || true
  fi
  cleanup; BUILD_TMP=""
  log "v$v could not be built (log: $CACHE_ROOT/build-v$v.failed.log); trying the next version"
done
die "could not build any of: $PULUMI_CLI_VERSIONS"
