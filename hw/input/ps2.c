/*
 * PS/2 keyboard and PS/2 mouse: the devices at the far end of the i8042's
 * two ports (see ps2.h).
 *
 * Sources: the IBM PS/2 Hardware Interface Technical Reference (keyboard
 * and pointing device chapters) and Microsoft's IntelliMouse notes.  Each
 * device keeps a reply queue (answers to host commands) and a data queue
 * (scancodes, movement packets).  Replies go out before pending data, as a
 * device answers a command before it resumes sending, but never in the
 * middle of a multi-byte scancode or packet that has already started.
 */
#include <stdlib.h>
#include <string.h>

#include "hw/input/ps2.h"
#include "migration/vmstate.h"

#define PS2_QUEUE_SIZE 64    /* entries per queue; a real keyboard buffers 16 bytes */
#define PS2_MSG_START  0x100 /* queue entry flag: first byte of a scancode or packet */

#define PS2_ACK    0xfa
#define PS2_RESEND 0xfe
#define PS2_BAT_OK 0xaa

/* A byte queue that stores whole messages (scancode sequences, packets). */
typedef struct PS2Queue {
    uint16_t entry[PS2_QUEUE_SIZE]; /* byte, plus PS2_MSG_START on a message's first byte */
    int head;                       /* oldest entry */
    int count;
} PS2Queue;

struct PS2Keyboard {
    PS2Queue reply;    /* answers to commands */
    PS2Queue data;     /* scancodes */
    bool scanning;     /* 0xF4 enable / 0xF5 disable */
    int scancode_set;  /* 1, 2 or 3 */
    uint8_t param_cmd; /* command waiting for its parameter byte (0xED, 0xF0, 0xF3) or 0 */
    bool key_list;     /* after 0xFB-0xFD: the bytes that follow are key codes */
    bool overrun;      /* the overrun code is queued; no more until a code fits again */
    uint8_t leds;      /* 0xED: bit 0 Scroll, 1 Num, 2 Caps */
    uint8_t typematic; /* 0xF3: rate and delay */
    uint8_t last_sent; /* byte repeated by 0xFE resend */
};

struct PS2Mouse {
    PS2Queue reply;       /* answers to commands */
    PS2Queue data;        /* movement packets */
    bool reporting;       /* stream mode data reporting enabled (0xF4) */
    bool remote;          /* remote mode (0xF0): packets only on 0xEB */
    bool wrap;            /* wrap mode (0xEE): echo every byte */
    bool scaling21;       /* 2:1 scaling (0xE7) */
    uint8_t sample_rate;  /* reports per second (0xF3) */
    uint8_t resolution;   /* 0-3: 1, 2, 4, 8 counts/mm (0xE8) */
    uint8_t device_id;    /* 0 standard, 3 IntelliMouse (wheel), 4 IntelliMouse Explorer */
    uint8_t rate_seq[3];  /* the last three sample rates set, oldest first */
    uint8_t param_cmd;    /* command waiting for its parameter (0xE8, 0xF3) or 0 */
    uint8_t last_sent;    /* byte repeated by 0xFE resend */
    int dx, dy, dz;       /* movement not yet reported; dy > 0 is up, dz > 0 towards user */
    int buttons;          /* PS2_BUTTON_* state */
    bool buttons_changed; /* a report is due even without movement */
};

/* ---- queues ---- */

static void ps2q_clear(PS2Queue *q)
{
    q->head = 0;
    q->count = 0;
}

static int ps2q_free(const PS2Queue *q)
{
    return PS2_QUEUE_SIZE - q->count;
}

static void ps2q_push_entry(PS2Queue *q, uint16_t entry)
{
    q->entry[(q->head + q->count) % PS2_QUEUE_SIZE] = entry;
    q->count++;
}

/* Queue a whole message, or nothing if it does not fit. */
static bool ps2q_push_msg(PS2Queue *q, const uint8_t *bytes, int len)
{
    if (len <= 0 || ps2q_free(q) < len) {
        return false;
    }
    for (int i = 0; i < len; i++) {
        ps2q_push_entry(q, bytes[i] | (i == 0 ? PS2_MSG_START : 0));
    }
    return true;
}

