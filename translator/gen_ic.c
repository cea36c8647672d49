/*
 * Inline caches of indirect JMP and CALL (r/m32 in 32-bit blocks, r/m64 in
 * 64-bit ones): a jump through a table or a function pointer compares its
 * target with the site's last two before it looks in the jump cache.
 *
 * A site owns BT_IC_WAYS entries of the jump cache's layout
 * (BTJumpEntry), in a pool outside the code cache (the code cache is
 * mapped read-only for execution, and translated code fills the entries).
 * A hit needs what a jump-cache hit needs, checked the same way:
 *   - the tag, bt_jc_tag(key, target): the site's block key is a constant
 *     of the site, and the entries come from jump-cache hits under it, so a
 *     64-bit site never enters a compatibility-mode block or the reverse;
 *   - the target page's fetch tag and physical page in the block's TLB
 *     view (gen_jc_enter), so a CR3 write or INVLPG that remaps the target
 *     misses until the jump cache has the new block;
 *   - ic_gen equal to CPUState.bt_ic_gen, which every block invalidation
 *     bumps (smc.c): an entry filled before a write to code may point at a
 *     block that is gone, and finding the sites that hold one would cost a
 *     walk over all of them, while a miss costs one jump-cache lookup.
 * The CS base needs no check: the entries come from the jump cache while
 * this site's block ran, so they are blocks of its CS base, the only one
 * under which it runs (run.c clears the jump cache when the base changes).
 *
 * for each way (two ways may hold the same target, translated under two
 * CR3s, so a way that fails the validation tries the next):
 *     mov r10, key << 32 ; or r10, r14        (64-bit: key << 48 ; xor)
 *     mov r11, &site[way] ; cmp r10, [r11] ; jne next
 *     mov r9d, [r15+bt_ic_gen] ; cmp r9d, [r11+ic_gen] ; jne next
 *     lea r10d, [r14+cs_base]                 (64-bit: mov r10, r14)
 *     <the jump-cache entry's validation (gen_jc_enter), failing to next>
 *     add qword [r15+bt_ic_hits], 1 ; jmp [r11+code]
 *   next:
 * and after the last way, the miss:
 *     add qword [r15+bt_ic_misses], 1
 *     <the jump-cache lookup; its hit does gen_ic_fill before its jump>
 * A miss that the jump cache misses too leaves to the run loop, which
 * translates and puts the block in the jump cache; the site fills at its
 * next miss.
 */
#include <stddef.h>

#include "translator/gen.h"

_Static_assert(sizeof(BTJumpEntry) == 32, "gen_ic_probe steps by 32");
_Static_assert(offsetof(BTJumpEntry, ic_gen) == offsetof(BTJumpEntry, phys_page) + 4,
               "gen_ic_fill moves phys_page and ic_gen as one qword");

BTJumpEntry *gen_ic_site(Gen *g)
{
    BT *bt = g->bt;
    if (!bt->inline_cache || !bt->chain || bt->ic_used + BT_IC_WAYS > BT_IC_ENTRIES) {
        return NULL;
    }
    BTJumpEntry *site = &bt->ic[bt->ic_used];
    bt->ic_used += BT_IC_WAYS;
    for (int i = 0; i < BT_IC_WAYS; i++) {
        site[i] = (BTJumpEntry){.tag = ~0ull, .code = NULL, .phys_page = ~0u};
    }
    return site;
}

void gen_ic_probe(Gen *g, BTJumpEntry *site)
{
    Emit *e = &g->e;
    bool wide = (g->key & KEY_CODE64) != 0;
    HostRM r10 = hrm_reg(H_R10);
    uint8_t *next[4] = {NULL, NULL, NULL, NULL};
    for (int w = 0; w < BT_IC_WAYS; w++) {
        for (int i = 0; i < 4; i++) {
            if (next[i]) {
                emit_bind32(e, next[i]);
            }
        }
        emit_mov_r64_imm(e, H_R10, bt_jc_tag(g->key, 0));
        emit_rm(e, EMIT_W, wide ? OPC_XOR_EvGv : OPC_OR_EvGv, H_R14, &r10);
        emit_mov_r64_imm(e, H_R11, (uint64_t)(uintptr_t)&site[w]);
        HostRM way = hrm_mem(H_R11, (int32_t)offsetof(BTJumpEntry, tag));
        emit_rm(e, EMIT_W, OPC_CMP_GvEv, H_R10, &way); /* cmp r10, [r11] */
        next[0] = emit_jcc32(e, CC_NE, NULL);
        emit_load32(e, H_R9, H_R15, CPU_OFF(bt_ic_gen));
        HostRM gen = hrm_mem(H_R11, (int32_t)offsetof(BTJumpEntry, ic_gen));
        emit_rm(e, 0, OPC_CMP_GvEv, H_R9, &gen); /* cmp r9d, [r11+ic_gen] */
        next[1] = emit_jcc32(e, CC_NE, NULL);
        if (wide) {
            emit_mov_rr64(e, H_R10, H_R14);
        } else {
            HostRM lin = hrm_mem(H_R14, (int32_t)g->cs_base);
            emit_lea32(e, H_R10, &lin);
        }
        gen_jc_enter(g, false, NULL, &next[2], true);
    }
    for (int i = 0; i < 4; i++) {
        if (next[i]) {
            emit_bind32(e, next[i]);
        }
    }
    HostRM misses = hrm_mem(H_R15, CPU_OFF(bt_ic_misses));
    emit_alu64_imm(e, EXT_ADD, &misses, 1);
}

