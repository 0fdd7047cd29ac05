#!/usr/bin/env bash
# tests/user/hostile/race.c and frame-race.c under vireo-riscv64, both backends:
# every call must succeed or fail with EFAULT, every signal frame be written or
# the guest die of SIGSEGV, and the emulator must never fault itself.
#   tests/user/hostile/run-race.sh BUILD_DIR ITERATIONS
set -u
build=$(cd "$1" && pwd); n=$2
vireo=$build/vireo-riscv64
if [ ! -x "$vireo" ]; then echo "SKIP: user-race (no $vireo: cpu/riscv or jit not built)"; exit 0; fi
for backend in native interp; do
    for prog in "race $n" frame-race; do
        set -- $prog
        out=$("$vireo" -accel "tcg,backend=$backend" "$build/user/hostile/$1" "${@:2}" 2>&1 </dev/null); rc=$?
        if [ $rc = 0 ] && ! grep -qE 'in the emulator itself|Sanitizer|runtime error' <<<"$out"; then
            echo "PASS: $1 [$backend]: $out"
        else
            echo "FAIL: $1 [$backend] (exit $rc): $(tail -n 3 <<<"$out")"
        fi
    done
done