static uint16_t ps2q_pop(PS2Queue *q)
{
    uint16_t e = q->entry[q->head];

    q->head = (q->head + 1) % PS2_QUEUE_SIZE;
    q->count--;
    return e;
}

/*
 * The next byte a device puts on its wire: a reply, unless a data message is
 * part-way out.  Returns -1 when the device has nothing to send.
 */
static int ps2_device_next(PS2Queue *reply, PS2Queue *data)
{
    bool data_mid_msg = data->count > 0 && !(data->entry[data->head] & PS2_MSG_START);

    if (reply->count > 0 && !data_mid_msg) {
        return ps2q_pop(reply) & 0xff;
    }
    if (data->count > 0) {
        return ps2q_pop(data) & 0xff;
    }
    return -1;
}

/* Queue one reply message (ACK and what follows it). */
static void ps2_reply(PS2Queue *reply, const uint8_t *bytes, int len)
{
    ps2q_push_msg(reply, bytes, len);
}

static void ps2_reply1(PS2Queue *reply, uint8_t byte)
{
    ps2_reply(reply, &byte, 1);
}

/* ---- PS/2 keyboard ---- */

/*
 * Scancode set 1 make code -> set 2 make code, for the keys without and with
 * the 0xE0 prefix alike (the prefix is sent unchanged).  F7 and SysRq send
 * 0x83 and 0x84; the other entries invert the controller's translation.
 */
static const uint8_t kbd_set1_to_set2[128] = {
    0x00, 0x76, 0x16, 0x1e, 0x26, 0x25, 0x2e, 0x36, /* 00: - Esc 1 2 3 4 5 6 */
    0x3d, 0x3e, 0x46, 0x45, 0x4e, 0x55, 0x66, 0x0d, /* 08: 7 8 9 0 - = Bksp Tab */
    0x15, 0x1d, 0x24, 0x2d, 0x2c, 0x35, 0x3c, 0x43, /* 10: Q W E R T Y U I */
    0x44, 0x4d, 0x54, 0x5b, 0x5a, 0x14, 0x1c, 0x1b, /* 18: O P [ ] Enter LCtrl A S */
    0x23, 0x2b, 0x34, 0x33, 0x3b, 0x42, 0x4b, 0x4c, /* 20: D F G H J K L ; */
    0x52, 0x0e, 0x12, 0x5d, 0x1a, 0x22, 0x21, 0x2a, /* 28: ' ` LShift \ Z X C V */
    0x32, 0x31, 0x3a, 0x41, 0x49, 0x4a, 0x59, 0x7c, /* 30: B N M , . / RShift KP* */
    0x11, 0x29, 0x58, 0x05, 0x06, 0x04, 0x0c, 0x03, /* 38: LAlt Space Caps F1 F2 F3 F4 F5 */
    0x0b, 0x83, 0x0a, 0x01, 0x09, 0x77, 0x7e, 0x6c, /* 40: F6 F7 F8 F9 F10 NumLk ScrLk KP7 */
    0x75, 0x7d, 0x7b, 0x6b, 0x73, 0x74, 0x79, 0x69, /* 48: KP8 KP9 KP- KP4 KP5 KP6 KP+ KP1 */
    0x72, 0x7a, 0x70, 0x71, 0x84, 0x60, 0x61, 0x78, /* 50: KP2 KP3 KP0 KP. SysRq - 102nd F11 */
    0x07, 0x0f, 0x17, 0x1f, 0x27, 0x2f, 0x37, 0x3f, /* 58: F12 KP= - - - - - - */
    0x47, 0x4f, 0x56, 0x5e, 0x08, 0x10, 0x18, 0x20, /* 60: - - - - F13 F14 F15 F16 */
    0x28, 0x30, 0x38, 0x40, 0x48, 0x50, 0x57, 0x6f, /* 68: F17 F18 F19 F20 F21 F22 F23 - */
    0x13, 0x19, 0x39, 0x51, 0x53, 0x5c, 0x5f, 0x62, /* 70: Kana - - Ro - - F24 - */
    0x63, 0x64, 0x65, 0x67, 0x68, 0x6a, 0x6d, 0x6e, /* 78: - Henkan - Muhenkan - Yen - - */
};

