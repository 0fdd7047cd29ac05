#!/usr/bin/env python3
"""Start-up benchmark: time from launch to the first guest instruction, and peak
RSS, for vireo-system-x86_64 and Debian's qemu-system-x86_64 with the same
machine and options (-machine pc -accel kvm -m 128 -display none, the exit
guest whose first instruction writes isa-debug-exit: the process's wall time
is start-up plus one exit).  Medians over repeated runs; a markdown table with
ratios on stdout.  Guest RAM is never touched by this guest, so the peak RSS is
the emulator's own overhead (plus the 64 KiB firmware image).
    startup.py BUILD_DIR [RUNS]"""
import os, shutil, statistics, subprocess, sys, time

build = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 21
guest = os.path.join(build, "tests/kvm/exit.bin")
common = ["-machine", "pc", "-accel", "kvm", "-cpu", "host", "-m", "128", "-display", "none",
          "-serial", "none", "-monitor", "none",
          "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-bios", guest]
vireo = [os.path.join(build, "vireo-system-x86_64")] + common
qemu_bin = shutil.which("qemu-system-x86_64")

def measure(cmd):
    """(wall seconds, peak RSS KiB, user+sys CPU seconds) of one run, or None."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code != 33:
        return None
    return wall, ru.ru_maxrss, ru.ru_utime + ru.ru_stime

def series(cmd):
    out = []
    for _ in range(runs):
        m = measure(cmd)
        if m is None:
            return None
        out.append(m)
    return ([statistics.median(x[0] for x in out) * 1000,
             statistics.median(x[1] for x in out) / 1024,
             statistics.median(x[2] for x in out) * 1000])

print("Median of %d runs on this host.\n" % runs)
if not (os.access("/dev/kvm", os.R_OK | os.W_OK)):
    print("Not measured on this host: /dev/kvm is not usable, and both programs are")
    print("compared under KVM (`-accel kvm`).  Run `make bench` on a host with KVM.")
    sys.exit(0)
if not qemu_bin:
    print("Not measured: qemu-system-x86_64 (Debian's qemu-system-x86) is not installed.")
    sys.exit(0)
v = series(vireo)
q = series([qemu_bin] + common)
if v is None or q is None:
    print("Not measured: a run did not end with the guest's isa-debug-exit status 33 "
          "(vireo: %s, qemu: %s)." % ("ok" if v else "failed", "ok" if q else "failed"))
    sys.exit(1)
print("| | vireo-system-x86_64 | qemu-system-x86_64 | vireo / qemu |")
print("| --- | ---: | ---: | ---: |")
print("| wall time to first guest instruction (ms) | %.1f | %.1f | %.2f |" % (v[0], q[0], v[0] / q[0]))
print("| CPU time, user + sys (ms) | %.1f | %.1f | %.2f |" % (v[2], q[2], v[2] / q[2]))
print("| peak RSS (MiB; guest RAM untouched) | %.1f | %.1f | %.2f |" % (v[1], q[1], v[1] / q[1]))
