/*
 * Assembling the PC: which devices, at which ports and IRQs, from the
 * PCConfig; firmware or a kernel in memory; reset.  The main loop that
 * runs it is hw/pc/main_loop.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bios/acpi.h"
#include "bios/firmware.h"
#include "bios/linux_boot.h"
#include "bios/vga_font.h"
#include "bios/mptable.h"
#include "cpu/cpu.h"
#include "hw/pc/pc.h"
#include "hw/pc/vmstate_pc.h"
#include "hw/acpi/acpi_pm.h"
#include "hw/block/fdc.h"
#include "hw/char/debugcon.h"
#include "hw/dma/i8257.h"
#include "hw/misc/debugexit.h"
#include "hw/misc/fw_cfg.h"
#include "hw/input/i8042.h"
#include "hw/core/irq.h"
#include "hw/pci/pam.h"
#include "hw/pci/pci.h"
#include "hw/intc/apic.h"
#include "hw/intc/ioapic.h"
#include "hw/intc/pic.h"
#include "hw/pci/piix.h"
#include "hw/ide/piix_ide.h"
#include "hw/timer/pit.h"
#include "hw/misc/port92.h"
#include "hw/net/e1000.h"
#include "hw/net/virtio_net.h"
#include "hw/virtio/virtio_blk.h"
#include "hw/timer/rtc.h"
#include "hw/char/uart.h"
#include "hw/display/vga.h"
#include "softmmu/mmu.h"
#include "translator/translator.h"

struct PCDevices {
    PICState *pic;
    APICState *apic;        /* the CPU's local APIC */
    IOAPICState *ioapic;
    IRQFanout pic_intr;     /* the 8259's INT: LINT0 and I/O APIC pin 0 */
    IRQFanout isa_fanout[16];
    IRQ isa_irq[16];        /* ISA IRQ n: the 8259's IRn and I/O APIC pin gsi(n) */
    PCIBus *pci;
    I440FXState *i440fx;
    PIIX3State *piix3;
    AcpiPMState *acpi;
    PITState *pit;
    RTCState *rtc;
    UARTState *com[PC_MAX_SERIALS]; /* COM1, COM2 always; COM3, COM4 when given */
    unsigned com_irq_levels;        /* each port's interrupt output, one bit per port */
    I8042State *kbd;
    Port92State *port92;
    DebugExitState *debug_exit;
    DebugconState *debugcon;
    DebugconState *bioslog; /* SeaBIOS's log port 0x402 */
    FWCfgState *fw_cfg;
    PAMState *pam;          /* NULL when no BIOS is mapped */
    PIIXIDEState *ide;
    I8257State *dma;        /* ISA DMA, channels 0-7 */
    FDCState *fdc;          /* 82077AA at 0x3F0, IRQ 6, DMA 2 */
    VGAState *vga;          /* stdvga at PCI 00:02.0 */
    E1000State *e1000[PC_MAX_NICS];         /* card i when it is an e1000 */
    VirtioNetState *virtio_net[PC_MAX_NICS]; /* card i when it is a virtio-net-pci */
    VirtioBlkState *virtio_blk[PC_MAX_VIRTIO_BLK]; /* in the slots after the cards */
};

/* The VGA's PCI slot, as in QEMU's i440FX machine; network cards follow,
 * then virtio-blk disks. */
#define VGA_PCI_SLOT 2
#define NIC_PCI_SLOT 3
/* Where firmware steers PIRQA-D (SeaBIOS's choice, so a guest sees the
 * same IRQs whether SeaBIOS or popek's direct boot set the board up). */
static const uint8_t pirq_isa_irq[4] = {10, 10, 11, 11};
/* Past this many bytes of framebuffer, one full TLB flush is cheaper than
 * a sweep per page (softmmu/tlb.c measures both). */
#define VGA_FLUSH_ALL_BYTES (16u * 4096)

/* The COM ports, as on PCs and in QEMU: COM3 shares IRQ4 with COM1 and
 * COM4 IRQ3 with COM2. */
static const struct {
    uint16_t base;
    int irq;
} com_ports[PC_MAX_SERIALS] = {{0x3f8, 4}, {0x2f8, 3}, {0x3e8, 4}, {0x2e8, 3}};

/* A COM port's interrupt output: the PIC pin sees the OR of the ports on
 * it, so one port lowering its line does not hide the other's request. */
static void com_irq_set(void *opaque, int port, int level)
{
    PC *pc = opaque;
    PCDevices *d = pc->dev;
    unsigned bit = 1u << port;
    d->com_irq_levels = level ? d->com_irq_levels | bit : d->com_irq_levels & ~bit;
    int pin = com_ports[port].irq;
    bool any = false;
    for (int i = 0; i < PC_MAX_SERIALS; i++) {
        any |= com_ports[i].irq == pin && (d->com_irq_levels & (1u << i));
    }
    irq_set_level(&d->isa_irq[pin], any); /* the 8259 and the I/O APIC */
}

static void cpu_intr_line(void *opaque, int n, int level)
{
    PC *pc = opaque;
    if (level) {
        cpu_set_interrupt(&pc->cpu, CPU_INTERRUPT_HARD);
    } else {
        cpu_clear_interrupt(&pc->cpu, CPU_INTERRUPT_HARD);
    }
}

static void cpu_nmi_line(void *opaque, int n, int level)
{
    PC *pc = opaque;
    if (level) {
        cpu_set_interrupt(&pc->cpu, CPU_INTERRUPT_NMI);
    }
}

