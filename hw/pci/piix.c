/*
 * 82441FX host bridge and 82371SB PIIX3 ISA bridge (PCI functions only).
 *
 * Register defaults and writable bits come from the Intel 82441FX PMC and
 * 82371FB/SB PIIX/PIIX3 datasheets.  Only the registers that software uses
 * on a virtual board are kept; the rest read as zero and ignore writes,
 * which is what reserved configuration registers do.
 */
#include <stdlib.h>

#include "hw/pci/piix.h"
#include "migration/vmstate.h"

struct I440FXState {
    PCIDevice *dev;
    void (*pam_changed)(void *opaque, int pam_index, uint8_t value);
    void *opaque;
};

struct PIIX3State {
    PCIDevice *dev;
    IOPortMap *io;
    IRQ isa_irqs[16]; /* where PIRQ lines can be steered */
    bool have_isa_irqs;
    int pirq_level[4]; /* PIRQA-D as driven by PCI devices */
    int isa_level[16]; /* the level this bridge drives on each ISA IRQ */
    uint8_t rc;        /* reset control register (0xCF9) */
    void (*reset_request)(void *opaque);
    void *opaque;
};

/* ---- 82441FX ---- */

static void i440fx_lock_smram_if_set(I440FXState *s)
{
    uint8_t smram = (uint8_t)pci_config_read(s->dev, I440FX_SMRAM, 1);

    /* D_LCK: D_OPEN is cleared and everything but D_CLS becomes read-only
     * until the next reset. */
    if (smram & SMRAM_D_LCK) {
        pci_config_set(s->dev, I440FX_SMRAM, smram & ~SMRAM_D_OPEN, 1);
        pci_config_set_wmask(s->dev, I440FX_SMRAM, SMRAM_D_CLS, 1);
    }
}

static void i440fx_config_write(void *opaque, PCIDevice *dev, int offset, uint32_t old_value,
                                uint32_t new_value, int size)
{
    I440FXState *s = opaque;

    for (int i = 0; i < size; i++) {
        int reg = offset + i;
        uint8_t old_byte = (uint8_t)(old_value >> (8 * i));
        uint8_t new_byte = (uint8_t)(new_value >> (8 * i));

        if (reg >= I440FX_PAM0 && reg < I440FX_PAM0 + I440FX_PAM_COUNT && old_byte != new_byte &&
            s->pam_changed) {
            s->pam_changed(s->opaque, reg - I440FX_PAM0, new_byte);
        }
        if (reg == I440FX_SMRAM) {
            i440fx_lock_smram_if_set(s);
        }
    }
}

I440FXState *i440fx_new(PCIBus *bus,
                        void (*pam_changed)(void *opaque, int pam_index, uint8_t value),
                        void *opaque)
{
    I440FXState *s = calloc(1, sizeof(*s));

    if (!s) {
        return NULL;
    }
    /* Class 06/00/00: host bridge; revision 02 as on shipped 440FX boards. */
    s->dev = pci_register_device(bus, I440FX_DEVFN, I440FX_VENDOR_ID, I440FX_DEVICE_ID, 0x06, 0x00,
                                 0x00, 0x02, 0x00);
    if (!s->dev) {
        free(s);
        return NULL;
    }
    s->pam_changed = pam_changed;
    s->opaque = opaque;
    /* PAM0 has only the 0xF0000 segment (bits 5:4); PAM1-6 have two. */
    pci_config_set_wmask(s->dev, I440FX_PAM0, 0x30, 1);
    for (int i = 1; i < I440FX_PAM_COUNT; i++) {
        pci_config_set_wmask(s->dev, I440FX_PAM0 + i, 0x33, 1);
    }
    pci_set_config_write_hook(s->dev, i440fx_config_write, s);
    i440fx_reset(s);
    return s;
}

void i440fx_free(I440FXState *s)
{
    free(s); /* the PCIDevice belongs to the bus */
}

