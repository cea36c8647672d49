/*
 * cpu/models.c and cpu/cpuid.c: every -cpu model's CPUID leaves 0, 1, 2,
 * 4 and 80000000h-80000004h against a table written here from the chips'
 * documentation (SDM Vol.2 CPUID), and -cpu's +feat/-feat/feat=on|off:
 * each changes exactly its bit, and unknown models, unknown features and
 * features popek cannot do are refused.  Long mode's features (LM,
 * SYSCALL, LAHF-LM, CX16, leaf 80000008h) and the qemu64 model follow
 * CPU_LONG_MODE (cpu/models.h): the expectations here do too.
 *
 * The CPU has no machine around it, so no local APIC: CPUID.1:EDX.APIC
 * and the TSC-deadline bit are not reported (cpu/cpuid.c).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/models.h"
#include "softmmu/phys.h"

typedef struct Leaf {
    uint32_t leaf, subleaf;
    uint32_t r[4]; /* EAX EBX ECX EDX */
} Leaf;

#define GENU 0x756e6547u
#define INEI 0x49656e69u
#define NTEL 0x6c65746eu

/* CPUID.1:EDX of the models, spelled out bit by bit. */
#define EDX_P3 0x0381b979u   /* FPU PSE TSC MSR PAE CX8 SEP MTRR PGE CMOV PAT MMX FXSR SSE */
#define EDX_SSE2 0x0789b979u /* the same, CLFSH and SSE2 */
#define EDX_QEMU32 0x0781a979u /* EDX_SSE2 without MTRR and CLFSH */

typedef struct ModelTable {
    const char *name;
    uint32_t ext_from_basic; /* nonzero: no extended leaves, they read as this basic leaf */
    const char *brand;
    Leaf leaves[12];
} ModelTable;

static const ModelTable tables[] = {
    {"popek", 0, "popek virtual CPU",
     {{0, 0, {2, GENU, NTEL, INEI}},
      {1, 0, {0x6fb, 0x800, 0x80000201u, EDX_SSE2}},
      {2, 0, {0x03020101, 0, 0, 0x0c040882}},
      {3, 0, {0x03020101, 0, 0, 0x0c040882}}, /* above the maximum: leaf 2 */
      {0x80000000u, 0, {0x80000004u, 0, 0, 0}},
      {0x80000001u, 0, {0, 0, 0, 1u << 20}}}},
    {"qemu32", 0, "QEMU Virtual CPU version 2.5+",
     {{0, 0, {4, GENU, NTEL, INEI}},
      {1, 0, {0x663, 0, 0x80000001u, EDX_QEMU32}},
      {2, 0, {0x00000001, 0, 0x0000004d, 0x002c307d}},
      {3, 0, {0, 0, 0, 0}},
      {4, 0, {0x121, 0x01c0003f, 0x3f, 0}},  /* L1D 32K 8-way */
      {4, 1, {0x122, 0x01c0003f, 0x3f, 0}},  /* L1I 32K 8-way */
      {4, 2, {0x143, 0x01c0003f, 0xfff, 0}}, /* L2 2M 8-way */
      {4, 3, {0x163, 0x03c0003f, 0x3fff, 0}}, /* L3 16M 16-way */
      {4, 4, {0, 0, 0, 0}},
      {0x80000000u, 0, {0x80000004u, 0, 0, 0}},
      {0x80000001u, 0, {0, 0, 0, 0}}}},
    {"pentium3", 2, NULL,
     {{0, 0, {2, GENU, NTEL, INEI}},
      {1, 0, {0x673, 0, 0x80000000u, EDX_P3}},
      {2, 0, {0x03020101, 0, 0, 0x0c040843}}}},
    {"pentium4", 0, "Intel(R) Pentium(R) 4 CPU 2.80GHz",
     {{0, 0, {4, GENU, NTEL, INEI}},
      {1, 0, {0xf41, 0x800, 0x80000001u, EDX_SSE2}},
      {2, 0, {0x605b5001, 0, 0, 0x007c7040}},
      {3, 0, {0, 0, 0, 0}},
      {4, 0, {0x121, 0x01c0003f, 0x1f, 0}},  /* L1D 16K 8-way */
      {4, 1, {0x143, 0x01c0003f, 0x7ff, 0}}, /* L2 1M 8-way */
      {4, 2, {0, 0, 0, 0}},
      {0x80000000u, 0, {0x80000004u, 0, 0, 0}},
      {0x80000001u, 0, {0, 0, 0, 1u << 20}}}},
    {"core2duo", 0, "Intel(R) Core(TM)2 Duo CPU     T7700  @ 2.40GHz",
     {{0, 0, {4, GENU, NTEL, INEI}},
      {1, 0, {0x6fb, 0x800, 0x80000201u | (CPU_LONG_MODE ? 1u << 13 : 0), EDX_SSE2}},
      {2, 0, {0x05b0b101, 0x005657f0, 0, 0x2cb43049}},
      {3, 0, {0, 0, 0, 0}},
      {4, 0, {0x121, 0x01c0003f, 0x3f, 0}},  /* L1D 32K 8-way */
      {4, 1, {0x122, 0x01c0003f, 0x3f, 0}},  /* L1I 32K 8-way */
      {4, 2, {0x143, 0x03c0003f, 0xfff, 0}}, /* L2 4M 16-way */
      {4, 3, {0, 0, 0, 0}},
      {0x80000000u, 0, {CPU_LONG_MODE ? 0x80000008u : 0x80000004u, 0, 0, 0}},
      /* NX; with long mode LAHF-LM (ECX 0) and LM (29); SYSCALL (11) is
       * Intel's to 64-bit code only, and these run outside IA-32e mode */
      {0x80000001u, 0, {0, 0, CPU_LONG_MODE ? 1u : 0, 1u << 20 | (CPU_LONG_MODE ? 0x20000000u : 0)}}}},
};

