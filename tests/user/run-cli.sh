#!/usr/bin/env bash
# The command line of vireo-riscv64: -0, -E, -U compared with qemu-riscv64's;
# -strace, -version, -h; bad input gives one message and exit status 1.
#   tests/user/run-cli.sh BUILD_DIR
set -u
build=$(cd "$1" && pwd)
vireo=$build/vireo-riscv64 prog=$build/user/progs/static/args
qemu=$(command -v qemu-riscv64-static || command -v qemu-riscv64 || true)
if [ ! -x "$vireo" ]; then echo "SKIP: user-cli (no $vireo)"; exit 0; fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
check() { if eval "$2"; then echo "PASS: $1"; else echo "FAIL: $1"; fi; }

export VIREO_B=inherited
for opts in "" "-0 zero" "-E VIREO_A=set" "-U VIREO_B" "-E VIREO_A=x -U VIREO_B -0 name"; do
    # shellcheck disable=SC2086
    "$vireo" $opts "$prog" one "two words" >"$tmp/v" 2>&1; vrc=$?
    if [ -n "$qemu" ]; then
        # shellcheck disable=SC2086
        "$qemu" $opts "$prog" one "two words" >"$tmp/q" 2>&1; qrc=$?
        check "options '$opts' as qemu" '[ $vrc = $qrc ] && cmp -s "$tmp/v" "$tmp/q"'
    else
        echo "SKIP: options '$opts' (qemu-riscv64 not installed)"
    fi
done
"$vireo" -strace "$prog" x >"$tmp/out" 2>"$tmp/err"
check "-strace logs write and exit_group" 'grep -q " write(0x1," "$tmp/err" && grep -q "exit_group(0x2" "$tmp/err" && grep -q "argv\[1\]=x" "$tmp/out"'
"$vireo" -strace "$build/user/progs/dyn/args" >/dev/null 2>"$tmp/err"
check "-strace prints path arguments and every common call's name" 'grep -q "openat(0x[0-9a-f]*,\"/etc/ld.so.cache\",0x" "$tmp/err" && grep -q " mmap(0x" "$tmp/err" && grep -q " newfstatat(0x" "$tmp/err" && ! grep -q " ?(" "$tmp/err"'
check "-version" '"$vireo" -version | grep -q "^vireo-riscv64 version"'
check "-h" '"$vireo" -h | grep -q "^usage: vireo-riscv64"'
"$vireo" -bogus "$prog" >/dev/null 2>"$tmp/err"; rc=$?
check "unknown option: exit 1 and a message" '[ $rc = 1 ] && grep -q "unknown option.*-bogus" "$tmp/err"'
"$vireo" /nonexistent/prog 2>"$tmp/err"; rc=$?
check "missing program: exit 1 naming it" '[ $rc = 1 ] && grep -q "/nonexistent/prog" "$tmp/err" && [ $(wc -l <"$tmp/err") = 1 ]'
"$vireo" /bin/true 2>"$tmp/err"; rc=$?
check "host program refused: exit 1 naming it" '[ $rc = 1 ] && grep -q "not a riscv64 ELF" "$tmp/err"'
head -c 100 /dev/urandom >"$tmp/garbage"; printf '\177ELF\002\001\001' | dd of="$tmp/garbage" conv=notrunc 2>/dev/null
"$vireo" "$tmp/garbage" 2>"$tmp/err"; rc=$?
check "corrupt ELF refused: exit 1" '[ $rc = 1 ] && grep -q "garbage" "$tmp/err"'
"$vireo" -accel tcg,backend=nope "$prog" 2>"$tmp/err"; rc=$?
check "unknown backend: exit 1" '[ $rc = 1 ] && grep -q "backend" "$tmp/err"'

# binfmt_misc: the entry vireo-binfmt registers must select riscv64 executables
# (static, dynamic/PIE) and nothing else, and match Debian's qemu-riscv64 entry.
binfmt=$(cd "$(dirname "$0")/../../standalone/user" && pwd)/vireo-binfmt
line=$("$binfmt" --print "$vireo")
hexof() { printf '%b' "$1" | od -An -tx1 -v | tr -s ' \n' ' '; }
magic=($(hexof "$(echo "$line" | cut -d: -f5)")) mask=($(hexof "$(echo "$line" | cut -d: -f6)"))
matches() {
    local f=($(head -c 20 "$1" | od -An -tx1 -v | tr -s ' \n' ' '))
    [ ${#f[@]} = 20 ] || return 1
    for i in $(seq 0 19); do
        [ $((0x${f[i]} & 0x${mask[i]})) = $((0x${magic[i]} & 0x${mask[i]})) ] || return 1
    done
}
check "binfmt entry: 20-byte magic and mask, interpreter is this vireo" '[ ${#magic[@]} = 20 ] && [ ${#mask[@]} = 20 ] && [ "$(echo "$line" | cut -d: -f7)" = "$vireo" ]'
check "binfmt entry matches riscv64 static and dynamic programs" 'matches "$prog" && matches "$build/user/progs/dyn/args" && matches /usr/riscv64-linux-gnu/lib/ld-linux-riscv64-lp64d.so.1'
riscv64-linux-gnu-gcc -c -x c - -o "$tmp/rel.o" <<<'int x;' 2>/dev/null
check "binfmt entry refuses host programs, riscv64 objects and text" '! matches /bin/true && ! matches "$tmp/rel.o" && ! matches "$0"'
qconf=/usr/lib/binfmt.d/qemu-riscv64.conf
if [ -f "$qconf" ]; then
    qmagic=($(hexof "$(cut -d: -f5 "$qconf")")) qmask=($(hexof "$(cut -d: -f6 "$qconf")"))
    check "binfmt magic and mask as Debian's qemu-riscv64 entry" '[ "${magic[*]}" = "${qmagic[*]}" ] && [ "${mask[*]}" = "${qmask[*]}" ]'
else
    echo "SKIP: binfmt entry against qemu's (no $qconf)"
fi
"$(dirname "$0")/binfmt/run-binfmt.sh" "$build"
