#!/usr/bin/env bash
# The KVM executor tests on a real (nested) KVM, on any x86-64 host with Debian's
# qemu: Debian's amd64 kernel boots under qemu's TCG with `-cpu max` (which
# emulates AMD SVM), loads irqbypass, kvm, ccp and kvm-amd from the same kernel
# package, and runs the statically linked tests/kvm/kvm-test against /dev/kvm.
# Its PASS/FAIL/SKIP lines are passed through with a "nested " prefix.
#   tests/kvm/nested.sh BUILD_DIR [TEST...]
set -u
build=$1; shift
qemu=$(command -v qemu-system-x86_64) || { echo "SKIP: kvm-nested (qemu-system-x86 not installed)"; exit 0; }
guest=$(scripts/guest/prepare.sh) || { echo "SKIP: kvm-nested (default guest not prepared)"; exit 0; }
kpkg=$(sed 's/ .*//' "$guest/.stamp")           # the unpacked kernel package
busybox=$(sed 's/.* //' "$guest/.stamp")/bin/busybox
mods=$(ls -d "$kpkg"/lib/modules/*/kernel 2>/dev/null | head -n 1)
if [ -z "$mods" ] || [ ! -f "$mods/arch/x86/kvm/kvm-amd.ko" ]; then
    echo "SKIP: kvm-nested (no kvm-amd.ko in $kpkg)"; exit 0
fi
KVM_AMD_OPTS=${KVM_AMD_OPTS-}      # module parameters, e.g. npt=0 to try shadow paging
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root"/{bin,dev,proc,sys,guests,mod}
cp "$busybox" "$root/bin/busybox"
for a in sh mount insmod poweroff echo; do ln -s busybox "$root/bin/$a"; done
for m in virt/lib/irqbypass arch/x86/kvm/kvm drivers/crypto/ccp/ccp arch/x86/kvm/kvm-amd; do
    cp "$mods/$m.ko" "$root/mod/"
done
cp "$build/tests/kvm/kvm-test-static" "$root/kvm-test"
cp "$build"/tests/kvm/*.bin "$root/guests/"
cat >"$root/init" <<INIT
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
insmod /mod/irqbypass.ko
insmod /mod/kvm.ko
insmod /mod/ccp.ko
insmod /mod/kvm-amd.ko $KVM_AMD_OPTS || echo "# insmod kvm-amd failed"
/kvm-test /guests $*
echo "NESTED-DONE \$?"
poweroff -f
INIT
chmod 755 "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$tmp/initrd.gz"
timeout 1800 "$qemu" -accel tcg -cpu max -smp 2 -m 512 -display none -monitor none -serial stdio \
    -no-reboot -kernel "$guest/vmlinuz" -initrd "$tmp/initrd.gz" \
    -append "console=ttyS0 panic=-1 quiet" </dev/null >"$tmp/serial" 2>&1
tr -d '\r' <"$tmp/serial" | sed -n -e 's/^\(PASS\|FAIL\|SKIP\): /\1: nested /p' -e '/^#/p'
if grep -q "^FAIL" "$tmp/serial"; then
    echo "---- the nested guest's console ----"
    tr -d '\r' <"$tmp/serial" | tail -n 60
fi
if ! grep -q "NESTED-DONE" "$tmp/serial"; then
    echo "FAIL: kvm-nested: the nested run did not finish"
    tail -n 30 "$tmp/serial"
fi
