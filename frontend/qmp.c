/*
 * QMP (qmp.h): json-c's incremental tokener splits the byte stream into
 * objects, so a command may arrive in pieces or several in one read.
 * Until a complete object, the tokener holds what it has seen; past
 * QMP_INPUT_MAX bytes of one object the client gets an error and the
 * object is dropped, so memory stays bounded whatever a client sends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <json-c/json.h>

#include "frontend/qmp.h"
#include "frontend/version.h"

/* Nesting a command needs is shallow; deeper input is an error, not a
 * deep recursion. */
#define QMP_MAX_DEPTH 32

struct Qmp {
    QmpOps ops;
    json_tokener *tok;
    size_t pending;  /* bytes fed to the tokener since the last complete object */
    bool connected;  /* a client is there */
    bool negotiated; /* qmp_capabilities done: commands and events */
};

typedef enum { QMP_OK, QMP_GENERIC, QMP_NOT_FOUND } QmpStatus;

typedef struct QmpCommand {
    const char *name;
    /* Fills *ret (or leaves it NULL for {}); on an error, desc. */
    QmpStatus (*run)(Qmp *q, json_object *args, json_object **ret, char *desc, size_t len);
    const char *arg_names[3]; /* the arguments it takes (NULL-terminated) */
} QmpCommand;

static void send_object(Qmp *q, json_object *obj)
{
    const char *text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
    q->ops.write(q->ops.opaque, text, strlen(text));
    q->ops.write(q->ops.opaque, "\r\n", 2);
}

static json_object *version_object(void)
{
    json_object *qemu = json_object_new_object();
    json_object_object_add(qemu, "micro", json_object_new_int(POPEK_VERSION_MICRO));
    json_object_object_add(qemu, "minor", json_object_new_int(POPEK_VERSION_MINOR));
    json_object_object_add(qemu, "major", json_object_new_int(POPEK_VERSION_MAJOR));
    json_object *v = json_object_new_object();
    json_object_object_add(v, "qemu", qemu);
    json_object_object_add(v, "package", json_object_new_string("popek " POPEK_VERSION));
    return v;
}

/* ---- commands ---- */

/* A host action: run it, or say it is not available here. */
static QmpStatus action(Qmp *q, void (*fn)(void *opaque), char *desc, size_t len)
{
    if (!fn) {
        snprintf(desc, len, "not available here");
        return QMP_GENERIC;
    }
    fn(q->ops.opaque);
    return QMP_OK;
}

static QmpStatus cmd_capabilities(Qmp *q, json_object *args, json_object **ret, char *desc,
                                  size_t len)
{
    if (q->negotiated) {
        snprintf(desc, len, "Capabilities negotiation is already complete, command ignored");
        return QMP_NOT_FOUND;
    }
    q->negotiated = true;
    return QMP_OK;
}

static QmpStatus cmd_query_status(Qmp *q, json_object *args, json_object **ret, char *desc,
                                  size_t len)
{
    bool stopped = q->ops.is_stopped && q->ops.is_stopped(q->ops.opaque);
    *ret = json_object_new_object();
    json_object_object_add(*ret, "status", json_object_new_string(stopped ? "paused" : "running"));
    json_object_object_add(*ret, "singlestep", json_object_new_boolean(0));
    json_object_object_add(*ret, "running", json_object_new_boolean(!stopped));
    return QMP_OK;
}

static QmpStatus cmd_query_version(Qmp *q, json_object *args, json_object **ret, char *desc,
                                   size_t len)
{
    *ret = version_object();
    return QMP_OK;
}

static QmpStatus cmd_stop(Qmp *q, json_object *args, json_object **ret, char *desc, size_t len)
{
    return action(q, q->ops.stop, desc, len);
}

static QmpStatus cmd_cont(Qmp *q, json_object *args, json_object **ret, char *desc, size_t len)
{
    return action(q, q->ops.cont, desc, len);
}

