/*
 * libFuzzer harness: random bytes as guest code for the decoder and the
 * interpreter.  Nothing may crash, no sanitizer may report, and every guest
 * write must stay inside guest RAM (ASan would see one that does not).
 *
 * Input: byte 0 picks the mode (real, ring-0 or ring-3 flat protected mode),
 * byte 1 seeds the general registers; the rest is code at TESTVM_CODE.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cpu/decode.h"
#include "softmmu/mmu.h"
#include "tests/support/testvm.h"

#define FUZZ_RAM (4u << 20)
#define FUZZ_MAX_INSNS 2000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_decoder(const uint8_t *data, size_t size)
{
    Insn insn;
    for (size_t off = 0; off < size; off++) {
        int avail = (int)(size - off);
        decode_insn(&insn, data + off, avail, true);
        decode_insn(&insn, data + off, avail, false);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static TestVM *vm;
    if (size < 2) {
        return 0;
    }
    fuzz_decoder(data, size);
    if (!vm) {
        vm = testvm_new(FUZZ_RAM);
    }
    /* Fresh state: clear low RAM (tables, stacks, code) and reset the CPU. */
    memset(vm->phys.ram, 0, 0x40000);
    cpu_reset(&vm->cpu);
    size_t code_len = size - 2 > 0x20000 ? 0x20000 : size - 2;
    testvm_load(vm, TESTVM_CODE, data + 2, code_len);
    int mode = data[0] % 3;
    if (mode == 0) {
        /* real mode at 1000:0000 = TESTVM_CODE */
        seg_load_real(&vm->cpu, SEG_CS, TESTVM_CODE >> 4);
        vm->cpu.eip = 0;
        cpu_update_mode(&vm->cpu);
    } else {
        testvm_flat32(vm, mode == 1 ? 0 : 3, TESTVM_CODE);
    }
    for (int r = 0; r < 8; r++) {
        if (r != R_ESP) {
            vm->cpu.regs[r] = (uint32_t)data[1] * 0x01010101u * (uint32_t)(r + 1);
        }
    }
    testvm_run(vm, FUZZ_MAX_INSNS);
    return 0;
}
