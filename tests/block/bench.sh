#!/bin/bash
# vireo-img against qemu-img in the same run: medians of RUNS timings and the
# ratio qemu/vireo (above 1 = Vireo faster).  Prints a markdown table.
#   tests/block/bench.sh BUILD_DIR [RUNS]
set -u
B=${1:-build}
RUNS=${2:-3}
V=$(realpath "$B/vireo-img")
if ! command -v qemu-img >/dev/null; then
    echo "SKIP: block bench (qemu-img not installed; package qemu-utils)"
    exit 0
fi
T=$(mktemp -d "${TMPDIR:-/var/tmp}/vireo-bench-XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

# A partly filled 4 GiB image: 24 extents of 8 MiB spread over the disk, half
# random bytes, half compressible text-like data; the rest is holes.
python3 - <<'EOF'
import os, random
random.seed(3)
with open('src.raw', 'wb') as f:
    f.truncate(4 << 30)
    line = b''.join(b'block %06d of the vireo benchmark image\n' % i for i in range(4096))
    for i in range(24):
        f.seek(i * (170 << 20) + (i % 5) * 4096)
        if i % 2:
            f.write(os.urandom(8 << 20))
        else:
            f.write((line * (1 + (8 << 20) // len(line)))[:8 << 20])
EOF

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# pair CLEANUP QCMD -- VCMD: RUNS alternating runs of both; sets q and v to the
# median wall times, qcpu and vcpu to the median CPU times (user + system, from
# /usr/bin/time; alternating keeps page cache and machine load fair).
pair() {
    local clean=$1; shift
    local qc=() vc=() seen=0
    for a in "$@"; do
        if [ "$a" = -- ]; then seen=1; elif [ $seen = 0 ]; then qc+=("$a"); else vc+=("$a"); fi
    done
    : > qt; : > vt; : > qct; : > vct
    for _ in $(seq "$RUNS"); do
        for who in q v; do
            eval "$clean"
            sync
            local t0; t0=$(now)
            if [ $who = q ]; then $TIME "${qc[@]}" >/dev/null 2>&1 || echo "error: ${qc[*]}" >&2
            else $TIME "${vc[@]}" >/dev/null 2>&1 || echo "error: ${vc[*]}" >&2; fi
            echo "$(now) - $t0" | bc >> ${who}t
            [ -s cpu.txt ] && tail -1 cpu.txt | bc >> ${who}ct
        done
    done
    q=$(median < qt); v=$(median < vt)
    qcpu=$(median < qct); vcpu=$(median < vct)
}
TIME=
[ -x /usr/bin/time ] && TIME="/usr/bin/time -f %U+%S -o cpu.txt"
row() {
    local name=$1 q=$2 v=$3
    printf '| %s | %.3f | %.3f | %.2f | %.2f | %.2f |\n' "$name" "$q" "$v" "$(echo "$q / $v" | bc -l)" \
        "${qcpu:-0}" "${vcpu:-0}"
}

echo "| block operation (median of $RUNS) | qemu-img s | vireo-img s | ratio qemu/vireo | qemu-img CPU s | vireo-img CPU s |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
pair "rm -f q.qcow2 v.qcow2" qemu-img convert -O qcow2 src.raw q.qcow2 -- "$V" convert -O qcow2 src.raw v.qcow2
row "convert raw->qcow2, 4 GiB with 192 MiB data" "$q" "$v"
qemu-img convert -O qcow2 src.raw q.qcow2
pair "rm -f q.raw v.raw" qemu-img convert -O raw q.qcow2 q.raw -- "$V" convert -O raw q.qcow2 v.raw
row "convert qcow2->raw, same image" "$q" "$v"
rm -f q.raw v.raw
pair "rm -f qc.qcow2 vc.qcow2" qemu-img convert -c -O qcow2 src.raw qc.qcow2 -- "$V" convert -c -O qcow2 src.raw vc.qcow2
row "convert -c (zlib) raw->qcow2, same image" "$q" "$v"
rm -f qc.qcow2 vc.qcow2
# 4 KiB requests, 64 in flight, scattered: a step of 104729 * 4 KiB wraps
# around the 4 GiB disk (the same offsets for both tools).
N=40000
S=$((104729 * 4096))
cp q.qcow2 b.qcow2
pair ":" qemu-img bench -f qcow2 -c $N -d 64 -s 4k -S $S b.qcow2 -- "$V" bench -f qcow2 -c $N -d 64 -s 4k -S $S b.qcow2
printf '| %s | %.0f IOPS | %.0f IOPS | %.2f | %.2f | %.2f |\n' "scattered 4 KiB read, qcow2, depth 64" \
    "$(echo "$N / $q" | bc -l)" "$(echo "$N / $v" | bc -l)" "$(echo "$q / $v" | bc -l)" \
    "${qcpu:-0}" "${vcpu:-0}"
pair "rm -f b.qcow2; qemu-img create -q -f qcow2 b.qcow2 4G" qemu-img bench -w -f qcow2 -c $N -d 64 -s 4k -S $S b.qcow2 -- "$V" bench -w -f qcow2 -c $N -d 64 -s 4k -S $S b.qcow2
printf '| %s | %.0f IOPS | %.0f IOPS | %.2f | %.2f | %.2f |\n' "scattered 4 KiB write (allocating, empty 4 GiB image), qcow2, depth 64" \
    "$(echo "$N / $q" | bc -l)" "$(echo "$N / $v" | bc -l)" "$(echo "$q / $v" | bc -l)" \
    "${qcpu:-0}" "${vcpu:-0}"
