/*
 * i8042 keyboard controller (see i8042.h); the devices on its two ports
 * are in ps2.c.
 *
 * Source: the IBM PS/2 Hardware Interface Technical Reference, "Keyboard
 * and Auxiliary Device Controller".  The controller owns one output buffer.
 * When it is empty it takes the next byte: first its own replies, then the
 * keyboard's (unless the keyboard interface is disabled), then the mouse's.
 * A keyboard byte passes through the set 2 -> set 1 translation when command
 * byte bit 6 is set; the 0xF0 break prefix is folded into bit 7 of the code
 * that follows it.  IRQ1/IRQ12 follow the output buffer and the command
 * byte, so a read of port 0x60 that refills the buffer lowers and raises
 * the line, giving the edge-triggered PIC one edge per byte.
 */
#include <stdlib.h>
#include <string.h>

#include "hw/input/i8042.h"
#include "migration/vmstate.h"

#define I8042_REPLY_QUEUE 16    /* controller replies waiting for the output buffer */
#define I8042_REPLY_AUX   0x100 /* reply flag: deliver as a mouse byte (0xD3) */

struct I8042State {
    IOPortMap *io;
    IRQ kbd_irq;   /* IRQ1 */
    IRQ mouse_irq; /* IRQ12 */
    I8042Callbacks cb;

    uint8_t ram[32];   /* controller RAM (0x20-0x3F / 0x60-0x7F); byte 0 = command byte */
    uint8_t outport;   /* output port; bits 4 and 5 are read from the buffer state */
    uint8_t data_cmd;  /* controller command waiting for a byte at 0x60, or 0 */
    bool sys_flag;     /* status bit 2 */
    bool last_was_cmd; /* status bit 3 (A2) */

    uint8_t ob;                        /* output buffer (stays readable after it is emptied) */
    bool obf;                          /* output buffer full */
    bool ob_aux;                       /* the byte in ob came from the mouse side */
    uint16_t reply[I8042_REPLY_QUEUE]; /* the controller's own bytes, maybe I8042_REPLY_AUX */
    int reply_head;
    int reply_count;

    int kbd_irq_level; /* levels last driven */
    int mouse_irq_level;

    PS2Keyboard *kbd; /* on the first port */
    PS2Mouse *mouse;  /* on the auxiliary port */
};

/*
 * The 8042's set 2 -> set 1 translation table for codes below 0x80; codes
 * from 0x80 up pass unchanged except 0x83 (F7) and 0x84 (SysRq).
 */
static const uint8_t i8042_xlate[128] = {
    0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, /* 00 */
    0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59, /* 08 */
    0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, /* 10 */
    0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b, /* 18 */
    0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, /* 20 */
    0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d, /* 28 */
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, /* 30 */
    0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f, /* 38 */
    0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, /* 40 */
    0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61, /* 48 */
    0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, /* 50 */
    0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76, /* 58 */
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, /* 60 */
    0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f, /* 68 */
    0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, /* 70 */
    0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54, /* 78 */
};

static uint8_t i8042_translate(uint8_t code)
{
    if (code < 0x80) {
        return i8042_xlate[code];
    }
    if (code == 0x83) {
        return 0x41;
    }
    if (code == 0x84) {
        return 0x54;
    }
    return code;
}

static uint8_t i8042_cmd_byte(const I8042State *s)
{
    return s->ram[0];
}

static void i8042_update_irq(I8042State *s)
{
    int kbd = s->obf && !s->ob_aux && (i8042_cmd_byte(s) & I8042_CTR_KBDINT);
    int mouse = s->obf && s->ob_aux && (i8042_cmd_byte(s) & I8042_CTR_AUXINT);

    if (kbd != s->kbd_irq_level) {
        s->kbd_irq_level = kbd;
        irq_set_level(&s->kbd_irq, kbd);
    }
    if (mouse != s->mouse_irq_level) {
        s->mouse_irq_level = mouse;
        irq_set_level(&s->mouse_irq, mouse);
    }
}

