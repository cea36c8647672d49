/*
 * The SDL window's key map (frontend/sdl_keymap.c): SDL scancodes (USB HID
 * usages) to PS/2 scancode set 1 make codes, as the IBM PC AT keyboard
 * sends them, with PS2_KEY_E0 for the keys behind an E0h prefix and the
 * special codes for Print Screen and Pause.
 */
#include <SDL2/SDL_scancode.h>
#include <check.h>
#include <stdlib.h>

#include "frontend/sdl.h"
#include "hw/input/ps2.h"

START_TEST(test_main_block)
{
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_ESCAPE), 0x01);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_1), 0x02);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_0), 0x0b);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_Q), 0x10);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_A), 0x1e);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_Z), 0x2c);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_RETURN), 0x1c);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_SPACE), 0x39);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_LSHIFT), 0x2a);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_RSHIFT), 0x36);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_LCTRL), 0x1d);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_LALT), 0x38);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_F1), 0x3b);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_F10), 0x44);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_F11), 0x57);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_F12), 0x58);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_NONUSBACKSLASH), 0x56);
}
END_TEST

START_TEST(test_keypad)
{
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_NUMLOCKCLEAR), 0x45);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_KP_7), 0x47);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_KP_0), 0x52);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_KP_PERIOD), 0x53);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_KP_MULTIPLY), 0x37);
    /* The keypad's Enter and / are the E0-prefixed twins of Return and /. */
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_KP_ENTER), PS2_KEY_E0 | 0x1c);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_KP_DIVIDE), PS2_KEY_E0 | 0x35);
}
END_TEST

START_TEST(test_extended_keys)
{
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_RCTRL), PS2_KEY_E0 | 0x1d);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_RALT), PS2_KEY_E0 | 0x38);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_HOME), PS2_KEY_E0 | 0x47);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_UP), PS2_KEY_E0 | 0x48);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_PAGEUP), PS2_KEY_E0 | 0x49);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_LEFT), PS2_KEY_E0 | 0x4b);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_RIGHT), PS2_KEY_E0 | 0x4d);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_END), PS2_KEY_E0 | 0x4f);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_DOWN), PS2_KEY_E0 | 0x50);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_PAGEDOWN), PS2_KEY_E0 | 0x51);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_INSERT), PS2_KEY_E0 | 0x52);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_DELETE), PS2_KEY_E0 | 0x53);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_LGUI), PS2_KEY_E0 | 0x5b);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_RGUI), PS2_KEY_E0 | 0x5c);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_APPLICATION), PS2_KEY_E0 | 0x5d);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_PRINTSCREEN), PS2_KEY_PRINT);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_PAUSE), PS2_KEY_PAUSE);
}
END_TEST

START_TEST(test_unmapped)
{
    /* Keys a PC keyboard does not have, and values out of range. */
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_UNKNOWN), 0);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_SCANCODE_F24), 0);
    ck_assert_int_eq(sdl_scancode_to_ps2(-1), 0);
    ck_assert_int_eq(sdl_scancode_to_ps2(SDL_NUM_SCANCODES), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("keymap");
    TCase *tc = tcase_create("set1");
    tcase_add_test(tc, test_main_block);
    tcase_add_test(tc, test_keypad);
    tcase_add_test(tc, test_extended_keys);
    tcase_add_test(tc, test_unmapped);
    suite_add_tcase(s, tc);
    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
