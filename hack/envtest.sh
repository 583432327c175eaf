#!/usr/bin/env bash
# Prints a directory holding kube-apiserver and etcd for controller-runtime's
# envtest, building them from Go modules the first time (hack/envtest/go.mod).
# setup-envtest downloads release archives, which these machines cannot reach;
# the Go module proxy they can.
#
# Usage: hack/envtest.sh            -> prints the asset directory on stdout
# Honours KUBEBUILDER_ASSETS: if it already names a directory with both
# binaries, that directory is printed and nothing is built.
set -euo pipefail

if [[ -n "${KUBEBUILDER_ASSETS:-}" && -x "${KUBEBUILDER_ASSETS}/kube-apiserver" && -x "${KUBEBUILDER_ASSETS}/etcd" ]]; then
  echo "${KUBEBUILDER_ASSETS}"
  exit 0
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mod="${here}/envtest"
modver() { (cd "${mod}" && go list -m -f '{{.Version}}' "$1"); }

k8s_version="$(modver k8s.io/kubernetes)"   # e.g. v1.37.1
etcd_version="$(modver go.etcd.io/etcd/server/v3)"
goos="$(go env GOOS)"
goarch="$(go env GOARCH)"
sum="$(sha256sum "${mod}/go.sum" | cut -c1-12)"
dir="${XDG_CACHE_HOME:-$HOME/.cache}/aprimo-credential-operator/envtest/k8s-${k8s_version#v}-etcd-${etcd_version#v}-${goos}-${goarch}-${sum}"

if [[ -x "${dir}/kube-apiserver" && -x "${dir}/etcd" ]]; then
  echo "${dir}"
  exit 0
fi

mkdir -p "${dir}"
tmp="$(mktemp -d "${dir}/.build.XXXXXX")"
trap 'rm -rf "${tmp}"' EXIT

# Stamp real versions so clients (kubectl version, discovery) can parse them.
major="$(echo "${k8s_version#v}" | cut -d. -f1)"
minor="$(echo "${k8s_version#v}" | cut -d. -f2)"
now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
vpkg="k8s.io/component-base/version"
k8s_ldflags="-s -w -X ${vpkg}.gitVersion=${k8s_version} -X ${vpkg}.gitMajor=${major} -X ${vpkg}.gitMinor=${minor} -X ${vpkg}.gitTreeState=clean -X ${vpkg}.buildDate=${now} -X ${vpkg}.gitCommit=module-${k8s_version}"
etcd_ldflags="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=module-${etcd_version}"

build() { # name package ldflags
  local start=$SECONDS
  echo "envtest: building $1 (${k8s_version}/${etcd_version}) into ${dir}; the first build takes several minutes..." >&2
  (cd "${mod}" && CGO_ENABLED=0 go build -trimpath -ldflags "$3" -o "${tmp}/$1" "$2")
  echo "envtest: built $1 in $((SECONDS - start))s" >&2
}

build etcd go.etcd.io/etcd/server/v3 "${etcd_ldflags}"
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "${k8s_ldflags}"
mv "${tmp}/etcd" "${tmp}/kube-apiserver" "${dir}/"
echo "${dir}"
