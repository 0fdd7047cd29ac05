#!/usr/bin/env bash
# check-long: Debian's SeaBIOS, unchanged, runs its POST on Vireo's pc machine
# under KVM and prints its banner on the debug console (port 0x402) and COM1.
#   tests/boot/seabios-kvm.sh BUILD_DIR
set -u
build=$1
bios=/usr/share/seabios/bios-256k.bin
if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
    echo "SKIP: seabios-kvm (no usable /dev/kvm on this host)"; exit 0
fi
[ -r $bios ] || { echo "SKIP: seabios-kvm ($bios missing: install seabios)"; exit 0; }
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
"$build/vireo-system-x86_64" -accel kvm -m 128 -display none -no-reboot \
    -serial file:"$tmp/serial" -chardev file,id=dbg,path="$tmp/debugcon" \
    -device isa-debugcon,iobase=0x402,chardev=dbg -bios $bios >"$tmp/out" 2>&1 &
pid=$!
# Generous: nested KVM here runs about one guest instruction per microsecond.
for _ in $(seq 1200); do
    grep -qa "SeaBIOS (version" "$tmp/debugcon" 2>/dev/null && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.5
done
if grep -qa "SeaBIOS (version" "$tmp/debugcon" 2>/dev/null; then
    echo "PASS: seabios-kvm: $(grep -a -m1 'SeaBIOS (version' "$tmp/debugcon")"
else
    echo "FAIL: seabios-kvm: no SeaBIOS banner on the debug console"
    tail -c 2000 "$tmp/debugcon" "$tmp/out" 2>/dev/null
fi
