#!/usr/bin/env bash
# Hostile ELF files (tests/user/hostile/mkelf.c) given to vireo-riscv64: each broken
# one must give exactly one line on stderr, naming the file and what is wrong, and
# exit status 1 (never a crash, a sanitizer report or a hang); the good ones must run
# and exit as they say, as they do under Debian's qemu-riscv64.
#   tests/user/hostile/run-elf.sh BUILD_DIR
set -u
build=$(cd "$1" && pwd)
vireo=$build/vireo-riscv64
mkelf=$build/user/hostile/mkelf
qemu=$(command -v qemu-riscv64-static || command -v qemu-riscv64 || true)
if [ ! -x "$vireo" ]; then echo "SKIP: user-hostile-elf (no $vireo: cpu/riscv or jit not built)"; exit 0; fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
dir=$(realpath "$tmp")
"$mkelf" "$dir" || { echo "FAIL: mkelf"; exit 1; }
mkfifo "$dir/a-fifo" && echo "a-fifo not a regular file" >>"$dir/cases"
while read -r name expect; do
    out=$tmp/out err=$tmp/err
    timeout 60 "$vireo" -L "$dir" "$dir/$name" >"$out" 2>"$err" </dev/null; rc=$?
    if grep -qE 'Sanitizer|runtime error|in the emulator itself' "$err"; then
        echo "FAIL: $name (emulator error, exit $rc)"; head -n 20 "$err"; continue
    fi
    case $expect in
    exit:*)
        want=${expect#exit:}
        if [ "$rc" != "$want" ] || [ -s "$err" ]; then
            echo "FAIL: $name runs (exit $rc, want $want)"; head -n 5 "$err"; continue
        fi
        if [ -n "$qemu" ]; then
            timeout 60 "$qemu" -L "$dir" "$dir/$name" </dev/null >/dev/null 2>&1; qrc=$?
            if [ "$qrc" != "$want" ]; then echo "FAIL: $name (qemu-riscv64 exits $qrc, want $want)"; continue; fi
            echo "PASS: $name runs and exits $rc (as under qemu-riscv64)"
        else
            echo "PASS: $name runs and exits $rc (qemu-riscv64 not installed to compare)"
        fi
        ;;
    *)
        want=${expect//DIR/$dir}
        lines=$(wc -l <"$err")
        msg=$(head -n 1 "$err")
        if [ "$rc" != 1 ]; then
            echo "FAIL: $name (exit $rc, want 1)"; head -n 5 "$err"
        elif [ "$lines" != 1 ] || [ -s "$out" ]; then
            echo "FAIL: $name ($lines lines on stderr, $(wc -c <"$out") bytes on stdout; want one line)"; head -n 5 "$err"
        elif [[ $msg != "vireo-riscv64: $dir/$name: "* ]]; then
            echo "FAIL: $name (message does not start with the file's name: $msg)"
        elif [[ $msg != *"$want"* ]]; then
            echo "FAIL: $name (message lacks '$want': $msg)"
        else
            echo "PASS: $name: ${msg#"vireo-riscv64: $dir/$name: "}"
        fi
        ;;
    esac
done <"$dir/cases"