/*
 * Set 3 codes that differ from set 2 (IBM PS/2 keyboard technical reference,
 * scan code set 3 table).  Keys not listed send their set 2 code, except
 * E0-prefixed keys, which set 3 does not have unless they are listed.
 */
typedef struct KbdSet3Code {
    uint16_t set2; /* set 2 make code, with PS2_KEY_E0 for prefixed keys */
    uint8_t set3;
} KbdSet3Code;

static const KbdSet3Code kbd_set3_codes[] = {
    {0x76, 0x08},                                                 /* Esc */
    {0x05, 0x07},   {0x06, 0x0f},   {0x04, 0x17},   {0x0c, 0x1f}, /* F1-F4 */
    {0x03, 0x27},   {0x0b, 0x2f},   {0x83, 0x37},   {0x0a, 0x3f}, /* F5-F8 */
    {0x01, 0x47},   {0x09, 0x4f},   {0x78, 0x56},   {0x07, 0x5e}, /* F9-F12 */
    {0x14, 0x11},                                                 /* left Ctrl */
    {0x11, 0x19},                                                 /* left Alt */
    {0x58, 0x14},                                                 /* Caps Lock */
    {0x5d, 0x5c},                                                 /* backslash */
    {0x61, 0x13},                                                 /* 102nd key */
    {0x77, 0x76},                                                 /* Num Lock */
    {0x7e, 0x5f},                                                 /* Scroll Lock */
    {0x7c, 0x7e},                                                 /* keypad * */
    {0x7b, 0x84},                                                 /* keypad - */
    {0x79, 0x7c},                                                 /* keypad + */
    {0x84, 0x57},                                                 /* SysRq: the Print Screen key */
    {0xe011, 0x39},                                               /* right Alt */
    {0xe014, 0x58},                                               /* right Ctrl */
    {0xe04a, 0x77},                                               /* keypad / */
    {0xe05a, 0x79},                                               /* keypad Enter */
    {0xe070, 0x67}, {0xe06c, 0x6e}, {0xe07d, 0x6f},               /* Insert Home PgUp */
    {0xe071, 0x64}, {0xe069, 0x65}, {0xe07a, 0x6d},               /* Delete End PgDn */
    {0xe075, 0x63}, {0xe06b, 0x61}, {0xe072, 0x60}, {0xe074, 0x6a}, /* arrows */
    {0xe01f, 0x8b}, {0xe027, 0x8c}, {0xe02f, 0x8d},                 /* left/right GUI, Menu */
};

#define KBD_SET3_PRINT 0x57
#define KBD_SET3_PAUSE 0x62

static int kbd_set3_code(int set2_key)
{
    for (size_t i = 0; i < sizeof(kbd_set3_codes) / sizeof(kbd_set3_codes[0]); i++) {
        if (kbd_set3_codes[i].set2 == set2_key) {
            return kbd_set3_codes[i].set3;
        }
    }
    return (set2_key & PS2_KEY_E0) ? -1 : set2_key;
}

/* Build the bytes a key sends in set 1.  Returns the length. */
static int kbd_encode_set1(int keycode, bool down, uint8_t *out)
{
    static const uint8_t print_make[] = {0xe0, 0x2a, 0xe0, 0x37};
    static const uint8_t print_break[] = {0xe0, 0xb7, 0xe0, 0xaa};
    static const uint8_t pause_make[] = {0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5};
    uint8_t brk = down ? 0 : 0x80;
    int n = 0;

    if (keycode == PS2_KEY_PRINT) {
        memcpy(out, down ? print_make : print_break, 4);
        return 4;
    }
    if (keycode == PS2_KEY_PAUSE) {
        if (!down) {
            return 0;
        }
        memcpy(out, pause_make, sizeof(pause_make));
        return sizeof(pause_make);
    }
    if (keycode & PS2_KEY_E0) {
        out[n++] = 0xe0;
    }
    out[n++] = (uint8_t)((keycode & 0x7f) | brk);
    return n;
}

