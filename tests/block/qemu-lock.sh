#!/bin/bash
# Image locks against a running QEMU (Debian's qemu-system-x86_64), both ways.
#   tests/block/qemu-lock.sh BUILD_DIR
# 1. QEMU holds a qcow2 image as a guest disk: vireo-img's writing commands are
#    refused with a message naming the holder (pid and program); read-only ones work.
# 2. vireo holds an image (blkio writer, vireo-img bench -w): qemu-img, qemu-io and
#    qemu-system-x86_64 refuse to write it.
set -u
B=${1:-build}
V=$(realpath "$B/vireo-img")
IO=$(realpath "$B/tests/blkio")
QS=qemu-system-x86_64
if ! command -v $QS >/dev/null || ! command -v qemu-img >/dev/null; then
    echo "SKIP: lock interop with a running QEMU ($QS or qemu-img not installed; packages qemu-system-x86, qemu-utils)"
    exit 77
fi
T=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
cd "$T" || exit 1
ok() { echo "PASS: $*"; }
bad() { echo "FAIL: $*"; }

# wait until some process holds a lock on byte BYTE of FILE (/proc/locks: OFD locks
# list "dev:inode start end"), up to 20 s
wait_lock() {
    local ino byte=$2
    ino=$(stat -c %i "$1")
    for _ in $(seq 200); do
        awk -v ino="$ino" -v b="$byte" '{ split($(NF-2), d, ":"); if (d[3] == ino && $(NF-1) <= b && ($NF == "EOF" || $NF >= b)) f = 1 } END { exit !f }' /proc/locks && return 0
        sleep 0.1
    done
    return 1
}

# ---- 1. QEMU holds the image ---------------------------------------------------------------
qemu-img create -q -f qcow2 vm.qcow2 4M
qemu-io -f qcow2 -c "write -P 0x5a 0 1M" vm.qcow2 >/dev/null
qemu-img create -q -f qcow2 other.qcow2 4M
$QS -machine none -nodefaults -display none -S -accel tcg -monitor none -serial none \
    -drive file=vm.qcow2,if=none,id=d0,format=qcow2 >qemu.log 2>&1 &
qpid=$!
pids+=($qpid)
if ! wait_lock vm.qcow2 101; then
    bad "QEMU did not take its write lock on the image: $(head -c 300 qemu.log)"
    exit 0
fi
sum_before=$(md5sum < vm.qcow2)
refused() {
    local what=$1; shift
    "$@" >out.txt 2>err.txt
    local rc=$?
    if [ $rc = 0 ]; then
        bad "$what: not refused while QEMU (pid $qpid) runs on the image"
    elif grep -q "process $qpid (qemu-system-x86" err.txt && grep -qi "lock" err.txt; then
        ok "$what: refused, names the holder: $(head -1 err.txt)"
    else
        bad "$what: refused without naming QEMU (pid $qpid): $(head -c 300 err.txt)"
    fi
}
works() {
    local what=$1; shift
    if "$@" >out.txt 2>err.txt; then ok "$what while QEMU runs"; else bad "$what while QEMU runs: $(head -c 300 err.txt)"; fi
}
refused "commit" "$V" commit vm.qcow2
refused "amend" "$V" amend -o lazy_refcounts=on vm.qcow2
refused "resize" "$V" resize vm.qcow2 +1M
refused "snapshot -c" "$V" snapshot -c s1 vm.qcow2
refused "snapshot -d" "$V" snapshot -d s1 vm.qcow2
refused "convert -n onto it" "$V" convert -n -O qcow2 other.qcow2 vm.qcow2
refused "rebase" "$V" rebase -u -b other.qcow2 -F qcow2 vm.qcow2
refused "check -r all" "$V" check -r all vm.qcow2
refused "blkio writer" "$IO" vm.qcow2 w:0:512:1
works "info" "$V" info vm.qcow2
works "info --backing-chain" "$V" info --backing-chain vm.qcow2
works "check" "$V" check vm.qcow2
works "map" "$V" map vm.qcow2
works "measure" "$V" measure -O qcow2 vm.qcow2
works "snapshot -l" "$V" snapshot -l vm.qcow2
works "convert from it" "$V" convert -O raw vm.qcow2 vm.raw
works "compare" "$V" compare vm.qcow2 vm.raw
works "dd from it" "$V" dd if=vm.qcow2 of=dd.raw bs=64k count=4
works "bench (read)" "$V" bench -c 100 vm.qcow2
[ "$(md5sum < vm.qcow2)" = "$sum_before" ] && ok "the image is unchanged by the refused commands" ||
    bad "the image changed while QEMU held it"
kill $qpid; wait $qpid 2>/dev/null
pids=()
if "$V" resize -q vm.qcow2 +1M; then ok "resize works once QEMU has exited"; else bad "resize after QEMU exited"; fi

# ---- 2. vireo holds the image --------------------------------------------------------------
"$V" create -q -f qcow2 mine.qcow2 4M
"$IO" mine.qcow2 w:0:64k:0x11 p:30 &
vpid=$!
pids+=($vpid)
if ! wait_lock mine.qcow2 101; then
    bad "blkio did not take its write lock"
else
    qemu-img info mine.qcow2 >/dev/null 2>err.txt && bad "qemu-img info ignored vireo's write lock" ||
        ok "qemu-img info refused while vireo writes: $(head -1 err.txt)"
    qemu-img info -U mine.qcow2 >/dev/null 2>&1 && ok "qemu-img info -U works while vireo writes" ||
        bad "qemu-img info -U refused"
    qemu-io -f qcow2 -c "write 0 512" mine.qcow2 >/dev/null 2>err.txt && bad "qemu-io wrote to an image vireo holds" ||
        ok "qemu-io write refused: $(grep -m1 -i lock err.txt)"
    qemu-img resize mine.qcow2 +1M >/dev/null 2>&1 && bad "qemu-img resize ignored vireo's lock" ||
        ok "qemu-img resize refused"
    timeout 60 $QS -machine none -nodefaults -display none -S -accel tcg -monitor none -serial none \
        -drive file=mine.qcow2,if=none,id=d0,format=qcow2 >qemu2.log 2>&1 &
    q2=$!
    pids+=($q2)
    wait $q2
    rc=$?
    if [ $rc != 0 ] && [ $rc != 124 ] && grep -qi "lock" qemu2.log; then
        ok "qemu-system-x86_64 refuses the image: $(grep -m1 -i lock qemu2.log)"
    else
        bad "qemu-system-x86_64 started on an image vireo holds (exit $rc): $(head -c 300 qemu2.log)"
    fi
fi
kill $vpid 2>/dev/null; wait $vpid 2>/dev/null
pids=()
"$V" create -q -f qcow2 bw.qcow2 64M
"$V" bench -w -c 2000000 -d 1 -s 4k bw.qcow2 >/dev/null 2>&1 &
bpid=$!
pids+=($bpid)
if wait_lock bw.qcow2 101; then
    qemu-io -f qcow2 -c "write 0 512" bw.qcow2 >/dev/null 2>err.txt && bad "qemu-io wrote during vireo-img bench -w" ||
        ok "qemu-io refused during vireo-img bench -w: $(grep -m1 -i lock err.txt)"
else
    bad "vireo-img bench -w took no write lock (or finished too soon)"
fi
kill $bpid 2>/dev/null; wait $bpid 2>/dev/null
pids=()
exit 0
