#!/usr/bin/env bash
# make bench-startup: start-up cost of vireo-system-x86_64 against Debian's
# qemu-system-x86_64 under KVM.  On a host with a usable /dev/kvm it measures
# here (startup.py); otherwise inside a nested KVM (tests/kvm/nested.sh bench),
# where both programs run about ten times slower than on hardware, so only the
# ratios carry over.
set -u
build=$1
echo "### Start-up (launch to first guest instruction)"
echo
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
    exec tests/bench/startup.py "$build"
fi
echo "This host has no usable /dev/kvm: measured inside a nested KVM (Debian's kernel"
echo "with kvm-amd under qemu's TCG, \`-cpu max\`)."
echo
exec tests/kvm/nested.sh "$build" bench
