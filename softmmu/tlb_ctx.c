/*
 * TLB contexts: MOV CR3 keeps the address space it leaves, so that a
 * switch back does not refill from page walks (issue 12, "the kernel
 * paths"; what PCIDs give hardware, for a guest that has none).
 *
 * The rule to keep.  Without PCIDs, MOV CR3 invalidates every non-global
 * TLB entry (SDM Vol.3 4.10.4.1), and guests count on it: Linux edits the
 * page tables of a process that is not running (reclaim, COW, munmap of
 * another mm, clearing Accessed bits for page aging) without INVLPG and
 * relies on the flush at the next switch.  A saved translation may only
 * come back if a walk now would give the same one: if no paging-structure
 * entry its walk read has changed since the walk.
 *
 * How that is known.  Every walk notes the page of each table it reads an
 * entry from (paging_note_table); a non-global fill adds those frames to
 * the running context's list and sets the context's bit in
 * PhysMem.pt_pages.  A page with any bit set gets TLB_PTWATCH in its write
 * tags (a page becoming watched drops the write tags filled before, saved
 * ones too), so every store to it, by the CPU, by DMA or by the walker's
 * own A/D updates, reaches phys_ram_store(), which calls tlb_ctx_pt_write()
 * before the bytes land.  It compares each entry the store touches, old
 * and new: if an entry that was present changes in any bit but an
 * Accessed or Dirty bit being set, every saved context with a bit on the
 * page is dropped, and the running one notes the page as stale: its
 * entries stay in force until INVLPG or MOV CR3, as on hardware, and the
 * save leaves out every entry whose walk read that page (TLBEntry.frames
 * names the tables each entry's walk read).  Why that is enough: an entry
 * a walk used was present then; while a bit is on its page every store to
 * it is compared, so the first store that makes it differ from what the
 * walk read, other than by setting A/D, changes a present entry and is
 * caught.  Setting A or D changes no translation: an entry filled without
 * D has no write tag and walks (setting D) at its first write, and one
 * with a write tag was filled with D set.  Clearing A or D is a change,
 * so a guest aging pages sees A set again after the switch, as after a
 * real flush.  So the walker's own A/D updates drop nothing.
 *
 * What is not tracked: under PAE paging the PDPTEs are registers loaded
 * at MOV CR3, so they are part of the key (CR3 and the four PDPTEs); a
 * paging structure outside plain RAM (ROM, MMIO: no store reaches it
 * through phys_ram_store), more than TLB_CTX_FRAMES frames or more than
 * TLB_CTX_STALE stale ones make the running context unsaveable.
 * Everything that changes how walks are done (CR0.PG/WP/PE,
 * CR4.PGE/PAE/PSE, EFER.NXE, MTRRs, A20, memory map changes, reset, the
 * debugger) calls tlb_flush_all(), which drops every context.  INVLPG
 * drops the page from the running TLB only: the saved contexts hold no
 * global entries, and their other entries are exact by the rule above, so
 * an INVLPG in another address space has nothing of theirs to invalidate
 * (SDM Vol.3 4.10.4.1: without PCIDs it invalidates the current mappings;
 * the saved ones were invalidated, architecturally, by the MOV CR3 that
 * saved them).  Physical-page flushes (SMC marking a code page, dirty
 * tracking) sweep the saved entries as the live ones.
 *
 * Costs: saving copies the running context's non-global entries (at most
 * TLB_CTX_ENTRIES), restoring copies them back; both visit only the slots
 * of TLB.nonglobal, as the CR3 flush does.  TLB.ctx_off turns it all off
 * (no tracking either).  Memory is fixed: TLB_CTX_COUNT contexts in
 * the TLB, one byte per RAM page.
 */
#include <string.h>

#include "cpu/cpu.h"
#include "softmmu/mmu.h"
#include "softmmu/paging_entry.h"
#include "softmmu/phys.h"

#define RUNNING_BIT (1u << TLB_CTX_RUNNING)

static void tlb_ctx_pt_write(void *opaque, uint32_t paddr, const uint8_t *src, uint8_t fill,
                             uint32_t len);

/* The pt_pages bits and the store listener belong to one CPU: the last
 * one initialised on the memory (a test may make a second).  Any other
 * keeps no contexts. */
