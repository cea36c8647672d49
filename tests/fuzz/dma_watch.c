/*
 * The double-fetch watch (dma_watch.h).  Per RAM byte it keeps the number
 * of the access that last read it and of the one that last wrote it in
 * the current operation, and per access where it went; a page's numbers
 * are cleared the first time the operation touches it (page_epoch), so
 * starting an operation costs nothing and only pages DMA reaches are ever
 * touched.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/dma_watch.h"

#define WATCH_PAGE_SHIFT 12
#define WATCH_PAGE_SIZE  (1u << WATCH_PAGE_SHIFT)
/* Accesses of one operation whose place is remembered; later ones are
 * watched byte by byte but cannot be the first read of a report. */
#define WATCH_MAX_ACCESSES (1u << 16)

struct DmaWatch {
    PhysMem *pm;
    uint32_t ram_size;    /* bytes the arrays cover */
    uint32_t *page_epoch; /* per RAM page: the operation its numbers belong to */
    uint32_t *read_seq;   /* per RAM byte: the access that last read it (0: none) */
    uint32_t *write_seq;  /* per RAM byte: the access that last wrote it (0: none) */
    struct {
        uint32_t start, len;
    } * access;     /* where access n of the operation went (index n) */
    uint32_t epoch; /* the current operation, from 1 */
    uint32_t seq;   /* accesses in the current operation */
    bool paused;
    uint64_t rereads;
    uint64_t double_fetches;
    uint64_t bytes; /* RAM bytes devices read or wrote, ever */
    DmaWatchReportFn report;
    void *opaque;
};

static void watch_page(DmaWatch *w, uint32_t page)
{
    if (w->page_epoch[page] != w->epoch) {
        w->page_epoch[page] = w->epoch;
        memset(w->read_seq + ((size_t)page << WATCH_PAGE_SHIFT), 0, WATCH_PAGE_SIZE * 4);
        memset(w->write_seq + ((size_t)page << WATCH_PAGE_SHIFT), 0, WATCH_PAGE_SIZE * 4);
    }
}

/* Is [paddr, paddr+len) a read again of the structure access first read? */
static bool watch_same_structure(const DmaWatch *w, uint32_t first, uint32_t paddr, uint32_t len)
{
    if (first >= WATCH_MAX_ACCESSES) {
        return false;
    }
    uint32_t start = w->access[first].start;
    uint32_t size = w->access[first].len;
    return size <= DMA_WATCH_MAX_STRUCTURE && paddr >= start && len <= size &&
           paddr - start <= size - len;
}

static void watch_access(void *opaque, uint32_t paddr, uint32_t len, bool is_write)
{
    DmaWatch *w = opaque;
    if (w->paused || len == 0) {
        return;
    }
    uint32_t seq = ++w->seq;
    w->bytes += len;
    if (seq < WATCH_MAX_ACCESSES) {
        w->access[seq].start = paddr;
        w->access[seq].len = len;
    }
    bool reread = false;
    bool reported = false;
    for (uint32_t i = 0; i < len; i++) {
        uint32_t a = paddr + i;
        if ((i == 0) || (a & (WATCH_PAGE_SIZE - 1)) == 0) {
            watch_page(w, a >> WATCH_PAGE_SHIFT);
        }
        if (is_write) {
            w->write_seq[a] = seq;
            continue;
        }
        uint32_t first = w->read_seq[a];
        if (first && w->write_seq[a] > first && !reported &&
            watch_same_structure(w, first, paddr, len)) {
            DmaFetchReport r = {a, first, w->write_seq[a], seq, paddr, len};
            w->double_fetches++;
            reported = true;
            if (w->report) {
                w->report(w->opaque, &r);
            }
        } else if (first) {
            reread = true;
        }
        w->read_seq[a] = seq;
    }
    w->rereads += reread && !reported;
}

DmaWatch *dma_watch_new(PhysMem *pm, DmaWatchReportFn report, void *opaque)
{
    DmaWatch *w = calloc(1, sizeof(*w));
    size_t pages = pm->ram_size >> WATCH_PAGE_SHIFT;
    if (!w) {
        return NULL;
    }
    w->page_epoch = calloc(pages, sizeof(*w->page_epoch));
    w->read_seq = calloc(pm->ram_size, sizeof(*w->read_seq));
    w->write_seq = calloc(pm->ram_size, sizeof(*w->write_seq));
    w->access = calloc(WATCH_MAX_ACCESSES, sizeof(*w->access));
    if (!w->page_epoch || !w->read_seq || !w->write_seq || !w->access) {
        dma_watch_free(w);
        return NULL;
    }
    w->ram_size = pm->ram_size;
    w->report = report;
    w->opaque = opaque;
    dma_watch_attach(w, pm);
    return w;
}

void dma_watch_attach(DmaWatch *w, PhysMem *pm)
{
    if (pm->ram_size > w->ram_size) {
        abort(); /* the arrays would not cover it */
    }
    w->pm = pm;
    pm->access_observer = watch_access;
    pm->access_observer_opaque = w;
    dma_watch_begin(w);
}

void dma_watch_free(DmaWatch *w)
{
    if (!w) {
        return;
    }
    if (w->pm && w->pm->access_observer_opaque == w) {
        w->pm->access_observer = NULL;
        w->pm->access_observer_opaque = NULL;
    }
    free(w->page_epoch);
    free(w->read_seq);
    free(w->write_seq);
    free(w->access);
    free(w);
}

void dma_watch_begin(DmaWatch *w)
{
    w->epoch++;
    w->seq = 0;
}

void dma_watch_pause(DmaWatch *w, bool paused)
{
    w->paused = paused;
}

uint64_t dma_watch_rereads(const DmaWatch *w)
{
    return w->rereads;
}

uint64_t dma_watch_double_fetches(const DmaWatch *w)
{
    return w->double_fetches;
}

uint64_t dma_watch_bytes(const DmaWatch *w)
{
    return w->bytes;
}
