#!/usr/bin/env bash
# Interop of the VMDK, VDI and VHD drivers with Debian's qemu-img, both ways.
#
#   tests/blockfmt/interop.sh BF_TOOL [VIREO_IMG]
#
# qemu -> Vireo: a raw file with known content (random data at offsets that cross
# grain and block boundaries, a partial last block) is converted by qemu-img into each
# format and subformat; images are also written in place with qemu-io.  Vireo's
# reader must give back exactly the raw content (compared with the source file, and
# with `qemu-img convert -O raw` for the qemu-io images), and the same virtual size.
# Vireo -> qemu: images Vireo writes (streamOptimized VMDK, fixed VHD with and
# without force_size) pass `qemu-img check` where it applies, are equal by
# `qemu-img compare`, and `qemu-img info` gives the virtual size qemu-img itself
# chooses for the same request.
set -u
tool=$(realpath "$1")
vimg=${2:+$(realpath -m "$2")}
if ! command -v qemu-img >/dev/null; then
    echo "SKIP: blockfmt interop (qemu-img not installed; package qemu-utils)"
    exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

# Debian's python3 (a pyenv shim in PATH can take seconds to start)
py=/usr/bin/python3
[ -x $py ] || py=python3

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; }

# raw file NAME SIZE: sparse, with random data at fixed places (seeded, so the same
# every run): the first sector, runs across the 64 KiB grain and 1/2 MiB block edges,
# an unaligned run, and the last bytes.
mkraw() {
    $py - "$1" "$2" <<'EOF'
import random, sys
name, size = sys.argv[1], int(sys.argv[2])
rnd = random.Random(size)
with open(name, 'wb') as f:
    f.truncate(size)
    for off, ln in [(0, 512), (65536 - 4096, 8192), (1048576 - 512, 70000),
                    (2097152 - 3, 300000), (3 * 1048576 + 12345, 1000)]:
        if off < size:
            ln = min(ln, size - off)
            f.seek(off)
            f.write(bytes(rnd.getrandbits(8) for _ in range(ln)))
    f.seek(size - 100)
    f.write(bytes(rnd.getrandbits(8) for _ in range(100)))
EOF
}

# vsize FMT IMAGE: virtual size as qemu-img reports it
vsize() {
    qemu-img info -f "$1" --output=json "$2" | sed -n 's/^ *"virtual-size": *\([0-9]*\).*/\1/p' | head -n 1
}

# check_read FMT IMAGE REFERENCE_RAW WHAT: read by the format code alone (toraw) and
# through the block layer's driver table (blkconvert, format given)
check_read() {
    check_read1 toraw "$@"
    rm -f out.raw
    check_read1 blk "$@"
}

check_read1() {
    local how=$1 fmt=$2 img=$3 ref=$4 what="$5 ($1)" got want
    if [ "$how" = toraw ]; then
        "$tool" toraw "$fmt" "$img" out.raw 2>err.txt
    else
        "$tool" blkconvert "$fmt" "$img" raw out.raw 2>err.txt
    fi
    if [ $? -ne 0 ]; then
        fail "$what: Vireo cannot read it: $(cat err.txt)"
        return
    fi
    want=$(vsize "$fmt" "$img")
    got=$(stat -c %s out.raw)
    if [ "$got" != "$want" ]; then
        fail "$what: virtual size $got, qemu-img says $want"
        return
    fi
    # the reference may be shorter (sizes rounded up by the format): the rest is zeros
    if ! cmp -s <(head -c "$(stat -c %s "$ref")" out.raw) "$ref" ||
       [ -n "$(tail -c +"$(( $(stat -c %s "$ref") + 1 ))" out.raw | tr -d '\0' | head -c 1)" ]; then
        fail "$what: content differs from the reference"
        return
    fi
    pass "$what"
}

size=$(( 5 * 1048576 + 3 * 512 ))     # not a multiple of grain or block
mkraw src.raw $size