static QmpStatus cmd_reset(Qmp *q, json_object *args, json_object **ret, char *desc, size_t len)
{
    return action(q, q->ops.reset, desc, len);
}

static QmpStatus cmd_powerdown(Qmp *q, json_object *args, json_object **ret, char *desc, size_t len)
{
    return action(q, q->ops.powerdown, desc, len);
}

static QmpStatus cmd_quit(Qmp *q, json_object *args, json_object **ret, char *desc, size_t len)
{
    return action(q, q->ops.quit, desc, len);
}

static QmpStatus cmd_hmp(Qmp *q, json_object *args, json_object **ret, char *desc, size_t len)
{
    json_object *line;
    if (!args || !json_object_object_get_ex(args, "command-line", &line)) {
        snprintf(desc, len, "Parameter 'command-line' is missing");
        return QMP_GENERIC;
    }
    if (!json_object_is_type(line, json_type_string)) {
        snprintf(desc, len, "Invalid parameter type for 'command-line', expected: string");
        return QMP_GENERIC;
    }
    if (!q->ops.hmp) {
        snprintf(desc, len, "not available here");
        return QMP_GENERIC;
    }
    char *out = q->ops.hmp(q->ops.opaque, json_object_get_string(line));
    *ret = json_object_new_string(out ? out : "");
    free(out);
    return QMP_OK;
}

/* migrate {"uri": "file:PATH" | "exec:CMD"}: done when the reply comes
 * (QEMU answers at once and finishes later; query-migrate says when). */
static QmpStatus cmd_migrate(Qmp *q, json_object *args, json_object **ret, char *desc, size_t len)
{
    json_object *uri;
    if (!args || !json_object_object_get_ex(args, "uri", &uri)) {
        snprintf(desc, len, "Parameter 'uri' is missing");
        return QMP_GENERIC;
    }
    if (!json_object_is_type(uri, json_type_string)) {
        snprintf(desc, len, "Invalid parameter type for 'uri', expected: string");
        return QMP_GENERIC;
    }
    if (!q->ops.migrate) {
        snprintf(desc, len, "not available here");
        return QMP_GENERIC;
    }
    return q->ops.migrate(q->ops.opaque, json_object_get_string(uri), desc, len) ? QMP_OK
                                                                               : QMP_GENERIC;
}

static QmpStatus cmd_query_migrate(Qmp *q, json_object *args, json_object **ret, char *desc,
                                   size_t len)
{
    int64_t total_ms = 0;
    uint64_t bytes = 0;
    const char *status = q->ops.migrate_status
                             ? q->ops.migrate_status(q->ops.opaque, &total_ms, &bytes)
                             : NULL;
    *ret = json_object_new_object();
    if (status) {
        json_object_object_add(*ret, "status", json_object_new_string(status));
        json_object_object_add(*ret, "total-time", json_object_new_int64(total_ms));
        json_object *ram = json_object_new_object();
        json_object_object_add(ram, "transferred", json_object_new_int64((int64_t)bytes));
        json_object_object_add(*ret, "ram", ram);
    }
    return QMP_OK;
}

static QmpStatus cmd_query_commands(Qmp *q, json_object *args, json_object **ret, char *desc,
                                    size_t len);

static const QmpCommand commands[] = {
    {"qmp_capabilities", cmd_capabilities, {"enable", NULL}},
    {"query-status", cmd_query_status, {NULL}},
    {"query-version", cmd_query_version, {NULL}},
    {"query-commands", cmd_query_commands, {NULL}},
    {"stop", cmd_stop, {NULL}},
    {"cont", cmd_cont, {NULL}},
    {"system_reset", cmd_reset, {NULL}},
    {"system_powerdown", cmd_powerdown, {NULL}},
    {"quit", cmd_quit, {NULL}},
    {"human-monitor-command", cmd_hmp, {"command-line", "cpu-index", NULL}},
    {"migrate", cmd_migrate, {"uri", "detach", NULL}},
    {"query-migrate", cmd_query_migrate, {NULL}},
};

