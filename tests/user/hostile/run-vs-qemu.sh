#!/usr/bin/env bash
# Run a static guest program of tests/user/hostile under vireo-riscv64 (both
# backends) and Debian's qemu-riscv64: stdout and exit status must be the same and
# the emulator must report nothing of its own.
#   tests/user/hostile/run-vs-qemu.sh BUILD_DIR NAME [ARGS...]
set -u
build=$(cd "$1" && pwd); name=$2; shift 2
vireo=$build/vireo-riscv64 bin=$build/user/hostile/$name
qemu=$(command -v qemu-riscv64-static || command -v qemu-riscv64 || true)
if [ ! -x "$vireo" ]; then echo "SKIP: $name (no $vireo: cpu/riscv or jit not built)"; exit 0; fi
if [ -z "$qemu" ]; then echo "SKIP: $name (qemu-riscv64 not installed)"; exit 0; fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$qemu" "$bin" "$@" >"$tmp/ref" 2>/dev/null </dev/null; ref_rc=$?
for backend in native interp; do
    "$vireo" -accel "tcg,backend=$backend" "$bin" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null; rc=$?
    if [ $rc = $ref_rc ] && cmp -s "$tmp/out" "$tmp/ref" && ! grep -qE 'in the emulator itself|Sanitizer|runtime error' "$tmp/err"; then
        echo "PASS: $name [$backend] (exit $rc, output as qemu-riscv64: $(tail -n 1 "$tmp/out"))"
    else
        echo "FAIL: $name [$backend] (exit $rc, qemu $ref_rc)"; diff "$tmp/ref" "$tmp/out" | head -5; tail -n 3 "$tmp/err"
    fi
done
