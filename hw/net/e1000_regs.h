/*
 * Intel 82540EM register map, descriptor layouts and PHY registers, named
 * as in the "PCI/PCI-X Family of Gigabit Ethernet Controllers Software
 * Developer's Manual" (SDM): chapter 13 for the MAC registers, chapter 3
 * for the descriptors, chapter 5 for the EEPROM, and the PHY register
 * tables (IEEE 802.3 clause 22 plus the M88E1011's specific registers).
 */
#ifndef HW_NET_E1000_REGS_H
#define HW_NET_E1000_REGS_H

/* ---- PCI identity (SDM chapter 4) ---- */
#define E1000_VENDOR_INTEL   0x8086
#define E1000_DEV_ID_82540EM 0x100e
#define E1000_MMIO_SIZE      0x20000 /* BAR0: 128 KiB of registers */
#define E1000_IO_SIZE        8       /* BAR1: IOADDR and IODATA */
#define E1000_IOADDR         0x00
#define E1000_IODATA         0x04

/* ---- MAC registers (SDM 13.4, byte offsets in BAR0) ---- */
#define E1000_CTRL     0x00000 /* Device Control */
#define E1000_STATUS   0x00008 /* Device Status */
#define E1000_EECD     0x00010 /* EEPROM/Flash Control/Data */
#define E1000_EERD     0x00014 /* EEPROM Read */
#define E1000_CTRL_EXT 0x00018 /* Extended Device Control */
#define E1000_MDIC     0x00020 /* MDI Control */
#define E1000_FCAL     0x00028 /* Flow Control Address Low */
#define E1000_FCAH     0x0002c /* Flow Control Address High */
#define E1000_FCT      0x00030 /* Flow Control Type */
#define E1000_VET      0x00038 /* VLAN Ether Type */
#define E1000_ICR      0x000c0 /* Interrupt Cause Read */
#define E1000_ITR      0x000c4 /* Interrupt Throttling */
#define E1000_ICS      0x000c8 /* Interrupt Cause Set */
#define E1000_IMS      0x000d0 /* Interrupt Mask Set/Read */
#define E1000_IMC      0x000d8 /* Interrupt Mask Clear */
#define E1000_RCTL     0x00100 /* Receive Control */
#define E1000_FCTTV    0x00170 /* Flow Control Transmit Timer Value */
#define E1000_TXCW     0x00178 /* Transmit Configuration Word */
#define E1000_RXCW     0x00180 /* Receive Configuration Word */
#define E1000_TCTL     0x00400 /* Transmit Control */
#define E1000_TIPG     0x00410 /* Transmit IPG */
#define E1000_LEDCTL   0x00e00 /* LED Control */
#define E1000_PBA      0x01000 /* Packet Buffer Allocation */
#define E1000_FCRTL    0x02160 /* Flow Control Receive Threshold Low */
#define E1000_FCRTH    0x02168 /* Flow Control Receive Threshold High */
#define E1000_RDBAL    0x02800 /* Receive Descriptor Base Address Low */
#define E1000_RDBAH    0x02804 /* Receive Descriptor Base Address High */
#define E1000_RDLEN    0x02808 /* Receive Descriptor Length */
#define E1000_RDH      0x02810 /* Receive Descriptor Head */
#define E1000_RDT      0x02818 /* Receive Descriptor Tail */
#define E1000_RDTR     0x02820 /* Receive Delay Timer */
#define E1000_RXDCTL   0x02828 /* Receive Descriptor Control */
#define E1000_RADV     0x0282c /* Receive Interrupt Absolute Delay Timer */
#define E1000_RSRPD    0x02c00 /* Receive Small Packet Detect Interrupt */
#define E1000_TXDMAC   0x03000 /* Transmit DMA Control */
#define E1000_TDBAL    0x03800 /* Transmit Descriptor Base Address Low */
#define E1000_TDBAH    0x03804 /* Transmit Descriptor Base Address High */
#define E1000_TDLEN    0x03808 /* Transmit Descriptor Length */
#define E1000_TDH      0x03810 /* Transmit Descriptor Head */
#define E1000_TDT      0x03818 /* Transmit Descriptor Tail */
#define E1000_TIDV     0x03820 /* Transmit Interrupt Delay Value */
#define E1000_TXDCTL   0x03828 /* Transmit Descriptor Control */
#define E1000_TADV     0x0382c /* Transmit Absolute Interrupt Delay Value */
#define E1000_TSPMT    0x03830 /* TCP Segmentation Pad and Threshold */
#define E1000_RXCSUM   0x05000 /* Receive Checksum Control */
#define E1000_MTA      0x05200 /* Multicast Table Array, 128 dwords */
#define E1000_RA       0x05400 /* Receive Address: 16 pairs RAL/RAH */
#define E1000_VFTA     0x05600 /* VLAN Filter Table Array, 128 dwords */
#define E1000_WUC      0x05800 /* Wakeup Control */
#define E1000_WUFC     0x05808 /* Wakeup Filter Control */
#define E1000_WUS      0x05810 /* Wakeup Status */
#define E1000_MANC     0x05820 /* Management Control */
#define E1000_IPAV     0x05838 /* IP Address Valid */
#define E1000_IP4AT    0x05840 /* IPv4 Address Table, 4 entries 8 bytes apart */
#define E1000_IP6AT    0x05880 /* IPv6 Address Table */
#define E1000_WUPL     0x05900 /* Wakeup Packet Length */
#define E1000_WUPM     0x05a00 /* Wakeup Packet Memory, 32 dwords */
#define E1000_FFLT     0x05f00 /* Flexible Filter Length Table, 4 entries 8 bytes apart */

