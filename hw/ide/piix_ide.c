/*
 * PIIX3 IDE function: legacy port decoding and bus-master DMA (see
 * piix_ide.h).  Register behaviour follows the 82371FB/SB datasheet,
 * "Bus Master IDE" registers, and the SFF-8038i bus-master model:
 *
 * - Starting the engine (SSBM 0 -> 1) reloads the PRD table pointer; the
 *   transfer runs when both the engine is started and the device has a
 *   DMA command waiting, whichever comes second.
 * - A PRD entry is a dword address (bit 0 ignored), a 16-bit byte count
 *   (0 = 64 KiB) and bit 31 EOT.  When the device's transfer ends exactly
 *   at the end of the EOT entry the engine goes idle (Active clears);
 *   when the table is longer than the transfer Active stays set until
 *   software clears SSBM; a table shorter than the transfer is an error.
 * - Interrupt in the status register latches every rising edge of the
 *   channel's INTRQ, DMA or not; software clears it by writing 1.
 */
#include <stdlib.h>

#include "hw/ide/piix_ide.h"
#include "migration/vmstate.h"

typedef struct PIIXIDEChannel {
    struct PIIXIDEState *s;
    int index;
    IDEBus *bus;
    IRQ irq;           /* ISA IRQ 14 or 15 */
    bool decoded;      /* legacy ports registered */
    uint8_t cmd;       /* bus-master command */
    uint8_t status;    /* bus-master status */
    uint32_t prdt;     /* PRD table address */
    uint32_t prd_next; /* next PRD entry to fetch */
    uint32_t prd_addr; /* current entry: next byte's address */
    uint32_t prd_left; /* bytes left in the current entry */
    bool prd_eot;      /* the current entry is the last one */
} PIIXIDEChannel;

struct PIIXIDEState {
    PCIDevice *dev;
    IOPortMap *io;
    PhysMem *phys;
    PIIXIDEChannel ch[2];
    uint32_t bm_base; /* BAR4 address, or PCI_BAR_UNMAPPED */
};

static const uint16_t legacy_cmd[2] = {0x1f0, 0x170};
static const uint16_t legacy_ctl[2] = {0x3f6, 0x376};

/* ---- legacy ports ---- */

static uint32_t legacy_cmd_read(void *opaque, uint16_t port, int size)
{
    PIIXIDEChannel *c = opaque;
    return ide_cmd_read(c->bus, port - legacy_cmd[c->index], size);
}

static void legacy_cmd_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    PIIXIDEChannel *c = opaque;
    ide_cmd_write(c->bus, port - legacy_cmd[c->index], value, size);
}

static uint32_t legacy_ctl_read(void *opaque, uint16_t port, int size)
{
    PIIXIDEChannel *c = opaque;
    return ide_altstatus_read(c->bus);
}

static void legacy_ctl_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    PIIXIDEChannel *c = opaque;
    ide_ctrl_write(c->bus, (uint8_t)value);
}

/* Data port: 16- and 32-bit; the other registers: bytes. */
static void piix_ide_decode(PIIXIDEChannel *c, bool on)
{
    IOPortMap *io = c->s->io;
    uint16_t base = legacy_cmd[c->index];
    if (on == c->decoded) {
        return;
    }
    c->decoded = on;
    if (!on) {
        ioport_unregister(io, base, 8);
        ioport_unregister(io, legacy_ctl[c->index], 1);
        return;
    }
    ioport_register(io, base, 1, 1 | 2 | 4, legacy_cmd_read, legacy_cmd_write, c);
    ioport_register(io, base + 1, 7, 1, legacy_cmd_read, legacy_cmd_write, c);
    ioport_register(io, legacy_ctl[c->index], 1, 1, legacy_ctl_read, legacy_ctl_write, c);
}

static void piix_ide_update_decode(PIIXIDEState *s)
{
    for (int i = 0; i < 2; i++) {
        uint32_t idetim = pci_config_read(s->dev, i ? PIIX_IDETIM_SEC : PIIX_IDETIM_PRI, 2);
        piix_ide_decode(&s->ch[i], idetim & PIIX_IDETIM_DECODE);
    }
}

/* ---- the bus-master engine, as seen by the IDE chip ---- */

/* Fetch the next PRD entry; false when the table has ended. */
static bool bm_next_prd(PIIXIDEChannel *c)
{
    PhysMem *pm = c->s->phys;
    if (c->prd_eot) {
        return false;
    }
    uint32_t addr = phys_read(pm, c->prd_next, 4);
    uint32_t count = phys_read(pm, c->prd_next + 4, 4);
    c->prd_next += 8;
    c->prd_addr = addr & ~1u;
    c->prd_left = (count & 0xffff) ? (count & 0xfffe) : 0x10000;
    c->prd_eot = count & 0x80000000u;
    return true;
}

