/*
 * PCI configuration mechanism #1 and the i440FX/PIIX3 functions, driven
 * through ports 0xCF8/0xCFC-0xCFF (and 0xCF9) only: address register
 * rules, access widths and lanes, write masks, W1C status bits, BAR sizing
 * and mapping, the chipset's IDs, PAM/SMRAM, PIRQ routing and reset control.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hw/pci/pci.h"
#include "hw/pci/piix.h"

#define TEST_DEVFN PCI_DEVFN(3, 0)

typedef struct Fixture {
    IOPortMap io;
    PCIBus *bus;
    PCIDevice *dev; /* a test function at 00:03.0 */
    uint32_t bar_addr[PCI_NUM_BARS];
    int bar_calls;
    int hook_calls;
    int hook_offset, hook_size;
    uint32_t hook_old, hook_new;
} Fixture;

static Fixture *f;

static void bar_map(void *opaque, int bar, uint32_t addr)
{
    Fixture *fx = opaque;

    fx->bar_addr[bar] = addr;
    fx->bar_calls++;
}

static void hook(void *opaque, PCIDevice *dev, int offset, uint32_t old_value, uint32_t new_value,
                 int size)
{
    Fixture *fx = opaque;

    fx->hook_calls++;
    fx->hook_offset = offset;
    fx->hook_size = size;
    fx->hook_old = old_value;
    fx->hook_new = new_value;
}

static void setup(void)
{
    f = calloc(1, sizeof(*f));
    ioport_init(&f->io);
    f->bus = pci_bus_new(&f->io);
    ck_assert_ptr_nonnull(f->bus);
    /* An Ethernet controller: 4 KiB memory BAR0, 32-byte I/O BAR1. */
    f->dev = pci_register_device(f->bus, TEST_DEVFN, 0x1234, 0x5678, 0x02, 0x00, 0x00, 0x01, 0x00);
    ck_assert_ptr_nonnull(f->dev);
    pci_register_bar(f->dev, 0, 0x1000, false, bar_map, f);
    pci_register_bar(f->dev, 1, 0x20, true, bar_map, f);
    for (int i = 0; i < PCI_NUM_BARS; i++) {
        f->bar_addr[i] = PCI_BAR_UNMAPPED;
    }
}

static void teardown(void)
{
    pci_bus_free(f->bus);
    free(f);
}

static void select_reg(int devfn, int reg)
{
    ioport_write(&f->io, PCI_CONFIG_ADDRESS, 0x80000000u | (devfn << 8) | (reg & 0xfc), 4);
}

static uint32_t cfg_read(int devfn, int reg, int size)
{
    select_reg(devfn, reg);
    return ioport_read(&f->io, PCI_CONFIG_DATA + (reg & 3), size);
}

static void cfg_write(int devfn, int reg, uint32_t val, int size)
{
    select_reg(devfn, reg);
    ioport_write(&f->io, PCI_CONFIG_DATA + (reg & 3), val, size);
}

START_TEST(test_config_address_register)
{
    /* Linux's type 1 probe: write 0x80000000, read it back. */
    ioport_write(&f->io, PCI_CONFIG_ADDRESS, 0x80000000u, 4);
    ck_assert_uint_eq(ioport_read(&f->io, PCI_CONFIG_ADDRESS, 4), 0x80000000u);
    /* Reserved bits 30:24 and 1:0 read 0. */
    ioport_write(&f->io, PCI_CONFIG_ADDRESS, 0xffffffffu, 4);
    ck_assert_uint_eq(ioport_read(&f->io, PCI_CONFIG_ADDRESS, 4), 0x80fffffcu);
    /* A byte write at 0xCF8/0xCFB is ordinary I/O, not CONFIG_ADDRESS. */
    ioport_write(&f->io, PCI_CONFIG_ADDRESS, 0x80001800u, 4);
    ioport_write(&f->io, PCI_CONFIG_ADDRESS + 3, 0x01, 1);
    ioport_write(&f->io, PCI_CONFIG_ADDRESS, 0x00, 1);
    ck_assert_uint_eq(ioport_read(&f->io, PCI_CONFIG_ADDRESS, 4), 0x80001800u);
}
END_TEST

START_TEST(test_ids_at_every_width_and_lane)
{
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, 0x00, 4), 0x56781234u);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, 0x00, 2), 0x1234);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, 0x02, 2), 0x5678);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, 0x00, 1), 0x34);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, 0x01, 1), 0x12);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, 0x02, 1), 0x78);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, 0x03, 1), 0x56);
    /* Class code 02/00/00, revision 01. */
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, 0x08, 4), 0x02000001u);
}
END_TEST

