#!/usr/bin/env bash
# HMP end to end: vireo-system-x86_64 runs a tiny guest under KVM with
# -monitor stdio; the test types commands and checks the answers.
#   tests/monitor/hmp-e2e.sh BUILD_DIR
set -u
build=$1
if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
    echo "SKIP: hmp (no usable /dev/kvm on this host)"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Commands one at a time, with pauses, as a person would type them.
{
    for c in "info status" "stop" "info status" "info registers" "cont" "info status" \
             "info qtree" "info mtree" "system_reset" "info nonsense" "quit"; do
        sleep 1
        echo "$c"
    done
    sleep 30
} | timeout 120 "$build/vireo-system-x86_64" -display none -serial null \
        -bios "$build/tests/kvm/spin.bin" -monitor stdio >"$tmp/out" 2>&1
status=$?
out=$(tr -d '\r' <"$tmp/out")
check() {
    if grep -qE -- "$2" <<<"$out"; then echo "PASS: hmp: $1"; else echo "FAIL: hmp: $1 (no '$2')"; fi
}
check "banner and prompt" '^Vireo monitor'
check "info status running" 'VM status: running'
check "stop, info status paused" 'VM status: paused'
check "info registers" 'RIP=[0-9a-f]{16}'
check "info registers segments" '^CS =f000'
check "info qtree" 'isa-debug-exit|isa-serial|i440FX|piix3'
check "info mtree" 'address-space: memory'
check "unknown info item" "unknown item 'nonsense'"
if [ $status -eq 0 ]; then echo "PASS: hmp: quit ends the program with status 0"; else
    echo "FAIL: hmp: exit status $status after quit"; tail -n 20 <<<"$out"; fi
