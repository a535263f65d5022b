#!/bin/sh
# Installs the build dependencies, builds berth, prepares a busybox bundle and runs a container
# from it, printing the container's output.
#   contrib/demo.sh [--no-install]
set -eu
cd "$(dirname "$0")/.."
[ "${1:-}" = "--no-install" ] || contrib/install-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
berth=$(pwd)/build/cmd/berth

# The bundle: a rootfs holding Debian's static busybox and its applet links, and berth's
# default config.json (as `berth spec` writes it, without a terminal) running /demo.sh.
bundle=${BERTH_DEMO_BUNDLE:-/tmp/berth-demo}
contrib/busybox-bundle.sh "$bundle" "$berth"
cat > "$bundle/rootfs/demo.sh" <<'SCRIPT'
echo "hello from a berth container"
echo "hostname: $(hostname)"
id
echo "processes (its own pid namespace):"
ps
SCRIPT
sed -i 's|"sh"$|"sh", "/demo.sh"|' "$bundle/config.json"

"$berth" --version
echo "--- berth run (bundle $bundle)"
"$berth" --root "${BERTH_DEMO_ROOT:-/run/berth}" run --bundle "$bundle" "berth-demo-$$"