START_TEST(test_absent_or_disabled_reads_ones)
{
    ck_assert_uint_eq(cfg_read(PCI_DEVFN(7, 0), 0x00, 4), 0xffffffffu);
    ck_assert_uint_eq(cfg_read(PCI_DEVFN(7, 0), 0x00, 2), 0xffff);
    /* Bus 1 does not exist. */
    ioport_write(&f->io, PCI_CONFIG_ADDRESS, 0x80010000u | (TEST_DEVFN << 8), 4);
    ck_assert_uint_eq(ioport_read(&f->io, PCI_CONFIG_DATA, 4), 0xffffffffu);
    /* Enable bit clear: the data window is not configuration space. */
    ioport_write(&f->io, PCI_CONFIG_ADDRESS, (uint32_t)TEST_DEVFN << 8, 4);
    ck_assert_uint_eq(ioport_read(&f->io, PCI_CONFIG_DATA, 4), 0xffffffffu);
    ioport_write(&f->io, PCI_CONFIG_DATA, 0, 4);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, 0x00, 4), 0x56781234u);
}
END_TEST

START_TEST(test_read_only_fields_and_write_masks)
{
    cfg_write(TEST_DEVFN, 0x00, 0xdeadbeefu, 4);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, 0x00, 4), 0x56781234u);
    cfg_write(TEST_DEVFN, 0x08, 0xffffffffu, 4);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, 0x08, 4), 0x02000001u);
    cfg_write(TEST_DEVFN, PCI_HEADER_TYPE, 0xff, 1);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, PCI_HEADER_TYPE, 1), 0x00);
    /* Command: only the implemented enables stick. */
    cfg_write(TEST_DEVFN, PCI_COMMAND, 0xffff, 2);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, PCI_COMMAND, 2), 0x0547);
    /* Writable scratch-like registers. */
    cfg_write(TEST_DEVFN, PCI_INTERRUPT_LINE, 0x0b, 1);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, PCI_INTERRUPT_LINE, 1), 0x0b);
    cfg_write(TEST_DEVFN, PCI_LATENCY_TIMER, 0x40, 1);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, PCI_LATENCY_TIMER, 1), 0x40);
    /* Interrupt pin is the device's to set, not the guest's. */
    cfg_write(TEST_DEVFN, PCI_INTERRUPT_PIN, 0x01, 1);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, PCI_INTERRUPT_PIN, 1), 0x00);
}
END_TEST

START_TEST(test_status_write_one_to_clear)
{
    pci_config_set(f->dev, PCI_STATUS, 0x8100 | 0x0010, 2); /* error bits + cap list */
    cfg_write(TEST_DEVFN, PCI_STATUS, 0x0100, 2);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, PCI_STATUS, 2), 0x8010);
    cfg_write(TEST_DEVFN, PCI_STATUS, 0x0000, 2); /* writing 0 changes nothing */
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, PCI_STATUS, 2), 0x8010);
    cfg_write(TEST_DEVFN, PCI_STATUS, 0xffff, 2);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, PCI_STATUS, 2), 0x0010);
}
END_TEST

START_TEST(test_bar_sizing)
{
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, 0x10, 4), 0x00000000u);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, 0x14, 4), 0x00000001u);
    cfg_write(TEST_DEVFN, 0x10, 0xffffffffu, 4);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, 0x10, 4), 0xfffff000u);
    cfg_write(TEST_DEVFN, 0x14, 0xffffffffu, 4);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, 0x14, 4), 0xffffffe1u);
    /* Unimplemented BARs read 0 whatever is written. */
    cfg_write(TEST_DEVFN, 0x18, 0xffffffffu, 4);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, 0x18, 4), 0);
    /* Odd sizes round up to a power of two. */
    pci_register_bar(f->dev, 2, 0x300, false, NULL, NULL);
    cfg_write(TEST_DEVFN, 0x18, 0xffffffffu, 4);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, 0x18, 4), 0xfffffc00u);
    /* Sizing with decoding on must not map the BAR at the top of memory. */
    cfg_write(TEST_DEVFN, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
    ck_assert_uint_eq(f->bar_addr[0], PCI_BAR_UNMAPPED);
    ck_assert_uint_eq(f->bar_addr[1], PCI_BAR_UNMAPPED);
}
END_TEST

