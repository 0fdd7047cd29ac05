#!/usr/bin/env bash
# Count what the tests recorded and print the one summary line.
#   tests/summary.sh RESULTS_DIR TEST_NAMES...
# A test that left no results (it never ran, e.g. its build failed) counts as failed.
set -u
dir=$1; shift
pass=0 fail=0 skip=0
for name in "$@"; do
    f=$dir/$name.results
    if [ ! -f "$f" ]; then
        echo "FAIL: $name (did not run; its build or dependencies failed)"
        fail=$((fail + 1))
        continue
    fi
    p=$(grep -c '^PASS' "$f"); x=$(grep -c '^FAIL' "$f"); s=$(grep -c '^SKIP' "$f")
    pass=$((pass + p)) fail=$((fail + x)) skip=$((skip + s))
done
if [ "$skip" -gt 0 ]; then
    echo "Skipped:"
    cat "$dir"/*.results 2>/dev/null | grep '^SKIP' | sed 's/^/  /'
fi
if [ "$fail" -gt 0 ]; then
    echo "Failed:"
    cat "$dir"/*.results 2>/dev/null | grep '^FAIL' | sed 's/^/  /'
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
