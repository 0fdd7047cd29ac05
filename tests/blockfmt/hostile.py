#!/usr/bin/env python3
"""Make hand-crafted bad disk images for tests/blockfmt/hostile.sh.

    hostile.py DIR

Each image starts from a small valid image that qemu-img made (DIR/base.*) and has one
field made hostile.  Prints one line per image:  FORMAT FILE ACTION KEYWORD
ACTION is what must fail (open: any command; read: reading the data; check: `check`
reports corruption, exit 2, while info and convert need only survive) and KEYWORD is a
word the error must contain, so the test shows that the right check fired.
"""
import os
import struct
import subprocess
import sys
import zlib

d = sys.argv[1]
os.chdir(d)
out = []


def qemu_img(*args):
    subprocess.run(['qemu-img'] + list(args), check=True, stdout=subprocess.DEVNULL)


def data(name):
    with open(name, 'rb') as f:
        return bytearray(f.read())


def emit(fmt, name, buf, action, keyword):
    with open(name, 'wb') as f:
        f.write(buf)
    out.append(f'{fmt} {name} {action} {keyword}')


def put(buf, off, fmt, val):
    struct.pack_into(fmt, buf, off, val)
    return buf


# ---- base images ------------------------------------------------------------------
with open('base.raw', 'wb') as f:
    f.truncate(4 << 20)
    f.seek(0)
    f.write(os.urandom(1 << 20))
qemu_img('convert', '-q', '-f', 'raw', '-O', 'vmdk', 'base.raw', 'base.vmdk')
qemu_img('convert', '-q', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized',
         'base.raw', 'base-so.vmdk')
qemu_img('convert', '-q', '-f', 'raw', '-O', 'vdi', 'base.raw', 'base.vdi')
qemu_img('convert', '-q', '-f', 'raw', '-O', 'vpc', 'base.raw', 'base.vhd')
qemu_img('convert', '-q', '-f', 'raw', '-O', 'vpc', '-o', 'subformat=fixed', 'base.raw',
         'base-fixed.vhd')
qemu_img('create', '-q', '-f', 'qcow2', 'base.qcow2', '4M')

# ---- VMDK (hosted sparse extent header: little-endian, see block/vmdk-priv.h) -----
vm = data('base.vmdk')
emit('vmdk', 'grain0.vmdk', put(vm[:], 20, '<Q', 0), 'open', 'grain')
emit('vmdk', 'grain-odd.vmdk', put(vm[:], 20, '<Q', 100), 'open', 'grain')
emit('vmdk', 'grain-huge.vmdk', put(vm[:], 20, '<Q', 1 << 40), 'open', 'grain')
emit('vmdk', 'gtes-huge.vmdk', put(vm[:], 44, '<I', 1 << 31), 'open', 'grain table')
emit('vmdk', 'capacity-huge.vmdk', put(vm[:], 12, '<Q', 1 << 62), 'open', 'capacity')
# a capacity the limits allow but whose grain directory is larger than the file
emit('vmdk', 'gd-count.vmdk', put(vm[:], 12, '<Q', 1 << 36), 'open', 'directory')
emit('vmdk', 'gd-past-eof.vmdk', put(put(vm[:], 56, '<Q', 1 << 40), 48, '<Q', 1 << 40),
     'open', 'directory')
emit('vmdk', 'version9.vmdk', put(vm[:], 4, '<I', 9), 'open', 'version')
emit('vmdk', 'desc-huge.vmdk', put(vm[:], 36, '<Q', 1 << 50), 'open', 'descriptor')
emit('vmdk', 'desc-past-eof.vmdk', put(vm[:], 28, '<Q', 1 << 40), 'open', 'descriptor')
gd = struct.unpack_from('<Q', vm, 56)[0] * 512
emit('vmdk', 'gde-past-eof.vmdk', put(vm[:], gd, '<I', 0x7fffffff), 'open', 'directory entry')
gt = struct.unpack_from('<I', vm, gd)[0] * 512
# the grain of the first allocated table entry points far past the end
emit('vmdk', 'gte-past-eof.vmdk', put(vm[:], gt, '<I', 0x7ffffff0), 'read', 'past the end')


