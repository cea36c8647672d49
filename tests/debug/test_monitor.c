/*
 * Monitor commands (frontend/monitor.c, monitor_cmds.c) on a bare CPU:
 * info registers, x/ and xp/ in every format through paging, info tlb and
 * info mem on hand-built page tables, address expressions, stop/cont and
 * bad input.  The machine actions (reset, powerdown, quit, pic) are
 * counted through MonitorOps, and the network commands reach the host's
 * net_command with their arguments.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/monitor.h"
#include "softmmu/mmu.h"
#include "tests/support/testvm.h"

#define PD      0x20000u
#define PT0     0x21000u
#define PT_HI   0x22000u
#define HI_LIN  0x40000000u
#define HI_PHYS 0x300000u

static TestVM *vm;
static Monitor *mon;
static bool stopped;
static int resets, powerdowns, quits;

static void count_reset(void *opaque)
{
    resets++;
}

static void count_powerdown(void *opaque)
{
    powerdowns++;
}

static void count_quit(void *opaque)
{
    quits++;
}

static int fake_pic_info(void *opaque, char *buf, size_t len)
{
    return snprintf(buf, len, "pic master: irr=01\n");
}

static char net_seen[256];

static int fake_net_command(void *opaque, const char *cmd, const char *args, char *buf, size_t len)
{
    snprintf(net_seen, sizeof(net_seen), "%s|%s", cmd, args);
    return snprintf(buf, len, "net: %s\n", cmd);
}

static void put32(uint32_t paddr, uint32_t v)
{
    memcpy(vm->phys.ram + paddr, &v, 4);
}

static void setup(void)
{
    vm = testvm_new(8u << 20);
    testvm_flat32(vm, 0, TESTVM_CODE);
    stopped = false;
    resets = powerdowns = quits = 0;
    MonitorOps ops = {NULL, fake_pic_info, NULL, count_reset, count_powerdown, count_quit};
    mon = monitor_new(&vm->cpu, &stopped, &ops);
}

static void teardown(void)
{
    monitor_free(mon);
    testvm_free(vm);
}

/* Run a command; returns its output (freed at the next call). */
static const char *run(const char *line)
{
    static char *last;
    free(last);
    last = monitor_run(mon, line);
    ck_assert_ptr_nonnull(last);
    return last;
}

static void enable_paging(void)
{
    memset(vm->phys.ram + PD, 0, 3 * 4096);
    for (uint32_t i = 0; i < 1024; i++) {
        put32(PT0 + 4 * i, (i << 12) | 3);
    }
    put32(PD, PT0 | 3);
    put32(PD + (HI_LIN >> 22) * 4, PT_HI | 7);
    put32(PT_HI, HI_PHYS | 7);                /* user, writable */
    put32(PT_HI + 4, (HI_PHYS + 0x1000) | 5); /* user, read-only */
    vm->cpu.cr3 = PD;
    vm->cpu.cr0 |= CR0_PG;
    cpu_update_mode(&vm->cpu);
    tlb_flush_all(&vm->cpu);
}

START_TEST(test_info_registers)
{
    vm->cpu.regs[R_EAX] = 0x01234567;
    vm->cpu.regs[R_ESP] = 0x7000;
    const char *o = run("info registers");
    ck_assert_ptr_nonnull(strstr(o, "EAX=01234567"));
    ck_assert_ptr_nonnull(strstr(o, "ESP=00007000"));
    ck_assert_ptr_nonnull(strstr(o, "EIP=00010000"));
    ck_assert_ptr_nonnull(strstr(o, "CS =0008 00000000 ffffffff"));
    ck_assert_ptr_nonnull(strstr(o, "CR0=60000011"));
}
END_TEST

/* In IA-32e mode, QEMU's 64-bit layout: RAX..R15, RIP, 16-digit bases. */
START_TEST(test_info_registers_long_mode)
{
    vm->cpu.regs[R_EAX] = 0xffff888001234567ull;
    vm->cpu.regs[13] = 0x1313;
    vm->cpu.eip = 0xffffffff81000000ull;
    vm->cpu.efer = EFER_LME | EFER_LMA;
    vm->cpu.seg[SEG_CS].attr = (vm->cpu.seg[SEG_CS].attr & ~DESC_B) | DESC_L;
    vm->cpu.seg[SEG_GS].base = 0xffff88800fc00000ull;
    vm->cpu.idtr.base = 0xfffffe0000000000ull;
    cpu_update_mode(&vm->cpu);
    const char *o = run("info registers");
    ck_assert_ptr_nonnull(strstr(o, "RAX=ffff888001234567 RBX="));
    ck_assert_ptr_nonnull(strstr(o, "R13=0000000000001313"));
    ck_assert_ptr_nonnull(strstr(o, "RIP=ffffffff81000000 RFL="));
    ck_assert_ptr_nonnull(strstr(o, "GS =0010 ffff88800fc00000"));
    ck_assert_ptr_nonnull(strstr(o, "CS64 [-RA]"));
    ck_assert_ptr_nonnull(strstr(o, "IDT=     fffffe0000000000"));
}
END_TEST

