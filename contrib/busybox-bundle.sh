#!/bin/sh
# Prepares an OCI bundle whose rootfs is Debian's static busybox with its applet links:
#   contrib/busybox-bundle.sh DIR [BERTH]
# writes DIR/rootfs and, when BERTH (a berth binary) is given, DIR/config.json from `berth spec`
# with terminal off (so it runs without a console socket).
set -eu
dir=$1
berth=${2:-}
[ -x /bin/busybox ] || { echo "busybox-bundle: /bin/busybox is missing (apt-get install busybox-static)" >&2; exit 1; }
rm -rf "$dir"
mkdir -p "$dir/rootfs/bin" "$dir/rootfs/proc" "$dir/rootfs/sys" "$dir/rootfs/dev" \
  "$dir/rootfs/tmp" "$dir/rootfs/etc" "$dir/rootfs/root"
cp /bin/busybox "$dir/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$dir/rootfs/bin/$applet"
done
echo "root:x:0:0:root:/root:/bin/sh" > "$dir/rootfs/etc/passwd"
echo "root:x:0:" > "$dir/rootfs/etc/group"
if [ -n "$berth" ]; then
  "$berth" spec --bundle "$dir"
  sed -i 's/"terminal": true/"terminal": false/' "$dir/config.json"
fi
