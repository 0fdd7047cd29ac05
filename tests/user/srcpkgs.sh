#!/usr/bin/env bash
# Fetch Debian source packages (Lua 5.4, zlib, SQLite) with apt-get source and
# build them natively and for riscv64 into the cache; the user-mode tests and
# benchmarks run these programs, which nobody here wrote.
#   tests/user/srcpkgs.sh        prints the folder holding native/ and riscv64/
# Idempotent: a finished build is not redone (SQLite's is keyed on its Debian
# version).  Two callers at once take turns.
set -eu
cache=${VIREO_CACHE:-$HOME/.cache/vireo}/user-src
out=$cache/bin
stamp=$out/.built-v1
mkdir -p "$cache" "$out/native" "$out/riscv64"
exec 9>"$cache/.lock"
flock 9
if [ -f "$stamp" ] && ls "$out"/.built-sqlite-* >/dev/null 2>&1; then echo "$out"; exit 0; fi
need_src() { apt-cache showsrc "$1" 2>/dev/null | grep -q '^Package:'; }
if ! need_src zlib; then
    # Debian's archive carries the sources; add a deb-src entry for it if missing.
    sudo=; [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo tee /etc/apt/sources.list.d/vireo-deb-src.sources >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    $sudo apt-get update -qq -o DPkg::Lock::Timeout=300 >/dev/null
fi
cd "$cache"
for pkg in lua5.4 zlib sqlite3; do
    if ! ls -d "$cache/$pkg"-*/ >/dev/null 2>&1 && ! ls -d "$cache"/"${pkg%5.4}"*-*/ >/dev/null 2>&1; then
        apt-get source -qq "$pkg" >/dev/null 2>&1 || { echo "srcpkgs: apt-get source $pkg failed" >&2; exit 1; }
    fi
done
lua=$(ls -d "$cache"/lua5.4-*/ | head -n 1)
zlib=$(ls -d "$cache"/zlib-*/ | head -n 1)
sqlite=$(ls -d "$cache"/sqlite3-*/ | head -n 1)
[ -f "$stamp" ] || for arch in native riscv64; do
    cc=gcc; [ $arch = riscv64 ] && cc=riscv64-linux-gnu-gcc
    # Lua: the interpreter from its own sources, as its Makefile's "linux" target
    # builds it (LUA_USE_LINUX), without readline.
    # Debian's luaconf.h includes a header its rules generate with the multiarch name.
    luasrc=$(ls "$lua"/src/*.c | grep -v -e '/luac\.c$' -e '/onelua\.c$')
    inc=$cache/inc-$arch; mkdir -p "$inc"
    triple=x86_64-linux-gnu; [ $arch = riscv64 ] && triple=riscv64-linux-gnu
    echo "#define DEB_HOST_MULTIARCH \"$triple\"" >"$inc/lua5.4-deb-multiarch.h"
    # shellcheck disable=SC2086
    $cc -O2 -std=gnu99 -I"$inc" -DLUA_COMPAT_5_3 -DLUA_USE_LINUX -o "$out/$arch/lua" $luasrc -lm -ldl
    # zlib: the library plus its example and minigzip test programs.
    zsrc="adler32.c compress.c crc32.c deflate.c gzclose.c gzlib.c gzread.c gzwrite.c infback.c inffast.c inflate.c inftrees.c trees.c uncompr.c zutil.c"
    (cd "$zlib" && $cc -O2 -D_LARGEFILE64_SOURCE=1 -DHAVE_HIDDEN -I. -o "$out/$arch/minigzip" test/minigzip.c $zsrc &&
        $cc -O2 -D_LARGEFILE64_SOURCE=1 -DHAVE_HIDDEN -I. -o "$out/$arch/zlib-example" test/example.c $zsrc)
done
touch "$stamp"

# SQLite: the sqlite3 shell from the amalgamation (sqlite3.c + shell.c), which its
# own build generates with tclsh; -O2 as Debian builds it.  About 80 s of CPU for
# both builds (they run in parallel), once per Debian version.
sqlver=$(dpkg-parsechangelog -l "$sqlite/debian/changelog" -S Version)
sqlstamp=$out/.built-sqlite-$sqlver
if [ ! -f "$sqlstamp" ]; then
    amal=$cache/sqlite-amalgamation-$sqlver
    if [ ! -f "$amal/shell.c" ]; then
        rm -rf "$amal.tmp"; mkdir -p "$amal.tmp"
        (cd "$amal.tmp" && "$sqlite/configure" --disable-tcl --disable-readline >configure.log 2>&1 &&
            make sqlite3.c shell.c >make.log 2>&1) ||
            { echo "srcpkgs: generating the SQLite amalgamation failed (see $amal.tmp)" >&2; exit 1; }
        rm -rf "$amal"; mv "$amal.tmp" "$amal"
    fi
    pids=
    for arch in native riscv64; do
        cc=gcc; [ $arch = riscv64 ] && cc=riscv64-linux-gnu-gcc
        (cd "$amal" && $cc -O2 -DSQLITE_THREADSAFE=1 -DSQLITE_OMIT_LOAD_EXTENSION -I. \
            -o "$out/$arch/sqlite3" sqlite3.c shell.c -lm -lpthread) &
        pids="$pids $!"
    done
    for p in $pids; do wait "$p" || { echo "srcpkgs: building SQLite failed" >&2; exit 1; }; done
    rm -f "$out"/.built-sqlite-*
    touch "$sqlstamp"
fi
echo "$out"