#define E1000_MTA_WORDS  128
#define E1000_RA_ENTRIES 16
#define E1000_VFTA_WORDS 128

/* Statistics (SDM 13.7): 32-bit counters that stick at their maximum and
 * clear when read; the 64-bit octet counters clear when the high half is
 * read. */
#define E1000_STATS_FIRST 0x04000
#define E1000_STATS_LAST  0x040fc
#define E1000_CRCERRS     0x04000 /* CRC Error Count */
#define E1000_MPC         0x04010 /* Missed Packets Count */
#define E1000_RLEC        0x04040 /* Receive Length Error Count */
#define E1000_PRC64       0x0405c /* Packets Received (64 bytes) */
#define E1000_PRC127      0x04060
#define E1000_PRC255      0x04064
#define E1000_PRC511      0x04068
#define E1000_PRC1023     0x0406c
#define E1000_PRC1522     0x04070
#define E1000_GPRC        0x04074 /* Good Packets Received */
#define E1000_BPRC        0x04078 /* Broadcast Packets Received */
#define E1000_MPRC        0x0407c /* Multicast Packets Received */
#define E1000_GPTC        0x04080 /* Good Packets Transmitted */
#define E1000_GORCL       0x04088 /* Good Octets Received (low, high) */
#define E1000_GORCH       0x0408c
#define E1000_GOTCL       0x04090 /* Good Octets Transmitted (low, high) */
#define E1000_GOTCH       0x04094
#define E1000_RNBC        0x040a0 /* Receive No Buffers */
#define E1000_RUC         0x040a4 /* Receive Undersize */
#define E1000_ROC         0x040ac /* Receive Oversize */
#define E1000_TORL        0x040c0 /* Total Octets Received (low, high) */
#define E1000_TORH        0x040c4
#define E1000_TOTL        0x040c8 /* Total Octets Transmitted (low, high) */
#define E1000_TOTH        0x040cc
#define E1000_TPR         0x040d0 /* Total Packets Received */
#define E1000_TPT         0x040d4 /* Total Packets Transmitted */
#define E1000_PTC64       0x040d8 /* Packets Transmitted (64 bytes) */
#define E1000_PTC127      0x040dc
#define E1000_PTC255      0x040e0
#define E1000_PTC511      0x040e4
#define E1000_PTC1023     0x040e8
#define E1000_PTC1522     0x040ec
#define E1000_MPTC        0x040f0 /* Multicast Packets Transmitted */
#define E1000_BPTC        0x040f4 /* Broadcast Packets Transmitted */
#define E1000_TSCTC       0x040f8 /* TCP Segmentation Context Transmitted */
#define E1000_TSCTFC      0x040fc /* TCP Segmentation Context Tx Fail */

