#!/usr/bin/env bash
# Run the syscall storm (tests/user/hostile/storm.c) under vireo-riscv64 and judge
# the emulator: no crash report of its own, no sanitizer report, no hang, every
# child ended by exit or a guest-visible signal.
#   tests/user/hostile/run-storm.sh BUILD_DIR SEED|random CHILDREN THREADS CALLS [BACKEND...]
# The storm runs as an unprivileged user in its own pid and network namespaces when
# this is root (a random kill(-1) or chmod("/") must not reach the machine), in a
# scratch directory; its output is drained through a pipe (children write garbage
# to fds 1 and 2) and kept in BUILD_DIR/test-results/storm-SEED.out.
set -u
arg0="$0 $1"; build=$(cd "$1" && pwd); seed=$2; children=$3; threads=$4; calls=$5; shift 5
backends=${*:-native interp}
vireo=$build/vireo-riscv64
storm=$build/user/hostile/storm
if [ ! -x "$vireo" ]; then echo "SKIP: user-storm (no $vireo: cpu/riscv or jit not built)"; exit 0; fi
[ "$seed" = random ] && seed=$(( (RANDOM << 15 | RANDOM) + 1 ))
echo "storm seed $seed (rerun: $arg0 $seed $children $threads $calls)"

sandbox=()
if [ "$(id -u)" = 0 ]; then
    if ! command -v setpriv >/dev/null; then
        echo "SKIP: user-storm (running as root and setpriv is missing to drop privileges)"; exit 0
    fi
    if unshare --pid --net --fork --kill-child true 2>/dev/null; then
        sandbox=(unshare --pid --net --fork --kill-child)
    fi
    sandbox+=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)
fi
# LeakSanitizer is off: storm children end at arbitrary points, and its exit-time
# scan failed now and then ("LeakSanitizer has encountered a fatal error") in
# children whose rlimits and signal state the storm had changed.  Leaks are not
# what this test is about; ASan and UBSan stay on.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
chmod 777 "$work"
mkdir -p "$build/test-results"
status=0
for backend in $backends; do
    out=$build/test-results/storm-$seed-$backend.out
    what="storm seed $seed, $children children x $threads threads x $calls calls [$backend]"
    mkdir -p "$work/$backend" && chmod 777 "$work/$backend"
    start=$(date +%s)
    # shellcheck disable=SC2016
    (cd "$work/$backend" && exec timeout -s KILL 1800 "${sandbox[@]}" "$vireo" -accel "tcg,backend=$backend" \
        "$storm" "$seed" "$children" "$threads" "$calls") 2>&1 </dev/null | LC_ALL=C tr -c '\n -~' '.' >"$out"
    rc=${PIPESTATUS[0]}
    secs=$(( $(date +%s) - start ))
    grep -a '^storm: ' "$out" | grep -v '^storm: ok' | tail -n 40
    if grep -aqE 'in the emulator itself|Sanitizer|runtime error|cannot run the CPU' "$out"; then
        echo "FAIL: $what: the emulator reported an error of its own (see $out)"
        grep -aE -A12 'in the emulator itself|Sanitizer|runtime error|cannot run the CPU' "$out" | head -n 40
        status=1
    elif [ "$rc" != 0 ] || ! grep -aq '^storm: ok' "$out"; then
        echo "FAIL: $what (exit status $rc after ${secs}s; see $out)"
        status=1
    else
        echo "PASS: $what: $(grep -a '^storm: seed' "$out" | tail -n 1 | sed 's/^storm: seed [0-9]*: //') (${secs}s)"
    fi
done
exit $status
