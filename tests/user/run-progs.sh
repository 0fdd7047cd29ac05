#!/usr/bin/env bash
# Run the guest test programs (tests/user/progs/*.c, built static and dynamic for
# riscv64) under vireo-riscv64 with both JIT backends and compare stdout and the
# exit status with Debian's qemu-riscv64 as the reference.
#   tests/user/run-progs.sh BUILD_DIR [PROGRAM...]
# A program whose source says "vireo-test: selfcheck" is judged by its own checks
# (exit 0 and a last line "NAME: ok"); "vireo-test-run: ARGS" lines give the runs.
set -u
build=$(cd "$1" && pwd); shift
vireo=$build/vireo-riscv64
progs=$build/user/progs
qemu=$(command -v qemu-riscv64-static || command -v qemu-riscv64 || true)
sysroot=/usr/riscv64-linux-gnu
src=$(dirname "$0")/progs
if [ ! -x "$vireo" ]; then echo "SKIP: user-progs (no $vireo: cpu/riscv or jit not built)"; exit 0; fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
names=${*:-$(cd "$src" && ls *.c | sed 's/\.c$//')}
for name in $names; do
    selfcheck=0; grep -q 'vireo-test: selfcheck' "$src/$name.c" && selfcheck=1
    runs=$(sed -n 's/.*vireo-test-run: *\(.*\)$/\1/p' "$src/$name.c" | sed 's/ *\*\/$//')
    [ -z "$runs" ] && runs="-"
    while IFS= read -r args; do
        [ "$args" = "-" ] && args=
        for link in static dyn; do
            bin=$progs/$link/$name
            what="$name${args:+ $args} ($link)"
            if [ ! -x "$bin" ]; then echo "FAIL: $what (not built)"; continue; fi
            ref_out=$tmp/ref.out; ref_rc=
            if [ $selfcheck = 0 ]; then
                if [ -z "$qemu" ]; then echo "SKIP: $what (qemu-riscv64 not installed)"; continue; fi
                # shellcheck disable=SC2086
                (cd "$tmp" && timeout 300 "$qemu" -L "$sysroot" "$bin" $args >"$ref_out" 2>/dev/null); ref_rc=$?
            fi
            for backend in native interp; do
                out=$tmp/vireo.out
                # shellcheck disable=SC2086
                (cd "$tmp" && timeout 300 "$vireo" -L "$sysroot" -accel tcg,backend=$backend "$bin" $args >"$out" 2>"$tmp/err"); rc=$?
                if [ $selfcheck = 1 ]; then
                    if [ $rc = 0 ] && [ "$(tail -n 1 "$out")" = "$name: ok" ]; then
                        echo "PASS: $what [$backend]"
                    else
                        echo "FAIL: $what [$backend] (exit $rc)"; tail -n 5 "$out" "$tmp/err"
                    fi
                elif [ $rc = "$ref_rc" ] && cmp -s "$out" "$ref_out"; then
                    echo "PASS: $what [$backend] (exit $rc, $(wc -l <"$out") lines as qemu)"
                else
                    echo "FAIL: $what [$backend] (exit $rc, qemu $ref_rc)"
                    diff "$ref_out" "$out" | head -n 10
                    tail -n 5 "$tmp/err"
                fi
            done
        done
    done <<<"$runs"
done
