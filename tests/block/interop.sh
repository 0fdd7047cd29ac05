#!/bin/bash
# Interoperability of vireo-img / libblock with Debian's qemu-img, both ways.
#   tests/block/interop.sh BUILD_DIR
# Prints PASS:/FAIL:/SKIP: lines.  Images are small and sparse.
set -u
B=${1:-build}
V=$(realpath "$B/vireo-img")
DAMAGE=$(realpath "$(dirname "$0")/damage-qcow2.py")
IO=$(realpath "$B/tests/blkio")
if ! command -v qemu-img >/dev/null || ! command -v jq >/dev/null; then
    echo "SKIP: block interop (qemu-img or jq not installed; packages qemu-utils, jq)"
    exit 77
fi
Q=qemu-img
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
ok() { echo "PASS: $*"; }
bad() { echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@" >"$T/err" 2>&1; then ok "$what"; else bad "$what: $(head -c 300 "$T/err")"; fi; }

# JSON equality after parsing (same keys, same values); jq starts in milliseconds
# where python3 takes up to a second on a loaded machine, and this runs ~60 times
json_eq() {
    local a b
    a=$(jq -S -c . "$1") && b=$(jq -S -c . "$2") || return 1
    [ "$a" = "$b" ] && return 0
    echo "vireo: $a"; echo "qemu:  $b"
    return 1
}
# Writes with qemu-io (reference writer)
qwrite() { local img=$1; shift; local a=(); for c in "$@"; do a+=(-c "$c"); done; qemu-io -f qcow2 "${a[@]}" "$img" >/dev/null; }

# ---- 1. qemu-img writes, Vireo reads: every cluster size, v2 and v3 --------------------
for cs in 512 1k 2k 4k 8k 16k 32k 64k 128k 256k 512k 1M 2M; do
    for compat in 0.10 1.1; do
        img=q-$cs-$compat.qcow2
        $Q create -q -f qcow2 -o cluster_size=$cs,compat=$compat $img 8M
        qwrite $img "write -P 0x11 0 4k" "write -P 0x22 100k 3k" "write -P 0x33 5M 1M" \
               "write -z 5200k 64k" "write -P 0x44 8388096 512"
        $Q convert -O raw $img ref.raw
        $V convert -O raw $img out.raw 2>"$T/err"
        if cmp -s ref.raw out.raw; then ok "read qemu qcow2 cluster_size=$cs compat=$compat"
        else bad "read qemu qcow2 cluster_size=$cs compat=$compat"; fi
        $V info --output=json $img > v.json; $Q info --output=json $img > q.json
        check "info json cluster_size=$cs compat=$compat" json_eq v.json q.json
        case $cs in 512|64k|2M)
            $V check --output=json $img > v.json; $Q check --output=json $img > q.json
            check "check json cluster_size=$cs compat=$compat" json_eq v.json q.json;;
        esac
        rm -f $img ref.raw out.raw
    done
done

# ---- 2. compressed images made by qemu-img convert -c ---------------------------------
# compressible 4 KiB blocks at random, and 512 KiB of random bytes (stored as they are)
python3 -c "
import os, random; random.seed(7)
d = bytearray(6 << 20)
for i in range(0, len(d), 4096):
    if random.random() < 0.5: d[i:i+4096] = bytes([i % 251]) * 2048 + random.randbytes(64) * 32
d[(3 << 20) + 4096:(3 << 20) + 4096 + (512 << 10)] = os.urandom(512 << 10)
open('src.raw', 'wb').write(d)"
for cs in 512 4k 64k 2M; do
    $Q convert -q -c -O qcow2 -o cluster_size=$cs src.raw qc.qcow2
    $V convert -O raw qc.qcow2 out.raw
    if cmp -s src.raw out.raw; then ok "read qemu compressed qcow2 cluster_size=$cs"
    else bad "read qemu compressed qcow2 cluster_size=$cs"; fi
    # and Vireo's own compression, checked by qemu-img
    $V convert -c -O qcow2 -o cluster_size=$cs src.raw vc.qcow2
    check "vireo convert -c cluster_size=$cs passes qemu-img check" $Q check vc.qcow2
    check "vireo convert -c cluster_size=$cs equals source (qemu-img compare)" $Q compare src.raw vc.qcow2
    n=$($Q check --output=json vc.qcow2 | jq '."compressed-clusters" // 0')
    if [ "$n" -gt 0 ]; then ok "vireo convert -c cluster_size=$cs wrote $n compressed clusters"
    else bad "vireo convert -c cluster_size=$cs wrote no compressed clusters"; fi
