/*
 * Unit tests of the conformance runner's readers: the MOO parser (on files
 * built here byte by byte from moo_format_v1.md, and on the first recorded
 * test, whose values the fixture README prints as JSON), the metadata.json
 * and revocation-list readers, and the 286-vs-P6 instruction rules.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/cpu/moo.h"
#include "tests/cpu/sst_meta.h"
#include "tests/cpu/sst_skips.h"

/* ---- building MOO files ---- */

typedef struct Buf {
    uint8_t d[2048];
    size_t n;
} Buf;

static void put8(Buf *b, uint8_t v)
{
    ck_assert_uint_lt(b->n, sizeof(b->d));
    b->d[b->n++] = v;
}

static void put16(Buf *b, uint16_t v)
{
    put8(b, (uint8_t)v);
    put8(b, (uint8_t)(v >> 8));
}

static void put32(Buf *b, uint32_t v)
{
    put16(b, (uint16_t)v);
    put16(b, (uint16_t)(v >> 16));
}

static void put_bytes(Buf *b, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        put8(b, ((const uint8_t *)p)[i]);
    }
}

/* Start a chunk; returns where its length goes. */
static size_t chunk_begin(Buf *b, const char *id)
{
    put_bytes(b, id, 4);
    size_t at = b->n;
    put32(b, 0);
    return at;
}

static void chunk_end(Buf *b, size_t at)
{
    uint32_t len = (uint32_t)(b->n - at - 4);
    memcpy(b->d + at, &len, 4); /* the host is little-endian like the format */
}

static void put_header(Buf *b, uint32_t count)
{
    size_t c = chunk_begin(b, "MOO ");
    put8(b, 1);
    put8(b, 1);
    put16(b, 0);
    put32(b, count);
    put_bytes(b, "C286", 4);
    chunk_end(b, c);
}

static void put_meta(Buf *b)
{
    size_t c = chunk_begin(b, "META");
    put8(b, 1);           /* collection major */
    put8(b, 0);           /* minor */
    put8(b, 6);           /* cpu_type */
    put32(b, 0x90);       /* opcode */
    put_bytes(b, "nop     ", 8);
    put32(b, 1);          /* test_ct */
    put32(b, 0xdeadbeef); /* seed, low */
    put32(b, 0x01020304); /* seed, high */
    put8(b, 0);           /* cpu_mode: real */
    put_bytes(b, "\0\0\0", 3);
    chunk_end(b, c);
}

static void put_regs(Buf *b, const char *id, uint16_t mask, const uint16_t *values)
{
    size_t c = chunk_begin(b, id);
    put16(b, mask);
    for (int i = 0; i < 16; i++) {
        if (mask & (1u << i)) {
            put16(b, *values++);
        }
    }
    chunk_end(b, c);
}

static void put_ram(Buf *b, int n, const uint32_t *addr, const uint8_t *val)
{
    size_t c = chunk_begin(b, "RAM ");
    put32(b, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        put32(b, addr[i]);
        put8(b, val[i]);
    }
    chunk_end(b, c);
}

/* One complete test: NOP at 1234:0010 with two RAM bytes, final IP and
 * FLAGS, an undefined-flags RMSK, a chunk nobody knows, cycles, an
 * exception and a hash. */
