/*
 * The CPU models -cpu chooses from (cpu/models.c), in QEMU's spelling, and
 * the parser of -cpu NAME[,+feat][,-feat][,feat=on|off].
 *
 * A model describes a real chip, minus what popek does not implement: its
 * signature, its cache descriptors and brand string are the chip's, its
 * feature words the chip's features that popek has.  Each row says in a
 * comment what the real chip has that popek leaves out.
 */
#ifndef CPU_MODELS_H
#define CPU_MODELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/state.h"

/*
 * Whether cpu/ runs long mode (issue 19's CPU half).  While it is false, no
 * model reports LM or the features that come with it (SYSCALL, LAHF-LM,
 * CX16), and the 64-bit-only models (qemu64) are not offered: a guest
 * that saw LM would switch to a mode popek cannot run.  The lead sets it
 * to true when the CPU half is merged; cpu_model_config() does the rest.
 */
#define CPU_LONG_MODE true

/* One cache of CPUID leaf 4 (SDM Vol.2 CPUID, Table 3-8). */
typedef struct CPUCacheInfo {
    uint8_t type;  /* 1 data, 2 instruction, 3 unified (0 ends the list) */
    uint8_t level; /* 1, 2, 3 */
    uint16_t ways;
    uint16_t line; /* bytes per line */
    uint32_t sets;
} CPUCacheInfo;

#define CPU_MODEL_CACHES 4

typedef struct CPUModel {
    const char *name;                      /* -cpu NAME, as QEMU spells it */
    const char *desc;                      /* -cpu help's description */
    uint32_t signature;                    /* CPUID.1:EAX: stepping 3:0, model 7:4, family 11:8 */
    uint32_t max_basic;                    /* CPUID.0:EAX */
    uint32_t max_ext;                      /* CPUID.80000000h:EAX; 0: no extended leaves */
    uint32_t edx1, ecx1;                   /* CPUID.1 features (popek's only) */
    uint32_t ext_edx;                      /* CPUID.80000001h:EDX features */
    uint32_t ext_ecx;                      /* CPUID.80000001h:ECX features */
    const char *vendor;                    /* CPUID.0 vendor, 12 chars; NULL: GenuineIntel */
    bool x64;                              /* a 64-bit-only model: offered with CPU_LONG_MODE */
    uint32_t leaf2[4];                     /* cache and TLB descriptors */
    CPUCacheInfo caches[CPU_MODEL_CACHES]; /* leaf 4, when max_basic >= 4 */
    const char *brand; /* leaves 80000002h-80000004h, when max_ext reaches them */
} CPUModel;

/* The model popek runs without -cpu. */
const CPUModel *cpu_model_default(void);
/* The model called name, or NULL. */
const CPUModel *cpu_model_find(const char *name);
/* The configuration a model gives before any +feat/-feat. */
CPUIDConfig cpu_model_config(const CPUModel *model);
/* -cpu help: "x86 NAME  DESCRIPTION" per model, then the feature names. */
void cpu_model_help(FILE *out);
/*
 * Parse -cpu's argument "NAME[,+feat|-feat|feat=on|feat=off]..." into
 * *cfg.  On error returns false with one line (no "popek:" prefix, no
 * newline) in err: an unknown model, an unknown feature, or a feature
 * popek cannot do.
 */
bool cpu_model_parse(const char *spec, CPUIDConfig *cfg, char *err, size_t err_len);

#endif /* CPU_MODELS_H */