static QmpStatus cmd_query_commands(Qmp *q, json_object *args, json_object **ret, char *desc,
                                    size_t len)
{
    *ret = json_object_new_array();
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        json_object *c = json_object_new_object();
        json_object_object_add(c, "name", json_object_new_string(commands[i].name));
        json_object_array_add(*ret, c);
    }
    return QMP_OK;
}

/* Arguments the command does not take are an error, as in QEMU. */
static bool check_args(const QmpCommand *cmd, json_object *args, char *desc, size_t len)
{
    if (!args) {
        return true;
    }
    json_object_object_foreach(args, key, val)
    {
        (void)val;
        bool known = false;
        for (int i = 0; cmd->arg_names[i]; i++) {
            known |= !strcmp(cmd->arg_names[i], key);
        }
        if (!known) {
            snprintf(desc, len, "Parameter '%.200s' is unexpected", key);
            return false;
        }
    }
    return true;
}

/* ---- the wire ---- */

static void send_error(Qmp *q, QmpStatus status, const char *desc, json_object *id)
{
    json_object *err = json_object_new_object();
    json_object_object_add(
        err, "class",
        json_object_new_string(status == QMP_NOT_FOUND ? "CommandNotFound" : "GenericError"));
    json_object_object_add(err, "desc", json_object_new_string(desc));
    json_object *reply = json_object_new_object();
    json_object_object_add(reply, "error", err);
    if (id) {
        json_object_object_add(reply, "id", json_object_get(id));
    }
    send_object(q, reply);
    json_object_put(reply);
}

/* One complete object from the client. */
static void handle_request(Qmp *q, json_object *req)
{
    char desc[512];
    json_object *id = NULL, *exec = NULL, *args = NULL;
    if (!json_object_is_type(req, json_type_object)) {
        send_error(q, QMP_GENERIC, "QMP input must be a JSON object", NULL);
        return;
    }
    json_object_object_get_ex(req, "id", &id);
    json_object_object_foreach(req, key, val)
    {
        (void)val;
        if (strcmp(key, "execute") && strcmp(key, "arguments") && strcmp(key, "id")) {
            snprintf(desc, sizeof(desc), "QMP input member '%.200s' is unexpected", key);
            send_error(q, QMP_GENERIC, desc, id);
            return;
        }
    }
    if (!json_object_object_get_ex(req, "execute", &exec)) {
        send_error(q, QMP_GENERIC, "QMP input lacks member 'execute'", id);
        return;
    }
    if (!json_object_is_type(exec, json_type_string)) {
        send_error(q, QMP_GENERIC, "QMP input member 'execute' must be a string", id);
        return;
    }
    if (json_object_object_get_ex(req, "arguments", &args) &&
        !json_object_is_type(args, json_type_object)) {
        send_error(q, QMP_GENERIC, "QMP input member 'arguments' must be an object", id);
        return;
    }
    const char *name = json_object_get_string(exec);
    const QmpCommand *cmd = NULL;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (!strcmp(commands[i].name, name)) {
            cmd = &commands[i];
        }
    }
    if (!q->negotiated && (!cmd || cmd->run != cmd_capabilities)) {
        send_error(q, QMP_NOT_FOUND, "Expecting capabilities negotiation with 'qmp_capabilities'",
                   id);
        return;
    }
    if (!cmd) {
        snprintf(desc, sizeof(desc), "The command %.200s has not been found", name);
        send_error(q, QMP_NOT_FOUND, desc, id);
        return;
    }
    if (!check_args(cmd, args, desc, sizeof(desc))) {
        send_error(q, QMP_GENERIC, desc, id);
        return;
    }
    json_object *ret = NULL;
    QmpStatus status = cmd->run(q, args, &ret, desc, sizeof(desc));
    if (status != QMP_OK) {
        json_object_put(ret);
        send_error(q, status, desc, id);
        return;
    }
    json_object *reply = json_object_new_object();
    json_object_object_add(reply, "return", ret ? ret : json_object_new_object());
    if (id) {
        json_object_object_add(reply, "id", json_object_get(id));
    }
    send_object(q, reply);
    json_object_put(reply);
}

