#!/bin/sh
# Installs what the VM test lane (tests/vm/run-in-vm.sh) needs on Debian 12 (bookworm), as root.
# Quiet and quick when everything is already there; exit 1 when something is missing and
# cannot be installed. The guest kernel is not installed: run-in-vm.sh fetches its .deb with
# `apt-get download` into its own cache on first use.
#   qemu-system-x86  qemu-system-x86_64 (--no-install-recommends: no GUI, no network boot ROMs
#                    beyond what the package itself depends on)
#   busybox-static   the guest's /init, and its modprobe and depmod
#   xz-utils         unpacks the kernel image (vmlinuz -> vmlinux)
#   util-linux       flock, setsid;  coreutils: timeout, tail;  dpkg: dpkg-deb
#   apparmor         apparmor_parser for the [lsm] tests: the guest kernel enables AppArmor and runs
#                    the host's binaries. No profile is loaded in the guest unless a test loads one
#                    (stage 2 is not systemd, so apparmor.service never runs there).
set -eu

pkgs="qemu-system-x86 busybox-static xz-utils util-linux coreutils dpkg apparmor"

missing=
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "tests/vm/install-deps: missing packages:$missing (run as root to install them)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Wait for another apt (a parallel install) instead of failing on its lock. The package
# lists are refreshed only when the first attempt fails (a fresh machine may have none).
set -- -y -q --no-install-recommends -o DPkg::Lock::Timeout=600
# shellcheck disable=SC2086
if ! apt-get install "$@" $missing >"$log" 2>&1; then
  # shellcheck disable=SC2086
  if ! { apt-get update -q -o DPkg::Lock::Timeout=600 && apt-get install "$@" $missing; } >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "tests/vm/install-deps: installing$missing failed" >&2
    exit 1
  fi
fi
