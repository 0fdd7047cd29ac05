/* VMDK on-disk constants shared by the reader (vmdk.c) and the streamOptimized
 * writer (vmdk-stream.c).  "Virtual Disk Format 1.1", section "Hosted Sparse
 * Extent Header" and "Stream-Optimized Compressed Sparse Extents". */
#ifndef BLOCK_VMDK_PRIV_H
#define BLOCK_VMDK_PRIV_H

#define VMDK_MAGIC              0x564d444bu     /* "KDMV" read little-endian */
#define VMDK_H_MAGIC            0
#define VMDK_H_VERSION          4
#define VMDK_H_FLAGS            8
#define VMDK_H_CAPACITY         12
#define VMDK_H_GRAIN_SIZE       20
#define VMDK_H_DESC_OFFSET      28
#define VMDK_H_DESC_SIZE        36
#define VMDK_H_NUM_GTES         44
#define VMDK_H_RGD_OFFSET       48
#define VMDK_H_GD_OFFSET        56
#define VMDK_H_OVERHEAD         64
#define VMDK_H_UNCLEAN          72
#define VMDK_H_NEWLINE_CHARS    73
#define VMDK_H_COMPRESS         77

#define VMDK_FLAG_NEWLINE_TEST  (1u << 0)
#define VMDK_FLAG_RGD           (1u << 1)
#define VMDK_FLAG_ZEROED_GTE    (1u << 2)
#define VMDK_FLAG_COMPRESSED    (1u << 16)
#define VMDK_FLAG_MARKERS       (1u << 17)
#define VMDK_COMPRESS_DEFLATE   1
#define VMDK_GD_AT_END          0xffffffffffffffffULL

#define VMDK_MARKER_EOS         0
#define VMDK_MARKER_GT          1
#define VMDK_MARKER_GD          2
#define VMDK_MARKER_FOOTER      3

/* sane maxima: everything a header says is checked against these and the file size */
#define VMDK_MAX_GRAIN_SECTORS  (1u << 14)      /* 8 MiB grains */
#define VMDK_MAX_GTES           (1u << 16)
#define VMDK_MAX_SECTORS        (1ULL << 37)    /* 64 TiB */
#define VMDK_MAX_DESC_SECTORS   2048            /* 1 MiB of descriptor text */

#endif
