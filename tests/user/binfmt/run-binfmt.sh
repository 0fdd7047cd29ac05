#!/usr/bin/env bash
# binfmt_misc flags for real: the kernel itself starts vireo-riscv64 for a riscv64
# program (probe.c), with each flag vireo-binfmt offers.  Registering is done in a
# user namespace of our own, whose binfmt_misc instance is private (Linux >= 6.7),
# so the machine's entries are never touched; without that: SKIP with the reason.
#   tests/user/binfmt/run-binfmt.sh BUILD_DIR        (run from run-cli.sh)
set -u
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
binfmt=$here/../../../standalone/user/vireo-binfmt
if [ "${2:-}" != inner ]; then
    for t in unshare setpriv chroot; do
        command -v $t >/dev/null || { echo "SKIP: binfmt_misc flags ($t not installed)"; exit 0; }
    done
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    chmod 755 "$tmp"
    mkfifo "$tmp/go"
    # The namespace maps uids and gids 0-65535 as they are (so nobody and a set-user-ID
    # owner exist in it); the map is written from here, outside it.
    unshare --user --mount bash -c 'read <"$1"; exec "$2" "$3" inner "$4"' - "$tmp/go" "$0" "$build" "$tmp" &
    pid=$!
    sleep 0.2
    if echo "0 0 65536" >/proc/$pid/uid_map 2>/dev/null && echo "0 0 65536" >/proc/$pid/gid_map 2>/dev/null; then
        echo >"$tmp/go"
        wait $pid
    else
        echo >"$tmp/go"
        wait $pid >/dev/null 2>&1
        echo "SKIP: binfmt_misc flags (cannot map users into a user namespace: not root?)"
    fi
    exit 0
fi

# Inside the namespace.
tmp=$3
if ! mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    echo "SKIP: binfmt_misc flags (no private binfmt_misc instance in a user namespace: Linux < 6.7?)"
    exit 0
fi
# Close descriptors inherited from whoever ran us, so "extra fds" counts the emulator's.
for fd in /proc/$$/fd/*; do
    n=${fd##*/}
    [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-"
done
check() { if eval "$2"; then echo "PASS: $1"; else echo "FAIL: $1"; cat "$tmp/out" "$tmp/err" | head -n 12; fi; }
for link in static dyn; do
    cp "$build/user/binfmt/probe-$link" "$tmp/probe-$link"
    chmod 755 "$tmp/probe-$link"
done
register() {  # FLAGS [VIREO]
    "$binfmt" --register --flags "$1" "${2:-$build/vireo-riscv64}" >/dev/null &&
        grep -qx "flags: $1" /proc/sys/fs/binfmt_misc/vireo-riscv64
}
run() {  # COMMAND... x 'y z' with argv[0] myname (setpriv then runs the probe by its path)
    (exec -a myname "$@" x "y z") >"$tmp/out" 2>"$tmp/err"
}
args_are() { [ "$(grep '^argv' "$tmp/out" | tr '\n' ' ')" = "argv[0]=$1 argv[1]=x argv[2]=y z " ]; }

for link in static dyn; do
    p=$tmp/probe-$link
    register "" || { echo "FAIL: register without flags"; continue; }
    run "$p"
    check "binfmt no flags ($link): argv[0] is the path, as before" 'args_are "$p" && grep -qx "exe=probe-$link" "$tmp/out"'
    register P
    run "$p"
    check "binfmt P ($link): argv[0] preserved, arguments intact" 'args_are myname && grep -qx "exe=probe-$link" "$tmp/out" && grep -qx "extra fds=0" "$tmp/out"'
    # O: an execute-only program (no read permission for anyone; the root of this
    # namespace gives up the capabilities that bypass it).
    chmod 111 "$p"
    noread="setpriv --bounding-set -dac_override,-dac_read_search --inh-caps -all"
    register P
    run $noread "$p"
    check "binfmt P, execute-only program ($link): refused without O" 'grep -q "not readable" "$tmp/err"'
    register PO
    run $noread "$p"
    check "binfmt PO, execute-only program ($link): runs from AT_EXECFD, fd closed" 'args_are "$p" && grep -qx "exe=probe-$link" "$tmp/out" && grep -qx "extra fds=0" "$tmp/out"'
    # C: a set-user-ID program owned by uid 1000, run by nobody.
    chown 1000:1000 "$p"
    chmod 4755 "$p"
    register P
    run setpriv --reuid 65534 --regid 65534 --clear-groups "$p"
    check "binfmt P, set-user-ID program ($link): runs as the caller without C" 'args_are "$p" && grep -qx "uid=65534 euid=65534 secure=0" "$tmp/out"'
    register POC
    run setpriv --reuid 65534 --regid 65534 --clear-groups "$p"
    check "binfmt POC, set-user-ID program ($link): its owner's euid, AT_SECURE" 'args_are "$p" && grep -qx "uid=65534 euid=1000 secure=1" "$tmp/out" && grep -qx "extra fds=0" "$tmp/out"'
    chown 0:0 "$p"
    chmod 755 "$p"
done
# F: the kernel keeps the interpreter open from registration; it runs in a chroot
# that has nothing but the program (no libraries, no /proc), even once the file is gone.
if [ ! -x "$build/vireo-riscv64-static" ]; then
    echo "SKIP: binfmt PF in a chroot (no vireo-riscv64-static: SANITIZE=1 cannot link statically)"
    "$binfmt" --unregister
    exit 0
fi
cp "$build/vireo-riscv64-static" "$tmp/vireo"
chmod 755 "$tmp/vireo"
mkdir -p "$tmp/root"
cp "$tmp/probe-static" "$tmp/root/probe"
register PF "$tmp/vireo"
rm -f "$tmp/vireo"
(chroot "$tmp/root" /probe x "y z") >"$tmp/out" 2>"$tmp/err"
check "binfmt PF: static program in an empty chroot, interpreter file removed" 'args_are /probe && grep -qx "uid=0 euid=0 secure=0" "$tmp/out"'
"$binfmt" --register --flags P "$build/vireo-riscv64" >/dev/null
(chroot "$tmp/root" /probe x "y z") >"$tmp/out" 2>"$tmp/err"
check "binfmt P without F: the same chroot cannot find the interpreter" '! grep -q "^argv" "$tmp/out"'
"$binfmt" --unregister