static void put_test(Buf *b, uint32_t index, bool with_init)
{
    size_t t = chunk_begin(b, "TEST");
    put32(b, index);
    size_t c = chunk_begin(b, "NAME");
    put32(b, 3);
    put_bytes(b, "nop", 3);
    chunk_end(b, c);
    c = chunk_begin(b, "BYTS");
    put32(b, 2);
    put_bytes(b, "\x90\xf4", 2);
    chunk_end(b, c);
    if (with_init) {
        uint16_t init[14];
        for (int i = 0; i < 14; i++) {
            init[i] = (uint16_t)(0x1111 * (i + 1));
        }
        size_t s = chunk_begin(b, "INIT");
        put_regs(b, "REGS", 0x3fff, init);
        put_ram(b, 2, (const uint32_t[]){0x12350, 0x12351}, (const uint8_t[]){0x90, 0xf4});
        size_t q = chunk_begin(b, "QUEU");
        put32(b, 0);
        chunk_end(b, q);
        chunk_end(b, s);
    }
    size_t s = chunk_begin(b, "FINA");
    put_regs(b, "REGS", (1u << MOO_CX) | (1u << MOO_IP), (const uint16_t[]){0xabcd, 0x0012});
    put_regs(b, "RMSK", 1u << MOO_FLAGS, (const uint16_t[]){0xffef});
    put_ram(b, 1, (const uint32_t[]){0xfffffe}, (const uint8_t[]){0x5a});
    chunk_end(b, s);
    c = chunk_begin(b, "ZZZZ"); /* unknown: must be skipped by its length */
    put_bytes(b, "TESTNAMEjunk", 12);
    chunk_end(b, c);
    c = chunk_begin(b, "CYCL");
    put32(b, 3);
    for (int i = 0; i < 3 * 15; i++) {
        put8(b, (uint8_t)i);
    }
    chunk_end(b, c);
    c = chunk_begin(b, "EXCP");
    put8(b, 13);
    put32(b, 0x12345);
    chunk_end(b, c);
    c = chunk_begin(b, "HASH");
    for (int i = 0; i < 20; i++) {
        put8(b, (uint8_t)(0xa0 + i));
    }
    chunk_end(b, c);
    chunk_end(b, t);
}

static bool parse_buf(const Buf *b, MooFile *f, char *err, size_t errlen)
{
    uint8_t *copy = malloc(b->n ? b->n : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, b->d, b->n);
    return moo_parse(f, copy, b->n, err, errlen);
}

START_TEST(moo_parses_every_field)
{
    Buf b = {0};
    put_header(&b, 1);
    put_meta(&b);
    put_regs(&b, "RMSK", 1u << MOO_AX, (const uint16_t[]){0x00ff});
    put_test(&b, 7, true);
    MooFile f;
    char err[256] = "";
    ck_assert_msg(parse_buf(&b, &f, err, sizeof(err)), "%s", err);

    ck_assert_uint_eq(f.version_major, 1);
    ck_assert_uint_eq(f.version_minor, 1);
    ck_assert_str_eq(f.cpu_id, "C286");
    ck_assert(f.has_meta);
    ck_assert_uint_eq(f.meta.cpu_type, 6);
    ck_assert_uint_eq(f.meta.opcode, 0x90);
    ck_assert_str_eq(f.meta.mnemonic, "nop");
    ck_assert_uint_eq(f.meta.test_count, 1);
    ck_assert(f.meta.seed == 0x01020304deadbeefull);
    ck_assert_uint_eq(f.file_mask.present, 1u << MOO_AX);
    ck_assert_uint_eq(f.file_mask.value[MOO_AX], 0x00ff);

    ck_assert_uint_eq(f.ntests, 1);
    const MooTest *t = &f.tests[0];
    ck_assert_uint_eq(t->index, 7);
    ck_assert_uint_eq(t->name_len, 3);
    ck_assert(memcmp(t->name, "nop", 3) == 0);
    ck_assert_uint_eq(t->nbytes, 2);
    ck_assert_uint_eq(t->bytes[0], 0x90);
    ck_assert_uint_eq(t->bytes[1], 0xf4);
    /* REGS order: ax bx cx dx cs ss ds es sp bp si di ip flags. */
    ck_assert_uint_eq(t->init.regs.present, 0x3fff);
    ck_assert_uint_eq(t->init.regs.value[MOO_AX], 0x1111);
    ck_assert_uint_eq(t->init.regs.value[MOO_CS], 0x5555);
    ck_assert_uint_eq(t->init.regs.value[MOO_SP], 0x9999);
    ck_assert_uint_eq(t->init.regs.value[MOO_FLAGS], 0xeeee);
    ck_assert_uint_eq(t->init.ram_count, 2);
    ck_assert_uint_eq(moo_state_ram(&f, &t->init)[1].addr, 0x12351);
    ck_assert_uint_eq(moo_state_ram(&f, &t->init)[1].value, 0xf4);
    /* A sparse final REGS fills registers by bit position. */
    ck_assert_uint_eq(t->final.regs.present, (1u << MOO_CX) | (1u << MOO_IP));
    ck_assert_uint_eq(t->final.regs.value[MOO_CX], 0xabcd);
    ck_assert_uint_eq(t->final.regs.value[MOO_IP], 0x0012);
    ck_assert_uint_eq(t->final.mask.present, 1u << MOO_FLAGS);
    ck_assert_uint_eq(t->final.mask.value[MOO_FLAGS], 0xffef);
    ck_assert_uint_eq(t->final.ram_count, 1);
    ck_assert_uint_eq(moo_state_ram(&f, &t->final)[0].addr, 0xfffffe);
    ck_assert_uint_eq(moo_state_ram(&f, &t->final)[0].value, 0x5a);
    ck_assert_uint_eq(t->ncycles, 3);
    ck_assert(t->has_exception);
    ck_assert_uint_eq(t->exception, 13);
    ck_assert_uint_eq(t->flag_addr, 0x12345);
    ck_assert(t->has_hash);
    ck_assert_uint_eq(t->hash[0], 0xa0);
    ck_assert_uint_eq(t->hash[19], 0xb3);
    moo_free(&f);
}
END_TEST