/* INTA goes to the local APIC, which asks the 8259 for an ExtINT. */
static int cpu_irq_ack(void *opaque)
{
    PC *pc = opaque;
    int vector = apic_ack(pc->dev->apic);
    if (vector >= 0) {
        pc->irq_counts[vector & 0xff]++;
    }
    return vector;
}

static int64_t cpu_clock_ns(void *opaque)
{
    PC *pc = opaque;
    return timer_now(&pc->timers);
}

static bool cpu_msr_read(void *opaque, uint32_t index, uint64_t *value)
{
    PC *pc = opaque;
    switch (index) {
    case MSR_IA32_APIC_BASE: *value = apic_get_base(pc->dev->apic); return true;
    case MSR_IA32_TSC_DEADLINE: *value = apic_get_tsc_deadline(pc->dev->apic); return true;
    default: return false;
    }
}

static bool cpu_msr_write(void *opaque, uint32_t index, uint64_t value)
{
    PC *pc = opaque;
    switch (index) {
    case MSR_IA32_APIC_BASE: return apic_set_base(pc->dev->apic, value);
    case MSR_IA32_TSC_DEADLINE: apic_set_tsc_deadline(pc->dev->apic, value); return true;
    default: return false;
    }
}

/* CR8 is the APIC's task-priority class, TPR[7:4] (SDM Vol.3 10.8.6.1). */
static uint8_t cpu_cr8_read(void *opaque)
{
    PC *pc = opaque;
    return (uint8_t)(apic_read(pc->dev->apic, APIC_TPR) >> 4);
}

static void cpu_cr8_write(void *opaque, uint8_t cr8)
{
    PC *pc = opaque;
    apic_write(pc->dev->apic, APIC_TPR, (uint32_t)cr8 << 4);
}

/* ---- the local APIC's view of the board ---- */

static int apic_extint_ack(void *opaque)
{
    PC *pc = opaque;
    return pic_ack(pc->dev->pic);
}

static void apic_eoi_broadcast(void *opaque, int vector)
{
    PC *pc = opaque;
    ioapic_eoi(pc->dev->ioapic, vector);
}

static void apic_map_changed(void *opaque)
{
    PC *pc = opaque;
    tlb_flush_all(&pc->cpu);
}

/* An INIT IPI to the CPU itself: taken between instructions (hw/pc/main_loop.c). */
static void apic_init_cpu(void *opaque)
{
    PC *pc = opaque;
    pc->init_requested = true;
    cpu_set_interrupt(&pc->cpu, CPU_INTERRUPT_EXIT);
}

static uint64_t apic_tsc(void *opaque)
{
    PC *pc = opaque;
    return cpu_rdtsc(&pc->cpu);
}

static void ioapic_to_apic(void *opaque, int mode, int vector, bool level_trigger, bool logical,
                           uint8_t dest)
{
    PC *pc = opaque;
    apic_deliver(pc->dev->apic, mode, vector, level_trigger, logical, dest);
}

/* FERR# drives IRQ13 on a PC; an OUT to port F0h clears the latch (the
 * "coprocessor busy" reset that DOS-era handlers write). */
static void cpu_ferr(void *opaque)
{
    PC *pc = opaque;
    irq_raise(&pc->dev->isa_irq[13]);
}

static uint32_t ferr_port_read(void *opaque, uint16_t port, int size)
{
    return 0xff;
}

static void ferr_port_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    PC *pc = opaque;
    pc->cpu.ferr_pending = false;
    irq_lower(&pc->dev->isa_irq[13]);
}

/* A PCI function's INTx line: n is the PIRQ line it reaches through the swizzle. */
static void pci_intx(void *opaque, int n, int level)
{
    PC *pc = opaque;
    piix3_set_pirq(pc->dev->piix3, n, level);
}

/* A20 is enabled when either gate is open: the i8042 output port or port 92h. */
static void machine_update_a20(PC *pc)
{
    uint32_t mask = (pc->a20_kbd || pc->a20_port92) ? 0xffffffffu : 0xffefffffu;
    if (pc->cpu.a20_mask != mask) {
        pc->cpu.a20_mask = mask;
        tlb_flush_all(&pc->cpu);
    }
}

static void machine_set_a20_kbd(void *opaque, bool on)
{
    PC *pc = opaque;
    pc->a20_kbd = on;
    machine_update_a20(pc);
}

static void machine_set_a20_port92(void *opaque, bool on)
{
    PC *pc = opaque;
    pc->a20_port92 = on;
    machine_update_a20(pc);
}

static void machine_poweroff(void *opaque)
{
    PC *pc = opaque;
    pc->exit_requested = true;
    pc->exit_status = 0;
    cpu_set_interrupt(&pc->cpu, CPU_INTERRUPT_EXIT);
}

static void machine_reset_request(void *opaque)
{
    PC *pc = opaque;
    pc->reset_requested = true;
    cpu_set_interrupt(&pc->cpu, CPU_INTERRUPT_EXIT);
}

static void machine_debug_exit(void *opaque, int status)
{
    PC *pc = opaque;
    pc->exit_requested = true;
    pc->exit_status = status;
    cpu_set_interrupt(&pc->cpu, CPU_INTERRUPT_EXIT);
}

/* The VGA cleared the dirty bytes of framebuffer pages (hw/display/vga_render.c):
 * the next store into them must miss the TLB and mark them again. */
