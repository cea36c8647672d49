/*
 * The code cache: one region holding translated code and the data that
 * goes with it, blocks found by physical address, the jump cache, and
 * direct-jump chaining.
 *
 * W^X.  The region is a memfd mapped twice, once read/write and once
 * read/execute, so no page is ever writable and executable at the same
 * address; code is written through the first mapping and run from the
 * second (x86 keeps the two coherent: it snoops stores by physical
 * address).  Where memfd_create is missing the region is one RWX mapping.
 *
 * Layout.  The fixed stubs (translator/stubs.c) come first and survive
 * flushes.  Block code grows upward after them; block data (TB, exits,
 * callout descriptors) grows downward from the end.  When the two would
 * meet the whole cache is flushed: every block, the lookup table, the jump
 * cache and the per-page lists, as QEMU and Blink do.  Nothing is freed
 * piecemeal, so an invalidated block stays valid code until the flush
 * (its entry is patched to leave, translator/smc.c), which is what lets a
 * block that overwrote itself return from its callout safely.
 *
 * Lookup.  A block is found by the physical address of its first byte,
 * and must also match the EIP, CS base and mode key it was translated
 * under: its code has EIPs built in (return addresses, branch targets),
 * and one physical page can be mapped at several linear addresses (Linux
 * maps the vDSO at a different address in every process).
 *
 * Chaining.  A direct jump to the same guest page is patched into a jump
 * to its target block: a block that runs proves its page is mapped as it
 * was, so the target on that page is too.  A direct jump to another page
 * first re-checks the TLB's fetch tag and physical page of the target,
 * constants patched in with the jump.  Indirect jumps and returns use the
 * jump cache (EIP -> block), validated against the TLB the same way.  One
 * table serves 32-bit and 64-bit blocks: the tag (bt_jc_tag) carries the
 * mode, so a lookup never finds a block of another width, and neither
 * width's lookup code needs more than one compare for it.  A table per
 * width would cost a second 128 KiB and, in the 64-bit kernel's system
 * calls from compatibility mode, give each side half the reuse.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "softmmu/phys.h"
#include "translator/bt_internal.h"

static bool cache_map_dual(BT *bt, size_t size)
{
    int fd = memfd_create("popek-tb", MFD_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    if (ftruncate(fd, (off_t)size) != 0) {
        close(fd);
        return false;
    }
    void *rw = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (rw == MAP_FAILED) {
        close(fd);
        return false;
    }
    void *rx = mmap(NULL, size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    if (rx == MAP_FAILED) {
        munmap(rw, size);
        close(fd);
        return false;
    }
    bt->rw = rw;
    bt->rx = rx;
    bt->memfd = fd;
    return true;
}

static bool cache_map_single(BT *bt, size_t size)
{
    void *p =
        mmap(NULL, size, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return false;
    }
    bt->rw = bt->rx = p;
    bt->memfd = -1;
    return true;
}

bool bt_cache_init(BT *bt, size_t size)
{
    size = (size + 4095) & ~(size_t)4095;
    if (size < 4 * (BT_MAX_CODE + BT_MAX_DATA)) {
        size = 4 * (BT_MAX_CODE + BT_MAX_DATA);
    }
    if (!cache_map_dual(bt, size) && !cache_map_single(bt, size)) {
        return false;
    }
    bt->size = size;
    bt->rx_delta = bt->rx - bt->rw;
    bt->code_used = 0;
    bt->data_used = 0;
    bt->jc = aligned_alloc(64, sizeof(BTJumpEntry) * BT_JC_ENTRIES);
    if (!bt->jc) {
        return false;
    }
    bt->cpu->bt_jc = bt->jc;
    bt->ic = calloc(BT_IC_ENTRIES, sizeof(BTJumpEntry));
    if (!bt->ic) {
        return false;
    }
    bt_jc_clear(bt);
    return true;
}

void bt_cache_destroy(BT *bt)
{
    if (bt->rw) {
        munmap(bt->rw, bt->size);
        if (bt->rx != bt->rw) {
            munmap(bt->rx, bt->size);
        }
    }
    if (bt->memfd >= 0) {
        close(bt->memfd);
    }
    free(bt->jc);
    free(bt->ic);
}

void bt_jc_clear(BT *bt)
{
    cpu_ras_clear(bt->cpu->bt_ras); /* same reasons: code gone, or another CS base */
    for (uint32_t i = 0; i < BT_JC_ENTRIES; i++) {
        bt->jc[i].tag = ~0ull;
        bt->jc[i].code = NULL;
        bt->jc[i].phys_page = ~0u;
    }
}

