/*
 * QEMU's two spellings of a character device, parsed into a ChardevSpec:
 * the compact one -serial and -monitor take ("tcp::4444,server,nowait",
 * "unix:/tmp/s,server", "mon:stdio") and the -chardev property list
 * ("socket,id=s0,host=127.0.0.1,port=4444,server=on,wait=off").
 * Nothing is opened here, so both are unit-tested without sockets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chardev/chardev.h"

static bool copy_field(char *dst, size_t size, const char *src, size_t len)
{
    if (len >= size) {
        return false;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
    return true;
}

static bool parse_on_off(const char *v, bool *out)
{
    if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes")) {
        *out = true;
    } else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no")) {
        *out = false;
    } else {
        return false;
    }
    return true;
}

/* One socket flag, in either spelling: "server", "nowait", "server=on",
 * "wait=off", "nodelay" (accepted: popek's sockets already send at once). */
static bool socket_flag(ChardevSpec *s, const char *kv, bool *wait_given, char *err, size_t errlen)
{
    const char *eq = strchr(kv, '=');
    size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
    bool on = true;
    if (eq && !parse_on_off(eq + 1, &on)) {
        snprintf(err, errlen, "bad value in '%s' (want on or off)", kv);
        return false;
    }
    if (klen == 6 && !strncmp(kv, "server", 6)) {
        s->server = on;
    } else if (klen == 4 && !strncmp(kv, "wait", 4)) {
        s->wait = on;
        *wait_given = true;
    } else if (!eq && !strcmp(kv, "nowait")) {
        s->wait = false;
        *wait_given = true;
    } else if (klen == 7 && !strncmp(kv, "nodelay", 7)) {
        /* nothing to do */
    } else {
        snprintf(err, errlen, "unknown socket option '%s'", kv);
        return false;
    }
    return true;
}

/* HOST:PORT, HOST empty or [IPv6]. */
static bool split_host_port(ChardevSpec *s, const char *addr, size_t len, char *err, size_t errlen)
{
    const char *end = addr + len;
    const char *colon;
    const char *host = addr;
    size_t host_len;
    if (len > 0 && addr[0] == '[') {
        const char *close = memchr(addr, ']', len);
        if (!close || close + 1 >= end || close[1] != ':') {
            snprintf(err, errlen, "bad address '%.*s' (want [IPV6]:PORT)", (int)len, addr);
            return false;
        }
        host = addr + 1;
        host_len = (size_t)(close - host);
        colon = close + 1;
    } else {
        colon = NULL;
        for (const char *p = addr; p < end; p++) {
            if (*p == ':') {
                colon = p;
            }
        }
        if (!colon) {
            snprintf(err, errlen, "bad address '%.*s' (want HOST:PORT or :PORT)", (int)len, addr);
            return false;
        }
        host_len = (size_t)(colon - addr);
    }
    size_t port_len = (size_t)(end - colon - 1);
    if (port_len == 0 || !copy_field(s->host, sizeof(s->host), host, host_len) ||
        !copy_field(s->port, sizeof(s->port), colon + 1, port_len)) {
        snprintf(err, errlen, "bad address '%.*s' (want HOST:PORT or :PORT)", (int)len, addr);
        return false;
    }
    return true;
}

/* tcp:ADDR[,flags] or unix:PATH[,flags] (text after the "tcp:"/"unix:"). */
static bool parse_legacy_socket(ChardevSpec *s, const char *rest, bool is_unix, char *err,
                                size_t errlen)
{
    size_t first = strcspn(rest, ",");
    s->kind = CHARDEV_SOCKET;
    s->is_unix = is_unix;
    s->wait = true; /* QEMU's default for a server: wait for the first client */
    if (is_unix) {
        if (first == 0 || first >= CHARDEV_PATH_MAX ||
            !copy_field(s->path, sizeof(s->path), rest, first)) {
            snprintf(err, errlen, "unix: needs a PATH shorter than %d bytes", CHARDEV_PATH_MAX);
            return false;
        }
    } else if (!split_host_port(s, rest, first, err, errlen)) {
        return false;
    }
    char *flags = strdup(rest + first);
    if (!flags) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    bool wait_given = false, ok = true;
    char *save = NULL;
    for (char *kv = strtok_r(flags, ",", &save); kv && ok; kv = strtok_r(NULL, ",", &save)) {
        ok = socket_flag(s, kv, &wait_given, err, errlen);
    }
    free(flags);
    return ok;
}

