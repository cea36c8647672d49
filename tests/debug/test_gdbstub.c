/*
 * The gdb stub's protocol engine without sockets (frontend/gdbstub.c,
 * gdbstub_cmds.c, gdbregs.c): framing and acknowledgement, hostile input,
 * registers and memory through paging, breakpoints kept outside guest
 * memory, exact single steps, watchpoints invisible to the guest's debug
 * registers, interrupts, monitor commands, and observer chaining (an idle
 * stub leaves the CPU's per-instruction hook as it found it).
 *
 * The machine is a bare flat 32-bit CPU (tests/support/testvm.h) with code
 * at TESTVM_CODE; the stub's replies are collected from its write callback.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/gdbstub.h"
#include "frontend/monitor.h"
#include "softmmu/mmu.h"
#include "tests/support/testvm.h"

#define PD      0x20000u /* page directory */
#define PT0     0x21000u /* identity map of 0-4 MiB */
#define PT_HI   0x22000u /* maps linear 40000000h */
#define HI_LIN  0x40000000u
#define HI_PHYS 0x300000u
#define DATA    0x30000u /* data the test programs touch */

static TestVM *vm;
static GdbStub *stub;
static Monitor *mon;
static bool stopped;
static char out[1 << 16]; /* everything the stub wrote */
static size_t out_len;

static void collect(void *opaque, const char *data, size_t len)
{
    if (out_len + len < sizeof(out)) {
        memcpy(out + out_len, data, len);
        out_len += len;
        out[out_len] = '\0';
    }
}

static void setup(void)
{
    vm = testvm_new(8u << 20);
    testvm_flat32(vm, 0, TESTVM_CODE);
    stopped = false;
    out_len = 0;
    out[0] = '\0';
    stub = gdbstub_new(&vm->cpu, &stopped);
    mon = monitor_new(&vm->cpu, &stopped, NULL);
    gdbstub_set_monitor(stub, mon);
    gdbstub_attach_output(stub, collect, NULL);
}

static void teardown(void)
{
    gdbstub_free(stub);
    monitor_free(mon);
    testvm_free(vm);
}

static void feed(const char *bytes, size_t len)
{
    gdbstub_feed(stub, (const uint8_t *)bytes, len);
}

/* Frame and send one packet; forget earlier output. */
static void send_packet(const char *body)
{
    char frame[8192];
    uint8_t sum = 0;
    for (const char *p = body; *p; p++) {
        sum += (uint8_t)*p;
    }
    int n = snprintf(frame, sizeof(frame), "$%s#%02x", body, sum);
    out_len = 0;
    out[0] = '\0';
    feed(frame, (size_t)n);
}

/* The body of the last packet the stub sent (checksum verified). */
static const char *last_reply(void)
{
    static char body[8192];
    char *start = strrchr(out, '$');
    ck_assert_msg(start != NULL, "no reply in '%s'", out);
    char *hash = strchr(start, '#');
    ck_assert_ptr_nonnull(hash);
    size_t len = (size_t)(hash - start - 1);
    memcpy(body, start + 1, len);
    body[len] = '\0';
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++) {
        sum += (uint8_t)body[i];
    }
    unsigned got;
    ck_assert_int_eq(sscanf(hash + 1, "%2x", &got), 1);
    ck_assert_uint_eq(got, sum);
    return body;
}

static void load_code(const uint8_t *code, size_t len)
{
    testvm_load(vm, TESTVM_CODE, code, len);
}

static void put32(uint32_t paddr, uint32_t v)
{
    memcpy(vm->phys.ram + paddr, &v, 4);
}

static uint32_t get32(uint32_t paddr)
{
    uint32_t v;
    memcpy(&v, vm->phys.ram + paddr, 4);
    return v;
}

/* Identity-map 0-4 MiB and map HI_LIN to HI_PHYS, then turn paging on. */
static void enable_paging(void)
{
    memset(vm->phys.ram + PD, 0, 3 * 4096);
    for (uint32_t i = 0; i < 1024; i++) {
        put32(PT0 + 4 * i, (i << 12) | 3);
    }
    put32(PD, PT0 | 3);
    put32(PD + (HI_LIN >> 22) * 4, PT_HI | 3);
    put32(PT_HI, HI_PHYS | 3); /* P|W, Accessed and Dirty clear */
    vm->cpu.cr3 = PD;
    vm->cpu.cr0 |= CR0_PG;
    cpu_update_mode(&vm->cpu);
    tlb_flush_all(&vm->cpu);
}