START_TEST(test_bar_mapping_follows_command)
{
    cfg_write(TEST_DEVFN, 0x10, 0xfebf0000u, 4);
    cfg_write(TEST_DEVFN, 0x14, 0xc041u, 4); /* low bits are not address */
    ck_assert_int_eq(f->bar_calls, 0);       /* decoding still off */
    cfg_write(TEST_DEVFN, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    ck_assert_uint_eq(f->bar_addr[0], 0xfebf0000u);
    ck_assert_uint_eq(f->bar_addr[1], PCI_BAR_UNMAPPED);
    cfg_write(TEST_DEVFN, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
    ck_assert_uint_eq(f->bar_addr[1], 0xc040u);
    ck_assert_uint_eq(pci_bar_address(f->dev, 1), 0xc040u);
    /* Moving a mapped BAR tells the device once. */
    int calls = f->bar_calls;
    cfg_write(TEST_DEVFN, 0x14, 0xc100u, 4);
    ck_assert_uint_eq(f->bar_addr[1], 0xc100u);
    ck_assert_int_eq(f->bar_calls, calls + 1);
    cfg_write(TEST_DEVFN, PCI_COMMAND, 0, 2);
    ck_assert_uint_eq(f->bar_addr[0], PCI_BAR_UNMAPPED);
    ck_assert_uint_eq(f->bar_addr[1], PCI_BAR_UNMAPPED);
}
END_TEST

START_TEST(test_config_write_hook)
{
    pci_config_set_wmask(f->dev, 0x40, 0xffff, 2);
    pci_set_config_write_hook(f->dev, hook, f);
    cfg_write(TEST_DEVFN, 0x40, 0xabcd, 2);
    ck_assert_int_eq(f->hook_calls, 1);
    ck_assert_int_eq(f->hook_offset, 0x40);
    ck_assert_int_eq(f->hook_size, 2);
    ck_assert_uint_eq(f->hook_old, 0);
    ck_assert_uint_eq(f->hook_new, 0xabcd);
    /* The hook sees the value after masking. */
    cfg_write(TEST_DEVFN, 0x42, 0x1234, 2);
    ck_assert_uint_eq(f->hook_new, 0);
    /* Byte lane 1 of the dword at 0x40. */
    cfg_write(TEST_DEVFN, 0x41, 0x99, 1);
    ck_assert_int_eq(f->hook_offset, 0x41);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, 0x40, 4), 0x000099cdu);
}
END_TEST

START_TEST(test_capability_list)
{
    /* No capabilities: status bit 4 clear, pointer 0. */
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, PCI_CAPABILITY_LIST, 1), 0);
    /* Appended in order, dword aligned from 0x40. */
    ck_assert_int_eq(pci_add_capability(f->dev, PCI_CAP_ID_VNDR, 14), 0x40);
    ck_assert_int_eq(pci_add_capability(f->dev, 0x05, 4), 0x50);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST,
                      PCI_STATUS_CAP_LIST);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, PCI_CAPABILITY_LIST, 1), 0x40);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, 0x40, 2), 0x5009); /* ID 09, next 50 */
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, 0x50, 2), 0x0005); /* ID 05, end */
    /* Read-only unless the device says otherwise; the guest cannot relink. */
    cfg_write(TEST_DEVFN, 0x40, 0xffffffffu, 4);
    cfg_write(TEST_DEVFN, PCI_CAPABILITY_LIST, 0x80, 1);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, 0x40, 4), 0x00005009u);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, PCI_CAPABILITY_LIST, 1), 0x40);
    /* A W1C write to status keeps the capability bit. */
    cfg_write(TEST_DEVFN, PCI_STATUS, 0xffff, 2);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, PCI_STATUS, 2), PCI_STATUS_CAP_LIST);
    /* What does not fit in 256 bytes is refused, and the list is unchanged. */
    ck_assert_int_eq(pci_add_capability(f->dev, 0x11, 0xb0), -1);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, 0x51, 1), 0);
    ck_assert_int_eq(pci_add_capability(f->dev, 0x11, 0xac), 0x54);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, 0x51, 1), 0x54);
}
END_TEST

static void read_hook(void *opaque, PCIDevice *dev, int offset, int size)
{
    Fixture *fx = opaque;

    fx->hook_calls++;
    fx->hook_offset = offset;
    fx->hook_size = size;
    pci_config_set(dev, 0x60, 0xabcd0000u | (uint32_t)fx->hook_calls, 4);
}

