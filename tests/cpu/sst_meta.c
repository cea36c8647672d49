/*
 * metadata.json and revocation_list.txt readers (see sst_meta.h).
 *
 * The JSON reader is purpose-built: it walks the document with a cursor,
 * descends into "opcodes" and each opcode's "reg" object, keeps "status" and
 * "flags-mask", and skips every other value whatever its type.  Nesting is
 * bounded so a hostile file cannot exhaust the stack.
 */
#include "tests/cpu/sst_meta.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 32

typedef struct Json {
    const char *start;
    const char *p;
    const char *end;
    SstMeta *m;
    char *err;
    size_t errlen;
} Json;

static bool json_fail(Json *j, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(j->err, j->errlen, "metadata.json offset %ld: %s", (long)(j->p - j->start), msg);
    return false;
}

static void json_ws(Json *j)
{
    while (j->p < j->end && isspace((unsigned char)*j->p)) {
        j->p++;
    }
}

/* Consume c (after whitespace) if it is next. */
static bool json_accept(Json *j, char c)
{
    json_ws(j);
    if (j->p < j->end && *j->p == c) {
        j->p++;
        return true;
    }
    return false;
}

static bool json_expect(Json *j, char c)
{
    if (!json_accept(j, c)) {
        return json_fail(j, "expected '%c'", c);
    }
    return true;
}

/* A string into out (truncated to outlen - 1); escapes other than \uXXXX
 * are decoded, \uXXXX becomes '?' (no key or status we use has one). */
static bool json_string(Json *j, char *out, size_t outlen)
{
    size_t n = 0;
    if (!json_expect(j, '"')) {
        return false;
    }
    while (j->p < j->end && *j->p != '"') {
        char c = *j->p++;
        if (c == '\\') {
            if (j->p >= j->end) {
                break;
            }
            c = *j->p++;
            if (c == 'u') {
                if (j->end - j->p < 4) {
                    return json_fail(j, "short \\u escape");
                }
                j->p += 4;
                c = '?';
            } else if (c == 'n') {
                c = '\n';
            } else if (c == 't') {
                c = '\t';
            }
        }
        if (n + 1 < outlen) {
            out[n++] = c;
        }
    }
    if (outlen) {
        out[n] = '\0';
    }
    if (j->p >= j->end) {
        return json_fail(j, "unterminated string");
    }
    j->p++;
    return true;
}

static bool json_number(Json *j, double *out)
{
    char buf[64];
    size_t n = 0;
    json_ws(j);
    while (j->p < j->end && n + 1 < sizeof(buf) && strchr("+-0123456789.eE", *j->p)) {
        buf[n++] = *j->p++;
    }
    buf[n] = '\0';
    char *stop;
    *out = strtod(buf, &stop);
    if (n == 0 || *stop) {
        return json_fail(j, "bad number '%s'", buf);
    }
    return true;
}

static bool json_skip(Json *j, int depth);

/* Members of an object whose values are all skipped, or array elements. */
static bool json_skip_container(Json *j, char close, bool keyed, int depth)
{
    if (json_accept(j, close)) {
        return true;
    }
    do {
        char key[8];
        if (keyed && (!json_string(j, key, sizeof(key)) || !json_expect(j, ':'))) {
            return false;
        }
        if (!json_skip(j, depth + 1)) {
            return false;
        }
    } while (json_accept(j, ','));
    return json_expect(j, close);
}

static bool json_skip(Json *j, int depth)
{
    if (depth > JSON_MAX_DEPTH) {
        return json_fail(j, "nested too deeply");
    }
    json_ws(j);
    if (j->p >= j->end) {
        return json_fail(j, "value expected");
    }
    char c = *j->p;
    if (c == '{' || c == '[') {
        j->p++;
        return json_skip_container(j, c == '{' ? '}' : ']', c == '{', depth);
    }
    if (c == '"') {
        char dummy[1];
        return json_string(j, dummy, sizeof(dummy));
    }
    static const char *const literals[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(literals[i]);
        if ((size_t)(j->end - j->p) >= n && memcmp(j->p, literals[i], n) == 0) {
            j->p += n;
            return true;
        }
    }
    double ignored;
    return json_number(j, &ignored);
}