done
rm -f qc.qcow2 vc.qcow2 out.raw

# ---- 3. backing chains made by qemu-img (relative names, other directories) ----------
mkdir -p d1/d2
$Q create -q -f raw d1/base.raw 4M
qemu-io -f raw -c "write -P 0x5a 0 4M" d1/base.raw >/dev/null
$Q create -q -f qcow2 -b base.raw -F raw d1/mid.qcow2
qwrite d1/mid.qcow2 "write -P 0x61 64k 64k" "write -z 1M 128k"
$Q create -q -f qcow2 -b ../mid.qcow2 -F qcow2 d1/d2/top.qcow2 6M
qwrite d1/d2/top.qcow2 "write -P 0x62 96k 8k" "write -P 0x63 5M 4k"
$Q convert -O raw d1/d2/top.qcow2 ref.raw
$V convert -O raw d1/d2/top.qcow2 out.raw
if cmp -s ref.raw out.raw; then ok "read qemu backing chain of depth 3"; else bad "read qemu backing chain of depth 3"; fi
$V info --output=json --backing-chain d1/d2/top.qcow2 > v.json
$Q info --output=json --backing-chain d1/d2/top.qcow2 > q.json
check "info --backing-chain json" json_eq v.json q.json
$V map --output=json d1/d2/top.qcow2 > v.json; $Q map --output=json d1/d2/top.qcow2 > q.json
check "map json over a backing chain" json_eq v.json q.json
# a loop is refused with a message, no crash
$Q create -q -f qcow2 -b loop2.qcow2 -F qcow2 -u loop1.qcow2 1M
$Q create -q -f qcow2 -b loop1.qcow2 -F qcow2 -u loop2.qcow2 1M
$V info --backing-chain loop1.qcow2 >/dev/null 2>err.txt; rc=$?
if [ $rc = 1 ] && grep -q loop err.txt; then ok "backing loop refused"; else bad "backing loop: rc=$rc $(cat err.txt)"; fi

# ---- 4. internal snapshots made by qemu-img ------------------------------------------
$Q create -q -f qcow2 snap.qcow2 4M
qwrite snap.qcow2 "write -P 0x71 0 1M"
$Q snapshot -c first snap.qcow2
qwrite snap.qcow2 "write -P 0x72 512k 1M"
$Q snapshot -c second snap.qcow2
qwrite snap.qcow2 "write -P 0x73 0 64k"
$V info --output=json snap.qcow2 > v.json; $Q info --output=json snap.qcow2 > q.json
check "info json with snapshots" json_eq v.json q.json
$Q convert -O raw -l first snap.qcow2 first.raw
cp snap.qcow2 snapv.qcow2
check "vireo snapshot -a on a qemu image" $V snapshot -a first snapv.qcow2
check "qemu-img check after vireo snapshot -a" $Q check snapv.qcow2
check "content after vireo snapshot -a equals qemu's view of the snapshot" $Q compare first.raw snapv.qcow2
check "vireo snapshot -d" $V snapshot -d second snapv.qcow2
check "qemu-img check after vireo snapshot -d" $Q check snapv.qcow2
$V snapshot -l snap.qcow2 | awk 'NR>2{print $1,$2}' > v.txt
$Q snapshot -l snap.qcow2 | awk 'NR>2{print $1,$2}' > q.txt
check "snapshot -l lists the same snapshots" cmp v.txt q.txt

