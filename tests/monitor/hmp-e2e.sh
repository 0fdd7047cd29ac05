#!/usr/bin/env bash
# HMP end to end: vireo-system-x86_64 runs a tiny guest under KVM (or, without a
# usable /dev/kvm, the machine with no CPU: -accel none) with -monitor stdio; the
# test types commands and checks the answers.
#   tests/monitor/hmp-e2e.sh BUILD_DIR
set -u
build=$1
accel=kvm
if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
    accel=none
    echo "SKIP: hmp-kvm (no usable /dev/kvm: HMP is tested on the machine without CPUs)"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Commands one at a time, with pauses, as a person would type them.
{
    for c in "info status" "stop" "info status" "info registers" "cont" "info status" \
             "info qtree" "info mtree" "system_reset" "info nonsense" "quit"; do
        sleep 0.5
        echo "$c"
    done
    sleep 5
} | timeout 120 "$build/vireo-system-x86_64" -accel $accel -display none -serial null \
        -bios "$build/tests/kvm/spin.bin" -monitor stdio >"$tmp/out" 2>&1
status=$?
out=$(tr -d '\r' <"$tmp/out")
check() {
    if grep -qE -- "$2" <<<"$out"; then echo "PASS: hmp (-accel $accel): $1"; else
        echo "FAIL: hmp (-accel $accel): $1 (no '$2')"; fi
}
check "banner and prompt" '^Vireo monitor'
check "info status running" 'VM status: running'
check "stop, info status paused" 'VM status: paused'
if [ $accel = kvm ]; then
    check "info registers" 'RIP=[0-9a-f]{16}'
    check "info registers segments" '^CS =f000'
else
    check "info registers without CPUs" 'no CPUs'
fi
check "info qtree" 'dev: i440FX'
check "info qtree properties" 'dev: isa-serial'
check "info mtree" 'address-space: memory'
if [ "$(grep -c 'VM status: running' <<<"$out")" -ge 2 ]; then
    echo "PASS: hmp (-accel $accel): running again after cont"
else
    echo "FAIL: hmp (-accel $accel): not running again after cont"
fi
check "unknown info item" "unknown item 'nonsense'"
if [ $status -eq 0 ]; then echo "PASS: hmp (-accel $accel): quit ends the program with status 0"; else
    echo "FAIL: hmp (-accel $accel): exit status $status after quit"; tail -n 20 <<<"$out"; fi
