/*
 * Disassembly of guest and host code for people: the lockstep checker's
 * report of a block that differs, and `-d out_asm` (QEMU's category: the
 * host code of each block as it is translated).
 */
#include <capstone/capstone.h>

#include "translator/bt_internal.h"

void bt_disassemble(FILE *f, bool host, const uint8_t *code, size_t len, uint64_t addr)
{
    csh cs;
    if (cs_open(CS_ARCH_X86, host ? CS_MODE_64 : CS_MODE_32, &cs) != CS_ERR_OK) {
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
    fprintf(f, "OUT: block at %08x (phys %08x): %u guest instructions, %u bytes -> %u host bytes\n",
            tb->eip, tb->phys_pc, tb->ninsns, tb->guest_bytes, tb->code_size);
    fprintf(f, "  guest code:\n");
    bt_disassemble(f, false, guest, tb->guest_bytes, tb->eip);
    fprintf(f, "  host code:\n");
    bt_disassemble(f, true, tb->code, tb->code_size, (uint64_t)(uintptr_t)tb->code);
}
