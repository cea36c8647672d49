/*
 * The MMU slow path: everything the inline TLB check in cpu/mem.h refuses.
 *
 * A miss walks the page tables (paging.c) and fills the entry.  Each access
 * kind has its own tag, and a fill grants only what the walk checked:
 *   read walk  -> READ;
 *   fetch walk -> FETCH and READ (a fetch is checked as a read, and under
 *                 PAE with NXE against XD too: only fetch walks fill
 *                 FETCH, so a read never grants execution);
 *   write walk -> WRITE and READ (write rights imply read rights, and the
 *                 walk has just set the Dirty bit).
 * A read walk never fills WRITE, so the first write to a page always walks
 * and sets D as the hardware does (SDM Vol.3 4.8).
 *
 * The tag's flag bits say how an access must be done once translated:
 * TLB_MMIO (MMIO, unclaimed, partly shadowed or ROM-for-writes pages) and
 * TLB_CODE (RAM holding translated code) go through phys_read()/phys_write(),
 * which dispatch devices, drop ROM writes and call the code-write hook.
 * Plain RAM and VRAM pages are marked dirty when their WRITE tag is filled,
 * since later writes through the inline path do not mark them; whoever
 * clears a dirty byte (RAM's dirty_pages or a VRAM region's) or sets a
 * code_pages byte must call tlb_flush_phys_page().
 *
 * Page-crossing accesses translate both pages before touching either, so
 * a crossing write that faults on the second page stores nothing, and CR2 is
 * the first byte of the page that faulted.
 *
 * Data breakpoints (SDM Vol.3 17.2): a page holding an enabled data
 * breakpoint gets no READ or WRITE tag, so each data access to it comes here
 * and is matched against DR0-DR3 after it succeeds.  The debugger's own
 * watchpoints (cpu->watch) ride on the same mechanism without touching DR6.
 */
#include <string.h>

#include "cpu/cpu.h"
#include "softmmu/mmu.h"
#include "softmmu/phys.h"

#define MMU_PAGE_SIZE   0x1000u
#define MMU_PAGE_OFFSET 0xfffu
/* Tag flags that force the access through phys_read()/phys_write(). */
#define TLB_SLOW_FLAGS (TLB_MMIO | TLB_CODE | TLB_PTWATCH)
#define MMU_PHYS_TOP   0xffffffffull /* the last byte of popek's physical address space */

/* A physical access in the slow path.  Above 4 GiB (a PAE frame beyond
 * what popek's bus decodes) nothing answers: reads are all ones, writes
 * vanish.  An 8-byte access reaches the bus as two 4-byte ones, low
 * first, as a 32-bit bus does it. */
static uint64_t mmu_phys_read(PhysMem *pm, uint64_t phys, int size)
{
    if (size == 8) {
        return mmu_phys_read(pm, phys, 4) | mmu_phys_read(pm, phys + 4, 4) << 32;
    }
    if (phys > MMU_PHYS_TOP) {
        return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    }
    return phys_read(pm, (uint32_t)phys, size);
}

static void mmu_phys_write(PhysMem *pm, uint64_t phys, uint64_t value, int size)
{
    if (size == 8) {
        mmu_phys_write(pm, phys, (uint32_t)value, 4);
        mmu_phys_write(pm, phys + 4, value >> 32, 4);
        return;
    }
    if (phys <= MMU_PHYS_TOP) {
        phys_write(pm, (uint32_t)phys, (uint32_t)value, size);
    }
}

static noreturn void mmu_page_fault(CPUState *cpu, uint64_t lin, uint32_t error_code)
{
    cpu->cr2 = lin;
    cpu_raise_exception_err(cpu, EXC_PF, error_code);
}

/* ---- data breakpoints (SDM Vol.3 17.2.4, 17.2.5) ---- */

/*
 * Whether DRi is an enabled data breakpoint (L or G set, R/W = 01 writes or
 * 11 reads and writes); if so its aligned address, length and whether reads
 * match.  LEN 10 is 8 bytes on the processors that define it.
 */
static bool mmu_data_bp(const CPUState *cpu, int i, uint64_t *addr, uint32_t *len, bool *on_read)
{
    static const uint8_t lengths[4] = {1, 2, 8, 4};
    uint32_t dr7 = (uint32_t)cpu->dr[7];
    uint32_t rw = (dr7 >> (16 + 4 * i)) & 3;
    if (!(dr7 & (3u << (2 * i))) || (rw != 1 && rw != 3)) {
        return false;
    }
    *len = lengths[(dr7 >> (18 + 4 * i)) & 3];
    /* The address is aligned down to the length (SDM 17.2.5); outside
     * 64-bit mode only its low 32 bits count. */
    uint64_t dr = (cpu->hflags & HF_CS64) ? cpu->dr[i] : (uint32_t)cpu->dr[i];
    *addr = dr & ~(uint64_t)(*len - 1);
    *on_read = rw == 3;
    return true;
}