static SstOpMeta *meta_add(Json *j, const char *name)
{
    SstMeta *m = j->m;
    if (m->nops == m->cap) {
        int cap = m->cap ? m->cap * 2 : 256;
        SstOpMeta *grown = realloc(m->ops, (size_t)cap * sizeof(*grown));
        if (!grown) {
            json_fail(j, "out of memory");
            return NULL;
        }
        m->ops = grown;
        m->cap = cap;
    }
    SstOpMeta *op = &m->ops[m->nops++];
    memset(op, 0, sizeof(*op));
    snprintf(op->name, sizeof(op->name), "%s", name);
    op->flags_mask = 0xffff;
    return op;
}

static bool json_opcode(Json *j, const char *name, int depth);

/* "reg": {"0": {...}, ...}: one entry per ModRM.reg form, named NAME.reg. */
static bool json_reg_forms(Json *j, const char *name, int depth)
{
    if (!json_expect(j, '{')) {
        return false;
    }
    if (json_accept(j, '}')) {
        return true;
    }
    do {
        char reg[8], full[16];
        if (!json_string(j, reg, sizeof(reg)) || !json_expect(j, ':')) {
            return false;
        }
        snprintf(full, sizeof(full), "%.7s.%.7s", name, reg);
        if (!json_opcode(j, full, depth + 1)) {
            return false;
        }
    } while (json_accept(j, ','));
    return json_expect(j, '}');
}

/* One opcode object: {"status": ..., "flags-mask": N, "reg": {...}, ...}. */
static bool json_opcode(Json *j, const char *name, int depth)
{
    if (depth > JSON_MAX_DEPTH) {
        return json_fail(j, "nested too deeply");
    }
    SstOpMeta *op = NULL;
    if (!json_expect(j, '{')) {
        return false;
    }
    if (json_accept(j, '}')) {
        return true;
    }
    do {
        char key[32];
        if (!json_string(j, key, sizeof(key)) || !json_expect(j, ':')) {
            return false;
        }
        bool ok;
        if (strcmp(key, "reg") == 0) {
            ok = json_reg_forms(j, name, depth);
        } else if (strcmp(key, "status") == 0 || strcmp(key, "flags-mask") == 0) {
            /* Entries are added lazily: an opcode that only has "reg"
             * forms gets no entry of its own. */
            if (!op && !(op = meta_add(j, name))) {
                return false;
            }
            double v = 0;
            ok = key[0] == 's' ? json_string(j, op->status, sizeof(op->status))
                               : json_number(j, &v);
            if (ok && key[0] == 'f') {
                if (v < 0 || v > 0xffff) {
                    return json_fail(j, "%s: flags-mask %g out of range", name, v);
                }
                op->flags_mask = (uint16_t)v;
            }
        } else {
            ok = json_skip(j, depth + 1);
        }
        if (!ok) {
            return false;
        }
    } while (json_accept(j, ','));
    return json_expect(j, '}');
}

static bool json_opcodes(Json *j)
{
    if (!json_expect(j, '{')) {
        return false;
    }
    if (json_accept(j, '}')) {
        return true;
    }
    do {
        char name[8];
        if (!json_string(j, name, sizeof(name)) || !json_expect(j, ':') ||
            !json_opcode(j, name, 1)) {
            return false;
        }
    } while (json_accept(j, ','));
    return json_expect(j, '}');
}

