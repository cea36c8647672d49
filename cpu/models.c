/*
 * The CPU model table and -cpu's parser.
 *
 * Each row is a real chip (QEMU's model of the same name where QEMU has
 * one) less what popek does not implement, and the comment beside it says
 * what is left out.  Nothing popek lacks is ever reported: a guest probes
 * CPUID once and relies on what it found.  Things popek implements but a
 * model lacks (SSE2 on a Pentium III) are not reported, but the
 * instructions still run: popek, like QEMU's TCG for most instructions,
 * does not turn them into #UD.
 *
 * Not implemented on any model, so never reported and refused by
 * +feat: VME and PVI, DE, MCE/MCA, PSE-36, the processor serial number,
 * DS/ACPI/TM/PBE (thermal and debug-store hardware), SS, HTT,
 * MONITOR/MWAIT, VMX, SMX, EST, SSE4 and later, SVM, 1 GiB pages.  RDTSCP
 * is implemented (with long mode) but, as in QEMU's rows, reported only
 * with +rdtscp.
 *
 * Long mode (LM) and what comes with it (SYSCALL, LAHF-LM, CX16) are in
 * the rows, as the real chips have them, but reported only with
 * CPU_LONG_MODE (cpu/models.h): cpu_model_config() masks every word with
 * what popek implements, and the 64-bit-only qemu64 is refused until then.
 */
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/models.h"

/* CPUID.1:EDX of a P6 with everything popek has up to SSE (the Pentium III's). */
#define P6_EDX                                                                                     \
    (CPUID_FPU | CPUID_PSE | CPUID_TSC | CPUID_MSR | CPUID_PAE | CPUID_CX8 | CPUID_APIC |         \
     CPUID_SEP | CPUID_MTRR | CPUID_PGE | CPUID_CMOV | CPUID_PAT | CPUID_MMX | CPUID_FXSR |        \
     CPUID_SSE)
#define SSE2_EDX (P6_EDX | CPUID_CLFSH | CPUID_SSE2)

/* Leaf 4 caches (SDM Vol.2 CPUID, Table 3-8): type, level, ways, line, sets. */
#define L1D(kib, ways) {1, 1, ways, 64, (kib) * 1024 / 64 / (ways)}
#define L1I(kib, ways) {2, 1, ways, 64, (kib) * 1024 / 64 / (ways)}
#define L2(kib, ways)  {3, 2, ways, 64, (kib) * 1024 / 64 / (ways)}
#define L3(kib, ways)  {3, 3, ways, 64, (kib) * 1024 / 64 / (ways)}