# ---- 5. Vireo writes, qemu-img checks and compares ---------------------------------------
ops=(w:0:4k:0x11 w:60k:8k:0x22 w:1M:3M:0x33 z:2M:512k w:2200k:1k:0x44 w:4M:1:0x55 f)
for cs in 512 4k 64k 2M; do
    for compat in 0.10 1.1; do
        $V create -q -f qcow2 -o cluster_size=$cs,compat=$compat vw.qcow2 5M
        $V create -q -f raw vw.raw 5M
        $IO vw.qcow2 "${ops[@]}" && $IO vw.raw "${ops[@]}"
        check "vireo writes cluster_size=$cs compat=$compat pass qemu-img check" $Q check vw.qcow2
        check "vireo writes cluster_size=$cs compat=$compat equal (qemu-img compare)" $Q compare vw.raw vw.qcow2
        check "vireo compare agrees cluster_size=$cs compat=$compat" $V compare vw.raw vw.qcow2
        $V info --output=json vw.qcow2 > v.json; $Q info --output=json vw.qcow2 > q.json
        check "info json of a vireo image cluster_size=$cs compat=$compat" json_eq v.json q.json
        $V map --output=json vw.qcow2 > v.json; $Q map --output=json vw.qcow2 > q.json
        check "map json of a vireo image cluster_size=$cs compat=$compat" json_eq v.json q.json
    done
done
# many small allocations: L2 cache eviction and refcount table growth (512 B clusters)
$V create -q -f qcow2 -o cluster_size=512 many.qcow2 64M
$V create -q -f raw many.raw 64M
mops=(); for i in $(seq 0 300); do mops+=("w:$((i * 212992 + 512 * (i % 7))):700:$((i % 250 + 1))"); done
$IO many.qcow2 "${mops[@]}" && $IO many.raw "${mops[@]}"
check "512 B clusters, 301 scattered writes: qemu-img check" $Q check many.qcow2
check "512 B clusters, 301 scattered writes: qemu-img compare" $Q compare many.raw many.qcow2
rm -f many.qcow2 many.raw

# snapshots made by Vireo, read by qemu-img
$V create -q -f qcow2 vs.qcow2 4M
$IO vs.qcow2 w:0:2M:0x81 S:one w:1M:2M:0x82 S:two w:0:64k:0x83
check "vireo snapshots pass qemu-img check" $Q check vs.qcow2
$Q convert -O raw -l one vs.qcow2 one.raw
$V create -q -f raw exp.raw 4M; $IO exp.raw w:0:2M:0x81
check "qemu-img reads vireo snapshot 'one'" cmp one.raw exp.raw
$IO vs.qcow2 A:one D:two w:3M:4k:0x84 && $IO exp.raw w:3M:4k:0x84
check "vireo apply+delete+write pass qemu-img check" $Q check vs.qcow2
check "content after vireo apply" $Q compare exp.raw vs.qcow2
$V info --output=json vs.qcow2 > v.json; $Q info --output=json vs.qcow2 > q.json
check "info json of vireo snapshots" json_eq v.json q.json

# backing files made by Vireo: relative name, qemu-img reads through
mkdir -p vb
$V create -q -f qcow2 vb/base.qcow2 4M
$IO vb/base.qcow2 w:0:4M:0x91
$V create -q -f qcow2 -b base.qcow2 vb/ov.qcow2
$IO vb/ov.qcow2 w:1M:64k:0x92 z:2M:1M w:3M:100:0x93
$V create -q -f raw exp.raw 4M; $IO exp.raw w:0:4M:0x91 w:1M:64k:0x92 z:2M:1M w:3M:100:0x93
check "vireo overlay passes qemu-img check" $Q check vb/ov.qcow2
check "vireo overlay equals expected (qemu-img compare)" $Q compare exp.raw vb/ov.qcow2
$V info --output=json vb/ov.qcow2 > v.json; $Q info --output=json vb/ov.qcow2 > q.json
check "info json of a vireo overlay" json_eq v.json q.json
# commit into the base, then the base alone holds the data
cp vb/ov.qcow2 vb/ov2.qcow2
check "vireo commit" $V commit -q vb/ov.qcow2
check "base after commit passes qemu-img check" $Q check vb/base.qcow2
check "base after commit equals the overlay's view" $Q compare exp.raw vb/base.qcow2
check "overlay after commit passes qemu-img check" $Q check vb/ov.qcow2
# rebase: safe rebase onto nothing keeps the content
$V create -q -f qcow2 vb/b2.qcow2 4M; $IO vb/b2.qcow2 w:0:4M:0x91
$V create -q -f qcow2 -b b2.qcow2 vb/ov3.qcow2; $IO vb/ov3.qcow2 w:1M:64k:0x92
$V create -q -f raw exp3.raw 4M; $IO exp3.raw w:0:4M:0x91 w:1M:64k:0x92
check "vireo rebase -b '' (safe)" $V rebase -b "" vb/ov3.qcow2
check "rebased image passes qemu-img check" $Q check vb/ov3.qcow2
check "rebased image keeps its content" $Q compare exp3.raw vb/ov3.qcow2
bf=$($Q info --output=json vb/ov3.qcow2 | jq -r '."backing-filename" // "none"')
if [ "$bf" = none ]; then ok "rebase removed the backing file"; else bad "rebase left backing '$bf'"; fi
check "vireo rebase -u" $V rebase -u -b b2.qcow2 -F qcow2 vb/ov3.qcow2
check "qemu-img check after rebase -u" $Q check vb/ov3.qcow2