START_TEST(test_dump_virtual_and_physical)
{
    enable_paging();
    put32(HI_PHYS, 0x11223344);
    put32(HI_PHYS + 4, 0x55667788);
    ck_assert_str_eq(run("x/2xw 0x40000000"), "40000000: 0x11223344 0x55667788\n");
    ck_assert_str_eq(run("xp/2xw 0x300000"), "00300000: 0x11223344 0x55667788\n");
    ck_assert_str_eq(run("xp/4xb 0x300000"), "00300000: 0x44 0x33 0x22 0x11\n");
    ck_assert_str_eq(run("xp/xh 0x300002"), "00300002: 0x1122\n");
    ck_assert_str_eq(run("xp/xg 0x300000"), "00300000: 0x5566778811223344\n");
    ck_assert_str_eq(run("xp/2dh 0x300004"), "00300004: 30600 21862\n");
    put32(HI_PHYS + 8, 0xffffffff);
    ck_assert_str_eq(run("xp/dw 0x300008"), "00300008: -1\n");
    ck_assert_str_eq(run("xp/uw 0x300008"), "00300008: 4294967295\n");
    /* Sixteen bytes per line. */
    ck_assert_str_eq(run("xp/5xw 0x300000"),
                     "00300000: 0x11223344 0x55667788 0xffffffff 0x00000000\n"
                     "00300010: 0x00000000\n");
    /* Unmapped linear memory. */
    ck_assert_ptr_nonnull(strstr(run("x/xw 0x50000000"), "Cannot access memory at 50000000"));
}
END_TEST

START_TEST(test_dump_instructions)
{
    /* mov eax, 1; nop; ret */
    static const uint8_t code[] = {0xb8, 1, 0, 0, 0, 0x90, 0xc3};
    testvm_load(vm, TESTVM_CODE, code, sizeof(code));
    const char *o = run("x/3i $eip");
    ck_assert_ptr_nonnull(strstr(o, "00010000:  b8 01 00 00 00"));
    ck_assert_ptr_nonnull(strstr(o, "mov eax, 1\n"));
    ck_assert_ptr_nonnull(strstr(o, "00010005:  90"));
    ck_assert_ptr_nonnull(strstr(o, "00010006:  c3"));
    ck_assert_ptr_nonnull(strstr(o, "ret\n"));
}
END_TEST

/* A 64-bit guest: x/i decodes 64-bit code (REX prefixes are prefixes, not
 * INC/DEC), addresses above 4 GiB are read and printed with 16 digits, and
 * the expressions know the 64-bit registers. */
START_TEST(test_dump_long_mode)
{
    /* movabs rax, 0x1122334455667788; add r8, 0x10; ret */
    static const uint8_t code[] = {0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33,
                                   0x22, 0x11, 0x49, 0x83, 0xc0, 0x10, 0xc3};
    testvm_long_mode(vm, true);
    testvm_load(vm, TESTVM_CODE, code, sizeof(code));
    vm->cpu.eip = TESTVM_HIGH + TESTVM_CODE;
    const char *o = run("x/3i $pc");
    ck_assert_ptr_nonnull(strstr(o, "ffffffff80010000:  48 b8 88 77 66 55 44 33 22 11 "));
    ck_assert_ptr_nonnull(strstr(o, "movabs rax, 0x1122334455667788\n"));
    ck_assert_ptr_nonnull(strstr(o, "ffffffff8001000a:  49 83 c0 10 "));
    ck_assert_ptr_nonnull(strstr(o, "add r8, 0x10\n"));
    ck_assert_ptr_nonnull(strstr(o, "ffffffff8001000e:  c3 "));
    ck_assert_ptr_nonnull(strstr(o, "ret\n"));
    char first[256];
    snprintf(first, sizeof(first), "%s", run("x/3i $pc"));
    ck_assert_str_eq(run("x /3i $rip"), first); /* QEMU's spacing, and $rip */
    ck_assert_ptr_nonnull(strstr(run("x /qq $rip"), "invalid format"));
    snprintf(first, sizeof(first), "%s", run("x/i 0xffffffff8001000a"));
    ck_assert_str_eq(run("x/i $rip + 10"), first); /* run() frees the previous answer */
    vm->cpu.regs[12] = TESTVM_HIGH + TESTVM_CODE + 8;
    ck_assert_str_eq(run("x/xg $r12 - 8"), "ffffffff80010000: 0x334455667788b848\n");
    /* The identity mapping shows the same bytes at the low address. */
    ck_assert_str_eq(run("x/2xw 0x10000"), "0000000000010000: 0x7788b848 0x33445566\n");
    ck_assert_ptr_nonnull(
        strstr(run("x/xw 0x0000800000000000"), "Cannot access memory at 0000800000000000"));
}
END_TEST