/* CTRL (SDM 13.4) */
#define E1000_CTRL_FD         0x00000001u /* full duplex */
#define E1000_CTRL_LRST       0x00000008u /* link reset */
#define E1000_CTRL_ASDE       0x00000020u /* auto-speed detection enable */
#define E1000_CTRL_SLU        0x00000040u /* set link up */
#define E1000_CTRL_ILOS       0x00000080u /* invert loss-of-signal */
#define E1000_CTRL_SPEED_1000 0x00000200u /* speed selection: 1000 Mb/s */
#define E1000_CTRL_FRCSPD     0x00000800u /* force speed */
#define E1000_CTRL_FRCDPX     0x00001000u /* force duplex */
#define E1000_CTRL_SDP        0x03fc0000u /* software-definable pins and directions */
#define E1000_CTRL_RST        0x04000000u /* device reset (self-clearing) */
#define E1000_CTRL_RFCE       0x08000000u /* receive flow control enable */
#define E1000_CTRL_TFCE       0x10000000u /* transmit flow control enable */
#define E1000_CTRL_VME        0x40000000u /* VLAN mode enable */
#define E1000_CTRL_PHY_RST    0x80000000u /* PHY reset */

/* STATUS (SDM 13.4) */
#define E1000_STATUS_FD         0x00000001u /* full duplex */
#define E1000_STATUS_LU         0x00000002u /* link up */
#define E1000_STATUS_TXOFF      0x00000010u /* transmission paused */
#define E1000_STATUS_SPEED_1000 0x00000080u /* link speed 1000 Mb/s */
#define E1000_STATUS_ASDV_1000  0x00000200u /* auto speed detection value */

/* EECD (SDM 13.4): a Microwire EEPROM's pins, bit-banged by software. */
#define E1000_EECD_SK      0x00000001u /* clock */
#define E1000_EECD_CS      0x00000002u /* chip select */
#define E1000_EECD_DI      0x00000004u /* data into the EEPROM */
#define E1000_EECD_DO      0x00000008u /* data out of the EEPROM */
#define E1000_EECD_FWE     0x00000030u /* flash write enable control */
#define E1000_EECD_REQ     0x00000040u /* request EEPROM access */
#define E1000_EECD_GNT     0x00000080u /* EEPROM access granted */
#define E1000_EECD_PRES    0x00000100u /* EEPROM present */
#define E1000_EECD_PINS    (E1000_EECD_SK | E1000_EECD_CS | E1000_EECD_DI)
#define E1000_EECD_LATCHED (E1000_EECD_PINS | E1000_EECD_FWE | E1000_EECD_REQ)

/* EERD (SDM 13.4) */
#define E1000_EERD_START      0x00000001u
#define E1000_EERD_DONE       0x00000010u
#define E1000_EERD_ADDR_SHIFT 8
#define E1000_EERD_ADDR_MASK  0x0000ff00u
#define E1000_EERD_DATA_SHIFT 16

/* CTRL_EXT (SDM 13.4) */
#define E1000_CTRL_EXT_ASDCHK 0x00001000u /* re-run speed detection (self-clearing) */
#define E1000_CTRL_EXT_EE_RST 0x00002000u /* reload from the EEPROM (self-clearing) */