bool sst_meta_parse(SstMeta *m, const char *json, size_t len, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    Json j = {json, json, json + len, m, err, errlen};
    bool seen_opcodes = false;
    bool ok = json_expect(&j, '{');
    if (ok && !json_accept(&j, '}')) {
        do {
            char key[32];
            ok = json_string(&j, key, sizeof(key)) && json_expect(&j, ':');
            if (ok && strcmp(key, "opcodes") == 0) {
                seen_opcodes = true;
                ok = json_opcodes(&j);
            } else if (ok) {
                ok = json_skip(&j, 1);
            }
        } while (ok && json_accept(&j, ','));
        ok = ok && json_expect(&j, '}');
    }
    if (ok && !seen_opcodes) {
        ok = json_fail(&j, "no \"opcodes\" object");
    }
    if (!ok) {
        sst_meta_free(m);
    }
    return ok;
}

char *sst_read_text(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        return NULL;
    }
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap + 1);
    while (buf && (got = fread(buf + n, 1, cap - n, fp)) > 0) {
        n += got;
        if (n == cap) {
            char *grown = realloc(buf, cap * 2 + 1);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    bool bad = ferror(fp);
    fclose(fp);
    if (!buf || bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

bool sst_meta_load(SstMeta *m, const char *path, char *err, size_t errlen)
{
    size_t len;
    char *text = sst_read_text(path, &len);
    if (!text) {
        memset(m, 0, sizeof(*m));
        snprintf(err, errlen, "%s: cannot read", path);
        return false;
    }
    bool ok = sst_meta_parse(m, text, len, err, errlen);
    free(text);
    return ok;
}

const SstOpMeta *sst_meta_find(const SstMeta *m, const char *name)
{
    for (int i = 0; i < m->nops; i++) {
        if (strcasecmp(m->ops[i].name, name) == 0) {
            return &m->ops[i];
        }
    }
    return NULL;
}

void sst_meta_free(SstMeta *m)
{
    free(m->ops);
    memset(m, 0, sizeof(*m));
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

bool sst_revoked_parse(SstRevoked *r, const char *text, size_t len, char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    const char *p = text, *end = text + len;
    int line = 0;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) {
            eol = end;
        }
        line++;
        const char *s = p, *e = eol;
        p = eol + 1;
        while (s < e && isspace((unsigned char)*s)) {
            s++;
        }
        while (e > s && isspace((unsigned char)e[-1])) {
            e--;
        }
        if (s == e || *s == '#') {
            continue;
        }
        uint8_t hash[20];
        bool ok = e - s == 40;
        for (int i = 0; ok && i < 20; i++) {
            int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
            ok = hi >= 0 && lo >= 0;
            hash[i] = (uint8_t)(hi << 4 | lo);
        }
        if (!ok) {
            snprintf(err, errlen, "revocation list line %d: not a 40-digit SHA-1", line);
            sst_revoked_free(r);
            return false;
        }
        uint8_t (*grown)[20] = realloc(r->hash, (size_t)(r->n + 1) * sizeof(*grown));
        if (!grown) {
            snprintf(err, errlen, "revocation list: out of memory");
            sst_revoked_free(r);
            return false;
        }
        r->hash = grown;
        memcpy(r->hash[r->n++], hash, 20);
    }
    return true;
}

bool sst_revoked_load(SstRevoked *r, const char *path, char *err, size_t errlen)
{
    size_t len;
    char *text = sst_read_text(path, &len);
    if (!text) {
        memset(r, 0, sizeof(*r));
        snprintf(err, errlen, "%s: cannot read", path);
        return false;
    }
    bool ok = sst_revoked_parse(r, text, len, err, errlen);
    free(text);
    return ok;
}

bool sst_revoked_has(const SstRevoked *r, const uint8_t hash[20])
{
    for (int i = 0; i < r->n; i++) {
        if (memcmp(r->hash[i], hash, 20) == 0) {
            return true;
        }
    }
    return false;
}

void sst_revoked_free(SstRevoked *r)
{
    free(r->hash);
    memset(r, 0, sizeof(*r));
}