START_TEST(test_address_expressions)
{
    put32(0x1234, 0xabcd0001);
    vm->cpu.regs[R_EBX] = 0x1200;
    ck_assert_str_eq(run("xp/xw $ebx + 0x30 + 4"), "00001234: 0xabcd0001\n");
    ck_assert_str_eq(run("xp/xw 4660"), "00001234: 0xabcd0001\n");
    ck_assert_ptr_nonnull(strstr(run("x/xw $nosuch"), "invalid address expression"));
    ck_assert_ptr_nonnull(strstr(run("x/xw 1 +"), "invalid address expression"));
    ck_assert_ptr_nonnull(strstr(run("x/qq 0"), "invalid format"));
    /* Outside 64-bit mode a linear address wraps at 4 GiB; physical memory
     * ends there. */
    ck_assert_str_eq(run("x/xw 0x100001234"), "00001234: 0xabcd0001\n");
    ck_assert_ptr_nonnull(strstr(run("xp/xw 0x100001234"), "Cannot access memory at 100001234"));
}
END_TEST

START_TEST(test_info_tlb_and_mem)
{
    ck_assert_str_eq(run("info tlb"), "PG disabled\n");
    enable_paging();
    const char *tlb = run("info tlb");
    ck_assert_ptr_nonnull(strstr(tlb, "40000000: 00300000 ------UW\n"));
    ck_assert_ptr_nonnull(strstr(tlb, "40001000: 00301000 ------U-\n"));
    ck_assert_ptr_nonnull(strstr(tlb, "003ff000: 003ff000 -------W\n"));
    const char *mem = run("info mem");
    ck_assert_str_eq(mem, "00000000-00400000 00400000 -rw\n"
                          "40000000-40001000 00001000 urw\n"
                          "40001000-40002000 00001000 ur-\n");
}
END_TEST

START_TEST(test_run_control_and_machine_actions)
{
    run("stop");
    ck_assert(stopped);
    ck_assert_str_eq(run("info status"), "VM status: paused\n");
    run("cont");
    ck_assert(!stopped);
    run("system_reset");
    run("system_powerdown");
    run("quit");
    ck_assert_int_eq(resets, 1);
    ck_assert_int_eq(powerdowns, 1);
    ck_assert_int_eq(quits, 1);
    ck_assert_str_eq(run("info pic"), "pic master: irr=01\n");
    ck_assert_ptr_nonnull(strstr(run("info irq"), "unknown or unavailable"));
    ck_assert_ptr_nonnull(strstr(run("frobnicate"), "unknown command"));
    ck_assert_ptr_nonnull(strstr(run("help"), "xp/FMT ADDR"));
    ck_assert_str_eq(run(""), "");
}
END_TEST

START_TEST(test_network_commands)
{
    ck_assert_str_eq(run("info network"), "info network: not available here\n");
    ck_assert_str_eq(run("set_link n0 off"), "set_link: not available here\n");
    MonitorOps ops = {.net_command = fake_net_command};
    Monitor *m = monitor_new(&vm->cpu, &stopped, &ops);
    static const char *const cases[][3] = {
        {"info network", "net: info network\n", "info network|"},
        {"info usernet", "net: info usernet\n", "info usernet|"},
        {"set_link e1000.0 off", "net: set_link\n", "set_link|e1000.0 off"},
        {"hostfwd_add n0 tcp::2222-:22", "net: hostfwd_add\n", "hostfwd_add|n0 tcp::2222-:22"},
        {"hostfwd_remove tcp::2222", "net: hostfwd_remove\n", "hostfwd_remove|tcp::2222"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *o = monitor_run(m, cases[i][0]);
        ck_assert_str_eq(o, cases[i][1]);
        ck_assert_str_eq(net_seen, cases[i][2]);
        free(o);
    }
    monitor_free(m);
}
END_TEST

static Suite *monitor_suite(void)
{
    Suite *s = suite_create("monitor");
    TCase *tc = tcase_create("commands");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_info_registers);
    tcase_add_test(tc, test_info_registers_long_mode);
    tcase_add_test(tc, test_dump_virtual_and_physical);
    tcase_add_test(tc, test_dump_instructions);
    tcase_add_test(tc, test_dump_long_mode);
    tcase_add_test(tc, test_address_expressions);
    tcase_add_test(tc, test_info_tlb_and_mem);
    tcase_add_test(tc, test_run_control_and_machine_actions);
    tcase_add_test(tc, test_network_commands);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(monitor_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