static void machine_vga_flush(void *opaque, uint32_t paddr, uint32_t len)
{
    PC *pc = opaque;
    if (len > VGA_FLUSH_ALL_BYTES) {
        tlb_flush_all(&pc->cpu);
        return;
    }
    for (uint32_t off = 0; off < len; off += 4096) {
        tlb_flush_phys_page(&pc->cpu, paddr + off);
    }
}

/* A device moved one of its memory regions (a BAR): drop every translation. */
static void machine_map_changed(void *opaque)
{
    PC *pc = opaque;
    tlb_flush_all(&pc->cpu);
}

/* i440FX PAM register written: remap the segment, drop stale translations. */
static void machine_pam_changed(void *opaque, int pam_index, uint8_t value)
{
    PC *pc = opaque;
    if (pc->dev->pam && pam_set(pc->dev->pam, pam_index, value)) {
        tlb_flush_all(&pc->cpu);
    }
}

/* PCConfig.no_firmware: erased flash (all ones) where the BIOS would be,
 * so the map and the PAM window decode as with a BIOS, and nothing runs. */
static void load_blank_bios(PC *pc)
{
    enum { BLANK_BIOS_SIZE = 0x10000 };
    uint8_t *low = malloc(BLANK_BIOS_SIZE);
    bool mapped = low && phys_map_rom(&pc->phys, (uint32_t)(0x100000000ull - BLANK_BIOS_SIZE),
                                      NULL /* 0xFF */, BLANK_BIOS_SIZE, 1) >= 0;
    if (mapped) {
        memset(low, 0xff, BLANK_BIOS_SIZE);
        pc->dev->pam = pam_new(&pc->phys, low, BLANK_BIOS_SIZE);
    }
    free(low);
    if (!pc->dev->pam) {
        fprintf(stderr, "popek: cannot map the blank BIOS (out of memory)\n");
        exit(1);
    }
}

/*
 * The BIOS sits at the top of the 4 GiB space (where the reset vector
 * FFFFFFF0h lands) and, through the PAM window, its last 128 KiB again
 * below 1 MiB.  With neither -bios nor -kernel popek boots SeaBIOS.
 */
static void load_bios(PC *pc)
{
    const PCConfig *o = &pc->cfg;
    if (o->no_firmware) {
        load_blank_bios(pc);
        return;
    }
    char err[512];
    char *path = firmware_find(o->bios ? o->bios : FIRMWARE_DEFAULT_BIOS, o->firmware_dir, err,
                               sizeof(err));
    uint8_t *low = NULL;
    uint32_t low_len = 0;
    if (!path || !firmware_load_bios(&pc->phys, path, &low, &low_len, err, sizeof(err))) {
        fprintf(stderr, "popek: %s\n", err);
        exit(1);
    }
    free(path);
    pc->dev->pam = pam_new(&pc->phys, low, low_len);
    free(low);
    if (!pc->dev->pam) {
        fprintf(stderr, "popek: -bios: no room in the physical map for the BIOS window\n");
        exit(1);
    }
}

/* What SeaBIOS reads at POST: fw_cfg items and CMOS boot bytes. */
static void pc_setup_firmware_config(PC *pc)
{
    const PCConfig *o = &pc->cfg;
    PCDevices *d = pc->dev;
    FirmwareConfig cfg = {.ram_bytes = o->ram_bytes,
                          .cpus = 1,
                          .boot_order = o->boot_order,
                          .boot_menu = o->boot_menu,
                          .sercon_port = o->sercon_port};
    char err[512];
    if (!firmware_setup_fw_cfg(d->fw_cfg, &cfg, err, sizeof(err))) {
        fprintf(stderr, "popek: %s\n", err);
        exit(1);
    }
    /* Disks whose default geometry exceeds what CHS int 13h can address
     * get LBA translation, as QEMU's "auto" picks it. */
    unsigned lba = 0;
    for (int i = 0; i < PC_MAX_DRIVES; i++) {
        uint32_t c, h, sec;
        if (ide_disk_geometry(piix_ide_bus(d->ide, i / 2), i % 2, &c, &h, &sec) &&
            (c > 1024 || h > 16 || sec > 63)) {
            lba |= 1u << i;
        }
    }
    firmware_setup_cmos(d->rtc, &cfg, lba);
    /* SeaBIOS runs the VGA BIOS it finds as "pciVVVV,DDDD.rom" for the
     * card, passing the card's bus address, so the VGA BIOS finds the
     * framebuffer BAR (QEMU puts it in a ROM BAR to the same effect). */
    if ((o->bios || !o->kernel || pc->kernel_via_bios) && !o->no_vga && !o->no_firmware &&
        !firmware_add_rom(d->fw_cfg, "pci1234,1111.rom", "vgabios-stdvga.bin", o->firmware_dir,
                          err, sizeof(err))) {
        fprintf(stderr, "popek: %s\n", err);
        exit(1);
    }
    if (o->kernel && (o->bios || pc->kernel_via_bios)) {
        /* -kernel with -bios, or an image that is not Linux: the BIOS
         * boots it through its real-mode setup code (QEMU's way). */
        FirmwareKernel k = {o->kernel, o->initrd, o->append, o->ram_bytes, o->firmware_dir};
        if (!firmware_add_kernel(d->fw_cfg, &k, err, sizeof(err))) {
            fprintf(stderr, "popek: %s\n", err);
            exit(1);
        }
    }
}

