/*
 * Disassembly of guest and host code for people: the lockstep checker's
 * report of a block that differs, and `-d out_asm` (QEMU's category: the
 * host code of each block as it is translated).
 */
#include <capstone/capstone.h>
#include <inttypes.h>

#include "translator/bt_internal.h"
#include "translator/disas.h"

void bt_disassemble(FILE *f, bool code64, const uint8_t *code, size_t len, uint64_t addr)
{
    csh cs;
    if (cs_open(CS_ARCH_X86, disas_cs_mode(code64 ? DECODE_64 : DECODE_32), &cs) != CS_ERR_OK) {
        return;
    }
    cs_insn *insn;
    size_t n = cs_disasm(cs, code, len, addr, 0, &insn);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "    %08llx  %-8s %s\n", (unsigned long long)insn[i].address, insn[i].mnemonic,
                insn[i].op_str);
    }
    if (n) {
        cs_free(insn, n);
    }
    cs_close(&cs);
}

void bt_set_out_asm(BT *bt, FILE *f)
{
    bt->out_asm = f;
}

void bt_dump_block(BT *bt, const TB *tb, const uint8_t *guest)
{
    FILE *f = bt->out_asm;
    fprintf(f,
            "OUT: block at %08" PRIx64
            " (phys %08x): %u guest instructions, %u bytes -> %u host bytes\n",
            tb->eip, tb->phys_pc, tb->ninsns, tb->guest_bytes, tb->code_size);
    fprintf(f, "  guest code:\n");
    bt_disassemble(f, (tb->key & KEY_CODE64) != 0, guest, tb->guest_bytes, tb->eip);
    fprintf(f, "  host code:\n");
    bt_disassemble(f, true, tb->code, tb->code_size, (uint64_t)(uintptr_t)tb->code);
}