# ---- qemu-img writes, Vireo reads -------------------------------------------------
while read -r fmt opts name; do
    [ -z "$fmt" ] && continue
    rm -f img.* ./*-flat.vmdk ./*-s0*.vmdk ./*-f0*.vmdk
    o=(); [ "$opts" != - ] && o=(-o "$opts")
    if ! qemu-img convert -f raw -O "$fmt" "${o[@]}" src.raw "img.$name" 2>err.txt; then
        fail "qemu-img convert to $fmt $opts: $(cat err.txt)"
        continue
    fi
    check_read "$fmt" "img.$name" src.raw "qemu-img $fmt ${opts/-/default} read back exactly"
    # probing finds every format but fixed VHD (a footer at the end only; qemu-img
    # does not probe it either)
    if [ "$opts" != "${opts/fixed/}" ]; then want=raw; else want=$fmt; fi
    got=$("$tool" blkprobe "img.$name" 2>&1 | cut -d' ' -f1)
    [ "$got" = "$want" ] && pass "probe $fmt ${opts/-/default}: $got" \
        || fail "probe $fmt ${opts/-/default}: got '$got', expected '$want'"
done <<'EOF'
vmdk - vmdk
vmdk subformat=monolithicSparse,zeroed_grain=on vmdk
vmdk compat6=on vmdk
vmdk subformat=monolithicFlat vmdk
vmdk subformat=streamOptimized vmdk
vmdk subformat=twoGbMaxExtentSparse vmdk
vmdk subformat=twoGbMaxExtentFlat vmdk
vdi - vdi
vdi static=on vdi
vpc - vhd
vpc subformat=fixed vhd
vpc subformat=dynamic,force_size=on vhd
vpc subformat=fixed,force_size=on vhd
EOF

# images written in place by qemu-io: partly written grains, VHD sector bitmaps,
# zeroed grains, overwrites
if command -v qemu-io >/dev/null; then
    for spec in "vmdk -" "vmdk zeroed_grain=on" "vdi -" "vpc -" "vpc subformat=fixed"; do
        set -- $spec
        fmt=$1; o=(); [ "$2" != - ] && o=(-o "$2")
        rm -f img.*
        qemu-img create -q -f "$fmt" "${o[@]}" img.x 9M
        qemu-io -f "$fmt" -c "write -P 0x11 0 512" -c "write -P 0x22 70000 3000" \
            -c "write -P 0x33 2096640 1024" -c "write -P 0x44 4M 64k" \
            -c "write -P 0x66 5M 128k" -c "write -z 5M 64k" -c "write -z 6M 64k" \
            -c "write -z 4M 4k" -c "write -P 0x55 7340032 512" img.x >/dev/null
        qemu-img convert -f "$fmt" -O raw img.x ref.raw
        check_read "$fmt" img.x ref.raw "qemu-io writes in $fmt ${2/-/default} read back exactly"
    done
else
    echo "SKIP: qemu-io writes (qemu-io not installed)"
fi

# ---- Vireo writes, qemu-img reads ------------------------------------------------
# check_written FMT IMAGE WHAT EXPECTED_SIZE
check_written() {
    local fmt=$1 img=$2 what=$3 want=$4 got
    got=$(vsize "$fmt" "$img")
    if [ "$got" != "$want" ]; then
        fail "$what: qemu-img info says virtual size $got, expected $want"
        return
    fi
    if [ "$fmt" = vmdk ] && ! qemu-img check -q -f vmdk "$img" >err.txt 2>&1; then
        fail "$what: qemu-img check: $(cat err.txt)"
        return
    fi
    if ! qemu-img compare -q -f raw -F "$fmt" src.raw "$img" 2>err.txt; then
        fail "$what: qemu-img compare says the content differs $(cat err.txt)"
        return
    fi
    pass "$what"
}

# sizes: not grain/sector aligned, CHS-exact, odd; check-long adds large ones (a
# grain directory of several tables, a size above 2^31)
sizes="$size 10485760 3000000"
[ -n "${BLOCKFMT_LONG:-}" ] && sizes="$sizes 1000000000 3221225472"
for sz in $sizes; do
    mkraw src.raw "$sz"
    rm -f w.*
    if "$tool" fromraw vmdk src.raw w.vmdk 2>err.txt; then
        check_written vmdk w.vmdk "Vireo streamOptimized VMDK of $sz bytes" $(( (sz + 511) / 512 * 512 ))
        ct=$(qemu-img info --output=json w.vmdk | sed -n 's/^ *"create-type": *"\(.*\)".*/\1/p')
        [ "$ct" = streamOptimized ] && pass "qemu-img sees create type streamOptimized ($sz)" \
            || fail "qemu-img sees create type '$ct' ($sz)"
    else
        fail "Vireo streamOptimized VMDK of $sz bytes: $(cat err.txt)"
    fi
    # qemu-img's own choice of size for the same request is the expected one
    qemu-img create -q -f vpc -o subformat=fixed ref.vhd "$sz"
    qemu-img create -q -f vpc -o subformat=fixed,force_size=on reff.vhd "$sz"
    if "$tool" fromraw vpc src.raw w.vhd 2>err.txt; then
        check_written vpc w.vhd "Vireo fixed VHD of $sz bytes (CHS-rounded like qemu-img)" "$(vsize vpc ref.vhd)"
    else
        fail "Vireo fixed VHD of $sz bytes: $(cat err.txt)"
    fi
    if "$tool" fromraw vpc src.raw wf.vhd force_size 2>err.txt; then
        check_written vpc wf.vhd "Vireo fixed VHD of $sz bytes with force_size" "$(vsize vpc reff.vhd)"
    else
        fail "Vireo fixed VHD force_size of $sz bytes: $(cat err.txt)"
    fi
    # the same through the block layer: blk_create, blk_open read-write, blk_pwrite
    rm -f b.vmdk b.vhd bf.vhd bm.vmdk bm-flat.vmdk
    if "$tool" blkconvert raw src.raw vmdk b.vmdk subformat=streamOptimized 2>err.txt; then
        check_written vmdk b.vmdk "blk_create+write streamOptimized VMDK of $sz bytes" $(( (sz + 511) / 512 * 512 ))
    else
        fail "blk streamOptimized VMDK of $sz bytes: $(cat err.txt)"
    fi
    if "$tool" blkconvert raw src.raw vpc b.vhd subformat=fixed 2>err.txt; then
        check_written vpc b.vhd "blk_create+write fixed VHD of $sz bytes" "$(vsize vpc ref.vhd)"
    else
        fail "blk fixed VHD of $sz bytes: $(cat err.txt)"
    fi
    if "$tool" blkconvert raw src.raw vpc bf.vhd subformat=fixed,force_size=on 2>err.txt; then
        check_written vpc bf.vhd "blk_create+write fixed VHD of $sz bytes with force_size" "$(vsize vpc reff.vhd)"
    else
        fail "blk fixed VHD force_size of $sz bytes: $(cat err.txt)"
    fi
    if "$tool" blkconvert raw src.raw vmdk bm.vmdk subformat=monolithicFlat 2>err.txt; then
        check_written vmdk bm.vmdk "blk_create+write monolithicFlat VMDK of $sz bytes" $(( (sz + 511) / 512 * 512 ))
    else
        fail "blk monolithicFlat VMDK of $sz bytes: $(cat err.txt)"
    fi
    rm -f ref.vhd reff.vhd b.* bf.vhd bm.vmdk bm-flat.vmdk w.*