void i440fx_reset(I440FXState *s)
{
    pci_config_set(s->dev, PCI_COMMAND, 0x0006, 2); /* memory and bus master on */
    pci_config_set(s->dev, PCI_STATUS, 0x0280, 2);  /* fast back-to-back, medium DEVSEL */
    for (int i = 0; i < I440FX_PAM_COUNT; i++) {
        uint8_t old = (uint8_t)pci_config_read(s->dev, I440FX_PAM0 + i, 1);

        /* 0: the BIOS area reads from and writes to ROM/PCI, not DRAM. */
        pci_config_set(s->dev, I440FX_PAM0 + i, 0, 1);
        if (old != 0 && s->pam_changed) {
            s->pam_changed(s->opaque, i, 0);
        }
    }
    pci_config_set(s->dev, I440FX_SMRAM, 0x02, 1);
    pci_config_set_wmask(s->dev, I440FX_SMRAM,
                         SMRAM_G_SMRAME | SMRAM_D_LCK | SMRAM_D_CLS | SMRAM_D_OPEN, 1);
}

PCIDevice *i440fx_pci_device(I440FXState *s)
{
    return s->dev;
}

/* ---- PIIX3 ---- */

/* Function 0 registers kept, with their reset values and writable bits. */
typedef struct PIIX3Reg {
    uint8_t offset;
    uint8_t size;
    uint32_t reset;
    uint32_t wmask;
} PIIX3Reg;

static const PIIX3Reg piix3_regs[] = {
    {0x4c, 1, 0x4d, 0xff},     /* IORT: ISA I/O recovery timer */
    {0x4e, 2, 0x0003, 0x07ff}, /* XBCS: X-bus chip select */
    {0x60, 1, 0x80, 0x8f},     /* PIRQRC[A]: bit 7 disables, 3:0 IRQ */
    {0x61, 1, 0x80, 0x8f},     /* PIRQRC[B] */
    {0x62, 1, 0x80, 0x8f},     /* PIRQRC[C] */
    {0x63, 1, 0x80, 0x8f},     /* PIRQRC[D] */
    {0x69, 1, 0x02, 0xfe},     /* TOM: top of memory for ISA DMA */
    {0x6a, 2, 0x0000, 0xffff}, /* MSTAT: miscellaneous status */
    {0x70, 1, 0x80, 0xcf},     /* MBIRQ0: motherboard device IRQ route */
    {0x71, 1, 0x80, 0xcf},     /* MBIRQ1 */
    {0x76, 1, 0x0c, 0x87},     /* MBDMA0 */
    {0x77, 1, 0x0c, 0x87},     /* MBDMA1 */
    {0x80, 1, 0x00, 0x7f},     /* APICBASE */
    {0x82, 1, 0x00, 0x0f},     /* DLC: deterministic latency control */
};

/* PIRQRC values 0-2, 8 and 13 are reserved: those IRQs cannot be shared. */
int piix3_pirq_route(PIIX3State *s, int pirq)
{
    uint8_t reg;
    int irq;

    if (pirq < 0 || pirq > 3) {
        return -1;
    }
    reg = (uint8_t)pci_config_read(s->dev, PIIX3_PIRQRC + pirq, 1);
    irq = reg & 0x0f;
    if ((reg & PIIX3_PIRQ_DISABLE) || irq <= 2 || irq == 8 || irq == 13) {
        return -1;
    }
    return irq;
}

static void piix3_update_isa_irqs(PIIX3State *s)
{
    int level[16] = {0};

    for (int pirq = 0; pirq < 4; pirq++) {
        int irq = piix3_pirq_route(s, pirq);

        if (irq >= 0 && s->pirq_level[pirq]) {
            level[irq] = 1;
        }
    }
    for (int irq = 0; irq < 16; irq++) {
        if (level[irq] != s->isa_level[irq]) {
            s->isa_level[irq] = level[irq];
            if (s->have_isa_irqs) {
                irq_set_level(&s->isa_irqs[irq], level[irq]);
            }
        }
    }
}

void piix3_set_pirq(PIIX3State *s, int pirq, int level)
{
    if (pirq < 0 || pirq > 3) {
        return;
    }
    s->pirq_level[pirq] = level != 0;
    piix3_update_isa_irqs(s);
}

int piix3_pirq_for_pin(int devfn, int pin)
{
    return ((PCI_SLOT(devfn) - 1 + (pin - 1)) % 4 + 4) % 4;
}

static void piix3_config_write(void *opaque, PCIDevice *dev, int offset, uint32_t old_value,
                               uint32_t new_value, int size)
{
    PIIX3State *s = opaque;

    if (offset < PIIX3_PIRQRC + 4 && offset + size > PIIX3_PIRQRC) {
        piix3_update_isa_irqs(s);
    }
}