/* Put the drives of -hda..-hdd, -cdrom and -drive on the IDE channels. */
static void pc_attach_drives(PC *pc)
{
    const PCConfig *o = &pc->cfg;
    for (int i = 0; i < PC_MAX_DRIVES; i++) {
        const PCDrive *drive = &o->drives[i];
        IDEBus *bus = piix_ide_bus(pc->dev->ide, i / 2);
        if (!drive->present) {
            continue;
        }
        if (drive->cdrom ? !ide_attach_cdrom(bus, i % 2, drive->media)
                         : !ide_attach_disk(bus, i % 2, drive->media)) {
            fprintf(stderr, "popek: %s: cannot attach IDE drive %d\n", drive->option, i);
            exit(1);
        }
    }
}

/*
 * The floppy controller is always there, as on QEMU's pc machine; -fda
 * and -fdb put drives on it.  CMOS 0x10 gives each drive's type (high
 * nibble drive 0), 0x14 bits 7-6 the drive count - 1 and bit 0 "floppy
 * drives present": what SeaBIOS reads to find them.
 */
static void pc_init_floppies(PC *pc)
{
    PCDevices *d = pc->dev;
    d->dma = i8257_new(&pc->io, &pc->phys);
    d->fdc = d->dma ? fdc_new(&pc->io, FDC_BASE, d->isa_irq[FDC_IRQ], d->dma, FDC_DMA_CHAN)
                    : NULL;
    if (!d->fdc) {
        fprintf(stderr, "popek: cannot create the floppy controller (out of memory)\n");
        exit(1);
    }
    int count = 0;
    for (int i = 0; i < PC_MAX_FLOPPIES; i++) {
        const PCDrive *fd = &pc->cfg.floppies[i];
        if (!fd->present) {
            continue;
        }
        uint64_t bytes = fd->media->sectors * BLOCK_SECTOR_SIZE;
        if (!fdc_format_for_size(bytes)) {
            fprintf(stderr,
                    "popek: %s: a %llu-byte image is not a floppy disk (want 737280, 1474560 or "
                    "2949120 bytes)\n",
                    fd->option, (unsigned long long)bytes);
            exit(1);
        }
        if (!fdc_attach(d->fdc, i, fd->media)) {
            fprintf(stderr, "popek: %s: cannot attach floppy drive %d\n", fd->option, i);
            exit(1);
        }
        count++;
    }
    rtc_set_cmos(d->rtc, 0x10, (uint8_t)(fdc_cmos_type(d->fdc, 0) << 4 | fdc_cmos_type(d->fdc, 1)));
    uint8_t equipment = rtc_get_cmos(d->rtc, 0x14) & 0x3e;
    if (count) {
        equipment |= (uint8_t)(((count - 1) << 6) | 0x01);
    }
    rtc_set_cmos(d->rtc, 0x14, equipment);
    rtc_set_memory_size(d->rtc, pc->cfg.ram_bytes); /* recomputes the checksum */
}

/* The network cards the configuration asks for, in slots 3 onwards. */
static void pc_init_nics(PC *pc)
{
    PCDevices *d = pc->dev;
    for (int i = 0; i < pc->cfg.nic_count; i++) {
        const PCNic *nic = &pc->cfg.nics[i];
        int devfn = PCI_DEVFN(NIC_PCI_SLOT + i, 0);
        IRQ irq = irq_make(pci_intx, pc, piix3_pirq_for_pin(devfn, 1));
        bool made;
        if (nic->model == PC_NIC_E1000) {
            made = (d->e1000[i] = e1000_new(d->pci, devfn, &pc->phys, irq, &pc->timers, nic->mac));
        } else {
            made = (d->virtio_net[i] = virtio_net_new(d->pci, devfn, &pc->phys, irq, nic->mac));
        }
        if (!made) {
            fprintf(stderr, "popek: cannot create network card %d (out of memory)\n", i);
            exit(1);
        }
    }
}

/* The virtio-blk disks, in the slots after the network cards. */
static int virtio_blk_devfn(const PC *pc, int i)
{
    return PCI_DEVFN(NIC_PCI_SLOT + pc->cfg.nic_count + i, 0);
}

static void pc_init_virtio_blk(PC *pc)
{
    PCDevices *d = pc->dev;
    for (int i = 0; i < pc->cfg.virtio_blk_count; i++) {
        int devfn = virtio_blk_devfn(pc, i);
        IRQ irq = irq_make(pci_intx, pc, piix3_pirq_for_pin(devfn, 1));
        d->virtio_blk[i] = virtio_blk_new(d->pci, devfn, &pc->phys, irq,
                                          pc->cfg.virtio_blk[i].media, pc->cfg.virtio_blk_serial[i]);
        if (!d->virtio_blk[i]) {
            fprintf(stderr, "popek: %s: cannot create the virtio-blk disk (out of memory)\n",
                    pc->cfg.virtio_blk[i].option);
            exit(1);
        }
    }
}

/*
 * Direct boot has no firmware to route PCI interrupts, so the board does
 * what SeaBIOS would: PIRQA-D to IRQ 10/11 (level-triggered in the ELCR)
 * and each function's Interrupt Line register to the IRQ its INTA pin
 * reaches.  Linux, finding no _PRT in the DSDT, takes the Interrupt Line.
 */
