/*
 * The e1000's EEPROM: a 64-word Microwire part (93C46) holding the MAC
 * address, the IDs and the checksum word, read either by bit-banging
 * its pins through EECD (SDM chapter 5; Linux's e1000 does this on an 82540)
 * or a word at a time through EERD (iPXE).  Writes are not modelled.
 */
#include <string.h>

#include "hw/net/e1000_internal.h"

/* EEPROM words the model fills (SDM 5.6): Initialization Control Word 1
 * must carry the signature 01b in bits 15:14 for the image to be valid;
 * Initialization Control Word 2 advertises symmetric and asymmetric PAUSE (bits 13:12). */
#define E1000_EEPROM_ICW1_SIGNATURE 0x4000
#define E1000_EEPROM_ICW2_PAUSE     0x3000

void e1000_eeprom_init(E1000State *s)
{
    uint16_t *w = s->eeprom;
    uint16_t sum = 0;
    memset(w, 0, sizeof(s->eeprom));
    for (int i = 0; i < 3; i++) {
        w[i] = (uint16_t)(s->mac[2 * i] | s->mac[2 * i + 1] << 8);
    }
    w[E1000_EEPROM_ID_LED] = 0xffff; /* default LED behaviour */
    w[E1000_EEPROM_INIT_CTRL1] = E1000_EEPROM_ICW1_SIGNATURE;
    w[E1000_EEPROM_SUBSYS_ID] = E1000_PCI_SUBSYS_ID;
    w[E1000_EEPROM_SUBSYS_VENDOR] = E1000_PCI_SUBSYS_VENDOR;
    w[E1000_EEPROM_DEVICE_ID] = E1000_DEV_ID_82540EM;
    w[E1000_EEPROM_VENDOR_ID] = E1000_VENDOR_INTEL;
    w[E1000_EEPROM_INIT_CTRL2] = E1000_EEPROM_ICW2_PAUSE;
    /* Words 00h-3Fh, checksum included, add up to BABAh (SDM 5.6.35). */
    for (int i = 0; i < E1000_EEPROM_CHECKSUM; i++) {
        sum = (uint16_t)(sum + w[i]);
    }
    w[E1000_EEPROM_CHECKSUM] = (uint16_t)(E1000_EEPROM_SUM - sum);
}

/* The hardware loads receive address 0 from EEPROM words 0-2 at reset. */
void e1000_load_mac_address(E1000State *s)
{
    const uint8_t *m = s->mac;
    e1000_set_reg(s, E1000_RA,
                  (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 |
                      (uint32_t)m[3] << 24);
    e1000_set_reg(s, E1000_RA + 4, E1000_RAH_AV | m[4] | (uint32_t)m[5] << 8);
}

/* The level on DO: a dummy 0 right after the address, then the data MSB
 * first, running on into the following words; idle, the line is high. */
uint32_t e1000_eecd_read(E1000State *s)
{
    uint32_t v = s->eecd | E1000_EECD_PRES;
    if (s->eecd & E1000_EECD_REQ) {
        v |= E1000_EECD_GNT;
    }
    if (!s->ee_reading) {
        v |= E1000_EECD_DO;
    } else if (s->ee_out_bit >= 0) {
        uint32_t word = (s->ee_addr + (uint32_t)s->ee_out_bit / 16) % E1000_EEPROM_WORDS;
        if (s->eeprom[word] >> (15 - s->ee_out_bit % 16) & 1) {
            v |= E1000_EECD_DO;
        }
    }
    return v;
}

void e1000_eecd_write(E1000State *s, uint32_t value)
{
    uint32_t old = s->eecd;
    s->eecd = value & E1000_EECD_LATCHED;
    if (!(value & E1000_EECD_CS)) {
        s->ee_reading = false; /* deselected: the command ends */
        return;
    }
    if (!(old & E1000_EECD_CS)) {
        s->ee_shift = 0; /* selected: a new command begins */
        s->ee_bits = 0;
        s->ee_reading = false;
    }
    if (!(value & ~old & E1000_EECD_SK)) {
        return; /* the EEPROM acts on rising clock edges only */
    }
    if (s->ee_reading) {
        s->ee_out_bit++;
        return;
    }
    /* Zeros before the start bit are ignored; after a complete command
     * that was not a READ (writes are not modelled) the clock does nothing. */
    if ((s->ee_bits == 0 && !(value & E1000_EECD_DI)) || s->ee_bits == 3 + E1000_EEPROM_ADDR_BITS) {
        return;
    }
    s->ee_shift = s->ee_shift << 1 | ((value & E1000_EECD_DI) ? 1 : 0);
    if (++s->ee_bits == 3 + E1000_EEPROM_ADDR_BITS &&
        s->ee_shift >> E1000_EEPROM_ADDR_BITS == E1000_EEPROM_READ_OPCODE) {
        s->ee_reading = true;
        s->ee_addr = s->ee_shift & (E1000_EEPROM_WORDS - 1);
        s->ee_out_bit = -1;
    }
}

/* EERD (SDM 13.4): a whole word per request, done at once.  Addresses past
 * the 64 words return zero. */
void e1000_eerd_write(E1000State *s, uint32_t value)
{
    uint32_t addr = (value & E1000_EERD_ADDR_MASK) >> E1000_EERD_ADDR_SHIFT;
    uint32_t result = addr << E1000_EERD_ADDR_SHIFT;
    if (value & E1000_EERD_START) {
        uint32_t data = addr < E1000_EEPROM_WORDS ? s->eeprom[addr] : 0;
        result |= E1000_EERD_DONE | data << E1000_EERD_DATA_SHIFT;
    }
    e1000_set_reg(s, E1000_EERD, result);
}

/* Reset: the pins low, no command in progress. */
void e1000_eecd_reset(E1000State *s)
{
    s->eecd = 0;
    s->ee_bits = 0;
    s->ee_reading = false;
}