/* MDIC (SDM 13.4) */
#define E1000_MDIC_DATA_MASK 0x0000ffffu
#define E1000_MDIC_REG_SHIFT 16
#define E1000_MDIC_REG_MASK  0x001f0000u
#define E1000_MDIC_PHY_SHIFT 21
#define E1000_MDIC_PHY_MASK  0x03e00000u
#define E1000_MDIC_OP_WRITE  0x04000000u
#define E1000_MDIC_OP_READ   0x08000000u
#define E1000_MDIC_READY     0x10000000u
#define E1000_MDIC_INT_EN    0x20000000u
#define E1000_MDIC_ERROR     0x40000000u
#define E1000_PHY_ADDR       1 /* the internal PHY's MDIO address */

/* ICR/ICS/IMS/IMC (SDM 13.4) */
#define E1000_ICR_TXDW   0x00000001u /* transmit descriptor written back */
#define E1000_ICR_TXQE   0x00000002u /* transmit queue empty */
#define E1000_ICR_LSC    0x00000004u /* link status change */
#define E1000_ICR_RXSEQ  0x00000008u /* receive sequence error */
#define E1000_ICR_RXDMT0 0x00000010u /* receive descriptor minimum threshold */
#define E1000_ICR_RXO    0x00000040u /* receiver overrun */
#define E1000_ICR_RXT0   0x00000080u /* receiver timer interrupt */
#define E1000_ICR_MDAC   0x00000200u /* MDI access complete */
#define E1000_ICR_CAUSES 0x0001ffffu /* every defined cause bit */

/* RCTL (SDM 13.4) */
#define E1000_RCTL_EN          0x00000002u /* receiver enable */
#define E1000_RCTL_SBP         0x00000004u /* store bad packets */
#define E1000_RCTL_UPE         0x00000008u /* unicast promiscuous */
#define E1000_RCTL_MPE         0x00000010u /* multicast promiscuous */
#define E1000_RCTL_LPE         0x00000020u /* long packet enable */
#define E1000_RCTL_RDMTS_SHIFT 8           /* free-descriptor threshold: 1/2, 1/4, 1/8 */
#define E1000_RCTL_RDMTS_MASK  0x00000300u
#define E1000_RCTL_MO_SHIFT    12 /* multicast offset: which address bits hash */
#define E1000_RCTL_MO_MASK     0x00003000u
#define E1000_RCTL_BAM         0x00008000u /* broadcast accept mode */
#define E1000_RCTL_BSIZE_SHIFT 16
#define E1000_RCTL_BSIZE_MASK  0x00030000u
#define E1000_RCTL_VFE         0x00040000u /* VLAN filter enable */
#define E1000_RCTL_BSEX        0x02000000u /* buffer size extension (x16) */
#define E1000_RCTL_SECRC       0x04000000u /* strip Ethernet CRC */

/* TCTL (SDM 13.4) */
#define E1000_TCTL_EN  0x00000002u /* transmit enable */
#define E1000_TCTL_PSP 0x00000008u /* pad short packets */

/* RDTR (SDM 13.4.30) */
#define E1000_RDTR_DELAY_MASK 0x0000ffffu
#define E1000_RDTR_FPD        0x80000000u /* flush partial descriptor block */

/* RAH (SDM chapter 13, Receive Address High) */
#define E1000_RAH_AS_MASK 0x00030000u /* address select: 00 = destination */
#define E1000_RAH_AV      0x80000000u /* address valid */

/* RXCSUM (SDM 3.2.9 and chapter 13, Receive Checksum Control) */
#define E1000_RXCSUM_PCSS_MASK 0x000000ffu /* packet checksum start */
#define E1000_RXCSUM_IPOFLD    0x00000100u /* IP checksum offload */
#define E1000_RXCSUM_TUOFLD    0x00000200u /* TCP/UDP checksum offload */

/* ---- descriptors (SDM 3.2.3 receive, 3.3.3-3.3.6 transmit) ---- */
#define E1000_DESC_SIZE 16

