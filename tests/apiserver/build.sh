#!/usr/bin/env bash
# Builds the etcd and kube-apiserver binaries the API server tests run, from the Go module
# proxy, into a cache outside the repository. A binary already there is kept, so `make test`
# pays for a cold build once per machine; the versions are the ones go/go.mod pins.
set -euo pipefail
module="$(cd "$(dirname "$0")" && pwd)/go"

pinned() { awk -v module="$1" '$1 == module { print $2; exit }' "$module/go.mod"; }
k8s_version="$(pinned k8s.io/kubernetes)"
etcd_version="$(pinned go.etcd.io/etcd/server/v3)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/kcr/apiserver/$k8s_version-etcd-$etcd_version"
out="${KCR_APISERVER_BIN:-$cache}"

if [ -x "$out/etcd" ] && [ -x "$out/kube-apiserver" ]; then
  echo "$out"
  exit 0
fi
if ! command -v go >/dev/null; then
  echo "build.sh: go is not installed; the API server tests will be skipped" >&2
  [ "${KCR_REQUIRE_APISERVER:-}" = 1 ] && exit 1
  exit 0
fi
mkdir -p "$out"
cd "$module"
export CGO_ENABLED=0

# build NAME PACKAGE [LDFLAGS]: go build into $out, atomically, unless NAME is there.
build() {
  local name="$1" package="$2" ldflags="${3:-}" start=$SECONDS
  [ -x "$out/$name" ] && return 0
  go build -trimpath -ldflags "-s -w $ldflags" -o "$out/$name.tmp" "$package"
  mv "$out/$name.tmp" "$out/$name"
  echo "build.sh: $name built in $((SECONDS - start))s" >&2
}

minor="${k8s_version#v1.}"
minor="${minor%%.*}"
build etcd go.etcd.io/etcd/server/v3
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "\
  -X k8s.io/component-base/version.gitVersion=$k8s_version \
  -X k8s.io/component-base/version.gitMajor=1 \
  -X k8s.io/component-base/version.gitMinor=$minor \
  -X k8s.io/component-base/version.gitTreeState=clean"
echo "$out"