def with_descriptor(text):
    b = vm[:]
    off = struct.unpack_from('<Q', b, 28)[0] * 512
    size = struct.unpack_from('<Q', b, 36)[0] * 512
    t = text.encode()
    assert len(t) <= size
    b[off:off + size] = t + bytes(size - len(t))
    return b


desc = bytes(vm[512:512 * 21]).split(b'\0')[0].decode()
name_line = [l for l in desc.split('\n') if l.startswith('RW ')][0]
sectors = name_line.split()[1]
# descriptor injection: the embedded descriptor names another file (a host file)
emit('vmdk', 'inject-flat.vmdk',
     with_descriptor(desc.replace(name_line, f'RW {sectors} FLAT "/etc/passwd" 0')),
     'open', 'embedded')
emit('vmdk', 'inject-second.vmdk',
     with_descriptor(desc.replace(name_line, name_line + f'\nRW 8 FLAT "/etc/hostname" 0')),
     'open', 'embedded')
emit('vmdk', 'inject-parent.vmdk',
     with_descriptor(desc.replace('parentCID=ffffffff', 'parentCID=12345678\n'
                                  'parentFileNameHint="/etc/shadow"')), 'open', 'parent')
emit('vmdk', 'inject-size.vmdk',
     with_descriptor(desc.replace(name_line, name_line.replace(sectors, str(1 << 40)))),
     'open', 'sectors')
emit('vmdk', 'no-extent.vmdk', with_descriptor(desc.replace(name_line, '')), 'open', 'extent')
# descriptor files: a path that leaves the directory, an absolute path, many extents
flat_desc = ('# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n'
             'createType="monolithicFlat"\n\nRW 8 FLAT "{}" 0\n')
open('inject-dotdot.vmdk', 'w').write(flat_desc.format('../../../../etc/passwd'))
out.append('vmdk inject-dotdot.vmdk open directory')
open('inject-abs.vmdk', 'w').write(flat_desc.format('/etc/passwd'))
out.append('vmdk inject-abs.vmdk open absolute')
open('inject-dev.vmdk', 'w').write(flat_desc.format('/dev/zero'))
out.append('vmdk inject-dev.vmdk open absolute')
open('extents-many.vmdk', 'w').write(
    '# Disk DescriptorFile\ncreateType="monolithicFlat"\n' + 'RW 1 ZERO\n' * 100000)
out.append('vmdk extents-many.vmdk open extents')
open('flat-short.vmdk', 'w').write(flat_desc.format('short.bin'))
open('short.bin', 'wb').write(b'x' * 1000)
out.append('vmdk flat-short.vmdk open smaller')

so = data('base-so.vmdk')
sgd = struct.unpack_from('<Q', so, 56)[0]
if sgd != 0xffffffffffffffff:
    sgt = struct.unpack_from('<I', so, sgd * 512)[0] * 512
    grain = next(struct.unpack_from('<I', so, sgt + 4 * i)[0] for i in range(512)
                 if struct.unpack_from('<I', so, sgt + 4 * i)[0] > 1) * 512
    emit('vmdk', 'so-csize.vmdk', put(so[:], grain + 8, '<I', 0xfffffff0), 'read', 'size')
    emit('vmdk', 'so-lba.vmdk', put(so[:], grain, '<Q', 12345678), 'read', 'LBA')
    bad = so[:]
    bad[grain + 12:grain + 44] = bytes(range(32))
    emit('vmdk', 'so-deflate.vmdk', bad, 'read', 'corrupt')
# a stream whose header says "directory at end" but has no footer
emit('vmdk', 'so-no-footer.vmdk', put(so[:], 56, '<Q', 0xffffffffffffffff), 'open', 'footer')

