#!/usr/bin/env bash
# check-long: the default guest that `make run` boots is itself sound: on
# Debian's qemu-system-x86_64 (TCG) it reaches its marker line and its shell
# answers a command typed on the serial console.
set -u
qemu=$(command -v qemu-system-x86_64) || { echo "SKIP: guest-on-qemu (qemu-system-x86 not installed)"; exit 0; }
guest=$(scripts/guest/prepare.sh) || { echo "FAIL: guest-on-qemu: scripts/guest/prepare.sh failed"; exit 1; }
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
mkfifo "$tmp/in"
"$qemu" -accel tcg -m 256 -display none -monitor none -no-reboot -serial stdio \
    -kernel "$guest/vmlinuz" -initrd "$guest/initrd.gz" -append "console=ttyS0 panic=-1" \
    <"$tmp/in" >"$tmp/serial" 2>&1 &
pid=$!
exec 3>"$tmp/in"
for _ in $(seq 600); do
    grep -qa "VIREO-GUEST-READY" "$tmp/serial" && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.5
done
if ! grep -qa "VIREO-GUEST-READY" "$tmp/serial"; then
    echo "FAIL: guest-on-qemu: no marker"; tail -c 2000 "$tmp/serial"; exit 1
fi
echo "PASS: guest-on-qemu: $(grep -a -m1 VIREO-GUEST-READY "$tmp/serial" | tr -d '\r')"
sleep 2
echo 'echo shell-$((6*7))-ok' >&3
for _ in $(seq 120); do grep -qa "shell-42-ok" "$tmp/serial" && break; sleep 0.5; done
if grep -qa "shell-42-ok" "$tmp/serial"; then
    echo "PASS: guest-on-qemu-shell: the busybox shell runs commands on the console"
else
    echo "FAIL: guest-on-qemu-shell: no answer from the shell"; tail -c 1000 "$tmp/serial"
fi
exec 3>&-