/* qemu64, offered with long mode: AuthenticAMD, family 15 model 107
 * stepping 1, leaf-1 EDX bits repeated in 80000001h:EDX, and the address
 * sizes leaf (40 physical, 48 linear bits). */
#define AUTH 0x68747541u
#define ENTI 0x69746e65u
#define CAMD 0x444d4163u
static const ModelTable qemu64_table = {
    "qemu64", 0, "QEMU Virtual CPU version 2.5+",
    {{0, 0, {0xd, AUTH, CAMD, ENTI}},
     {1, 0, {0x60fb1, 0x800, 0x80002001u, EDX_SSE2}},
     {0x80000000u, 0, {0x8000000au, 0, 0, 0}},
     {0x80000001u, 0, {0, 0, 1, 0x20100800u | (EDX_SSE2 & 0x0183f3ffu)}},
     {0x80000005u, 0, {0, 0, 0, 0}},
     {0x80000008u, 0, {0x3028, 0, 0, 0}},
     {0x8000000au, 0, {0, 0, 0, 0}}}};

static PhysMem pm;
static CPUState *cpu;

static void setup(void)
{
    ck_assert(phys_init(&pm, 1u << 20));
    cpu = calloc(1, sizeof(*cpu));
    ck_assert_ptr_nonnull(cpu);
    cpu_init(cpu, &pm, NULL);
}

static void teardown(void)
{
    free(cpu);
    phys_destroy(&pm);
}

static void use_model(const char *spec)
{
    CPUIDConfig cfg;
    char err[160];
    ck_assert_msg(cpu_model_parse(spec, &cfg, err, sizeof(err)), "%s: %s", spec, err);
    cpu_set_cpuid(cpu, &cfg);
    cpu_reset(cpu);
}