static const CPUModel cpu_models[] = {
    {
        /* popek's own: everything it implements, under the Core 2
         * signature (the first family 6 model with SSSE3).  Leaf 2 keeps
         * the Coppermine descriptors it always had (01h/02h/03h/04h TLBs,
         * 08h L1I 16K, 0Ch L1D 16K, 82h L2 256K). */
        .name = "popek",
        .desc = "popek's default: every feature popek implements (Core 2 signature)",
        .signature = 0x000006fb,
        .max_basic = 2,
        .max_ext = 0x80000004,
        .edx1 = SSE2_EDX,
        .ecx1 = CPUID_ECX_SSE3 | CPUID_ECX_SSSE3 | CPUID_ECX_TSC_DEADLINE | CPUID_ECX_HYPERVISOR,
        .ext_edx = CPUID_EXT_NX,
        .leaf2 = {0x03020101, 0, 0, 0x0c040882},
        .brand = "popek virtual CPU",
    },
    {
        /* QEMU's qemu32: family 6 model 6 stepping 3, QEMU's legacy cache
         * descriptors (2Ch L1D 32K, 30h L1I 32K, 7Dh L2 2M, 4Dh L3 16M)
         * and leaf 4 to match.  Left out: DE, MCE. */
        .name = "qemu32",
        .desc = "QEMU Virtual CPU version 2.5+",
        .signature = 0x00000663,
        .max_basic = 4,
        .max_ext = 0x80000004,
        .edx1 = (SSE2_EDX & ~(CPUID_MTRR | CPUID_CLFSH)),
        .ecx1 = CPUID_ECX_SSE3 | CPUID_ECX_HYPERVISOR,
        .ext_edx = 0,
        .leaf2 = {0x00000001, 0, 0x0000004d, 0x002c307d},
        .caches = {L1D(32, 8), L1I(32, 8), L2(2048, 8), L3(16384, 16)},
        .brand = "QEMU Virtual CPU version 2.5+",
    },
    {
        /* QEMU's qemu64 (QEMU 4.1 and later): AuthenticAMD family 15
         * model 107 stepping 1, maximum leaves 0Dh and 8000000Ah, qemu32's
         * legacy cache descriptors.  Left out: DE, MCE, MCA, PSE-36, SVM;
         * the AMD cache leaves 80000005h/80000006h read 0 (no data). */
        .name = "qemu64",
        .desc = "QEMU Virtual CPU version 2.5+",
        .signature = 0x00060fb1,
        .max_basic = 0xd,
        .max_ext = 0x8000000a,
        .edx1 = SSE2_EDX,
        .ecx1 = CPUID_ECX_SSE3 | CPUID_ECX_CX16 | CPUID_ECX_HYPERVISOR,
        .ext_edx = CPUID_EXT_LM | CPUID_EXT_SYSCALL | CPUID_EXT_NX,
        .ext_ecx = CPUID_EXT3_LAHF_LM,
        .vendor = "AuthenticAMD",
        .x64 = true,
        .leaf2 = {0x00000001, 0, 0x0000004d, 0x002c307d},
        .caches = {L1D(32, 8), L1I(32, 8), L2(2048, 8), L3(16384, 16)},
        .brand = "QEMU Virtual CPU version 2.5+",
    },
    {
        /* Pentium III Katmai: family 6 model 7 stepping 3 (QEMU's), no
         * extended leaves, no brand string; descriptors 01h-04h TLBs, 08h
         * L1I 16K, 0Ch L1D 16K, 43h L2 512K.  Left out: VME, DE, MCE, MCA,
         * PSE-36, PN (max basic leaf 2, as with the serial number off). */
        .name = "pentium3",
        .desc = "Intel Pentium III (Katmai)",
        .signature = 0x00000673,
        .max_basic = 2,
        .max_ext = 0,
        .edx1 = P6_EDX,
        .ecx1 = CPUID_ECX_HYPERVISOR,
        .ext_edx = 0,
        .leaf2 = {0x03020101, 0, 0, 0x0c040843},
        .brand = NULL,
    },
    {
        /* Pentium 4 520J (Prescott E0, family 15 model 4 stepping 1): SSE3
         * and the XD bit without EM64T.  Descriptors 50h ITLB, 5Bh DTLB,
         * 60h L1D 16K, 70h trace cache 12K uops, 7Ch L2 1M; leaf 4 the
         * same caches.  Left out: VME, DE, MCE, MCA, PSE-36, DS, ACPI,
         * SS, HTT, TM, PBE, MONITOR, DS-CPL, TM2, CNXT-ID, CX16, xTPR
         * (leaf 5 with MONITOR), leaves 80000005h-80000008h. */
        .name = "pentium4",
        .desc = "Intel(R) Pentium(R) 4 CPU 2.80GHz (Prescott 520J)",
        .signature = 0x00000f41,
        .max_basic = 4,
        .max_ext = 0x80000004,
        .edx1 = SSE2_EDX,
        .ecx1 = CPUID_ECX_SSE3 | CPUID_ECX_HYPERVISOR,
        .ext_edx = CPUID_EXT_NX,
        .leaf2 = {0x605b5001, 0, 0, 0x007c7040},
        .caches = {L1D(16, 8), L2(1024, 8)},
        .brand = "Intel(R) Pentium(R) 4 CPU 2.80GHz",
    },
    {
        /* QEMU's core2duo, a Merom T7700: family 6 model 15 stepping 11,
         * its descriptors and leaf 4 (32K L1s, 4M L2), one core, and
         * EM64T (LM, SYSCALL, LAHF-LM, CX16, with CPU_LONG_MODE; then
         * leaf 80000008h too, the address sizes).  Left out: VME, DE,
         * MCE, MCA, PSE-36, DS, ACPI, SS, HTT, TM, PBE, MONITOR, DS-CPL,
         * VMX, EST, TM2, xTPR, PDCM, leaves 5-10 and 80000005h-80000007h. */
        .name = "core2duo",
        .desc = "Intel(R) Core(TM)2 Duo CPU     T7700  @ 2.40GHz",
        .signature = 0x000006fb,
        .max_basic = 4,
        .max_ext = 0x80000004,
        .edx1 = SSE2_EDX,
        .ecx1 = CPUID_ECX_SSE3 | CPUID_ECX_SSSE3 | CPUID_ECX_CX16 | CPUID_ECX_HYPERVISOR,
        .ext_edx = CPUID_EXT_NX | CPUID_EXT_SYSCALL | CPUID_EXT_LM,
        .ext_ecx = CPUID_EXT3_LAHF_LM,
        .leaf2 = {0x05b0b101, 0x005657f0, 0, 0x2cb43049},
        .caches = {L1D(32, 8), L1I(32, 8), L2(4096, 16)},
        .brand = "Intel(R) Core(TM)2 Duo CPU     T7700  @ 2.40GHz",
    },
};

