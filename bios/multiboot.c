/*
 * Multiboot Specification 0.6.96: header search (3.1.1), the a.out kludge
 * (header flag 16) or ELF program headers, boot modules, and the machine
 * state at entry (3.2): EAX = 0x2BADB002, EBX = info, flat segments, PE on,
 * paging off, IF clear.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bios/multiboot.h"
#include "cpu/cpu.h"

#define MB_MAGIC        0x1badb002u
#define MB_BOOT_MAGIC   0x2badb002u
#define MB_FLAG_AOUT    (1u << 16)
#define MB_INFO_MEM     (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS    (1u << 3)
#define MB_INFO_MMAP    (1u << 6)
#define MB_INFO_LOADER  (1u << 9)
#define MB_MAX_MODS     16

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

long multiboot_find_header(const uint8_t *img, size_t size)
{
    size_t limit = size < 8192 ? size : 8192;
    for (size_t off = 0; off + 12 <= limit; off += 4) {
        uint32_t magic = get32(img + off), flags = get32(img + off + 4);
        if (magic == MB_MAGIC && magic + flags + get32(img + off + 8) == 0) {
            return (long)off;
        }
    }
    return -1;
}

/* Load the segments; returns the entry point, or 0 with err set. */
static uint32_t load_aout(PhysMem *pm, const BootConfig *cfg, const uint8_t *img, size_t size,
                          long hdr, uint32_t *end, char *err, size_t errlen)
{
    uint32_t header_addr = get32(img + hdr + 12), load_addr = get32(img + hdr + 16);
    uint32_t load_end = get32(img + hdr + 20), bss_end = get32(img + hdr + 24);
    uint32_t entry = get32(img + hdr + 28);
    uint64_t file_off = (uint64_t)hdr - (header_addr - load_addr);
    uint64_t len = load_end ? (uint64_t)load_end - load_addr : size - file_off;
    if (header_addr < load_addr || file_off > size || file_off + len > size) {
        snprintf(err, errlen, "-kernel '%s': Multiboot a.out header addresses are inconsistent",
                 cfg->kernel_path);
        return 0;
    }
    uint32_t top = bss_end > load_addr + len ? bss_end : (uint32_t)(load_addr + len);
    if (load_addr < 0x100000 || top > cfg->ram_bytes) {
        snprintf(err, errlen, "-kernel '%s': image at %#x-%#x is outside guest RAM (raise -m)",
                 cfg->kernel_path, load_addr, top);
        return 0;
    }
    phys_load(pm, load_addr, img + file_off, (uint32_t)len);
    *end = top;
    return entry;
}

static uint32_t load_elf(PhysMem *pm, const BootConfig *cfg, const uint8_t *img, size_t size,
                         uint32_t *end, char *err, size_t errlen)
{
    const char *path = cfg->kernel_path;
    if (size < 52 || memcmp(img, "\x7f" "ELF", 4) || img[4] != 1 || img[5] != 1 ||
        get16(img + 18) != 3) {
        snprintf(err, errlen, "-kernel '%s': Multiboot kernel is not a 32-bit x86 ELF and has "
                 "no a.out header", path);
        return 0;
    }
    uint32_t phoff = get32(img + 28);
    uint16_t phentsize = get16(img + 42), phnum = get16(img + 44);
    if (phentsize < 32 || (uint64_t)phoff + (uint64_t)phentsize * phnum > size) {
        snprintf(err, errlen, "-kernel '%s': ELF program headers run past the file", path);
        return 0;
    }
    uint32_t top = 0;
    int loaded = 0;
    for (int i = 0; i < phnum; i++) {
        const uint8_t *ph = img + phoff + (size_t)i * phentsize;
        if (get32(ph) != 1) { /* PT_LOAD */
            continue;
        }
        uint32_t off = get32(ph + 4), paddr = get32(ph + 12);
        uint32_t filesz = get32(ph + 16), memsz = get32(ph + 20);
        if ((uint64_t)off + filesz > size || filesz > memsz ||
            (uint64_t)paddr + memsz > cfg->ram_bytes || paddr < 0x100000) {
            snprintf(err, errlen, "-kernel '%s': ELF segment at %#x (%u bytes) is outside guest "
                     "RAM or the file", path, paddr, memsz);
            return 0;
        }
        phys_load(pm, paddr, img + off, filesz);
        uint8_t zeros[4096] = {0};
        for (uint32_t z = filesz; z < memsz; z += sizeof(zeros)) {
            uint32_t n = memsz - z < sizeof(zeros) ? memsz - z : (uint32_t)sizeof(zeros);
            phys_load(pm, paddr + z, zeros, n);
        }
        if (paddr + memsz > top) {
            top = paddr + memsz;
        }
        loaded++;
    }
    if (!loaded) {
        snprintf(err, errlen, "-kernel '%s': ELF has no loadable segment", path);
        return 0;
    }
    *end = top;
    return get32(img + 24);
}

/* Strings and module records live after the info structure. */
typedef struct InfoWriter {
    PhysMem *pm;
    uint32_t next;   /* next free byte for strings */
} InfoWriter;