bool chardev_parse_legacy(const char *text, ChardevSpec *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    if (!strncmp(text, "mon:", 4)) {
        if (!chardev_parse_legacy(text + 4, s, err, errlen)) {
            return false;
        }
        if (s->kind == CHARDEV_REF) {
            snprintf(err, errlen, "mon: cannot wrap chardev:");
            return false;
        }
        s->mux = true;
        return true;
    }
    if (!strcmp(text, "null")) {
        s->kind = CHARDEV_NULL;
    } else if (!strcmp(text, "stdio")) {
        s->kind = CHARDEV_STDIO;
    } else if (!strcmp(text, "vc") || !strncmp(text, "vc:", 3)) {
        s->kind = CHARDEV_VC;
    } else if (!strcmp(text, "pty")) {
        s->kind = CHARDEV_PTY;
    } else if (!strncmp(text, "file:", 5)) {
        s->kind = CHARDEV_FILE;
        if (!text[5] || !copy_field(s->path, sizeof(s->path), text + 5, strlen(text + 5))) {
            snprintf(err, errlen, "file: needs a PATH");
            return false;
        }
    } else if (!strncmp(text, "chardev:", 8)) {
        s->kind = CHARDEV_REF;
        if (!text[8] || !copy_field(s->id, sizeof(s->id), text + 8, strlen(text + 8))) {
            snprintf(err, errlen, "chardev: needs the ID of a -chardev");
            return false;
        }
    } else if (!strncmp(text, "tcp:", 4)) {
        return parse_legacy_socket(s, text + 4, false, err, errlen);
    } else if (!strncmp(text, "unix:", 5)) {
        return parse_legacy_socket(s, text + 5, true, err, errlen);
    } else {
        snprintf(err, errlen,
                 "unknown backend '%s' (want null, stdio, vc, pty, file:PATH, "
                 "tcp:[HOST]:PORT[,server,nowait], unix:PATH[,server,nowait], "
                 "chardev:ID or mon:...)",
                 text);
        return false;
    }
    return true;
}

/* One key=value of -chardev. */
static bool chardev_prop(ChardevSpec *s, char *kv, bool *wait_given, char *err, size_t errlen)
{
    char *eq = strchr(kv, '=');
    const char *val = eq ? eq + 1 : "";
    size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
    bool ok = true;
    if (klen == 2 && !strncmp(kv, "id", 2)) {
        ok = val[0] && copy_field(s->id, sizeof(s->id), val, strlen(val));
    } else if (klen == 4 && !strncmp(kv, "path", 4) && s->kind != CHARDEV_NULL) {
        ok = val[0] && copy_field(s->path, sizeof(s->path), val, strlen(val));
        s->is_unix = s->kind == CHARDEV_SOCKET;
    } else if (klen == 4 && !strncmp(kv, "host", 4) && s->kind == CHARDEV_SOCKET) {
        ok = copy_field(s->host, sizeof(s->host), val, strlen(val));
    } else if (klen == 4 && !strncmp(kv, "port", 4) && s->kind == CHARDEV_SOCKET) {
        ok = val[0] && copy_field(s->port, sizeof(s->port), val, strlen(val));
    } else if (klen == 3 && !strncmp(kv, "mux", 3)) {
        ok = parse_on_off(val, &s->mux);
    } else if (klen == 6 && !strncmp(kv, "signal", 6) && s->kind == CHARDEV_STDIO) {
        bool ignored;
        ok = parse_on_off(val, &ignored);
    } else if (s->kind == CHARDEV_SOCKET) {
        return socket_flag(s, kv, wait_given, err, errlen);
    } else {
        snprintf(err, errlen, "unknown property '%s'", kv);
        return false;
    }
    if (!ok) {
        snprintf(err, errlen, "bad value in '%s'", kv);
    }
    return ok;
}

bool chardev_parse_opts(const char *text, ChardevSpec *s, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        enum ChardevKind kind;
    } backends[] = {{"null", CHARDEV_NULL}, {"stdio", CHARDEV_STDIO},   {"file", CHARDEV_FILE},
                    {"pty", CHARDEV_PTY},   {"socket", CHARDEV_SOCKET}, {"vc", CHARDEV_VC}};
    memset(s, 0, sizeof(*s));
    size_t blen = strcspn(text, ",");
    bool known = false;
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
        if (strlen(backends[i].name) == blen && !strncmp(text, backends[i].name, blen)) {
            s->kind = backends[i].kind;
            known = true;
        }
    }
    if (!known) {
        snprintf(err, errlen, "unknown backend '%.*s' (want null, stdio, file, pty, socket or vc)",
                 (int)blen, text);
        return false;
    }
    s->wait = true;
    char *props = strdup(text + blen);
    if (!props) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    bool wait_given = false, ok = true;
    char *save = NULL;
    for (char *kv = strtok_r(props, ",", &save); kv && ok; kv = strtok_r(NULL, ",", &save)) {
        ok = chardev_prop(s, kv, &wait_given, err, errlen);
    }
    free(props);
    if (!ok) {
        return false;
    }
    if (!s->id[0]) {
        snprintf(err, errlen, "an id=NAME is needed");
        return false;
    }
    if (s->kind == CHARDEV_FILE && !s->path[0]) {
        snprintf(err, errlen, "file needs path=PATH");
        return false;
    }
    if (s->kind == CHARDEV_SOCKET && !s->is_unix && !s->port[0]) {
        snprintf(err, errlen, "socket needs path=PATH or port=PORT");
        return false;
    }
    if (s->kind == CHARDEV_SOCKET && s->is_unix && strlen(s->path) >= CHARDEV_PATH_MAX) {
        snprintf(err, errlen, "socket path is longer than %d bytes", CHARDEV_PATH_MAX - 1);
        return false;
    }
    return true;
}