/* Whether a debugger watchpoint covers any byte of the page at lin_page. */
static bool mmu_watch_on_page(const MMUWatchList *wl, uint64_t lin_page)
{
    for (int i = 0; i < wl->count; i++) {
        const MMUWatch *w = &wl->w[i];
        if (lin_page - w->lin < w->len || w->lin - lin_page < MMU_PAGE_SIZE) {
            return true;
        }
    }
    return false;
}

/* Record the first debugger watchpoint [lin, lin+size) hits. */
static void mmu_watch_check(CPUState *cpu, MMUWatchList *wl, uint64_t lin, uint32_t size,
                            bool write)
{
    unsigned kind = write ? MMU_WATCH_WRITE : MMU_WATCH_READ;
    for (int i = 0; i < wl->count && wl->hit < 0; i++) {
        const MMUWatch *w = &wl->w[i];
        if ((w->kind & kind) && (w->lin - lin < size || lin - w->lin < w->len)) {
            wl->hit = i;
            wl->hit_lin = (uint32_t)lin;
            wl->hit_write = write;
            cpu_set_interrupt(cpu, CPU_INTERRUPT_EXIT);
        }
    }
}

static bool mmu_data_bp_on_page(const CPUState *cpu, uint64_t lin_page)
{
    if (cpu->watch && mmu_watch_on_page(cpu->watch, lin_page)) {
        return true;
    }
    if (!(cpu->dr[7] & 0xffu)) {
        return false;
    }
    for (int i = 0; i < 4; i++) {
        uint64_t addr;
        uint32_t len;
        bool on_read;
        if (mmu_data_bp(cpu, i, &addr, &len, &on_read) && (addr & TLB_PAGE_MASK) == lin_page) {
            return true;
        }
    }
    return false;
}

/* Record the breakpoints [lin, lin+size) hits; #DB is raised after the insn. */
static void mmu_data_bp_check(CPUState *cpu, uint64_t lin, uint32_t size, bool write)
{
    if (cpu->watch) {
        mmu_watch_check(cpu, cpu->watch, lin, size, write);
    }
    if (!(cpu->dr[7] & 0xffu)) {
        return;
    }
    for (int i = 0; i < 4; i++) {
        uint64_t addr;
        uint32_t len;
        bool on_read;
        if (!mmu_data_bp(cpu, i, &addr, &len, &on_read) || (!write && !on_read)) {
            continue;
        }
        if (addr - lin < size || lin - addr < len) {
            cpu->pending_dr6 |= 1u << i;
        }
    }
}

/* ---- TLB fill ---- */

/* Whether e holds a valid tag for a page other than lin_page: what a
 * fill for lin_page evicts. */
static bool mmu_entry_holds_other_page(const TLBEntry *e, uint64_t lin_page)
{
    for (int k = 0; k < 3; k++) {
        uint64_t tag = e->tag[k];
        if (!(tag & TLB_INVALID) && (tag & TLB_PAGE_MASK) != lin_page) {
            return true;
        }
    }
    return false;
}

/* Whether e can take another tag for lin_page without dropping the others:
 * same physical page, same host mapping, and no tag for another page. */
static bool mmu_entry_compatible(const TLBEntry *e, uint64_t lin_page, uint64_t phys_page,
                                 uint64_t addend)
{
    return e->phys == (uint32_t)phys_page && e->phys_hi == (uint32_t)(phys_page >> 32) &&
           e->addend == addend && !mmu_entry_holds_other_page(e, lin_page);
}

/* The WRITE tag for a page writes may go straight to (RAM or a VRAM
 * region, phys_map_vram): only RAM holds translated code or paging
 * structures a TLB context depends on, whose writes take the slow path. */
static uint64_t mmu_writable_tag(PhysMem *pm, uint64_t lin_page, uint32_t phys_page)
{
    if (phys_page < pm->ram_size) {
        uint64_t flags = (pm->code_pages[phys_page >> 12] ? TLB_CODE : 0) |
                         (pm->pt_pages && pm->pt_pages[phys_page >> 12] ? TLB_PTWATCH : 0);
        if (flags) {
            return lin_page | flags;
        }
    }
    phys_mark_dirty(pm, phys_page);
    return lin_page;
}

/* The WRITE tag for a page whose host mapping is host (NULL: none). */
static uint64_t mmu_write_tag(PhysMem *pm, uint64_t lin_page, uint32_t phys_page,
                              const uint8_t *host, bool writable)
{
    if (!host || !writable) {
        return lin_page | TLB_MMIO;
    }
    return mmu_writable_tag(pm, lin_page, phys_page);
}