#define CPU_MODEL_COUNT (sizeof(cpu_models) / sizeof(cpu_models[0]))

/* Feature words of CPUIDConfig. */
enum { FEAT_EDX1, FEAT_ECX1, FEAT_EXT_EDX, FEAT_EXT_ECX };

/* What popek implements, per word: the default model's features, and long
 * mode's with CPU_LONG_MODE. */
#define POPEK_EDX1 SSE2_EDX
#define POPEK_ECX1                                                                                 \
    (CPUID_ECX_SSE3 | CPUID_ECX_SSSE3 | CPUID_ECX_TSC_DEADLINE | CPUID_ECX_HYPERVISOR |           \
     (CPU_LONG_MODE ? CPUID_ECX_CX16 : 0))
#define POPEK_EXT_EDX                                                                              \
    (CPUID_EXT_NX | (CPU_LONG_MODE ? CPUID_EXT_SYSCALL | CPUID_EXT_LM | CPUID_EXT_RDTSCP : 0))
#define POPEK_EXT_ECX (CPU_LONG_MODE ? CPUID_EXT3_LAHF_LM : 0)

/* QEMU's feature names (target/i386's feature_word_info spelling). */
typedef struct CPUFeatureName {
    const char *name;
    uint8_t word; /* FEAT_* */
    uint8_t bit;
} CPUFeatureName;