# resize and amend
$V create -q -f qcow2 rs.qcow2 1M; $IO rs.qcow2 w:0:1M:0xa1
check "resize +3M" $V resize -q rs.qcow2 +3M
$V resize rs.qcow2 512k >/dev/null 2>&1 && bad "shrink without --shrink accepted" || ok "shrink without --shrink refused"
check "resize --shrink 768k" $V resize -q --shrink rs.qcow2 768k
check "resize: qemu-img check" $Q check rs.qcow2
$V create -q -f raw rs.raw 768k; $IO rs.raw w:0:768k:0xa1
check "resize: content" $Q compare rs.raw rs.qcow2
check "amend compat=0.10" $V amend -o compat=0.10 rs.qcow2
check "amend: qemu-img check" $Q check rs.qcow2
c=$($Q info --output=json rs.qcow2 | jq -r '."format-specific".data.compat')
if [ "$c" = 0.10 ]; then ok "amend: qemu-img sees compat 0.10"; else bad "amend: compat $c"; fi
check "amend: content kept" $Q compare rs.raw rs.qcow2

# convert: raw with holes -> qcow2 stays sparse, and -B
$V create -q -f raw sp.raw 64M; $IO sp.raw w:1M:64k:0xb1 w:40M:4k:0xb2
check "convert sparse raw" $V convert -O qcow2 sp.raw sp.qcow2
n=$($Q check --output=json sp.qcow2 | jq '."allocated-clusters" // 0')
if [ "$n" = 2 ]; then ok "convert wrote only the 2 data clusters"; else bad "convert allocated $n clusters (want 2)"; fi
check "convert sparse raw: content" $Q compare sp.raw sp.qcow2
check "convert -p --progress=json" $V convert --progress=json -O raw sp.qcow2 sp2.raw
check "convert qcow2->raw content" cmp sp.raw sp2.raw
check "convert -B" $V convert -O qcow2 -B base.qcow2 -F qcow2 vb/ov2.qcow2 vb/ov4.qcow2
check "convert -B: qemu-img check" $Q check vb/ov4.qcow2
check "convert -B: content" $Q compare vb/ov2.qcow2 vb/ov4.qcow2

# ---- 6. check: leaks and corruptions found and repaired like qemu-img ------------------
# damaged images: tests/block/damage-qcow2.py
mk_damaged() {
    $V create -q -f qcow2 $1 2M
    $IO $1 w:0:256k:0xc1
    python3 "$DAMAGE" "$1" "$2"
}
mk_damaged leak.qcow2 leak
$V check leak.qcow2 >/dev/null 2>&1; v=$?; $Q check leak.qcow2 >/dev/null 2>&1; q=$?
if [ $v = 3 ] && [ $q = 3 ]; then ok "check: leak exit code 3 (like qemu-img)"; else bad "check: leak exit vireo=$v qemu=$q"; fi
$V check --output=json leak.qcow2 > v.json; $Q check --output=json leak.qcow2 > q.json
check "check json of a leaky image" json_eq v.json q.json
check "check -r leaks" $V check -q -r leaks leak.qcow2
check "after -r leaks: qemu-img check clean" $Q check leak.qcow2
mk_damaged corrupt.qcow2 corrupt
$V check corrupt.qcow2 >/dev/null 2>&1; v=$?; $Q check corrupt.qcow2 >/dev/null 2>&1; q=$?
if [ $v = 2 ] && [ $q = 2 ]; then ok "check: corruption exit code 2 (like qemu-img)"; else bad "check: corruption exit vireo=$v qemu=$q"; fi
check "check -r all" $V check -q -r all corrupt.qcow2
check "after -r all: qemu-img check clean" $Q check corrupt.qcow2
check "after -r all: data intact" $IO corrupt.qcow2 r:0:256k:0xc1
$V check -f raw sp.raw >/dev/null 2>&1; v=$?
if [ $v = 63 ]; then ok "check of raw: exit 63 (format does not support checks)"; else bad "check of raw: exit $v"; fi

