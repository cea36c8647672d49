/*
 * The e1000's saved state ("e1000"): MAC and PHY registers (the rings'
 * addresses and head/tail indices among them), the EEPROM and its serial
 * interface, interrupt throttling and delay timers, and a transmit walk
 * in progress (the frame gathered so far, the descriptor it stopped in).
 * Where BAR0 and BAR1 decode follows from the restored configuration
 * space.  A frame the cable held for a busy receiver is not saved: it is
 * lost, as on a wire that was cut and plugged in again.
 */
#include <string.h>

#include "hw/net/e1000_internal.h"
#include "migration/vmstate.h"

static const VMField e1000_ctx_fields[] = {
    VMS_U8(E1000TxContext, ipcss),   VMS_U8(E1000TxContext, ipcso),  VMS_U16(E1000TxContext, ipcse),
    VMS_U8(E1000TxContext, tucss),   VMS_U8(E1000TxContext, tucso),  VMS_U16(E1000TxContext, tucse),
    VMS_U32(E1000TxContext, paylen), VMS_U8(E1000TxContext, hdrlen), VMS_U16(E1000TxContext, mss),
    VMS_BOOL(E1000TxContext, ipv4),  VMS_BOOL(E1000TxContext, tcp),  VMS_END,
};

static const VMStateDesc e1000_ctx_desc = {.name = "context", .fields = e1000_ctx_fields};

static void e1000_tx_save(VMWriter *w, void *opaque)
{
    E1000Tx *t = opaque;
    vm_put_blob(w, t->buf, t->len);
}

static bool e1000_tx_load(VMReader *r, void *opaque, uint32_t version)
{
    E1000Tx *t = opaque;
    t->len = vm_get_blob(r, t->buf, NET_MAX_FRAME);
    return !r->failed;
}

static const VMField e1000_tx_fields[] = {
    VMS_STRUCT(E1000Tx, ctx, E1000TxContext, e1000_ctx_desc),
    VMS_STRUCT(E1000Tx, tso_ctx, E1000TxContext, e1000_ctx_desc),
    VMS_STRUCT(E1000Tx, seg_ctx, E1000TxContext, e1000_ctx_desc),
    VMS_BYTES(E1000Tx, header, 256),
    VMS_BOOL(E1000Tx, started),
    VMS_BOOL(E1000Tx, tse),
    VMS_BOOL(E1000Tx, overflow),
    VMS_U8(E1000Tx, popts),
    VMS_BOOL(E1000Tx, legacy_ic),
    VMS_U8(E1000Tx, legacy_cso),
    VMS_U8(E1000Tx, legacy_css),
    VMS_BOOL(E1000Tx, vlan),
    VMS_U16(E1000Tx, vlan_tci),
    VMS_U32_RANGE(E1000Tx, seg_limit, 0, E1000_TX_MAX_FRAME),
    VMS_U32(E1000Tx, tso_frames),
    VMS_U32(E1000Tx, tso_sent),
    VMS_BYTES(E1000Tx, desc, E1000_DESC_SIZE),
    VMS_U64(E1000Tx, desc_addr),
    VMS_BOOL(E1000Tx, desc_loaded),
    VMS_U32_RANGE(E1000Tx, desc_done, 0, 0x10000),
    VMS_I64(E1000Tx, budget),
    VMS_END,
};

static const VMStateDesc e1000_tx_desc = {
    .name = "tx",
    .fields = e1000_tx_fields,
    .save = e1000_tx_save,
    .load = e1000_tx_load,
};

static const VMField e1000_fields[] = {
    VMS_U32_RANGE(E1000State, ioaddr, 0, E1000_MMIO_SIZE - 1),
    VMS_U32_ARRAY(E1000State, regs, E1000_REG_SPACE / 4),
    VMS_U16_ARRAY(E1000State, phy, E1000_PHY_REGS),
    VMS_U16_ARRAY(E1000State, eeprom, E1000_EEPROM_WORDS),
    VMS_U32(E1000State, eecd),
    VMS_U32(E1000State, ee_shift),
    VMS_INT_RANGE(E1000State, ee_bits, 0, 3 + E1000_EEPROM_ADDR_BITS),
    VMS_BOOL(E1000State, ee_reading),
    VMS_U32_RANGE(E1000State, ee_addr, 0, E1000_EEPROM_WORDS - 1),
    VMS_ENTRY_(E1000State, ee_out_bit, int32_t, VMF_INT, 1, -1, INT32_MAX),
    VMS_BOOL(E1000State, link_up),
    VMS_BOOL(E1000State, irq_level),
    VMS_BOOL(E1000State, irq_out),
    VMS_I64(E1000State, itr_next),
    VMS_TIMER(E1000State, itr_timer),
    VMS_TIMER(E1000State, rdtr_timer),
    VMS_TIMER(E1000State, radv_timer),
    VMS_TIMER(E1000State, tidv_timer),
    VMS_TIMER(E1000State, tadv_timer),
    VMS_TIMER(E1000State, tx_timer),
    VMS_STRUCT(E1000State, tx, E1000Tx, e1000_tx_desc),
    VMS_END,
};

const VMStateDesc e1000_vmstate = {
    .name = "e1000",
    .version = 1,
    .min_version = 1,
    .fields = e1000_fields,
};