START_TEST(moo_rejects_malformed_files)
{
    MooFile f;
    char err[256];
    Buf b = {0};

    /* Not a MOO file. */
    size_t c = chunk_begin(&b, "JUNK");
    chunk_end(&b, c);
    ck_assert(!parse_buf(&b, &f, err, sizeof(err)));

    /* A TEST without INIT. */
    b.n = 0;
    put_header(&b, 1);
    put_test(&b, 0, false);
    ck_assert(!parse_buf(&b, &f, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "INIT"));

    /* Fewer tests than the header announces. */
    b.n = 0;
    put_header(&b, 2);
    put_test(&b, 0, true);
    ck_assert(!parse_buf(&b, &f, err, sizeof(err)));

    /* Truncated: the last chunk claims more bytes than remain. */
    b.n = 0;
    put_header(&b, 1);
    put_test(&b, 0, true);
    b.n -= 5;
    ck_assert(!parse_buf(&b, &f, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "claims"));

    /* An initial REGS that lacks registers. */
    b.n = 0;
    put_header(&b, 1);
    size_t t = chunk_begin(&b, "TEST");
    put32(&b, 0);
    c = chunk_begin(&b, "BYTS");
    put32(&b, 1);
    put8(&b, 0xf4);
    chunk_end(&b, c);
    size_t s = chunk_begin(&b, "INIT");
    put_regs(&b, "REGS", 1, (const uint16_t[]){1});
    chunk_end(&b, s);
    s = chunk_begin(&b, "FINA");
    chunk_end(&b, s);
    chunk_end(&b, t);
    ck_assert(!parse_buf(&b, &f, err, sizeof(err)));

    /* A REGS shorter than its bitmask says. */
    b.n = 0;
    put_header(&b, 0);
    c = chunk_begin(&b, "RMSK");
    put16(&b, 3);
    put16(&b, 0xffff);
    chunk_end(&b, c);
    ck_assert(!parse_buf(&b, &f, err, sizeof(err)));
}
END_TEST

static const char *fixture_path(const char *rel, char *buf, size_t len)
{
    const char *dir = getenv("POPEK_FIXTURES");
    snprintf(buf, len, "%s/%s", dir && *dir ? dir : SST_DEFAULT_FIXTURES, rel);
    return buf;
}