/* Build the bytes a key sends in set 2: break codes are 0xF0 + make code. */
static int kbd_encode_set2(int keycode, bool down, uint8_t *out)
{
    static const uint8_t print_make[] = {0xe0, 0x12, 0xe0, 0x7c};
    static const uint8_t print_break[] = {0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12};
    static const uint8_t pause_make[] = {0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77};
    uint8_t code = kbd_set1_to_set2[keycode & 0x7f];
    int n = 0;

    if (keycode == PS2_KEY_PRINT) {
        memcpy(out, down ? print_make : print_break, down ? 4 : 6);
        return down ? 4 : 6;
    }
    if (keycode == PS2_KEY_PAUSE) {
        if (!down) {
            return 0;
        }
        memcpy(out, pause_make, sizeof(pause_make));
        return sizeof(pause_make);
    }
    if (code == 0) {
        return 0;
    }
    if (keycode & PS2_KEY_E0) {
        out[n++] = 0xe0;
    }
    if (!down) {
        out[n++] = 0xf0;
    }
    out[n++] = code;
    return n;
}

/* Set 3: one byte per key, 0xF0 before it on release (all keys make/break). */
static int kbd_encode_set3(int keycode, bool down, uint8_t *out)
{
    int code;
    int n = 0;

    if (keycode == PS2_KEY_PRINT) {
        code = KBD_SET3_PRINT;
    } else if (keycode == PS2_KEY_PAUSE) {
        code = KBD_SET3_PAUSE;
    } else {
        int set2 = kbd_set1_to_set2[keycode & 0x7f];

        if (set2 == 0) {
            return 0;
        }
        code = kbd_set3_code(set2 | (keycode & PS2_KEY_E0));
    }
    if (code < 0) {
        return 0;
    }
    if (!down) {
        out[n++] = 0xf0;
    }
    out[n++] = (uint8_t)code;
    return n;
}

/* Power-on defaults, shared by 0xF5, 0xF6 and 0xFF. */
static void kbd_set_defaults(PS2Keyboard *k)
{
    k->scancode_set = 2;
    k->leds = 0;
    k->typematic = 0x2b; /* 10.9 characters/s after 500 ms */
    k->param_cmd = 0;
    k->key_list = false;
}

void ps2_kbd_reset(PS2Keyboard *k)
{
    ps2q_clear(&k->reply);
    ps2q_clear(&k->data);
    kbd_set_defaults(k);
    k->scanning = true;
    k->overrun = false;
    k->last_sent = 0;
}

static void kbd_queue_key(PS2Keyboard *k, const uint8_t *bytes, int len)
{
    /* Keep one slot for the overrun code (0x00 in sets 2 and 3, 0xFF in set 1). */
    if (ps2q_free(&k->data) > len) {
        ps2q_push_msg(&k->data, bytes, len);
        k->overrun = false;
    } else if (!k->overrun && ps2q_free(&k->data) > 0) {
        uint8_t code = k->scancode_set == 1 ? 0xff : 0x00;

        ps2q_push_msg(&k->data, &code, 1);
        k->overrun = true;
    }
}

/* The parameter byte of 0xED, 0xF0 or 0xF3. */
static void kbd_write_param(PS2Keyboard *k, uint8_t val)
{
    uint8_t cmd = k->param_cmd;

    k->param_cmd = 0;
    switch (cmd) {
    case 0xed:
        k->leds = val & 0x07;
        ps2_reply1(&k->reply, PS2_ACK);
        break;
    case 0xf3:
        k->typematic = val & 0x7f;
        ps2_reply1(&k->reply, PS2_ACK);
        break;
    case 0xf0:
        if (val == 0) {
            uint8_t r[2] = {PS2_ACK, (uint8_t)k->scancode_set};

            ps2_reply(&k->reply, r, 2);
        } else if (val <= 3) {
            k->scancode_set = val;
            ps2_reply1(&k->reply, PS2_ACK);
        } else {
            ps2_reply1(&k->reply, PS2_RESEND);
            k->param_cmd = cmd; /* still waiting for a valid set number */
        }
        break;
    }
}

