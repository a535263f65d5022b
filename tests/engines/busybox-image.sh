#!/bin/bash
# Builds a one-layer busybox image from Debian's busybox-static, as a docker-archive tarball
# that both `podman load` and `ctr image import` accept (no registry is reachable from CI).
#   tests/engines/busybox-image.sh OUT.tar [NAME]      NAME defaults to localhost/busybox:latest
set -eu
out=$1 name=${2:-localhost/busybox:latest}
bb=/bin/busybox
[ -x "$bb" ] || { echo "busybox-image: $bb is missing (apt-get install busybox-static)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"/{bin,etc,dev,proc,sys,tmp,root,home/tester,var/tmp,run}
chmod 1777 "$root/tmp" "$root/var/tmp"
cp "$bb" "$root/bin/busybox"
for applet in $("$bb" --list); do
  [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\ntester:x:1000:1000:tester:/home/tester:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\ntester:x:1000:\nnogroup:x:65534:\n' >"$root/etc/group"
chown 1000:1000 "$root/home/tester"

# Fixed times and owners: the same busybox gives the same image id on every run.
mkdir -p "$work/img"
tar --sort=name --mtime=@0 --numeric-owner -C "$root" -cf "$work/layer.tar" .
layer=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
mkdir -p "$work/img/$layer"
mv "$work/layer.tar" "$work/img/$layer/layer.tar"
jq -n --arg diff "sha256:$layer" '{
  architecture: "amd64", os: "linux", created: "1970-01-01T00:00:00Z",
  config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"]},
  rootfs: {type: "layers", diff_ids: [$diff]},
  history: [{created: "1970-01-01T00:00:00Z", created_by: "tests/engines/busybox-image.sh"}]
}' >"$work/config.json"
cfg=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mv "$work/config.json" "$work/img/$cfg.json"
jq -n --arg cfg "$cfg.json" --arg tag "$name" --arg layer "$layer/layer.tar" \
  '[{Config: $cfg, RepoTags: [$tag], Layers: [$layer]}]' >"$work/img/manifest.json"
tar --sort=name --mtime=@0 --numeric-owner -C "$work/img" -cf "$out" .
