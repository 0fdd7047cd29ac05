#!/usr/bin/env bash
# tests/user/hostile/escape.c under vireo-riscv64, both backends: guest addresses
# below 0 and above the guest space must fault (every probe), never read host memory.
#   tests/user/hostile/run-escape.sh BUILD_DIR
set -u
build=$(cd "$1" && pwd)
vireo=$build/vireo-riscv64
if [ ! -x "$vireo" ]; then echo "SKIP: user-escape (no $vireo: cpu/riscv or jit not built)"; exit 0; fi
for backend in native interp; do
    out=$("$vireo" -accel "tcg,backend=$backend" "$build/user/hostile/escape" 2>&1 </dev/null); rc=$?
    if [ $rc = 0 ] && [ "$(grep -c ': 0 readable' <<<"$out")" = 2 ]; then
        echo "PASS: escape [$backend]: no host memory reachable"
    else
        echo "FAIL: escape [$backend] (exit $rc): $(tr '\n' ' ' <<<"$out")"
    fi
done