void ps2_kbd_write(PS2Keyboard *k, uint8_t val)
{
    /* A byte with bit 7 set is never a parameter: it starts a new command. */
    if (k->param_cmd && !(val & 0x80)) {
        kbd_write_param(k, val);
        return;
    }
    k->param_cmd = 0;
    if (k->key_list) {
        if (val < 0xed) {
            ps2_reply1(&k->reply, PS2_ACK); /* a key code for 0xFB-0xFD */
            return;
        }
        k->key_list = false;
    }
    switch (val) {
    case 0xed: /* set LEDs */
    case 0xf0: /* get/set scancode set */
    case 0xf3: /* set typematic rate and delay */
        k->param_cmd = val;
        ps2_reply1(&k->reply, PS2_ACK);
        break;
    case 0xee: /* echo */ ps2_reply1(&k->reply, 0xee); break;
    case 0xf2: { /* identify: MF2 keyboard */
        static const uint8_t id[] = {PS2_ACK, 0xab, 0x83};

        ps2_reply(&k->reply, id, sizeof(id));
        break;
    }
    case 0xf4: /* enable scanning; the keyboard empties its buffer */
        ps2q_clear(&k->data);
        k->scanning = true;
        ps2_reply1(&k->reply, PS2_ACK);
        break;
    case 0xf5: /* default and disable */
        ps2q_clear(&k->data);
        kbd_set_defaults(k);
        k->scanning = false;
        ps2_reply1(&k->reply, PS2_ACK);
        break;
    case 0xf6: /* set defaults */
        ps2q_clear(&k->data);
        kbd_set_defaults(k);
        k->scanning = true;
        ps2_reply1(&k->reply, PS2_ACK);
        break;
    case 0xf7: /* set 3 key types for all keys: this keyboard always */
    case 0xf8: /* sends make and break codes, so these only need an ACK */
    case 0xf9:
    case 0xfa: ps2_reply1(&k->reply, PS2_ACK); break;
    case 0xfb: /* set 3 key types for listed keys */
    case 0xfc:
    case 0xfd:
        k->key_list = true;
        ps2_reply1(&k->reply, PS2_ACK);
        break;
    case 0xfe: /* resend the last byte */ ps2_reply1(&k->reply, k->last_sent); break;
    case 0xff: { /* reset: ACK, then the basic assurance test result */
        static const uint8_t bat[] = {PS2_ACK, PS2_BAT_OK};

        ps2_kbd_reset(k);
        ps2_reply(&k->reply, bat, sizeof(bat));
        break;
    }
    default: ps2_reply1(&k->reply, PS2_RESEND); break;
    }
}

PS2Keyboard *ps2_kbd_new(void)
{
    PS2Keyboard *k = calloc(1, sizeof(*k));

    if (k) {
        ps2_kbd_reset(k);
    }
    return k;
}

void ps2_kbd_free(PS2Keyboard *k)
{
    free(k);
}

int ps2_kbd_read(PS2Keyboard *k)
{
    int b = ps2_device_next(&k->reply, &k->data);

    if (b >= 0) {
        k->last_sent = (uint8_t)b;
    }
    return b;
}

void ps2_kbd_key_event(PS2Keyboard *k, int keycode, bool down)
{
    uint8_t bytes[8];
    int len;

    if (!k->scanning) {
        return;
    }
    switch (k->scancode_set) {
    case 1: len = kbd_encode_set1(keycode, down, bytes); break;
    case 3: len = kbd_encode_set3(keycode, down, bytes); break;
    default: len = kbd_encode_set2(keycode, down, bytes); break;
    }
    if (len > 0) {
        kbd_queue_key(k, bytes, len);
    }
}

/* ---- PS/2 mouse ---- */

static void mouse_clear_motion(PS2Mouse *m)
{
    m->dx = 0;
    m->dy = 0;
    m->dz = 0;
    m->buttons_changed = false;
}