START_TEST(test_config_read_hook)
{
    pci_set_config_read_hook(f->dev, read_hook, f);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, 0x60, 4), 0xabcd0001u);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, 0x62, 2), 0xabcd);
    ck_assert_int_eq(f->hook_offset, 0x62);
    ck_assert_int_eq(f->hook_size, 2);
    ck_assert_uint_eq(cfg_read(TEST_DEVFN, 0x60, 1), 0x03);
    /* The device's own view does not call it. */
    ck_assert_uint_eq(pci_config_get(f->dev, 0x60, 4), 0xabcd0003u);
    ck_assert_uint_eq(pci_config_get(f->dev, 0xfe, 4), 0);
    /* Absent functions never reach it. */
    cfg_read(PCI_DEVFN(7, 0), 0x60, 4);
    ck_assert_int_eq(f->hook_calls, 3);
}
END_TEST

START_TEST(test_bus_io)
{
    ck_assert_ptr_eq(pci_bus_io(f->bus), &f->io);
}
END_TEST

START_TEST(test_duplicate_devfn_refused)
{
    ck_assert_ptr_null(pci_register_device(f->bus, TEST_DEVFN, 1, 2, 0, 0, 0, 0, 0));
    ck_assert_ptr_eq(pci_find_device(f->bus, TEST_DEVFN), f->dev);
}
END_TEST

START_TEST(test_pci_info)
{
    char buf[512];
    char small[16];
    int n;

    cfg_write(TEST_DEVFN, 0x14, 0xc040u, 4);
    cfg_write(TEST_DEVFN, PCI_COMMAND, PCI_COMMAND_IO, 2);
    n = pci_info(f->bus, buf, sizeof(buf));
    ck_assert_int_eq(n, (int)strlen(buf));
    ck_assert_ptr_nonnull(strstr(buf, "00:03.0 1234:5678 class 0200"));
    ck_assert_ptr_nonnull(strstr(buf, "BAR1: I/O at 0xc040 size 0x20"));
    ck_assert_ptr_nonnull(strstr(buf, "BAR0: memory size 0x1000, not mapped"));
    /* Truncation: still terminated, still reports the full length. */
    ck_assert_int_eq(pci_info(f->bus, small, sizeof(small)), n);
    ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
}
END_TEST

/* ---- i440FX / PIIX3 ---- */

typedef struct Chipset {
    I440FXState *i440fx;
    PIIX3State *piix3;
    int pam_calls;
    int pam_index;
    uint8_t pam_value;
    int resets;
    int isa_level[16];
} Chipset;

static Chipset *c;

static void on_pam(void *opaque, int index, uint8_t value)
{
    Chipset *cs = opaque;

    cs->pam_calls++;
    cs->pam_index = index;
    cs->pam_value = value;
}

static void on_reset(void *opaque)
{
    ((Chipset *)opaque)->resets++;
}

static void isa_irq(void *opaque, int n, int level)
{
    ((Chipset *)opaque)->isa_level[n] = level;
}

static void chipset_setup(void)
{
    IRQ irqs[16];

    setup();
    c = calloc(1, sizeof(*c));
    for (int i = 0; i < 16; i++) {
        irqs[i] = irq_make(isa_irq, c, i);
    }
    c->i440fx = i440fx_new(f->bus, on_pam, c);
    c->piix3 = piix3_new(f->bus, &f->io, irqs, on_reset, c);
    ck_assert_ptr_nonnull(c->i440fx);
    ck_assert_ptr_nonnull(c->piix3);
}

static void chipset_teardown(void)
{
    piix3_free(c->piix3);
    i440fx_free(c->i440fx);
    free(c);
    teardown();
}

START_TEST(test_chipset_ids)
{
    ck_assert_uint_eq(cfg_read(I440FX_DEVFN, 0x00, 4), 0x12378086u);
    ck_assert_uint_eq(cfg_read(I440FX_DEVFN, 0x0a, 2), 0x0600); /* host bridge */
    ck_assert_uint_eq(cfg_read(I440FX_DEVFN, PCI_HEADER_TYPE, 1), 0x00);
    ck_assert_uint_eq(cfg_read(PIIX3_DEVFN, 0x00, 4), 0x70008086u);
    ck_assert_uint_eq(cfg_read(PIIX3_DEVFN, 0x0a, 2), 0x0601); /* ISA bridge */
    ck_assert_uint_eq(cfg_read(PIIX3_DEVFN, PCI_HEADER_TYPE, 1) & PCI_HEADER_MULTIFUNCTION,
                      PCI_HEADER_MULTIFUNCTION);
    ck_assert_uint_eq(cfg_read(PIIX3_DEVFN, 0x00, 2), 0x8086);
}
END_TEST

