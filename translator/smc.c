/*
 * Self-modifying code: blocks by physical page, and their invalidation.
 *
 * Translating a block marks its page as code (PhysMem.code_pages), which
 * gives the page's TLB write tags the TLB_CODE flag: every write to it, by
 * the CPU or by DMA, goes through phys_write() and the code-write
 * listeners (softmmu/phys.h), bt_code_written() among them.  It drops all the
 * page's blocks, as the icache drops its decoded instructions, and the
 * page takes fast writes again until code is translated from it once more.
 *
 * A dropped block cannot be freed (code may still be running in it: the
 * block whose store got here, or a block a callout returns into), so it is
 * disabled instead: its entry becomes a jump to a stub that leaves to the
 * run loop, the jumps chained into it are unpatched, and it leaves the
 * lookup table.  The callout that made the write sees tb->invalid and
 * leaves after its instruction (translator/helpers.c).
 */
#include <stdlib.h>
#include <string.h>

#include "softmmu/mmu.h"
#include "softmmu/phys.h"
#include "translator/bt_internal.h"

void bt_smc_init(BT *bt)
{
    PhysMem *pm = bt->cpu->phys;
    bt->npages = pm ? pm->ram_size >> 12 : 0;
    bt->page_tbs = calloc(bt->npages ? bt->npages : 1, sizeof(TB *));
}

void bt_smc_destroy(BT *bt)
{
    free(bt->page_tbs);
}

void bt_smc_reset(BT *bt)
{
    memset(bt->page_tbs, 0, sizeof(TB *) * (bt->npages ? bt->npages : 1));
}

static void mark_code_page(BT *bt, uint32_t page)
{
    PhysMem *pm = bt->cpu->phys;
    if (!pm->code_pages[page]) {
        pm->code_pages[page] = 1;
        tlb_flush_phys_page(bt->cpu, page << 12); /* refill write tags with TLB_CODE */
    }
}

/* A block is on its first page's list through page_next and, when its
 * instruction straddles into another physical page, on that page's list
 * through page2_next (translator/straddle.c). */
void bt_smc_register(BT *bt, TB *tb)
{
    uint32_t page = tb->phys_pc >> 12;
    tb->page_next = bt->page_tbs[page];
    bt->page_tbs[page] = tb;
    mark_code_page(bt, page);
    uint32_t page2 = tb->phys2 >> 12;
    if (tb->phys2 != BT_NO_PAGE2 && page2 != page && page2 < bt->npages) {
        tb->page2_next = bt->page_tbs[page2];
        bt->page_tbs[page2] = tb;
        mark_code_page(bt, page2);
    }
}

/* Undo every jump chained into tb: rel32 0 falls into the exit path. */
static void unchain_incoming(BT *bt, TB *tb)
{
    for (BTExit *x = tb->incoming; x; x = x->next_in) {
        memset(x->patch, 0, 4);
        if (x->phys_patch) {
            memset(x->phys_patch, 0xff, 4);
        }
        x->chained = false;
    }
    tb->incoming = NULL;
}

void bt_tb_invalidate(BT *bt, TB *tb)
{
    if (tb->invalid) {
        return;
    }
    tb->invalid = true;
    bt_tb_remove(bt, tb);
    unchain_incoming(bt, tb);
    /* jmp exit_invalid over the entry check (10 bytes long, translator/gen.c). */
    uint8_t *entry = bt_to_rw(bt, tb->code);
    entry[0] = OPC_JMP_Jz;
    emit_patch_rel32(entry + 1, bt->rx_delta, tb->exit_invalid);
    bt->stats.invalidations++;
    bt->cpu->bt_ic_gen++; /* inline caches may point at it (gen_ic.c) */
}

void bt_invalidate_page(BT *bt, uint32_t page)
{
    if (page >= bt->npages) {
        return;
    }
    TB *tb = bt->page_tbs[page];
    bt->page_tbs[page] = NULL;
    while (tb) {
        TB *next = (tb->phys_pc >> 12) == page ? tb->page_next : tb->page2_next;
        bt_tb_invalidate(bt, tb);
        tb = next;
    }
}

void bt_code_written(void *opaque, uint32_t paddr, int size)
{
    BT *bt = opaque;
    uint32_t first = paddr >> 12, last = (paddr + (uint32_t)size - 1) >> 12;
    for (uint32_t page = first; page <= last; page++) {
        bt_invalidate_page(bt, page);
    }
}
