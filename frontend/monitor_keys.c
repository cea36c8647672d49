/*
 * sendkey's key names (monitor_keys.h), from QEMU's QKeyCode list, with
 * their scancode set 1 make codes (IBM PC AT keyboard reference).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/monitor_keys.h"
#include "hw/input/ps2.h"

static const struct {
    const char *name;
    int code;
} keys[] = {
    {"esc", 0x01},
    {"1", 0x02},
    {"2", 0x03},
    {"3", 0x04},
    {"4", 0x05},
    {"5", 0x06},
    {"6", 0x07},
    {"7", 0x08},
    {"8", 0x09},
    {"9", 0x0a},
    {"0", 0x0b},
    {"minus", 0x0c},
    {"equal", 0x0d},
    {"backspace", 0x0e},
    {"tab", 0x0f},
    {"q", 0x10},
    {"w", 0x11},
    {"e", 0x12},
    {"r", 0x13},
    {"t", 0x14},
    {"y", 0x15},
    {"u", 0x16},
    {"i", 0x17},
    {"o", 0x18},
    {"p", 0x19},
    {"bracket_left", 0x1a},
    {"bracket_right", 0x1b},
    {"ret", 0x1c},
    {"ctrl", 0x1d},
    {"a", 0x1e},
    {"s", 0x1f},
    {"d", 0x20},
    {"f", 0x21},
    {"g", 0x22},
    {"h", 0x23},
    {"j", 0x24},
    {"k", 0x25},
    {"l", 0x26},
    {"semicolon", 0x27},
    {"apostrophe", 0x28},
    {"grave_accent", 0x29},
    {"shift", 0x2a},
    {"backslash", 0x2b},
    {"z", 0x2c},
    {"x", 0x2d},
    {"c", 0x2e},
    {"v", 0x2f},
    {"b", 0x30},
    {"n", 0x31},
    {"m", 0x32},
    {"comma", 0x33},
    {"dot", 0x34},
    {"slash", 0x35},
    {"shift_r", 0x36},
    {"kp_multiply", 0x37},
    {"asterisk", 0x37},
    {"alt", 0x38},
    {"spc", 0x39},
    {"caps_lock", 0x3a},
    {"f1", 0x3b},
    {"f2", 0x3c},
    {"f3", 0x3d},
    {"f4", 0x3e},
    {"f5", 0x3f},
    {"f6", 0x40},
    {"f7", 0x41},
    {"f8", 0x42},
    {"f9", 0x43},
    {"f10", 0x44},
    {"num_lock", 0x45},
    {"scroll_lock", 0x46},
    {"kp_7", 0x47},
    {"kp_8", 0x48},
    {"kp_9", 0x49},
    {"kp_subtract", 0x4a},
    {"kp_4", 0x4b},
    {"kp_5", 0x4c},
    {"kp_6", 0x4d},
    {"kp_add", 0x4e},
    {"kp_1", 0x4f},
    {"kp_2", 0x50},
    {"kp_3", 0x51},
    {"kp_0", 0x52},
    {"kp_decimal", 0x53},
    {"less", 0x56},
    {"f11", 0x57},
    {"f12", 0x58},
    {"kp_enter", PS2_KEY_E0 | 0x1c},
    {"ctrl_r", PS2_KEY_E0 | 0x1d},
    {"kp_divide", PS2_KEY_E0 | 0x35},
    {"print", PS2_KEY_PRINT},
    {"sysrq", PS2_KEY_PRINT},
    {"alt_r", PS2_KEY_E0 | 0x38},
    {"pause", PS2_KEY_PAUSE},
    {"home", PS2_KEY_E0 | 0x47},
    {"up", PS2_KEY_E0 | 0x48},
    {"pgup", PS2_KEY_E0 | 0x49},
    {"left", PS2_KEY_E0 | 0x4b},
    {"right", PS2_KEY_E0 | 0x4d},
    {"end", PS2_KEY_E0 | 0x4f},
    {"down", PS2_KEY_E0 | 0x50},
    {"pgdn", PS2_KEY_E0 | 0x51},
    {"insert", PS2_KEY_E0 | 0x52},
    {"delete", PS2_KEY_E0 | 0x53},
    {"meta_l", PS2_KEY_E0 | 0x5b},
    {"meta_r", PS2_KEY_E0 | 0x5c},
    {"menu", PS2_KEY_E0 | 0x5d},
    {"power", PS2_KEY_E0 | 0x5e},
};

int monitor_key_code(const char *name)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (!strcmp(keys[i].name, name)) {
            return keys[i].code;
        }
    }
    if (!strncmp(name, "0x", 2) && name[2]) {
        char *end;
        unsigned long v = strtoul(name + 2, &end, 16);
        if (*end == '\0' && v > 0 && v < 0x80) {
            return (int)v; /* a raw make code */
        }
        if (*end == '\0' && v >= 0xe000 + 1 && v < 0xe080) {
            return (int)v;
        }
    }
    return -1;
}

int monitor_parse_keys(const char *combo, int *codes, char *bad, size_t badlen)
{
    int n = 0;
    const char *p = combo;
    if (!*p) {
        snprintf(bad, badlen, "%s", "");
        return -1;
    }
    while (*p) {
        /* A key name ends at the next '-', except "-" right at the start of
         * a name (none of QEMU's names starts with one). */
        size_t len = strcspn(p, "-");
        char name[32];
        if (len == 0 || len >= sizeof(name) || n == MONITOR_KEYS_MAX) {
            snprintf(bad, badlen, "%.*s", (int)(len < 31 ? len : 31), p);
            return -1;
        }
        memcpy(name, p, len);
        name[len] = '\0';
        int code = monitor_key_code(name);
        if (code < 0) {
            snprintf(bad, badlen, "%s", name);
            return -1;
        }
        codes[n++] = code;
        p += len;
        if (*p == '-') {
            p++;
            if (!*p) {
                snprintf(bad, badlen, "%s", "-");
                return -1;
            }
        }
    }
    return n;
}