static bool tlb_ctx_owner(const CPUState *cpu)
{
    return cpu->phys && cpu->phys->pt_pages && cpu->phys->pt_write_opaque == cpu;
}

void tlb_ctx_init(CPUState *cpu)
{
    PhysMem *pm = cpu->phys;
    if (pm && pm->pt_pages) {
        pm->pt_write = tlb_ctx_pt_write;
        pm->pt_write_opaque = cpu;
        memset(pm->pt_pages, 0, pm->ram_size >> 12);
    }
}

/* Drop saved context i and its bits on the frames it listed. */
static void tlb_ctx_drop(CPUState *cpu, int i)
{
    TLBContext *c = &cpu->tlb.ctx[i];
    if (!c->valid) {
        return;
    }
    for (uint32_t f = 0; f < c->nframes; f++) {
        cpu->phys->pt_pages[c->frames[f]] &= (uint8_t)~(1u << i);
    }
    c->valid = false;
    c->nframes = 0;
    c->nentries = 0;
}

/* The running context gives up its frames (not saved, or flushed). */
static void tlb_ctx_release_running(CPUState *cpu)
{
    TLB *t = &cpu->tlb;
    for (uint32_t f = 0; f < t->run_nframes; f++) {
        cpu->phys->pt_pages[t->run_frames[f]] &= (uint8_t)~RUNNING_BIT;
    }
    t->run_nframes = 0;
}

/* A fresh running context under the current CR3 (and PDPTEs). */
static void tlb_ctx_start_running(CPUState *cpu)
{
    TLB *t = &cpu->tlb;
    t->run_cr3 = cpu->cr3;
    memcpy(t->run_pdpte, cpu->pdpte, sizeof(t->run_pdpte));
    t->run_tainted = false;
    t->run_nstale = 0;
}

/* The running context cannot be tracked: it will not be saved. */
static void tlb_ctx_taint(CPUState *cpu)
{
    cpu->tlb.run_tainted = true;
    cpu->tlb.ctx_stats.tainted++;
}

void tlb_ctx_reset(CPUState *cpu)
{
    if (tlb_ctx_owner(cpu)) {
        for (int i = 0; i < TLB_CTX_COUNT; i++) {
            tlb_ctx_drop(cpu, i);
        }
        tlb_ctx_release_running(cpu);
    }
    tlb_ctx_start_running(cpu);
}

void tlb_ctx_note_walk(CPUState *cpu)
{
    TLB *t = &cpu->tlb;
    PhysMem *pm = cpu->phys;
    if (t->run_tainted || t->ctx_off) {
        return; /* will not be saved: nothing to track */
    }
    if (!tlb_ctx_owner(cpu) || t->walk_nframes > 4) {
        tlb_ctx_taint(cpu);
        return;
    }
    for (uint32_t i = 0; i < t->walk_nframes; i++) {
        uint32_t frame = t->walk_frames[i];
        if (!phys_ram_page(pm, frame << 12)) {
            tlb_ctx_taint(cpu); /* ROM, MMIO or nothing: stores there are not seen */
            return;
        }
        uint8_t bits = pm->pt_pages[frame];
        if (bits & RUNNING_BIT) {
            continue;
        }
        if (t->run_nframes == TLB_CTX_FRAMES) {
            tlb_ctx_taint(cpu);
            return;
        }
        t->run_frames[t->run_nframes++] = frame;
        pm->pt_pages[frame] = bits | RUNNING_BIT;
        if (!bits) {
            /* Write tags filled before lack TLB_PTWATCH: drop them. */
            tlb_flush_phys_page(cpu, frame << 12);
        }
    }
}

/* Whether a store that turns old into new may change a translation: the
 * entry was present and a bit changed other than A or D being set. */
static bool tlb_ctx_entry_changes(uint64_t old, uint64_t new)
{
    return (old & PTE_P) && ((old ^ new) & ~(new & (PTE_A | PTE_D)));
}

/*
 * A store changed an entry in the table at page, which the running context
 * walked through.  Its entries stay, stale, until INVLPG or MOV CR3 as on
 * hardware (code that edits the mapping of the page it runs from and then
 * runs INVLPG counts on that: tests/bt/test_bt_nx.c); the save leaves out
 * every entry walked through the page, so the context stays saveable.
 */