START_TEST(test_model_leaves)
{
    const ModelTable *t = &tables[_i];
    use_model(t->name);
    uint32_t r[4];
    for (size_t i = 0; i < sizeof(t->leaves) / sizeof(t->leaves[0]); i++) {
        const Leaf *l = &t->leaves[i];
        if (i > 0 && l->leaf == 0) {
            break;
        }
        cpu_cpuid(cpu, l->leaf, l->subleaf, r);
        for (int k = 0; k < 4; k++) {
            ck_assert_msg(r[k] == l->r[k], "%s leaf %#x.%u reg %d: %#x, want %#x", t->name,
                          l->leaf, l->subleaf, k, r[k], l->r[k]);
        }
    }
    /* The RESET signature in EDX is CPUID.1:EAX (SDM Vol.3 9.1.4). */
    cpu_cpuid(cpu, 1, 0, r);
    ck_assert_uint_eq(cpu->regs[R_EDX], r[0]);
    /* Brand string: 48 bytes, NUL-padded; or no extended leaves at all. */
    uint32_t basic[4];
    cpu_cpuid(cpu, t->ext_from_basic, 0, basic);
    if (t->brand) {
        char brand[49] = {0};
        for (uint32_t k = 0; k < 3; k++) {
            cpu_cpuid(cpu, 0x80000002u + k, 0, r);
            memcpy(brand + 16 * k, r, 16);
        }
        ck_assert_str_eq(brand, t->brand);
        ck_assert_uint_eq(strlen(brand) < 48 ? (uint8_t)brand[47] : 0, 0);
    } else {
        for (uint32_t leaf = 0x80000000u; leaf <= 0x80000004u; leaf++) {
            cpu_cpuid(cpu, leaf, 0, r);
            ck_assert_mem_eq(r, basic, sizeof(r));
        }
    }
    /* cpu_cpuid_features() is CPUID.1:EDX. */
    cpu_cpuid(cpu, 1, 0, r);
    ck_assert_uint_eq(cpu_cpuid_features(cpu), r[3]);
}
END_TEST

/* Feature names popek implements, with the register and bit CPUID shows them in. */
static const struct {
    const char *name;
    int reg;       /* 2 ECX, 3 EDX */
    uint32_t leaf; /* 1 or 80000001h */
    int bit;
} features[] = {
    {"fpu", 3, 1, 0},      {"pse", 3, 1, 3},       {"tsc", 3, 1, 4},     {"msr", 3, 1, 5},
    {"pae", 3, 1, 6},      {"cx8", 3, 1, 8},       {"sep", 3, 1, 11},    {"mtrr", 3, 1, 12},
    {"pge", 3, 1, 13},     {"cmov", 3, 1, 15},     {"pat", 3, 1, 16},    {"clflush", 3, 1, 19},
    {"mmx", 3, 1, 23},     {"fxsr", 3, 1, 24},     {"sse", 3, 1, 25},    {"sse2", 3, 1, 26},
    {"pni", 2, 1, 0},      {"sse3", 2, 1, 0},      {"ssse3", 2, 1, 9},   {"hypervisor", 2, 1, 31},
    {"nx", 3, 0x80000001u, 20}, {"xd", 3, 0x80000001u, 20},
};

/* CPUID leaves 1 and 80000001h after spec, as four registers each. */
static void leaves_of(const char *spec, uint32_t l1[4], uint32_t ext[4])
{
    use_model(spec);
    cpu_cpuid(cpu, 1, 0, l1);
    cpu_cpuid(cpu, 0x80000001u, 0, ext);
}

START_TEST(test_feature_toggles)
{
    const char *model = tables[_i].name;
    uint32_t base1[4], base_ext[4];
    leaves_of(model, base1, base_ext);
    bool has_ext = tables[_i].ext_from_basic == 0;
    for (size_t f = 0; f < sizeof(features) / sizeof(features[0]); f++) {
        if (features[f].leaf != 1 && !has_ext) {
            continue; /* no extended leaves on this model to show it */
        }
        static const char *const forms[4] = {"%s,+%s", "%s,%s=on", "%s,-%s", "%s,%s=off"};
        for (int form = 0; form < 4; form++) {
            char spec[64];
            snprintf(spec, sizeof(spec), forms[form], model, features[f].name);
            uint32_t l1[4], ext[4];
            leaves_of(spec, l1, ext);
            uint32_t want1[4], want_ext[4];
            memcpy(want1, base1, sizeof(want1));
            memcpy(want_ext, base_ext, sizeof(want_ext));
            uint32_t *reg = features[f].leaf == 1 ? &want1[features[f].reg]
                                                  : &want_ext[features[f].reg];
            uint32_t bit = 1u << features[f].bit;
            *reg = form < 2 ? (*reg | bit) : (*reg & ~bit);
            if (features[f].leaf == 1 && features[f].reg == 3 && features[f].bit == 19) {
                /* EBX bits 15:8, the CLFLUSH line size, come with CLFSH */
                want1[1] = form < 2 ? 0x800 : 0;
            }
            ck_assert_msg(!memcmp(l1, want1, sizeof(l1)) && !memcmp(ext, want_ext, sizeof(ext)),
                          "%s: leaf 1 %08x %08x, leaf 80000001h %08x", spec, l1[2], l1[3],
                          ext[3]);
        }
    }
}
END_TEST

