/*
 * A reader for MOO ("Machine Opcode Operation") files, the chunked binary
 * format of the SingleStepTests CPU test suites
 * (../shared/fixtures/sst-80286-real/moo_format_v1.md).
 *
 * A file is a "MOO " header chunk followed by top-level chunks: META, an
 * optional file-wide RMSK, and one TEST chunk per test.  A TEST holds NAME,
 * BYTS, INIT and FINA (each with REGS, optional RMSK, RAM  and QUEU), CYCL,
 * an optional EXCP and HASH.  Every chunk is <4-byte ASCII id><uint32 length>
 * <payload>; the reader always advances by the length field and skips ids it
 * does not know (the format doc requires both, so that fields can be added).
 * All integers are little-endian.
 *
 * moo_parse() checks every length against its enclosing chunk, so a
 * truncated or corrupt file is reported, never read past.  Names and
 * instruction bytes point into the file buffer, which the MooFile owns.
 */
#ifndef TESTS_CPU_MOO_H
#define TESTS_CPU_MOO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The 16-bit register file in REGS/RMSK bitmask order (format doc, "REGS"). */
enum MooReg {
    MOO_AX, MOO_BX, MOO_CX, MOO_DX, MOO_CS, MOO_SS, MOO_DS, MOO_ES,
    MOO_SP, MOO_BP, MOO_SI, MOO_DI, MOO_IP, MOO_FLAGS,
    MOO_NREGS
};

extern const char *const moo_reg_names[MOO_NREGS];

/* A REGS or RMSK chunk: which registers it gives (bit n = enum MooReg n)
 * and their values.  A final-state REGS lists only changed registers. */
typedef struct MooRegs {
    uint16_t present;
    uint16_t value[MOO_NREGS];
} MooRegs;

/* One RAM entry: a physical byte address and its value. */
typedef struct MooRam {
    uint32_t addr;
    uint8_t value;
} MooRam;

/* An INIT or FINA snapshot.  RAM entries live in MooFile.ram. */
typedef struct MooState {
    MooRegs regs;
    MooRegs mask;        /* per-test RMSK (present == 0 when absent) */
    uint32_t ram_first;  /* index of the first entry in MooFile.ram */
    uint32_t ram_count;
    uint32_t queue_len;  /* QUEU length; prefetch queue contents are not used */
} MooState;

typedef struct MooTest {
    uint32_t index;          /* 0-based index in the file */
    const char *name;        /* disassembly, name_len bytes, not NUL-terminated */
    uint32_t name_len;
    const uint8_t *bytes;    /* instruction bytes, prefixes and the terminating HLT included */
    uint32_t nbytes;
    MooState init;
    MooState final;
    bool has_exception;      /* EXCP chunk present */
    uint8_t exception;       /* its vector */
    uint32_t flag_addr;      /* physical address of the FLAGS word it pushed */
    bool has_hash;
    uint8_t hash[20];        /* SHA-1 that identifies the test (revocation list key) */
    uint32_t ncycles;        /* CYCL count (bus cycles are not compared) */
} MooTest;

/* The META chunk (common to all tests in the file). */
typedef struct MooMeta {
    uint8_t major, minor;    /* test-collection version */
    uint8_t cpu_type;
    uint32_t opcode;         /* 0xFFFFFFFF when the file mixes opcodes */
    char mnemonic[9];        /* space padding removed, NUL-terminated */
    uint32_t test_count;
    uint64_t seed;
    uint8_t cpu_mode;        /* 0: real mode */
} MooMeta;

typedef struct MooFile {
    uint8_t *data;           /* the whole decompressed file (owned) */
    size_t size;
    uint8_t version_major, version_minor; /* "MOO " header */
    uint32_t header_count;   /* test count stated by the header */
    char cpu_id[5];          /* e.g. "C286", NUL-terminated */
    bool has_meta;
    MooMeta meta;
    MooRegs file_mask;       /* file-wide RMSK (present == 0 when absent) */
    MooTest *tests;
    uint32_t ntests;
    uint32_t tests_cap;      /* allocated MooTest slots */
    MooRam *ram;             /* all RAM entries of all states */
    uint32_t nram;
    uint32_t ram_cap;        /* allocated MooRam slots */
} MooFile;

/*
 * Parse size bytes at data.  The MooFile takes ownership of data (a malloc'd
 * buffer) on success and on failure alike.  Returns false with a message in
 * err on a malformed file.
 */
bool moo_parse(MooFile *f, uint8_t *data, size_t size, char *err, size_t errlen);
/* Read and parse a file, gzip-compressed or plain (zlib's gzread does both). */
bool moo_load(MooFile *f, const char *path, char *err, size_t errlen);
void moo_free(MooFile *f);

/* The RAM entries of a state. */
static inline const MooRam *moo_state_ram(const MooFile *f, const MooState *s)
{
    return &f->ram[s->ram_first];
}

#endif /* TESTS_CPU_MOO_H */
