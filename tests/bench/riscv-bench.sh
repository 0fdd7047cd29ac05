#!/usr/bin/env bash
# make bench: riscv64 user-mode speed.  CPU-bound kernels (tests/bench/riscv-kernels)
# and real programs from Debian source packages (Lua, zlib's minigzip, SQLite's
# shell: tests/user/srcpkgs.sh), built natively and for riscv64, run natively, under
# vireo-riscv64 and under Debian's qemu-riscv64 in one run, the three alternating in
# each round; medians of RUNS rounds (default 5) of CPU time (user+sys) and of wall
# time.  Prints a markdown table (kept in docs/performance.md).
#   tests/bench/riscv-bench.sh BUILD_DIR [RUNS]
set -u
build=$(cd "$1" && pwd); runs=${2:-5}
here=$(cd "$(dirname "$0")" && pwd)
user=$(cd "$here/../user" && pwd)
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
bin=$("$user/srcpkgs.sh" 2>/dev/null) || { bin=; echo "bench: Debian source packages unavailable; kernels only" >&2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# One run of a command: stdin from $input, in $tmp after $pre; appends "cpu wall"
# (seconds) to the file $1 and leaves stdout in $1.out.  CPU time is perf's
# task-clock (every thread, user+sys) when perf works, else /usr/bin/time's.
input=/dev/null pre=:
have_perf=0; perf stat -x, -e task-clock -o /dev/null true 2>/dev/null && have_perf=1
# Every run on the same CPU (BENCH_CPU, default the first one this script may
# use): the virtual CPUs of the machines this was built on differ by 20-25% in
# speed (native, Vireo and qemu alike), so a row whose runs landed on different
# CPUs compared the CPUs, not the emulators.
pin=()
if command -v taskset >/dev/null; then
    cpu=${BENCH_CPU:-$(taskset -pc $$ | sed 's/.*: *//; s/[-,].*//')}
    taskset -c "$cpu" true 2>/dev/null && pin=(taskset -c "$cpu")
fi
run1() {
    local log=$1; shift
    set -- "${pin[@]}" "$@"
    (cd "$tmp" && $pre)
    local s e cpu
    s=$(date +%s%N)
    if [ $have_perf = 1 ]; then
        (cd "$tmp" && perf stat -x, -e task-clock -o "$tmp/time" "$@" <"$input" >"$log.out" 2>/dev/null) \
            || echo "bench: '$*' failed" >&2
        cpu=$(awk -F, '/task-clock/ { printf "%.4f", $1 / 1000 }' "$tmp/time")
    else
        (cd "$tmp" && /usr/bin/time -f '%U %S' -o "$tmp/time" "$@" <"$input" >"$log.out" 2>/dev/null) \
            || echo "bench: '$*' failed" >&2
        cpu=$(awk '{ printf "%.4f", $1 + $2 }' "$tmp/time")
    fi
    e=$(date +%s%N)
    echo "$cpu $(( (e - s) / 1000 ))" | awk '{ printf "%.4f %.4f\n", $1, $2 / 1e6 }' >>"$log"
}
med() {   # median of column $2 of file $1
    sort -n -k "$2" "$1" | awk -v c="$2" -v n="$(wc -l <"$1")" 'NR == int((n + 1) / 2) { print $c }'
}

rows=()
add() {   # name, native cmd..., --, riscv cmd...
    local name=$1; shift
    local native=() rv=()
    while [ "$1" != -- ]; do native+=("$1"); shift; done; shift
    rv=("$@")
    rm -f "$tmp"/n "$tmp"/v "$tmp"/q
    for ((r = 0; r < runs; r++)); do
        run1 "$tmp/n" "${native[@]}"
        run1 "$tmp/v" "$vireo" -L "$sysroot" "${rv[@]}"
        run1 "$tmp/q" "$qemu" -L "$sysroot" "${rv[@]}"
    done
    local same=yes
    cmp -s "$tmp/v.out" "$tmp/q.out" || same=NO
    if cmp -s "$tmp/v.out" "$tmp/n.out"; then same="$same, yes"; else same="$same, differs"; fi
    rows+=("$name $(med "$tmp/n" 1) $(med "$tmp/v" 1) $(med "$tmp/q" 1) $(med "$tmp/n" 2) $(med "$tmp/v" 2) $(med "$tmp/q" 2) $same")
}
add int "$kdir/int.native" -- "$kdir/int.rv"
add branchy "$kdir/branchy.native" -- "$kdir/branchy.rv"
add memory "$kdir/memory.native" -- "$kdir/memory.rv"
add float "$kdir/float.native" -- "$kdir/float.rv"
if [ -n "$bin" ]; then
    add lua "$bin/native/lua" "$user/lua/workload.lua" 10 -- "$bin/riscv64/lua" "$user/lua/workload.lua" 10
    # zlib: minigzip -9 of 2.6 MB of generated text; -d of 20 copies of the result
    "$bin/native/lua" -e 'for i = 1, 100000 do io.write(string.format("%d %x %s\n", i, i * 2654435761 % 4294967296, ("z"):rep(i % 37))) end' >"$tmp/data"
    "$bin/native/minigzip" -9 <"$tmp/data" >"$tmp/data1.gz"
    for i in $(seq 20); do cat "$tmp/data1.gz"; done >"$tmp/data.gz"   # 20 members
    input=$tmp/data
    add "zlib minigzip -9" "$bin/native/minigzip" -9 -- "$bin/riscv64/minigzip" -9
    input=$tmp/data.gz
    add "zlib minigzip -d" "$bin/native/minigzip" -d -- "$bin/riscv64/minigzip" -d
    # SQLite: the scripted workload at scale 5, on a fresh file database each run
    input=$user/sqlite/workload.sql pre="rm -f b.db b.db-wal b.db-shm"
    add sqlite "$bin/native/sqlite3" -cmd ".parameter set @scale 5" b.db -- \
        "$bin/riscv64/sqlite3" -cmd ".parameter set @scale 5" b.db
    input=/dev/null pre=:
fi

echo "### riscv64 user mode: vireo-riscv64 vs qemu-riscv64 vs native"
echo
echo "CPU time (user+sys) in seconds, median of $runs, wall time in brackets; the ratios are"
echo "from CPU time. Output: vireo's stdout equals qemu's, and native's."
echo
echo "| kernel | native | vireo | qemu | vireo speed / qemu | vireo speed / native | output = qemu, native |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | --- |"
printf '%s\n' "${rows[@]}" | awk '
{ n1 = NF - 8; name = $1; for (i = 2; i <= n1; i++) name = name " " $i;
  cn = $(n1 + 1); cv = $(n1 + 2); cq = $(n1 + 3); wn = $(n1 + 4); wv = $(n1 + 5); wq = $(n1 + 6);
  same = $(n1 + 7) " " $(n1 + 8);
  if (cv <= 0) cv = 0.001; if (cn <= 0) cn = 0.001;
  vq = cq / cv; vn = cn / cv; lq += log(vq); ln += log(vn); k++;
  printf "| %s | %.3f (%.3f) | %.3f (%.3f) | %.3f (%.3f) | %.2fx | %.0f%% | %s |\n",
         name, cn, wn, cv, wv, cq, wq, vq, 100 * vn, same }
END { if (k) printf "| **geometric mean** | | | | **%.2fx** | **%.0f%%** | |\n", exp(lq / k), 100 * exp(ln / k) }'
echo
# Translation cost: large dynamically linked programs that do little.
if [ -n "$bin" ]; then
    echo "Start-up and translation cost, dynamically linked programs that print their version"
    echo "(ld.so, libc and the program loaded, translated and run to exit); CPU (wall) s:"
    echo
    for p in "lua -v" "sqlite3 --version"; do
        set -- $p
        rm -f "$tmp"/n "$tmp"/v "$tmp"/q
        for ((r = 0; r < runs; r++)); do
            run1 "$tmp/n" "$bin/native/$1" "$2"
            run1 "$tmp/v" "$vireo" -L "$sysroot" "$bin/riscv64/$1" "$2"
            run1 "$tmp/q" "$qemu" -L "$sysroot" "$bin/riscv64/$1" "$2"
        done
        echo "- \`$p\`: native $(med "$tmp/n" 1) ($(med "$tmp/n" 2)), vireo $(med "$tmp/v" 1) ($(med "$tmp/v" 2)), qemu $(med "$tmp/q" 1) ($(med "$tmp/q" 2)); output = qemu: $(cmp -s "$tmp/v.out" "$tmp/q.out" && echo yes || echo NO)"
    done
fi