static void pc_route_pci_irqs(PC *pc)
{
    PCDevices *d = pc->dev;
    uint16_t elcr = 0;
    for (int pirq = 0; pirq < 4; pirq++) {
        pci_config_write(piix3_pci_device(d->piix3), PIIX3_PIRQRC + pirq, pirq_isa_irq[pirq], 1);
        elcr |= (uint16_t)(1u << pirq_isa_irq[pirq]);
    }
    ioport_write(&pc->io, 0x4d0, elcr & 0xff, 1);
    ioport_write(&pc->io, 0x4d1, elcr >> 8, 1);
    for (int i = 0; i < pc->cfg.nic_count + pc->cfg.virtio_blk_count; i++) {
        int devfn = PCI_DEVFN(NIC_PCI_SLOT + i, 0);
        PCIDevice *dev = pci_find_device(d->pci, devfn);
        if (dev) {
            pci_config_write(dev, PCI_INTERRUPT_LINE, pirq_isa_irq[piix3_pirq_for_pin(devfn, 1)], 1);
        }
    }
}

/*
 * The interrupt controllers: the local APIC owns the CPU's INTR; the 8259's
 * INT output reaches its LINT0 and the I/O APIC's pin 0; every ISA IRQ
 * reaches the 8259 and the I/O APIC, IRQ0 on pin 2 (the MADT's override),
 * as QEMU's pc machine wires them.
 */
static void pc_init_intc(PC *pc)
{
    PCDevices *d = pc->dev;
    APICHooks hooks = {pc, apic_extint_ack, apic_eoi_broadcast, apic_map_changed, apic_init_cpu,
                       apic_tsc};
    d->apic = apic_new(&pc->phys, &pc->timers, 0, irq_make(cpu_intr_line, pc, 0),
                       irq_make(cpu_nmi_line, pc, 0), &hooks);
    d->ioapic = ioapic_new(&pc->phys, PC_IOAPIC_ID, ioapic_to_apic, pc);
    if (!d->apic || !d->ioapic) {
        fprintf(stderr, "popek: cannot create the APICs (out of memory)\n");
        exit(1);
    }
    d->pic = pic_new(&pc->io, irq_fanout(&d->pic_intr, apic_lint0(d->apic),
                                         ioapic_input(d->ioapic, 0)));
    for (int i = 0; i < 16; i++) {
        d->isa_irq[i] = irq_fanout(&d->isa_fanout[i], pic_input(d->pic, i),
                                   ioapic_input(d->ioapic, i == 0 ? 2 : i));
    }
}

static void pc_init_devices(PC *pc)
{
    const PCConfig *o = &pc->cfg;
    PCDevices *d = pc->dev;
    pc_init_intc(pc);
    const IRQ *isa = d->isa_irq;
    d->pit = pit_new(&pc->io, &pc->timers, isa[0]);
    int64_t rtc_base = o->rtc_base;
    if (rtc_base < 0) {
        /* Deterministic runs need a fixed wall clock too: 2000-01-01. */
        rtc_base = o->icount_shift >= 0 ? 946684800 : (int64_t)time(NULL);
        if (o->rtc_localtime && o->icount_shift < 0) {
            /* base=localtime: the RTC shows the wall clock of the host's
             * time zone, as a PC whose other OS keeps local time. */
            time_t now = (time_t)rtc_base;
            struct tm local;
            if (localtime_r(&now, &local)) {
                rtc_base += local.tm_gmtoff;
            }
        }
    }
    d->rtc = rtc_new(&pc->io, &pc->timers, isa[8], rtc_base);
    rtc_set_memory_size(d->rtc, o->ram_bytes);

    static const CharBackend nothing; /* COM1, COM2 without a host side */
    for (int i = 0; i < PC_MAX_SERIALS; i++) {
        if (i < 2 || o->serial[i]) {
            d->com[i] = uart_new(&pc->io, com_ports[i].base, &pc->timers,
                                 irq_make(com_irq_set, pc, i), o->serial[i] ? o->serial[i] : &nothing);
        }
    }

    I8042Callbacks kcb = {pc, machine_reset_request, machine_set_a20_kbd};
    d->kbd = i8042_new(&pc->io, isa[1], isa[12], &kcb);
    d->port92 = port92_new(&pc->io, machine_set_a20_port92, machine_reset_request, pc);

    d->pci = pci_bus_new(&pc->io);
    d->i440fx = i440fx_new(d->pci, machine_pam_changed, pc);
    /* Subsystem 1AF4:1100 on the host bridge is how SeaBIOS recognises a
     * QEMU-compatible board and turns to fw_cfg for its configuration. */
    pci_config_set(i440fx_pci_device(d->i440fx), PCI_SUBSYSTEM_VENDOR_ID, 0x1af4, 2);
    pci_config_set(i440fx_pci_device(d->i440fx), PCI_SUBSYSTEM_ID, 0x1100, 2);
    d->piix3 = piix3_new(d->pci, &pc->io, isa, machine_reset_request, pc);
    d->ide = piix_ide_new(d->pci, &pc->io, &pc->phys, isa[14], isa[15]);
    pc_attach_drives(pc);
    pc_init_floppies(pc);
    VGAHooks vga_hooks = {pc, machine_vga_flush, machine_map_changed};
    if (!o->no_vga) {
        d->vga = vga_new(&pc->io, &pc->phys, d->pci, PCI_DEVFN(VGA_PCI_SLOT, 0), &pc->timers,
                         VGA_VRAM_DEFAULT, &vga_hooks);
    }
    if (!d->vga && !o->no_vga) {
        fprintf(stderr, "popek: cannot create the VGA (out of memory)\n");
        exit(1);
    }
    pc_init_nics(pc);
    pc_init_virtio_blk(pc);
    d->acpi = acpi_pm_new(&pc->io, &pc->timers, isa[ACPI_PM_SCI_IRQ],
                          machine_poweroff, pc);
    if (o->debug_exit) {
        d->debug_exit = debugexit_new(&pc->io, o->debug_exit_base, o->debug_exit_size,
                                      machine_debug_exit, pc);
    }
    if (o->debugcon) {
        d->debugcon = debugcon_new(&pc->io, 0xe9, o->debugcon);
    }
    if (o->bioslog) {
        d->bioslog = debugcon_new(&pc->io, DEBUGCON_SEABIOS_PORT, o->bioslog);
    }
    d->fw_cfg = fw_cfg_new(&pc->io, &pc->phys);
}

