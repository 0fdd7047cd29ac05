#!/usr/bin/env bash
# Runs the loader unit tests on the default guest's kernel and initrd.
set -u
test=$1
guest=$(scripts/guest/prepare.sh 2>&1) || { echo "SKIP: linux-loader (default guest not prepared: $guest)"; exit 0; }
exec "$test" "$guest/vmlinuz" "$guest/initrd.gz"
