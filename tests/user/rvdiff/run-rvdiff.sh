#!/usr/bin/env bash
# Random-instruction differential test: blocks from cpu/riscv's generator run in
# a guest harness under Debian's qemu-riscv64 and under vireo-riscv64 (both JIT
# backends); every register, fcsr and the scratch memory must agree.
#   tests/user/rvdiff/run-rvdiff.sh BUILD_DIR SEED COUNT [SECONDS]
# With SECONDS it stops after the chunk that crosses that much time (make fuzz).
# Exits non-zero if any chunk differs.
set -u
build=$(cd "$1" && pwd) seed=$2 count=$3 budget=${4:-0}
echo "rvdiff: seed $seed, up to $count blocks${4:+ or $budget s} (rerun a chunk: rvgen SEED COUNT 256 > blocks)"
vireo=$build/vireo-riscv64 gen=$build/user/rvgen harness=$build/user/rvdiff-harness
qemu=$(command -v qemu-riscv64-static || command -v qemu-riscv64 || true)
if [ ! -x "$vireo" ] || [ ! -x "$gen" ]; then echo "SKIP: rvdiff (cpu/riscv or jit not built)"; exit 0; fi
if [ -z "$qemu" ]; then echo "SKIP: rvdiff (qemu-riscv64 not installed)"; exit 0; fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# In chunks, so that one crash does not hide the other blocks' results.
chunk=50 failed=0 t0=$SECONDS
for ((start = 0; start < count; start += chunk)); do
    if [ "$budget" -gt 0 ] && [ $((SECONDS - t0)) -ge "$budget" ]; then
        echo "rvdiff: $start blocks in $((SECONDS - t0)) s"
        break
    fi
    n=$((count - start < chunk ? count - start : chunk))
    s=$((seed + start))
    "$gen" "$s" "$n" 256 >"$tmp/blocks" || { echo "FAIL: rvdiff generator (seed $s)"; failed=1; continue; }
    "$qemu" "$harness" "$tmp/blocks" >"$tmp/ref" 2>&1; qrc=$?
    for be in native interp; do
        timeout 600 "$vireo" -accel tcg,backend=$be "$harness" "$tmp/blocks" >"$tmp/$be" 2>&1; rc=$?
        if [ $rc = $qrc ] && cmp -s "$tmp/ref" "$tmp/$be"; then
            echo "PASS: rvdiff seeds $s..$((s + n - 1)) [$be] ($n blocks)"
        else
            first=$(diff "$tmp/ref" "$tmp/$be" | head -n 1)
            blk=$(head -n "$(echo "$first" | sed 's/[^0-9].*//')" "$tmp/ref" 2>/dev/null | grep '^block' | tail -n 1)
            failed=1
            echo "FAIL: rvdiff seeds $s..$((s + n - 1)) [$be] (exit $rc, qemu $qrc; first difference in ${blk:-?}: rerun with rvgen $s $n)"
            diff "$tmp/ref" "$tmp/$be" | head -n 8
        fi
    done
done
exit $failed
