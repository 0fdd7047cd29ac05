#!/usr/bin/env bash
# Prepare the default guest of `make run` in the cache (never in git):
#   $VIREO_CACHE/guest/vmlinuz     Debian's amd64 kernel (the one linux-image-amd64 picks)
#   $VIREO_CACHE/guest/initrd.gz   an initramfs built here from Debian's busybox-static
# Prints the guest folder.  Idempotent: a guest already built for the same kernel and
# busybox versions is kept.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
fetch=$here/../fetch-deb.sh
cache=${VIREO_CACHE:-$HOME/.cache/vireo}
out=$cache/guest
mkdir -p "$out"

# The metapackage names the versioned kernel package it currently stands for.
apt_depends() { apt-cache depends "$1" 2>/dev/null | sed -n 's/^ *Depends: //p'; }
kpkg=$(apt_depends linux-image-amd64 | grep -m1 '^linux-image-.*-amd64$' || true)
if [ -z "$kpkg" ]; then
    apt-get update -qq >/dev/null 2>&1 || true
    kpkg=$(apt_depends linux-image-amd64 | grep -m1 '^linux-image-.*-amd64$' || true)
fi
if [ -z "$kpkg" ]; then
    echo "prepare: cannot resolve the kernel package linux-image-amd64 depends on" >&2
    exit 1
fi
kdir=$("$fetch" "$kpkg")
bdir=$("$fetch" busybox-static)
stamp="$kdir $bdir"
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ] \
   && [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.gz" ]; then
    echo "$out"
    exit 0
fi

kernel=$(ls "$kdir"/boot/vmlinuz-* 2>/dev/null | head -n 1)
[ -n "$kernel" ] || { echo "prepare: no boot/vmlinuz-* in $kpkg" >&2; exit 1; }
busybox=$bdir/bin/busybox
[ -x "$busybox" ] || { echo "prepare: no bin/busybox in busybox-static" >&2; exit 1; }
command -v cpio >/dev/null || { echo "prepare: cpio is missing (scripts/deps.sh installs it)" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,etc,root,usr/bin,usr/sbin}
cp "$busybox" "$root/bin/busybox"
# One link per applet, so the shell finds ls, cat, mount, ... on PATH.
for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
cat >"$root/init" <<'INIT'
#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "VIREO-GUEST-READY: $(uname -r), $(grep -c ^processor /proc/cpuinfo) cpu(s), $(sed -n 's/^MemTotal: *//p' /proc/meminfo) RAM"
# setsid + cttyhack give the shell a controlling terminal, so ^C works.
while true; do
    setsid cttyhack sh -l
    echo "shell exited; 'poweroff -f' stops the guest"
done
INIT
chmod 755 "$root/init"
echo 'PS1="vireo-guest:\w# "' >"$root/etc/profile"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet --owner=0:0) | gzip -9 >"$out/initrd.gz.tmp"
mv "$out/initrd.gz.tmp" "$out/initrd.gz"
cp "$kernel" "$out/vmlinuz"
echo "$stamp" >"$out/.stamp"
echo "$out"