static void tlb_ctx_note_stale(CPUState *cpu, uint32_t page)
{
    TLB *t = &cpu->tlb;
    for (uint32_t i = 0; i < t->run_nstale; i++) {
        if (t->run_stale[i] == page) {
            return;
        }
    }
    if (t->run_nstale == TLB_CTX_STALE) {
        tlb_ctx_taint(cpu);
        return;
    }
    t->run_stale[t->run_nstale++] = page;
    t->ctx_stats.run_stale++;
}

/* Whether e's walk read a table a store changed since (see above). */
static bool tlb_ctx_walked_stale(const TLB *t, const TLBEntry *e)
{
    for (uint32_t i = 0; i < t->run_nstale; i++) {
        uint32_t page = t->run_stale[i];
        if (e->frames[0] == page || e->frames[1] == page || e->frames[2] == page ||
            e->frames[3] == page) {
            return true;
        }
    }
    return false;
}

static void tlb_ctx_pt_write(void *opaque, uint32_t paddr, const uint8_t *src, uint8_t fill,
                             uint32_t len)
{
    CPUState *cpu = opaque;
    PhysMem *pm = cpu->phys;
    uint32_t page = paddr >> 12;
    uint8_t bits = pm->pt_pages[page];
    /* Every context was filled under the paging mode in force now: a mode
     * change flushes them all.  PAE and 4-level entries are 8 bytes. */
    uint32_t esize = (cpu->cr4 & CR4_PAE) ? 8 : 4;
    uint32_t end = paddr + len;
    bool changes = false;
    for (uint32_t a = paddr & ~(esize - 1); a < end && !changes; a += esize) {
        uint64_t old = 0;
        memcpy(&old, pm->ram + a, esize);
        uint64_t new = old;
        uint8_t *bytes = (uint8_t *)&new; /* little-endian host, as the guest */
        for (uint32_t b = a < paddr ? paddr : a; b < a + esize && b < end; b++) {
            bytes[b - a] = src ? src[b - paddr] : fill;
        }
        changes = tlb_ctx_entry_changes(old, new);
    }
    if (!changes) {
        return;
    }
    for (int i = 0; i < TLB_CTX_COUNT; i++) {
        if (bits & (1u << i)) {
            tlb_ctx_drop(cpu, i);
            cpu->tlb.ctx_stats.dropped++;
        }
    }
    if ((bits & RUNNING_BIT) && !cpu->tlb.run_tainted) {
        tlb_ctx_note_stale(cpu, page);
    }
}

/* Whether any tag of e is valid, and the linear page of the first that is. */
static bool tlb_ctx_entry_valid(const TLBEntry *e, uint64_t *lin_page)
{
    for (int k = 0; k < 3; k++) {
        if (!(e->tag[k] & TLB_INVALID)) {
            *lin_page = e->tag[k] & TLB_PAGE_MASK;
            return true;
        }
    }
    return false;
}

/* Save the running context into a free or the oldest slot. */
static void tlb_ctx_save(CPUState *cpu)
{
    TLB *t = &cpu->tlb;
    int slot = 0;
    for (int i = 0; i < TLB_CTX_COUNT; i++) {
        if (!t->ctx[i].valid) {
            slot = i;
            break;
        }
        if (t->ctx[i].stamp < t->ctx[slot].stamp) {
            slot = i;
        }
    }
    if (t->ctx[slot].valid) {
        tlb_ctx_drop(cpu, slot);
        t->ctx_stats.replaced++;
    }
    TLBContext *c = &t->ctx[slot];
    uint32_t n = 0;
    for (int view = 0; view < MMU_COUNT && n < TLB_CTX_ENTRIES; view++) {
        for (uint32_t w = 0; w < TLB_SLOTS / 32 && n < TLB_CTX_ENTRIES; w++) {
            uint32_t used = t->nonglobal[view][w];
            while (used && n < TLB_CTX_ENTRIES) {
                uint32_t s = w * 32 + (uint32_t)__builtin_ctz(used);
                used &= used - 1;
                const TLBEntry *e = &t->e[view][s];
                uint64_t lin_page;
                if (!e->global && tlb_ctx_entry_valid(e, &lin_page) &&
                    !tlb_ctx_walked_stale(t, e)) {
                    c->e[n] = *e;
                    c->where[n] = (uint16_t)((uint32_t)view << (TLB_BITS + 1) | s);
                    n++;
                }
            }
        }
    }
    c->nentries = n;
    /* The running context's frames become this slot's. */
    uint8_t bit = (uint8_t)(1u << slot);
    for (uint32_t f = 0; f < t->run_nframes; f++) {
        uint8_t *b = &cpu->phys->pt_pages[t->run_frames[f]];
        *b = (uint8_t)((*b & ~RUNNING_BIT) | bit);
        c->frames[f] = t->run_frames[f];
    }
    c->nframes = t->run_nframes;
    t->run_nframes = 0;
    c->cr3 = t->run_cr3;
    memcpy(c->pdpte, t->run_pdpte, sizeof(c->pdpte));
    c->stamp = ++t->ctx_clock;
    c->valid = true;
    t->ctx_stats.saves++;
}