/* The README's JSON rendering of the first test of 00.MOO.gz. */
START_TEST(moo_reads_recorded_test_as_documented)
{
    char path[4096], err[512];
    MooFile f;
    ck_assert_msg(moo_load(&f, fixture_path("v1_real_mode/00.MOO.gz", path, sizeof(path)), err,
                           sizeof(err)),
                  "%s (fixtures are required)", err);
    ck_assert_str_eq(f.cpu_id, "C286");
    ck_assert_str_eq(f.meta.mnemonic, "add");
    ck_assert_uint_eq(f.meta.cpu_mode, 0);
    const MooTest *t = &f.tests[0];
    ck_assert_uint_eq(t->index, 0);
    ck_assert_int_eq((int)t->name_len, (int)strlen("add [bx+0Eh],bl"));
    ck_assert(memcmp(t->name, "add [bx+0Eh],bl", t->name_len) == 0);
    ck_assert_uint_eq(t->nbytes, 4);
    ck_assert(memcmp(t->bytes, "\x00\x5f\x0e\xf4", 4) == 0);
    static const uint16_t init[MOO_NREGS] = {715,   26659, 49548, 64181, 65535, 41175, 65535,
                                             43996, 39769, 65535, 35262, 34633, 38072, 6291};
    for (int i = 0; i < MOO_NREGS; i++) {
        ck_assert_uint_eq(t->init.regs.value[i], init[i]);
    }
    ck_assert_uint_eq(t->init.ram_count, 11);
    ck_assert_uint_eq(moo_state_ram(&f, &t->init)[0].addr, 1086632);
    ck_assert_uint_eq(moo_state_ram(&f, &t->init)[10].addr, 1075233);
    ck_assert_uint_eq(moo_state_ram(&f, &t->init)[10].value, 222);
    ck_assert_uint_eq(t->final.regs.present, (1u << MOO_IP) | (1u << MOO_FLAGS));
    ck_assert_uint_eq(t->final.regs.value[MOO_IP], 38076);
    ck_assert_uint_eq(t->final.regs.value[MOO_FLAGS], 19);
    ck_assert_uint_eq(t->final.ram_count, 1);
    ck_assert_uint_eq(moo_state_ram(&f, &t->final)[0].addr, 1075233);
    ck_assert_uint_eq(moo_state_ram(&f, &t->final)[0].value, 1);
    ck_assert_uint_eq(t->ncycles, 19);
    ck_assert(!t->has_exception);
    static const uint8_t hash[20] = {0x62, 0x6b, 0xe5, 0x08, 0x4b, 0x33, 0x10, 0x80, 0xeb, 0x08,
                                     0x25, 0x6c, 0x12, 0xa6, 0x2d, 0x24, 0xaf, 0xdf, 0x2a, 0x03};
    ck_assert(memcmp(t->hash, hash, 20) == 0);
    moo_free(&f);
}
END_TEST

START_TEST(meta_reads_opcodes_and_reg_forms)
{
    static const char json[] =
        "{ \"version\": \"1.0\", \"list\": [1, -2.5e3, true, null, {\"a\": []}],\n"
        "  \"opcodes\": {\n"
        "    \"08\": {\"status\": \"normal\", \"arch\": \"86\", \"flags\": \"..\\\"a\",\n"
        "             \"flags-mask\": 65519},\n"
        "    \"8F\": {\"reg\": {\"0\": {\"status\": \"normal\"},\n"
        "                     \"1\": {\"status\": \"undefined\"}}},\n"
        "    \"D3\": {\"reg\": {\"4\": {\"status\": \"normal\", \"flags-mask\": 63470}}}\n"
        "  }, \"date\": \"2025\" }";
    SstMeta m;
    char err[256];
    ck_assert_msg(sst_meta_parse(&m, json, strlen(json), err, sizeof(err)), "%s", err);
    ck_assert_int_eq(m.nops, 4);
    const SstOpMeta *op = sst_meta_find(&m, "08");
    ck_assert_ptr_nonnull(op);
    ck_assert_str_eq(op->status, "normal");
    ck_assert_uint_eq(op->flags_mask, 65519);
    ck_assert_ptr_null(sst_meta_find(&m, "8F")); /* only its /reg forms have entries */
    op = sst_meta_find(&m, "8f.1");
    ck_assert_ptr_nonnull(op);
    ck_assert_str_eq(op->status, "undefined");
    ck_assert_uint_eq(op->flags_mask, 0xffff); /* no "flags-mask": everything defined */
    ck_assert_uint_eq(sst_meta_find(&m, "D3.4")->flags_mask, 63470);
    sst_meta_free(&m);

    static const char *const bad[] = {
        "{\"opcodes\": {\"08\": {\"flags-mask\": 70000}}}",
        "{\"opcodes\": {\"08\": {\"status\": \"normal\"}}",
        "{\"version\": 1}",
        "[1, 2]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(!sst_meta_parse(&m, bad[i], strlen(bad[i]), err, sizeof(err)),
                      "accepted %s", bad[i]);
    }
}
END_TEST

