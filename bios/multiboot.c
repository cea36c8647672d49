/*
 * Multiboot Specification 0.6.96: header search (3.1.1), the a.out kludge
 * (header flag 16) or ELF program headers, boot modules, and the machine
 * state at entry (3.2): EAX = 0x2BADB002, EBX = info, flat segments, PE on,
 * paging off, IF clear.
 *
 * Where things go.  A kernel segment may lie anywhere in RAM outside the
 * 640 KiB-1 MiB hole (VGA memory and ROMs), below 1 MiB too: kernels
 * linked at 0x8000 load under QEMU.  The loader's own structures (the
 * entry GDT, the information structure, module records, memory map and
 * strings) share one scratch area, at 0x1000 unless the kernel is there,
 * else just above the kernel.  Modules follow the kernel and the scratch
 * area, from 1 MiB at the lowest, so nothing the loader writes overlaps
 * the image.
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
#define MB_MAX_SEGMENTS 16
#define MB_HOLE_START   0x000a0000u /* VGA memory and ROMs up to 1 MiB: not RAM to load */
#define MB_HOLE_END     0x00100000u
/* The scratch area: entry GDT, info structure, module records, memory map,
 * then strings (the command line and module names) to its end. */
#define MB_SCRATCH_LOW  0x00001000u
#define MB_SCRATCH_SIZE 0x00006000u
#define MB_OFF_GDT      0x000u
#define MB_OFF_INFO     0x040u
#define MB_OFF_MODS     0x100u
#define MB_OFF_MMAP     (MB_OFF_MODS + 16 * MB_MAX_MODS)
#define MB_OFF_STRINGS  (MB_OFF_MMAP + 0x100u)

/* The physical ranges the kernel image occupies. */
typedef struct MBImage {
    uint32_t start[MB_MAX_SEGMENTS];
    uint32_t end[MB_MAX_SEGMENTS];
    int count;
    uint32_t top; /* the highest end */
} MBImage;

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

/* Whether [start, start + len) lies in RAM outside the hole. */
static bool mb_in_ram(const BootConfig *cfg, uint64_t start, uint64_t len)
{
    uint64_t end = start + len;
    return end <= cfg->ram_bytes && (end <= MB_HOLE_START || start >= MB_HOLE_END);
}

/* Why [start, start + len) cannot take a segment, for the error line. */
static const char *mb_why_not(const BootConfig *cfg, uint64_t start, uint64_t len)
{
    return start + len > cfg->ram_bytes ? "is outside guest RAM (raise -m)"
                                        : "overlaps the 640K-1M hole (VGA memory and ROMs)";
}

static bool mb_overlaps(const MBImage *im, uint64_t start, uint64_t end)
{
    for (int i = 0; i < im->count; i++) {
        if (start < im->end[i] && im->start[i] < end) {
            return true;
        }
    }
    return false;
}

static void mb_add_range(MBImage *im, uint32_t start, uint32_t end)
{
    im->start[im->count] = start;
    im->end[im->count] = end;
    im->count++;
    if (end > im->top) {
        im->top = end;
    }
}

/* Load the segments; returns the entry point, or 0 with err set. */
static uint32_t load_aout(PhysMem *pm, const BootConfig *cfg, const uint8_t *img, size_t size,
                          long hdr, MBImage *im, char *err, size_t errlen)
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
    uint64_t top = bss_end > load_addr + len ? bss_end : load_addr + len;
    if (!mb_in_ram(cfg, load_addr, top - load_addr)) {
        snprintf(err, errlen, "-kernel '%s': image at %#x-%#llx %s", cfg->kernel_path, load_addr,
                 (unsigned long long)top, mb_why_not(cfg, load_addr, top - load_addr));
        return 0;
    }
    phys_load(pm, load_addr, img + file_off, (uint32_t)len);
    uint8_t zeros[4096] = {0};
    for (uint64_t z = load_addr + len; z < top; z += sizeof(zeros)) {
        uint32_t n = top - z < sizeof(zeros) ? (uint32_t)(top - z) : (uint32_t)sizeof(zeros);
        phys_load(pm, (uint32_t)z, zeros, n);
    }
    mb_add_range(im, load_addr, (uint32_t)top);
    return entry;
}

