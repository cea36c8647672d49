/*
 * The gdb stub's packet commands (GDB RSP, "Packets" and "General Query
 * Packets").  Every argument is checked before use: a malformed packet gets
 * an E reply, an unknown one the empty reply, and neither changes anything.
 *
 * Addresses gdb sends are linear addresses (for breakpoints: CS.base + EIP,
 * which is EIP in flat code); memory goes through the current page tables
 * with no fault and no accessed/dirty side effect (frontend/debugmem.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "frontend/debugmem.h"
#include "frontend/gdbregs.h"
#include "frontend/gdbstub_int.h"
#include "frontend/monitor.h"
#include "softmmu/mmu.h"

/* The largest memory transfer one reply can carry as hex. */
#define GDB_MEM_MAX ((GDB_PACKET_MAX - 8) / 2)
/* Monitor output sent back through 'O' packets, per packet and in all. */
#define GDB_MONITOR_CHUNK 512
#define GDB_MONITOR_MAX   (64 * 1024)

static const char supported_reply[] = "PacketSize=1000;qXfer:features:read+;QStartNoAckMode+;"
                                      "swbreak+;hwbreak+;vContSupported+";

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* A hex number of 1 to 8 digits at *p; advances *p past it. */
static bool parse_hex(const char **p, uint32_t *out)
{
    uint32_t v = 0;
    int digits = 0;
    const char *q = *p;
    while (hex_value(*q) >= 0) {
        if (++digits > 8 && v >> 28) {
            return false;
        }
        v = (v << 4) | (uint32_t)hex_value(*q++);
    }
    if (digits == 0) {
        return false;
    }
    *p = q;
    *out = v;
    return true;
}

/* "ADDR,LEN"; advances *p past it. */
static bool parse_addr_len(const char **p, uint32_t *addr, uint32_t *len)
{
    return parse_hex(p, addr) && *(*p)++ == ',' && parse_hex(p, len);
}