static void mouse_set_defaults(PS2Mouse *m)
{
    m->sample_rate = 100;
    m->resolution = 2;
    m->scaling21 = false;
    m->reporting = false;
    m->remote = false;
    m->param_cmd = 0;
    ps2q_clear(&m->data);
    mouse_clear_motion(m);
}

void ps2_mouse_reset(PS2Mouse *m)
{
    ps2q_clear(&m->reply);
    mouse_set_defaults(m);
    m->wrap = false;
    m->device_id = 0;
    memset(m->rate_seq, 0, sizeof(m->rate_seq));
    m->last_sent = 0;
    m->buttons = 0;
}

static int mouse_clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* 2:1 scaling, applied to stream reports only (IBM pointing device spec). */
static int mouse_scale21(int v)
{
    static const int small[6] = {0, 1, 1, 3, 6, 9};
    int mag = v < 0 ? -v : v;
    int out = mag < 6 ? small[mag] : 2 * mag;

    return v < 0 ? -out : out;
}

static int mouse_packet_len(const PS2Mouse *m)
{
    return m->device_id == 0 ? 3 : 4;
}

/*
 * Build one movement packet from the pending motion and take what it
 * reports out of the accumulators.  Large motion is split over several
 * packets rather than reported with the overflow bits.
 */
static int mouse_build_packet(PS2Mouse *m, bool stream, uint8_t *out)
{
    int dx = mouse_clamp(m->dx, -256, 255);
    int dy = mouse_clamp(m->dy, -256, 255);
    int dz = mouse_clamp(m->dz, -8, 7);
    int rx = dx;
    int ry = dy;

    m->dx -= dx;
    m->dy -= dy;
    m->dz -= dz;
    if (stream && m->scaling21) {
        rx = mouse_clamp(mouse_scale21(dx), -256, 255);
        ry = mouse_clamp(mouse_scale21(dy), -256, 255);
    }
    out[0] = 0x08 | (m->buttons & PS2_BUTTON_LEFT ? 0x01 : 0) |
             (m->buttons & PS2_BUTTON_RIGHT ? 0x02 : 0) |
             (m->buttons & PS2_BUTTON_MIDDLE ? 0x04 : 0) | (rx < 0 ? 0x10 : 0) |
             (ry < 0 ? 0x20 : 0);
    out[1] = (uint8_t)rx;
    out[2] = (uint8_t)ry;
    if (m->device_id == 3) {
        out[3] = (uint8_t)dz;
    } else if (m->device_id == 4) {
        out[3] = (uint8_t)((dz & 0x0f) | (m->buttons & PS2_BUTTON_4 ? 0x10 : 0) |
                           (m->buttons & PS2_BUTTON_5 ? 0x20 : 0));
    }
    m->buttons_changed = false;
    return mouse_packet_len(m);
}

static bool mouse_has_report(const PS2Mouse *m)
{
    return m->dx || m->dy || m->dz || m->buttons_changed;
}

/* Stream mode: send what is pending while the queue has room for packets. */
static void mouse_stream(PS2Mouse *m)
{
    uint8_t pkt[4];

    if (!m->reporting || m->remote || m->wrap) {
        return;
    }
    while (mouse_has_report(m) && ps2q_free(&m->data) >= mouse_packet_len(m)) {
        int len = mouse_build_packet(m, true, pkt);

        ps2q_push_msg(&m->data, pkt, len);
    }
}

/*
 * Sample rate writes double as the IntelliMouse handshake: 200, 100, 80
 * turns on the wheel (ID 3); 200, 200, 80 adds buttons 4 and 5 (ID 4).
 */
static void mouse_note_rate(PS2Mouse *m, uint8_t rate)
{
    m->rate_seq[0] = m->rate_seq[1];
    m->rate_seq[1] = m->rate_seq[2];
    m->rate_seq[2] = rate;
    if (m->rate_seq[0] == 200 && m->rate_seq[2] == 80) {
        if (m->rate_seq[1] == 100) {
            m->device_id = 3;
        } else if (m->rate_seq[1] == 200) {
            m->device_id = 4;
        }
    }
}

