/*
 * MOO file reader; the format is described in moo.h and in
 * ../shared/fixtures/sst-80286-real/moo_format_v1.md.
 */
#include "tests/cpu/moo.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

const char *const moo_reg_names[MOO_NREGS] = {
    "ax", "bx", "cx", "dx", "cs", "ss", "ds", "es", "sp", "bp", "si", "di", "ip", "flags",
};

/* A chunk: its 4-character id and payload. */
typedef struct MooChunk {
    char id[5];
    const uint8_t *data;
    uint32_t len;
} MooChunk;

/* Walks the chunks that fill a byte range (a file, or a chunk's payload). */
typedef struct MooReader {
    const uint8_t *p;
    size_t left;
} MooReader;

/* Where the parser is, for error messages. */
typedef struct MooParse {
    MooFile *f;
    char *err;
    size_t errlen;
    long test;   /* index of the TEST being parsed, -1 outside one */
} MooParse;

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* Make room for need elements of size bytes in *array (capacity doubling). */
static bool grow(void **array, uint32_t *cap, uint64_t need, size_t size)
{
    if (need <= *cap) {
        return true;
    }
    uint64_t n = *cap ? *cap : 64;
    while (n < need) {
        n *= 2;
    }
    if (n > UINT32_MAX) {
        return false;
    }
    void *grown = realloc(*array, (size_t)n * size);
    if (!grown) {
        return false;
    }
    *array = grown;
    *cap = (uint32_t)n;
    return true;
}

static bool fail(MooParse *ps, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (ps->test >= 0) {
        snprintf(ps->err, ps->errlen, "test %ld: %s", ps->test, msg);
    } else {
        snprintf(ps->err, ps->errlen, "%s", msg);
    }
    return false;
}

/* Next chunk of the range: 1 with *c filled, 0 at the end, -1 on error. */
static int chunk_next(MooParse *ps, MooReader *r, MooChunk *c)
{
    if (r->left == 0) {
        return 0;
    }
    if (r->left < 8) {
        fail(ps, "truncated chunk header (%zu bytes left)", r->left);
        return -1;
    }
    memcpy(c->id, r->p, 4);
    c->id[4] = '\0';
    c->len = rd32(r->p + 4);
    if (c->len > r->left - 8) {
        fail(ps, "chunk '%s' claims %u bytes but only %zu remain", c->id, c->len, r->left - 8);
        return -1;
    }
    c->data = r->p + 8;
    r->p += 8 + (size_t)c->len;
    r->left -= 8 + (size_t)c->len;
    return 1;
}

static bool chunk_is(const MooChunk *c, const char *id)
{
    return memcmp(c->id, id, 4) == 0;
}

/* REGS and RMSK: a uint16 bitmask, then one uint16 per set bit in order. */
static bool parse_regs(MooParse *ps, const MooChunk *c, MooRegs *out)
{
    if (c->len < 2) {
        return fail(ps, "'%s' chunk shorter than its bitmask", c->id);
    }
    uint16_t bits = rd16(c->data);
    uint32_t need = 2 + 2 * (uint32_t)__builtin_popcount(bits);
    if (c->len < need) {
        return fail(ps, "'%s' chunk has %u bytes, its bitmask %#x needs %u", c->id, c->len,
                    bits, need);
    }
    const uint8_t *p = c->data + 2;
    memset(out, 0, sizeof(*out));
    /* Bits above 13 would name registers this format version does not
     * define; their values come last, so they are simply not read. */
    out->present = bits & ((1u << MOO_NREGS) - 1);
    for (int i = 0; i < MOO_NREGS; i++) {
        if (bits & (1u << i)) {
            out->value[i] = rd16(p);
            p += 2;
        }
    }
    return true;
}

static bool parse_ram(MooParse *ps, const MooChunk *c, MooState *st)
{
    MooFile *f = ps->f;
    if (c->len < 4) {
        return fail(ps, "'RAM ' chunk shorter than its count");
    }
    uint32_t n = rd32(c->data);
    if ((uint64_t)n * 5 > c->len - 4) {
        return fail(ps, "'RAM ' chunk of %u bytes cannot hold %u entries", c->len, n);
    }
    if (!grow((void **)&f->ram, &f->ram_cap, (uint64_t)f->nram + n, sizeof(MooRam))) {
        return fail(ps, "out of memory for %u RAM entries", f->nram + n);
    }
    st->ram_first = f->nram;
    st->ram_count = n;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = c->data + 4 + 5 * (size_t)i;
        f->ram[f->nram + i] = (MooRam){.addr = rd32(e), .value = e[4]};
    }
    f->nram += n;
    return true;
}