/* Put saved context i back as the running one. */
static void tlb_ctx_restore(CPUState *cpu, int i)
{
    TLB *t = &cpu->tlb;
    TLBContext *c = &t->ctx[i];
    for (uint32_t k = 0; k < c->nentries; k++) {
        const TLBEntry *src = &c->e[k];
        int view = c->where[k] >> (TLB_BITS + 1);
        uint32_t s = c->where[k] & (TLB_SLOTS - 1);
        TLBEntry *e = &t->e[view][s];
        uint64_t lin_page, other;
        /* A global entry kept the slot through the flush: it stays. */
        if (!tlb_ctx_entry_valid(src, &lin_page) || tlb_ctx_entry_valid(e, &other)) {
            continue;
        }
        *e = *src;
        t->used[view][s / 32] |= 1u << (s % 32);
        t->nonglobal[view][s / 32] |= 1u << (s % 32);
        if (e->page_size > 0x1000u) {
            tlb_note_large_page(cpu, lin_page, e->page_size);
        }
        t->ctx_stats.entries_restored++;
    }
    uint8_t bit = (uint8_t)(1u << i);
    for (uint32_t f = 0; f < c->nframes; f++) {
        uint8_t *b = &cpu->phys->pt_pages[c->frames[f]];
        *b = (uint8_t)((*b & ~bit) | RUNNING_BIT);
        t->run_frames[f] = c->frames[f];
    }
    t->run_nframes = c->nframes;
    c->valid = false;
    c->nframes = 0;
    c->nentries = 0;
    t->ctx_stats.restores++;
}

void tlb_switch_cr3(CPUState *cpu, uint64_t old_cr3, const uint64_t old_pdpte[4])
{
    TLB *t = &cpu->tlb;
    bool on = !t->ctx_off && tlb_ctx_owner(cpu) && (cpu->cr0 & CR0_PG);
    /* The TLB holds the running context's entries only if nothing moved
     * CR3 or the PDPTEs behind MOV CR3's back since it started (the
     * lockstep checker's snapshots do). */
    bool same = old_cr3 == t->run_cr3 && !memcmp(old_pdpte, t->run_pdpte, sizeof(t->run_pdpte));
    if (on && same && !t->run_tainted && t->run_nframes > 0) {
        tlb_ctx_save(cpu);
    } else if (tlb_ctx_owner(cpu)) {
        tlb_ctx_release_running(cpu);
    }
    tlb_flush_nonglobal(cpu);
    tlb_ctx_start_running(cpu);
    if (!on) {
        return;
    }
    for (int i = 0; i < TLB_CTX_COUNT; i++) {
        TLBContext *c = &t->ctx[i];
        if (c->valid && c->cr3 == cpu->cr3 && !memcmp(c->pdpte, cpu->pdpte, sizeof(c->pdpte))) {
            tlb_ctx_restore(cpu, i);
            return;
        }
    }
}

void tlb_ctx_flush_phys_page(CPUState *cpu, uint64_t phys_page)
{
    for (int i = 0; i < TLB_CTX_COUNT; i++) {
        TLBContext *c = &cpu->tlb.ctx[i];
        if (!c->valid) {
            continue;
        }
        for (uint32_t k = 0; k < c->nentries; k++) {
            TLBEntry *e = &c->e[k];
            if (e->phys == (uint32_t)phys_page && e->phys_hi == 0) {
                e->tag[ACC_READ] = TLB_INVALID;
                e->tag[ACC_WRITE] = TLB_INVALID;
                e->tag[ACC_FETCH] = TLB_INVALID;
            }
        }
    }
}
