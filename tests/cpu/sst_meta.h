/*
 * The suite's side files: v1_real_mode/metadata.json (per-opcode status and
 * the mask of flags the 286 leaves undefined) and revocation_list.txt (tests
 * found to be wrong, by SHA-1 hash).
 *
 * metadata.json is read at run time by a small reader for the JSON subset
 * the file uses (objects, arrays, strings, numbers, literals), so the build
 * does not depend on the fixtures being present.  Opcodes whose forms differ
 * by ModRM.reg ("80": {"reg": {"0": {...}, ...}}) become one entry per form,
 * named as the fixture files are: "80.0" ... "80.7".
 */
#ifndef TESTS_CPU_SST_META_H
#define TESTS_CPU_SST_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct SstOpMeta {
    char name[16];       /* "00", "80.1", "0F01.7" */
    char status[16];     /* "normal", "alias", "undocumented", "undefined", "fpu", ... ("" if none) */
    uint16_t flags_mask; /* FLAGS bits the 286 defines ("flags-mask"); 0xFFFF when absent */
} SstOpMeta;

typedef struct SstMeta {
    SstOpMeta *ops;
    int nops;
    int cap;
} SstMeta;

/* Parse the text of metadata.json; false with a message in err. */
bool sst_meta_parse(SstMeta *m, const char *json, size_t len, char *err, size_t errlen);
bool sst_meta_load(SstMeta *m, const char *path, char *err, size_t errlen);
/* The entry named name ("D3.4"), or NULL. */
const SstOpMeta *sst_meta_find(const SstMeta *m, const char *name);
void sst_meta_free(SstMeta *m);

typedef struct SstRevoked {
    uint8_t (*hash)[20];
    int n;
} SstRevoked;

/* revocation_list.txt: one hex SHA-1 per line; '#' starts a comment line. */
bool sst_revoked_parse(SstRevoked *r, const char *text, size_t len, char *err, size_t errlen);
bool sst_revoked_load(SstRevoked *r, const char *path, char *err, size_t errlen);
bool sst_revoked_has(const SstRevoked *r, const uint8_t hash[20]);
void sst_revoked_free(SstRevoked *r);

/* Read a whole text file into a NUL-terminated malloc'd buffer, or NULL. */
char *sst_read_text(const char *path, size_t *len);

#endif /* TESTS_CPU_SST_META_H */
