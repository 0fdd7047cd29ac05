#!/bin/bash
# Differential audit: the same command under Debian's qemu-img and under vireo-img,
# on identical copies of the same fixtures; compares what a user sees.
#   tests/block/diff.sh BUILD_DIR [NAME-FILTER]
# Per case: stdout (after replacing the tool's name), the exit code, optionally the
# first line of stderr (after "TOOL: "), and for commands that write, the resulting
# images (qemu-img compare, qemu-img check, qemu-img info --output=json with the
# fields that depend on the writer's allocation strategy removed).
set -u
B=${1:-build}
FILTER=${2:-}
V=$(realpath "$B/vireo-img")
DAMAGE=$(realpath "$(dirname "$0")/damage-qcow2.py")
if ! command -v qemu-img >/dev/null || ! command -v qemu-io >/dev/null || ! command -v jq >/dev/null; then
    echo "SKIP: block differential audit (qemu-img/qemu-io/jq not installed; packages qemu-utils, jq)"
    exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
F=$T/fix
mkdir -p "$F"
cd "$F" || exit 1
npass=0 nfail=0 nkept=0

# ---- fixtures, all made by qemu-img / qemu-io ----------------------------------------------
qw() { local f=$1 img=$2; shift 2; local a=(); for c in "$@"; do a+=(-c "$c"); done
       qemu-io -f "$f" "${a[@]}" "$img" >/dev/null; }
qemu-img create -q -f raw data.raw 4M
qw raw data.raw "write -P 0x11 0 64k" "write -P 0x22 1M 192k" "write -P 0x33 3M 4k"
qemu-img convert -O qcow2 data.raw data.qcow2
qemu-img create -q -f qcow2 -o compat=0.10 v2.qcow2 4M
qw qcow2 v2.qcow2 "write -P 0x44 64k 64k" "write -P 0x45 2M 8k"
qemu-img create -q -f qcow2 base.qcow2 4M
qw qcow2 base.qcow2 "write -P 0x51 0 4M"
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 ov.qcow2
qw qcow2 ov.qcow2 "write -P 0x52 512k 64k" "write -z 1M 128k" "write -P 0x53 3M 4k"
mkdir -p sub
qemu-img create -q -f qcow2 -b ../base.qcow2 -F qcow2 sub/rel.qcow2
qw qcow2 sub/rel.qcow2 "write -P 0x54 0 4k"
qemu-img create -q -f qcow2 -o compat=1.1 zero.qcow2 4M
qw qcow2 zero.qcow2 "write -P 0x61 0 128k" "write -z 64k 64k" "write -P 0x62 2M 64k"
qemu-img create -q -f qcow2 snap.qcow2 4M
qw qcow2 snap.qcow2 "write -P 0x71 0 1M"
qemu-img snapshot -c one snap.qcow2
qw qcow2 snap.qcow2 "write -P 0x72 512k 1M"
qemu-img create -q -f qcow2 -o refcount_bits=1 rc1.qcow2 4M
qw qcow2 rc1.qcow2 "write -P 0x81 0 1M"
qemu-img create -q -f qcow2 -o lazy_refcounts=on lazy.qcow2 4M
qw qcow2 lazy.qcow2 "write -P 0x82 0 256k"
qemu-img create -q -f qcow2 -o cluster_size=512 c512.qcow2 2M
qw qcow2 c512.qcow2 "write -P 0x83 0 300k" "write -P 0x84 1M 100k"
qemu-img snapshot -c s1 c512.qcow2
qw qcow2 c512.qcow2 "write -P 0x85 64k 64k"
cp data.raw data2.raw
qw raw data2.raw "write -P 0x91 8k 4k"
qemu-img convert -O qcow2 data2.raw data2.qcow2
qemu-img create -q -f qcow2 big.qcow2 4M
qemu-img convert -O vmdk data.raw data.vmdk
qemu-img convert -O vpc data.raw data.vhd
qemu-img convert -O vdi data.raw data.vdi
qemu-img convert -O vmdk -o subformat=monolithicFlat data.raw flat.vmdk
qemu-img convert -O vmdk -o subformat=streamOptimized data.raw stream.vmdk
qemu-img convert -O vpc -o subformat=fixed data.raw fixed.vhd
# damaged copies: tests/block/damage-qcow2.py
mk_damaged() {
    cp data.qcow2 "$1"
    python3 "$DAMAGE" "$1" "$2"
}
# damaged VDI block maps (little-endian map entries at the header's offset_bmap, 340)
mk_vdi() {
    cp data.vdi "$1"
    python3 - "$1" "$2" <<'EOF'
import struct, sys
f = open(sys.argv[1], 'r+b'); h = f.read(512)
bmap = struct.unpack('<I', h[340:344])[0]
if sys.argv[2] == 'range': f.seek(bmap + 4); f.write(struct.pack('<I', 1000))
elif sys.argv[2] == 'dup': f.seek(bmap + 8); f.write(struct.pack('<I', 0))
else: f.seek(388); f.write(struct.pack('<I', 7))
EOF
}
mk_vdi range.vdi range
mk_vdi dup.vdi dup
mk_vdi count.vdi count
mk_damaged leak.qcow2 leak
mk_damaged corrupt.qcow2 corrupt
cd "$T" || exit 1

