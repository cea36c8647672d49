#!/usr/bin/env python3
"""Writes the seed corpus of the machine harness (fuzz_machine.c) into
corpus/machine/: one input per device path worth reaching from the start.

  tests/fuzz/machine_seeds.py [OUTDIR]

The inputs use absolute ports and addresses (range/region 0xFF), so they
mean the same whatever devices the board gains.  The operation encoding is
the one fuzz_machine.c's header comment gives."""
import os
import struct
import sys

ANY = 0xFF
SIZE = {1: 0, 2: 1, 4: 2}


class Seed:
    def __init__(self):
        self.b = bytearray()

    def outp(self, port, value, size=1):
        self.b += struct.pack("<BBHBI", 0, ANY, port, SIZE[size], value & 0xFFFFFFFF)

    def inp(self, port, size=1):
        self.b += struct.pack("<BBHB", 1, ANY, port, SIZE[size])

    def mmio_write(self, addr, value, size=4):
        self.b += struct.pack("<BBIBI", 2, ANY, addr, SIZE[size], value & 0xFFFFFFFF)

    def mmio_read(self, addr, size=4):
        self.b += struct.pack("<BBIB", 3, ANY, addr, SIZE[size])

    def ram(self, addr, data):
        for i in range(0, len(data), 255):
            chunk = data[i:i + 255]
            self.b += struct.pack("<B", 6) + (addr + i).to_bytes(3, "little") + bytes([len(chunk)]) + chunk

    def clock(self, amount, shift):
        self.b += struct.pack("<BHB", 8, amount, shift)

    def frame(self, nic, data):
        self.b += struct.pack("<BBH", 9, nic, len(data)) + data

    def host(self, what, arg):
        self.b += struct.pack("<BBB", 12, what, arg)

    def pio_repeat(self, port, size, count, write=False, value=0):
        self.b += struct.pack("<BBHBHB", 11, ANY, port, SIZE[size] | (0x80 if write else 0), count, value)

    def pci(self, devfn, reg, value, size=4):
        self.outp(0xCF8, 0x80000000 | devfn << 8 | (reg & 0xFC), 4)
        self.outp(0xCFC + (reg & 3), value, size)


def u32(*v):
    return b"".join(struct.pack("<I", x) for x in v)


IDE_DEVFN, VGA_DEVFN, E1000_DEVFN, VIRTIO_DEVFN = 0x09, 0x10, 0x18, 0x20
BM = 0xC000


def ide_read_dma():
    s = Seed()
    s.pci(IDE_DEVFN, 0x20, BM | 1)
    s.pci(IDE_DEVFN, 0x04, 0x5, 2)
    s.ram(0x1000, u32(0x2000, 0x80000000 | 1024))  # one PRD: 1 KiB, end of table
    s.outp(BM + 4, 0x1000, 4)
    s.outp(0x1F6, 0xE0)
    s.outp(0x1F2, 2)
    for port in (0x1F3, 0x1F4, 0x1F5):
        s.outp(port, 0)
    s.outp(0x1F7, 0xC8)  # READ DMA
    s.outp(BM, 0x09)  # start, to memory
    s.clock(0xFFFF, 8)
    s.inp(BM + 2)
    s.inp(0x1F7)
    s.outp(BM, 0)
    return s


def ide_atapi_read():
    s = Seed()
    s.outp(0x176, 0xA0)  # CD-ROM: secondary master
    # The first command reports the disc's arrival (UNIT ATTENTION); the second reads.
    for _ in range(2):
        s.outp(0x171, 0)  # PIO
        s.outp(0x174, 0x00)
        s.outp(0x175, 0x08)  # byte count 2048
        s.outp(0x177, 0xA0)  # PACKET
        s.clock(0x1000, 4)
        packet = bytes([0x28, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0])  # READ(10) LBA 1, 1 block
        for i in range(0, 12, 2):
            s.outp(0x170, packet[i] | packet[i + 1] << 8, 2)
        s.clock(0xFFFF, 8)
        s.inp(0x177)
    s.pio_repeat(0x170, 2, 1024)
    s.inp(0x177)
    return s