/*
 * Walk for lin (faulting on failure) and fill e.  Returns the tag this
 * access gets, even where it is not stored (data breakpoint pages).
 */
static uint64_t mmu_fill(CPUState *cpu, TLBEntry *e, uint64_t lin, int access, int mmu_idx)
{
    uint64_t phys;
    uint32_t pf_error, page_size;
    bool global;
    if (!paging_walk(cpu, lin, access, mmu_idx, true, &phys, &pf_error, &global, &page_size)) {
        mmu_page_fault(cpu, lin, pf_error);
    }
    cpu->tlb.ctx_stats.walks++;
    /* Before e is touched: watching a new paging-structure page drops the
     * entries that map it for writes, and e may be one. */
    if (!global && (cpu->cr0 & CR0_PG)) {
        tlb_ctx_note_walk(cpu);
    }
    PhysMem *pm = cpu->phys;
    uint64_t lin_page = lin & TLB_PAGE_MASK;
    uint64_t phys_page = phys & ~(uint64_t)MMU_PAGE_OFFSET;
    bool writable = false;
    uint8_t *host = phys_page <= MMU_PHYS_TOP
                        ? phys_host_ptr(pm, (uint32_t)phys_page, MMU_PAGE_SIZE, &writable)
                        : NULL;
    uint64_t addend = host ? (uint64_t)(uintptr_t)host - lin_page : 0;

    if (!mmu_entry_compatible(e, lin_page, phys_page, addend)) {
        if (mmu_entry_holds_other_page(e, lin_page)) {
            tlb_evict(cpu, mmu_idx, e);
        }
        e->tag[ACC_READ] = TLB_INVALID;
        e->tag[ACC_WRITE] = TLB_INVALID;
        e->tag[ACC_FETCH] = TLB_INVALID;
    }
    e->phys = (uint32_t)phys_page;
    e->phys_hi = (uint32_t)(phys_page >> 32);
    e->addend = addend;
    e->global = global;
    e->page_size = page_size;
    for (uint32_t k = 0; k < 4; k++) {
        e->frames[k] = k < cpu->tlb.walk_nframes ? cpu->tlb.walk_frames[k] : TLB_NO_FRAME;
    }
    uint32_t slot = tlb_slot(lin);
    cpu->tlb.used[mmu_idx][slot / 32] |= 1u << (slot % 32);
    if (!global) {
        cpu->tlb.nonglobal[mmu_idx][slot / 32] |= 1u << (slot % 32);
    }
    if (page_size > MMU_PAGE_SIZE) {
        tlb_note_large_page(cpu, lin, page_size);
    }

    uint64_t read_tag = host ? lin_page : (lin_page | TLB_MMIO);
    bool data_bp = mmu_data_bp_on_page(cpu, lin_page);
    switch (access) {
    case ACC_FETCH:
        e->tag[ACC_FETCH] = read_tag;
        if (!data_bp) {
            e->tag[ACC_READ] = read_tag;
        }
        return read_tag;
    case ACC_WRITE: {
        uint64_t write_tag = mmu_write_tag(pm, lin_page, (uint32_t)phys_page, host, writable);
        if (!data_bp) {
            e->tag[ACC_READ] = read_tag;
            e->tag[ACC_WRITE] = write_tag;
        }
        return write_tag;
    }
    default:
        if (!data_bp) {
            e->tag[ACC_READ] = read_tag;
        }
        return read_tag;
    }
}

/*
 * Translate lin for access, from the TLB or by a walk.  Returns the host
 * pointer when the access may go straight to memory, else NULL with the
 * physical address in *phys for phys_read()/phys_write().
 */
static uint8_t *mmu_translate(CPUState *cpu, uint64_t lin, int access, int mmu_idx, uint64_t *phys)
{
    TLBEntry *e = &cpu->tlb.e[mmu_idx][tlb_slot(lin)];
    uint64_t tag = e->tag[access];
    if ((tag & (TLB_PAGE_MASK | TLB_INVALID)) != (lin & TLB_PAGE_MASK)) {
        tag = tlb_victim_swap(cpu, mmu_idx, lin, access) ? e->tag[access]
                                                         : mmu_fill(cpu, e, lin, access, mmu_idx);
    }
    if ((tag & TLB_PTWATCH) && !cpu->phys->pt_pages[e->phys >> 12]) {
        /* No context depends on the page any more: fast writes again. */
        tag = mmu_writable_tag(cpu->phys, lin & TLB_PAGE_MASK, e->phys);
        e->tag[ACC_WRITE] = tag;
    }
    *phys = ((uint64_t)e->phys_hi << 32) | e->phys | (lin & MMU_PAGE_OFFSET);
    if (tag & TLB_SLOW_FLAGS) {
        return NULL;
    }
    return (uint8_t *)(uintptr_t)(lin + e->addend);
}