# ---- 7. locking interoperates with QEMU's --------------------------------------------
$V create -q -f qcow2 lk.qcow2 1M
qemu-io -f qcow2 -c "sleep 4000" lk.qcow2 >/dev/null 2>&1 &
qpid=$!
sleep 1
$IO lk.qcow2 w:0:512:1 2>err.txt && bad "second writer (vireo vs qemu-io) not refused" || {
    if grep -q "qemu-io" err.txt; then ok "second writer refused, message names qemu-io"
    else bad "second writer refused without naming the holder: $(cat err.txt)"; fi; }
check "info while qemu-io writes (never refused)" $V info lk.qcow2
check "check while qemu-io writes (never refused)" $V check lk.qcow2
check "map while qemu-io writes (never refused)" $V map lk.qcow2
check "convert from an image in use" $V convert -O raw lk.qcow2 lk.raw
check "compare an image in use" $V compare lk.qcow2 lk.raw
wait $qpid
$IO lk.qcow2 p:4 &
vpid=$!
sleep 1
$Q info lk.qcow2 >/dev/null 2>&1 && bad "qemu-img did not see vireo's write lock" || ok "qemu-img info refused while vireo writes (sees our lock)"
check "qemu-img info -U while vireo writes" $Q info -U lk.qcow2
wait $vpid
# -snapshot overlay: writes never reach the base
$V create -q -f raw tb.raw 1M; $IO tb.raw w:0:1M:0xd1
check "temporary overlay write+read back" $IO -s -f raw tb.raw w:0:64k:0xd2 r:0:64k:0xd2
check "base untouched by the temporary overlay" $IO -f raw tb.raw r:0:1M:0xd1
# cache=none (O_DIRECT) on a qcow2 image
$V create -q -f qcow2 dio.qcow2 1M
if $IO -c none dio.qcow2 w:512:1000:0xe1 r:512:1000:0xe1 2>err.txt; then
    check "cache=none writes pass qemu-img check" $Q check dio.qcow2
else
    if grep -q O_DIRECT err.txt; then echo "SKIP: cache=none (file system without O_DIRECT)"
    else bad "cache=none: $(cat err.txt)"; fi
fi

# ---- 8. bad input: one message, non-zero exit, image untouched -------------------------
$V info nonexistent.qcow2 >/dev/null 2>err.txt; rc=$?
if [ $rc = 1 ] && [ "$(wc -l < err.txt)" = 1 ]; then ok "missing file: one message, exit 1"; else bad "missing file: rc=$rc"; fi
head -c 1M /dev/urandom > junk.bin; cp junk.bin junk.orig
$V info -f qcow2 junk.bin >/dev/null 2>err.txt; rc=$?
if [ $rc = 1 ] && cmp -s junk.bin junk.orig; then ok "garbage as qcow2: refused, untouched"; else bad "garbage as qcow2: rc=$rc"; fi
$V create -f qcow2 -o cluster_size=3000 x.qcow2 1M >/dev/null 2>&1 && bad "cluster_size=3000 accepted" || ok "cluster_size=3000 refused"
$V create -f qcow2 x.qcow2 12Q >/dev/null 2>&1 && bad "size 12Q accepted" || ok "bad size refused"
$V create -f qcow2 -o bogus=1 x.qcow2 1M >/dev/null 2>&1 && bad "unknown -o option accepted" || ok "unknown -o option refused"
exit 0