/*
 * A site whose target changes all the time (a bytecode interpreter's
 * dispatch, a call through a table of many) would refill at nearly every
 * call, for nothing.  So a site stops refilling after BT_IC_FILLS fills
 * within one invalidation epoch (bt_ic_gen) and keeps its last two, which
 * still hit when the target is one of them; the next invalidation, which
 * makes its entries stale anyway, lets it fill again.  The count and its
 * epoch live in way 0's spare words (pad[0], pad[1]).
 *     mov r9, site
 *     mov r10d, [r15+bt_ic_gen] ; cmp r10d, [r9+28] ; je counted
 *     mov [r9+28], r10d ; mov dword [r9+24], 0       ; a new epoch
 *   counted:
 *     add dword [r9+24], 1 ; cmp dword [r9+24], BT_IC_FILLS ; ja done
 *     mov r10, [r9] ; mov [r9+32], r10          ; way 0 to way 1: tag,
 *     mov r10, [r9+8] ; mov [r9+40], r10        ; code,
 *     mov r10, [r9+16] ; mov [r9+48], r10       ; phys_page and ic_gen
 *     mov r10, [r11] ; mov [r9], r10            ; the jump-cache entry to way 0
 *     mov r10, [r11+8] ; mov [r9+8], r10
 *     mov r10d, [r11+16] ; mov [r9+16], r10d
 *     mov r10d, [r15+bt_ic_gen] ; mov [r9+20], r10d
 *   done:
 */
#define BT_IC_FILLS 32

void gen_ic_fill(Gen *g, BTJumpEntry *site)
{
    Emit *e = &g->e;
    const int32_t way = (int32_t)sizeof(BTJumpEntry);
    const int32_t tag = (int32_t)offsetof(BTJumpEntry, tag);
    const int32_t code = (int32_t)offsetof(BTJumpEntry, code);
    const int32_t phys = (int32_t)offsetof(BTJumpEntry, phys_page);
    const int32_t fills = (int32_t)offsetof(BTJumpEntry, pad[0]);
    const int32_t epoch = (int32_t)offsetof(BTJumpEntry, pad[1]);
    emit_mov_r64_imm(e, H_R9, (uint64_t)(uintptr_t)site);
    emit_load32(e, H_R10, H_R15, CPU_OFF(bt_ic_gen));
    HostRM epoch_m = hrm_mem(H_R9, epoch), fills_m = hrm_mem(H_R9, fills);
    emit_rm(e, 0, OPC_CMP_GvEv, H_R10, &epoch_m); /* cmp r10d, [r9+epoch] */
    uint8_t *counted = emit_jcc8(e, CC_E);
    emit_store32(e, H_R9, epoch, H_R10);
    emit_store32_imm(e, H_R9, fills, 0);
    emit_bind8(e, counted);
    emit_alu32_imm(e, EXT_ADD, &fills_m, 1);
    emit_alu32_imm(e, EXT_CMP, &fills_m, BT_IC_FILLS);
    uint8_t *done = emit_jcc8(e, CC_A);
    for (int32_t off = tag; off <= phys; off += 8) {
        emit_load64(e, H_R10, H_R9, off);
        emit_store64(e, H_R9, way + off, H_R10);
    }
    emit_load64(e, H_R10, H_R11, tag);
    emit_store64(e, H_R9, tag, H_R10);
    emit_load64(e, H_R10, H_R11, code);
    emit_store64(e, H_R9, code, H_R10);
    emit_load32(e, H_R10, H_R11, phys);
    emit_store32(e, H_R9, phys, H_R10);
    emit_load32(e, H_R10, H_R15, CPU_OFF(bt_ic_gen));
    emit_store32(e, H_R9, (int32_t)offsetof(BTJumpEntry, ic_gen), H_R10);
    emit_bind8(e, done);
}