/* Several toggles at once, and what follows from a feature: CR4.PAE and
 * IA32_EFER exist only with PAE and NX. */
START_TEST(test_toggles_combine)
{
    uint32_t l1[4], ext[4];
    leaves_of("pentium3,+sse2,-mmx,pni=on", l1, ext);
    ck_assert_uint_eq(l1[3], (EDX_P3 | CPUID_SSE2) & ~CPUID_MMX);
    ck_assert_uint_eq(l1[2], 0x80000001u);
    leaves_of("popek,-nx,-pae", l1, ext);
    ck_assert_uint_eq(l1[3] & CPUID_PAE, 0);
    ck_assert_uint_eq(ext[3], 0);
    uint64_t v;
    ck_assert(!cpu_rdmsr(cpu, MSR_IA32_EFER, &v));
    ck_assert(!cpu_wrmsr(cpu, MSR_IA32_EFER, EFER_NXE));
    use_model("core2duo");
    ck_assert(cpu_wrmsr(cpu, MSR_IA32_EFER, EFER_NXE));
    /* qemu32 has no MTRRs, so their MSRs do not exist. */
    use_model("qemu32");
    ck_assert(!cpu_rdmsr(cpu, MSR_IA32_MTRRCAP, &v));
    ck_assert(!cpu_wrmsr(cpu, MSR_IA32_MTRR_DEF_TYPE, 0));
    ck_assert(cpu_rdmsr(cpu, MSR_IA32_CR_PAT, &v));
    ck_assert_uint_eq(v, 0x0007040600070406ull);
}
END_TEST

/*
 * A variable MTRR's PHYSMASK reaches up to the model's MAXPHYADDR (CPUID
 * 80000008h): 40 bits with long mode, 36 on the P6.  SeaBIOS writes masks
 * from that width, and a #GP there reset the machine under -cpu qemu64.
 */
START_TEST(test_mtrr_mask_width_follows_maxphyaddr)
{
    const uint32_t physmask0 = 0x201, physbase0 = 0x200;
    uint32_t out[4];
    use_model("qemu64");
    cpu_cpuid(cpu, 0x80000008u, 0, out);
    ck_assert_uint_eq(out[0] & 0xff, 40);
    ck_assert(cpu_wrmsr(cpu, physmask0, 0xff80000800ull));  /* 2 GiB, valid, 40 bits */
    ck_assert(cpu_wrmsr(cpu, physbase0, 0xff00000006ull));  /* base at 1020 GiB, WB */
    ck_assert(!cpu_wrmsr(cpu, physmask0, 0x1ff80000800ull)); /* bit 40 */
    use_model("pentium3");
    ck_assert(!cpu_wrmsr(cpu, physmask0, 0xff80000800ull));
    ck_assert(cpu_wrmsr(cpu, physmask0, 0xf80000800ull));
}
END_TEST