done

# the same through vireo-img convert, once the tool knows these formats
if [ -n "$vimg" ] && [ -x "$vimg" ]; then
    mkraw src.raw $size
    for spec in "vmdk subformat=streamOptimized" "vpc subformat=fixed" "vpc subformat=fixed,force_size=on"; do
        set -- $spec
        rm -f v.img
        if "$vimg" convert -f raw -O "$1" -o "$2" src.raw v.img 2>err.txt &&
           qemu-img compare -q -f raw -F "$1" src.raw v.img 2>>err.txt; then
            pass "vireo-img convert -O $1 -o $2 equal by qemu-img compare"
        else
            fail "vireo-img convert -O $1 -o $2: $(tail -n 2 err.txt)"
        fi
    done
    for spec in "vmdk subformat=monolithicSparse" "vmdk subformat=streamOptimized" "vdi -" "vpc -"; do
        set -- $spec
        o=(); [ "$2" != - ] && o=(-o "$2")
        rm -f q.img q.raw
        qemu-img convert -f raw -O "$1" "${o[@]}" src.raw q.img
        if "$vimg" convert -f "$1" -O raw q.img q.raw 2>err.txt &&
           cmp -s <(head -c $size q.raw) src.raw; then
            pass "vireo-img convert -f $1 ($2) -O raw gives the source back"
        else
            fail "vireo-img convert -f $1 ($2) -O raw: $(tail -n 2 err.txt)"
        fi
    done
else
    echo "SKIP: vireo-img convert with VMDK/VDI/VHD (vireo-img not built in this tree)"
fi
