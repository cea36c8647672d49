/*
 * The e1000's PHY, an M88E1011 at MDIO address 1, reached through MDIC:
 * the IEEE 802.3 clause 22 registers plus Marvell's specific control and
 * status, and the carrier as the link reports it.  With nothing on the
 * other end to negotiate with, auto-negotiation completes as soon as the
 * link is up: 1000BASE-T full duplex, the partner advertising 10/100 and
 * 1000.
 */
#include <string.h>

#include "hw/net/e1000_internal.h"

/* The PHY's view of the carrier: link and auto-negotiation status, what
 * the partner advertised, the speed and duplex it resolved (1000 full). */
static void e1000_phy_update_link(E1000State *s)
{
    uint16_t *phy = s->phy;
    phy[MII_BMSR] &= (uint16_t) ~(MII_BMSR_LINK | MII_BMSR_ANEGDONE);
    if (!s->link_up) {
        phy[MII_ANLPAR] = 0;
        phy[MII_ANER] = 0;
        phy[MII_STAT1000] = 0;
        phy[M88_PHY_SPEC_STATUS] = 0;
        return;
    }
    phy[MII_BMSR] |= MII_BMSR_LINK;
    if (phy[MII_BMCR] & MII_BMCR_ANENABLE) {
        phy[MII_BMSR] |= MII_BMSR_ANEGDONE;
    }
    phy[MII_ANLPAR] = MII_ANLPAR_ACK | MII_ADV_100FULL | MII_ADV_100HALF | MII_ADV_10FULL |
                      MII_ADV_10HALF | MII_ADV_CSMA;
    phy[MII_ANER] = MII_ANER_LPAN;
    phy[MII_STAT1000] = MII_STAT1000_LOCAL_OK | MII_STAT1000_REMOTE_OK | MII_STAT1000_LP_FULL |
                        MII_STAT1000_LP_HALF;
    phy[M88_PHY_SPEC_STATUS] =
        M88_PSSR_SPEED_1000 | M88_PSSR_FULL_DUPLEX | M88_PSSR_RESOLVED | M88_PSSR_LINK;
}

void e1000_phy_reset(E1000State *s)
{
    uint16_t *phy = s->phy;
    memset(phy, 0, sizeof(s->phy));
    phy[MII_BMCR] = MII_BMCR_ANENABLE | MII_BMCR_FD | MII_BMCR_SPEED1000;
    phy[MII_BMSR] = MII_BMSR_CAPS;
    phy[MII_PHYID1] = M88_PHY_ID1;
    phy[MII_PHYID2] = M88_PHY_ID2;
    phy[MII_ANAR] = MII_ADV_ASYM_PAUSE | MII_ADV_PAUSE | MII_ADV_100FULL | MII_ADV_100HALF |
                    MII_ADV_10FULL | MII_ADV_10HALF | MII_ADV_CSMA;
    phy[MII_CTRL1000] = MII_CTRL1000_FULL | MII_CTRL1000_HALF;
    phy[MII_EXTSTAT] = MII_EXTSTAT_1000T_FULL | MII_EXTSTAT_1000T_HALF;
    phy[M88_PHY_SPEC_CTRL] = M88_PSCR_DEFAULT;
    phy[M88_EXT_PHY_SPEC_CTRL] = M88_EPSCR_DEFAULT;
    e1000_phy_update_link(s);
}

/* A new carrier state: STATUS.LU and the PHY follow; a change raises LSC. */
void e1000_set_link(E1000State *s, bool up)
{
    if (s->link_up == up) {
        return;
    }
    s->link_up = up;
    e1000_phy_update_link(s);
    e1000_set_ics(s, E1000_ICR_LSC);
}

void e1000_link_changed(void *opaque, bool up)
{
    e1000_set_link(opaque, up);
}

/* Before software looks at the link, take the carrier from the net layer:
 * attaching a cable need not come with a link_changed call. */
void e1000_link_sync(E1000State *s)
{
    e1000_set_link(s, net_client_link_up(&s->nc));
}

static void e1000_phy_write(E1000State *s, uint32_t reg, uint16_t value)
{
    switch (reg) {
    case MII_BMCR:
        /* A software reset (BMCR.RESET) makes the other registers'
         * settings take effect and keeps them, which is why drivers write
         * the M88's control registers first and reset afterwards; only
         * CTRL.PHY_RST restores the defaults.  Restarting auto-negotiation
         * completes at once: there is nothing to negotiate with.  Both
         * bits clear themselves. */
        s->phy[reg] = value & MII_BMCR_WRITABLE;
        e1000_phy_update_link(s);
        break;
    case MII_BMSR:
    case MII_PHYID1:
    case MII_PHYID2:
    case MII_ANLPAR:
    case MII_ANER:
    case MII_STAT1000:
    case MII_EXTSTAT:
    case M88_PHY_SPEC_STATUS: break;
    default: s->phy[reg] = value; break;
    }
}

/* MDIC (SDM 13.4): one PHY register access, complete when written.  Only
 * the internal PHY at address 1 answers. */
void e1000_mdic_write(E1000State *s, uint32_t value)
{
    uint32_t reg = (value & E1000_MDIC_REG_MASK) >> E1000_MDIC_REG_SHIFT;
    uint32_t phy_addr = (value & E1000_MDIC_PHY_MASK) >> E1000_MDIC_PHY_SHIFT;
    uint32_t op = value & (E1000_MDIC_OP_READ | E1000_MDIC_OP_WRITE);
    uint32_t result = value & ~(E1000_MDIC_READY | E1000_MDIC_ERROR);
    if (phy_addr != E1000_PHY_ADDR || op == 0 || op == (E1000_MDIC_OP_READ | E1000_MDIC_OP_WRITE)) {
        result |= E1000_MDIC_ERROR;
    } else if (op == E1000_MDIC_OP_READ) {
        e1000_link_sync(s);
        result = (result & ~E1000_MDIC_DATA_MASK) | s->phy[reg];
    } else {
        e1000_phy_write(s, reg, (uint16_t)(value & E1000_MDIC_DATA_MASK));
    }
    e1000_set_reg(s, E1000_MDIC, result | E1000_MDIC_READY);
    if (value & E1000_MDIC_INT_EN) {
        e1000_set_ics(s, E1000_ICR_MDAC);
    }
}
