#!/usr/bin/env bash
# Command-line tests of vireo-system-x86_64: help and version, and for every kind
# of bad input one clear line on stderr naming the culprit and a non-zero exit
# (not a crash, not a hang, no guest started).
#   tests/cli/cli-test.sh BUILD_DIR
set -u
build=$1
bin=$build/vireo-system-x86_64
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'not a kernel\n' >"$tmp/notakernel"
# A file with just a bzImage setup header (boot.rst): enough to get past the
# kernel check, so that the initrd check is reached.
python3 - "$tmp/hdr-only" <<'PY'
import struct, sys
b = bytearray(0x1000)
b[0x1f1] = 4                                  # setup_sects
struct.pack_into('<H', b, 0x1fe, 0xaa55)      # boot_flag
b[0x202:0x206] = b'HdrS'
struct.pack_into('<H', b, 0x206, 0x020f)      # protocol 2.15
b[0x211] = 1                                  # LOADED_HIGH
open(sys.argv[1], 'wb').write(b)
struct.pack_into('<H', b, 0x206, 0x0205)
open(sys.argv[1].replace('hdr-only', 'old-protocol'), 'wb').write(b)
PY

# ok NAME EXPECTED_TEXT ARGS...: exit 0, stdout contains EXPECTED_TEXT
ok() {
    local name=$1 want=$2; shift 2
    out=$(timeout 20 "$bin" "$@" 2>"$tmp/err")
    status=$?
    if [ $status -eq 0 ] && grep -qF -- "$want" <<<"$out" && [ ! -s "$tmp/err" ]; then
        echo "PASS: $name"
    else
        echo "FAIL: $name (status $status, stdout: $(head -c 200 <<<"$out"), stderr: $(head -c 200 "$tmp/err"))"
    fi
}

# bad NAME EXPECTED_TEXT ARGS...: exit 1..125, exactly one stderr line containing
# EXPECTED_TEXT, nothing on stdout
bad() {
    local name=$1 want=$2; shift 2
    timeout 20 "$bin" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    status=$?
    lines=$(wc -l <"$tmp/err")
    if [ $status -ge 1 ] && [ $status -le 125 ] && [ "$lines" -eq 1 ] \
       && grep -qF -- "$want" "$tmp/err" && [ ! -s "$tmp/out" ]; then
        echo "PASS: $name: $(cat "$tmp/err")"
    else
        echo "FAIL: $name (status $status, $lines stderr lines: $(head -c 300 "$tmp/err"))"
    fi
}

ok version "version" -version
ok version-double-dash "version" --version
ok help "-kernel" -h
ok machine-help "pc" -machine help
ok device-help "isa-debug-exit" -device help

bad unknown-option "'-frobnicate'" -frobnicate
bad missing-argument "-m needs an argument" -m
bad not-an-option "'disk.img'" disk.img
bad malformed-memory "-m 'lots'" -m lots
bad absurd-memory "more than this host has" -m 64T
bad zero-cpus "-smp '0'" -smp 0
bad too-many-cpus "-smp '300'" -smp 300
bad bad-smp-key "-smp" -smp cpus=2,dies=x
bad unknown-machine "'q35'" -M q35
bad unknown-accel "'hax'" -accel hax
bad unknown-cpu "'pentium'" -cpu pentium
bad bad-display "'gtk'" -display gtk
bad bad-serial "'bogus:x'" -serial bogus:x
bad unknown-device "'no-such-device'" -device no-such-device
bad initrd-without-kernel "-initrd needs -kernel" -initrd "$tmp/notakernel"
bad missing-kernel "'$tmp/none'" -kernel "$tmp/none"
bad non-bzimage-kernel "not a Linux x86 bzImage" -kernel "$tmp/notakernel"
bad elf-kernel "not a Linux x86 bzImage" -kernel /bin/true
bad missing-initrd "'$tmp/none'" -kernel "$tmp/hdr-only" -initrd "$tmp/none"
bad old-protocol "boot protocol 2.05 is too old" -kernel "$tmp/old-protocol"
bad missing-bios "'$tmp/none.bin'" -bios "$tmp/none.bin"
bad tcg-not-yet "no executor available" -accel tcg -display none

# A valid command line: with no usable KVM it must say so (and nothing else).
if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
    bad no-kvm "no executor available: KVM is not usable" -display none -bios "$build/tests/kvm/exit.bin"
else
    echo "SKIP: no-kvm (this host has /dev/kvm; tests/kvm covers running guests)"
fi
