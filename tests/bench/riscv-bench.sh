#!/usr/bin/env bash
# make bench: riscv64 user-mode speed.  CPU-bound kernels (tests/bench/riscv-kernels)
# and Lua from Debian's source package, built natively and for riscv64, run
# natively, under vireo-riscv64 and under Debian's qemu-riscv64 in one run; the
# median of RUNS runs each.  Prints a markdown table (kept in docs/performance.md).
#   tests/bench/riscv-bench.sh BUILD_DIR [RUNS]
set -u
build=$(cd "$1" && pwd); runs=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
vireo=$build/vireo-riscv64
qemu=$(command -v qemu-riscv64-static || command -v qemu-riscv64 || true)
sysroot=/usr/riscv64-linux-gnu
if [ ! -x "$vireo" ]; then echo "SKIP: riscv bench (no $vireo)"; exit 0; fi
if [ -z "$qemu" ]; then echo "SKIP: riscv bench (qemu-riscv64 not installed)"; exit 0; fi
kdir=$build/bench/riscv
mkdir -p "$kdir"
for k in int branchy memory float; do
    gcc -O2 -o "$kdir/$k.native" "$here/riscv-kernels/$k.c" -lm
    riscv64-linux-gnu-gcc -O2 -static -o "$kdir/$k.rv" "$here/riscv-kernels/$k.c" -lm
done
bin=$("$here/../user/srcpkgs.sh" 2>/dev/null) || bin=
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# median wall time in seconds of RUNS runs of a command (stdout kept in $tmp/out)
median() {
    local t=()
    for ((r = 0; r < runs; r++)); do
        local s e
        s=$(date +%s%N)
        "$@" >"$tmp/out" 2>/dev/null </dev/null || echo "bench: '$*' failed" >&2
        e=$(date +%s%N)
        t+=($(( (e - s) / 1000 )))
    done
    printf '%s\n' "${t[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p" | awk '{printf "%.3f", $1 / 1e6}'
}

rows=()
add() {   # name, native cmd..., --, riscv cmd...
    local name=$1; shift
    local native=() rv=()
    while [ "$1" != -- ]; do native+=("$1"); shift; done; shift
    rv=("$@")
    local tn tv tq
    tn=$(median "${native[@]}")
    tv=$(median "$vireo" -L "$sysroot" "${rv[@]}"); cp "$tmp/out" "$tmp/vireo.out"
    tq=$(median "$qemu" -L "$sysroot" "${rv[@]}")
    local same=yes; cmp -s "$tmp/out" "$tmp/vireo.out" || same=NO
    rows+=("$name $tn $tv $tq $same")
}
add int "$kdir/int.native" -- "$kdir/int.rv"
add branchy "$kdir/branchy.native" -- "$kdir/branchy.rv"
add memory "$kdir/memory.native" -- "$kdir/memory.rv"
add float "$kdir/float.native" -- "$kdir/float.rv"
if [ -n "$bin" ]; then
    add lua "$bin/native/lua" "$here/../user/lua/workload.lua" 10 -- "$bin/riscv64/lua" "$here/../user/lua/workload.lua" 10
fi

echo "### riscv64 user mode: vireo-riscv64 vs qemu-riscv64 vs native (median of $runs, seconds)"
echo
echo "| kernel | native | vireo | qemu | vireo speed / qemu | vireo speed / native | same output as qemu |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | --- |"
printf '%s\n' "${rows[@]}" | awk '
{ vq = $4 / $3; vn = $2 / $3; lq += log(vq); ln += log(vn); n++;
  printf "| %s | %.3f | %.3f | %.3f | %.2fx | %.0f%% | %s |\n", $1, $2, $3, $4, vq, 100 * vn, $5 }
END { if (n) printf "| **geometric mean** | | | | **%.2fx** | **%.0f%%** | |\n", exp(lq / n), 100 * exp(ln / n) }'
echo
# Translation cost: a large dynamically linked program that does little.
if [ -n "$bin" ]; then
    tn=$(median "$bin/native/lua" -v)
    tv=$(median "$vireo" -L "$sysroot" "$bin/riscv64/lua" -v)
    tq=$(median "$qemu" -L "$sysroot" "$bin/riscv64/lua" -v)
    echo "Start-up and translation cost, dynamically linked \`lua -v\` (ld.so + libc + lua):"
    echo "native ${tn} s, vireo ${tv} s, qemu ${tq} s."
fi
