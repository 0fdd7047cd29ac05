#!/usr/bin/env bash
# Run one test and record what it said.
#   tests/run-test.sh RESULTS_DIR NAME COMMAND...
# The test's output goes to RESULTS_DIR/NAME.log.  Lines of the form
#   PASS: what    FAIL: what    SKIP: what (reason)
# are its results.  A test that prints none is judged by its exit status:
# 0 passed, 77 skipped (its last output line is the reason), anything else failed.
# A non-zero exit other than 77 always adds a failure, even after PASS lines, so a
# test that crashes half-way cannot look green.
set -u
dir=$1 name=$2; shift 2
mkdir -p "$dir"
log=$dir/$name.log
"$@" >"$log" 2>&1 </dev/null
status=$?
results=$dir/$name.results
grep -E '^(PASS|FAIL|SKIP): ' "$log" | sed "s|^\([A-Z]*\): |\1: $name: |" >"$results"
if [ ! -s "$results" ]; then
    case $status in
        0)  echo "PASS: $name" >"$results" ;;
        77) echo "SKIP: $name ($(grep -v '^$' "$log" | tail -n 1))" >"$results" ;;
        *)  echo "FAIL: $name (exit status $status; see $log)" >"$results" ;;
    esac
elif [ "$status" -ne 0 ] && [ "$status" -ne 77 ] && ! grep -q '^FAIL' "$results"; then
    echo "FAIL: $name (exit status $status; see $log)" >>"$results"
fi
cat "$results"
if grep -q '^FAIL' "$results"; then
    echo "---- last lines of $log ----"
    tail -n 20 "$log"
    echo "----"
fi
exit 0