static uint32_t put_string(InfoWriter *w, const char *s)
{
    uint32_t at = w->next;
    size_t len = strlen(s) + 1;
    phys_load(w->pm, at, s, (uint32_t)len);
    w->next += (uint32_t)((len + 3) & ~3u);
    return at;
}

static void store32(PhysMem *pm, uint32_t addr, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    phys_load(pm, addr, b, 4);
}

/* -initrd "a.bin arg1,b.bin": each module is loaded page aligned after the kernel. */
static int load_modules(PhysMem *pm, const BootConfig *cfg, InfoWriter *w, uint32_t *free_addr,
                        uint32_t mods_addr, char *err, size_t errlen)
{
    if (!cfg->initrd_path) {
        return 0;
    }
    char *list = strdup(cfg->initrd_path), *save = NULL;
    int count = 0;
    for (char *mod = strtok_r(list, ",", &save); mod && count < MB_MAX_MODS;
         mod = strtok_r(NULL, ",", &save)) {
        char path[4096];
        snprintf(path, sizeof(path), "%s", mod);
        char *space = strchr(path, ' ');
        if (space) {
            *space = '\0';
        }
        FILE *f = fopen(path, "rb");
        if (!f) {
            snprintf(err, errlen, "-initrd '%s': cannot open", path);
            free(list);
            return -1;
        }
        uint32_t start = (*free_addr + 0xfff) & ~0xfffu;
        uint8_t buf[65536];
        size_t n, total = 0;
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
            if (start + total + n > cfg->ram_bytes) {
                snprintf(err, errlen, "-initrd '%s': module does not fit in guest RAM", path);
                fclose(f);
                free(list);
                return -1;
            }
            phys_load(pm, start + (uint32_t)total, buf, (uint32_t)n);
            total += n;
        }
        fclose(f);
        uint32_t rec = mods_addr + 16 * (uint32_t)count;
        store32(pm, rec, start);
        store32(pm, rec + 4, start + (uint32_t)total);
        store32(pm, rec + 8, put_string(w, mod));
        store32(pm, rec + 12, 0);
        *free_addr = start + (uint32_t)total;
        count++;
    }
    free(list);
    return count;
}

bool multiboot_load(PhysMem *pm, CPUState *cpu, const BootConfig *cfg, const uint8_t *img,
                    size_t size, char *err, size_t errlen)
{
    long hdr = multiboot_find_header(img, size);
    uint32_t flags = get32(img + hdr + 4);
    uint32_t end = 0;
    uint32_t entry = (flags & MB_FLAG_AOUT) ? load_aout(pm, cfg, img, size, hdr, &end, err, errlen)
                                           : load_elf(pm, cfg, img, size, &end, err, errlen);
    if (!end) {
        return false;
    }
    /* Info structure (spec 3.3): 88 bytes, then module records, mmap, strings. */
    uint32_t info = MULTIBOOT_INFO_ADDR;
    uint32_t mods_addr = info + 0x100;
    uint32_t mmap_addr = mods_addr + 16 * MB_MAX_MODS;
    InfoWriter w = {pm, mmap_addr + 0x100};
    uint8_t zero[88] = {0};
    phys_load(pm, info, zero, sizeof(zero));
    int mods = load_modules(pm, cfg, &w, &end, mods_addr, err, errlen);
    if (mods < 0) {
        return false;
    }
    E820Entry map[8];
    int n = boot_e820_map(cfg->ram_bytes, map, 8);
    for (int i = 0; i < n; i++) {
        uint32_t e = mmap_addr + 24 * (uint32_t)i;
        store32(pm, e, 20);
        store32(pm, e + 4, (uint32_t)map[i].addr);
        store32(pm, e + 8, (uint32_t)(map[i].addr >> 32));
        store32(pm, e + 12, (uint32_t)map[i].size);
        store32(pm, e + 16, (uint32_t)(map[i].size >> 32));
        store32(pm, e + 20, map[i].type);
    }
    uint32_t info_flags = MB_INFO_MEM | MB_INFO_CMDLINE | MB_INFO_MMAP | MB_INFO_LOADER;
    store32(pm, info + 4, 640);                                         /* mem_lower KiB */
    store32(pm, info + 8, (uint32_t)((cfg->ram_bytes - 0x100000) >> 10)); /* mem_upper KiB */
    char cmdline[4096];
    snprintf(cmdline, sizeof(cmdline), "%s%s%s", cfg->kernel_path, cfg->cmdline ? " " : "",
             cfg->cmdline ? cfg->cmdline : "");
    store32(pm, info + 16, put_string(&w, cmdline));
    if (mods > 0) {
        info_flags |= MB_INFO_MODS;
        store32(pm, info + 20, (uint32_t)mods);
        store32(pm, info + 24, mods_addr);
    }
    store32(pm, info + 44, 24 * (uint32_t)n); /* mmap_length */
    store32(pm, info + 48, mmap_addr);
    store32(pm, info + 64, put_string(&w, "popek"));
    store32(pm, info, info_flags);

    boot_enter_flat32(pm, cpu, entry);
    memset(cpu->regs, 0, sizeof(cpu->regs));
    cpu->regs[R_EAX] = MB_BOOT_MAGIC;
    cpu->regs[R_EBX] = info;
    return true;
}
