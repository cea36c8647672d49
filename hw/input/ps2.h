/*
 * PS/2 keyboard and PS/2 mouse, as seen from the controller they hang off
 * (the i8042, hw/input/i8042.h): the host sends them bytes, they send back bytes
 * one at a time when the controller clocks them in.
 *
 * The keyboard speaks scancode set 1, 2 (the power-on default) or 3; the
 * controller may translate set 2 into set 1.  The mouse is a standard PS/2
 * mouse that becomes an IntelliMouse (ID 3, wheel) or IntelliMouse Explorer
 * (ID 4, wheel and buttons 4/5) after the usual sample-rate handshakes.
 */
#ifndef HW_INPUT_PS2_H
#define HW_INPUT_PS2_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Key codes for key events: the key's scancode set 1 make code, with
 * PS2_KEY_E0 added for the keys that send an 0xE0 prefix.  Print Screen is
 * PS2_KEY_PRINT (the keyboard adds its fake shifts); Pause has no single
 * set 1 code and is PS2_KEY_PAUSE (make only, as on a real keyboard).
 */
#define PS2_KEY_E0    0xe000
#define PS2_KEY_PRINT 0xe037
#define PS2_KEY_PAUSE 0xe11d

/* Mouse button bits for mouse events. */
#define PS2_BUTTON_LEFT   0x01
#define PS2_BUTTON_RIGHT  0x02
#define PS2_BUTTON_MIDDLE 0x04
#define PS2_BUTTON_4      0x08 /* reported with device ID 4 only */
#define PS2_BUTTON_5      0x10

typedef struct PS2Keyboard PS2Keyboard;
typedef struct PS2Mouse PS2Mouse;

/* A keyboard in its power-on state: set 2, scanning, nothing queued. */
PS2Keyboard *ps2_kbd_new(void);
void ps2_kbd_free(PS2Keyboard *k);
void ps2_kbd_reset(PS2Keyboard *k);
/* Saved state of each, nested in the i8042's section (migration/vmstate.h). */
extern const struct VMStateDesc ps2_kbd_vmstate, ps2_mouse_vmstate;
/* A byte from the host: a command or a command's parameter. */
void ps2_kbd_write(PS2Keyboard *k, uint8_t byte);
/* The next byte the keyboard sends, or -1 if it has none. */
int ps2_kbd_read(PS2Keyboard *k);
/* A key went down or up; dropped while scanning is disabled (0xF5). */
void ps2_kbd_key_event(PS2Keyboard *k, int keycode, bool down);

/* A mouse in its power-on state: ID 0, stream mode, reporting off. */
PS2Mouse *ps2_mouse_new(void);
void ps2_mouse_free(PS2Mouse *m);
void ps2_mouse_reset(PS2Mouse *m);
void ps2_mouse_write(PS2Mouse *m, uint8_t byte);
int ps2_mouse_read(PS2Mouse *m);
/*
 * Motion since the last event in host screen terms: dx > 0 right, dy > 0
 * down, dz > 0 wheel turned towards the user; buttons is the PS2_BUTTON_*
 * state now.
 */
void ps2_mouse_event(PS2Mouse *m, int dx, int dy, int dz, int buttons);

#endif /* HW_INPUT_PS2_H */