/* Run as the main loop would, until the stub stops the machine. */
static int run(uint64_t budget)
{
    int reason = gdbstub_exec(stub, budget);
    gdbstub_after_exec(stub, reason);
    return reason;
}

/* ---- framing ---- */

START_TEST(test_ack_and_nak)
{
    send_packet("?");
    ck_assert_msg(out[0] == '+', "good checksum acknowledged: '%s'", out);
    ck_assert_str_eq(last_reply(), "T05thread:1;");
    out_len = 0;
    feed("$?#00", 5); /* wrong checksum */
    ck_assert_str_eq(out, "-");
}
END_TEST

START_TEST(test_garbage_between_packets_is_dropped)
{
    out_len = 0;
    feed("xyz+}#41", 8);
    ck_assert_uint_eq(out_len, 0);
    send_packet("qC");
    ck_assert_str_eq(last_reply(), "QC1");
}
END_TEST

START_TEST(test_oversized_packet_is_refused)
{
    static char big[GDB_PACKET_MAX + 1000];
    memset(big, 'm', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    send_packet(big);
    ck_assert_str_eq(last_reply(), "E01");
    send_packet("?");
    ck_assert_str_eq(last_reply(), "T05thread:1;");
}
END_TEST

START_TEST(test_no_ack_mode)
{
    send_packet("QStartNoAckMode");
    ck_assert_str_eq(last_reply(), "OK");
    send_packet("qC");
    ck_assert_msg(out[0] == '$', "no '+' after QStartNoAckMode: '%s'", out);
}
END_TEST

START_TEST(test_unknown_and_malformed_packets)
{
    send_packet("Qfrobnicate");
    ck_assert_str_eq(last_reply(), "");
    send_packet("mzz,4");
    ck_assert_str_eq(last_reply(), "E00");
    send_packet("Z9,1000,1");
    ck_assert_str_eq(last_reply(), "");
    send_packet("p999");
    ck_assert_str_eq(last_reply(), "E00");
    send_packet("M10000,2:zz");
    ck_assert_str_eq(last_reply(), "E00");
}
END_TEST

/* ---- queries ---- */

START_TEST(test_qsupported_and_target_description)
{
    send_packet("qSupported:multiprocess+;swbreak+;xmlRegisters=i386");
    ck_assert_ptr_nonnull(strstr(last_reply(), "PacketSize=1000"));
    ck_assert_ptr_nonnull(strstr(last_reply(), "qXfer:features:read+"));
    /* Read the description in small pieces: 'm' until the last, 'l'. */
    char xml[16384] = "";
    for (unsigned offset = 0;;) {
        char req[64];
        snprintf(req, sizeof(req), "qXfer:features:read:target.xml:%x,100", offset);
        send_packet(req);
        const char *r = last_reply();
        ck_assert(r[0] == 'm' || r[0] == 'l');
        strcat(xml, r + 1);
        offset += (unsigned)strlen(r + 1);
        if (r[0] == 'l') {
            break;
        }
        ck_assert_uint_lt(offset, sizeof(xml) - 512);
    }
    ck_assert_ptr_nonnull(strstr(xml, "<feature name=\"org.gnu.gdb.i386.core\">"));
    ck_assert_ptr_nonnull(strstr(xml, "<reg name=\"cr3\""));
    ck_assert_ptr_nonnull(strstr(xml, "</target>"));
    send_packet("qXfer:features:read:other.xml:0,100");
    ck_assert_str_eq(last_reply(), "E00");
}
END_TEST

/* ---- registers ---- */

START_TEST(test_read_registers)
{
    vm->cpu.regs[R_EAX] = 0x11223344;
    vm->cpu.regs[R_EDI] = 0xa0b0c0d0;
    send_packet("g");
    const char *r = last_reply();
    ck_assert(strncmp(r, "44332211", 8) == 0);          /* eax, little endian */
    ck_assert(strncmp(r + 7 * 8, "d0c0b0a0", 8) == 0);  /* edi */
    ck_assert(strncmp(r + 8 * 8, "00000100", 8) == 0);  /* eip = 10000h */
    ck_assert(strncmp(r + 10 * 8, "08000000", 8) == 0); /* cs = 08h */
    ck_assert(strncmp(r + 11 * 8, "10000000", 8) == 0); /* ss = 10h */
    send_packet("p20");                                 /* cr0, the first system register */
    ck_assert_str_eq(last_reply(), "11000060");         /* ET, NW, CD after reset, and PE */
}
END_TEST

START_TEST(test_write_registers)
{
    send_packet("P0=78563412");
    ck_assert_str_eq(last_reply(), "OK");
    ck_assert_uint_eq(vm->cpu.regs[R_EAX], 0x12345678);
    send_packet("p0");
    ck_assert_str_eq(last_reply(), "78563412");
    send_packet("P8=20000100"); /* eip */
    ck_assert_str_eq(last_reply(), "OK");
    ck_assert_uint_eq(vm->cpu.eip, 0x10020);
    /* A selector past the GDT limit has no descriptor: refused. */
    send_packet("Pc=00100000"); /* ds := 1000h */
    ck_assert_str_eq(last_reply(), "E01");
    ck_assert_uint_eq(vm->cpu.seg[SEG_DS].selector, 0x10);
    /* CR0.PG without PE is #GP on MOV CR0 (SDM Vol.3 2.5): refused too. */
    send_packet("P20=00000080");
    ck_assert_str_eq(last_reply(), "E01");
    ck_assert(vm->cpu.cr0 & CR0_PE);
    /* Under PAE paging a CR3 whose PDPT has a present PDPTE with reserved
     * bits is #GP on MOV CR3 (SDM Vol.3 4.4.1): refused, nothing changed. */
    vm->cpu.cr4 |= CR4_PAE;
    vm->cpu.cr0 |= CR0_PG;
    uint32_t pdpt = 0x24000u, old_cr3 = vm->cpu.cr3;
    phys_write(&vm->phys, pdpt, 0x25000u | 1 | 2, 4); /* P and reserved bit 1 */
    send_packet("P22=00400200"); /* cr3 := 24000h */
    ck_assert_str_eq(last_reply(), "E01");
    ck_assert_uint_eq(vm->cpu.cr3, old_cr3);
    phys_write(&vm->phys, pdpt, 0x25000u | 1, 4);
    send_packet("P22=00400200");
    ck_assert_str_eq(last_reply(), "OK");
    ck_assert_uint_eq(vm->cpu.cr3, pdpt);
    ck_assert_uint_eq(vm->cpu.pdpte[0], 0x25001u);
}
END_TEST

/* ---- memory ---- */

START_TEST(test_memory_through_paging_without_side_effects)
{
    enable_paging();
    put32(HI_PHYS, 0xdeadbeef);
    send_packet("m40000000,4");
    ck_assert_str_eq(last_reply(), "efbeadde");
    /* A debugger read is no access: the PTE's A bit stays clear (SDM 4.8). */
    ck_assert_uint_eq(get32(PT_HI), HI_PHYS | 3);
    send_packet("m50000000,4"); /* not mapped */
    ck_assert_str_eq(last_reply(), "E14");
    send_packet("M40000004,4:01020304");
    ck_assert_str_eq(last_reply(), "OK");
    ck_assert_uint_eq(get32(HI_PHYS + 4), 0x04030201);
    /* X: binary, with '}' escaping '#' (23h) and '}' (7Dh). */
    const char x[] = "$X40000008,2:}\x03}\x5d#";
    uint8_t sum = 0;
    for (size_t i = 1; i < sizeof(x) - 2; i++) {
        sum += (uint8_t)x[i];
    }
    char frame[64];
    int n = snprintf(frame, sizeof(frame), "%s%02x", x, sum);
    out_len = 0;
    feed(frame, (size_t)n);
    ck_assert_str_eq(last_reply(), "OK");
    ck_assert_uint_eq(vm->phys.ram[HI_PHYS + 8], 0x23);
    ck_assert_uint_eq(vm->phys.ram[HI_PHYS + 9], 0x7d);
}
END_TEST

/* ---- execution ---- */

static const uint8_t four_nops_hlt[] = {0x90, 0x90, 0x90, 0x90, 0xf4};

START_TEST(test_breakpoint_stops_before_the_instruction)
{
    load_code(four_nops_hlt, sizeof(four_nops_hlt));
    uint8_t before = vm->phys.ram[TESTVM_CODE + 2];
    send_packet("Z0,10002,1");
    ck_assert_str_eq(last_reply(), "OK");
    ck_assert_uint_eq(vm->phys.ram[TESTVM_CODE + 2], before); /* guest memory untouched */
    send_packet("c");
    ck_assert(!stopped);
    ck_assert_int_eq(run(100), CPU_EXIT_DEBUG);
    ck_assert(stopped);
    ck_assert_uint_eq(vm->cpu.eip, 0x10002);
    ck_assert_uint_eq(vm->cpu.icount, 2);
    ck_assert_str_eq(last_reply(), "T05thread:1;swbreak:;");
    /* Continuing runs the instruction under the breakpoint. */
    send_packet("c");
    ck_assert_int_eq(run(100), CPU_EXIT_HALT);
    ck_assert(!stopped);
    ck_assert_uint_eq(vm->cpu.eip, 0x10005);
}
END_TEST

START_TEST(test_hardware_breakpoint_reports_hwbreak)
{
    load_code(four_nops_hlt, sizeof(four_nops_hlt));
    send_packet("Z1,10003,1");
    send_packet("c");
    ck_assert_int_eq(run(100), CPU_EXIT_DEBUG);
    ck_assert_uint_eq(vm->cpu.eip, 0x10003);
    ck_assert_str_eq(last_reply(), "T05thread:1;hwbreak:;");
    send_packet("z1,10003,1");
    ck_assert_str_eq(last_reply(), "OK");
}
END_TEST

START_TEST(test_single_step_is_one_instruction)
{
    /* mov eax, 1; mov ebx, 2; jmp $ */
    static const uint8_t code[] = {0xb8, 1, 0, 0, 0, 0xbb, 2, 0, 0, 0, 0xeb, 0xfe};
    load_code(code, sizeof(code));
    uint32_t expect_eip[] = {0x10005, 0x1000a, 0x1000a, 0x1000a};
    for (int i = 0; i < 4; i++) {
        send_packet(i % 2 ? "vCont;s:1" : "s");
        ck_assert_int_eq(run(1000), CPU_EXIT_DEBUG);
        ck_assert_uint_eq(vm->cpu.eip, expect_eip[i]);
        ck_assert_uint_eq(vm->cpu.icount, (uint64_t)i + 1);
        ck_assert_str_eq(last_reply(), "T05thread:1;");
    }
    ck_assert_uint_eq(vm->cpu.regs[R_EBX], 2);
}
END_TEST

START_TEST(test_step_over_hlt_reports_at_once)
{
    load_code(four_nops_hlt + 3, 2); /* nop; hlt */
    send_packet("s");
    run(10);
    send_packet("s");
    ck_assert_int_eq(run(10), CPU_EXIT_HALT);
    ck_assert(stopped);
    ck_assert_uint_eq(vm->cpu.eip, 0x10002);
    ck_assert_str_eq(last_reply(), "T05thread:1;");
}
END_TEST

START_TEST(test_write_watchpoint)
{
    /* nop; mov [DATA], eax; nop; hlt */
    static const uint8_t code[] = {0x90, 0xa3, 0x00, 0x00, 0x03, 0x00, 0x90, 0xf4};
    load_code(code, sizeof(code));
    vm->cpu.regs[R_EAX] = 0x5a5a5a5a;
    uint32_t dr6 = vm->cpu.dr[6], dr7 = vm->cpu.dr[7];
    send_packet("Z2,30000,4");
    ck_assert_str_eq(last_reply(), "OK");
    send_packet("c");
    run(100);
    ck_assert(stopped);
    /* A watchpoint reports after the access: the store is done, EIP is past it. */
    ck_assert_str_eq(last_reply(), "T05thread:1;watch:30000;");
    ck_assert_uint_eq(vm->cpu.eip, 0x10006);
    ck_assert_uint_eq(get32(DATA), 0x5a5a5a5a);
    ck_assert_uint_eq(vm->cpu.dr[6], dr6); /* the guest sees nothing */
    ck_assert_uint_eq(vm->cpu.dr[7], dr7);
    send_packet("z2,30000,4");
    ck_assert_ptr_null(vm->cpu.watch);
}
END_TEST

START_TEST(test_read_watchpoint_ignores_writes)
{
    /* mov [DATA], eax; mov ebx, [DATA]; hlt */
    static const uint8_t code[] = {0xa3, 0x00, 0x00, 0x03, 0x00, 0x8b,
                                   0x1d, 0x00, 0x00, 0x03, 0x00, 0xf4};
    load_code(code, sizeof(code));
    send_packet("Z3,30002,2");
    send_packet("c");
    run(100);
    ck_assert(stopped);
    ck_assert_str_eq(last_reply(), "T05thread:1;rwatch:30002;");
    ck_assert_uint_eq(vm->cpu.eip, 0x1000b); /* after the read, not the write */
}
END_TEST

START_TEST(test_interrupt_stops_a_running_machine)
{
    send_packet("c");
    ck_assert(!stopped);
    out_len = 0;
    feed("\x03", 1);
    ck_assert(stopped);
    ck_assert_str_eq(last_reply(), "T02thread:1;");
}
END_TEST

/* ---- monitor, detach, observers ---- */

static void hex_of(const char *text, char *hex)
{
    for (; *text; text++, hex += 2) {
        sprintf(hex, "%02x", (unsigned char)*text);
    }
}

START_TEST(test_monitor_command)
{
    vm->cpu.regs[R_EAX] = 0xfeedf00d;
    char packet[128] = "qRcmd,";
    hex_of("info registers", packet + strlen(packet));
    send_packet(packet);
    ck_assert_str_eq(last_reply(), "OK");
    /* The output came first, hex-encoded in 'O' packets. */
    char hex[64];
    hex_of("EAX=feedf00d", hex);
    ck_assert_msg(strstr(out, hex) != NULL, "no EAX in '%s'", out);
}
END_TEST

START_TEST(test_detach_removes_everything)
{
    enable_paging();
    send_packet("Z0,10002,1");
    send_packet("Z2,30000,4");
    ck_assert_ptr_nonnull(vm->cpu.watch);
    send_packet("D");
    ck_assert_str_eq(last_reply(), "OK");
    ck_assert(!stopped);
    ck_assert_ptr_null(vm->cpu.watch);
    ck_assert_ptr_null(vm->cpu.hooks.on_insn);
}
END_TEST

/* Found by fuzz.gdb: a stub freed with a watchpoint set left the CPU's
 * instruction hook on the freed stub, and the next run called into it. */
START_TEST(test_free_with_a_watchpoint_gives_the_hooks_back)
{
    enable_paging();
    send_packet("Z2,30000,4");
    ck_assert_ptr_nonnull(vm->cpu.hooks.on_insn);
    gdbstub_free(stub);
    ck_assert_ptr_null(vm->cpu.watch);
    ck_assert_ptr_null(vm->cpu.hooks.on_insn);
    ck_assert_ptr_null(vm->cpu.hooks.observer);
    stub = gdbstub_new(&vm->cpu, &stopped); /* for teardown */
    gdbstub_attach_output(stub, collect, NULL);
}
END_TEST

static int observed;

static void count_insn(void *opaque, CPUState *cpu, const struct Insn *insn)
{
    (*(int *)opaque)++;
}

START_TEST(test_idle_stub_leaves_the_hook_alone)
{
    /* A stub made after a tracer chains to it and restores it. */
    gdbstub_free(stub);
    observed = 0;
    vm->cpu.hooks.observer = &observed;
    vm->cpu.hooks.on_insn = count_insn;
    stub = gdbstub_new(&vm->cpu, &stopped);
    gdbstub_attach_output(stub, collect, NULL);
    load_code(four_nops_hlt, sizeof(four_nops_hlt));
    ck_assert_ptr_eq(vm->cpu.hooks.on_insn, count_insn);
    send_packet("Z0,10003,1");
    ck_assert_ptr_ne(vm->cpu.hooks.on_insn, count_insn);
    send_packet("c");
    run(100);
    ck_assert_int_eq(observed, 3); /* the tracer saw the three that ran */
    send_packet("z0,10003,1");
    ck_assert_ptr_eq(vm->cpu.hooks.on_insn, count_insn);
    ck_assert_ptr_eq(vm->cpu.hooks.observer, &observed);
}
END_TEST

static Suite *gdbstub_suite(void)
{
    Suite *s = suite_create("gdbstub");
    TCase *tc = tcase_create("protocol");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_ack_and_nak);
    tcase_add_test(tc, test_free_with_a_watchpoint_gives_the_hooks_back);
    tcase_add_test(tc, test_garbage_between_packets_is_dropped);
    tcase_add_test(tc, test_oversized_packet_is_refused);
    tcase_add_test(tc, test_no_ack_mode);
    tcase_add_test(tc, test_unknown_and_malformed_packets);
    tcase_add_test(tc, test_qsupported_and_target_description);
    tcase_add_test(tc, test_read_registers);
    tcase_add_test(tc, test_write_registers);
    tcase_add_test(tc, test_memory_through_paging_without_side_effects);
    tcase_add_test(tc, test_breakpoint_stops_before_the_instruction);
    tcase_add_test(tc, test_hardware_breakpoint_reports_hwbreak);
    tcase_add_test(tc, test_single_step_is_one_instruction);
    tcase_add_test(tc, test_step_over_hlt_reports_at_once);
    tcase_add_test(tc, test_write_watchpoint);
    tcase_add_test(tc, test_read_watchpoint_ignores_writes);
    tcase_add_test(tc, test_interrupt_stops_a_running_machine);
    tcase_add_test(tc, test_monitor_command);
    tcase_add_test(tc, test_detach_removes_everything);
    tcase_add_test(tc, test_idle_stub_leaves_the_hook_alone);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(gdbstub_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