static const CPUFeatureName cpu_feature_names[] = {
    {"fpu", FEAT_EDX1, 0},        {"vme", FEAT_EDX1, 1},        {"de", FEAT_EDX1, 2},
    {"pse", FEAT_EDX1, 3},        {"tsc", FEAT_EDX1, 4},        {"msr", FEAT_EDX1, 5},
    {"pae", FEAT_EDX1, 6},        {"mce", FEAT_EDX1, 7},        {"cx8", FEAT_EDX1, 8},
    {"apic", FEAT_EDX1, 9},       {"sep", FEAT_EDX1, 11},       {"mtrr", FEAT_EDX1, 12},
    {"pge", FEAT_EDX1, 13},       {"mca", FEAT_EDX1, 14},       {"cmov", FEAT_EDX1, 15},
    {"pat", FEAT_EDX1, 16},       {"pse36", FEAT_EDX1, 17},     {"pn", FEAT_EDX1, 18},
    {"clflush", FEAT_EDX1, 19},   {"ds", FEAT_EDX1, 21},        {"acpi", FEAT_EDX1, 22},
    {"mmx", FEAT_EDX1, 23},       {"fxsr", FEAT_EDX1, 24},      {"sse", FEAT_EDX1, 25},
    {"sse2", FEAT_EDX1, 26},      {"ss", FEAT_EDX1, 27},        {"ht", FEAT_EDX1, 28},
    {"tm", FEAT_EDX1, 29},        {"ia64", FEAT_EDX1, 30},      {"pbe", FEAT_EDX1, 31},
    {"pni", FEAT_ECX1, 0},        {"sse3", FEAT_ECX1, 0},       {"pclmulqdq", FEAT_ECX1, 1},
    {"dtes64", FEAT_ECX1, 2},     {"monitor", FEAT_ECX1, 3},    {"ds-cpl", FEAT_ECX1, 4},
    {"vmx", FEAT_ECX1, 5},        {"smx", FEAT_ECX1, 6},        {"est", FEAT_ECX1, 7},
    {"tm2", FEAT_ECX1, 8},        {"ssse3", FEAT_ECX1, 9},      {"cid", FEAT_ECX1, 10},
    {"fma", FEAT_ECX1, 12},       {"cx16", FEAT_ECX1, 13},      {"xtpr", FEAT_ECX1, 14},
    {"pdcm", FEAT_ECX1, 15},      {"pcid", FEAT_ECX1, 17},      {"dca", FEAT_ECX1, 18},
    {"sse4.1", FEAT_ECX1, 19},    {"sse4-1", FEAT_ECX1, 19},    {"sse4_1", FEAT_ECX1, 19},
    {"sse4.2", FEAT_ECX1, 20},    {"sse4-2", FEAT_ECX1, 20},    {"sse4_2", FEAT_ECX1, 20},
    {"x2apic", FEAT_ECX1, 21},    {"movbe", FEAT_ECX1, 22},     {"popcnt", FEAT_ECX1, 23},
    {"tsc-deadline", FEAT_ECX1, 24}, {"aes", FEAT_ECX1, 25},    {"xsave", FEAT_ECX1, 26},
    {"osxsave", FEAT_ECX1, 27},   {"avx", FEAT_ECX1, 28},       {"f16c", FEAT_ECX1, 29},
    {"rdrand", FEAT_ECX1, 30},    {"hypervisor", FEAT_ECX1, 31},
    {"syscall", FEAT_EXT_EDX, 11}, {"nx", FEAT_EXT_EDX, 20},    {"xd", FEAT_EXT_EDX, 20},
    {"mmxext", FEAT_EXT_EDX, 22}, {"fxsr-opt", FEAT_EXT_EDX, 25}, {"pdpe1gb", FEAT_EXT_EDX, 26},
    {"rdtscp", FEAT_EXT_EDX, 27}, {"lm", FEAT_EXT_EDX, 29},     {"i64", FEAT_EXT_EDX, 29},
    {"3dnowext", FEAT_EXT_EDX, 30}, {"3dnow", FEAT_EXT_EDX, 31},
    {"lahf-lm", FEAT_EXT_ECX, 0}, {"lahf_lm", FEAT_EXT_ECX, 0},  {"svm", FEAT_EXT_ECX, 2},
    {"abm", FEAT_EXT_ECX, 5},     {"sse4a", FEAT_EXT_ECX, 6},
};

#define CPU_FEATURE_NAME_COUNT (sizeof(cpu_feature_names) / sizeof(cpu_feature_names[0]))

static uint32_t *feature_word(CPUIDConfig *cfg, int word)
{
    switch (word) {
    case FEAT_EDX1: return &cfg->edx1;
    case FEAT_ECX1: return &cfg->ecx1;
    case FEAT_EXT_EDX: return &cfg->ext_edx;
    default: return &cfg->ext_ecx;
    }
}

static uint32_t feature_implemented(int word)
{
    switch (word) {
    case FEAT_EDX1: return POPEK_EDX1;
    case FEAT_ECX1: return POPEK_ECX1;
    case FEAT_EXT_EDX: return POPEK_EXT_EDX;
    default: return POPEK_EXT_ECX;
    }
}

const CPUModel *cpu_model_default(void)
{
    return &cpu_models[0];
}

/* Whether -cpu offers the model: 64-bit-only ones wait for long mode. */
static bool cpu_model_offered(const CPUModel *model)
{
    return CPU_LONG_MODE || !model->x64;
}

const CPUModel *cpu_model_find(const char *name)
{
    for (size_t i = 0; i < CPU_MODEL_COUNT; i++) {
        if (!strcmp(cpu_models[i].name, name) && cpu_model_offered(&cpu_models[i])) {
            return &cpu_models[i];
        }
    }
    return NULL;
}

CPUIDConfig cpu_model_config(const CPUModel *model)
{
    return (CPUIDConfig){.model = model,
                         .edx1 = model->edx1 & POPEK_EDX1,
                         .ecx1 = model->ecx1 & POPEK_ECX1,
                         .ext_edx = model->ext_edx & POPEK_EXT_EDX,
                         .ext_ecx = model->ext_ecx & POPEK_EXT_ECX};
}

