#!/bin/sh
# Installs what berth needs on Debian 12 (bookworm), as root.
#   contrib/install-deps.sh          build dependencies and busybox-static (for the demo)
#   contrib/install-deps.sh --tests  also what the test suites use (peers, fuzzing, shells)
set -eu

build_pkgs="g++ meson ninja-build pkg-config git
  libboost-json1.81-dev libboost-program-options1.81-dev
  libseccomp-dev libcap-ng-dev libmnl-dev libspdlog-dev catch2 scdoc busybox-static"
# clang + compiler-rt: libFuzzer for the config fuzzer; runc: the peer our defaults are compared
# with; zsh/fish: syntax checks of the completions; groff/man-db: rendering the man pages;
# uidmap: newuidmap/newgidmap for the rootless tests; containerd, podman, conmon: the engines
# that drive berth in tests/engines (jq: their image builder and checks); criu: checkpoint and
# restore (its tests run in the VM lane, where it works).
test_pkgs="clang libclang-rt-14-dev runc zsh fish groff-base man-db iproute2 util-linux procps uidmap
  containerd podman conmon jq criu"

pkgs=$build_pkgs
[ "${1:-}" = "--tests" ] && pkgs="$pkgs $test_pkgs"

missing=
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-deps: missing packages:$missing (run as root to install them)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# The cgroup v2 VM lane (qemu, and a kernel it downloads itself on first use).
if [ "${1:-}" = "--tests" ]; then
  exec "$(dirname "$0")/../tests/vm/install-deps.sh"
fi
