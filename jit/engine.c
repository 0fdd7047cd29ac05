/* The engine: translation cache, block chaining, the execution loop, faults,
 * invalidation and flushing.  Locking (docs/jit.md):
 *   - e->lock (recursive mutex) guards the hash table, the block list, chains,
 *     page counts, every CPU's jump cache writes and the CPU list;
 *   - e->exec_lock (rwlock, writers preferred) is held for reading by every
 *     thread inside jit_exec and for writing by a flush, which therefore runs
 *     when no thread executes generated code;
 *   - invalidation needs only e->lock: invalidated code stays in the buffer
 *     until the next flush, so a thread still inside it finishes safely. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <ucontext.h>

#include "jit/internal.h"

#define DEFAULT_CODE_SIZE (32u << 20)
#define DEFAULT_MAX_INSNS 512

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *jit_strerror(int err)
{
    switch (err) {
    case 0: return "success";
    case -EINVAL: return "invalid argument or malformed IR";
    case -ENOMEM: return "out of memory";
    case -ENOSPC: return "code buffer full";
    case -E2BIG: return "block too large";
    case -ENOTSUP: return "backend not supported on this host";
    case -EFAULT: return "guest code not readable";
    default: return strerror(err < 0 ? -err : err);
    }
}

const char *jit_exit_name(jit_exit_reason r)
{
    static const char *const n[JIT_EXIT_COUNT] = {
        "none", "syscall", "exception", "halt", "interrupt", "fault", "debug",
    };
    return (unsigned)r < JIT_EXIT_COUNT ? n[r] : "?";
}

jit_backend jit_default_backend(void)
{
#if defined(__x86_64__)
    return JIT_BACKEND_NATIVE;
#else
    return JIT_BACKEND_INTERP;
#endif
}

int jit_parse_log(const char *spec, unsigned *mask)
{
    static const struct { const char *name; unsigned bit; } names[] = {
        { "in_asm", JIT_LOG_IN_ASM }, { "op", JIT_LOG_OP }, { "op_opt", JIT_LOG_OP_OPT },
        { "out_asm", JIT_LOG_OUT_ASM }, { "exec", JIT_LOG_EXEC },
    };
    unsigned m = 0;
    const char *p = spec;
    while (p && *p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        bool found = false;
        for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            if (strlen(names[i].name) == len && !strncmp(names[i].name, p, len)) {
                m |= names[i].bit;
                found = true;
            }
        if (!found)
            return -EINVAL;
        p = comma ? comma + 1 : NULL;
    }
    *mask = m;
    return 0;
}

void jit_set_log(jit_engine *e, unsigned mask, FILE *file)
{
    pthread_mutex_lock(&e->lock);
    e->opt.log = mask;
    if (file)
        e->log = file;
    pthread_mutex_unlock(&e->lock);
}

/* ---- page counts (which guest pages hold translated code) ---- */

static uint64_t page_of(jit_engine *e, uint64_t addr) { return addr >> e->opt.page_bits; }

static uint32_t *page_slot(jit_engine *e, uint64_t page, bool create)
{
    if (create && (e->page_used + 1) * 2 > e->page_cap) {
        unsigned cap = e->page_cap ? e->page_cap * 2 : 1024;
        uint64_t *keys = calloc(cap, sizeof(*keys));
        uint32_t *counts = calloc(cap, sizeof(*counts));
        if (!keys || !counts) {
            free(keys);
            free(counts);
            return NULL;
        }
        unsigned used = 0;
        for (unsigned i = 0; i < e->page_cap; i++) {
            if (!e->page_key[i] || !e->page_count[i])
                continue;
            unsigned h = (unsigned)(e->page_key[i] * 0x9E3779B97F4A7C15ull >> 40) & (cap - 1);
            while (keys[h])
                h = (h + 1) & (cap - 1);
            keys[h] = e->page_key[i];
            counts[h] = e->page_count[i];
            used++;
        }
        free(e->page_key);
        free(e->page_count);
        e->page_key = keys;
        e->page_count = counts;
        e->page_cap = cap;
        e->page_used = used;
    }
    if (!e->page_cap)
        return NULL;
    uint64_t key = page + 1;
    unsigned h = (unsigned)(key * 0x9E3779B97F4A7C15ull >> 40) & (e->page_cap - 1);
    while (e->page_key[h]) {
        if (e->page_key[h] == key)
            return &e->page_count[h];
        h = (h + 1) & (e->page_cap - 1);
    }
    if (!create)
        return NULL;
    e->page_key[h] = key;
    e->page_count[h] = 0;
    e->page_used++;
    return &e->page_count[h];
}

static void pages_adjust(jit_engine *e, jit_tb *tb, int delta)
{
    if (tb->code_hi <= tb->code_lo)
        return;
    for (uint64_t p = page_of(e, tb->code_lo); p <= page_of(e, tb->code_hi - 1); p++) {
        uint32_t *cnt = page_slot(e, p, delta > 0);
        if (cnt)
            *cnt += (uint32_t)delta;
    }
}

bool jit_page_has_code(jit_engine *e, uint64_t addr)
{
    pthread_mutex_lock(&e->lock);
    uint32_t *cnt = page_slot(e, page_of(e, addr), false);
    bool r = cnt && *cnt;
    pthread_mutex_unlock(&e->lock);
    return r;
}

/* The engine's locks (docs/jit.md, "Threads and locking"); also remade in a forked
 * child, where another thread may have held them. */
