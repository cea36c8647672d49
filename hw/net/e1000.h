/*
 * Intel 82540EM Gigabit Ethernet controller ("e1000"), PCI 8086:100E, as
 * QEMU's -device e1000 presents it: what Linux's e1000 driver, iPXE and
 * other 8254x drivers need, with the internal M88E1011 PHY behind MDIC.
 */
#ifndef HW_NET_E1000_H
#define HW_NET_E1000_H

#include <stddef.h>
#include <stdint.h>

#include "hw/core/irq.h"
#include "hw/core/timer.h"
#include "hw/pci/pci.h"
#include "net/net.h"
#include "softmmu/phys.h"

typedef struct E1000State E1000State;

/*
 * A NIC at devfn on bus: BAR0 the 128 KiB of memory-mapped registers,
 * BAR1 the 8-port I/O window (IOADDR/IODATA), INTA through irq (level).
 * DMA goes only through phys.  tl: guest time for the interrupt delay and
 * throttling timers.  mac: its address (EEPROM words 0-2).  NULL if devfn
 * is taken or memory runs out.
 */
E1000State *e1000_new(PCIBus *bus, int devfn, PhysMem *phys, IRQ irq, TimerList *tl,
                      const uint8_t mac[6]);
/* The board attaches it to a link. */
NetClient *e1000_net_client(E1000State *s);
/* Power-on / PCI reset: configuration space and every register. */
void e1000_reset(E1000State *s);
/* Saved state: section "e1000" (hw/net/e1000_vmstate.c, migration/vmstate.h). */
extern const struct VMStateDesc e1000_vmstate;
void e1000_free(E1000State *s);
/* One line for `info network`-style listings (model, MAC, link); returns
 * the length it needed, as snprintf does. */
int e1000_info(E1000State *s, char *buf, size_t len);

#endif /* HW_NET_E1000_H */