/* INIT or FINA: REGS, RMSK, RAM  and QUEU subchunks; others are skipped. */
static bool parse_state(MooParse *ps, const MooChunk *c, MooState *st)
{
    MooReader r = {c->data, c->len};
    MooChunk sub;
    int got;
    memset(st, 0, sizeof(*st));
    st->ram_first = ps->f->nram;
    while ((got = chunk_next(ps, &r, &sub)) > 0) {
        bool ok = true;
        if (chunk_is(&sub, "REGS")) {
            ok = parse_regs(ps, &sub, &st->regs);
        } else if (chunk_is(&sub, "RMSK")) {
            ok = parse_regs(ps, &sub, &st->mask);
        } else if (chunk_is(&sub, "RAM ")) {
            ok = parse_ram(ps, &sub, st);
        } else if (chunk_is(&sub, "QUEU")) {
            if (sub.len < 4) {
                return fail(ps, "'QUEU' chunk shorter than its length");
            }
            st->queue_len = rd32(sub.data);
        }
        if (!ok) {
            return false;
        }
    }
    return got == 0;
}

/* NAME and BYTS: a redundant uint32 length, then that many bytes. */
static bool parse_counted(MooParse *ps, const MooChunk *c, const uint8_t **data, uint32_t *len)
{
    if (c->len < 4 || rd32(c->data) > c->len - 4) {
        return fail(ps, "'%s' chunk length field does not fit its chunk", c->id);
    }
    *len = rd32(c->data);
    *data = c->data + 4;
    return true;
}

static bool parse_test_sub(MooParse *ps, const MooChunk *sub, MooTest *t, unsigned *seen)
{
    if (chunk_is(sub, "NAME")) {
        const uint8_t *name;
        if (!parse_counted(ps, sub, &name, &t->name_len)) {
            return false;
        }
        t->name = (const char *)name;
    } else if (chunk_is(sub, "BYTS")) {
        *seen |= 1;
        return parse_counted(ps, sub, &t->bytes, &t->nbytes);
    } else if (chunk_is(sub, "INIT")) {
        *seen |= 2;
        return parse_state(ps, sub, &t->init);
    } else if (chunk_is(sub, "FINA")) {
        *seen |= 4;
        return parse_state(ps, sub, &t->final);
    } else if (chunk_is(sub, "EXCP")) {
        if (sub->len < 5) {
            return fail(ps, "'EXCP' chunk shorter than 5 bytes");
        }
        t->has_exception = true;
        t->exception = sub->data[0];
        t->flag_addr = rd32(sub->data + 1);
    } else if (chunk_is(sub, "HASH")) {
        if (sub->len < 20) {
            return fail(ps, "'HASH' chunk shorter than 20 bytes");
        }
        t->has_hash = true;
        memcpy(t->hash, sub->data, 20);
    } else if (chunk_is(sub, "CYCL")) {
        if (sub->len < 4) {
            return fail(ps, "'CYCL' chunk shorter than its count");
        }
        t->ncycles = rd32(sub->data);
    }
    return true;
}

static bool parse_test(MooParse *ps, const MooChunk *c)
{
    MooFile *f = ps->f;
    if (c->len < 4) {
        return fail(ps, "TEST chunk shorter than its index");
    }
    if (!grow((void **)&f->tests, &f->tests_cap, (uint64_t)f->ntests + 1, sizeof(MooTest))) {
        return fail(ps, "out of memory for tests");
    }
    MooTest *t = &f->tests[f->ntests];
    memset(t, 0, sizeof(*t));
    t->index = rd32(c->data);
    ps->test = t->index;

    MooReader r = {c->data + 4, c->len - 4};
    MooChunk sub;
    unsigned seen = 0;
    int got;
    while ((got = chunk_next(ps, &r, &sub)) > 0) {
        if (!parse_test_sub(ps, &sub, t, &seen)) {
            return false;
        }
    }
    if (got < 0) {
        return false;
    }
    if (seen != 7) {
        return fail(ps, "missing %s chunk",
                    !(seen & 1) ? "BYTS" : !(seen & 2) ? "INIT" : "FINA");
    }
    /* The initial state lists every register (format doc, REGS). */
    if (t->init.regs.present != (1u << MOO_NREGS) - 1) {
        return fail(ps, "initial REGS lacks registers (bitmask %#x)", t->init.regs.present);
    }
    ps->test = -1;
    f->ntests++;
    return true;
}