static bool hex_decode(const char *hex, size_t bytes, uint8_t *out)
{
    for (size_t i = 0; i < bytes; i++) {
        int hi = hex_value(hex[2 * i]), lo = hi >= 0 ? hex_value(hex[2 * i + 1]) : -1;
        if (lo < 0) {
            return false;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static void hex_encode(const uint8_t *bytes, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * len] = '\0';
}

/* ---- registers ---- */

static void cmd_read_registers(GdbStub *s)
{
    char reply[GDB_PACKET_MAX];
    size_t n = 0;
    for (int r = 0; r < gdbregs_count(); r++) {
        uint8_t bytes[GDB_REG_MAX_BYTES];
        int size = gdbregs_read(s->cpu, r, bytes);
        hex_encode(bytes, (size_t)size, reply + n);
        n += 2 * (size_t)size;
    }
    gdbstub_put_packet(s, reply);
}

static void cmd_write_registers(GdbStub *s, const char *hex, size_t len)
{
    size_t offset = 0;
    for (int r = 0; r < gdbregs_count(); r++) {
        uint8_t bytes[GDB_REG_MAX_BYTES];
        size_t size = (size_t)gdbregs_size(r);
        if (offset + 2 * size > len || !hex_decode(hex + offset, size, bytes)) {
            break;
        }
        gdbregs_write(s->cpu, r, bytes);
        offset += 2 * size;
    }
    gdbstub_put_packet(s, "OK");
}

static void cmd_read_register(GdbStub *s, const char *args)
{
    uint32_t n;
    uint8_t bytes[GDB_REG_MAX_BYTES];
    char reply[2 * GDB_REG_MAX_BYTES + 1];
    if (!parse_hex(&args, &n) || *args || n >= (uint32_t)gdbregs_count()) {
        gdbstub_put_packet(s, "E00");
        return;
    }
    int size = gdbregs_read(s->cpu, (int)n, bytes);
    hex_encode(bytes, (size_t)size, reply);
    gdbstub_put_packet(s, reply);
}

static void cmd_write_register(GdbStub *s, const char *args)
{
    uint32_t n;
    uint8_t bytes[GDB_REG_MAX_BYTES];
    if (!parse_hex(&args, &n) || *args++ != '=' || n >= (uint32_t)gdbregs_count()) {
        gdbstub_put_packet(s, "E00");
        return;
    }
    size_t size = (size_t)gdbregs_size((int)n);
    if (strlen(args) != 2 * size || !hex_decode(args, size, bytes) ||
        !gdbregs_write(s->cpu, (int)n, bytes)) {
        gdbstub_put_packet(s, "E01");
        return;
    }
    gdbstub_put_packet(s, "OK");
}

/* ---- memory ---- */

static void cmd_read_memory(GdbStub *s, const char *args)
{
    uint32_t addr, len;
    if (!parse_addr_len(&args, &addr, &len) || *args) {
        gdbstub_put_packet(s, "E00");
        return;
    }
    uint8_t bytes[GDB_MEM_MAX];
    char reply[2 * GDB_MEM_MAX + 1];
    len = len < GDB_MEM_MAX ? len : GDB_MEM_MAX;
    uint32_t got = debugmem_read_lin(s->cpu, addr, bytes, len);
    if (got == 0 && len > 0) {
        gdbstub_put_packet(s, "E14"); /* EFAULT */
        return;
    }
    hex_encode(bytes, got, reply);
    gdbstub_put_packet(s, reply);
}

static void memory_write_reply(GdbStub *s, uint32_t addr, const uint8_t *bytes, uint32_t len)
{
    bool ok = debugmem_write_lin(s->cpu, addr, bytes, len) == len;
    gdbstub_put_packet(s, ok ? "OK" : "E14");
}

/* M ADDR,LEN:HEX */
static void cmd_write_memory(GdbStub *s, const char *args)
{
    uint32_t addr, len;
    uint8_t bytes[GDB_PACKET_MAX / 2];
    if (!parse_addr_len(&args, &addr, &len) || *args++ != ':' || len > sizeof(bytes) ||
        strlen(args) != 2 * (size_t)len || !hex_decode(args, len, bytes)) {
        gdbstub_put_packet(s, "E00");
        return;
    }
    memory_write_reply(s, addr, bytes, len);
}

/* X ADDR,LEN:BINARY, where } escapes the next byte (XOR 0x20). */
static void cmd_write_memory_binary(GdbStub *s, const char *body, size_t body_len)
{
    const char *p = body + 1;
    uint32_t addr, len;
    uint8_t bytes[GDB_PACKET_MAX];
    if (!parse_addr_len(&p, &addr, &len) || *p++ != ':' || len > sizeof(bytes)) {
        gdbstub_put_packet(s, "E00");
        return;
    }
    const char *end = body + body_len;
    uint32_t n = 0;
    while (p < end && n < len) {
        char c = *p++;
        if (c == '}') {
            if (p == end) {
                break;
            }
            c = (char)(*p++ ^ 0x20);
        }
        bytes[n++] = (uint8_t)c;
    }
    if (n != len || p != end) {
        gdbstub_put_packet(s, "E00");
        return;
    }
    memory_write_reply(s, addr, bytes, len);
}

/* ---- breakpoints and watchpoints ---- */

static bool breakpoint_add(GdbStub *s, uint32_t addr, bool hw)
{
    if (s->nbp == GDB_MAX_BREAKPOINTS) {
        return false;
    }
    s->bp[s->nbp++] = (GdbBreakpoint){addr, hw};
    gdbstub_breakpoints_changed(s);
    return true;
}

static void breakpoint_remove(GdbStub *s, uint32_t addr, bool hw)
{
    for (int i = 0; i < s->nbp; i++) {
        if (s->bp[i].lin == addr && s->bp[i].hw == hw) {
            s->bp[i] = s->bp[--s->nbp];
            break;
        }
    }
    gdbstub_breakpoints_changed(s);
}

/* The TLB must forget pages it cached before the watch list changed. */
static void watch_list_changed(GdbStub *s)
{
    s->cpu->watch = s->watch.count ? &s->watch : NULL;
    tlb_flush_all(s->cpu);
    gdbstub_update_hooks(s); /* watchpoints run on the interpreter */
}

static bool watchpoint_add(GdbStub *s, uint32_t addr, uint32_t len, unsigned kind)
{
    if (s->watch.count == MMU_WATCH_MAX || len == 0 || len > 4096) {
        return false;
    }
    s->watch.w[s->watch.count++] = (MMUWatch){addr, len, kind};
    watch_list_changed(s);
    return true;
}

static void watchpoint_remove(GdbStub *s, uint32_t addr, uint32_t len, unsigned kind)
{
    for (int i = 0; i < s->watch.count; i++) {
        MMUWatch *w = &s->watch.w[i];
        if (w->lin == addr && w->len == len && w->kind == kind) {
            *w = s->watch.w[--s->watch.count];
            break;
        }
    }
    watch_list_changed(s);
}

/* Z/z TYPE,ADDR,KIND[;conditions]: 0 software and 1 hardware breakpoints,
 * 2 write, 3 read and 4 access watchpoints (KIND = length). */
static void cmd_breakpoint(GdbStub *s, const char *body)
{
    static const unsigned watch_kinds[5] = {0, 0, MMU_WATCH_WRITE, MMU_WATCH_READ,
                                            MMU_WATCH_ACCESS};
    bool insert = body[0] == 'Z';
    const char *p = body + 1;
    uint32_t type, addr, kind;
    if (!parse_hex(&p, &type) || *p++ != ',' || !parse_addr_len(&p, &addr, &kind) ||
        (*p && *p != ';')) {
        gdbstub_put_packet(s, "E00");
        return;
    }
    if (type > 4) {
        gdbstub_put_packet(s, ""); /* not supported */
        return;
    }
    bool ok = true;
    if (type <= 1 && insert) {
        ok = breakpoint_add(s, addr, type == 1);
    } else if (type <= 1) {
        breakpoint_remove(s, addr, type == 1);
    } else if (insert) {
        ok = watchpoint_add(s, addr, kind, watch_kinds[type]);
    } else {
        watchpoint_remove(s, addr, kind, watch_kinds[type]);
    }
    gdbstub_put_packet(s, ok ? "OK" : "E01");
}

/* ---- execution ---- */

/* c/s [ADDR], C/S SIG[;ADDR]: the signal is not delivered (a machine has
 * no signals); ADDR, if any, is where to resume. */
static void cmd_resume(GdbStub *s, const char *body)
{
    bool step = body[0] == 's' || body[0] == 'S';
    const char *p = body + 1;
    uint32_t value;
    if (body[0] == 'C' || body[0] == 'S') {
        if (!parse_hex(&p, &value)) {
            gdbstub_put_packet(s, "E00");
            return;
        }
        p += *p == ';';
    }
    if (*p) {
        if (!parse_hex(&p, &value) || *p) {
            gdbstub_put_packet(s, "E00");
            return;
        }
        s->cpu->eip = (uint32_t)(value - s->cpu->seg[SEG_CS].base);
        s->cpu->next_eip = s->cpu->eip;
    }
    gdbstub_resume(s, step);
}

/* vCont;ACTION[:THREAD][;ACTION...]: one CPU, so the first action decides. */
static void cmd_vcont(GdbStub *s, const char *actions)
{
    char a = actions[0];
    if (a == 'c' || a == 'C') {
        gdbstub_resume(s, false);
    } else if (a == 's' || a == 'S') {
        gdbstub_resume(s, true);
    } else {
        gdbstub_put_packet(s, "E00");
    }
}

static void cmd_kill(GdbStub *s)
{
    if (s->kill) {
        s->kill(s->kill_opaque);
    }
    gdbstub_disconnect(s);
}

/* ---- queries ---- */

/* qXfer:features:read:ANNEX:OFFSET,LENGTH */
static void cmd_xfer_features(GdbStub *s, const char *args)
{
    const char *colon = strchr(args, ':');
    uint32_t offset, length;
    if (!colon || (size_t)(colon - args) != strlen("target.xml") ||
        strncmp(args, "target.xml", (size_t)(colon - args)) != 0) {
        gdbstub_put_packet(s, "E00");
        return;
    }
    const char *p = colon + 1;
    if (!parse_addr_len(&p, &offset, &length) || *p) {
        gdbstub_put_packet(s, "E00");
        return;
    }
    size_t total = strlen(gdbregs_target_xml);
    if (offset > total) {
        gdbstub_put_packet(s, "E00");
        return;
    }
    size_t n = total - offset;
    size_t max = (GDB_PACKET_MAX - 16) / 2; /* room for escapes */
    n = n < length ? n : length;
    n = n < max ? n : max;
    char reply[GDB_PACKET_MAX];
    reply[0] = offset + n < total ? 'm' : 'l';
    memcpy(reply + 1, gdbregs_target_xml + offset, n);
    gdbstub_put_packet_bin(s, reply, n + 1);
}

/* qRcmd,HEX: a monitor command; its output comes back in 'O' packets. */
static void cmd_monitor(GdbStub *s, const char *hex)
{
    size_t hexlen = strlen(hex);
    char line[1024];
    if (hexlen % 2 || hexlen / 2 >= sizeof(line) || !hex_decode(hex, hexlen / 2, (uint8_t *)line)) {
        gdbstub_put_packet(s, "E00");
        return;
    }
    line[hexlen / 2] = '\0';
    if (!s->monitor) {
        gdbstub_put_packet(s, "E01");
        return;
    }
    char *out = monitor_run(s->monitor, line);
    size_t len = out ? strlen(out) : 0;
    const char cut[] = "\n(output truncated)\n";
    for (size_t done = 0; done < len && done < GDB_MONITOR_MAX && s->connected;) {
        char packet[2 * GDB_MONITOR_CHUNK + 2] = "O";
        size_t n = len - done < GDB_MONITOR_CHUNK ? len - done : GDB_MONITOR_CHUNK;
        hex_encode((const uint8_t *)out + done, n, packet + 1);
        gdbstub_put_packet(s, packet);
        done += n;
        if (done >= GDB_MONITOR_MAX && done < len) {
            hex_encode((const uint8_t *)cut, sizeof(cut) - 1, packet + 1);
            gdbstub_put_packet(s, packet);
        }
    }
    free(out);
    gdbstub_put_packet(s, "OK");
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void cmd_query(GdbStub *s, const char *body)
{
    if (starts_with(body, "qSupported")) {
        gdbstub_put_packet(s, supported_reply);
    } else if (starts_with(body, "qXfer:features:read:")) {
        cmd_xfer_features(s, body + strlen("qXfer:features:read:"));
    } else if (starts_with(body, "qRcmd,")) {
        cmd_monitor(s, body + strlen("qRcmd,"));
    } else if (starts_with(body, "qAttached")) {
        gdbstub_put_packet(s, "1");
    } else if (!strcmp(body, "qC")) {
        gdbstub_put_packet(s, "QC1");
    } else if (!strcmp(body, "qfThreadInfo")) {
        gdbstub_put_packet(s, "m1");
    } else if (!strcmp(body, "qsThreadInfo")) {
        gdbstub_put_packet(s, "l");
    } else if (starts_with(body, "qSymbol:")) {
        gdbstub_put_packet(s, "OK");
    } else {
        gdbstub_put_packet(s, "");
    }
}

static void cmd_v(GdbStub *s, const char *body)
{
    if (!strcmp(body, "vCont?")) {
        gdbstub_put_packet(s, "vCont;c;C;s;S");
    } else if (starts_with(body, "vCont;")) {
        cmd_vcont(s, body + strlen("vCont;"));
    } else if (starts_with(body, "vKill")) {
        gdbstub_put_packet(s, "OK");
        cmd_kill(s);
    } else {
        gdbstub_put_packet(s, ""); /* vMustReplyEmpty and everything else */
    }
}

void gdbstub_handle_packet(GdbStub *s, char *body, size_t len)
{
    switch (body[0]) {
    case '?':
        if (!*s->vm_stopped) {
            gdbstub_stop(s, STOP_SIGNAL, GDB_SIGINT, 0);
        }
        gdbstub_send_stop_reply(s);
        break;
    case 'g': cmd_read_registers(s); break;
    case 'G': cmd_write_registers(s, body + 1, len - 1); break;
    case 'p': cmd_read_register(s, body + 1); break;
    case 'P': cmd_write_register(s, body + 1); break;
    case 'm': cmd_read_memory(s, body + 1); break;
    case 'M': cmd_write_memory(s, body + 1); break;
    case 'X': cmd_write_memory_binary(s, body, len); break;
    case 'c':
    case 's':
    case 'C':
    case 'S': cmd_resume(s, body); break;
    case 'Z':
    case 'z': cmd_breakpoint(s, body); break;
    case 'D':
        gdbstub_put_packet(s, "OK");
        gdbstub_disconnect(s);
        break;
    case 'k': cmd_kill(s); break;
    case 'H':
    case 'T': gdbstub_put_packet(s, "OK"); break;
    case 'q': cmd_query(s, body); break;
    case 'Q':
        if (!strcmp(body, "QStartNoAckMode")) {
            gdbstub_put_packet(s, "OK");
            s->no_ack = true;
        } else {
            gdbstub_put_packet(s, "");
        }
        break;
    case 'v': cmd_v(s, body); break;
    default: gdbstub_put_packet(s, ""); break;
    }
}
