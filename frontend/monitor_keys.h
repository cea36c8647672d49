/*
 * The monitor's sendkey: QEMU's key names (its QKeyCode spellings: ret,
 * spc, ctrl, alt_r, kp_add, f1 ... f12, delete ...) to the PS/2 key codes
 * of hw/input/ps2.h (set 1 make codes, PS2_KEY_E0 for prefixed keys).
 */
#ifndef FRONTEND_MONITOR_KEYS_H
#define FRONTEND_MONITOR_KEYS_H

#include <stddef.h>

#define MONITOR_KEYS_MAX 16 /* keys in one sendkey combination */

/* One key name, or a number (0x1d: a raw set 1 code, as QEMU takes);
 * -1 when unknown. */
int monitor_key_code(const char *name);
/* "ctrl-alt-delete" into codes (at most MONITOR_KEYS_MAX); the count, or
 * -1 with the offending name in bad. */
int monitor_parse_keys(const char *combo, int *codes, char *bad, size_t badlen);

#endif /* FRONTEND_MONITOR_KEYS_H */
