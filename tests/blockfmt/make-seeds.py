#!/usr/bin/env python3
"""Regenerate the seed corpus of the block-open fuzz target (small valid images).

    tests/blockfmt/make-seeds.py tests/fuzz/corpus/block-open

Most seeds are made by qemu-img and qemu-io.  qemu-img cannot make a VMDK sparse or
stream file smaller than 64 KiB, so two compact ones (1-sector grains, 16-entry
grain tables) are built here by the VMDK 1.1 layout and checked with qemu-img compare
against the raw content they hold.  The outputs are committed; run this only to
change them.
"""
import os
import struct
import subprocess
import sys
import tempfile
import zlib

out = os.path.abspath(sys.argv[1])
os.makedirs(out, exist_ok=True)
tmp = tempfile.mkdtemp()
os.chdir(tmp)


def run(*a):
    subprocess.run(list(a), check=True, stdout=subprocess.DEVNULL)


def keep(src, name):
    with open(src, 'rb') as f:
        data = f.read()
    with open(os.path.join(out, name), 'wb') as f:
        f.write(data)


# qemu-img made
run('qemu-img', 'create', '-q', '-f', 'vpc', 'a.vhd', '1M')
keep('a.vhd', 'vhd-dynamic-empty')
run('qemu-img', 'create', '-q', '-f', 'vpc', '-o', 'subformat=fixed,force_size=on', 'b.vhd', '2K')
run('qemu-io', '-f', 'vpc', '-c', 'write -P 0x5a 512 1024', 'b.vhd')
keep('b.vhd', 'vhd-fixed-2k')
run('qemu-img', 'create', '-q', '-f', 'vdi', 'c.vdi', '4M')
keep('c.vdi', 'vdi-dynamic-empty')
run('qemu-img', 'create', '-q', '-f', 'vdi', '-o', 'static=on', 'd.vdi', '1M')
with open('d.vdi', 'rb') as f:
    head = f.read(1024)
with open(os.path.join(out, 'vdi-static-head'), 'wb') as f:
    f.write(head)          # header and block map; the data block is cut off
run('qemu-img', 'create', '-q', '-f', 'vmdk', '-o', 'subformat=monolithicFlat', 'e.vmdk', '1M')
keep('e.vmdk', 'vmdk-flat-descriptor')
run('qemu-img', 'create', '-q', '-f', 'qcow2', '-o', 'cluster_size=512', 'f.qcow2', '64K')
run('qemu-io', '-f', 'qcow2', '-c', 'write -P 0x33 1024 1536', 'f.qcow2')
keep('f.qcow2', 'qcow2-512')

# compact VMDK files
CAP, GTES = 64, 16
raw = bytearray(CAP * 512)
raw[512:1024] = bytes(range(256)) * 2
raw[20 * 512:20 * 512 + 512] = b'vireo' * 102 + b'..'


def header(flags, version, gd, desc_sectors=1):
    h = bytearray(512)
    struct.pack_into('<IIIQQQQIQQQ', h, 0, 0x564d444b, version, flags, CAP, 1, 1,
                     desc_sectors, GTES, 0, gd, 1 + desc_sectors)
    h[73:77] = b'\n \r\n'
    struct.pack_into('<H', h, 77, 1 if flags & (1 << 16) else 0)
    return h


def descriptor(kind, name):
    t = ('# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n'
         f'createType="{kind}"\n\nRW {CAP} SPARSE "{name}"\n').encode()
    return t + bytes(512 - len(t))


grains = [g for g in range(CAP) if any(raw[g * 512:(g + 1) * 512])]
# monolithicSparse: header, descriptor, GD (4 entries), one GT, grains
gt = [0] * GTES
img = header(3, 1, 2) + descriptor('monolithicSparse', 'seed.vmdk')
gd = [0] * (CAP // GTES)
gts = {}
sector = 3
for t in sorted({g // GTES for g in grains}):
    gts[t] = sector
    gd[t] = sector
    sector += 1
data_at = sector
tables = {t: [0] * GTES for t in gts}
for i, g in enumerate(grains):
    tables[g // GTES][g % GTES] = data_at + i
img += struct.pack('<%dI' % len(gd), *gd).ljust(512, b'\0')
for t in sorted(tables):
    img += struct.pack('<%dI' % GTES, *tables[t]).ljust(512, b'\0')
for g in grains:
    img += raw[g * 512:(g + 1) * 512]
open('seed.vmdk', 'wb').write(img)
open('seed.raw', 'wb').write(raw)
run('qemu-img', 'compare', '-q', '-f', 'raw', '-F', 'vmdk', 'seed.raw', 'seed.vmdk')
keep('seed.vmdk', 'vmdk-sparse-compact')

# streamOptimized: header (GD at end), descriptor, grain markers, GT, GD, footer, EOS
img = header(1 | 1 << 16 | 1 << 17, 3, 0xffffffffffffffff)
img += descriptor('streamOptimized', 'stream.vmdk')
tables = {}
for g in grains:
    c = zlib.compress(bytes(raw[g * 512:(g + 1) * 512]))
    tables.setdefault(g // GTES, [0] * GTES)[g % GTES] = len(img) // 512
    img += (struct.pack('<QI', g, len(c)) + c).ljust(((12 + len(c) + 511) // 512) * 512, b'\0')
gd = [0] * (CAP // GTES)
for t in sorted(tables):
    img += struct.pack('<QII', 1, 0, 1).ljust(512, b'\0')
    gd[t] = len(img) // 512
    img += struct.pack('<%dI' % GTES, *tables[t]).ljust(512, b'\0')
img += struct.pack('<QII', 1, 0, 2).ljust(512, b'\0')
gd_at = len(img) // 512
img += struct.pack('<%dI' % len(gd), *gd).ljust(512, b'\0')
img += struct.pack('<QII', 1, 0, 3).ljust(512, b'\0')
img += header(1 | 1 << 16 | 1 << 17, 3, gd_at)
img += bytes(512)
open('stream.vmdk', 'wb').write(img)
run('qemu-img', 'compare', '-q', '-f', 'raw', '-F', 'vmdk', 'seed.raw', 'stream.vmdk')
keep('stream.vmdk', 'vmdk-stream-compact')
