#!/usr/bin/env bash
# Crash consistency of qcow2: a writer (crash-writer, linking libblock) doing random
# writes, cluster and L2 allocation, flushes and internal snapshots is killed with
# SIGKILL at a random moment.  Afterwards:
#   - vireo-img check finds no corruption (exit 0, or 3: leaks only),
#   - qemu-img check agrees,
#   - every write that completed before a flush is on the image (crash-writer verify),
#   - `vireo-img check -r leaks` repairs the leaks and qemu-img check is then clean.
#
# One state is accepted although both tools count it as errors: COPIED clear on
# clusters whose refcount is 1.  A snapshot clears the COPIED flags, then raises
# the refcounts, and flag and refcount live in different clusters, so a kill
# between the two leaves it (docs/block.md); qemu's own snapshot code has the same
# window.  It is harmless (the next write copies a cluster it could have reused)
# and `-r leaks` in both tools repairs it, so a round passes when every error line
# is exactly that and the repair then leaves qemu-img check clean.  COPIED *set*
# on a refcount above 1 (a write could land in a shared cluster) always fails.
#
#   tests/blockfmt/crash.sh CRASH_WRITER VIREO_IMG ITERATIONS [delete]
#
# With "delete" the writer also deletes old snapshots (check-long): a kill in the
# middle of a deletion must leave leaks at worst, like everything else.
set -u

# True when every ERROR line of a check report is a COPIED flag missing on a
# cluster with refcount 1 (and there is at least one).
only_copied_clear() {
    grep -q '^ERROR' "$1" &&
        ! grep '^ERROR' "$1" | grep -qvE '^ERROR OFLAG_COPIED (data cluster: l2_entry=[0-9a-f]+|L2 cluster: l1_index=[0-9]+ l1_entry=[0-9a-f]+) refcount=1$'
}
writer=$(realpath "$1")
vimg=$(realpath -m "$2")
iters=$3
mode=${4:-}
if ! command -v qemu-img >/dev/null; then
    echo "SKIP: crash consistency (qemu-img not installed; package qemu-utils)"
    exit 0
fi
[ -x "$vimg" ] || { echo "SKIP: crash consistency (vireo-img not built)"; exit 0; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

RANDOM=4242                         # the kill points repeat from run to run
for i in $(seq 1 "$iters"); do
    rm -f img.qcow2 log
    # vary the layout: cluster size and lazy refcounts
    case $((i % 3)) in
        0) opts=cluster_size=65536 ;;
        1) opts=cluster_size=4096 ;;
        2) opts=cluster_size=65536,lazy_refcounts=on ;;
    esac
    # made by the reference tool, so that only the writer's changes are under test
    if ! qemu-img create -q -f qcow2 -o "$opts" img.qcow2 256M >err.txt 2>&1; then
        echo "FAIL: crash $i: qemu-img create: $(cat err.txt)"
        continue
    fi
    "$writer" write img.qcow2 log "$i" $mode 2>writer.txt &
    pid=$!
    # kill somewhere between 20 ms and 1.5 s in
    sleep "0.$(printf %02d $((RANDOM % 98 + 2)))"
    [ $((RANDOM % 2)) = 1 ] && sleep 0.5
    if ! kill -0 $pid 2>/dev/null; then
        wait $pid
        echo "FAIL: crash $i: the writer stopped by itself: $(cat writer.txt)"
        continue
    fi
    kill -KILL $pid
    wait $pid 2>/dev/null
    nrec=$(( $(stat -c %s log 2>/dev/null || echo 0) / 16 ))
    # a failing image is kept for whoever debugs it
    keep=${TMPDIR:-/tmp}/vireo-crash-fail-$i.qcow2
    cp img.qcow2 crashed.qcow2

    "$vimg" check -f qcow2 img.qcow2 >vcheck.txt 2>&1
    vst=$?
    qemu-img check -f qcow2 img.qcow2 >qcheck.txt 2>&1
    qst=$?
    copied=
    if [ $vst -eq 2 ] && [ $qst -eq 2 ] && only_copied_clear vcheck.txt && only_copied_clear qcheck.txt; then
        copied=" (COPIED clear on refcount 1 after a kill inside a snapshot, repaired)"
        vst=3 qst=3     # repaired like leaks below, and must come out clean
    fi
    if [ $vst -ne 0 ] && [ $vst -ne 3 ]; then
        echo "FAIL: crash $i ($opts): vireo-img check exit $vst: $(head -n 5 vcheck.txt | tr '\n' '|') (image kept: $keep)"
        cp crashed.qcow2 "$keep"
        continue
    fi
    if [ $qst -ne 0 ] && [ $qst -ne 3 ]; then
        echo "FAIL: crash $i ($opts): qemu-img check exit $qst: $(head -n 5 qcheck.txt | tr '\n' '|') (image kept: $keep)"
        cp crashed.qcow2 "$keep"
        continue
    fi
    if ! "$writer" verify img.qcow2 log >verify.txt 2>&1; then
        echo "FAIL: crash $i ($opts): flushed writes missing: $(head -n 6 verify.txt | tr '\n' '|')"
        continue
    fi
    if [ $vst -eq 3 ] || [ $qst -eq 3 ]; then
        "$vimg" check -r leaks -f qcow2 img.qcow2 >rcheck.txt 2>&1
        rst=$?
        qemu-img check -f qcow2 img.qcow2 >qcheck2.txt 2>&1
        qst2=$?
        if [ $rst -ne 0 ] || [ $qst2 -ne 0 ]; then
            echo "FAIL: crash $i ($opts): leaks not repaired: vireo-img check -r leaks exit $rst," \
                 "then qemu-img check exit $qst2: $(cat rcheck.txt qcheck2.txt | grep -v '^$' | head -n 6 | tr '\n' '|') (image before repair kept: $keep)"
            cp crashed.qcow2 "$keep"
            continue
        fi
        leak=" (leaks repaired)"
    else
        leak=
    fi
    echo "PASS: crash $i ($opts): $nrec flushed writes intact, vireo-img check $vst, qemu-img check $qst$leak$copied"
done
