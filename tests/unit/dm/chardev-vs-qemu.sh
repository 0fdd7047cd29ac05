#!/usr/bin/env bash
# Differential test: Vireo's -chardev / -serial parsers accept and reject the
# same strings as Debian's QEMU (the syntax users and libvirt/libxl already
# write).  QEMU really opens each chardev, so the strings point into a scratch
# directory and servers use nowait.
#   chardev-vs-qemu.sh BUILD/tests/unit/dm/chardev-check
set -u
check=$1
qemu=$(command -v qemu-system-x86_64)
if [ -z "$qemu" ]; then
    echo "SKIP: chardev-vs-qemu (qemu-system-x86_64 not installed)"
    exit 0
fi
T=$(mktemp -d /tmp/vireo-cdq-XXXXXX)
trap 'rm -rf "$T"' EXIT
mkfifo "$T/fifo" "$T/pp.in" "$T/pp.out"

# Strings whose acceptance both must agree on (QEMU 7.2 needs host= for tcp:
# without it, it silently makes an fd socket; Vireo listens on all addresses).  Vireo's known refusals
# (documented in docs/dm.md) are not listed: udp, reconnect, tls, websocket, vc
# sizes, braille, spice, msmouse.  Deliberately stricter: ports above 65535
# (QEMU 7.2 takes port=70000 as 4464).
chardevs=(
    "null,id=a"
    "null"
    "null,id=x,mux=on"
    "null,id=x,bogus=1"
    "bogus,id=x"
    "file,id=f,path=$T/f1"
    "file,id=f,path=$T/f2,append=on"
    "file,id=f"
    "pipe,id=p,path=$T/fifo"
    "pipe,id=p,path=$T/pp"
    "pty,id=t"
    "ringbuf,id=r,size=1024"
    "ringbuf,id=r,size=1000"
    "memory,id=m"
    "socket,id=s,path=$T/s1.sock,server=on,wait=off"
    "socket,id=s,path=$T/s2.sock,server,nowait"
    "socket,id=s,host=127.0.0.1,port=0,server=on,wait=off"
    "socket,id=s,host=127.0.0.1,port=0,server=on,wait=off,nodelay=on"
    "socket,id=s,host=127.0.0.1,port=abc,server=on,wait=off"
    "socket,id=s"
    "socket,id=s,path=$T/s3.sock,server=maybe,wait=off"
    "socket,id=s,host=127.0.0.1,port=0,server=on,wait=off,telnet=on"
    "null,id=l,logfile=$T/log"
    "null,id=l,logfile=$T/log2,logappend=on"
)
serials=(
    "null"
    "none"
    "pty"
    "file:$T/sf"
    "pipe:$T/fifo"
    "tcp::0,server,nowait"
    "tcp:127.0.0.1:0,server=on,wait=off"
    "unix:$T/u1.sock,server,nowait"
    "unix:$T/u2.sock,server=on,wait=off"
    "mon:null"
    "telnet::0,server,nowait"
    "telnet:127.0.0.1:0,server=on,wait=off"
    "bogus"
    "tcp:localhost"
    "file:"
)

fails=0
compare() {     # compare KIND STRING
    local kind=$1 s=$2 q v
    if echo quit | timeout 20 "$qemu" -machine none -nodefaults -display none -S -monitor stdio \
            "$kind" "$s" >"$T/qemu.out" 2>&1; then
        q=accept
    else
        q=reject
    fi
    v=$("$check" "$kind" "$s")
    if [ "${v%%:*}" = "$q" ]; then
        echo "PASS: chardev-vs-qemu: $kind '$s' ($q)"
    else
        echo "FAIL: chardev-vs-qemu: $kind '$s': qemu ${q}s, vireo says '$v'; qemu said: $(tail -n 1 "$T/qemu.out")"
        fails=$((fails + 1))
    fi
}
for s in "${chardevs[@]}"; do compare -chardev "$s"; done
for s in "${serials[@]}"; do compare -serial "$s"; done
exit $((fails > 0))