def e1000_tx_rx():
    s = Seed()
    base = 0xFEBC0000
    s.pci(E1000_DEVFN, 0x10, base)
    s.pci(E1000_DEVFN, 0x04, 0x6, 2)
    frame = bytes([0x52, 0x55, 0x0A, 0, 2, 2, 0x52, 0x54, 0, 0x12, 0x34, 0x56, 0x08, 0x00]) + bytes(range(46))
    s.ram(0x4000, frame)
    s.ram(0x3000, struct.pack("<QHBBBBH", 0x4000, len(frame), 0, 0x0B, 0, 0, 0))  # EOP|IFCS|RS
    s.mmio_write(base + 0x3800, 0x3000)  # TDBAL
    s.mmio_write(base + 0x3808, 128)  # TDLEN
    s.mmio_write(base + 0x0400, 0x0A)  # TCTL: EN|PSP
    s.mmio_write(base + 0x3818, 1)  # TDT
    s.mmio_read(base + 0x00C0)  # ICR
    rx = b"".join(struct.pack("<QQ", 0x6000 + 0x800 * i, 0) for i in range(8))
    s.ram(0x5000, rx)
    s.mmio_write(base + 0x2800, 0x5000)  # RDBAL
    s.mmio_write(base + 0x2808, 128)  # RDLEN
    s.mmio_write(base + 0x2818, 7)  # RDT
    s.mmio_write(base + 0x00D0, 0xFFFF)  # IMS
    s.mmio_write(base + 0x0100, 0x8002)  # RCTL: EN|BAM
    s.frame(0, bytes([0xFF] * 6) + bytes(range(6, 64)))
    s.clock(0xFFFF, 10)
    s.mmio_read(base + 0x00C0)
    return s


def virtio_net_queues():
    s = Seed()
    io = 0xC100
    s.pci(VIRTIO_DEVFN, 0x10, io | 1)
    s.pci(VIRTIO_DEVFN, 0x04, 0x5, 2)
    s.outp(io + 0x12, 0x03)  # ACKNOWLEDGE|DRIVER
    s.inp(io + 0x00, 4)  # host features
    s.outp(io + 0x04, 0, 4)  # guest features: none
    for q, pfn in ((0, 0x20), (1, 0x30)):
        s.outp(io + 0x0E, q, 2)
        s.inp(io + 0x0C, 2)
        s.outp(io + 0x08, pfn, 4)
    s.outp(io + 0x12, 0x07)  # DRIVER_OK
    # RX: one 2 KiB buffer, made available.
    s.ram(0x20000, struct.pack("<QIHH", 0x40000, 2048, 2, 0))  # WRITE
    s.ram(0x20000 + 16 * 256, struct.pack("<HHH", 0, 1, 0))
    s.outp(io + 0x10, 0, 2)
    s.frame(1, bytes([0x52, 0x54, 0, 0x12, 0x34, 0x57]) + bytes(range(6, 80)))
    # TX: header (10 bytes) and a frame, one descriptor.
    s.ram(0x50000, bytes(10) + bytes([0xFF] * 6) + bytes(range(6, 60)))
    s.ram(0x30000, struct.pack("<QIHH", 0x50000, 70, 0, 0))
    s.ram(0x30000 + 16 * 256, struct.pack("<HHH", 0, 1, 0))
    s.outp(io + 0x10, 1, 2)
    s.inp(io + 0x13)  # ISR
    return s


def vbe_mode_set():
    s = Seed()
    lfb = 0xFD000000
    s.pci(VGA_DEVFN, 0x10, lfb)
    s.pci(VGA_DEVFN, 0x04, 0x3, 2)
    for index, value in ((4, 0), (1, 640), (2, 480), (3, 32), (4, 0x41)):
        s.outp(0x1CE, index, 2)
        s.outp(0x1CF, value, 2)
    for i in range(16):
        s.mmio_write(lfb + 4 * 641 * i, 0x00FF8040 + i)
    s.host(4, 1)  # draw the frame
    s.outp(0x1CE, 4, 2)
    s.outp(0x1CF, 0, 2)  # back to VGA text
    s.mmio_write(0xB8000, 0x1F411F41)
    s.host(4, 0)
    return s


