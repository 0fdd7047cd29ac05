#!/usr/bin/env python3
"""Damage a qcow2 image's refcounts for the check tests (tests/block/interop.sh,
tests/block/diff.sh).  Facts of the format: cluster_bits at header byte 20, refcount
table offset at byte 48; 16-bit refcounts (the default refcount_bits).
  damage-qcow2.py IMAGE leak      an unused cluster past the end gets refcount 1
  damage-qcow2.py IMAGE corrupt   the last cluster (data) gets refcount 0"""
import struct
import sys

path, kind = sys.argv[1], sys.argv[2]
with open(path, 'r+b') as f:
    h = f.read(104)
    cs = 1 << struct.unpack('>I', h[20:24])[0]
    rt = struct.unpack('>Q', h[48:56])[0]
    f.seek(rt)
    rb = struct.unpack('>Q', f.read(8))[0]
    end = (f.seek(0, 2) + cs - 1) // cs
    if kind == 'leak':
        f.seek(rb + 2 * (end + 3))
        f.write(struct.pack('>H', 1))
        f.truncate((end + 4) * cs)
    else:
        f.seek(rb + 2 * (end - 1))
        f.write(struct.pack('>H', 0))