static void mouse_write_param(PS2Mouse *m, uint8_t val)
{
    switch (m->param_cmd) {
    case 0xe8: /* resolution 0-3 */
        if (val > 3) {
            ps2_reply1(&m->reply, PS2_RESEND);
            return;
        }
        m->resolution = val;
        break;
    case 0xf3: /* sample rate: 10, 20, 40, 60, 80, 100 or 200 */
        if (val != 10 && val != 20 && val != 40 && val != 60 && val != 80 && val != 100 &&
            val != 200) {
            ps2_reply1(&m->reply, PS2_RESEND);
            return;
        }
        m->sample_rate = val;
        mouse_note_rate(m, val);
        break;
    }
    m->param_cmd = 0;
    ps2_reply1(&m->reply, PS2_ACK);
}

void ps2_mouse_write(PS2Mouse *m, uint8_t val)
{
    uint8_t pkt[5];

    if (m->wrap && val != 0xec && val != 0xff) {
        ps2_reply1(&m->reply, val);
        return;
    }
    if (m->param_cmd) {
        mouse_write_param(m, val);
        return;
    }
    switch (val) {
    case 0xe6: /* scaling 1:1 */
        m->scaling21 = false;
        ps2_reply1(&m->reply, PS2_ACK);
        break;
    case 0xe7: /* scaling 2:1 */
        m->scaling21 = true;
        ps2_reply1(&m->reply, PS2_ACK);
        break;
    case 0xe8: /* set resolution */
    case 0xf3: /* set sample rate */
        m->param_cmd = val;
        ps2_reply1(&m->reply, PS2_ACK);
        break;
    case 0xe9: /* status request */
        pkt[0] = PS2_ACK;
        pkt[1] = (m->remote ? 0x40 : 0) | (m->reporting ? 0x20 : 0) | (m->scaling21 ? 0x10 : 0) |
                 (m->buttons & PS2_BUTTON_LEFT ? 0x04 : 0) |
                 (m->buttons & PS2_BUTTON_MIDDLE ? 0x02 : 0) |
                 (m->buttons & PS2_BUTTON_RIGHT ? 0x01 : 0);
        pkt[2] = m->resolution;
        pkt[3] = m->sample_rate;
        ps2_reply(&m->reply, pkt, 4);
        break;
    case 0xea: /* stream mode */
        m->remote = false;
        mouse_clear_motion(m);
        ps2_reply1(&m->reply, PS2_ACK);
        break;
    case 0xeb: /* read data: one packet, whatever the mode */
        pkt[0] = PS2_ACK;
        ps2_reply(&m->reply, pkt, 1 + mouse_build_packet(m, false, pkt + 1));
        break;
    case 0xec: /* leave wrap mode */
        m->wrap = false;
        ps2_reply1(&m->reply, PS2_ACK);
        break;
    case 0xee: /* wrap mode */
        m->wrap = true;
        mouse_clear_motion(m);
        ps2_reply1(&m->reply, PS2_ACK);
        break;
    case 0xf0: /* remote mode */
        m->remote = true;
        mouse_clear_motion(m);
        ps2_reply1(&m->reply, PS2_ACK);
        break;
    case 0xf2: /* get device ID */
        pkt[0] = PS2_ACK;
        pkt[1] = m->device_id;
        ps2_reply(&m->reply, pkt, 2);
        break;
    case 0xf4: /* enable data reporting */
        ps2q_clear(&m->data);
        mouse_clear_motion(m);
        m->reporting = true;
        ps2_reply1(&m->reply, PS2_ACK);
        break;
    case 0xf5: /* disable data reporting */
        ps2q_clear(&m->data);
        mouse_clear_motion(m);
        m->reporting = false;
        ps2_reply1(&m->reply, PS2_ACK);
        break;
    case 0xf6: /* set defaults */
        mouse_set_defaults(m);
        ps2_reply1(&m->reply, PS2_ACK);
        break;
    case 0xfe: /* resend the last byte */ ps2_reply1(&m->reply, m->last_sent); break;
    case 0xff: /* reset: ACK, self-test passed, device ID 0 */
        ps2_mouse_reset(m);
        pkt[0] = PS2_ACK;
        pkt[1] = PS2_BAT_OK;
        pkt[2] = 0x00;
        ps2_reply(&m->reply, pkt, 3);
        break;
    default: ps2_reply1(&m->reply, PS2_RESEND); break;
    }
}

