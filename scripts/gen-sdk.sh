#!/usr/bin/env bash
# Generates the Python and Go SDKs of the firewall-grants provider plugin from provider/plugin/schema.json:
#   scripts/gen-sdk.sh [OUT_DIR]   (default: dist/sdk; writes OUT_DIR/python and OUT_DIR/go)
# `pulumi package gen-sdk` would do it through the language hosts' GeneratePackage RPC, but the hosts that
# build here from Go modules cannot: their own modules are not served by the Go module proxy, and the
# sdk/v3@v3.66.0 hosts scripts/pulumi-cli.sh falls back to predate GeneratePackage ("unknown method
# GeneratePackage"). So this calls the same code generators (pulumi/pkg/v3/codegen/{python,go}) at the
# version of the CLI scripts/pulumi-cli.sh builds, from a throw-away Go module. On a machine with a released
# Pulumi install, `pulumi package gen-sdk provider/plugin/schema.json --language python` gives the same.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$(mkdir -p "${1:-$ROOT/dist/sdk}" && cd "${1:-$ROOT/dist/sdk}" && pwd)"
PULUMI_VERSION="${PULUMI_VERSION:-3.248.0}"
command -v go >/dev/null 2>&1 || { echo "gen-sdk: needs go (and a Go module proxy)" >&2; exit 1; }

WORK="${PULUMI_FIRST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-firewall-grants}/gen-sdk-v$PULUMI_VERSION"
mkdir -p "$WORK"
cat >"$WORK/main.go" <<'GO'
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blang/semver"

	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// noLoader: the schema references no other package (pulumi.json#/Any is built in).
type noLoader struct{}

var errNoPackages = errors.New("firewall-grants references no other package")

func (noLoader) LoadPackage(string, *semver.Version) (*schema.Package, error) { return nil, errNoPackages }
func (noLoader) LoadPackageV2(context.Context, *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, errNoPackages
}
func (noLoader) LoadPackageReference(string, *semver.Version) (schema.PackageReference, error) {
	return nil, errNoPackages
}
func (noLoader) LoadPackageReferenceV2(context.Context, *schema.PackageDescriptor) (schema.PackageReference, error) {
	return nil, errNoPackages
}

func write(dir string, files map[string][]byte) {
	for name, text := range files {
		p := filepath.Join(dir, name)
		must(os.MkdirAll(filepath.Dir(p), 0o755))
		must(os.WriteFile(p, text, 0o644))
	}
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen-sdk:", err)
		os.Exit(1)
	}
}

func main() {
	raw, err := os.ReadFile(os.Args[1])
	must(err)
	var spec schema.PackageSpec
	must(json.Unmarshal(raw, &spec))
	pkg, diags, err := schema.BindSpec(spec, noLoader{}, schema.ValidationOptions{})
	must(err)
	if diags.HasErrors() {
		must(diags)
	}
	py, err := python.GeneratePackage("firewall-grants gen-sdk", pkg, nil, noLoader{})
	must(err)
	write(filepath.Join(os.Args[2], "python"), py)
	gofiles, err := gogen.GeneratePackage("firewall-grants gen-sdk", pkg, nil)
	must(err)
	write(filepath.Join(os.Args[2], "go"), gofiles)
}
GO
if [ ! -f "$WORK/go.mod" ]; then
  # pkg/v3's own non-path replaces, as scripts/pulumi-cli.sh copies them for the CLI.
  mod="$(cd "$WORK" && GOFLAGS= go mod download -json "github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  {
    printf 'module example.invalid/firewall-grants-gen-sdk\n\ngo 1.24\n\nrequire (\n\tgithub.com/pulumi/pulumi/pkg/v3 v%s\n\tgithub.com/pulumi/pulumi/sdk/v3 v%s\n)\n' "$PULUMI_VERSION" "$PULUMI_VERSION"
    grep -E '^[[:space:]]*replace[[:space:]]+[^ ]+ => [^./]' "$mod" || true
  } >"$WORK/go.mod"
fi
(cd "$WORK" && GOFLAGS= GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0 go mod tidy >&2 &&
  GOFLAGS= GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0 go build -trimpath -tags osusergo,grpcnotrace -o gen-sdk . >&2)
rm -rf "$OUT/python" "$OUT/go"
"$WORK/gen-sdk" "$ROOT/provider/plugin/schema.json" "$OUT"
printf '%s\n' "$OUT"