/*
 * Direct boot runs no VGA BIOS, so the board puts into plane 2 the font
 * the VGA BIOS would have loaded (the VGA's reset state is already text
 * mode 3): without it the kernel's text console draws nothing.
 */
static void pc_load_vga_font(PC *pc)
{
    if (!pc->dev->vga) {
        return; /* -vga none */
    }
    char err[512];
    uint8_t font[VGA_FONT16_BYTES];
    char *path = firmware_find("vgabios-stdvga.bin", pc->cfg.firmware_dir, err, sizeof(err));
    if (path && vga_font_from_rom(path, font, err, sizeof(err))) {
        vga_load_font(pc->dev->vga, font, 16);
    } else {
        fprintf(stderr, "popek: warning: %s; the VGA text console will be blank\n", err);
    }
    free(path);
}

/* The MP tables of a direct boot: the CPU as CPUID describes it, and every
 * PCI interrupt pin on bus 0 with the ISA IRQ its PIRQ line is steered to. */
static void pc_build_mptable(PC *pc)
{
    MPTableConfig mp;
    memset(&mp, 0, sizeof(mp));
    uint32_t regs[4];
    cpu_cpuid(&pc->cpu, 1, 0, regs);
    mp.cpu_signature = regs[0];
    mp.cpu_features = regs[3];
    mp.level_irqs = 1u << ACPI_PM_SCI_IRQ;
    for (int slot = 1; slot < 32; slot++) {
        uint8_t pins_seen = 0;
        for (int fn = 0; fn < 8; fn++) {
            int devfn = PCI_DEVFN(slot, fn);
            PCIDevice *dev = pci_find_device(pc->dev->pci, devfn);
            int pin = dev ? (int)pci_config_read(dev, PCI_INTERRUPT_PIN, 1) : 0;
            if (pin < 1 || pin > 4 || (pins_seen & (1u << pin)) || mp.npci == MPTABLE_MAX_PCI_IRQS) {
                continue;
            }
            pins_seen |= (uint8_t)(1u << pin);
            mp.pci[mp.npci++] = (MPTablePCIIrq){(uint8_t)slot, (uint8_t)pin,
                                                pirq_isa_irq[piix3_pirq_for_pin(devfn, pin)]};
        }
    }
    mptable_build(&pc->phys, BOOT_MPTABLE_ADDR, &mp);
}

/* Direct kernel boot: the CPU starts at the kernel's 32-bit entry, no BIOS. */
static void pc_load_kernel(PC *pc)
{
    const PCConfig *o = &pc->cfg;
    uint32_t rsdp = acpi_build_tables(&pc->phys, BOOT_ACPI_ADDR, o->ram_bytes);
    pc_build_mptable(pc);
    BootConfig cfg = {o->kernel, o->initrd, o->append, o->ram_bytes, rsdp};
    char err[512];
    if (!linux_boot_load(&pc->phys, &pc->cpu, &cfg, err, sizeof(err))) {
        fprintf(stderr, "popek: %s\n", err);
        exit(1);
    }
    pc_route_pci_irqs(pc);
    pc_load_vga_font(pc);
}

/* The COM ports' shared-IRQ levels: the board's own wiring state. */
static const VMField pc_wiring_fields[] = {
    VMS_ENTRY_(PCDevices, com_irq_levels, unsigned, VMF_U32, 1, 0, (1 << PC_MAX_SERIALS) - 1),
    VMS_END,
};

static const VMStateDesc pc_wiring_vmstate = {
    .name = "wiring",
    .version = 1,
    .min_version = 1,
    .fields = pc_wiring_fields,
};

/* Every device's saved-state section, after the board's (vmstate_pc.c);
 * "pci" before the PCI functions, which rebuild from their config space. */