START_TEST(meta_reads_fixture_metadata)
{
    char path[4096], err[512];
    SstMeta m;
    ck_assert_msg(sst_meta_load(&m, fixture_path("v1_real_mode/metadata.json", path,
                                                 sizeof(path)), err, sizeof(err)),
                  "%s", err);
    /* Values as printed in metadata.json: AF undefined after OR. */
    ck_assert_uint_eq(sst_meta_find(&m, "08")->flags_mask, 0xffef);
    ck_assert_uint_eq(sst_meta_find(&m, "F6.6")->flags_mask, 63274);
    ck_assert_str_eq(sst_meta_find(&m, "D8")->status, "fpu");
    ck_assert_str_eq(sst_meta_find(&m, "C7.3")->status, "undefined");
    sst_meta_free(&m);
}
END_TEST

START_TEST(revocation_list_parses_hashes)
{
    static const char text[] = "# comment\n\n  626BE5084B331080eb08256c12a62d24afdf2a03  \n";
    SstRevoked r;
    char err[256];
    ck_assert_msg(sst_revoked_parse(&r, text, strlen(text), err, sizeof(err)), "%s", err);
    ck_assert_int_eq(r.n, 1);
    uint8_t h[20] = {0x62, 0x6b, 0xe5, 0x08, 0x4b, 0x33, 0x10, 0x80, 0xeb, 0x08,
                     0x25, 0x6c, 0x12, 0xa6, 0x2d, 0x24, 0xaf, 0xdf, 0x2a, 0x03};
    ck_assert(sst_revoked_has(&r, h));
    h[19] ^= 1;
    ck_assert(!sst_revoked_has(&r, h));
    sst_revoked_free(&r);
    static const char bad[] = "626be5084b331080\n";
    ck_assert(!sst_revoked_parse(&r, bad, strlen(bad), err, sizeof(err)));
}
END_TEST

static SstInsn scan(const uint8_t *bytes, uint32_t n)
{
    MooTest t = {.bytes = bytes, .nbytes = n};
    SstInsn insn;
    sst_insn_scan(&t, &insn);
    return insn;
}

START_TEST(rules_classify_286_p6_differences)
{
    /* 5 segment prefixes + ADD word [si+1DDFh],7693h: 11 bytes (recorded #GP on the 286). */
    static const uint8_t long_add[] = {0x2e, 0x36, 0x2e, 0x3e, 0x3e, 0x81, 0x84,
                                       0xdf, 0x1d, 0x93, 0x76, 0xf4};
    SstInsn i = scan(long_add, sizeof(long_add));
    ck_assert_int_eq(i.nprefix, 5);
    ck_assert_int_eq(i.len, 11);
    ck_assert_int_eq(sst_skip_rule(&i), SST_SKIP_TOO_LONG);

    i = scan((const uint8_t[]){0xf0, 0x88, 0x07, 0xf4}, 4); /* lock mov [bx],al */
    ck_assert_int_eq(sst_skip_rule(&i), SST_SKIP_LOCK_UD);
    i = scan((const uint8_t[]){0xf0, 0x00, 0xc0, 0xf4}, 4); /* lock add al,al */
    ck_assert_int_eq(sst_skip_rule(&i), SST_SKIP_LOCK_UD);
    i = scan((const uint8_t[]){0x26, 0xf0, 0x00, 0x07, 0xf4}, 5); /* lock add es:[bx],al */
    ck_assert_int_eq(sst_skip_rule(&i), -1);
    i = scan((const uint8_t[]){0xf0, 0x80, 0x3f, 0x01, 0xf4}, 5); /* lock cmp byte [bx],1 */
    ck_assert_int_eq(sst_skip_rule(&i), SST_SKIP_LOCK_UD);
    i = scan((const uint8_t[]){0x8c, 0xe0, 0xf4}, 3); /* mov ax,fs on a 386 */
    ck_assert_int_eq(sst_skip_rule(&i), SST_SKIP_SREG_FSGS);
    i = scan((const uint8_t[]){0x8c, 0xd8, 0xf4}, 3); /* mov ax,ds */
    ck_assert_int_eq(sst_skip_rule(&i), -1);
    i = scan((const uint8_t[]){0x66, 0x90, 0xf4}, 3);
    ck_assert_int_eq(sst_skip_rule(&i), SST_SKIP_OPCODE_386);

    i = scan((const uint8_t[]){0xf3, 0xa5, 0xf4}, 3);
    ck_assert(sst_insn_is_rep_string(&i));
    i = scan((const uint8_t[]){0xf3, 0x90, 0xf4}, 3);
    ck_assert(!sst_insn_is_rep_string(&i));

    /* movsw that faulted on the 286: SI, DI, CX are not compared. */
    static const uint8_t movsw[] = {0xa5, 0xf4};
    MooTest t = {.bytes = movsw, .nbytes = 2, .has_exception = true, .exception = 13};
    int rule;
    sst_insn_scan(&t, &i);
    ck_assert_uint_eq(sst_ignored_registers(&i, &t, &rule),
                      (1u << MOO_SI) | (1u << MOO_DI) | (1u << MOO_CX));
    ck_assert_int_eq(rule, SST_MASK_STRING_FAULT);
    t.has_exception = false;
    ck_assert_uint_eq(sst_ignored_registers(&i, &t, &rule), 0);
    ck_assert_int_eq(rule, -1);
}
END_TEST

