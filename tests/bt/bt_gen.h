/*
 * Random guest programs for the translator's differential test.
 *
 * A program is a few dozen random 32-bit instructions (integer ALU, moves,
 * shifts, multiplies and divides, bit operations, the stack, string
 * instructions, branches, calls, loops, segment loads, privileged and
 * faulting instructions, and stores into its own code), ending in a jump
 * to itself.  bt_diff.c runs it on the interpreter and on the translator
 * from the same machine state and compares everything guest-visible.
 *
 * The generator tracks which arithmetic flags the SDM leaves undefined at
 * each point (a poison mask, as tests/cpu/oracle does) and puts a CMP in
 * front of anything that would read one, so an undefined flag never
 * reaches a register, memory or a branch, where it would hide the rest of
 * the comparison (bt_diff.c does not compare what derives from undefined
 * results).  btd_contained() holds it to that.
 */
#ifndef TESTS_BT_BT_GEN_H
#define TESTS_BT_BT_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Guest memory map of a test (all identity-mapped when paging is on). */
#define BTG_RAM        (2u << 20)
#define BTG_CODE       0x10000u /* code page(s): 0x10000-0x11fff */
#define BTG_DATA       0x20000u /* data window: 0x20000-0x23fff */
#define BTG_DATA_SIZE  0x4000u
#define BTG_FAULT_PAGE 0x24000u /* not present, read-only or supervisor-only (paging) */
#define BTG_ALIAS_PAGE 0x25000u /* maps the first code page (paging) */
#define BTG_JIT_PAGE   0x26000u /* code written at run time */
#define BTG_STACK3     0x9000u  /* ring-3 stack top (testvm) */
#define BTG_PD         0x100000u /* 32-bit paging: the page directory; PAE: the PDPT */
#define BTG_PT         0x101000u
#define BTG_PAE_PD     0x102000u /* PAE: the page directory and its two page tables */
#define BTG_PAE_PT     0x103000u
#define BTG_FS_BASE    0x20000u /* FS: based data segment, limit 4 GiB */
#define BTG_GS_LIMIT   0xfffffu /* GS: byte-granular 1 MiB limit */
#define BTG_SEL_FS     0x33u    /* GDT entry 6, DPL 3 */
#define BTG_SEL_GS     0x3bu    /* GDT entry 7, DPL 3 */
#define BTG_CODE_MAX   2048

/* Long mode (compatibility and 64-bit configurations, bt_diff.c): 4-level
 * tables mapping the 2 MiB of RAM by 4 KiB pages, with the same fault and
 * alias pages; a 64-bit IDT of 16-byte gates to 64-bit stubs that record
 * the vector as testvm's do; a 64-bit TSS whose IST1 takes #SS and IST2
 * #DF, so a fault on a non-canonical stack is delivered; and 64-bit code
 * segments after testvm's GDT entries. */
#define BTG_PML4       0x100000u /* PML4, PDPT, PD, PT at 0x100000-0x103fff */
#define BTG_IDT64      0x106000u /* 256 16-byte gates */
#define BTG_HANDLERS64 0x107000u /* per-vector 64-bit stubs, 16 bytes each */
#define BTG_TSS64      0x108000u /* 104-byte 64-bit TSS */
#define BTG_IST1       0xc000u   /* #SS stack top */
#define BTG_IST2       0xe000u   /* #DF stack top */
#define BTG_SEL_CODE64_0 0x40u   /* GDT entry 8: 64-bit ring-0 code (L=1) */
#define BTG_SEL_CODE64_3 0x4bu   /* GDT entry 9: 64-bit ring-3 code */

/* The mode a program runs in. */
enum { BTG_MODE_LEGACY, BTG_MODE_COMPAT, BTG_MODE_64 };

/* Fault-page flavours under paging. */
enum { BTG_FAULT_NP, BTG_FAULT_RO, BTG_FAULT_SUPER };

typedef struct BTGenConfig {
    int cpl;          /* 0 or 3 */
    bool paging;
    bool faults;      /* allow deliberately faulting instructions */
    bool smc;         /* stores into the program's own code */
    int length;       /* instructions to generate (setups not counted) */
    int mode;         /* BTG_MODE_*: legacy protected mode, or long mode's
                       * compatibility mode (the 32-bit generator's programs
                       * under a 64-bit kernel) or 64-bit mode (bt_gen64.c) */
} BTGenConfig;

typedef struct BTProgram {
    BTGenConfig cfg;
    uint32_t code_at;           /* linear (= physical) address of the first byte */
    uint8_t code[BTG_CODE_MAX];
    uint32_t len;
    uint64_t regs[16];          /* initial RAX..R15 (RSP is set by the runner; only
                                 * EAX..EDI outside 64-bit mode) */
    uint32_t eflags;            /* initial arithmetic flags and DF */
    uint32_t data_seed;         /* the data window's initial contents */
    int fault_kind;             /* BTG_FAULT_* */
    bool wp;                    /* CR0.WP */
    bool pae;                   /* paging is PAE paging, with EFER.NXE (bt_diff.c);
                                 * always set in long mode, whose entries have XD too */
    bool nxe_off;               /* long mode: EFER.NXE clear, so XD is a reserved bit */
    bool alias_nx;              /* PAE: the alias page is execute-disable, so calls into
                                 * it fault with #PF(P|I/D) while writes through it work */
    bool fault_nx;              /* PAE: the fault page is execute-disable too, which
                                 * data accesses must not notice */
    bool load_fs, load_gs;      /* FS/GS hold the special segments at the start */
    uint32_t poison;            /* flags undefined when the program reaches its end
                                 * (all that may derive from undefined results) */
    uint16_t starts[BTG_CODE_MAX / 2]; /* instruction start offsets, for listings */
    uint16_t nstarts;
} BTProgram;

/* The configurations CI and popek-bt-diff cycle through: ring 0 and 3,
 * paging off and on, with and without faulting instructions and stores
 * into code; the first BTG_NCONFIGS are legacy protected mode (what
 * tests/soak runs on a whole PC), the rest long mode (BTG_MODE_COMPAT and
 * BTG_MODE_64). */
#define BTG_NCONFIGS     8
#define BTG_NCONFIGS_ALL 14
extern const BTGenConfig btg_configs[BTG_NCONFIGS_ALL];

/*
 * Whether programs include runs of x87 instructions (default on).  The x87
 * condition codes most instructions leave undefined reach FNSTSW, the
 * environment images and the final state everywhere, so the generator's
 * promise to keep undefined results in the final flags (btd_contained)
 * holds only for programs without x87; the comparisons taint them instead.
 */
void btg_set_x87(bool on);

/* Generate program index of seed in configuration config (0..BTG_NCONFIGS_ALL-1):
 * the same program on every machine. */
void btg_generate(BTProgram *p, int config, uint64_t seed, uint64_t index);

#endif /* TESTS_BT_BT_GEN_H */
