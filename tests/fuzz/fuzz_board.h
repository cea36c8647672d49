/*
 * The whole PC for device fuzzers: hw/pc/pc.c builds it from a PCConfig as
 * for a user, firmware-free (PCConfig.no_firmware), in deterministic time
 * (-icount 0: virtual time is what the harness says), with every device
 * popek has: two IDE disks and a CD-ROM on memory images, two floppies,
 * four COM ports, the debug console, SeaBIOS's log port, isa-debug-exit,
 * the VGA, an e1000 and a virtio-net-pci on the fuzzer's own netdevs.
 *
 * What the fuzzer may reach is read from the machine itself, never listed
 * here: the claimed I/O port ranges (IOPortMap.owner), the memory regions
 * (PhysMem.regions: ROM, MMIO, VRAM, wherever PCI BARs put them) and the
 * PCI functions answering on configuration mechanism #1.  A device added
 * to the board is fuzzed without a change to this file.
 *
 * The disks abort if a controller asks for a sector past their end, the
 * netdevs if a NIC sends a frame no wire carries.
 */
#ifndef TESTS_FUZZ_FUZZ_BOARD_H
#define TESTS_FUZZ_FUZZ_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/pc/pc.h"
#include "net/netdev.h"

#define FUZZ_BOARD_RAM             (8u << 20)
#define FUZZ_BOARD_NICS            2 /* card 0 an e1000, card 1 a virtio-net-pci */
#define FUZZ_BOARD_MAX_PORT_RANGES 256
#define FUZZ_BOARD_MAX_PCI         64

/* A run of ports with one owner (one ioport_register). */
typedef struct FuzzPortRange {
    uint16_t base;
    uint32_t count;
} FuzzPortRange;

/* A memory image under a drive: sectors as made, plus what was written. */
typedef struct FuzzDisk {
    uint8_t *data;
    uint8_t *written; /* one byte per sector: changed since the board's reset */
    uint64_t sectors;
    BlockDev blk;
} FuzzDisk;

typedef struct FuzzNetdev {
    Netdev *nd;
    bool can_receive;    /* the backend takes frames (else the net layer keeps one) */
    uint64_t bytes_sent; /* the NIC's frames, summed so ASan reads every byte */
} FuzzNetdev;

typedef struct FuzzBoard {
    PC pc;
    bool built;
    FuzzDisk disk[2];   /* -hda, -hdb */
    FuzzDisk cd;        /* -cdrom */
    FuzzDisk floppy[2]; /* -fda (1.44 MB), -fdb (720 KiB, write-protected) */
    CharBackend sink;   /* every COM port and debug port writes here */
    Net *net;
    FuzzNetdev netdev[FUZZ_BOARD_NICS];
    FuzzPortRange ports[FUZZ_BOARD_MAX_PORT_RANGES];
    int nports;
    bool ports_stale; /* the port map may have changed (PCI I/O BARs) */
    uint8_t pci_devfn[FUZZ_BOARD_MAX_PCI];
    int npci;
    uint64_t bytes_out; /* serial, debug console and frames sent: summed, so ASan reads them */
} FuzzBoard;

/* Build the machine (first call) or a fresh one in place of the last:
 * every input starts from the same power-on state. */
void fuzz_board_start(FuzzBoard *b);
void fuzz_board_stop(FuzzBoard *b);

/* The claimed port ranges, rebuilt if the map may have changed. */
int fuzz_board_port_ranges(FuzzBoard *b, const FuzzPortRange **ranges);
/* The index-th enabled memory region (ROM, MMIO, VRAM), modulo their
 * number; false if there is none. */
bool fuzz_board_region(FuzzBoard *b, uint32_t index, uint32_t *start, uint32_t *size);

/* Virtual time moves to now + ns; each timer deadline on the way is
 * served on its own (the guest would run between them).  before_each is
 * called before each batch of timers fires (the double-fetch watch). */
void fuzz_board_advance(FuzzBoard *b, uint64_t ns, void (*before_each)(void *), void *opaque);
/* Do what the main loop does with the guest's requests (reset, exit, INIT). */
void fuzz_board_serve_requests(FuzzBoard *b);

#endif /* TESTS_FUZZ_FUZZ_BOARD_H */