static void init_locks(jit_engine *e)
{
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&e->lock, &ma);
    pthread_mutexattr_destroy(&ma);
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&e->exec_lock, &ra);
    pthread_rwlockattr_destroy(&ra);
}

/* ---- engine ---- */

/* The code buffer (and the metadata arena), 2 MiB aligned and marked for
 * transparent huge pages where the host has them: a program's first megabytes
 * of code then cost one page fault per 2 MiB instead of one per 4 KiB (a fault
 * costs microseconds in a virtual machine), and running code needs fewer iTLB
 * entries.  NULL and errno on failure. */
#define CODE_ALIGN (2u << 20)
static uint8_t *map_code(size_t size, int prot)
{
    uint8_t *p = mmap(NULL, size + CODE_ALIGN, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                      -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    uint8_t *a = (uint8_t *)(((uintptr_t)p + CODE_ALIGN - 1) & ~(uintptr_t)(CODE_ALIGN - 1));
    if (a > p)
        munmap(p, (size_t)(a - p));
    munmap(a + size, (size_t)(p + CODE_ALIGN - a));
#ifdef MADV_HUGEPAGE
    madvise(a, size, MADV_HUGEPAGE);    /* a hint: failure only costs speed */
#endif
    return a;
}

/* VIREO_JIT_STATS=1: where control went, printed to stderr at exit (for
 * measurements: docs/jit.md "Dispatch").  The last engine created is the one
 * reported. */
static jit_engine *stats_engine;

static void print_stats(void)
{
    jit_engine *e = stats_engine;
    if (!e)
        return;
    pthread_mutex_lock(&e->lock);
    uint64_t chain = 0, lookup = 0, request = 0, ex = 0, ptr = 0;
    for (jit_cpu_priv *p = e->cpus; p; p = p->next) {
        chain += p->n_chain;
        lookup += p->n_lookup;
        request += p->n_request;
        ex += p->n_exit;
        ptr += p->n_ptr;
    }
    fprintf(stderr, "jit stats: blocks %" PRIu64 " (%" PRIu64 " live), translate %.1f ms, "
            "code %zu KiB, chains linked %" PRIu64 "\n"
            "jit stats: engine loop entries: unlinked goto_tb %" PRIu64 ", jump-cache miss %"
            PRIu64 ", exit request %" PRIu64 ", exits %" PRIu64 "\n"
            "jit stats: goto_ptr executed %" PRIu64 " (inline hits %" PRIu64 ")\n",
            e->stats.blocks_translated, e->stats.blocks_live, e->stats.translate_ns / 1e6,
            (e->code_buf ? e->code_used : e->bytes_used) >> 10, e->stats.chains_linked,
            chain, lookup, request, ex, ptr, ptr > lookup ? ptr - lookup : 0);
    pthread_mutex_unlock(&e->lock);
}

int jit_engine_new(const jit_frontend *fe, const jit_options *opt, jit_engine **out)
{
    if (!fe || !fe->translate || fe->nglobals > JIT_MAX_GLOBALS ||
        (fe->nglobals && !fe->globals) || (fe->addr_bits != 32 && fe->addr_bits != 64))
        return -EINVAL;
    for (unsigned i = 0; i < fe->nglobals; i++)
        if (fe->globals[i].type == JIT_PTR || fe->globals[i].offset < sizeof(jit_cpu))
            return -EINVAL;
    jit_engine *e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->fe = fe;
    if (opt)
        e->opt = *opt;
    else
        e->opt.backend = jit_default_backend();
    if (!e->opt.code_size)
        e->opt.code_size = DEFAULT_CODE_SIZE;
    if (!e->opt.max_block_insns)
        e->opt.max_block_insns = DEFAULT_MAX_INSNS;
    if (!e->opt.page_bits)
        e->opt.page_bits = 12;
    if (!e->opt.pin_after)
        e->opt.pin_after = JIT_PIN_AFTER;
    if (getenv("VIREO_JIT_PIN_AFTER"))      /* for measurements */
        e->opt.pin_after = (uint32_t)strtoul(getenv("VIREO_JIT_PIN_AFTER"), NULL, 0);
    memset(e->pin_reg, -1, sizeof(e->pin_reg));
    if (e->opt.mem_mode == JIT_MEM_SYSTEM && (!e->opt.mem_load || !e->opt.mem_store)) {
        free(e);
        return -EINVAL;
    }
    e->log = e->opt.log_file ? e->opt.log_file : stderr;
    if (getenv("VIREO_PERF_MAP") && e->opt.backend == JIT_BACKEND_NATIVE) {
        /* perf's convention for JIT code: one "start size name" line per block */
        char name[64];
        snprintf(name, sizeof(name), "/tmp/perf-%d.map", (int)getpid());
        e->perf_map = fopen(name, "a");
        if (e->perf_map)
            setvbuf(e->perf_map, NULL, _IOLBF, 0);
    }

    init_locks(e);
    if (getenv("VIREO_JIT_STATS")) {
        e->count_ptr = true;
        if (!stats_engine)
            atexit(print_stats);
        stats_engine = e;
    }

    if (e->opt.backend == JIT_BACKEND_NATIVE) {
#if defined(__x86_64__)
        /* One RWX mapping below 2 GiB distance of itself: rel32 jumps reach
         * everywhere inside it.  See docs/jit.md for W^X. */
        e->code_cap = e->opt.code_size;
        e->code_buf = map_code(e->code_cap, PROT_READ | PROT_WRITE | PROT_EXEC);
        /* metadata takes about twice the bytes of code.  Sanitizer builds keep
         * it on the heap, where AddressSanitizer sees a use after a flush. */
#if !defined(__SANITIZE_ADDRESS__)
        e->meta_cap = 2 * e->code_cap;
        e->meta = map_code(e->meta_cap, PROT_READ | PROT_WRITE);
        if (!e->meta)
            e->meta_cap = 0;    /* the heap then */
#endif
        if (!e->code_buf) {
            int err = -errno;
            jit_engine_free(e);
            return err;
        }
        int err = jit_x86_init(e);
        if (err < 0) {
            jit_engine_free(e);
            return err;
        }
#else
        jit_engine_free(e);
        return -ENOTSUP;
#endif
    }
    e->stats.code_bytes_total = e->opt.code_size;
    *out = e;
    return 0;
}

static void tb_free(jit_tb *tb)
{
    if (tb->in_arena)
        return;
    free(tb->faults);
    free(tb->fmap);
    free(tb->ops);
    free(tb->temps);
    free(tb);
}

void *jit_meta_copy(jit_engine *e, const void *src, size_t n)
{
    size_t need = (n + 15) & ~(size_t)15;
    if (!e->meta) {             /* no arena: the heap (tb_free frees it) */
        void *p = need ? malloc(need) : NULL;
        if (p && src)
            memcpy(p, src, n);
        return p;
    }
    if (need > e->meta_cap - e->meta_used)
        return NULL;
    void *p = e->meta + e->meta_used;
    e->meta_used += need;
    if (src)
        memcpy(p, src, n);
    return p;
}

/* Drop every block.  Caller holds e->lock and, if any CPU can be running,
 * e->exec_lock for writing. */
static void flush_locked(jit_engine *e)
{
    for (unsigned i = 0; i < e->ntbs; i++)
        tb_free(e->tbs[i]);
    e->ntbs = 0;
    memset(e->hash, 0, sizeof(e->hash));
    for (jit_cpu_priv *p = e->cpus; p; p = p->next)
        madvise(p->jc, JIT_JC_SIZE * sizeof(*p->jc), MADV_DONTNEED);   /* back to zeros */
    free(e->page_key);
    free(e->page_count);
    e->page_key = NULL;
    e->page_count = NULL;
    e->page_cap = e->page_used = 0;
    e->bytes_used = 0;
    e->meta_used = 0;
    if (e->code_buf)
        e->code_used = e->code_start;
    e->stats.blocks_live = 0;
    e->stats.flushes++;
    e->flush_gen++;
}

void jit_engine_free(jit_engine *e)
{
    if (!e)
        return;
    if (stats_engine == e) {
        print_stats();
        stats_engine = NULL;
    }
    pthread_mutex_lock(&e->lock);
    for (unsigned i = 0; i < e->ntbs; i++)
        tb_free(e->tbs[i]);
    free(e->tbs);
    free(e->spare_ops);
    free(e->spare_temps);
    free(e->opt_buf);
    free(e->page_key);
    free(e->page_count);
    pthread_mutex_unlock(&e->lock);
    if (e->code_buf)
        munmap(e->code_buf, e->code_cap);
    if (e->meta)
        munmap(e->meta, e->meta_cap);
    if (e->perf_map)
        fclose(e->perf_map);
    pthread_mutex_destroy(&e->lock);
    pthread_rwlock_destroy(&e->exec_lock);
    free(e);
}

int jit_cpu_init(jit_engine *e, jit_cpu *cpu)
{
    jit_cpu_priv *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    /* mmap, not malloc: half a megabyte per thread that costs nothing until
     * used (an all-zero entry is empty: see jit_jc_entry).  The first CPU's
     * is populated at once: a program's start-up touches most of its pages,
     * and one mapping call is far cheaper than a page fault per page. */
    pthread_mutex_lock(&e->lock);
    bool first = !e->cpus;
    pthread_mutex_unlock(&e->lock);
    p->jc = mmap(NULL, JIT_JC_SIZE * sizeof(*p->jc), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | (first ? MAP_POPULATE : 0), -1, 0);
    if (p->jc == MAP_FAILED) {
        free(p);
        return -ENOMEM;
    }
    p->cpu = cpu;
    cpu->engine = e;
    cpu->priv = p;
    cpu->jc = p->jc;
    pthread_mutex_lock(&e->lock);
    p->next = e->cpus;
    e->cpus = p;
    pthread_mutex_unlock(&e->lock);
    return 0;
}

void jit_cpu_destroy(jit_cpu *cpu)
{
    jit_engine *e = cpu->engine;
    jit_cpu_priv *p = cpu->priv;
    if (!e || !p)
        return;
    pthread_mutex_lock(&e->lock);
    for (jit_cpu_priv **pp = &e->cpus; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    e->dispatches_gone += p->dispatches;
    pthread_mutex_unlock(&e->lock);
    munmap(p->jc, JIT_JC_SIZE * sizeof(*p->jc));
    free(p->ivals);
    free(p);
    cpu->priv = NULL;
    cpu->jc = NULL;
}

void jit_cpu_kick(jit_cpu *cpu)
{
    __atomic_fetch_or(&cpu->exit_request, JIT_EXIT_REQ_USER, __ATOMIC_SEQ_CST);
}

void jit_get_stats(jit_engine *e, jit_stats *st)
{
    pthread_mutex_lock(&e->lock);
    *st = e->stats;
    st->dispatches = e->dispatches_gone;
    for (jit_cpu_priv *p = e->cpus; p; p = p->next)
        st->dispatches += p->dispatches;
    st->code_bytes_used = e->code_buf ? e->code_used : e->bytes_used;
    pthread_mutex_unlock(&e->lock);
}

/* ---- lookup ---- */

static unsigned tb_hash(uint64_t pc, uint32_t flags)
{
    uint64_t h = (pc ^ ((uint64_t)flags << 32)) * 0x9E3779B97F4A7C15ull;
    return (unsigned)(h >> (64 - JIT_TB_HASH_BITS));
}

static jit_tb *hash_find(jit_engine *e, uint64_t pc, uint32_t flags)
{
    for (jit_tb *tb = e->hash[tb_hash(pc, flags)]; tb; tb = tb->hash_next)
        if (tb->pc == pc && tb->flags == flags)
            return tb;
    return NULL;
}

jit_tb *jit_lookup_fast(jit_engine *e, jit_cpu *cpu, uint64_t pc)
{
    jit_jc_entry *j = &cpu->priv->jc[jit_jc_hash(pc)];
    if (__atomic_load_n(&j->key, __ATOMIC_ACQUIRE) == JIT_JC_KEY(cpu->flags, e->pin_gen) &&
        j->pc == pc)
        return j->tb;
    return NULL;
}

static void jc_fill(jit_cpu *cpu, jit_tb *tb)
{
    jit_jc_entry *j = &cpu->priv->jc[jit_jc_hash(tb->pc)];
    __atomic_store_n(&j->key, 0, __ATOMIC_RELEASE);
    j->pc = tb->pc;
    j->code = tb->chain_entry;
    j->tb = tb;
    __atomic_store_n(&j->key, JIT_JC_KEY(tb->flags, tb->gen), __ATOMIC_RELEASE);
}

/* ---- translation ---- */

static void log_in_asm(jit_engine *e, jit_cpu *cpu, jit_ctx *c)
{
    FILE *f = e->log;
    fprintf(f, "IN: %s pc=0x%" PRIx64 " flags=0x%x\n", e->fe->name, c->pc, c->flags);
    if (c->code_hi <= c->code_lo || c->code_hi - c->code_lo > 65536)
        return;
    size_t n = (size_t)(c->code_hi - c->code_lo);
    uint8_t *buf = malloc(n);
    if (!buf)
        return;
    int err = e->opt.code_read ? e->opt.code_read(cpu, c->code_lo, buf, n)
                               : (memcpy(buf, (void *)(cpu->guest_base + (uintptr_t)c->code_lo), n), 0);
    for (size_t off = 0; err == 0 && off < n;) {
        char text[128] = "";
        unsigned len = 0;
        if (e->fe->disassemble)
            len = e->fe->disassemble(c->code_lo + off, buf + off, n - off, text, sizeof(text));
        if (!len) {
            len = (unsigned)(n - off < 4 ? n - off : 4);
            snprintf(text, sizeof(text), ".byte");
        }
        fprintf(f, "0x%016" PRIx64 ":  ", c->code_lo + off);
        for (unsigned k = 0; k < 8; k++)
            fprintf(f, k < len ? "%02x" : "  ", k < len ? buf[off + k] : 0);
        fprintf(f, "  %s\n", text);
        off += len;
    }
    fputc('\n', f);
    free(buf);
}

int jit_code_read(jit_ctx *c, uint64_t pc, void *buf, unsigned len)
{
    jit_engine *e = c->engine;
    int err;
    if (e->opt.code_read) {
        err = e->opt.code_read(c->cpu, pc, buf, len);
        if (err)
            return err < 0 ? err : -EFAULT;
    } else {
        memcpy(buf, (void *)(c->cpu->guest_base + (uintptr_t)pc), len);
    }
    if (pc < c->code_lo)
        c->code_lo = pc;
    if (pc + len > c->code_hi)
        c->code_hi = pc + len;
    return 0;
}

/* Check that every path ends in an exit and that labels are placed once. */
static int validate(jit_ctx *c)
{
    if (c->error || c->nops == 0)
        return -EINVAL;
    unsigned char *placed = calloc(c->nlabels + 1, 1);
    if (!placed)
        return -ENOMEM;
    int err = 0;
    for (unsigned i = 0; i < c->nops; i++) {
        jit_op *op = &c->ops[i];
        if (op->opc == JIT_OP_LABEL) {
            if (placed[op->imm]++)
                err = -EINVAL;
        }
    }
    for (unsigned i = 0; i < c->nops; i++) {
        jit_op *op = &c->ops[i];
        if ((op->opc == JIT_OP_BR || op->opc == JIT_OP_BRCOND) && !placed[op->imm])
            err = -EINVAL;
    }
    free(placed);
    jit_opc last = (jit_opc)c->ops[c->nops - 1].opc;
    if (last != JIT_OP_GOTO_TB && last != JIT_OP_GOTO_PTR && last != JIT_OP_EXIT &&
        last != JIT_OP_BR)
        err = -EINVAL;
    return err;
}

/* Interpreter blocks keep their ops, with branch targets resolved to op
 * indices. */
static int interp_finish(jit_engine *e, jit_ctx *c, jit_tb *tb)
{
    size_t bytes = c->nops * sizeof(jit_op) + c->ntemps * sizeof(jit_tinfo) + sizeof(*tb);
    if (e->bytes_used + bytes > e->opt.code_size)
        return -ENOSPC;
    unsigned *where = malloc((c->nlabels + 1) * sizeof(*where));
    tb->ops = malloc(c->nops * sizeof(jit_op));
    tb->temps = malloc(c->ntemps * sizeof(jit_tinfo));
    if (!where || !tb->ops || !tb->temps) {
        free(where);
        return -ENOMEM;
    }
    memcpy(tb->ops, c->ops, c->nops * sizeof(jit_op));
    memcpy(tb->temps, c->temps, c->ntemps * sizeof(jit_tinfo));
    tb->nops = c->nops;
    tb->ntemps = c->ntemps;
    for (unsigned i = 0; i < c->nops; i++)
        if (c->ops[i].opc == JIT_OP_LABEL)
            where[c->ops[i].imm] = i;
    for (unsigned i = 0; i < c->nops; i++)
        if (tb->ops[i].opc == JIT_OP_BR || tb->ops[i].opc == JIT_OP_BRCOND)
            tb->ops[i].imm = where[tb->ops[i].imm];
    free(where);
    tb->bytes = bytes;
    e->bytes_used += bytes;
    if (c->ntemps > e->max_temps)
        e->max_temps = c->ntemps;
    return 0;
}

/* Host code through GNU objdump (binutils) when it is installed: the bytes go
 * to a temporary file, the listing after objdump's header to the log.
 * Returns false (caller prints hex) if that does not work. */
static bool log_objdump(FILE *f, const jit_tb *tb)
{
    char path[] = "/tmp/vireo-out-asm-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return false;
    bool ok = write(fd, tb->code, tb->code_size) == (ssize_t)tb->code_size;
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof(cmd),
             "objdump -D -b binary -m i386:x86-64 --adjust-vma=0x%" PRIxPTR " %s 2>/dev/null",
             (uintptr_t)tb->code, path);
    FILE *p = ok ? popen(cmd, "r") : NULL;
    unsigned lines = 0;
    if (p) {
        char line[512];
        bool body = false;
        while (fgets(line, sizeof(line), p)) {
            if (body && line[0] != '\n') {
                fputs(line, f);
                lines++;
            }
            body |= strstr(line, "<.data>:") != NULL;
        }
        ok = pclose(p) == 0 && lines > 0;
    }
    unlink(path);
    return ok && p;
}

static void log_out_asm(jit_engine *e, jit_tb *tb)
{
    FILE *f = e->log;
    fprintf(f, "OUT: [size=%u] pc=0x%" PRIx64 " entry=%p chained entry=%p\n", tb->code_size,
            tb->pc, (void *)tb->code, (void *)tb->chain_entry);
    if (log_objdump(f, tb)) {
        fputc('\n', f);
        return;
    }
    for (unsigned off = 0; off < tb->code_size; off += 16) {
        fprintf(f, "0x%012" PRIxPTR ": ", (uintptr_t)(tb->code + off));
        for (unsigned k = off; k < off + 16 && k < tb->code_size; k++)
            fprintf(f, " %02x", tb->code[k]);
        fputc('\n', f);
    }
    fputc('\n', f);
}

/* Translate the block at (pc, flags).  Caller holds e->lock.  Returns the new
 * block, or NULL with *err set (-ENOSPC: flush and retry). */
static void tb_invalidate(jit_engine *e, jit_tb *tb);

/* Count how often each global appears in optimized IR: the pinning choice.
 * A block that jumps back to itself or to an earlier address is probably a
 * loop body, and what loops use is what pinning should keep in registers. */
static void count_globals(jit_engine *e, jit_ctx *c)
{
    unsigned weight = 1;
    for (unsigned i = 0; i < c->nops; i++)
        if (c->ops[i].opc == JIT_OP_GOTO_TB && (uint64_t)c->ops[i].imm <= c->pc)
            weight = 8;
    for (unsigned i = 0; i < c->nops; i++) {
        jit_op *op = &c->ops[i];
        for (unsigned k = 0; k < JIT_OP_MAX_ARGS; k++)
            if (op->opc != JIT_OP_NOP && op->a[k] < e->fe->nglobals)
                e->gcount[op->a[k]] += weight;
    }
}

/* Switch to pinned globals: later blocks are compiled for generation 1, and
 * every generation-0 block is dropped (its code stays until a flush, like any
 * invalidated block, so threads inside it finish safely). */
static void start_pinning(jit_engine *e)
{
    jit_x86_choose_pins(e);
    e->pin_gen = 1;
    for (unsigned i = 0; i < e->ntbs; i++)
        if (!e->tbs[i]->invalid)
            tb_invalidate(e, e->tbs[i]);
}

static jit_tb *translate(jit_engine *e, jit_cpu *cpu, uint64_t pc, uint32_t flags, int *err)
{
    uint64_t t0 = now_ns();
    if (e->opt.backend == JIT_BACKEND_NATIVE && e->pin_gen == 0 &&
        e->opt.pin_after != UINT32_MAX && e->stats.blocks_translated + 1 >= e->opt.pin_after)
        start_pinning(e);
    unsigned max_insns = e->opt.max_block_insns;
    jit_tb *tb = NULL;
    for (;;) {
        jit_ctx c;
        jit_ctx_init(&c, e, cpu, pc, flags, max_insns);
        *err = c.error ? -ENOMEM : e->fe->translate(&c, cpu, pc, flags);
        if (!*err)
            *err = validate(&c);
        if (*err) {
            if (e->opt.log)
                fprintf(e->log, "jit: cannot translate pc=0x%" PRIx64 ": %s\n", pc,
                        jit_strerror(*err));
            jit_ctx_free(&c);
            return NULL;
        }
        if (e->opt.log & JIT_LOG_IN_ASM)
            log_in_asm(e, cpu, &c);
        if (e->opt.log & JIT_LOG_OP) {
            fprintf(e->log, "OP:\n");
            jit_dump_ops(&c, e->log);
            fputc('\n', e->log);
        }
        jit_optimize(&c);
        if (e->pin_gen == 0)
            count_globals(e, &c);
        if (e->opt.log & JIT_LOG_OP_OPT) {
            fprintf(e->log, "OP after optimization:\n");
            jit_dump_ops(&c, e->log);
            fputc('\n', e->log);
        }
        bool in_arena = e->meta != NULL;
        tb = in_arena ? jit_meta_copy(e, NULL, sizeof(*tb)) : aligned_alloc(16, sizeof(*tb));
        if (!tb && in_arena) {
            jit_ctx_free(&c);
            *err = -ENOSPC;     /* arena full: flush */
            return NULL;
        }
        if (!tb) {
            jit_ctx_free(&c);
            *err = -ENOMEM;
            return NULL;
        }
        memset(tb, 0, sizeof(*tb));
        tb->in_arena = in_arena;
        tb->pc = pc;
        tb->flags = flags;
        tb->gen = e->pin_gen;
        tb->ninsns = c.ninsns;
        tb->code_lo = c.code_lo;
        tb->code_hi = c.code_hi;
        if (e->opt.backend == JIT_BACKEND_NATIVE)
            *err = jit_x86_gen(e, &c, tb);
        else
            *err = interp_finish(e, &c, tb);
        jit_ctx_free(&c);
        if (*err == -E2BIG && max_insns > 1) {
            tb_free(tb);
            max_insns /= 2;
            continue;
        }
        if (*err) {
            tb_free(tb);
            return NULL;
        }
        break;
    }
    if (e->ntbs == e->tbs_cap) {
        unsigned cap = e->tbs_cap ? e->tbs_cap * 2 : 1024;
        jit_tb **n = realloc(e->tbs, cap * sizeof(*n));
        if (!n) {
            tb_free(tb);
            *err = -ENOMEM;
            return NULL;
        }
        e->tbs = n;
        e->tbs_cap = cap;
    }
    e->tbs[e->ntbs++] = tb;
    unsigned h = tb_hash(pc, flags);
    tb->hash_next = e->hash[h];
    e->hash[h] = tb;
    pages_adjust(e, tb, +1);
    if ((e->opt.log & JIT_LOG_OUT_ASM) && tb->code)
        log_out_asm(e, tb);
    if (e->perf_map && tb->code)
        fprintf(e->perf_map, "%" PRIxPTR " %x %s_%" PRIx64 "%s\n", (uintptr_t)tb->code,
                tb->code_size, e->fe->name, tb->pc, tb->gen ? "" : "_g0");
    e->stats.blocks_translated++;
    e->stats.blocks_live++;
    e->stats.translate_ns += now_ns() - t0;
    return tb;
}

/* ---- chaining and invalidation (e->lock held) ---- */

static void link_tb(jit_engine *e, jit_tb *from, unsigned slot, jit_tb *to)
{
    if (from->invalid || to->invalid || from->jmp_dest[slot] || from->flags != to->flags ||
        from->gen != to->gen)
        return;
    if (e->opt.backend == JIT_BACKEND_NATIVE && !from->jmp_patch[slot])
        return;
    if (e->opt.mem_mode == JIT_MEM_SYSTEM &&
        page_of(e, from->pc) != page_of(e, to->pc))
        return;     /* the guest mapping of another page may change */
    from->jmp_next[slot] = to->jmp_in;
    to->jmp_in = (uintptr_t)from | slot;
    if (e->opt.backend == JIT_BACKEND_NATIVE)
        jit_x86_patch(from, slot, to->chain_entry);
    atomic_store_explicit(&from->jmp_dest[slot], to, memory_order_release);
    e->stats.chains_linked++;
}

static void unlink_out(jit_engine *e, jit_tb *from, unsigned slot)
{
    jit_tb *to = from->jmp_dest[slot];
    if (!to)
        return;
    for (uintptr_t *pp = &to->jmp_in; *pp;) {
        jit_tb *src = (jit_tb *)(*pp & ~(uintptr_t)15);
        unsigned s = (unsigned)(*pp & (JIT_TB_SLOTS - 1));
        if (src == from && s == slot) {
            *pp = from->jmp_next[slot];
            break;
        }
        pp = &src->jmp_next[s];
    }
    if (e->opt.backend == JIT_BACKEND_NATIVE)
        jit_x86_patch(from, slot, NULL);
    atomic_store_explicit(&from->jmp_dest[slot], NULL, memory_order_release);
}

static void tb_invalidate(jit_engine *e, jit_tb *tb)
{
    if (tb->invalid)
        return;
    tb->invalid = true;
    for (jit_tb **pp = &e->hash[tb_hash(tb->pc, tb->flags)]; *pp; pp = &(*pp)->hash_next)
        if (*pp == tb) {
            *pp = tb->hash_next;
            break;
        }
    for (jit_cpu_priv *p = e->cpus; p; p = p->next) {
        jit_jc_entry *j = &p->jc[jit_jc_hash(tb->pc)];
        if (j->tb == tb)
            __atomic_store_n(&j->key, 0, __ATOMIC_RELEASE);
    }
    /* blocks jumping to us go back through the engine */
    while (tb->jmp_in) {
        jit_tb *src = (jit_tb *)(tb->jmp_in & ~(uintptr_t)15);
        unsigned s = (unsigned)(tb->jmp_in & (JIT_TB_SLOTS - 1));
        unlink_out(e, src, s);
    }
    for (unsigned s = 0; s < JIT_TB_SLOTS; s++)
        unlink_out(e, tb, s);
    /* a block looping inside its own code has no chain to unlink: make every
     * CPU leave generated code at its next block or loop head */
    if (tb->has_loop)
        for (jit_cpu_priv *p = e->cpus; p; p = p->next)
            __atomic_fetch_or(&p->cpu->exit_request, JIT_EXIT_REQ_ENGINE, __ATOMIC_SEQ_CST);
    pages_adjust(e, tb, -1);
    e->stats.blocks_live--;
    e->stats.invalidations++;
}

void jit_invalidate(jit_engine *e, uint64_t start, uint64_t len)
{
    uint64_t end = start + len < start ? UINT64_MAX : start + len;
    pthread_mutex_lock(&e->lock);
    for (unsigned i = 0; i < e->ntbs; i++) {
        jit_tb *tb = e->tbs[i];
        if (!tb->invalid && tb->code_lo < end && start < tb->code_hi)
            tb_invalidate(e, tb);
    }
    pthread_mutex_unlock(&e->lock);
}

/* Ask every CPU to leave generated code, then flush with exec_lock held for
 * writing.  The caller holds neither lock. */
static void flush_all(jit_engine *e, unsigned gen)
{
    pthread_mutex_lock(&e->lock);
    for (jit_cpu_priv *p = e->cpus; p; p = p->next)
        __atomic_fetch_or(&p->cpu->exit_request, JIT_EXIT_REQ_ENGINE, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&e->lock);
    pthread_rwlock_wrlock(&e->exec_lock);
    pthread_mutex_lock(&e->lock);
    if (e->flush_gen == gen)    /* nobody flushed meanwhile */
        flush_locked(e);
    pthread_mutex_unlock(&e->lock);
    pthread_rwlock_unlock(&e->exec_lock);
}

void jit_flush(jit_engine *e)
{
    flush_all(e, e->flush_gen);
}

/* ---- execution ---- */

/* Find or make the block for the CPU's pc.  Called with exec_lock read-held;
 * may drop and retake it to flush. */
static jit_tb *find_tb(jit_engine *e, jit_cpu *cpu, int *err)
{
    uint64_t pc = cpu->pc;
    uint32_t flags = cpu->flags;
    jit_tb *tb = jit_lookup_fast(e, cpu, pc);
    if (tb)
        return tb;
    for (int attempt = 0; attempt < 2; attempt++) {
        pthread_mutex_lock(&e->lock);
        tb = hash_find(e, pc, flags);
        if (!tb)
            tb = translate(e, cpu, pc, flags, err);
        if (tb)
            jc_fill(cpu, tb);
        unsigned gen = e->flush_gen;
        pthread_mutex_unlock(&e->lock);
        if (tb || *err != -ENOSPC)
            return tb;
        pthread_rwlock_unlock(&e->exec_lock);
        flush_all(e, gen);
        pthread_rwlock_rdlock(&e->exec_lock);
    }
    return NULL;
}

static jit_exit_reason exec_loop(jit_engine *e, jit_cpu *cpu)
{
    jit_cpu_priv *priv = cpu->priv;
    jit_tb *last = NULL;
    unsigned last_slot = 0;
    unsigned gen = e->flush_gen;
    bool chain = !(e->opt.log & JIT_LOG_EXEC);
    for (;;) {
        uint32_t req = __atomic_load_n(&cpu->exit_request, __ATOMIC_ACQUIRE);
        if (req & JIT_EXIT_REQ_ENGINE) {
            __atomic_fetch_and(&cpu->exit_request, ~JIT_EXIT_REQ_ENGINE, __ATOMIC_SEQ_CST);
            pthread_rwlock_unlock(&e->exec_lock);   /* let a flush through */
            pthread_rwlock_rdlock(&e->exec_lock);
            last = NULL;
        }
        if (req & JIT_EXIT_REQ_USER) {
            __atomic_fetch_and(&cpu->exit_request, ~JIT_EXIT_REQ_USER, __ATOMIC_SEQ_CST);
            return JIT_EXIT_INTERRUPT;
        }
        int err = 0;
        jit_tb *tb = find_tb(e, cpu, &err);
        if (!tb) {
            cpu->exit_arg = (uint64_t)(int64_t)err;
            return JIT_EXIT_EXCEPTION;
        }
        if (gen != e->flush_gen) {
            gen = e->flush_gen;
            last = NULL;
        }
        if (last && chain) {
            pthread_mutex_lock(&e->lock);
            if (gen == e->flush_gen)
                link_tb(e, last, last_slot, tb);
            pthread_mutex_unlock(&e->lock);
        }
        last = NULL;
        if (e->opt.log & JIT_LOG_EXEC)
            fprintf(e->log, "Trace: [%p] %016" PRIx64 " flags=%x\n", (void *)tb, tb->pc,
                    tb->flags);
        uintptr_t r;
        if (e->opt.backend == JIT_BACKEND_NATIVE) {
            r = jit_x86_run(e, cpu, tb);
        } else {
            if (priv->ivals_cap < e->max_temps) {
                uint64_t *v = realloc(priv->ivals, e->max_temps * sizeof(uint64_t));
                if (!v) {
                    cpu->exit_arg = (uint64_t)(int64_t)-ENOMEM;
                    return JIT_EXIT_EXCEPTION;
                }
                priv->ivals = v;
                priv->ivals_cap = e->max_temps;
            }
            r = jit_interp_run(e, cpu, tb);
        }
        priv->dispatches++;
        if (r >= 4096) {
            last = (jit_tb *)(r & ~(uintptr_t)15);
            last_slot = (unsigned)(r & (JIT_TB_SLOTS - 1));
            priv->n_chain++;
            continue;
        }
        if (r == JIT_RET_LOOKUP) {
            priv->n_lookup++;
            continue;
        }
        if (r == JIT_RET_REQUEST) {
            priv->n_request++;
            continue;
        }
        priv->n_exit++;
        return (jit_exit_reason)r;
    }
}

jit_exit_reason jit_exec(jit_cpu *cpu)
{
    jit_engine *e = cpu->engine;
    jit_cpu_priv *priv = cpu->priv;
    pthread_rwlock_rdlock(&e->exec_lock);
    priv->in_exec = true;
    if (sigsetjmp(priv->jmp, 0)) {
        /* from jit_cpu_exit or jit_handle_fault */
        priv->in_exec = false;
        pthread_rwlock_unlock(&e->exec_lock);
        return priv->jmp_reason;
    }
    jit_exit_reason r = exec_loop(e, cpu);
    priv->in_exec = false;
    pthread_rwlock_unlock(&e->exec_lock);
    return r;
}

void jit_cpu_exit(jit_cpu *cpu, jit_exit_reason reason, uint64_t arg)
{
    cpu->exit_arg = arg;
    cpu->priv->jmp_reason = reason;
    jit_cur_access.active = 0;
    siglongjmp(cpu->priv->jmp, 1);
}

void jit_cpu_fault(jit_cpu *cpu, uint64_t addr, jit_fault_kind kind, jit_access access)
{
    cpu->fault_addr = addr;
    cpu->fault_kind = kind;
    cpu->fault_access = access;
    cpu->priv->jmp_reason = JIT_EXIT_FAULT;
    jit_cur_access.active = 0;
    siglongjmp(cpu->priv->jmp, 1);
}

static jit_tb *tb_by_host_pc(jit_engine *e, uintptr_t pc)
{
    unsigned lo = 0, hi = e->ntbs;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        jit_tb *tb = e->tbs[mid];
        if (pc < (uintptr_t)tb->code)
            hi = mid;
        else if (pc >= (uintptr_t)tb->code + tb->code_size)
            lo = mid + 1;
        else
            return tb;
    }
    return NULL;
}