START_TEST(rules_mask_p6_undefined_shift_flags)
{
    MooRegs regs = {0};
    int rules[2], n;
    /* shl byte [bx],9: OF (count != 1) and CF (count >= 8) undefined. */
    SstInsn i = scan((const uint8_t[]){0xc0, 0x27, 0x09, 0xf4}, 4);
    ck_assert_uint_eq(sst_p6_undefined_flags(&i, &regs, rules, &n), 0x0801);
    ck_assert_int_eq(n, 2);
    /* sar byte [bx],9: CF is the sign, defined; OF undefined. */
    i = scan((const uint8_t[]){0xc0, 0x3f, 0x09, 0xf4}, 4);
    ck_assert_uint_eq(sst_p6_undefined_flags(&i, &regs, rules, &n), 0x0800);
    ck_assert_int_eq(rules[0], SST_MASK_SHIFT_OF);
    /* shl word [bx+1234h],16: the count follows a 16-bit displacement. */
    i = scan((const uint8_t[]){0xc1, 0xa7, 0x34, 0x12, 0x10, 0xf4}, 6);
    ck_assert_uint_eq(sst_p6_undefined_flags(&i, &regs, rules, &n), 0x0801);
    /* shl word [bx],15: below the width, CF defined. */
    i = scan((const uint8_t[]){0xc1, 0x27, 0x0f, 0xf4}, 4);
    ck_assert_uint_eq(sst_p6_undefined_flags(&i, &regs, rules, &n), 0x0800);
    /* rol al,cl with CL = 0x21: masked count 1, every flag defined. */
    regs.value[MOO_CX] = 0x0021;
    i = scan((const uint8_t[]){0xd2, 0xc0, 0xf4}, 3);
    ck_assert_uint_eq(sst_p6_undefined_flags(&i, &regs, rules, &n), 0);
    ck_assert_int_eq(n, 0);
    /* rol al,cl with CL = 0x20: masked count 0, no flag changes. */
    regs.value[MOO_CX] = 0x0020;
    ck_assert_uint_eq(sst_p6_undefined_flags(&i, &regs, rules, &n), 0);
    /* shl al,1 (D0 /4): defined. */
    i = scan((const uint8_t[]){0xd0, 0xe0, 0xf4}, 3);
    ck_assert_uint_eq(sst_p6_undefined_flags(&i, &regs, rules, &n), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sst_fixtures");
    TCase *tc = tcase_create("readers");
    tcase_add_test(tc, moo_parses_every_field);
    tcase_add_test(tc, moo_rejects_malformed_files);
    tcase_add_test(tc, moo_reads_recorded_test_as_documented);
    tcase_add_test(tc, meta_reads_opcodes_and_reg_forms);
    tcase_add_test(tc, meta_reads_fixture_metadata);
    tcase_add_test(tc, revocation_list_parses_hashes);
    tcase_add_test(tc, rules_classify_286_p6_differences);
    tcase_add_test(tc, rules_mask_p6_undefined_shift_flags);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
