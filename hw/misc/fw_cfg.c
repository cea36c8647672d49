/*
 * fw_cfg (see fw_cfg.h).
 *
 * Every item is a byte array owned here.  The guest has one cursor: a
 * selector and an offset into that item.  The port interface reads a byte
 * at a time; the DMA interface moves whole ranges between the item and
 * guest memory, which is how SeaBIOS loads kernels and ACPI blobs quickly.
 * Writes into items (the write channel) are not offered: QEMU uses them
 * only for features popek's firmware setup does not advertise, and a DMA
 * write request completes with the error bit, as QEMU does for a
 * read-only item.
 */
#include <stdlib.h>
#include <string.h>

#include "hw/misc/fw_cfg.h"
#include "migration/vmstate.h"

#define FW_CFG_ARCH_COUNT     4
#define FW_CFG_INDEX_MASK     0x3fff

typedef struct FWCfgItem {
    uint8_t *data; /* owned; NULL when empty */
    uint32_t len;
} FWCfgItem;

struct FWCfgState {
    IOPortMap *io;
    PhysMem *phys;                                       /* DMA target, NULL: no DMA */
    FWCfgItem std[FW_CFG_FILE_FIRST + FW_CFG_MAX_FILES]; /* fixed items, then files */
    FWCfgItem arch[FW_CFG_ARCH_COUNT];                   /* 0x8000-0x8003 */
    char names[FW_CFG_MAX_FILES][FW_CFG_NAME_LEN];       /* file names by slot */
    int nfiles;
    uint16_t key;      /* current selector */
    uint32_t offset;   /* cursor within the current item */
    uint32_t dma_high; /* DMA address bits 63:32 as last written */
};

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    put_be16(p, (uint16_t)(v >> 16));
    put_be16(p + 2, (uint16_t)v);
}

static uint32_t get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint32_t bswap32(uint32_t v)
{
    return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
}

/* The item a selector names, or NULL for a selector outside both tables. */
static FWCfgItem *fw_cfg_slot(FWCfgState *s, uint16_t key)
{
    uint16_t index = key & FW_CFG_INDEX_MASK;
    if (key & FW_CFG_ARCH_LOCAL) {
        return index < FW_CFG_ARCH_COUNT ? &s->arch[index] : NULL;
    }
    return index < FW_CFG_FILE_FIRST + FW_CFG_MAX_FILES ? &s->std[index] : NULL;
}

static bool fw_cfg_set(FWCfgItem *item, const void *data, uint32_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) {
        return false;
    }
    if (len) {
        memcpy(copy, data, len);
    }
    free(item->data);
    item->data = copy;
    item->len = len;
    return true;
}

/* Directory (item 0x19): be32 count, then one 64-byte entry per file. */
static void fw_cfg_rebuild_dir(FWCfgState *s)
{
    uint32_t len = 4 + (uint32_t)s->nfiles * FW_CFG_DIR_ENTRY_LEN;
    uint8_t *dir = calloc(1, len);
    if (!dir) {
        return;
    }
    put_be32(dir, (uint32_t)s->nfiles);
    for (int i = 0; i < s->nfiles; i++) {
        uint8_t *e = dir + 4 + i * FW_CFG_DIR_ENTRY_LEN;
        put_be32(e, s->std[FW_CFG_FILE_FIRST + i].len);
        put_be16(e + 4, (uint16_t)(FW_CFG_FILE_FIRST + i));
        memcpy(e + 8, s->names[i], FW_CFG_NAME_LEN);
    }
    fw_cfg_set(&s->std[FW_CFG_FILE_DIR], dir, len);
    free(dir);
}

bool fw_cfg_add_bytes(FWCfgState *s, uint16_t key, const void *data, uint32_t len)
{
    FWCfgItem *item = fw_cfg_slot(s, key);
    uint16_t index = key & FW_CFG_INDEX_MASK;
    if (!item || (!(key & FW_CFG_ARCH_LOCAL) && index >= FW_CFG_FILE_FIRST) ||
        index == FW_CFG_FILE_DIR) {
        return false;
    }
    return fw_cfg_set(item, data, len);
}

