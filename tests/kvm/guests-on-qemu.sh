#!/usr/bin/env bash
# The KVM test guests on the reference: each must reach isa-debug-exit with
# status 33 under Debian's qemu-system-x86_64 (TCG), with no probe device there
# (its ports and memory read as unassigned).  This checks the guest programs
# themselves, so that a failure of tests/kvm/kvm-test points at Vireo.
set -u
dir=$1
qemu=$(command -v qemu-system-x86_64 || true)
for g in real16 prot32 long64 pit smp exit; do
    if [ -z "$qemu" ]; then
        echo "SKIP: $g on qemu (qemu-system-x86_64 is not installed)"
        continue
    fi
    timeout 120 "$qemu" -machine pc -accel tcg -smp 2 -m 16 -display none -serial none \
        -monitor none -device isa-debug-exit,iobase=0xf4,iosize=0x04 -bios "$dir/$g.bin" \
        >/dev/null 2>&1
    status=$?
    if [ $status -eq 33 ]; then
        echo "PASS: $g reaches isa-debug-exit (status 33) on qemu"
    else
        echo "FAIL: $g on qemu: exit status $status, expected 33"
    fi
done
