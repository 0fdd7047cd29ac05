#!/usr/bin/env bash
# Vireo on a real (nested) KVM, on any x86-64 host with Debian's qemu: Debian's
# amd64 kernel boots under qemu's TCG with `-cpu max` (which emulates AMD SVM),
# loads irqbypass, kvm, ccp and kvm-amd from the same kernel package, and runs
# statically linked Vireo programs against its /dev/kvm.
#
#   tests/kvm/nested.sh BUILD_DIR kvm-test [TEST...]
#       tests/kvm/kvm-test (all, or the named guests); its PASS/FAIL/SKIP lines
#       are passed through with a "nested " prefix; then the human monitor on a
#       running guest: `info registers` shows it moving, `stop` freezes it, `cont`
#       lets it go on, `system_reset` and `quit` work
#   tests/kvm/nested.sh BUILD_DIR seabios
#       Debian's SeaBIOS runs its whole POST on Vireo's pc machine under KVM
#       (flash, PAM shadowing into RAM, two CPUs) up to "No bootable device"
#   tests/kvm/nested.sh BUILD_DIR bench
#       tests/bench/startup.py's comparison with qemu, measured inside (prints
#       the markdown table)
#   tests/kvm/nested.sh BUILD_DIR linux
#       vireo-system-x86_64 -smp 2 boots the default guest (direct kernel boot)
#       inside; PASS when its marker line counts both CPUs
set -u
build=$1 mode=$2
shift 2
qemu=$(command -v qemu-system-x86_64) || { echo "SKIP: nested-$mode (qemu-system-x86 not installed)"; exit 0; }
guest=$(scripts/guest/prepare.sh) || { echo "SKIP: nested-$mode (default guest not prepared)"; exit 0; }
kpkg=$(sed 's/ .*//' "$guest/.stamp")           # the unpacked kernel package
busybox=$(sed 's/.* //' "$guest/.stamp")/bin/busybox
mods=$(ls -d "$kpkg"/lib/modules/*/kernel 2>/dev/null | head -n 1)
if [ -z "$mods" ] || [ ! -f "$mods/arch/x86/kvm/kvm-amd.ko" ]; then
    echo "SKIP: nested-$mode (no kvm-amd.ko in $kpkg)"; exit 0
fi
KVM_AMD_OPTS=${KVM_AMD_OPTS-}      # kvm-amd parameters, e.g. npt=0 for shadow paging
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,guests,mod}
cp "$busybox" "$root/bin/busybox"
for a in sh mount insmod poweroff echo grep sleep cat tail kill seq sed; do ln -s busybox "$root/bin/$a"; done
for m in virt/lib/irqbypass arch/x86/kvm/kvm drivers/crypto/ccp/ccp arch/x86/kvm/kvm-amd; do
    cp "$mods/$m.ko" "$root/mod/"
done

case $mode in
kvm-test)
    cp "$build/tests/kvm/kvm-test-static" "$root/kvm-test"
    cp "$build/tests/kvm/vireo-system-static" "$root/vireo"
    cp "$build"/tests/kvm/*.bin "$root/guests/"
    run="/kvm-test /guests $*"'
    { sleep 2; echo "info registers"; sleep 1; echo "info registers"; echo stop; sleep 1
      echo "info registers"; sleep 1; echo "info registers"; echo "info status"; echo cont
      sleep 1; echo "info registers"; echo system_reset; sleep 1; echo "info status"
      echo quit; sleep 5; } | /vireo -accel kvm -display none -serial null \
        -bios /guests/spin.bin -monitor stdio >/tmp/hmp.out 2>&1
    echo "HMP|exit status $?"
    sed "s/^/HMP|/" /tmp/hmp.out'
    mem=512 bound=900
    ;;
linux)
    cp "$build/tests/kvm/vireo-system-static" "$root/vireo"
    cp "$guest/vmlinuz" "$guest/initrd.gz" "$root/guests/"
    # the pc machine maps firmware even for a direct kernel boot (never run)
    bios=/usr/share/seabios/bios-256k.bin
    [ -r $bios ] || bios=$build/tests/kvm/exit.bin
    cp "$bios" "$root/guests/bios.bin"
    # the inner guest's marker goes to a file; the outer console gets it back
    run='/vireo -accel kvm -cpu host -smp 2 -m 256 -display none -no-reboot -bios /guests/bios.bin \
        -serial file:/tmp/serial -kernel /guests/vmlinuz -initrd /guests/initrd.gz \
        -append "console=ttyS0 panic=-1" & pid=$!
    for i in $(seq 3000); do
        grep -q VIREO-GUEST-READY /tmp/serial 2>/dev/null && break
        kill -0 $pid 2>/dev/null || break
        sleep 1
    done
    line=$(grep -m1 VIREO-GUEST-READY /tmp/serial)
    if [ -n "$line" ]; then
        echo "PASS: linux boots on Vireo under KVM: $line"
        case $line in
            *", 2 cpu(s)"*) echo "PASS: linux-smp: Linux brought up both vCPUs (MP table, INIT-SIPI)" ;;
            *) echo "FAIL: linux-smp: Linux did not count 2 CPUs" ;;
        esac
    else
        echo "FAIL: linux: no marker from the guest"
        tail -c 3000 /tmp/serial
    fi
    kill $pid 2>/dev/null'
    mem=1024 bound=3600
    ;;
seabios)
    cp "$build/tests/kvm/vireo-system-static" "$root/vireo"
    cp /usr/share/seabios/bios-256k.bin "$root/guests/bios.bin" 2>/dev/null || {
        echo "SKIP: nested-seabios (/usr/share/seabios/bios-256k.bin missing: install seabios)"; exit 0; }
    # POST runs from the flash copy, shadows itself into RAM through the PAM
    # registers and ends without a boot device
    run='/vireo -accel kvm -cpu host -smp 2 -m 128 -display none -no-reboot \
        -bios /guests/bios.bin -serial file:/tmp/serial \
        -chardev file,id=dbg,path=/tmp/debugcon -device isa-debugcon,iobase=0x402,chardev=dbg & pid=$!
    for i in $(seq 1200); do
        grep -q "No bootable device" /tmp/debugcon 2>/dev/null && break
        kill -0 $pid 2>/dev/null || break
        sleep 1
    done
    kill $pid 2>/dev/null
    banner=$(grep -m1 "SeaBIOS (version" /tmp/debugcon)
    if [ -n "$banner" ]; then echo "PASS: seabios banner: $banner"; else echo "FAIL: seabios: no banner"; fi
    if grep -q "No bootable device" /tmp/debugcon; then
        echo "PASS: seabios POST completes (CPUs found: $(grep -m1 -o "Found [0-9]* cpu(s)[^,]*" /tmp/debugcon))"
    else
        echo "FAIL: seabios: POST did not reach the boot menu"
        tail -c 2500 /tmp/debugcon
    fi'
    mem=512 bound=1800
    ;;
bench)
    # the start-up benchmark of tests/bench/startup.py, with Debian's qemu (and
    # the shared libraries it needs) copied in next to Vireo
    q=$(command -v qemu-system-x86_64)
    mkdir -p "$root/qemu/lib" "$root/qemu/share"
    cp "$q" "$root/qemu/qemu-system-x86_64"
    for lib in $(ldd "$q" | grep -o '/[^ ]*'); do cp -L "$lib" "$root/qemu/lib/"; done
    cp /usr/share/qemu/kvmvapic.bin "$root/qemu/share/"
    cp "$build/tests/kvm/vireo-system-static" "$root/vireo"
    cp "$build/tests/bench/startup-run" "$root/startup-run"
    cp "$build/tests/kvm/exit.bin" "$root/guests/"
    ld=$(ldd "$q" | grep -o '/[^ ]*ld-linux[^ ]*' | head -n 1)
    runs=${STARTUP_RUNS:-21}
    opts="-machine pc -accel kvm -cpu host -m 128 -display none -serial none -monitor none \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 -bios /guests/exit.bin"
    run="v=\$(/startup-run $runs 33 /vireo $opts)
    q=\$(/startup-run $runs 33 /qemu/lib/$(basename "$ld") --library-path /qemu/lib \
        /qemu/qemu-system-x86_64 -L /qemu/share -nodefaults $opts)
    echo \"BENCH|vireo \$v\"
    echo \"BENCH|qemu \$q\""
    mem=1024 bound=1800
    ;;
*)
    echo "usage: nested.sh BUILD_DIR kvm-test|linux|seabios|bench" >&2; exit 2 ;;
esac

cat >"$root/init" <<INIT
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
insmod /mod/irqbypass.ko
insmod /mod/kvm.ko
insmod /mod/ccp.ko
insmod /mod/kvm-amd.ko $KVM_AMD_OPTS || echo "# insmod kvm-amd failed"
$run
echo "NESTED-DONE \$?"
poweroff -f
INIT
chmod 755 "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$tmp/initrd.gz"
timeout $bound "$qemu" -accel tcg -cpu max -smp 2 -m $mem -display none -monitor none \
    -serial stdio -no-reboot -kernel "$guest/vmlinuz" -initrd "$tmp/initrd.gz" \
    -append "console=ttyS0 panic=-1 quiet" </dev/null >"$tmp/serial" 2>&1
tr -d '\r' <"$tmp/serial" | sed -n -e 's/^\(PASS\|FAIL\|SKIP\): /\1: nested /p' -e '/^#/p'
if ! grep -q "NESTED-DONE" "$tmp/serial"; then
    echo "FAIL: nested-$mode: the nested run did not finish within $bound s"
fi
if grep -q "^FAIL" "$tmp/serial" || ! grep -q "NESTED-DONE" "$tmp/serial"; then
    echo "---- the nested guest's console ----"
    tr -d '\r' <"$tmp/serial" | tail -n 60
fi
if [ "$mode" = bench ]; then
    read -r _ vw vc vr < <(tr -d '\r' <"$tmp/serial" | sed -n 's/^BENCH|vireo //p' | sed 's/^/x /')
    read -r _ qw qc qr < <(tr -d '\r' <"$tmp/serial" | sed -n 's/^BENCH|qemu //p' | sed 's/^/x /')
    if [ -z "${vw:-}" ] || [ -z "${qw:-}" ]; then
        echo "FAIL: nested-bench: no measurement"; tr -d '\r' <"$tmp/serial" | tail -n 30
    else
        echo "| (nested KVM under qemu TCG, median of ${STARTUP_RUNS:-21}) | vireo-system-x86_64 | qemu-system-x86_64 | vireo / qemu |"
        echo "| --- | ---: | ---: | ---: |"
        awk -v a="$vw" -v b="$qw" 'BEGIN { printf "| wall time to first guest instruction (ms) | %.1f | %.1f | %.2f |\n", a, b, a / b }'
        awk -v a="$vc" -v b="$qc" 'BEGIN { printf "| CPU time, user + sys (ms) | %.1f | %.1f | %.2f |\n", a, b, a / b }'
        awk -v a="$vr" -v b="$qr" 'BEGIN { printf "| peak RSS (MiB; guest RAM untouched) | %.1f | %.1f | %.2f |\n", a / 1024, b / 1024, a / b }'
    fi
fi
if [ "$mode" = kvm-test ] && grep -q "^HMP|" "$tmp/serial"; then
    hmp=$(tr -d '\r' <"$tmp/serial" | sed -n 's/^HMP|//p')
    mapfile -t rax < <(grep -o '^RAX=[0-9a-f]*' <<<"$hmp" | cut -d= -f2)
    verdict() { if [ "$1" = ok ]; then echo "PASS: nested hmp: $2"; else echo "FAIL: nested hmp: $2"; fi; }
    if [ ${#rax[@]} -ge 5 ]; then
        [ "${rax[0]}" != "${rax[1]}" ] && v=ok || v=no
        verdict $v "info registers shows the guest running (RAX ${rax[0]} -> ${rax[1]})"
        [ "${rax[2]}" = "${rax[3]}" ] && v=ok || v=no
        verdict $v "stop freezes the vCPU (RAX ${rax[2]} twice)"
        [ "${rax[4]}" != "${rax[3]}" ] && v=ok || v=no
        verdict $v "cont lets it run again (RAX ${rax[3]} -> ${rax[4]})"
    else
        echo "FAIL: nested hmp: ${#rax[@]} register dumps, expected 5"
        echo "$hmp" | tail -n 30
    fi
    grep -q "VM status: paused" <<<"$hmp" && v=ok || v=no
    verdict $v "info status after stop: paused"
    [ "$(grep -c 'VM status: running' <<<"$hmp")" -ge 1 ] && v=ok || v=no
    verdict $v "running after system_reset"
    grep -q "^exit status 0" <<<"$hmp" && v=ok || v=no
    verdict $v "quit ends the program with status 0"
fi