static uint32_t load_elf(PhysMem *pm, const BootConfig *cfg, const uint8_t *img, size_t size,
                         MBImage *im, char *err, size_t errlen)
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
    for (int i = 0; i < phnum; i++) {
        const uint8_t *ph = img + phoff + (size_t)i * phentsize;
        if (get32(ph) != 1) { /* PT_LOAD */
            continue;
        }
        uint32_t off = get32(ph + 4), paddr = get32(ph + 12);
        uint32_t filesz = get32(ph + 16), memsz = get32(ph + 20);
        if ((uint64_t)off + filesz > size || filesz > memsz) {
            snprintf(err, errlen, "-kernel '%s': ELF segment at %#x (%u bytes) runs past the file",
                     path, paddr, memsz);
            return 0;
        }
        if (!mb_in_ram(cfg, paddr, memsz)) {
            snprintf(err, errlen, "-kernel '%s': ELF segment at %#x (%u bytes) %s", path, paddr,
                     memsz, mb_why_not(cfg, paddr, memsz));
            return 0;
        }
        if (im->count == MB_MAX_SEGMENTS) {
            snprintf(err, errlen, "-kernel '%s': more than %d loadable ELF segments", path,
                     MB_MAX_SEGMENTS);
            return 0;
        }
        phys_load(pm, paddr, img + off, filesz);
        uint8_t zeros[4096] = {0};
        for (uint32_t z = filesz; z < memsz; z += sizeof(zeros)) {
            uint32_t n = memsz - z < sizeof(zeros) ? memsz - z : (uint32_t)sizeof(zeros);
            phys_load(pm, paddr + z, zeros, n);
        }
        mb_add_range(im, paddr, paddr + memsz);
    }
    if (!im->count) {
        snprintf(err, errlen, "-kernel '%s': ELF has no loadable segment", path);
        return 0;
    }
    return get32(img + 24);
}

/* Strings live at the end of the scratch area, after the memory map. */
typedef struct InfoWriter {
    PhysMem *pm;
    uint32_t next;   /* next free byte for strings */
    uint32_t limit;  /* the end of the scratch area */
    bool full;       /* a string did not fit (then it is not written) */
} InfoWriter;

static uint32_t put_string(InfoWriter *w, const char *s)
{
    uint32_t at = w->next;
    size_t len = strlen(s) + 1;
    if (len > w->limit - at) {
        w->full = true;
        return 0;
    }
    phys_load(w->pm, at, s, (uint32_t)len);
    w->next += (uint32_t)((len + 3) & ~3u);
    if (w->next > w->limit) {
        w->next = w->limit;
    }
    return at;
}

/* The scratch area: at 0x1000 unless the kernel is there, else above it. */
static bool mb_place_scratch(const BootConfig *cfg, const MBImage *im, uint32_t *base)
{
    uint64_t high = ((uint64_t)im->top + 0xfff) & ~0xfffull;
    if (high < MB_HOLE_END && high + MB_SCRATCH_SIZE > MB_HOLE_START) {
        high = MB_HOLE_END;
    }
    const uint64_t candidates[2] = {MB_SCRATCH_LOW, high};
    for (int i = 0; i < 2; i++) {
        if (mb_in_ram(cfg, candidates[i], MB_SCRATCH_SIZE) &&
            !mb_overlaps(im, candidates[i], candidates[i] + MB_SCRATCH_SIZE)) {
            *base = (uint32_t)candidates[i];
            return true;
        }
    }
    return false;
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
    MBImage im = {.count = 0};
    uint32_t entry = (flags & MB_FLAG_AOUT) ? load_aout(pm, cfg, img, size, hdr, &im, err, errlen)
                                           : load_elf(pm, cfg, img, size, &im, err, errlen);
    if (!im.count) {
        return false;
    }
    uint32_t scratch;
    if (!mb_place_scratch(cfg, &im, &scratch)) {
        snprintf(err, errlen, "-kernel '%s': no room in guest RAM for the Multiboot information "
                 "(raise -m)", cfg->kernel_path);
        return false;
    }
    /* Info structure (spec 3.3): 88 bytes, then module records, mmap, strings. */
    uint32_t info = scratch + MB_OFF_INFO;
    uint32_t mods_addr = scratch + MB_OFF_MODS;
    uint32_t mmap_addr = scratch + MB_OFF_MMAP;
    InfoWriter w = {pm, scratch + MB_OFF_STRINGS, scratch + MB_SCRATCH_SIZE, false};
    uint8_t zero[88] = {0};
    phys_load(pm, info, zero, sizeof(zero));
    uint32_t end = im.top > scratch + MB_SCRATCH_SIZE ? im.top : scratch + MB_SCRATCH_SIZE;
    if (end < MB_HOLE_END) {
        end = MB_HOLE_END;
    }
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
    if (w.full) {
        snprintf(err, errlen, "-kernel '%s': the command line and module names exceed the "
                 "Multiboot loader's %u bytes for strings", cfg->kernel_path,
                 MB_SCRATCH_SIZE - MB_OFF_STRINGS);
        return false;
    }

    boot_enter_flat32(pm, cpu, entry, scratch + MB_OFF_GDT);
    memset(cpu->regs, 0, sizeof(cpu->regs));
    cpu->regs[R_EAX] = MB_BOOT_MAGIC;
    cpu->regs[R_EBX] = info;
    return true;
}
