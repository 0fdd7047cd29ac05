#!/usr/bin/env python3
"""QMP end to end: vireo-system-x86_64 runs a tiny guest under KVM (or, on a
host without a usable /dev/kvm, the machine with no CPU: -accel none) with
-qmp unix:PATH,server,wait=off; a client checks the greeting, negotiation,
query-status, stop/cont/system_reset/quit and the STOP/RESUME/RESET/SHUTDOWN
events, and that the program exits 0 after quit.
    qmp-e2e.py BUILD_DIR"""
import json, os, socket, subprocess, sys, tempfile, time

build = sys.argv[1]
binary = os.path.join(build, "vireo-system-x86_64")
guest = os.path.join(build, "tests/kvm/spin.bin")

accel = "kvm" if os.access("/dev/kvm", os.R_OK | os.W_OK) else "none"
if accel == "none":
    print("SKIP: qmp-kvm (no usable /dev/kvm: QMP is tested on the machine without CPUs)")

tmp = tempfile.mkdtemp()
path = os.path.join(tmp, "qmp.sock")
proc = subprocess.Popen([binary, "-accel", accel, "-display", "none", "-serial", "null", "-bios", guest,
                         "-qmp", "unix:%s,server,wait=off" % path],
                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT)

def fail(msg):
    print("FAIL: qmp: " + msg)
    proc.kill()
    out = proc.communicate()[0].decode(errors="replace")
    print(out[-2000:])
    sys.exit(1)

for _ in range(600):                    # wait for the socket (bounded)
    if os.path.exists(path) or proc.poll() is not None:
        break
    time.sleep(0.05)
sock = socket.socket(socket.AF_UNIX)
try:
    sock.connect(path)
except OSError as e:
    fail("cannot connect to %s: %s" % (path, e))
sock.settimeout(120)
reader = sock.makefile("r")

def recv():
    line = reader.readline()
    if not line:
        fail("connection closed")
    return json.loads(line)

def command(name, **args):
    msg = {"execute": name}
    if args:
        msg["arguments"] = args
    sock.sendall((json.dumps(msg) + "\n").encode())
    events = []
    while True:
        m = recv()
        if "event" in m:
            events.append(m)
            continue
        return m, events

def wait_event(name, seen):
    for e in seen:
        if e["event"] == name:
            return e
    while True:
        m = recv()
        if m.get("event") == name:
            return m

def check(cond, what):
    print(("PASS: " if cond else "FAIL: ") + "qmp (-accel %s): %s" % (accel, what))

greeting = recv()
check("QMP" in greeting and "qemu" in greeting["QMP"]["version"], "greeting in QEMU's shape")
r, _ = command("query-status")
check(r.get("error", {}).get("class") == "CommandNotFound", "commands refused before qmp_capabilities")
r, _ = command("qmp_capabilities")
check(r.get("return") == {}, "qmp_capabilities")
r, _ = command("query-status")
check(r.get("return", {}).get("status") == "running" and r["return"]["running"] is True,
      "query-status: running")
r, ev = command("stop")
e = wait_event("STOP", ev)
check(r.get("return") == {} and "seconds" in e["timestamp"], "stop, STOP event with a timestamp")
r, _ = command("query-status")
check(r.get("return", {}).get("status") == "paused", "query-status: paused")
r, ev = command("cont")
wait_event("RESUME", ev)
r2, _ = command("query-status")
check(r.get("return") == {} and r2["return"]["status"] == "running", "cont, RESUME event")
r, ev = command("system_reset")
e = wait_event("RESET", ev)
check(r.get("return") == {} and e["data"]["guest"] is False, "system_reset, RESET event")
r, _ = command("no-such-command")
check(r.get("error", {}).get("class") == "CommandNotFound", "unknown command is an error")
sock.sendall(b'{"execute": }\n')
r = recv()
check(r.get("error", {}).get("class") == "GenericError", "malformed JSON is a GenericError")
r, ev = command("quit")
e = wait_event("SHUTDOWN", ev)
check(r.get("return") == {} and e["data"]["reason"] == "host-qmp-quit", "quit, SHUTDOWN event")
try:
    status = proc.wait(timeout=60)
except subprocess.TimeoutExpired:
    fail("the program did not exit after quit")
check(status == 0, "exit status 0 after quit (got %d)" % status)