/* ---- accesses ---- */

static void mmu_read_part(PhysMem *pm, const uint8_t *host, uint64_t phys, uint8_t *out,
                          uint32_t len)
{
    if (host) {
        memcpy(out, host, len);
        return;
    }
    for (uint32_t i = 0; i < len; i++) {
        out[i] = (uint8_t)mmu_phys_read(pm, phys + i, 1);
    }
}

static void mmu_write_part(PhysMem *pm, uint8_t *host, uint64_t phys, const uint8_t *in,
                           uint32_t len)
{
    if (host) {
        memcpy(host, in, len);
        return;
    }
    for (uint32_t i = 0; i < len; i++) {
        mmu_phys_write(pm, phys + i, in[i], 1);
    }
}

uint64_t mmu_read_slow(CPUState *cpu, uint64_t lin, int size, int mmu_idx, int access)
{
    uint32_t first = MMU_PAGE_SIZE - (uint32_t)(lin & MMU_PAGE_OFFSET);
    uint64_t phys;
    uint64_t value = 0;
    if ((uint32_t)size <= first) {
        const uint8_t *host = mmu_translate(cpu, lin, access, mmu_idx, &phys);
        if (host) {
            memcpy(&value, host, (size_t)size);
        } else {
            value = mmu_phys_read(cpu->phys, phys, size);
        }
    } else {
        uint64_t phys2;
        const uint8_t *host = mmu_translate(cpu, lin, access, mmu_idx, &phys);
        const uint8_t *host2 = mmu_translate(cpu, lin + first, access, mmu_idx, &phys2);
        uint8_t bytes[8];
        mmu_read_part(cpu->phys, host, phys, bytes, first);
        mmu_read_part(cpu->phys, host2, phys2, bytes + first, (uint32_t)size - first);
        memcpy(&value, bytes, (size_t)size);
    }
    if (access == ACC_READ) {
        mmu_data_bp_check(cpu, lin, (uint32_t)size, false);
    }
    return value;
}

void mmu_write_slow(CPUState *cpu, uint64_t lin, int size, uint64_t value, int mmu_idx)
{
    uint32_t first = MMU_PAGE_SIZE - (uint32_t)(lin & MMU_PAGE_OFFSET);
    uint64_t phys;
    if ((uint32_t)size <= first) {
        uint8_t *host = mmu_translate(cpu, lin, ACC_WRITE, mmu_idx, &phys);
        if (host) {
            memcpy(host, &value, (size_t)size);
        } else {
            mmu_phys_write(cpu->phys, phys, value, size);
        }
    } else {
        uint64_t phys2;
        uint8_t *host = mmu_translate(cpu, lin, ACC_WRITE, mmu_idx, &phys);
        uint8_t *host2 = mmu_translate(cpu, lin + first, ACC_WRITE, mmu_idx, &phys2);
        uint8_t bytes[8];
        memcpy(bytes, &value, sizeof(bytes));
        mmu_write_part(cpu->phys, host, phys, bytes, first);
        mmu_write_part(cpu->phys, host2, phys2, bytes + first, (uint32_t)size - first);
    }
    mmu_data_bp_check(cpu, lin, (uint32_t)size, true);
}

void mmu_probe(CPUState *cpu, uint64_t lin, int size, int access, int mmu_idx)
{
    uint32_t remaining = size > 0 ? (uint32_t)size : 1;
    uint64_t phys;
    for (;;) {
        mmu_translate(cpu, lin, access, mmu_idx, &phys);
        uint32_t in_page = MMU_PAGE_SIZE - (uint32_t)(lin & MMU_PAGE_OFFSET);
        if (in_page >= remaining) {
            return;
        }
        remaining -= in_page;
        lin += in_page;
    }
}

const uint8_t *mmu_fetch_ptr(CPUState *cpu, uint64_t lin, int mmu_idx, uint32_t *avail)
{
    uint64_t phys;
    *avail = MMU_PAGE_SIZE - (uint32_t)(lin & MMU_PAGE_OFFSET);
    return mmu_translate(cpu, lin, ACC_FETCH, mmu_idx, &phys);
}

bool mmu_debug_translate(CPUState *cpu, uint64_t lin, uint32_t *phys)
{
    uint32_t pf_error, page_size;
    uint64_t phys64;
    bool global;
    if (!paging_walk(cpu, lin, ACC_READ, MMU_KERNEL, false, &phys64, &pf_error, &global,
                     &page_size) ||
        phys64 > MMU_PHYS_TOP) {
        return false;
    }
    *phys = (uint32_t)phys64;
    return true;
}
