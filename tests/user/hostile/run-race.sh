#!/usr/bin/env bash
# tests/user/hostile/race.c under vireo-riscv64, both backends: every call must
# succeed or fail with EFAULT, and the emulator must not fault itself.
#   tests/user/hostile/run-race.sh BUILD_DIR ITERATIONS
set -u
build=$(cd "$1" && pwd); n=$2
vireo=$build/vireo-riscv64
if [ ! -x "$vireo" ]; then echo "SKIP: user-race (no $vireo: cpu/riscv or jit not built)"; exit 0; fi
for backend in native interp; do
    out=$("$vireo" -accel "tcg,backend=$backend" "$build/user/hostile/race" "$n" 2>&1 </dev/null); rc=$?
    if [ $rc = 0 ] && ! grep -qE 'in the emulator itself|Sanitizer|runtime error' <<<"$out"; then
        echo "PASS: race [$backend]: $out"
    else
        echo "FAIL: race [$backend] (exit $rc): $(tail -n 3 <<<"$out")"
    fi
done
