#!/usr/bin/env bash
# Programs nobody here wrote, from Debian source packages (tests/user/srcpkgs.sh),
# built natively and for riscv64: their output under vireo-riscv64 (both JIT
# backends) must equal the native build's.
#   tests/user/run-realprogs.sh BUILD_DIR [SCALE]
set -u
build=$(cd "$1" && pwd); scale=${2:-1}
vireo=$build/vireo-riscv64
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -x "$vireo" ]; then echo "SKIP: user-realprogs (no $vireo: cpu/riscv or jit not built)"; exit 0; fi
if ! command -v riscv64-linux-gnu-gcc >/dev/null; then echo "SKIP: user-realprogs (no riscv64 cross compiler)"; exit 0; fi
bin=$("$here/srcpkgs.sh") || { echo "SKIP: user-realprogs (Debian source packages unavailable)"; exit 0; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
sysroot=/usr/riscv64-linux-gnu
run() { timeout 900 "$vireo" -L "$sysroot" -accel tcg,backend="$1" "${@:2}"; }

# Lua: the workload script, natively and emulated
"$bin/native/lua" "$here/lua/workload.lua" "$scale" >"$tmp/lua.native" 2>&1
for be in native interp; do
    run $be "$bin/riscv64/lua" "$here/lua/workload.lua" "$scale" >"$tmp/lua.$be" 2>&1; rc=$?
    if [ $rc = 0 ] && cmp -s "$tmp/lua.native" "$tmp/lua.$be"; then
        echo "PASS: lua workload [$be] ($(wc -l <"$tmp/lua.native") lines as native)"
    else
        echo "FAIL: lua workload [$be] (exit $rc)"; diff "$tmp/lua.native" "$tmp/lua.$be" | head
    fi
    run $be "$bin/riscv64/lua" -e 'print(_VERSION, math.pi, string.format("%.3f", 2^0.5))' >"$tmp/v.$be" 2>&1
    "$bin/native/lua" -e 'print(_VERSION, math.pi, string.format("%.3f", 2^0.5))' >"$tmp/v.native" 2>&1
    if cmp -s "$tmp/v.native" "$tmp/v.$be"; then echo "PASS: lua -e [$be]"; else echo "FAIL: lua -e [$be]"; fi
done

# zlib: its own example program (self-checking: it exits non-zero on any error)
"$bin/native/zlib-example" "$tmp/foo.gz" >"$tmp/ex.native" 2>&1
for be in native interp; do
    (cd "$tmp" && run $be "$bin/riscv64/zlib-example" "$tmp/foo-$be.gz") >"$tmp/ex.$be" 2>&1; rc=$?
    if [ $rc = 0 ] && cmp -s "$tmp/ex.native" "$tmp/ex.$be"; then
        echo "PASS: zlib example [$be]"
    else
        echo "FAIL: zlib example [$be] (exit $rc)"; diff "$tmp/ex.native" "$tmp/ex.$be" | head
    fi
done

# minigzip: compress under emulation, decompress natively (and with gzip), and back
"$bin/native/lua" -e 'for i = 1, 20000 * '"$scale"' do io.write(string.format("%d %x %s\n", i, i * 2654435761 % 4294967296, ("z"):rep(i % 37))) end' >"$tmp/data"
for be in native interp; do
    run $be "$bin/riscv64/minigzip" -9 <"$tmp/data" >"$tmp/data.$be.gz"
    "$bin/native/minigzip" -9 <"$tmp/data" >"$tmp/data.native.gz"
    if cmp -s "$tmp/data.$be.gz" "$tmp/data.native.gz" && gzip -dc "$tmp/data.$be.gz" | cmp -s - "$tmp/data"; then
        echo "PASS: minigzip compress [$be] (same bytes as native)"
    else
        echo "FAIL: minigzip compress [$be]"
    fi
    if run $be "$bin/riscv64/minigzip" -d <"$tmp/data.native.gz" | cmp -s - "$tmp/data"; then
        echo "PASS: minigzip decompress [$be]"
    else
        echo "FAIL: minigzip decompress [$be]"
    fi
done

# SQLite: the sqlite3 shell runs a scripted SQL workload on a file database (WAL,
# transactions, rollbacks, VACUUM); output must equal the native build's.
if [ -x "$bin/riscv64/sqlite3" ]; then
    sqlw="$here/sqlite/workload.sql"
    (cd "$tmp" && "$bin/native/sqlite3" -cmd ".parameter set @scale $scale" ref.db <"$sqlw" >sql.native 2>&1)
    for be in native interp; do
        (cd "$tmp" && run $be "$bin/riscv64/sqlite3" -cmd ".parameter set @scale $scale" "emu-$be.db" <"$sqlw") >"$tmp/sql.$be" 2>&1; rc=$?
        if [ $rc = 0 ] && cmp -s "$tmp/sql.native" "$tmp/sql.$be" && [ "$(tail -n 2 "$tmp/sql.native" | head -n 1)" = ok ]; then
            echo "PASS: sqlite workload [$be] ($(wc -l <"$tmp/sql.native") lines as native)"
        else
            echo "FAIL: sqlite workload [$be] (exit $rc)"; diff "$tmp/sql.native" "$tmp/sql.$be" | head
        fi
        q="select sqlite_version(), printf('%.3f', 1e10 / 7), hex(zeroblob(3)), upper('ok');"
        if [ "$(run $be "$bin/riscv64/sqlite3" :memory: "$q" 2>&1)" = "$("$bin/native/sqlite3" :memory: "$q" 2>&1)" ]; then
            echo "PASS: sqlite :memory: [$be]"
        else
            echo "FAIL: sqlite :memory: [$be]"
        fi
    done
else
    echo "FAIL: sqlite (not built by srcpkgs.sh)"
fi