def floppy_read():
    s = Seed()
    # DMA channel 2: single, device to memory, 512 bytes at 0x8000.
    for port, value in ((0x0A, 0x06), (0x0C, 0), (0x0B, 0x46), (0x04, 0x00), (0x04, 0x80),
                        (0x81, 0x00), (0x05, 0xFF), (0x05, 0x01), (0x0A, 0x02)):
        s.outp(port, value)
    s.outp(0x3F2, 0x08)  # reset asserted, DMA on
    s.outp(0x3F2, 0x1C)  # motor A, DMA, out of reset
    for _ in range(4):
        s.outp(0x3F5, 0x08)  # SENSE INTERRUPT
        s.inp(0x3F5)
        s.inp(0x3F5)
    s.outp(0x3F7, 0)  # 500 kb/s
    for b in (0x03, 0xDF, 0x02):  # SPECIFY
        s.outp(0x3F5, b)
    for b in (0x07, 0x00):  # RECALIBRATE
        s.outp(0x3F5, b)
    s.clock(0xFFFF, 6)
    s.outp(0x3F5, 0x08)
    s.inp(0x3F5)
    s.inp(0x3F5)
    for b in (0xE6, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF):  # READ DATA C0 H0 S1
        s.outp(0x3F5, b)
    s.clock(0xFFFF, 6)
    for _ in range(7):
        s.inp(0x3F5)
    return s


def platform_timers():
    s = Seed()
    s.outp(0x43, 0x34)  # PIT channel 0, mode 2
    s.outp(0x40, 0x00)
    s.outp(0x40, 0x10)
    s.outp(0x70, 0x0B)
    s.outp(0x71, 0x42)  # RTC periodic interrupt on
    s.outp(0x70, 0x0A)
    s.outp(0x71, 0x26)
    s.outp(0x20, 0x11)  # 8259 init
    s.outp(0x21, 0x08)
    s.outp(0x21, 0x04)
    s.outp(0x21, 0x01)
    s.outp(0x21, 0x00)
    s.mmio_write(0xFEE000F0, 0x1FF)  # APIC software enable
    s.mmio_write(0xFEE003E0, 0x0B)  # divide by 1
    s.mmio_write(0xFEE00320, 0x20030)  # periodic, vector 0x30
    s.mmio_write(0xFEE00380, 1000)
    s.mmio_write(0xFEC00000, 0x10)  # I/O APIC redirection entry 0
    s.mmio_write(0xFEC00010, 0x31)
    s.outp(0x3FB, 0x80)  # UART: DLAB, divisor 1, 8N1, loopback, FIFO
    s.outp(0x3F8, 0x01)
    s.outp(0x3FB, 0x03)
    s.outp(0x3FC, 0x10)
    s.outp(0x3FA, 0x07)
    s.outp(0x3F9, 0x0F)
    for c in b"popek":
        s.outp(0x3F8, c)
    s.outp(0x64, 0xAE)  # i8042: keyboard on, echo
    s.outp(0x60, 0xEE)
    s.host(0, 0x1E)
    s.clock(0xFFFF, 12)
    for _ in range(4):
        s.inp(0x3F8)
        s.inp(0x60)
    s.outp(0x20, 0x0C)  # poll
    s.inp(0x20)
    s.inp(0x608, 4)  # ACPI PM timer
    s.outp(0xE9, 0x41)  # debug console
    return s


def fw_cfg_dma():
    s = Seed()
    # A DMA descriptor at 0x9000: control (select 0x0019 file dir | read), length, address (big endian).
    s.ram(0x9000, struct.pack(">IIQ", 0x0019 << 16 | 0x08 | 0x02, 64, 0xA000))
    s.outp(0x514, 0, 4)
    s.outp(0x518, 0x00900000, 4)  # big endian 0x9000
    s.outp(0x510, 0x0000, 2)  # signature, by port
    for _ in range(4):
        s.inp(0x511)
    return s


SEEDS = {
    "ide-read-dma": ide_read_dma,
    "ide-atapi-read": ide_atapi_read,
    "e1000-tx-rx": e1000_tx_rx,
    "virtio-net-queues": virtio_net_queues,
    "vbe-mode-set": vbe_mode_set,
    "floppy-read": floppy_read,
    "platform-timers": platform_timers,
    "fw-cfg-dma": fw_cfg_dma,
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "machine")
    os.makedirs(out, exist_ok=True)
    for name, make in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(make().b)


if __name__ == "__main__":
    main()