/* A controller reply; aux replies (0xD3) look as if the mouse sent them. */
static void i8042_ctrl_reply(I8042State *s, uint8_t byte, bool aux)
{
    if (s->reply_count < I8042_REPLY_QUEUE) {
        s->reply[(s->reply_head + s->reply_count) % I8042_REPLY_QUEUE] =
            byte | (aux ? I8042_REPLY_AUX : 0);
        s->reply_count++;
    }
}

/* The next keyboard byte as the host sees it, or -1. */
static int i8042_next_kbd_byte(I8042State *s)
{
    int b = ps2_kbd_read(s->kbd);

    if (b < 0) {
        return -1;
    }
    if (!(i8042_cmd_byte(s) & I8042_CTR_XLATE)) {
        return b;
    }
    if (b == 0xf0) {
        /* A break prefix never ends a message, so its code is queued behind it. */
        int code = ps2_kbd_read(s->kbd);

        if (code < 0) {
            return -1;
        }
        return i8042_translate((uint8_t)code) | 0x80;
    }
    return i8042_translate((uint8_t)b);
}

/* Fill an empty output buffer from the controller, then keyboard, then mouse. */
static void i8042_refill(I8042State *s)
{
    int b;

    if (s->obf) {
        return;
    }
    if (s->reply_count > 0) {
        uint16_t e = s->reply[s->reply_head];

        s->reply_head = (s->reply_head + 1) % I8042_REPLY_QUEUE;
        s->reply_count--;
        s->ob = e & 0xff;
        s->ob_aux = e & I8042_REPLY_AUX;
        s->obf = true;
        return;
    }
    if (!(i8042_cmd_byte(s) & I8042_CTR_KBDDIS)) {
        b = i8042_next_kbd_byte(s);
        if (b >= 0) {
            s->ob = (uint8_t)b;
            s->ob_aux = false;
            s->obf = true;
            return;
        }
    }
    if (!(i8042_cmd_byte(s) & I8042_CTR_AUXDIS)) {
        b = ps2_mouse_read(s->mouse);
        if (b >= 0) {
            s->ob = (uint8_t)b;
            s->ob_aux = true;
            s->obf = true;
        }
    }
}

static void i8042_service(I8042State *s)
{
    i8042_refill(s);
    i8042_update_irq(s);
}

static uint8_t i8042_read_outport(const I8042State *s)
{
    uint8_t v = s->outport & ~(I8042_OUT_KBD_OBF | I8042_OUT_AUX_OBF);

    if (s->obf && !s->ob_aux) {
        v |= I8042_OUT_KBD_OBF;
    }
    if (s->obf && s->ob_aux) {
        v |= I8042_OUT_AUX_OBF;
    }
    return v;
}

static void i8042_write_outport(I8042State *s, uint8_t val)
{
    s->outport = val;
    if (s->cb.set_a20) {
        s->cb.set_a20(s->cb.opaque, val & I8042_OUT_A20);
    }
    if (!(val & I8042_OUT_RESET) && s->cb.reset_request) {
        s->cb.reset_request(s->cb.opaque);
    }
}

static void i8042_write_cmd_byte(I8042State *s, uint8_t val)
{
    s->ram[0] = val;
    s->sys_flag = val & I8042_CTR_SYS;
}