# grain table consistency, found by `check`: the first grain table of base.vmdk
gt = struct.unpack_from('<I', vm, struct.unpack_from('<Q', vm, 56)[0] * 512)[0] * 512
g0 = struct.unpack_from('<I', vm, gt)[0]
emit('vmdk', 'grain-overlap.vmdk', put(vm[:], gt + 4, '<I', g0), 'check', 'overlap')
emit('vmdk', 'grain-past-eof.vmdk', put(vm[:], gt + 8, '<I', 0x7fffffff), 'check', 'after EOF')
emit('vmdk', 'grain-on-table.vmdk', put(vm[:], gt + 12, '<I', gt // 512), 'check', 'metadata')

# ---- VDI (little-endian header, see block/vdi.c) ------------------------------------
vd = data('base.vdi')
emit('vdi', 'blocks-huge.vdi', put(put(vd[:], 384, '<I', 0xffffffff), 368, '<Q', 0xffffffff << 20),
     'open', 'block map')
emit('vdi', 'disk-vs-blocks.vdi', put(vd[:], 368, '<Q', 1 << 40), 'open', 'blocks')
emit('vdi', 'bsize0.vdi', put(vd[:], 376, '<I', 0), 'open', 'block size')
emit('vdi', 'bsize-odd.vdi', put(vd[:], 376, '<I', 3 << 20), 'open', 'block size')
emit('vdi', 'bmap-past-eof.vdi', put(vd[:], 340, '<I', 0xfffff000), 'open', 'block map')
emit('vdi', 'hsize.vdi', put(vd[:], 72, '<I', 0xffffffff), 'open', 'header size')
emit('vdi', 'extra.vdi', put(vd[:], 380, '<I', 0x80000000), 'open', 'extra')
bmap = struct.unpack_from('<I', vd, 340)[0]
emit('vdi', 'entry-past-eof.vdi', put(vd[:], bmap, '<I', 3), 'open', 'past the end')
# block map consistency, found by `check` (qemu-img check finds them too)
emit('vdi', 'entry-dup.vdi', put(vd[:], bmap + 4, '<I', 0), 'check', 'also used')
emit('vdi', 'entry-huge.vdi', put(vd[:], bmap + 8, '<I', 1000), 'check', 'too large')
emit('vdi', 'alloc-count.vdi', put(vd[:], 388, '<I', 3), 'check', 'mismatch')
# a block count of 2^32 - 1 must not size check's tables (16 GiB)
emit('vdi', 'blocks-many.vdi', put(put(vd[:], 384, '<I', 0xffffffff), bmap + 4, '<I', 0), 'check',
     'also used')
emit('vdi', 'data-overlap.vdi', put(vd[:], 344, '<I', 0), 'open', 'overlaps')
emit('vdi', 'diff.vdi', put(vd[:], 76, '<I', 4), 'open', 'differencing')

# ---- VHD (big-endian footer and dynamic header, see block/vhd.c) --------------------


def vhd_fix(buf, off, size, csum_off):
    """Recompute a checksum so that the field under test is what fails."""
    struct.pack_into('>I', buf, off + csum_off, 0)
    s = sum(buf[off:off + size]) & 0xffffffff
    struct.pack_into('>I', buf, off + csum_off, (~s) & 0xffffffff)
    return buf


vh = data('base.vhd')
end = len(vh) - 512


def footer_field(fmt_, off, val, base=None):
    b = (base or vh)[:]
    e = len(b) - 512
    for at in ([0, e] if base is None else [e]):
        struct.pack_into(fmt_, b, at + off, val)
        vhd_fix(b, at, 512, 64)
    return b


def dyn_field(fmt_, off, val):
    b = vh[:]
    struct.pack_into(fmt_, b, 512 + off, val)
    return vhd_fix(b, 512, 1024, 36)


bad = vh[:]
bad[end + 48] ^= 1          # size changed, checksum not
bad[48] ^= 1
emit('vpc', 'footer-csum.vhd', bad, 'open', 'checksum')
bad = vh[:]
bad[512 + 40] ^= 0xff
emit('vpc', 'dyn-csum.vhd', bad, 'open', 'checksum')
emit('vpc', 'size-huge.vhd', footer_field('>Q', 48, 1 << 60), 'open', 'size')
emit('vpc', 'dynoff-past-eof.vhd', footer_field('>Q', 16, 1 << 40), 'open', 'outside')
emit('vpc', 'entries-few.vhd', dyn_field('>I', 28, 1), 'open', 'BAT')
emit('vpc', 'bat-past-eof.vhd', dyn_field('>Q', 16, 1 << 40), 'open', 'BAT')
emit('vpc', 'bsize0.vhd', dyn_field('>I', 32, 0), 'open', 'block size')
emit('vpc', 'bsize-huge.vhd', dyn_field('>I', 32, 1 << 31), 'open', 'block size')
bat = struct.unpack_from('>Q', vh, 512 + 16)[0]
b = vh[:]
struct.pack_into('>I', b, bat, 0x7ffffff0)
emit('vpc', 'bate-past-eof.vhd', b, 'open', 'past the end')
b = vh[:]
struct.pack_into('>I', b, bat, bat // 512)
emit('vpc', 'bate-overlap.vhd', b, 'open', 'overlaps')
emit('vpc', 'diff.vhd', footer_field('>I', 60, 4), 'open', 'differencing')
vf = data('base-fixed.vhd')
emit('vpc', 'fixed-size.vhd', footer_field('>Q', 48, len(vf) * 2, vf), 'open', 'does not fit')
emit('vpc', 'tiny.vhd', b'conectix', 'open', 'small')

# ---- qcow2 (big-endian header; QEMU's docs/interop/qcow2.txt) -----------------------
q = data('base.qcow2')
# the layout qemu-img gives a small image: refcount table, refcount block, L1 table
emit('qcow2', 'l1-huge.qcow2', put(q[:], 36, '>I', 0x7fffffff), 'open', 'L1')
emit('qcow2', 'cluster-bits-8.qcow2', put(q[:], 20, '>I', 8), 'open', 'cluster')
emit('qcow2', 'cluster-bits-31.qcow2', put(q[:], 20, '>I', 31), 'open', 'cluster')
emit('qcow2', 'l1-past-eof.qcow2', put(q[:], 40, '>Q', 1 << 40), 'open', 'L1')
emit('qcow2', 'rt-past-eof.qcow2', put(q[:], 48, '>Q', 1 << 40), 'open', 'refcount')
emit('qcow2', 'rt-clusters-huge.qcow2', put(q[:], 56, '>I', 0x7fffffff), 'open', 'refcount')
emit('qcow2', 'l1-on-header.qcow2', put(q[:], 40, '>Q', 0), 'open', 'L1')
rt = struct.unpack_from('>Q', q, 48)[0]
# the L1 table on the refcount table: qemu-img opens it too; check must find it
emit('qcow2', 'l1-on-refcount.qcow2', put(q[:], 40, '>Q', rt), 'check', 'ERROR')
emit('qcow2', 'snapshots-huge.qcow2',
     put(put(q[:], 60, '>I', 0xffffffff), 64, '>Q', 0x10000), 'open', 'snapshot')
emit('qcow2', 'snapshots-past-eof.qcow2',
     put(put(q[:], 60, '>I', 1), 64, '>Q', 1 << 40), 'open', 'snapshot')
emit('qcow2', 'refcount-order-7.qcow2', put(q[:], 96, '>I', 7), 'open', 'refcount')
emit('qcow2', 'size-huge.qcow2', put(q[:], 24, '>Q', 1 << 62), 'open', 'size')


def with_backing(base, name, fmt_=None):
    """Point the image's backing file at `name` (stored after the header)."""
    b = base[:]
    # the name goes at the end of the header cluster, clear of the header extensions
    nb = name.encode()
    off = 65536 - 512
    b[off:off + len(nb)] = nb
    put(b, 8, '>Q', off)
    put(b, 16, '>I', len(nb))
    return b


# backing chains: `check` looks at one image (as qemu-img check does), the others
# must refuse the chain ("backing" action).  qemu-img 7.2 itself hangs on these.
emit('qcow2', 'self-backing.qcow2', with_backing(q, 'self-backing.qcow2'), 'backing', 'backing')
emit('qcow2', 'loop-a.qcow2', with_backing(q, 'loop-b.qcow2'), 'backing', 'backing')
emit('qcow2', 'loop-b.qcow2', with_backing(q, 'loop-a.qcow2'), 'backing', 'backing')
emit('qcow2', 'backing-len.qcow2', put(with_backing(q, 'x.qcow2'), 16, '>I', 0xffffffff),
     'open', 'backing')
emit('qcow2', 'backing-missing.qcow2', with_backing(q, 'does-not-exist.qcow2'), 'backing',
     'does-not-exist')

print('\n'.join(out))