static uint32_t bm_rw(void *opaque, uint8_t *buf, uint32_t len, bool to_memory)
{
    PIIXIDEChannel *c = opaque;
    uint32_t moved = 0;
    while (moved < len) {
        if (c->prd_left == 0 && !bm_next_prd(c)) {
            break;
        }
        uint32_t n = len - moved < c->prd_left ? len - moved : c->prd_left;
        if (to_memory) {
            phys_write_buf(c->s->phys, c->prd_addr, buf + moved, n);
        } else {
            phys_read_buf(c->s->phys, c->prd_addr, buf + moved, n);
        }
        c->prd_addr += n;
        c->prd_left -= n;
        moved += n;
    }
    return moved;
}

static bool bm_active(void *opaque)
{
    PIIXIDEChannel *c = opaque;
    return c->cmd & BM_CMD_START;
}

static void bm_done(void *opaque, bool error)
{
    PIIXIDEChannel *c = opaque;
    if (error) {
        c->status |= BM_STATUS_ERROR;
        c->status &= ~BM_STATUS_ACTIVE;
    } else if (c->prd_left == 0 && c->prd_eot) {
        c->status &= ~BM_STATUS_ACTIVE;
    }
}

static const IDEDMAOps bm_ops = {bm_rw, bm_active, bm_done};

/* The chip's INTRQ passes through here on its way to the PIC. */
static void piix_ide_irq(void *opaque, int n, int level)
{
    PIIXIDEChannel *c = opaque;
    if (level) {
        c->status |= BM_STATUS_INTR;
    }
    irq_set_level(&c->irq, level);
}

/* ---- bus-master registers (BAR4) ---- */

static uint32_t bm_read(void *opaque, uint16_t port, int size)
{
    PIIXIDEState *s = opaque;
    uint32_t off = (uint32_t)(port - s->bm_base);
    PIIXIDEChannel *c = &s->ch[(off >> 3) & 1];
    uint32_t v = 0;
    for (int i = 0; i < size; i++) {
        uint32_t reg = (off + (uint32_t)i) & 7;
        uint8_t byte = 0;
        if (reg == BM_CMD) {
            byte = c->cmd;
        } else if (reg == BM_STATUS) {
            byte = c->status;
        } else if (reg >= BM_PRDT) {
            byte = (uint8_t)(c->prdt >> (8 * (reg - BM_PRDT)));
        }
        v |= (uint32_t)byte << (8 * i);
    }
    return v;
}

static void bm_write_cmd(PIIXIDEChannel *c, uint8_t v)
{
    bool was = c->cmd & BM_CMD_START;
    if (!(v & BM_CMD_START)) {
        /* Stopping aborts whatever is left of the transfer. */
        c->cmd = v & (BM_CMD_START | BM_CMD_TO_MEMORY);
        c->status &= ~BM_STATUS_ACTIVE;
        return;
    }
    if (was) {
        return; /* the direction cannot change while running */
    }
    c->cmd = v & (BM_CMD_START | BM_CMD_TO_MEMORY);
    c->status |= BM_STATUS_ACTIVE;
    c->prd_next = c->prdt;
    c->prd_left = 0;
    c->prd_eot = false;
    ide_bus_dma_kick(c->bus);
}

static void bm_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    PIIXIDEState *s = opaque;
    uint32_t off = (uint32_t)(port - s->bm_base);
    PIIXIDEChannel *c = &s->ch[(off >> 3) & 1];
    for (int i = 0; i < size; i++) {
        uint32_t reg = (off + (uint32_t)i) & 7;
        uint8_t byte = (uint8_t)(value >> (8 * i));
        if (reg == BM_CMD) {
            bm_write_cmd(c, byte);
        } else if (reg == BM_STATUS) {
            c->status =
                (uint8_t)((c->status & ~(BM_STATUS_DMA_CAP | BM_STATUS_ERROR | BM_STATUS_INTR)) |
                          (byte & BM_STATUS_DMA_CAP) |
                          (c->status & ~byte & (BM_STATUS_ERROR | BM_STATUS_INTR)));
        } else if (reg >= BM_PRDT) {
            int shift = 8 * (int)(reg - BM_PRDT);
            c->prdt = (c->prdt & ~(0xffu << shift)) | ((uint32_t)byte << shift);
            c->prdt &= ~3u;
        }
    }
}

static void bm_map(void *opaque, int bar, uint32_t addr)
{
    PIIXIDEState *s = opaque;
    if (s->bm_base != PCI_BAR_UNMAPPED) {
        ioport_unregister(s->io, (uint16_t)s->bm_base, 16);
    }
    s->bm_base = addr;
    if (addr != PCI_BAR_UNMAPPED) {
        ioport_register(s->io, (uint16_t)addr, 16, 1 | 2 | 4, bm_read, bm_write, s);
    }
}

static void piix_ide_config_write(void *opaque, PCIDevice *dev, int offset, uint32_t old_value,
                                  uint32_t new_value, int size)
{
    PIIXIDEState *s = opaque;
    if (offset < PIIX_IDETIM_SEC + 2 && offset + size > PIIX_IDETIM_PRI) {
        piix_ide_update_decode(s);
    }
}

/* ---- life cycle ---- */