static bool parse_header(MooParse *ps, const MooChunk *c)
{
    MooFile *f = ps->f;
    if (!chunk_is(c, "MOO ")) {
        return fail(ps, "not a MOO file (first chunk '%s')", c->id);
    }
    if (c->len < 12) {
        return fail(ps, "'MOO ' header of %u bytes, need 12", c->len);
    }
    f->version_major = c->data[0];
    f->version_minor = c->data[1];
    f->header_count = rd32(c->data + 4);
    memcpy(f->cpu_id, c->data + 8, 4);
    f->cpu_id[4] = '\0';
    return true;
}

static bool parse_meta(MooParse *ps, const MooChunk *c)
{
    MooMeta *m = &ps->f->meta;
    if (c->len < 31) {
        return fail(ps, "'META' chunk of %u bytes, need 31", c->len);
    }
    const uint8_t *p = c->data;
    m->major = p[0];
    m->minor = p[1];
    m->cpu_type = p[2];
    m->opcode = rd32(p + 3);
    memcpy(m->mnemonic, p + 7, 8);
    m->mnemonic[8] = '\0';
    for (int i = 7; i >= 0 && m->mnemonic[i] == ' '; i--) {
        m->mnemonic[i] = '\0';
    }
    m->test_count = rd32(p + 15);
    m->seed = rd64(p + 19);
    m->cpu_mode = p[27];
    ps->f->has_meta = true;
    return true;
}

bool moo_parse(MooFile *f, uint8_t *data, size_t size, char *err, size_t errlen)
{
    memset(f, 0, sizeof(*f));
    f->data = data;
    f->size = size;
    MooParse ps = {f, err, errlen, -1};
    MooReader r = {data, size};
    MooChunk c;
    int got = chunk_next(&ps, &r, &c);
    if (got == 0) {
        fail(&ps, "empty file");
    }
    if (got <= 0 || !parse_header(&ps, &c)) {
        moo_free(f);
        return false;
    }
    while ((got = chunk_next(&ps, &r, &c)) > 0) {
        bool ok = true;
        if (chunk_is(&c, "META")) {
            ok = parse_meta(&ps, &c);
        } else if (chunk_is(&c, "RMSK")) {
            ok = parse_regs(&ps, &c, &f->file_mask);
        } else if (chunk_is(&c, "TEST")) {
            ok = parse_test(&ps, &c);
        }
        if (!ok) {
            got = -1;
            break;
        }
    }
    if (got == 0 && f->ntests != f->header_count) {
        fail(&ps, "header announces %u tests, file holds %u", f->header_count, f->ntests);
        got = -1;
    }
    if (got < 0) {
        moo_free(f);
        return false;
    }
    return true;
}

bool moo_load(MooFile *f, const char *path, char *err, size_t errlen)
{
    memset(f, 0, sizeof(*f));
    gzFile gz = gzopen(path, "rb");
    if (!gz) {
        snprintf(err, errlen, "%s: cannot open", path);
        return false;
    }
    size_t cap = 1u << 20, size = 0;
    uint8_t *buf = malloc(cap);
    int n = 0;
    while (buf) {
        if (cap - size < (1u << 16)) {
            uint8_t *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
        n = gzread(gz, buf + size, (unsigned)(cap - size));
        if (n <= 0) {
            break;
        }
        size += (size_t)n;
    }
    int errnum = Z_OK;
    const char *zmsg = n < 0 ? gzerror(gz, &errnum) : NULL;
    if (n < 0 || !buf) {
        snprintf(err, errlen, "%s: %s", path, buf ? zmsg : "out of memory");
        free(buf);
        gzclose(gz);
        return false;
    }
    gzclose(gz);
    if (!moo_parse(f, buf, size, err, errlen)) {
        char inner[256];
        snprintf(inner, sizeof(inner), "%s", err);
        snprintf(err, errlen, "%s: %s", path, inner);
        return false;
    }
    return true;
}

void moo_free(MooFile *f)
{
    free(f->data);
    free(f->tests);
    free(f->ram);
    memset(f, 0, sizeof(*f));
}