/* A byte written to 0x64. */
static void i8042_command(I8042State *s, uint8_t cmd)
{
    s->data_cmd = 0;
    if (cmd >= 0x20 && cmd <= 0x3f) { /* read controller RAM */
        i8042_ctrl_reply(s, s->ram[cmd & 0x1f], false);
        return;
    }
    if ((cmd >= 0x60 && cmd <= 0x7f) || (cmd >= 0xd1 && cmd <= 0xd4)) {
        s->data_cmd = cmd; /* the data byte follows at 0x60 */
        return;
    }
    if (cmd >= 0xf0) {
        /* Pulse the output port bits whose command bit is 0 (bit 0 = reset). */
        if (!(cmd & 0x01) && s->cb.reset_request) {
            s->cb.reset_request(s->cb.opaque);
        }
        return;
    }
    switch (cmd) {
    case 0xa4:                            /* password installed? */
        i8042_ctrl_reply(s, 0xf1, false); /* no */
        break;
    case 0xa7: /* disable the mouse interface */ s->ram[0] |= I8042_CTR_AUXDIS; break;
    case 0xa8: /* enable the mouse interface */ s->ram[0] &= ~I8042_CTR_AUXDIS; break;
    case 0xa9:                            /* mouse interface test */
    case 0xab:                            /* keyboard interface test */
        i8042_ctrl_reply(s, 0x00, false); /* no clock or data line stuck */
        break;
    case 0xaa: /* controller self-test */
        s->sys_flag = true;
        i8042_ctrl_reply(s, 0x55, false);
        break;
    case 0xad: /* disable the keyboard interface */ s->ram[0] |= I8042_CTR_KBDDIS; break;
    case 0xae: /* enable the keyboard interface */ s->ram[0] &= ~I8042_CTR_KBDDIS; break;
    case 0xc0: /* read input port: keyboard not inhibited, colour display */
        i8042_ctrl_reply(s, 0x80, false);
        break;
    case 0xd0: /* read output port */ i8042_ctrl_reply(s, i8042_read_outport(s), false); break;
    case 0xe0: /* read test inputs: T0 = keyboard clock, T1 = keyboard data */
        i8042_ctrl_reply(s, (i8042_cmd_byte(s) & I8042_CTR_KBDDIS) ? 0x02 : 0x03, false);
        break;
    default: break; /* unknown commands are ignored, as by the 8042 firmware */
    }
}

/* A byte written to 0x60: a command's data byte, else a byte for the keyboard. */
static void i8042_write_data(I8042State *s, uint8_t val)
{
    uint8_t cmd = s->data_cmd;

    s->data_cmd = 0;
    if (cmd >= 0x60 && cmd <= 0x7f) {
        if (cmd == 0x60) {
            i8042_write_cmd_byte(s, val);
        } else {
            s->ram[cmd & 0x1f] = val;
        }
        return;
    }
    switch (cmd) {
    case 0xd1: /* write output port */ i8042_write_outport(s, val); break;
    case 0xd2: /* write keyboard output buffer */ i8042_ctrl_reply(s, val, false); break;
    case 0xd3: /* write mouse output buffer */ i8042_ctrl_reply(s, val, true); break;
    case 0xd4: /* write to the mouse; sending re-enables its interface */
        s->ram[0] &= ~I8042_CTR_AUXDIS;
        ps2_mouse_write(s->mouse, val);
        break;
    default: /* to the keyboard; sending re-enables its interface */
        s->ram[0] &= ~I8042_CTR_KBDDIS;
        ps2_kbd_write(s->kbd, val);
        break;
    }
}

static uint32_t i8042_ioport_read(void *opaque, uint16_t port, int size)
{
    I8042State *s = opaque;
    uint8_t val;

    if (port == I8042_DATA_PORT) {
        val = s->ob;
        if (s->obf) {
            s->obf = false;
            i8042_update_irq(s); /* drop the line so the next byte makes a new edge */
            i8042_service(s);
        }
        return val;
    }
    val = I8042_STR_INH;
    if (s->obf) {
        val |= I8042_STR_OBF;
        if (s->ob_aux) {
            val |= I8042_STR_AUXB;
        }
    }
    if (s->sys_flag) {
        val |= I8042_STR_SYS;
    }
    if (s->last_was_cmd) {
        val |= I8042_STR_A2;
    }
    return val;
}

static void i8042_ioport_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    I8042State *s = opaque;

    if (port == I8042_DATA_PORT) {
        s->last_was_cmd = false;
        i8042_write_data(s, (uint8_t)value);
    } else {
        s->last_was_cmd = true;
        i8042_command(s, (uint8_t)value);
    }
    i8042_service(s);
}