/* Receive descriptor: buffer address (8), length (2), checksum (2),
 * status (1), errors (1), special (2). */
#define E1000_RXD_STAT_DD    0x01u /* descriptor done */
#define E1000_RXD_STAT_EOP   0x02u /* end of packet */
#define E1000_RXD_STAT_IXSM  0x04u /* ignore checksum indication */
#define E1000_RXD_STAT_VP    0x08u /* 802.1Q packet, tag stripped */
#define E1000_RXD_STAT_TCPCS 0x20u /* TCP/UDP checksum calculated */
#define E1000_RXD_STAT_IPCS  0x40u /* IP checksum calculated */
#define E1000_RXD_ERR_TCPE   0x20u /* TCP/UDP checksum error */
#define E1000_RXD_ERR_IPE    0x40u /* IP checksum error */

/* Transmit descriptors: bits of the second qword's low dword ("lower")
 * and high dword ("upper").  Legacy: length 15:0, CSO 23:16, CMD 31:24;
 * STA 3:0, CSS 15:8, special 31:16.  Context (DEXT, DTYP 0): IPCSS,
 * IPCSO, IPCSE / TUCSS, TUCSO, TUCSE in the first qword, PAYLEN 19:0,
 * DTYP 23:20, TUCMD 31:24; STA 3:0, HDRLEN 15:8, MSS 31:16.  Data (DEXT,
 * DTYP 1): DTALEN 19:0, DTYP 23:20, DCMD 31:24; STA 3:0, POPTS 15:8,
 * special 31:16. */
#define E1000_TXD_LEN_MASK     0x0000ffffu
#define E1000_TXD_DTALEN_MASK  0x000fffffu
#define E1000_TXD_DTYP_SHIFT   20
#define E1000_TXD_DTYP_MASK    0x00f00000u
#define E1000_TXD_DTYP_CONTEXT 0
#define E1000_TXD_DTYP_DATA    1
#define E1000_TXD_CMD_EOP      0x01000000u /* end of packet */
#define E1000_TXD_CMD_IFCS     0x02000000u /* insert FCS */
#define E1000_TXD_CMD_IC       0x04000000u /* legacy: insert checksum */
#define E1000_TXD_CMD_TSE      0x04000000u /* extended: TCP segmentation enable */
#define E1000_TXD_CMD_RS       0x08000000u /* report status */
#define E1000_TXD_CMD_DEXT     0x20000000u /* descriptor extension */
#define E1000_TXD_CMD_VLE      0x40000000u /* VLAN packet enable */
#define E1000_TXD_CMD_IDE      0x80000000u /* interrupt delay enable */
#define E1000_TXD_CMD_TCP      0x01000000u /* context TUCMD: TCP (else UDP) */
#define E1000_TXD_CMD_IP       0x02000000u /* context TUCMD: IPv4 (else IPv6) */
#define E1000_TXD_STAT_DD      0x01u       /* descriptor done */
#define E1000_TXD_POPTS_IXSM   0x01u       /* insert IP checksum */
#define E1000_TXD_POPTS_TXSM   0x02u       /* insert TCP/UDP checksum */

/* ---- EEPROM (SDM 5.6) ---- */
#define E1000_EEPROM_WORDS         64 /* a 93C46: 1 Kbit, 16-bit words */
#define E1000_EEPROM_ADDR_BITS     6
#define E1000_EEPROM_ID_LED        0x04
#define E1000_EEPROM_INIT_CTRL1    0x0a
#define E1000_EEPROM_SUBSYS_ID     0x0b
#define E1000_EEPROM_SUBSYS_VENDOR 0x0c
#define E1000_EEPROM_DEVICE_ID     0x0d
#define E1000_EEPROM_VENDOR_ID     0x0e
#define E1000_EEPROM_INIT_CTRL2    0x0f
#define E1000_EEPROM_CHECKSUM      0x3f
#define E1000_EEPROM_SUM           0xbaba
#define E1000_EEPROM_READ_OPCODE   0x6 /* Microwire: start bit, then 10b */