bool jit_handle_fault(jit_cpu *cpu, const siginfo_t *si, void *ucontext)
{
    if (!cpu || !cpu->priv || !cpu->priv->in_exec)
        return false;
    jit_engine *e = cpu->engine;
    ucontext_t *uc = ucontext;
    bool ours = false;
    if (jit_cur_access.active && jit_cur_access.cpu == cpu) {
        cpu->pc = jit_cur_access.pc;
        jit_cur_access.active = 0;
        ours = true;
    }
#if defined(__x86_64__)
    else if (e->code_buf && uc) {
        uintptr_t rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
        if (rip >= (uintptr_t)e->code_buf && rip < (uintptr_t)e->code_buf + e->code_cap) {
            pthread_mutex_lock(&e->lock);
            jit_tb *tb = tb_by_host_pc(e, rip);
            ours = tb && jit_x86_fault(e, tb, cpu, uc);
            pthread_mutex_unlock(&e->lock);
        }
    }
#endif
    if (!ours)
        return false;
    /* host address 0: a guest address that failed the guest_limit check
     * (x86.c, bound_check), kept in bad_addr */
    uint64_t addr = si->si_addr ? (uint64_t)((uintptr_t)si->si_addr - cpu->guest_base)
                                : cpu->bad_addr;
    if (e->fe->addr_bits == 32)
        addr = (uint32_t)addr;
    cpu->fault_addr = addr;
    cpu->fault_kind = si->si_code == SEGV_ACCERR ? JIT_FAULT_PROT : JIT_FAULT_UNMAPPED;
    cpu->fault_access = JIT_ACCESS_READ;
#if defined(__x86_64__)
    if (uc && (uc->uc_mcontext.gregs[REG_ERR] & 2))
        cpu->fault_access = JIT_ACCESS_WRITE;
#endif
    if (uc)
        pthread_sigmask(SIG_SETMASK, &uc->uc_sigmask, NULL);
    cpu->priv->jmp_reason = JIT_EXIT_FAULT;
    siglongjmp(cpu->priv->jmp, 1);
}

/* ---- fork ---- */

/* Holding e->lock across fork means no thread is in the middle of changing the
 * cache (translating, chaining, invalidating, flushing: a flush holds e->lock
 * while it changes anything), so the child's copy is consistent.  exec_lock is not
 * taken: readers sit in generated code for as long as they like; in the child
 * they do not exist, so the lock is simply made anew. */
void jit_fork_prepare(jit_engine *e)
{
    pthread_mutex_lock(&e->lock);
}

void jit_fork_parent(jit_engine *e)
{
    pthread_mutex_unlock(&e->lock);
}

void jit_fork_child(jit_engine *e, jit_cpu *keep)
{
    init_locks(e);
    /* The other threads' CPUs: nobody runs them any more. */
    jit_cpu_priv **pp = &e->cpus;
    while (*pp) {
        jit_cpu_priv *p = *pp;
        if (keep && p == keep->priv) {
            pp = &p->next;
            continue;
        }
        *pp = p->next;
        e->dispatches_gone += p->dispatches;
        p->cpu->priv = NULL;
        p->cpu->jc = NULL;
        munmap(p->jc, JIT_JC_SIZE * sizeof(*p->jc));
        free(p->ivals);
        free(p);
    }
}