PS2Mouse *ps2_mouse_new(void)
{
    PS2Mouse *m = calloc(1, sizeof(*m));

    if (m) {
        ps2_mouse_reset(m);
    }
    return m;
}

void ps2_mouse_free(PS2Mouse *m)
{
    free(m);
}

int ps2_mouse_read(PS2Mouse *m)
{
    int b = ps2_device_next(&m->reply, &m->data);

    if (b >= 0) {
        m->last_sent = (uint8_t)b;
        mouse_stream(m); /* room freed: send motion held back */
    }
    return b;
}

void ps2_mouse_event(PS2Mouse *m, int dx, int dy, int dz, int buttons)
{
    if (buttons != m->buttons) {
        m->buttons = buttons;
        m->buttons_changed = true;
    }
    /* Motion counts only while it can be reported (enabled stream, or remote). */
    if ((m->reporting || m->remote) && !m->wrap) {
        m->dx += dx;
        m->dy -= dy; /* PS/2 y grows upwards */
        m->dz += dz;
    }
    mouse_stream(m);
}

/* ---- saved state: nested in the i8042's section ---- */

static const VMField ps2_queue_fields[] = {
    VMS_U16_ARRAY(PS2Queue, entry, PS2_QUEUE_SIZE),
    VMS_INT_RANGE(PS2Queue, head, 0, PS2_QUEUE_SIZE - 1),
    VMS_INT_RANGE(PS2Queue, count, 0, PS2_QUEUE_SIZE),
    VMS_END,
};

static const VMStateDesc ps2_queue_desc = {.name = "queue", .fields = ps2_queue_fields};

static const VMField ps2_kbd_fields[] = {
    VMS_STRUCT(PS2Keyboard, reply, PS2Queue, ps2_queue_desc),
    VMS_STRUCT(PS2Keyboard, data, PS2Queue, ps2_queue_desc),
    VMS_BOOL(PS2Keyboard, scanning),
    VMS_INT_RANGE(PS2Keyboard, scancode_set, 1, 3),
    VMS_U8(PS2Keyboard, param_cmd),
    VMS_BOOL(PS2Keyboard, key_list),
    VMS_BOOL(PS2Keyboard, overrun),
    VMS_U8(PS2Keyboard, leds),
    VMS_U8(PS2Keyboard, typematic),
    VMS_U8(PS2Keyboard, last_sent),
    VMS_END,
};

const VMStateDesc ps2_kbd_vmstate = {.name = "ps2-kbd", .fields = ps2_kbd_fields};

static const VMField ps2_mouse_fields[] = {
    VMS_STRUCT(PS2Mouse, reply, PS2Queue, ps2_queue_desc),
    VMS_STRUCT(PS2Mouse, data, PS2Queue, ps2_queue_desc),
    VMS_BOOL(PS2Mouse, reporting),
    VMS_BOOL(PS2Mouse, remote),
    VMS_BOOL(PS2Mouse, wrap),
    VMS_BOOL(PS2Mouse, scaling21),
    VMS_U8(PS2Mouse, sample_rate),
    VMS_U8_RANGE(PS2Mouse, resolution, 0, 3),
    VMS_U8(PS2Mouse, device_id),
    VMS_U8_ARRAY(PS2Mouse, rate_seq, 3),
    VMS_U8(PS2Mouse, param_cmd),
    VMS_U8(PS2Mouse, last_sent),
    VMS_INT(PS2Mouse, dx),
    VMS_INT(PS2Mouse, dy),
    VMS_INT(PS2Mouse, dz),
    VMS_INT(PS2Mouse, buttons),
    VMS_BOOL(PS2Mouse, buttons_changed),
    VMS_END,
};

const VMStateDesc ps2_mouse_vmstate = {.name = "ps2-mouse", .fields = ps2_mouse_fields};