bool fw_cfg_add_i16(FWCfgState *s, uint16_t key, uint16_t value)
{
    uint8_t b[2] = {(uint8_t)value, (uint8_t)(value >> 8)};
    return fw_cfg_add_bytes(s, key, b, sizeof(b));
}

bool fw_cfg_add_i32(FWCfgState *s, uint16_t key, uint32_t value)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++) {
        b[i] = (uint8_t)(value >> (8 * i));
    }
    return fw_cfg_add_bytes(s, key, b, sizeof(b));
}

bool fw_cfg_add_i64(FWCfgState *s, uint16_t key, uint64_t value)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(value >> (8 * i));
    }
    return fw_cfg_add_bytes(s, key, b, sizeof(b));
}

int fw_cfg_add_file(FWCfgState *s, const char *name, const void *data, uint32_t len)
{
    size_t namelen = strlen(name);
    if (namelen == 0 || namelen >= FW_CFG_NAME_LEN) {
        return -1;
    }
    int slot = 0;
    while (slot < s->nfiles && strcmp(s->names[slot], name) != 0) {
        slot++;
    }
    if (slot == FW_CFG_MAX_FILES) {
        return -1;
    }
    if (!fw_cfg_set(&s->std[FW_CFG_FILE_FIRST + slot], data, len)) {
        return -1;
    }
    if (slot == s->nfiles) {
        memset(s->names[slot], 0, FW_CFG_NAME_LEN);
        memcpy(s->names[slot], name, namelen);
        s->nfiles++;
    }
    fw_cfg_rebuild_dir(s);
    return FW_CFG_FILE_FIRST + slot;
}

const uint8_t *fw_cfg_item(FWCfgState *s, uint16_t key, uint32_t *len)
{
    FWCfgItem *item = fw_cfg_slot(s, key);
    if (!item || !item->data) {
        return NULL;
    }
    *len = item->len;
    return item->data;
}

/* ---- the port interface ---- */

static void fw_cfg_select(FWCfgState *s, uint16_t key)
{
    s->key = key;
    s->offset = 0;
}

static uint8_t fw_cfg_next_byte(FWCfgState *s)
{
    FWCfgItem *item = fw_cfg_slot(s, s->key);
    if (!item || !item->data || s->offset >= item->len) {
        return 0;
    }
    return item->data[s->offset++];
}

/* 0x510-0x511: a word write at 0x510 selects; byte reads at either port
 * return data, as QEMU's combined I/O region does.  Byte writes to the
 * data port went away in QEMU 2.4 and are ignored here too. */
static uint32_t fw_cfg_io_read(void *opaque, uint16_t port, int size)
{
    FWCfgState *s = opaque;
    if (size != 1) {
        return 0xffffffffu;
    }
    return fw_cfg_next_byte(s);
}

static void fw_cfg_io_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    FWCfgState *s = opaque;
    if (port == FW_CFG_PORT_SEL && size == 2) {
        fw_cfg_select(s, (uint16_t)value);
    }
}

/* ---- the DMA interface ---- */

/* Move len bytes of the current item, from the cursor on, to guest memory
 * at addr (to_guest) or just past them (skip).  Past the end reads zeros,
 * filled in one step: a guest may ask for up to 4 GiB in one port write. */
static void fw_cfg_dma_read(FWCfgState *s, uint32_t addr, uint32_t len, bool to_guest)
{
    FWCfgItem *item = fw_cfg_slot(s, s->key);
    uint32_t item_len = item && item->data ? item->len : 0;
    uint32_t left = s->offset < item_len ? item_len - s->offset : 0;
    uint32_t n = len < left ? len : left;
    if (to_guest) {
        if (n > 0) {
            phys_write_buf(s->phys, addr, item->data + s->offset, n);
        }
        phys_fill(s->phys, addr + n, 0, len - n);
    }
    uint64_t next = (uint64_t)s->offset + len;
    s->offset = next > UINT32_MAX ? UINT32_MAX : (uint32_t)next;
}

/* Run the FWCfgDmaAccess at addr: be32 control, be32 length, be64 address.
 * Completion clears control (or leaves only the error bit). */
