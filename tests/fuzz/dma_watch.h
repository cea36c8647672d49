/*
 * The device fuzzer's double-fetch check: a watch on every guest-RAM
 * access that goes through softmmu/phys.c by address (device DMA: nothing
 * runs on the CPU under the fuzzer), split into operations (one port or
 * MMIO access, one timer firing, one frame from the wire).
 *
 * Within one operation the guest cannot run, so a device that reads the
 * same bytes twice gets the same bytes, unless something wrote them in
 * between: then the second read could differ from the first.  It is a
 * double fetch when the second read is of the same guest structure: it
 * lies within one earlier read of at most DMA_WATCH_MAX_STRUCTURE bytes
 * (a descriptor, a ring index, a PRD entry, a command block) whose bytes
 * were written since.  The device then acts on two views of one
 * structure (a length checked in the first, used from the second), and
 * the watch reports it.  Re-reads with no write between (a ring index
 * polled again), and reads of other shapes over bytes written since (a
 * packet buffer the driver laid over a descriptor the device wrote back:
 * data, whatever it holds) are only counted.
 */
#ifndef TESTS_FUZZ_DMA_WATCH_H
#define TESTS_FUZZ_DMA_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "softmmu/phys.h"

typedef struct DmaWatch DmaWatch;

/* The largest read taken for one guest structure. */
#define DMA_WATCH_MAX_STRUCTURE 64

/* What a double fetch looked like: the byte read twice, and the accesses. */
typedef struct DmaFetchReport {
    uint32_t paddr;     /* first byte read again after a write */
    uint32_t first_seq; /* the accesses, numbered from 1 in the operation */
    uint32_t write_seq;
    uint32_t second_seq;
    uint32_t second_start, second_len; /* the second read */
} DmaFetchReport;

typedef void (*DmaWatchReportFn)(void *opaque, const DmaFetchReport *r);

/* Watch pm's RAM (installs pm->access_observer); report is called for
 * each double fetch found.  NULL when out of memory. */
DmaWatch *dma_watch_new(PhysMem *pm, DmaWatchReportFn report, void *opaque);
void dma_watch_free(DmaWatch *w);
/* Watch another PhysMem (a new board in place of the last) of at most the
 * first one's RAM size; what was seen before no longer counts. */
void dma_watch_attach(DmaWatch *w, PhysMem *pm);
/* A new operation starts: earlier accesses no longer count. */
void dma_watch_begin(DmaWatch *w);
/* Accesses the harness makes itself (storing the guest's bytes) are not
 * the devices': pause the watch around them. */
void dma_watch_pause(DmaWatch *w, bool paused);
/* Re-reads seen with no write between (harmless), and double fetches. */
uint64_t dma_watch_rereads(const DmaWatch *w);
uint64_t dma_watch_double_fetches(const DmaWatch *w);
/* RAM bytes the devices have read or written since the watch was made
 * (not counting paused stretches): a harness's measure of DMA work. */
uint64_t dma_watch_bytes(const DmaWatch *w);

#endif /* TESTS_FUZZ_DMA_WATCH_H */