START_TEST(test_pam_registers)
{
    for (int i = 0; i < I440FX_PAM_COUNT; i++) {
        ck_assert_uint_eq(cfg_read(I440FX_DEVFN, I440FX_PAM0 + i, 1), 0x00);
    }
    /* SeaBIOS makes 0xF0000 shadow RAM writable: PAM0 = 0x30. */
    cfg_write(I440FX_DEVFN, I440FX_PAM0, 0x30, 1);
    ck_assert_int_eq(c->pam_calls, 1);
    ck_assert_int_eq(c->pam_index, 0);
    ck_assert_uint_eq(c->pam_value, 0x30);
    /* PAM0's low nibble is reserved. */
    cfg_write(I440FX_DEVFN, I440FX_PAM0, 0xff, 1);
    ck_assert_uint_eq(cfg_read(I440FX_DEVFN, I440FX_PAM0, 1), 0x30);
    ck_assert_int_eq(c->pam_calls, 1); /* no change, no call */
    /* A dword write at 0x5C covers PAM3-PAM6. */
    cfg_write(I440FX_DEVFN, 0x5c, 0x33113311u, 4);
    ck_assert_int_eq(c->pam_calls, 5);
    ck_assert_int_eq(c->pam_index, 6);
    ck_assert_uint_eq(cfg_read(I440FX_DEVFN, 0x5c, 4), 0x33113311u);
    i440fx_reset(c->i440fx);
    ck_assert_uint_eq(cfg_read(I440FX_DEVFN, 0x5c, 4), 0);
    ck_assert_uint_eq(c->pam_value, 0);
}
END_TEST

START_TEST(test_smram_register_and_lock)
{
    ck_assert_uint_eq(cfg_read(I440FX_DEVFN, I440FX_SMRAM, 1), 0x02);
    cfg_write(I440FX_DEVFN, I440FX_SMRAM, 0x4a, 1); /* D_OPEN | G_SMRAME */
    ck_assert_uint_eq(cfg_read(I440FX_DEVFN, I440FX_SMRAM, 1), 0x4a);
    cfg_write(I440FX_DEVFN, I440FX_SMRAM, 0x00, 1);
    ck_assert_uint_eq(cfg_read(I440FX_DEVFN, I440FX_SMRAM, 1), 0x02); /* C_BASE_SEG is RO */
    /* D_LCK clears D_OPEN and freezes all but D_CLS. */
    cfg_write(I440FX_DEVFN, I440FX_SMRAM, 0x5a, 1);
    ck_assert_uint_eq(cfg_read(I440FX_DEVFN, I440FX_SMRAM, 1), 0x1a);
    cfg_write(I440FX_DEVFN, I440FX_SMRAM, 0x62, 1);
    ck_assert_uint_eq(cfg_read(I440FX_DEVFN, I440FX_SMRAM, 1), 0x3a);
    i440fx_reset(c->i440fx);
    cfg_write(I440FX_DEVFN, I440FX_SMRAM, 0x4a, 1);
    ck_assert_uint_eq(cfg_read(I440FX_DEVFN, I440FX_SMRAM, 1), 0x4a);
}
END_TEST