START_TEST(test_bad_specs)
{
    static const struct {
        const char *spec;
        const char *message;
    } bad[] = {
        {"pentium5", "-cpu: unknown CPU model 'pentium5' (-cpu help lists them)"},
        {"", "-cpu: unknown CPU model '' (-cpu help lists them)"},
        {"core2duo,+sse9", "-cpu: unknown feature 'sse9' (-cpu help lists them)"},
        {"core2duo,+vmx", "-cpu: feature 'vmx' is not implemented by popek"},
        {"core2duo,pdpe1gb=on", "-cpu: feature 'pdpe1gb' is not implemented by popek"},
        {"core2duo,+svm", "-cpu: feature 'svm' is not implemented by popek"},
        {"core2duo,sse2=maybe", "-cpu: bad value in 'sse2=maybe' (want on or off)"},
        {"core2duo,sse2", "-cpu: 'sse2' is not +FEATURE, -FEATURE or FEATURE=on|off"},
        {"core2duo,,+sse2", "-cpu: bad feature list in 'core2duo,,+sse2'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CPUIDConfig cfg;
        char err[160] = "";
        ck_assert_msg(!cpu_model_parse(bad[i].spec, &cfg, err, sizeof(err)), "%s", bad[i].spec);
        ck_assert_str_eq(err, bad[i].message);
    }
    /* Turning off a feature popek lacks is harmless, as in QEMU. */
    CPUIDConfig cfg;
    char err[160];
    ck_assert(cpu_model_parse("core2duo,-vmx,-lm", &cfg, err, sizeof(err)));
    ck_assert_ptr_eq(cfg.model, cpu_model_find("core2duo"));
    ck_assert_ptr_eq(cpu_model_find("popek"), cpu_model_default());
}
END_TEST

/* Leaf by leaf as test_model_leaves does. */
static void check_leaves(const ModelTable *t)
{
    uint32_t r[4];
    for (size_t i = 0; i < sizeof(t->leaves) / sizeof(t->leaves[0]); i++) {
        const Leaf *l = &t->leaves[i];
        if (i > 0 && l->leaf == 0) {
            break;
        }
        cpu_cpuid(cpu, l->leaf, l->subleaf, r);
        for (int k = 0; k < 4; k++) {
            ck_assert_msg(r[k] == l->r[k], "%s leaf %#x.%u reg %d: %#x, want %#x", t->name,
                          l->leaf, l->subleaf, k, r[k], l->r[k]);
        }
    }
}

/*
 * Long mode's gate: without CPU_LONG_MODE qemu64 is refused with its own
 * message, no model reports LM and +lm is refused; with it qemu64 has its
 * leaves.  Either way, a model that reports LM also reports leaf
 * 80000008h with the 4-level walk's address sizes, however low its own
 * maximum extended leaf.
 */
START_TEST(test_long_mode_gate)
{
    CPUIDConfig cfg;
    char err[160] = "";
    if (CPU_LONG_MODE) {
        use_model("qemu64");
        check_leaves(&qemu64_table);
        ck_assert(cpu_model_parse("core2duo,-lm,+lahf-lm", &cfg, err, sizeof(err)));
        ck_assert_uint_eq(cfg.ext_edx & (1u << 29), 0);
    } else {
        ck_assert_ptr_null(cpu_model_find("qemu64"));
        ck_assert(!cpu_model_parse("qemu64", &cfg, err, sizeof(err)));
        ck_assert_str_eq(err,
                         "-cpu: CPU model 'qemu64' is 64-bit only, and popek does not run long mode yet");
        ck_assert(!cpu_model_parse("core2duo,+lm", &cfg, err, sizeof(err)));
        ck_assert(!cpu_model_parse("core2duo,+lahf_lm", &cfg, err, sizeof(err)));
        for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
            ck_assert(cpu_model_parse(tables[i].name, &cfg, err, sizeof(err)));
            ck_assert_uint_eq(cfg.ext_edx & (1u << 29), 0);
            ck_assert_uint_eq(cfg.ext_ecx, 0);
        }
    }
    use_model("core2duo");
    cpu->cpuid.ext_edx |= 1u << 29; /* LM, as with CPU_LONG_MODE */
    uint32_t r[4];
    cpu_cpuid(cpu, 0x80000000u, 0, r);
    ck_assert_uint_eq(r[0], 0x80000008u);
    cpu_cpuid(cpu, 0x80000008u, 0, r);
    ck_assert_uint_eq(r[0], 0x3028);
    cpu_cpuid(cpu, 0x80000006u, 0, r);
    ck_assert_uint_eq(r[0] | r[1] | r[2] | r[3], 0);
    cpu->cpuid.ext_edx &= ~(1u << 29);
    cpu_cpuid(cpu, 0x80000000u, 0, r);
    ck_assert_uint_eq(r[0], 0x80000004u);
}
END_TEST

#define MODEL_COUNT ((int)(sizeof(tables) / sizeof(tables[0])))

static Suite *models_suite(void)
{
    Suite *s = suite_create("cpu_models");
    TCase *tc = tcase_create("models");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_model_leaves, 0, MODEL_COUNT);
    tcase_add_loop_test(tc, test_feature_toggles, 0, MODEL_COUNT);
    tcase_add_test(tc, test_toggles_combine);
    tcase_add_test(tc, test_bad_specs);
    tcase_add_test(tc, test_mtrr_mask_width_follows_maxphyaddr);
    tcase_add_test(tc, test_long_mode_gate);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(models_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
