#!/usr/bin/env bash
# Hand-made hostile images (tests/blockfmt/hostile.py): each must give one clear
# error line that names the problem, a non-zero exit (not a signal), and no
# sanitizer report.
#
#   tests/blockfmt/hostile.sh BF_TOOL [VIREO_IMG]
#
# VMDK, VDI and VHD images go through bf-tool (the format code alone) and, when it is
# built, through vireo-img info, check and convert.  qcow2 images need vireo-img.
set -u
tool=$(realpath "$1")
vimg=${2:+$(realpath -m "$2")}
[ -n "$vimg" ] && [ ! -x "$vimg" ] && vimg=
if ! command -v qemu-img >/dev/null || ! command -v python3 >/dev/null; then
    echo "SKIP: hostile images (qemu-img or python3 missing; packages qemu-utils, python3)"
    exit 0
fi
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
py=/usr/bin/python3
[ -x $py ] || py=python3
$py "$here/hostile.py" "$work" >"$work/list" || { echo "FAIL: hostile.py"; exit 1; }
cd "$work" || exit 1

# expect_error WHAT KEYWORD COMMAND...: the command must fail cleanly with one line
expect_error() {
    local what=$1 key=$2 status lines
    shift 2
    "$@" >out.txt 2>err.txt </dev/null
    status=$?
    lines=$(grep -c . err.txt)
    if grep -qE 'Sanitizer|runtime error|LeakSanitizer' err.txt; then
        echo "FAIL: $what: sanitizer report: $(grep -m1 -E 'Sanitizer|runtime error' err.txt)"
    elif [ $status -eq 0 ]; then
        echo "FAIL: $what: accepted (exit 0)"
    elif [ $status -ge 128 ]; then
        echo "FAIL: $what: killed by signal $((status - 128))"
    elif [ "$lines" -ne 1 ]; then
        echo "FAIL: $what: $lines error lines, expected one: $(head -c 300 err.txt | tr '\n' '|')"
    elif ! grep -qi -- "$key" err.txt; then
        echo "FAIL: $what: error does not mention '$key': $(cat err.txt)"
    else
        echo "PASS: $what: $(cat err.txt)"
    fi
}

# expect_survive WHAT COMMAND...: any exit status, but no crash and no sanitizer report
expect_survive() {
    local what=$1 status
    shift
    "$@" >out.txt 2>err.txt </dev/null
    status=$?
    if grep -qE 'Sanitizer|runtime error' err.txt; then
        echo "FAIL: $what: sanitizer report: $(grep -m1 -E 'Sanitizer|runtime error' err.txt)"
    elif [ $status -ge 128 ]; then
        echo "FAIL: $what: killed by signal $((status - 128))"
    else
        echo "PASS: $what: survived (exit $status)"
    fi
}

# expect_corrupt WHAT KEYWORD COMMAND...: a check that reports corruption (exit 2)
expect_corrupt() {
    local what=$1 key=$2 status
    shift 2
    "$@" >out.txt 2>err.txt </dev/null
    status=$?
    if grep -qE 'Sanitizer|runtime error' err.txt out.txt; then
        echo "FAIL: $what: sanitizer report"
    elif [ $status -ne 2 ]; then
        echo "FAIL: $what: exit $status, expected 2 (corruptions found)"
    elif ! grep -qi -- "$key" out.txt err.txt; then
        echo "FAIL: $what: output does not mention '$key'"
    else
        echo "PASS: $what: corruption reported (exit 2)"
    fi
}

n=0
while read -r fmt file action key; do
    n=$((n + 1))
    if [ "$action" = check ]; then
        if [ -n "$vimg" ]; then
            expect_corrupt "$fmt $file: vireo-img check" "$key" "$vimg" check -f "$fmt" "$file"
            if [ "$fmt" = vdi ]; then
                # qemu-img checks VDI block maps too: it must agree there is damage
                # (exit 2), or fail its check (exit 1: it gives up on a huge map)
                qemu-img check -f vdi "$file" >/dev/null 2>&1
                st=$?
                [ $st = 2 ] || [ $st = 1 ] && echo "PASS: $fmt $file: qemu-img check agrees (exit $st)" ||
                    echo "FAIL: $fmt $file: qemu-img check exit $st, vireo-img found corruption"
            fi
            expect_survive "$fmt $file: vireo-img info" "$vimg" info -f "$fmt" "$file"
            expect_survive "$fmt $file: vireo-img convert" "$vimg" convert -f "$fmt" -O raw "$file" out.raw
        fi
        continue
    fi
    if [ "$fmt" != qcow2 ]; then
        [ "$action" = open ] && expect_error "$fmt $file: bf-tool info" "$key" "$tool" info "$fmt" "$file"
        expect_error "$fmt $file: bf-tool toraw" "$key" "$tool" toraw "$fmt" "$file" out.raw
    fi
    if [ -n "$vimg" ]; then
        [ "$action" != read ] && expect_error "$fmt $file: vireo-img info" "$key" "$vimg" info -f "$fmt" "$file"
        [ "$action" = open ] && expect_error "$fmt $file: vireo-img check" "" "$vimg" check -f "$fmt" "$file"
        [ "$action" = backing ] && expect_survive "$fmt $file: vireo-img check" "$vimg" check -f "$fmt" "$file"
        expect_error "$fmt $file: vireo-img convert" "" "$vimg" convert -f "$fmt" -O raw "$file" out.raw
    fi
done <list
[ -z "$vimg" ] && echo "SKIP: hostile qcow2 images and vireo-img runs (vireo-img not built in this tree)"
[ $n -ge 60 ] || echo "FAIL: only $n hostile images were made"