static void fw_cfg_dma_run(FWCfgState *s, uint64_t addr)
{
    uint8_t desc[16];
    if (addr > UINT32_MAX - sizeof(desc)) {
        return; /* beyond the 32-bit physical space: nowhere to report */
    }
    phys_read_buf(s->phys, (uint32_t)addr, desc, sizeof(desc));
    uint32_t control = get_be32(desc);
    uint32_t length = get_be32(desc + 4);
    uint64_t target = ((uint64_t)get_be32(desc + 8) << 32) | get_be32(desc + 12);
    bool error = false;

    if (control & FW_CFG_DMA_CTL_SELECT) {
        fw_cfg_select(s, (uint16_t)(control >> 16));
    }
    if (control & FW_CFG_DMA_CTL_READ) {
        if (target + length > 0x100000000ull) {
            error = true;
        } else {
            fw_cfg_dma_read(s, (uint32_t)target, length, true);
        }
    } else if (control & FW_CFG_DMA_CTL_SKIP) {
        fw_cfg_dma_read(s, 0, length, false);
    } else if (control & FW_CFG_DMA_CTL_WRITE) {
        error = true;
    }
    uint8_t done[4];
    put_be32(done, error ? FW_CFG_DMA_CTL_ERROR : 0);
    phys_write_buf(s->phys, (uint32_t)addr, done, sizeof(done));
}

/* The DMA register reads back the signature "QEMU CFG" in port order. */
static uint32_t fw_cfg_dma_io_read(void *opaque, uint16_t port, int size)
{
    return port == FW_CFG_PORT_DMA_HIGH ? 0x554d4551u : 0x47464320u;
}

/* The guest stores the address big endian (outl(cpu_to_be32(x))), so the
 * value the port sees is the byte-swapped address. */
static void fw_cfg_dma_io_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    FWCfgState *s = opaque;
    if (port == FW_CFG_PORT_DMA_HIGH) {
        s->dma_high = bswap32(value);
        return;
    }
    uint64_t addr = ((uint64_t)s->dma_high << 32) | bswap32(value);
    s->dma_high = 0;
    fw_cfg_dma_run(s, addr);
}

/* ---- life cycle ---- */

FWCfgState *fw_cfg_new(IOPortMap *io, PhysMem *phys)
{
    FWCfgState *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->io = io;
    s->phys = phys;
    if (ioport_register(io, FW_CFG_PORT_SEL, 2, 1 | 2, fw_cfg_io_read, fw_cfg_io_write, s) < 0) {
        free(s);
        return NULL;
    }
    if (phys && ioport_register(io, FW_CFG_PORT_DMA_HIGH, 8, 4, fw_cfg_dma_io_read,
                                fw_cfg_dma_io_write, s) < 0) {
        ioport_unregister(io, FW_CFG_PORT_SEL, 2);
        free(s);
        return NULL;
    }
    fw_cfg_add_bytes(s, FW_CFG_SIGNATURE, "QEMU", 4);
    fw_cfg_add_i32(s, FW_CFG_ID, FW_CFG_VERSION | (phys ? FW_CFG_VERSION_DMA : 0));
    fw_cfg_rebuild_dir(s);
    return s;
}

void fw_cfg_free(FWCfgState *s)
{
    if (!s) {
        return;
    }
    ioport_unregister(s->io, FW_CFG_PORT_SEL, 2);
    if (s->phys) {
        ioport_unregister(s->io, FW_CFG_PORT_DMA_HIGH, 8);
    }
    for (size_t i = 0; i < sizeof(s->std) / sizeof(s->std[0]); i++) {
        free(s->std[i].data);
    }
    for (int i = 0; i < FW_CFG_ARCH_COUNT; i++) {
        free(s->arch[i].data);
    }
    free(s);
}

void fw_cfg_reset(FWCfgState *s)
{
    fw_cfg_select(s, FW_CFG_SIGNATURE);
    s->dma_high = 0;
}

/* ---- saved state: the cursor; the items are rebuilt from the command
 * line by the new process ---- */

static const VMField fw_cfg_fields[] = {
    VMS_U16(FWCfgState, key),
    VMS_U32(FWCfgState, offset),
    VMS_U32(FWCfgState, dma_high),
    VMS_END,
};

const VMStateDesc fw_cfg_vmstate = {
    .name = "fw_cfg",
    .version = 1,
    .min_version = 1,
    .fields = fw_cfg_fields,
};
