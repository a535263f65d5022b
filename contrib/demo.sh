#!/bin/sh
# Installs the build dependencies, builds berth, prepares a busybox bundle and shows berth at work.
#   contrib/demo.sh [--no-install]
set -eu
cd "$(dirname "$0")/.."
[ "${1:-}" = "--no-install" ] || contrib/install-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
berth=$(pwd)/build/cmd/berth

# The bundle: a rootfs holding Debian's static busybox and its applet links, plus berth's
# default config.json.
bundle=${BERTH_DEMO_BUNDLE:-/tmp/berth-demo}
rm -rf "$bundle"
mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/proc" "$bundle/rootfs/sys" "$bundle/rootfs/dev" \
  "$bundle/rootfs/tmp" "$bundle/rootfs/etc"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$bundle/rootfs/bin/$applet"
done
echo "root:x:0:0:root:/root:/bin/sh" > "$bundle/rootfs/etc/passwd"
echo "root:x:0:" > "$bundle/rootfs/etc/group"

"$berth" --version
"$berth" spec --bundle "$bundle"
echo "--- $bundle/config.json (berth spec)"
cat "$bundle/config.json"
