#!/usr/bin/env bash
# check-long: the default guest (Debian's kernel + the busybox initramfs of
# scripts/guest/prepare.sh) boots on Vireo under KVM with direct kernel boot and
# two CPUs, and its /init prints the marker line with both CPUs counted.
#   tests/boot/linux-kvm.sh BUILD_DIR
set -u
build=$1
if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
    echo "SKIP: linux-kvm (no usable /dev/kvm on this host)"; exit 0
fi
guest=$(scripts/guest/prepare.sh) || { echo "SKIP: linux-kvm (default guest not prepared)"; exit 0; }
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
"$build/vireo-system-x86_64" -accel kvm -cpu host -smp 2 -m 512 -display none -no-reboot \
    -serial file:"$tmp/serial" -kernel "$guest/vmlinuz" -initrd "$guest/initrd.gz" \
    -append "console=ttyS0 panic=-1" >"$tmp/out" 2>&1 &
pid=$!
# Generous bound (nested KVM is slow here); a real host boots this in seconds.
for _ in $(seq 3600); do
    grep -qa "VIREO-GUEST-READY" "$tmp/serial" 2>/dev/null && break
    kill -0 $pid 2>/dev/null || break
    sleep 1
done
line=$(grep -a -m1 "VIREO-GUEST-READY" "$tmp/serial" 2>/dev/null)
if [ -n "$line" ]; then
    echo "PASS: linux-kvm: $line"
    case $line in
        *", 2 cpu(s)"*) echo "PASS: linux-kvm-smp: Linux brought up both CPUs (MP table)" ;;
        *) echo "FAIL: linux-kvm-smp: Linux did not count 2 CPUs" ;;
    esac
else
    echo "FAIL: linux-kvm: no marker on the serial console"
    tail -c 3000 "$tmp/serial" "$tmp/out" 2>/dev/null
fi