I8042State *i8042_new(IOPortMap *io, IRQ kbd_irq, IRQ mouse_irq, const I8042Callbacks *cb)
{
    I8042State *s = calloc(1, sizeof(*s));

    if (!s) {
        return NULL;
    }
    s->io = io;
    s->kbd_irq = kbd_irq;
    s->mouse_irq = mouse_irq;
    if (cb) {
        s->cb = *cb;
    }
    s->kbd = ps2_kbd_new();
    s->mouse = ps2_mouse_new();
    if (!s->kbd || !s->mouse ||
        ioport_register(io, I8042_DATA_PORT, 1, 1, i8042_ioport_read, i8042_ioport_write, s) < 0 ||
        ioport_register(io, I8042_STATUS_PORT, 1, 1, i8042_ioport_read, i8042_ioport_write, s) <
            0) {
        ioport_unregister(io, I8042_DATA_PORT, 1);
        ps2_kbd_free(s->kbd);
        ps2_mouse_free(s->mouse);
        free(s);
        return NULL;
    }
    i8042_reset(s);
    return s;
}

void i8042_free(I8042State *s)
{
    if (!s) {
        return;
    }
    ioport_unregister(s->io, I8042_DATA_PORT, 1);
    ioport_unregister(s->io, I8042_STATUS_PORT, 1);
    ps2_kbd_free(s->kbd);
    ps2_mouse_free(s->mouse);
    free(s);
}

void i8042_reset(I8042State *s)
{
    memset(s->ram, 0, sizeof(s->ram));
    /* Interrupts on and translation on: the state a PC BIOS hands to the OS. */
    s->ram[0] = I8042_CTR_KBDINT | I8042_CTR_AUXINT | I8042_CTR_XLATE;
    s->sys_flag = false; /* set by the self-test (0xAA) */
    s->outport = 0xcf;   /* reset released, A20 on, unused lines high */
    s->data_cmd = 0;
    s->last_was_cmd = false;
    s->ob = 0;
    s->obf = false;
    s->ob_aux = false;
    s->reply_head = 0;
    s->reply_count = 0;
    ps2_kbd_reset(s->kbd);
    ps2_mouse_reset(s->mouse);
    i8042_update_irq(s);
}

void i8042_key_event(I8042State *s, int keycode, bool down)
{
    ps2_kbd_key_event(s->kbd, keycode, down);
    i8042_service(s);
}

void i8042_mouse_event(I8042State *s, int dx, int dy, int dz, int buttons)
{
    ps2_mouse_event(s->mouse, dx, dy, dz, buttons);
    i8042_service(s);
}

/* ---- saved state, with the keyboard's and the mouse's ---- */

static void i8042_save_devices(VMWriter *w, void *opaque)
{
    I8042State *s = opaque;
    vmstate_save_fields(w, &ps2_kbd_vmstate, s->kbd);
    vmstate_save_fields(w, &ps2_mouse_vmstate, s->mouse);
}

static bool i8042_load_devices(VMReader *r, void *opaque, uint32_t version)
{
    I8042State *s = opaque;
    return vmstate_load_fields(r, &ps2_kbd_vmstate, s->kbd, version) &&
           vmstate_load_fields(r, &ps2_mouse_vmstate, s->mouse, version);
}

static const VMField i8042_fields[] = {
    VMS_BYTES(I8042State, ram, 32),
    VMS_U8(I8042State, outport),
    VMS_U8(I8042State, data_cmd),
    VMS_BOOL(I8042State, sys_flag),
    VMS_BOOL(I8042State, last_was_cmd),
    VMS_U8(I8042State, ob),
    VMS_BOOL(I8042State, obf),
    VMS_BOOL(I8042State, ob_aux),
    VMS_U16_ARRAY(I8042State, reply, I8042_REPLY_QUEUE),
    VMS_INT_RANGE(I8042State, reply_head, 0, I8042_REPLY_QUEUE - 1),
    VMS_INT_RANGE(I8042State, reply_count, 0, I8042_REPLY_QUEUE),
    VMS_INT_RANGE(I8042State, kbd_irq_level, 0, 1),
    VMS_INT_RANGE(I8042State, mouse_irq_level, 0, 1),
    VMS_END,
};

const VMStateDesc i8042_vmstate = {
    .name = "i8042",
    .version = 1,
    .min_version = 1,
    .fields = i8042_fields,
    .save = i8042_save_devices,
    .load = i8042_load_devices,
};