# ---- the case runner -----------------------------------------------------------------------
# dcase NAME FLAGS COMMAND [OUTPUT-IMAGES...]
#   COMMAND is shell text; $X is the tool.  FLAGS: e = compare stderr's first line,
#   o = do not compare stdout (e.g. timings), j = stdout is JSON (compare parsed),
#   c = compare the output images' content only (not info),
#   k = a difference kept on purpose (docs/block.md): reported as SKIP with the reason
#       in $KEPT, never as PASS, when the tools differ.
norm() { sed -e 's/qemu-img/TOOL/g; s/vireo-img/TOOL/g' "$1"; }
info_norm() {
    # VMDK's cid is random; snapshot times are the writer's clock
    local fo=()
    [[ $1 == *.vhd ]] && fo=(-f vpc)
    qemu-img info -U "${fo[@]}" --output=json "$1" | jq -S -c 'walk(if type == "object" then
        del(."actual-size", .filename, ."dirty-flag", .cid, ."date-sec", ."date-nsec",
            ."vm-clock-sec", ."vm-clock-nsec") else . end)'
}
dcase() {
    local name=$1 flags=$2 cmd=$3; shift 3
    [ -n "$FILTER" ] && [[ "$name" != *$FILTER* ]] && return
    local why=() t
    # read-only cases share the fixtures through hard links; writing ones get copies
    for t in q v; do
        rm -rf "${T:?}/$t"
        if [ $# = 0 ] && [[ $flags != *w* ]]; then cp -al "$F" "$T/$t"; else cp -a "$F" "$T/$t"; fi
    done
    (cd "$T/q" && X=qemu-img && eval "$cmd") >q.out 2>q.err; local qrc=$?
    (cd "$T/v" && X=$V && eval "$cmd") >v.out 2>v.err; local vrc=$?
    [ $qrc = $vrc ] || why+=("exit qemu=$qrc vireo=$vrc")
    if [[ $flags == *j* ]]; then
        [ "$(jq -S -c . q.out 2>&1)" = "$(jq -S -c . v.out 2>&1)" ] || why+=("json stdout differs")
    elif [[ $flags != *o* ]]; then
        cmp -s <(norm q.out) <(norm v.out) || why+=("stdout differs")
    fi
    if [[ $flags == *e* ]]; then
        [ "$(norm q.err | head -1)" = "$(norm v.err | head -1)" ] || why+=("stderr differs")
    fi
    local img
    for img in "$@"; do
        if [ ! -e "q/$img" ] || [ ! -e "v/$img" ]; then
            [ -e "q/$img" ] || [ -e "v/$img" ] && why+=("$img exists for only one tool")
            continue
        fi
        # a fixed VHD probes as raw (its footer is at the end): name the format
        local fo=()
        [[ $img == *.vhd ]] && fo=(-f vpc)
        local qc vc
        (cd q && qemu-img check -q "$img" >/dev/null 2>&1); qc=$?
        (cd v && qemu-img check -q "$img" >/dev/null 2>&1); vc=$?
        [ $qc = $vc ] || why+=("qemu-img check of $img: exit $qc for qemu's, $vc for vireo's")
        qemu-img compare -q "${fo[@]}" ${fo:+-F vpc} q/"$img" v/"$img" >/dev/null 2>&1 || why+=("$img content differs")
        if [[ $flags != *c* ]]; then
            [ "$(cd q && info_norm "$img")" = "$(cd v && info_norm "$img")" ] || why+=("$img info differs")
        fi
    done
    if [ ${#why[@]} = 0 ]; then
        echo "PASS: $name"; npass=$((npass + 1))
    elif [[ $flags == *k* ]]; then
        echo "SKIP: $name (kept difference: $KEPT: ${why[*]})"; nkept=$((nkept + 1))
    else
        echo "FAIL: $name: ${why[*]}"; nfail=$((nfail + 1))
        if [ -n "${DIFF_VERBOSE:-}" ]; then
            diff <(norm q.out) <(norm v.out) | head -20
            echo "--- stderr qemu:"; head -3 q.err; echo "--- stderr vireo:"; head -3 v.err
        fi
    fi
}

# ---- create ---------------------------------------------------------------------------------
for o in "" "compat=0.10" "compat=1.1" "lazy_refcounts=on" "refcount_bits=1" "refcount_bits=8" \
         "refcount_bits=64" "cluster_size=512" "cluster_size=2M" "cluster_size=4k,refcount_bits=4" \
         "preallocation=off" "preallocation=metadata" "preallocation=falloc" "preallocation=full" \
         "compat=0.10,lazy_refcounts=on" "refcount_bits=3" "cluster_size=1000" \
         "compat=0.10,refcount_bits=8" "lazy_refcounts=maybe" "compat=0.11"; do
    dcase "create qcow2 -o '$o'" e "\$X create -f qcow2 ${o:+-o $o} n.qcow2 3M" n.qcow2
done
for p in off falloc full; do
    dcase "create raw preallocation=$p" e "\$X create -f raw -o preallocation=$p n.raw 1M" n.raw
done
dcase "create -b -F" e '$X create -f qcow2 -b base.qcow2 -F qcow2 n.qcow2' n.qcow2
dcase "create -b relative -F" e '$X create -f qcow2 -b ../base.qcow2 -F qcow2 sub/n.qcow2' sub/n.qcow2
dcase "create -b with size" e '$X create -f qcow2 -b base.qcow2 -F qcow2 n.qcow2 8M' n.qcow2
dcase "create -b raw -F raw" e '$X create -f qcow2 -b data.raw -F raw n.qcow2' n.qcow2
dcase "create -b missing" e '$X create -f qcow2 -b nothere.qcow2 -F qcow2 n.qcow2'
dcase "create -u -b missing" e '$X create -f qcow2 -u -b nothere.qcow2 -F qcow2 n.qcow2 1M && qemu-img info -U --output=json n.qcow2 | jq -S "del(.\"actual-size\")"' 
dcase "create no size" e '$X create -f qcow2 n.qcow2'
dcase "create bad size" e '$X create -f qcow2 n.qcow2 12Q'
dcase "create -q" e '$X create -q -f qcow2 n.qcow2 1M' n.qcow2
dcase "create bad option" e '$X create -f qcow2 -o bogus=1 n.qcow2 1M'
dcase "create bad format" e '$X create -f nosuch n.img 1M'
dcase "create vmdk streamOptimized" e '$X create -f vmdk -o subformat=streamOptimized n.vmdk 1M' n.vmdk
dcase "create vpc fixed" e '$X create -f vpc -o subformat=fixed n.vhd 1M'

# ---- info -----------------------------------------------------------------------------------
for f in data.raw data.qcow2 v2.qcow2 ov.qcow2 sub/rel.qcow2 zero.qcow2 snap.qcow2 rc1.qcow2 \
         lazy.qcow2 data.vmdk data.vhd data.vdi stream.vmdk fixed.vhd; do
    dcase "info $f" e "\$X info $f"
    dcase "info --output=json $f" ej "\$X info --output=json $f"
done
KEPT="disk size of a flat VMDK counts the descriptor file only"
dcase "info flat.vmdk" ek '$X info flat.vmdk'
dcase "info flat.vmdk without disk size" e '$X info --output=json flat.vmdk | jq -S "del(.\"actual-size\")"'
dcase "info --backing-chain" e '$X info --backing-chain ov.qcow2'
dcase "info --backing-chain json" ej '$X info --backing-chain --output=json sub/rel.qcow2'
dcase "info -U" e '$X info -U ov.qcow2'
dcase "info -f raw on qcow2" e '$X info -f raw data.qcow2'
KEPT="qemu-img names the file twice in open errors"
dcase "info missing file" ek '$X info nothere.qcow2'
dcase "info bad --output" e '$X info --output=xml data.qcow2'

# ---- check ----------------------------------------------------------------------------------
for f in data.qcow2 v2.qcow2 ov.qcow2 snap.qcow2 rc1.qcow2 leak.qcow2 corrupt.qcow2; do
    dcase "check $f" e "\$X check $f"
    dcase "check --output=json $f" ej "\$X check --output=json $f"
done
dcase "check -r leaks leak" e '$X check -r leaks leak.qcow2' leak.qcow2
dcase "check -r all leak" e '$X check -r all leak.qcow2' leak.qcow2
for f in data.vdi data.vmdk stream.vmdk range.vdi dup.vdi count.vdi; do
    dcase "check $f" e "\$X check $f"
    dcase "check --output=json $f" ej "\$X check --output=json $f"
done
dcase "check -r all corrupt" e '$X check -r all corrupt.qcow2' corrupt.qcow2
dcase "check -r all json corrupt" ej '$X check -r all --output=json corrupt.qcow2' corrupt.qcow2
dcase "check -q leak" e '$X check -q leak.qcow2'
dcase "check raw" e '$X check -f raw data.raw'
dcase "check -r bad" e '$X check -r some data.qcow2'

# ---- convert --------------------------------------------------------------------------------
for o in raw qcow2; do
    dcase "convert -O $o" e "\$X convert -O $o data.qcow2 out.img" out.img
done
KEPT="vireo-img writes VMDK as streamOptimized, qemu-img as monolithicSparse"
dcase "convert -O vmdk" ek '$X convert -O vmdk data.qcow2 out.img' out.img
dcase "convert -O vmdk subformat=streamOptimized" e '$X convert -O vmdk -o subformat=streamOptimized data.qcow2 out.img' out.img
KEPT="vireo-img writes fixed VHD only"
dcase "convert -O vpc" ek '$X convert -O vpc data.qcow2 out.img' out.img
dcase "convert -O vpc subformat=fixed" e '$X convert -O vpc -o subformat=fixed data.qcow2 out.vhd' out.vhd
dcase "convert -c" ce '$X convert -c -O qcow2 data.raw out.qcow2' out.qcow2
dcase "convert -o compat=0.10,cluster_size=4k" e '$X convert -O qcow2 -o compat=0.10,cluster_size=4k data.raw out.qcow2' out.qcow2
dcase "convert -B" e '$X convert -O qcow2 -B base.qcow2 -F qcow2 ov.qcow2 out.qcow2' out.qcow2
dcase "convert -S 0" c '$X convert -S 0 -O qcow2 data.raw out.qcow2' out.qcow2
dcase "convert -S 64k" c '$X convert -S 64k -O raw data.qcow2 out.raw' out.raw
dcase "convert -n" e '$X create -q -f qcow2 out.qcow2 4M && $X convert -n -O qcow2 data.raw out.qcow2' out.qcow2
dcase "convert -n onto smaller" e '$X create -q -f qcow2 out.qcow2 1M; $X convert -n -O qcow2 data.raw out.qcow2'
dcase "convert -p" o '$X convert -p -O raw data.qcow2 out.raw' out.raw
dcase "convert two sources" e '$X convert -O raw data.raw data.qcow2 out.raw' out.raw
dcase "convert from vmdk/vhd/vdi" e '$X convert -O raw data.vmdk a.raw && $X convert -O raw data.vhd b.raw && $X convert -O raw data.vdi c.raw' a.raw b.raw c.raw
dcase "convert -l snapshot" e '$X convert -l one -O raw snap.qcow2 out.raw' out.raw
dcase "convert -l snapshot.name=" e '$X convert -l snapshot.name=one -O qcow2 snap.qcow2 out.qcow2' out.qcow2
dcase "convert -l snapshot.id=" e '$X convert -l snapshot.id=1 -O raw snap.qcow2 out.raw' out.raw
dcase "convert -l missing" e '$X convert -l nope -O raw snap.qcow2 out.raw'
dcase "convert -l snapshot of a resized image" e 'qemu-img resize snap.qcow2 6M && $X convert -l one -O raw snap.qcow2 out.raw' out.raw
KEPT="qemu-img names the file twice in open errors"
dcase "convert missing source" ek '$X convert -O raw nothere out.raw'
dcase "convert bad -O" e '$X convert -O nosuch data.raw out.img'

# ---- commit, rebase, resize -----------------------------------------------------------------
dcase "commit" e '$X commit ov.qcow2' base.qcow2 ov.qcow2
dcase "commit -d" e '$X commit -d ov.qcow2' base.qcow2 ov.qcow2
dcase "commit -b" e '$X commit -b base.qcow2 ov.qcow2' base.qcow2 ov.qcow2
dcase "commit no backing" e '$X commit data.qcow2'
dcase "rebase safe onto data2" e '$X rebase -b data2.qcow2 -F qcow2 ov.qcow2' ov.qcow2
dcase "rebase -b ''" e "\$X rebase -b '' ov.qcow2" ov.qcow2
dcase "rebase -u" e '$X rebase -u -b data2.qcow2 -F qcow2 ov.qcow2' ov.qcow2
dcase "rebase relative" e '$X rebase -b ../data2.qcow2 -F qcow2 sub/rel.qcow2' sub/rel.qcow2
dcase "rebase missing backing" e '$X rebase -b nothere.qcow2 -F qcow2 ov.qcow2' ov.qcow2
for f in data.raw data.qcow2; do
    dcase "resize +1M $f" e "\$X resize $f +1M" $f
    dcase "resize -1M $f" e "\$X resize $f -- -1M" $f
    dcase "resize --shrink -1M $f" e "\$X resize --shrink $f -- -1M" $f
    dcase "resize --shrink 3M $f" e "\$X resize --shrink $f 3M" $f
    dcase "resize 8M $f" e "\$X resize $f 8M" $f
done
dcase "resize -q" e '$X resize -q data.qcow2 5M' data.qcow2
dcase "resize --shrink snapshot image" e '$X resize --shrink snap.qcow2 700k' snap.qcow2
dcase "resize snapshot image, grow, apply" e '$X resize snap.qcow2 9M && $X snapshot -a one snap.qcow2' snap.qcow2
dcase "resize --shrink snapshot image, apply" e '$X resize --shrink snap.qcow2 700k && $X snapshot -a one snap.qcow2' snap.qcow2
dcase "resize --shrink c512 with snapshot" e '$X resize --shrink c512.qcow2 100k' c512.qcow2
dcase "resize v2 with snapshot" e 'qemu-img snapshot -c s v2.qcow2 && $X resize v2.qcow2 8M' v2.qcow2

# ---- snapshot -------------------------------------------------------------------------------
dcase "snapshot -c" e '$X snapshot -c two snap.qcow2 && $X snapshot -l snap.qcow2 | awk "NR<3 || {print \$2}"' snap.qcow2
dcase "snapshot -a" e '$X snapshot -a one snap.qcow2' snap.qcow2
dcase "snapshot -d" e '$X snapshot -d one snap.qcow2' snap.qcow2
dcase "snapshot -d missing" e '$X snapshot -d nosuch snap.qcow2' snap.qcow2
dcase "snapshot -a missing" e '$X snapshot -a nosuch snap.qcow2' snap.qcow2
dcase "snapshot -c raw" e '$X snapshot -c x data.raw'
dcase "snapshot -l empty" e '$X snapshot -l data.qcow2'

# ---- map, compare ---------------------------------------------------------------------------
for f in data.raw data.qcow2 ov.qcow2 zero.qcow2 sub/rel.qcow2 data.vmdk data.vdi data.vhd \
         fixed.vhd; do
    dcase "map $f" e "\$X map $f"
    dcase "map --output=json $f" ej "\$X map --output=json $f"
done
KEPT="flat VMDK extents are mapped as data throughout, without host offsets"
dcase "map flat.vmdk" ek '$X map flat.vmdk'
KEPT="qemu-img refuses map of compressed VMDK grains, vireo-img lists them without offsets"
dcase "map stream.vmdk" ek '$X map stream.vmdk'
dcase "map --output=json stream.vmdk" ej '$X map --output=json stream.vmdk'
dcase "compare equal" e '$X compare data.raw data.qcow2'
dcase "compare differ" e '$X compare data.raw data2.qcow2'
dcase "compare -s equal" e '$X compare -s data.raw data.qcow2'
dcase "compare -s zero vs hole" e '$X compare -s zero.qcow2 zero.qcow2'
dcase "compare sizes differ" e '$X compare data.qcow2 big.qcow2'
dcase "compare -s sizes differ" e '$X compare -s data.qcow2 big.qcow2'
dcase "compare -s ov vs base" e '$X compare -s ov.qcow2 base.qcow2'
dcase "compare -s same chain" e '$X compare -s ov.qcow2 ov.qcow2'
dcase "compare -q differ" e '$X compare -q data.raw data2.qcow2'
KEPT="qemu-img names the file twice in open errors"
dcase "compare missing" ek '$X compare data.raw nothere'
dcase "compare -f -F" e '$X compare -f raw -F qcow2 data.raw data.qcow2'

# ---- measure --------------------------------------------------------------------------------
for o in qcow2 raw; do
    for src in data.raw data.qcow2 ov.qcow2 snap.qcow2; do
        dcase "measure -O $o $src" e "\$X measure -O $o $src"
        dcase "measure -O $o $src json" ej "\$X measure --output=json -O $o $src"
    done
    for s in 1M 1G 100G 3T; do
        dcase "measure -O $o --size $s" e "\$X measure -O $o --size $s"
    done
done
for oo in cluster_size=512 cluster_size=2M refcount_bits=1 refcount_bits=64 \
          cluster_size=4k,refcount_bits=2 compat=0.10 preallocation=metadata preallocation=full; do
    dcase "measure -o $oo --size 10G" e "\$X measure -O qcow2 -o $oo --size 10G"
    dcase "measure -o $oo data.raw" ej "\$X measure -O qcow2 -o $oo --output=json data.raw"
done
dcase "measure -o cluster_size=4k zero.qcow2" e '$X measure -O qcow2 -o cluster_size=4k zero.qcow2'
dcase "measure zero.qcow2 json" ej '$X measure --output=json -O qcow2 zero.qcow2'
dcase "measure too large" e '$X measure -O qcow2 -o cluster_size=512 --size 10T'
dcase "measure no args" e '$X measure -O qcow2'
dcase "measure both" e '$X measure -O qcow2 --size 1G data.raw'

# ---- amend ----------------------------------------------------------------------------------
for o in compat=0.10 compat=1.1 lazy_refcounts=on lazy_refcounts=off refcount_bits=1 \
         refcount_bits=4 refcount_bits=8 refcount_bits=32 refcount_bits=64 size=8M size=1M \
         cluster_size=4k bogus=1; do
    dcase "amend -o $o zero.qcow2" e "\$X amend -o $o zero.qcow2" zero.qcow2
done
dcase "amend compat=0.10 v2" e '$X amend -o compat=0.10 v2.qcow2' v2.qcow2
dcase "amend compat=1.1 v2" e '$X amend -o compat=1.1 v2.qcow2' v2.qcow2
dcase "amend compat=0.10 lazy" e '$X amend -o compat=0.10 lazy.qcow2' lazy.qcow2
dcase "amend refcount_bits=16 rc1" e '$X amend -o refcount_bits=16 rc1.qcow2' rc1.qcow2
dcase "amend refcount_bits=1 snap" e '$X amend -o refcount_bits=1 snap.qcow2' snap.qcow2
dcase "amend refcount_bits=2 snap" e '$X amend -o refcount_bits=2 snap.qcow2' snap.qcow2
for o in 1 2 4 8 32 64; do
    dcase "amend refcount_bits=$o c512 (snapshot, 512 B clusters)" e "\$X amend -o refcount_bits=$o c512.qcow2" c512.qcow2
done
dcase "amend refcount_bits=64 then 2 c512" e '$X amend -o refcount_bits=64 c512.qcow2 && $X amend -o refcount_bits=2 c512.qcow2' c512.qcow2
dcase "amend refcount_bits=8,compat=0.10" e '$X amend -o refcount_bits=8,compat=0.10 zero.qcow2' zero.qcow2
dcase "amend refcount_bits=8,compat=1.1 v2" e '$X amend -o refcount_bits=8,compat=1.1 v2.qcow2' v2.qcow2
dcase "amend refcount_bits=16,compat=0.10 rc1" e '$X amend -o refcount_bits=16,compat=0.10 rc1.qcow2' rc1.qcow2
dcase "amend lazy_refcounts=on v2" e '$X amend -o lazy_refcounts=on v2.qcow2' v2.qcow2
dcase "amend compat=0.11" e '$X amend -o compat=0.11 v2.qcow2' v2.qcow2
dcase "amend backing_file" e '$X amend -o backing_file=data2.qcow2,backing_fmt=qcow2 ov.qcow2' ov.qcow2
dcase "amend backing_fmt" e '$X amend -o backing_fmt=raw ov.qcow2' ov.qcow2
dcase "amend no -o" e '$X amend zero.qcow2'
dcase "amend raw" e '$X amend -o size=8M data.raw'

# ---- dd -------------------------------------------------------------------------------------
dcase "dd" e '$X dd if=data.qcow2 of=out.raw' out.raw
dcase "dd bs count" e '$X dd bs=64k count=3 if=data.qcow2 of=out.raw' out.raw
KEPT="qemu-img 7.2 dd with skip= writes only count - skip blocks; vireo-img writes count blocks, as dd does"
dcase "dd skip" ek '$X dd bs=4k skip=16 count=20 if=data.raw of=out.raw' out.raw
dcase "dd skip, no count" e '$X dd bs=4k skip=16 if=data.raw of=out.raw' out.raw
dcase "dd -O qcow2" e '$X dd -O qcow2 bs=1M if=data.raw of=out.qcow2' out.qcow2
dcase "dd -f qcow2 -O raw" e '$X dd -f qcow2 -O raw if=data.qcow2 of=out.raw' out.raw
dcase "dd bad bs" e '$X dd bs=0 if=data.raw of=out.raw'
dcase "dd no if" e '$X dd of=out.raw'
dcase "dd bad operand" e '$X dd foo=1 if=data.raw of=out.raw'

# ---- bench ----------------------------------------------------------------------------------
dcase "bench read" o '$X bench -c 2000 -d 8 -s 4k data.qcow2'
dcase "bench -w" o '$X bench -w -c 2000 -d 8 -s 4k data.qcow2' data.qcow2
dcase "bench first line" "" '$X bench -c 100 data.qcow2 | head -1'
dcase "bench -w first line" "" '$X bench -w -c 100 -S 8k data.qcow2 | head -1'
dcase "bench bad -c" e '$X bench -c x data.qcow2'

echo "differential audit: $npass same, $nfail different, $nkept kept differences"
[ $nfail = 0 ]