void cpu_model_help(FILE *out)
{
    fprintf(out, "Available CPUs:\n");
    for (size_t i = 0; i < CPU_MODEL_COUNT; i++) {
        if (cpu_model_offered(&cpu_models[i])) {
            fprintf(out, "x86 %-20s  %s%s\n", cpu_models[i].name, cpu_models[i].desc,
                    i == 0 ? " (default)" : "");
        }
    }
    fprintf(out, "\nRecognized CPUID flags popek implements:\n ");
    for (size_t i = 0; i < CPU_FEATURE_NAME_COUNT; i++) {
        const CPUFeatureName *f = &cpu_feature_names[i];
        if (feature_implemented(f->word) & (1u << f->bit)) {
            fprintf(out, " %s", f->name);
        }
    }
    fprintf(out, "\n");
}

static const CPUFeatureName *feature_find(const char *name)
{
    for (size_t i = 0; i < CPU_FEATURE_NAME_COUNT; i++) {
        if (!strcmp(cpu_feature_names[i].name, name)) {
            return &cpu_feature_names[i];
        }
    }
    return NULL;
}

/* One "+feat", "-feat" or "feat=on|off" item. */
static bool parse_feature(const char *item, CPUIDConfig *cfg, char *err, size_t err_len)
{
    char name[64];
    bool on;
    const char *eq = strchr(item, '=');
    if (item[0] == '+' || item[0] == '-') {
        on = item[0] == '+';
        snprintf(name, sizeof(name), "%s", item + 1);
    } else if (eq) {
        const char *val = eq + 1;
        if (!strcmp(val, "on") || !strcmp(val, "true") || !strcmp(val, "yes")) {
            on = true;
        } else if (!strcmp(val, "off") || !strcmp(val, "false") || !strcmp(val, "no")) {
            on = false;
        } else {
            snprintf(err, err_len, "-cpu: bad value in '%s' (want on or off)", item);
            return false;
        }
        snprintf(name, sizeof(name), "%.*s", (int)(eq - item), item);
    } else {
        snprintf(err, err_len, "-cpu: '%s' is not +FEATURE, -FEATURE or FEATURE=on|off", item);
        return false;
    }
    const CPUFeatureName *f = feature_find(name);
    if (!f) {
        snprintf(err, err_len, "-cpu: unknown feature '%s' (-cpu help lists them)", name);
        return false;
    }
    uint32_t bit = 1u << f->bit;
    if (on && !(feature_implemented(f->word) & bit)) {
        snprintf(err, err_len, "-cpu: feature '%s' is not implemented by popek", name);
        return false;
    }
    uint32_t *word = feature_word(cfg, f->word);
    *word = on ? (*word | bit) : (*word & ~bit);
    return true;
}

bool cpu_model_parse(const char *spec, CPUIDConfig *cfg, char *err, size_t err_len)
{
    size_t name_len = strcspn(spec, ",");
    char name[32];
    if (name_len == 0 || name_len >= sizeof(name)) {
        snprintf(err, err_len, "-cpu: unknown CPU model '%.*s' (-cpu help lists them)",
                 (int)name_len, spec);
        return false;
    }
    memcpy(name, spec, name_len);
    name[name_len] = '\0';
    const CPUModel *model = cpu_model_find(name);
    if (!model) {
        for (size_t i = 0; i < CPU_MODEL_COUNT; i++) {
            if (!strcmp(cpu_models[i].name, name)) {
                snprintf(err, err_len,
                         "-cpu: CPU model '%s' is 64-bit only, and popek does not run long mode yet",
                         name);
                return false;
            }
        }
        snprintf(err, err_len, "-cpu: unknown CPU model '%s' (-cpu help lists them)", name);
        return false;
    }
    *cfg = cpu_model_config(model);
    const char *p = spec + name_len;
    while (*p == ',') {
        p++;
        size_t len = strcspn(p, ",");
        char item[64];
        if (len == 0 || len >= sizeof(item)) {
            snprintf(err, err_len, "-cpu: bad feature list in '%s'", spec);
            return false;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        if (!parse_feature(item, cfg, err, err_len)) {
            return false;
        }
        p += len;
    }
    return true;
}