/* ---- PHY registers (IEEE 802.3 clause 22; M88E1011 specific from 16) ---- */
#define E1000_PHY_REGS        32
#define MII_BMCR              0x00 /* basic mode control */
#define MII_BMSR              0x01 /* basic mode status */
#define MII_PHYID1            0x02
#define MII_PHYID2            0x03
#define MII_ANAR              0x04 /* auto-negotiation advertisement */
#define MII_ANLPAR            0x05 /* link partner ability */
#define MII_ANER              0x06 /* auto-negotiation expansion */
#define MII_CTRL1000          0x09 /* 1000BASE-T control */
#define MII_STAT1000          0x0a /* 1000BASE-T status */
#define MII_EXTSTAT           0x0f /* extended status */
#define M88_PHY_SPEC_CTRL     0x10
#define M88_PHY_SPEC_STATUS   0x11
#define M88_EXT_PHY_SPEC_CTRL 0x14

#define MII_BMCR_RESET     0x8000u /* self-clearing */
#define MII_BMCR_LOOPBACK  0x4000u
#define MII_BMCR_ANENABLE  0x1000u
#define MII_BMCR_ANRESTART 0x0200u /* self-clearing */
#define MII_BMCR_FD        0x0100u
#define MII_BMCR_SPEED1000 0x0040u
#define MII_BMCR_WRITABLE  0x7dc0u /* bits 5:0 reserved; RESET and ANRESTART self-clear */

#define MII_BMSR_LINK     0x0004u
#define MII_BMSR_ANEGDONE 0x0020u
/* What the PHY can do: 10/100 half and full, auto-negotiation, extended
 * status (1000BASE-T), preamble suppression, extended registers. */
#define MII_BMSR_CAPS 0x7949u

/* ANAR / ANLPAR technology bits */
#define MII_ADV_CSMA       0x0001u /* selector: IEEE 802.3 */
#define MII_ADV_10HALF     0x0020u
#define MII_ADV_10FULL     0x0040u
#define MII_ADV_100HALF    0x0080u
#define MII_ADV_100FULL    0x0100u
#define MII_ADV_PAUSE      0x0400u
#define MII_ADV_ASYM_PAUSE 0x0800u
#define MII_ANLPAR_ACK     0x4000u /* the partner received our word */
#define MII_ANER_LPAN      0x0001u /* the partner auto-negotiates */

#define MII_CTRL1000_HALF      0x0100u /* advertise 1000BASE-T half duplex */
#define MII_CTRL1000_FULL      0x0200u
#define MII_STAT1000_LP_HALF   0x0400u /* partner can do 1000BASE-T half duplex */
#define MII_STAT1000_LP_FULL   0x0800u
#define MII_STAT1000_REMOTE_OK 0x1000u /* remote receiver status */
#define MII_STAT1000_LOCAL_OK  0x2000u /* local receiver status */
#define MII_EXTSTAT_1000T_HALF 0x1000u
#define MII_EXTSTAT_1000T_FULL 0x2000u

/* M88E1011 PHY Specific Status: resolved speed/duplex and real-time link. */
#define M88_PSSR_LINK        0x0400u
#define M88_PSSR_RESOLVED    0x0800u
#define M88_PSSR_FULL_DUPLEX 0x2000u
#define M88_PSSR_SPEED_1000  0x8000u
/* Power-on values of the M88's control registers (automatic MDI/MDI-X). */
#define M88_PSCR_DEFAULT  0x0060u
#define M88_EPSCR_DEFAULT 0x0c60u

#define M88_PHY_ID1 0x0141 /* Marvell OUI */
#define M88_PHY_ID2 0x0c20 /* M88E1011 as in an 82540EM, revision 0 */

#endif /* HW_NET_E1000_REGS_H */