START_TEST(test_pirq_routing)
{
    ck_assert_uint_eq(cfg_read(PIIX3_DEVFN, PIIX3_PIRQRC, 4), 0x80808080u);
    ck_assert_int_eq(piix3_pirq_route(c->piix3, 0), -1);
    piix3_set_pirq(c->piix3, 0, 1);
    for (int i = 0; i < 16; i++) {
        ck_assert_int_eq(c->isa_level[i], 0); /* routing disabled */
    }
    /* SeaBIOS's routing: A,B -> 10, C,D -> 11. */
    cfg_write(PIIX3_DEVFN, PIIX3_PIRQRC, 0x0b0b0a0au, 4);
    ck_assert_int_eq(piix3_pirq_route(c->piix3, 0), 10);
    ck_assert_int_eq(piix3_pirq_route(c->piix3, 3), 11);
    ck_assert_int_eq(c->isa_level[10], 1);
    /* Two PIRQs on one IRQ are wire-ORed. */
    piix3_set_pirq(c->piix3, 1, 1);
    piix3_set_pirq(c->piix3, 0, 0);
    ck_assert_int_eq(c->isa_level[10], 1);
    piix3_set_pirq(c->piix3, 1, 0);
    ck_assert_int_eq(c->isa_level[10], 0);
    /* Rerouting a raised line moves the level. */
    piix3_set_pirq(c->piix3, 2, 1);
    ck_assert_int_eq(c->isa_level[11], 1);
    cfg_write(PIIX3_DEVFN, PIIX3_PIRQRC + 2, 0x05, 1);
    ck_assert_int_eq(c->isa_level[11], 0);
    ck_assert_int_eq(c->isa_level[5], 1);
    /* Reserved bits 6:4 do not stick; IRQ 2 is not a valid target. */
    cfg_write(PIIX3_DEVFN, PIIX3_PIRQRC + 3, 0x72, 1);
    ck_assert_uint_eq(cfg_read(PIIX3_DEVFN, PIIX3_PIRQRC + 3, 1), 0x02);
    ck_assert_int_eq(piix3_pirq_route(c->piix3, 3), -1);
    /* The board swizzle: slot 3 INTA -> PIRQC, slot 1 INTD -> PIRQD. */
    ck_assert_int_eq(piix3_pirq_for_pin(PCI_DEVFN(3, 0), 1), 2);
    ck_assert_int_eq(piix3_pirq_for_pin(PCI_DEVFN(1, 0), 4), 3);
    ck_assert_int_eq(piix3_pirq_for_pin(PCI_DEVFN(0, 0), 1), 3);
}
END_TEST

START_TEST(test_reset_control_register)
{
    /* Linux reboot=pci: SRST, then SRST | RCPU. */
    ioport_write(&f->io, PIIX3_RESET_CONTROL, 0x02, 1);
    ck_assert_int_eq(c->resets, 0);
    ck_assert_uint_eq(ioport_read(&f->io, PIIX3_RESET_CONTROL, 1), 0x02);
    ioport_write(&f->io, PIIX3_RESET_CONTROL, 0x06, 1);
    ck_assert_int_eq(c->resets, 1);
    /* Only the 0 -> 1 edge of RCPU resets. */
    ioport_write(&f->io, PIIX3_RESET_CONTROL, 0x06, 1);
    ck_assert_int_eq(c->resets, 1);
    piix3_reset(c->piix3);
    ck_assert_uint_eq(ioport_read(&f->io, PIIX3_RESET_CONTROL, 1), 0x00);
    /* The FADT reset register writes 0x06 in one go. */
    ioport_write(&f->io, PIIX3_RESET_CONTROL, 0x06, 1);
    ck_assert_int_eq(c->resets, 2);
    /* 0xCF9 did not disturb CONFIG_ADDRESS, and dword 0xCF8 still works. */
    ioport_write(&f->io, PCI_CONFIG_ADDRESS, 0x80000800u, 4);
    ck_assert_uint_eq(ioport_read(&f->io, PCI_CONFIG_ADDRESS, 4), 0x80000800u);
    ck_assert_int_eq(c->resets, 2);
}
END_TEST

static Suite *pci_suite(void)
{
    Suite *s = suite_create("pci");
    TCase *bus = tcase_create("bus");
    TCase *chip = tcase_create("i440fx-piix3");

    tcase_add_checked_fixture(bus, setup, teardown);
    tcase_add_test(bus, test_config_address_register);
    tcase_add_test(bus, test_ids_at_every_width_and_lane);
    tcase_add_test(bus, test_absent_or_disabled_reads_ones);
    tcase_add_test(bus, test_read_only_fields_and_write_masks);
    tcase_add_test(bus, test_status_write_one_to_clear);
    tcase_add_test(bus, test_bar_sizing);
    tcase_add_test(bus, test_bar_mapping_follows_command);
    tcase_add_test(bus, test_config_write_hook);
    tcase_add_test(bus, test_capability_list);
    tcase_add_test(bus, test_config_read_hook);
    tcase_add_test(bus, test_bus_io);
    tcase_add_test(bus, test_duplicate_devfn_refused);
    tcase_add_test(bus, test_pci_info);
    suite_add_tcase(s, bus);

    tcase_add_checked_fixture(chip, chipset_setup, chipset_teardown);
    tcase_add_test(chip, test_chipset_ids);
    tcase_add_test(chip, test_pam_registers);
    tcase_add_test(chip, test_smram_register_and_lock);
    tcase_add_test(chip, test_pirq_routing);
    tcase_add_test(chip, test_reset_control_register);
    suite_add_tcase(s, chip);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pci_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