/* Reset control: a 0 -> 1 edge of RCPU resets (82371SB, RC register). */
static uint32_t piix3_rc_read(void *opaque, uint16_t port, int size)
{
    PIIX3State *s = opaque;

    return s->rc;
}

static void piix3_rc_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    PIIX3State *s = opaque;
    uint8_t val = value & (PIIX3_RC_SRST | PIIX3_RC_RCPU);
    bool edge = (val & PIIX3_RC_RCPU) && !(s->rc & PIIX3_RC_RCPU);

    s->rc = val;
    if (edge && s->reset_request) {
        s->reset_request(s->opaque);
    }
}

PIIX3State *piix3_new(PCIBus *bus, IOPortMap *io, const IRQ *isa_irqs,
                      void (*reset_request)(void *opaque), void *opaque)
{
    PIIX3State *s = calloc(1, sizeof(*s));

    if (!s) {
        return NULL;
    }
    /* Class 06/01/00: ISA bridge.  Header type bit 7: functions 1 (IDE) and
     * 2 (USB) live behind it on a real PIIX3, so software must scan them. */
    s->dev = pci_register_device(bus, PIIX3_DEVFN, PIIX3_VENDOR_ID, PIIX3_DEVICE_ID, 0x06, 0x01,
                                 0x00, 0x00, PCI_HEADER_MULTIFUNCTION);
    if (!s->dev) {
        free(s);
        return NULL;
    }
    s->io = io;
    if (isa_irqs) {
        for (int i = 0; i < 16; i++) {
            s->isa_irqs[i] = isa_irqs[i];
        }
        s->have_isa_irqs = true;
    }
    s->reset_request = reset_request;
    s->opaque = opaque;
    for (size_t i = 0; i < sizeof(piix3_regs) / sizeof(piix3_regs[0]); i++) {
        pci_config_set_wmask(s->dev, piix3_regs[i].offset, piix3_regs[i].wmask, piix3_regs[i].size);
    }
    pci_set_config_write_hook(s->dev, piix3_config_write, s);
    piix3_reset(s);
    if (ioport_register(io, PIIX3_RESET_CONTROL, 1, 1, piix3_rc_read, piix3_rc_write, s) < 0) {
        free(s); /* the PCIDevice stays on the bus, owned by it */
        return NULL;
    }
    return s;
}

void piix3_free(PIIX3State *s)
{
    if (!s) {
        return;
    }
    ioport_unregister(s->io, PIIX3_RESET_CONTROL, 1);
    free(s);
}

void piix3_reset(PIIX3State *s)
{
    pci_config_set(s->dev, PCI_COMMAND, 0x0007, 2); /* I/O, memory, bus master */
    pci_config_set(s->dev, PCI_STATUS, 0x0200, 2);  /* medium DEVSEL */
    for (size_t i = 0; i < sizeof(piix3_regs) / sizeof(piix3_regs[0]); i++) {
        pci_config_set(s->dev, piix3_regs[i].offset, piix3_regs[i].reset, piix3_regs[i].size);
    }
    s->rc = 0;
    piix3_update_isa_irqs(s);
}

PCIDevice *piix3_pci_device(PIIX3State *s)
{
    return s->dev;
}

/* ---- saved state.  The i440FX's registers are its configuration space
 * ("pci" section, loaded first); what they set outside it, the PAM map,
 * is applied again.  The PIIX3 keeps the levels it routes. ---- */

static bool i440fx_post_load(VMReader *r, void *opaque, uint32_t version)
{
    I440FXState *s = opaque;
    for (int i = 0; i < I440FX_PAM_COUNT && s->pam_changed; i++) {
        s->pam_changed(s->opaque, i, (uint8_t)pci_config_get(s->dev, I440FX_PAM0 + i, 1));
    }
    return true;
}

const VMStateDesc i440fx_vmstate = {
    .name = "i440fx",
    .version = 1,
    .min_version = 1,
    .post_load = i440fx_post_load,
};

static const VMField piix3_fields[] = {
    VMS_INT_ARRAY(PIIX3State, pirq_level, 4),
    VMS_INT_ARRAY(PIIX3State, isa_level, 16),
    VMS_U8(PIIX3State, rc),
    VMS_END,
};

const VMStateDesc piix3_vmstate = {
    .name = "piix3",
    .version = 1,
    .min_version = 1,
    .fields = piix3_fields,
};