static void pc_register_state(PC *pc)
{
    PCDevices *d = pc->dev;
    VMRegistry *reg = pc->vmstate;
    vmstate_register(reg, &pc_wiring_vmstate, 0, d);
    vmstate_register(reg, &pic_vmstate, 0, d->pic);
    vmstate_register(reg, &apic_vmstate, 0, d->apic);
    vmstate_register(reg, &ioapic_vmstate, 0, d->ioapic);
    vmstate_register(reg, &pit_vmstate, 0, d->pit);
    vmstate_register(reg, &rtc_vmstate, 0, d->rtc);
    for (int i = 0; i < PC_MAX_SERIALS; i++) {
        if (d->com[i]) {
            vmstate_register(reg, &uart_vmstate, (uint32_t)i, d->com[i]);
        }
    }
    vmstate_register(reg, &i8042_vmstate, 0, d->kbd);
    vmstate_register(reg, &port92_vmstate, 0, d->port92);
    vmstate_register(reg, &pci_vmstate, 0, d->pci);
    vmstate_register(reg, &i440fx_vmstate, 0, d->i440fx);
    vmstate_register(reg, &piix3_vmstate, 0, d->piix3);
    vmstate_register(reg, &acpi_pm_vmstate, 0, d->acpi);
    vmstate_register(reg, &fw_cfg_vmstate, 0, d->fw_cfg);
    vmstate_register(reg, &i8257_vmstate, 0, d->dma);
    vmstate_register(reg, &piix_ide_vmstate, 0, d->ide);
    vmstate_register(reg, &fdc_vmstate, 0, d->fdc);
    if (d->vga) {
        vmstate_register(reg, &vga_vmstate, 0, d->vga);
    }
    for (int i = 0; i < pc->cfg.nic_count; i++) {
        if (d->e1000[i]) {
            vmstate_register(reg, &e1000_vmstate, (uint32_t)i, d->e1000[i]);
        }
        if (d->virtio_net[i]) {
            vmstate_register(reg, &virtio_net_vmstate, (uint32_t)i, d->virtio_net[i]);
        }
    }
    for (int i = 0; i < pc->cfg.virtio_blk_count; i++) {
        vmstate_register(reg, &virtio_blk_vmstate, (uint32_t)i, d->virtio_blk[i]);
    }
}

void pc_init(PC *pc, const PCConfig *config)
{
    memset(pc, 0, sizeof(*pc));
    pc->cfg = *config;
    const PCConfig *cfg = &pc->cfg;
    if (!phys_init(&pc->phys, (uint32_t)cfg->ram_bytes)) {
        fprintf(stderr, "popek: -m: cannot reserve %llu bytes of guest RAM: %s\n",
                (unsigned long long)cfg->ram_bytes, strerror(errno));
        exit(1);
    }
    ioport_init(&pc->io);
    cpu_init(&pc->cpu, &pc->phys, &pc->io);
    if (cfg->cpu.model) {
        cpu_set_cpuid(&pc->cpu, &cfg->cpu);
        cpu_reset(&pc->cpu); /* EDX holds the model's signature after RESET */
    }
    if (cfg->accel != ACCEL_INTERP) {
        /* The translator hangs off the CPU (CPUState.accel); bt_new says why if it cannot. */
        if (!bt_new(&pc->cpu, (size_t)cfg->tb_size_mib << 20,
                    cfg->accel == ACCEL_CHECK ? BT_MODE_CHECK : BT_MODE_RUN)) {
            exit(1);
        }
        if (cfg->perfmap && !bt_open_perfmap(bt_of(&pc->cpu))) {
            exit(1);
        }
    }
    if (cfg->icount_shift >= 0) {
        timerlist_init_icount(&pc->timers, &pc->cpu.icount, cfg->icount_shift);
    } else {
        timerlist_init(&pc->timers);
    }
    pc->dev = calloc(1, sizeof(*pc->dev));
    pc->a20_kbd = true;
    pc_init_devices(pc);
    pc->cpu.hooks.opaque = pc;
    pc->cpu.hooks.irq_ack = cpu_irq_ack;
    pc->cpu.hooks.ferr = cpu_ferr;
    pc->cpu.hooks.clock_ns = cpu_clock_ns;
    pc->cpu.hooks.msr_read = cpu_msr_read;
    pc->cpu.hooks.msr_write = cpu_msr_write;
    pc->cpu.hooks.cr8_read = cpu_cr8_read;
    pc->cpu.hooks.cr8_write = cpu_cr8_write;
    ioport_register(&pc->io, 0xf0, 1, 1, ferr_port_read, ferr_port_write, pc);
    /* A direct boot of what is not a Linux kernel (memdisk, iPXE) runs
     * SeaBIOS first, as -kernel with -bios does (bios/linux_boot.c says
     * how the two are told apart). */
    pc->kernel_via_bios = cfg->kernel && !cfg->bios && linux_boot_needs_bios(cfg->kernel);
    if (cfg->bios || !cfg->kernel || pc->kernel_via_bios) {
        load_bios(pc);
    }
    pc_setup_firmware_config(pc);
    if (cfg->kernel && !cfg->bios && !pc->kernel_via_bios) {
        pc_load_kernel(pc);
    }
    pc_vmstate_init(pc);
    pc_register_state(pc);
}