void bt_flush(BT *bt)
{
    bt->code_used = bt->stubs_size;
    bt->data_used = 0;
    memset(bt->hash, 0, sizeof(bt->hash));
    bt_smc_reset(bt);
    bt_jc_clear(bt);
    bt->ic_used = 0; /* the sites went with their blocks */
    bt->cpu->bt_exit = NULL;
    bt->stats.flushes++;
    if (bt->check) {
        bt_check_resync(bt->check);
    }
}

bool bt_cache_reserve(BT *bt)
{
    if (bt->code_used + bt->data_used + BT_MAX_CODE + BT_MAX_DATA <= bt->size) {
        return true;
    }
    bt_flush(bt);
    return bt->code_used + BT_MAX_CODE + BT_MAX_DATA <= bt->size;
}

void *bt_data_alloc(BT *bt, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    bt->data_used += size;
    return bt->rw + bt->size - bt->data_used;
}

static uint32_t tb_hash(uint32_t phys_pc, uint32_t cs_base, uint32_t key)
{
    uint32_t h = phys_pc * 0x9e3779b1u ^ (cs_base + key) * 0x85ebca6bu;
    return (h ^ (h >> 15)) & ((1u << BT_HASH_BITS) - 1);
}

TB *bt_tb_lookup(BT *bt, uint32_t phys_pc, uint64_t eip, uint32_t cs_base, uint32_t key)
{
    for (TB *tb = bt->hash[tb_hash(phys_pc, cs_base, key)]; tb; tb = tb->hash_next) {
        if (tb->phys_pc == phys_pc && tb->eip == eip && tb->cs_base == cs_base && tb->key == key) {
            return tb;
        }
    }
    return NULL;
}

void bt_tb_insert(BT *bt, TB *tb)
{
    TB **head = &bt->hash[tb_hash(tb->phys_pc, tb->cs_base, tb->key)];
    tb->hash_next = *head;
    *head = tb;
}

void bt_tb_remove(BT *bt, TB *tb)
{
    for (TB **link = &bt->hash[tb_hash(tb->phys_pc, tb->cs_base, tb->key)]; *link;
         link = &(*link)->hash_next) {
        if (*link == tb) {
            *link = tb->hash_next;
            return;
        }
    }
}

void bt_jc_insert(BT *bt, TB *tb)
{
    if (!bt->chain) {
        return;
    }
    BTJumpEntry *j = &bt->jc[tb->eip & (BT_JC_ENTRIES - 1)];
    j->tag = bt_jc_tag(tb->key, tb->eip); /* both widths share the table */
    j->code = tb->code;
    j->phys_page = tb->phys_pc & TLB_PAGE_MASK;
}

void bt_chain(BT *bt, BTExit *exit, TB *tb)
{
    TB *from = exit->tb;
    if (!bt->chain || !exit->patch || exit->chained || from->invalid || tb->invalid ||
        exit->target_eip != tb->eip || from->key != tb->key || from->cs_base != tb->cs_base) {
        return;
    }
    if (!exit->phys_patch && ((from->phys_pc ^ tb->phys_pc) & TLB_PAGE_MASK)) {
        return; /* a same-page exit must land on the same physical page */
    }
    if (exit->phys_patch) {
        uint32_t page = tb->phys_pc & TLB_PAGE_MASK;
        memcpy(exit->phys_patch, &page, 4);
    }
    emit_patch_rel32(exit->patch, bt->rx_delta, tb->code);
    exit->chained = true;
    exit->next_in = tb->incoming;
    tb->incoming = exit;
    bt->stats.chains++;
}