Qmp *qmp_new(const QmpOps *ops)
{
    Qmp *q = calloc(1, sizeof(*q));
    if (!q) {
        return NULL;
    }
    q->ops = *ops;
    q->tok = json_tokener_new_ex(QMP_MAX_DEPTH);
    if (!q->tok) {
        free(q);
        return NULL;
    }
    return q;
}

void qmp_free(Qmp *q)
{
    if (q) {
        json_tokener_free(q->tok);
        free(q);
    }
}

void qmp_connected(Qmp *q)
{
    json_tokener_reset(q->tok);
    q->pending = 0;
    q->connected = true;
    q->negotiated = false;
    json_object *body = json_object_new_object();
    json_object_object_add(body, "version", version_object());
    json_object_object_add(body, "capabilities", json_object_new_array());
    json_object *greeting = json_object_new_object();
    json_object_object_add(greeting, "QMP", body);
    send_object(q, greeting);
    json_object_put(greeting);
}

void qmp_disconnected(Qmp *q)
{
    q->connected = false;
    q->negotiated = false;
    json_tokener_reset(q->tok);
    q->pending = 0;
}

void qmp_input(Qmp *q, const uint8_t *data, size_t len)
{
    const char *p = (const char *)data;
    while (len > 0) {
        /* Feed no more than the rest of one object's allowance. */
        size_t room = QMP_INPUT_MAX - q->pending;
        int chunk = (int)(len < room ? len : room);
        json_object *obj = json_tokener_parse_ex(q->tok, p, chunk);
        enum json_tokener_error err = json_tokener_get_error(q->tok);
        size_t used = json_tokener_get_parse_end(q->tok);
        if (err == json_tokener_continue) {
            q->pending += (size_t)chunk;
            p += chunk;
            len -= (size_t)chunk;
            if (q->pending >= QMP_INPUT_MAX) {
                send_error(q, QMP_GENERIC, "JSON object too large: input dropped", NULL);
                json_tokener_reset(q->tok);
                q->pending = 0;
                return; /* the rest of this read belongs to the dropped object */
            }
            continue;
        }
        if (err != json_tokener_success) {
            char desc[256];
            snprintf(desc, sizeof(desc), "JSON parse error, %s", json_tokener_error_desc(err));
            send_error(q, QMP_GENERIC, desc, NULL);
            json_tokener_reset(q->tok);
            q->pending = 0;
            return; /* resynchronise on the next read */
        }
        if (used == 0 || used > (size_t)chunk) {
            used = (size_t)chunk; /* never loop without progress */
        }
        q->pending = 0;
        p += used;
        len -= used;
        if (obj) {
            handle_request(q, obj);
            json_object_put(obj);
        }
    }
}

void qmp_event(Qmp *q, const char *name, const char *data_json)
{
    if (!q->connected || !q->negotiated) {
        return;
    }
    struct timeval tv;
    gettimeofday(&tv, NULL);
    json_object *ts = json_object_new_object();
    json_object_object_add(ts, "seconds", json_object_new_int64(tv.tv_sec));
    json_object_object_add(ts, "microseconds", json_object_new_int64(tv.tv_usec));
    json_object *ev = json_object_new_object();
    json_object_object_add(ev, "timestamp", ts);
    json_object_object_add(ev, "event", json_object_new_string(name));
    if (data_json) {
        json_object *data = json_tokener_parse(data_json);
        if (data) {
            json_object_object_add(ev, "data", data);
        }
    }
    send_object(q, ev);
    json_object_put(ev);
}