void pc_reset(PC *pc)
{
    PCDevices *d = pc->dev;
    pc->reset_requested = false;
    pc->init_requested = false;
    apic_reset(d->apic);
    ioapic_reset(d->ioapic);
    pc->reset_count++;
    pic_reset(d->pic);
    pit_reset(d->pit);
    for (int i = 0; i < PC_MAX_SERIALS; i++) {
        if (d->com[i]) {
            uart_reset(d->com[i]);
        }
    }
    i8042_reset(d->kbd);
    if (d->vga) {
        vga_reset(d->vga);
    }
    i440fx_reset(d->i440fx);
    fw_cfg_reset(d->fw_cfg);
    piix3_reset(d->piix3);
    piix_ide_reset(d->ide);
    i8257_reset(d->dma);
    fdc_reset(d->fdc);
    for (int i = 0; i < pc->cfg.nic_count; i++) {
        if (d->e1000[i]) {
            e1000_reset(d->e1000[i]);
        }
        if (d->virtio_net[i]) {
            virtio_net_reset(d->virtio_net[i]);
        }
    }
    for (int i = 0; i < pc->cfg.virtio_blk_count; i++) {
        virtio_blk_reset(d->virtio_blk[i]);
    }
    acpi_pm_reset(d->acpi);
    port92_reset(d->port92);
    cpu_reset(&pc->cpu);
    if (bt_of(&pc->cpu)) {
        bt_flush(bt_of(&pc->cpu)); /* firmware and kernel are loaded again */
    }
    pc->a20_kbd = true;     /* the i8042's output port resets with A20 enabled */
    pc->a20_port92 = false; /* port 92h resets to 0 */
    machine_update_a20(pc);
    if (pc->cfg.kernel && !pc->cfg.bios && !pc->kernel_via_bios) {
        pc_load_kernel(pc); /* a reboot boots the same kernel again, as QEMU does */
    }
}

void pc_request_reset(PC *pc)
{
    machine_reset_request(pc);
}

void pc_request_exit(PC *pc, int status)
{
    machine_debug_exit(pc, status);
}

I8042State *pc_keyboard(PC *pc)
{
    return pc->dev->kbd;
}

NetClient *pc_nic_client(PC *pc, int i)
{
    PCDevices *d = pc->dev;
    return d->e1000[i] ? e1000_net_client(d->e1000[i]) : virtio_net_client(d->virtio_net[i]);
}

int pc_nic_info(PC *pc, int i, char *buf, size_t len)
{
    PCDevices *d = pc->dev;
    return d->e1000[i] ? e1000_info(d->e1000[i], buf, len)
                       : virtio_net_info(d->virtio_net[i], buf, len);
}

int pc_virtio_blk_info(PC *pc, int i, char *buf, size_t len)
{
    return virtio_blk_info(pc->dev->virtio_blk[i], buf, len);
}

VGAState *pc_vga(PC *pc)
{
    return pc->dev->vga;
}

int pc_serial_room(PC *pc, int port)
{
    return pc->dev->com[port] ? uart_can_receive(pc->dev->com[port]) : 0;
}

void pc_serial_input(PC *pc, int port, const uint8_t *buf, int len)
{
    if (pc->dev->com[port]) {
        uart_receive(pc->dev->com[port], buf, len);
    }
}

bool pc_cdrom_state(PC *pc, int i, bool *has_media, bool *locked, bool *tray_open)
{
    return ide_cdrom_state(piix_ide_bus(pc->dev->ide, i / 2), i % 2, has_media, locked, tray_open);
}

void pc_cdrom_change(PC *pc, int i, const BlockDev *media)
{
    ide_cdrom_change(piix_ide_bus(pc->dev->ide, i / 2), i % 2, media);
}

void pc_power_button(PC *pc)
{
    acpi_pm_power_button(pc->dev->acpi);
}

int pc_pic_info(PC *pc, char *buf, size_t len)
{
    int n = pic_info(pc->dev->pic, buf, len);
    size_t used = (size_t)n < len ? (size_t)n : len;
    return n + ioapic_info(pc->dev->ioapic, buf + used, len - used);
}

int pc_lapic_info(PC *pc, char *buf, size_t len)
{
    return apic_info(pc->dev->apic, buf, len);
}

int pc_irq_info(PC *pc, char *buf, size_t len)
{
    int total = snprintf(buf, len, "hardware interrupts taken, by vector:\n");
    for (int v = 0; v < 256; v++) {
        if (pc->irq_counts[v]) {
            size_t used = (size_t)total < len ? (size_t)total : len;
            total += snprintf(buf + used, len - used, "  0x%02x: %llu\n", v,
                              (unsigned long long)pc->irq_counts[v]);
        }
    }
    return total;
}

void pc_destroy(PC *pc)
{
    PCDevices *d = pc->dev;
    bt_free(bt_of(&pc->cpu));
    if (d->debug_exit) {
        debugexit_free(d->debug_exit);
    }
    if (d->debugcon) {
        debugcon_free(d->debugcon);
    }
    if (d->bioslog) {
        debugcon_free(d->bioslog);
    }
    fw_cfg_free(d->fw_cfg);
    pam_free(d->pam);
    acpi_pm_free(d->acpi);
    piix_ide_free(d->ide);
    fdc_free(d->fdc);
    i8257_free(d->dma);
    for (int i = 0; i < pc->cfg.nic_count; i++) {
        if (d->e1000[i]) {
            e1000_free(d->e1000[i]);
        }
        if (d->virtio_net[i]) {
            virtio_net_free(d->virtio_net[i]);
        }
    }
    for (int i = 0; i < pc->cfg.virtio_blk_count; i++) {
        virtio_blk_free(d->virtio_blk[i]);
    }
    vga_free(d->vga);
    piix3_free(d->piix3);
    i440fx_free(d->i440fx);
    pci_bus_free(d->pci);
    port92_free(d->port92);
    i8042_free(d->kbd);
    for (int i = 0; i < PC_MAX_SERIALS; i++) {
        uart_free(d->com[i]);
    }
    rtc_free(d->rtc);
    pit_free(d->pit);
    pic_free(d->pic);
    ioapic_free(d->ioapic);
    apic_free(d->apic);
    free(d);
    free(pc->vmstate);
    phys_destroy(&pc->phys);
}