PIIXIDEState *piix_ide_new(PCIBus *bus, IOPortMap *io, PhysMem *phys, IRQ irq14, IRQ irq15)
{
    PIIXIDEState *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    /* Class 01/01, prog-if 80h: IDE, bus master, both channels fixed in
     * compatibility mode. */
    s->dev = pci_register_device(bus, PIIX3_IDE_DEVFN, 0x8086, PIIX3_IDE_DEVICE_ID, 0x01, 0x01,
                                 0x80, 0x00, 0x00);
    if (!s->dev) {
        free(s);
        return NULL;
    }
    s->io = io;
    s->phys = phys;
    s->bm_base = PCI_BAR_UNMAPPED;
    for (int i = 0; i < 2; i++) {
        PIIXIDEChannel *c = &s->ch[i];
        c->s = s;
        c->index = i;
        c->irq = i ? irq15 : irq14;
        c->bus = ide_bus_new(irq_make(piix_ide_irq, c, 0));
        if (!c->bus) {
            piix_ide_free(s);
            return NULL;
        }
        ide_bus_set_dma(c->bus, &bm_ops, c);
    }
    pci_register_bar(s->dev, 4, 16, true, bm_map, s);
    pci_config_set_wmask(s->dev, PIIX_IDETIM_PRI, 0xffff, 2);
    pci_config_set_wmask(s->dev, PIIX_IDETIM_SEC, 0xffff, 2);
    pci_config_set_wmask(s->dev, 0x44, 0xff, 1); /* SIDETIM */
    pci_set_config_write_hook(s->dev, piix_ide_config_write, s);
    piix_ide_reset(s);
    return s;
}

void piix_ide_free(PIIXIDEState *s)
{
    if (!s) {
        return;
    }
    for (int i = 0; i < 2; i++) {
        if (s->ch[i].bus) {
            piix_ide_decode(&s->ch[i], false);
            ide_bus_free(s->ch[i].bus);
        }
    }
    if (s->bm_base != PCI_BAR_UNMAPPED) {
        ioport_unregister(s->io, (uint16_t)s->bm_base, 16);
    }
    free(s); /* the PCIDevice belongs to the bus */
}

void piix_ide_reset(PIIXIDEState *s)
{
    /* Command 0 also unmaps BAR4 (pci.c tells bm_map). */
    pci_config_write(s->dev, PCI_COMMAND, 0, 2);
    pci_config_set(s->dev, PCI_STATUS, 0x0280, 2);
    pci_config_write(s->dev, PCI_BASE_ADDRESS_0 + 16, 0, 4);
    pci_config_set(s->dev, PIIX_IDETIM_PRI, PIIX_IDETIM_DECODE, 2);
    pci_config_set(s->dev, PIIX_IDETIM_SEC, PIIX_IDETIM_DECODE, 2);
    pci_config_set(s->dev, 0x44, 0, 1);
    piix_ide_update_decode(s);
    for (int i = 0; i < 2; i++) {
        PIIXIDEChannel *c = &s->ch[i];
        c->cmd = 0;
        c->status = 0;
        c->prdt = 0;
        c->prd_left = 0;
        c->prd_eot = false;
        ide_bus_reset(c->bus);
    }
}

IDEBus *piix_ide_bus(PIIXIDEState *s, int channel)
{
    return s->ch[channel & 1].bus;
}

/* ---- saved state: each channel's bus-master registers and its IDE bus;
 * the legacy ports and BAR4 follow the restored configuration space ---- */

static const VMField piix_ide_channel_fields[] = {
    VMS_U8(PIIXIDEChannel, cmd),
    VMS_U8(PIIXIDEChannel, status),
    VMS_U32(PIIXIDEChannel, prdt),
    VMS_U32(PIIXIDEChannel, prd_next),
    VMS_U32(PIIXIDEChannel, prd_addr),
    VMS_U32_RANGE(PIIXIDEChannel, prd_left, 0, 0x10000),
    VMS_BOOL(PIIXIDEChannel, prd_eot),
    VMS_END,
};

static void piix_ide_channel_save(VMWriter *w, void *opaque)
{
    PIIXIDEChannel *c = opaque;
    vmstate_save_fields(w, &ide_bus_vmstate, c->bus);
}

static bool piix_ide_channel_load(VMReader *r, void *opaque, uint32_t version)
{
    PIIXIDEChannel *c = opaque;
    return vmstate_load_fields(r, &ide_bus_vmstate, c->bus, version);
}

static const VMStateDesc piix_ide_channel_desc = {
    .name = "channel",
    .fields = piix_ide_channel_fields,
    .save = piix_ide_channel_save,
    .load = piix_ide_channel_load,
};

static bool piix_ide_post_load(VMReader *r, void *opaque, uint32_t version)
{
    piix_ide_update_decode(opaque);
    return true;
}

static const VMField piix_ide_fields[] = {
    VMS_STRUCT_ARRAY(PIIXIDEState, ch, 2, PIIXIDEChannel, piix_ide_channel_desc),
    VMS_END,
};

const VMStateDesc piix_ide_vmstate = {
    .name = "ide",
    .version = 1,
    .min_version = 1,
    .fields = piix_ide_fields,
    .post_load = piix_ide_post_load,
};
