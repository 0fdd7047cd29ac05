#!/usr/bin/env bash
# Every crash point of snapshot create and delete, deterministically: the
# operation (vireo-img snapshot -c / -d) runs under strace, which kills it with
# SIGKILL right after its k-th pwrite, for every k until the operation completes.
# After each kill:
#   - qemu-img check finds no refcount lower than the references and no COPIED
#     flag on a cluster whose refcount is above 1 (the states that let a write
#     land in a shared cluster); leaks, and a flag clear on a refcount of 1, are
#     allowed: they cost space or one needless copy;
#   - the guest data reads back as before (qemu-img compare);
#   - after `vireo-img check -r leaks`, both vireo-img check and qemu-img check
#     find the image clean, as after `qemu-img check -r leaks` of the same image.
#
#   tests/blockfmt/crashpoints.sh VIREO_IMG
set -u
vimg=$(realpath -m "$1")
for t in qemu-img qemu-io strace; do
    if ! command -v $t >/dev/null; then
        echo "SKIP: snapshot crash points ($t not installed)"
        exit 0
    fi
done
[ -x "$vimg" ] || { echo "SKIP: snapshot crash points (vireo-img not built)"; exit 0; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
if ! strace -qq -o /dev/null -e trace=pwrite64 true 2>/dev/null; then
    echo "SKIP: snapshot crash points (strace cannot trace here)"
    exit 0
fi

# qemu-img check output lines that are never allowed after a crash
unsafe() {
    awk '
    /^ERROR cluster [0-9]+ refcount=[0-9]+ reference=[0-9]+/ {
        split($4, a, "="); split($5, b, "=");
        if (a[2] + 0 < b[2] + 0) print; next }
    /^ERROR OFLAG_COPIED/ {
        e = $0; sub(/.*_entry=/, "", e); sub(/ .*/, "", e);
        rc = $NF; sub(/refcount=/, "", rc);
        # the flag is bit 63: a 16-digit entry starting with 8..f
        if (length(e) == 16 && e ~ /^[89a-f]/ && rc + 0 > 1) print; next }
    /^ERROR/ { print }' "$1"
}

# LeakSanitizer cannot run under ptrace: no leak check for the traced runs
# (the other runs of vireo-img keep it)
traced_asan="ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

fails=0
# base image: data in several L2 tables, a snapshot taken by qemu-img, then
# more writes so that some clusters are shared and some are not
qemu-img create -q -f qcow2 -o cluster_size=4096 base.qcow2 16M || exit 1
qemu-io -c 'write -P 0x11 0 96k' -c 'write -P 0x22 3M 64k' -c 'write -P 0x33 9M 32k' \
    base.qcow2 >/dev/null || exit 1
qemu-img snapshot -c old base.qcow2 || exit 1
qemu-io -c 'write -P 0x44 32k 32k' -c 'write -P 0x55 12M 48k' base.qcow2 >/dev/null || exit 1

for op in create delete; do
    case $op in
        create) args=(snapshot -c new) ;;
        delete) args=(snapshot -d old) ;;
    esac
    # the number of pwrites of a run that is not killed
    cp base.qcow2 full.qcow2
    env "$traced_asan" strace -qq -o trace.txt -e trace=pwrite64 "$vimg" "${args[@]}" full.qcow2 ||
        { echo "FAIL: snapshot $op: vireo-img ${args[*]} under strace failed"; exit 1; }
    n=$(grep -c pwrite64 trace.txt)
    bad=0
    for k in $(seq 1 "$n"); do
        cp base.qcow2 k.qcow2
        # (in a shell of its own, whose "Killed" report goes to /dev/null)
        env "$traced_asan" sh -c 'strace -qq -o /dev/null -e trace=pwrite64 \
            -e inject=pwrite64:signal=KILL:when=$0 "$@"; true' \
            "$k" "$vimg" "${args[@]}" k.qcow2 >/dev/null 2>&1
        qemu-img check k.qcow2 >q.txt 2>&1
        unsafe q.txt >u.txt
        if [ -s u.txt ]; then
            echo "FAIL: snapshot $op killed after pwrite $k/$n: $(head -n 3 u.txt | tr '\n' '|')"
            bad=$((bad + 1))
            continue
        fi
        if ! qemu-img compare -q base.qcow2 k.qcow2; then
            echo "FAIL: snapshot $op killed after pwrite $k/$n: the data changed"
            bad=$((bad + 1))
            continue
        fi
        "$vimg" check -r leaks k.qcow2 >r.txt 2>&1
        rst=$?
        "$vimg" check k.qcow2 >v.txt 2>&1
        vst=$?
        qemu-img check k.qcow2 >q2.txt 2>&1
        qst=$?
        if [ $rst -ne 0 ] || [ $vst -ne 0 ] || [ $qst -ne 0 ]; then
            echo "FAIL: snapshot $op killed after pwrite $k/$n: vireo-img check -r leaks exit $rst," \
                 "then vireo-img check $vst, qemu-img check $qst:" \
                 "$(grep -h '^ERROR\|^Leaked' r.txt q2.txt | head -n 3 | tr '\n' '|')"
            bad=$((bad + 1))
        fi
    done
    if [ "$bad" -eq 0 ]; then
        echo "PASS: snapshot $op: killed after each of its $n pwrites, never unsafe, repaired clean"
    fi
    fails=$((fails + bad))
done
[ "$fails" -eq 0 ]
