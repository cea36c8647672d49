/*
 * Assembling the PC and running it.
 *
 * The CPU runs in slices: until the next timer deadline (in deterministic
 * mode, exactly that many instructions) or an exit request.  Between slices
 * the loop fires timers, reads host input and handles resets.  A halted CPU
 * sleeps in poll() until the next deadline or input, so an idle guest costs
 * no host CPU.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bios/acpi.h"
#include "bios/firmware.h"
#include "bios/linux_boot.h"
#include "cpu/cpu.h"
#include "frontend/gdbstub.h"
#include "frontend/monitor.h"
#include "frontend/drive.h"
#include "frontend/pc.h"
#include "hw/acpi_pm.h"
#include "hw/debugcon.h"
#include "hw/debugexit.h"
#include "hw/fw_cfg.h"
#include "hw/i8042.h"
#include "hw/irq.h"
#include "hw/pam.h"
#include "hw/pci.h"
#include "hw/pic.h"
#include "hw/piix.h"
#include "hw/piix_ide.h"
#include "hw/pit.h"
#include "hw/port92.h"
#include "hw/rtc.h"
#include "hw/uart.h"
#include "hw/vga.h"
#include "softmmu/mmu.h"
#include "translator/translator.h"

struct PCDevices {
    PICState *pic;
    PCIBus *pci;
    I440FXState *i440fx;
    PIIX3State *piix3;
    AcpiPMState *acpi;
    PITState *pit;
    RTCState *rtc;
    UARTState *com1;
    UARTState *com2;       /* 0x2F8, IRQ3: present, with no host side */
    I8042State *kbd;
    Port92State *port92;
    DebugExitState *debug_exit;
    DebugconState *debugcon;
    DebugconState *bioslog; /* SeaBIOS's log port 0x402 */
    FWCfgState *fw_cfg;
    PAMState *pam;          /* NULL when no BIOS is mapped */
    PIIXIDEState *ide;
    Drive drives[POPEK_MAX_DRIVES]; /* images behind IDE drives 0-3 */
    VGAState *vga;          /* stdvga at PCI 00:02.0 */
};

/* The VGA's PCI slot, as in QEMU's i440FX machine. */
#define VGA_PCI_SLOT 2
/* Past this many bytes of framebuffer, one full TLB flush is cheaper than
 * a sweep per page (softmmu/tlb.c measures both). */
#define VGA_FLUSH_ALL_BYTES (16u * 4096)

/* Host-clock slices are bounded so input and timers are served promptly
 * even when no deadline is near. */
#define SLICE_MAX_INSNS 200000

static void cpu_intr_line(void *opaque, int n, int level)
{
    PC *pc = opaque;
    if (level) {
        cpu_set_interrupt(&pc->cpu, CPU_INTERRUPT_HARD);
    } else {
        cpu_clear_interrupt(&pc->cpu, CPU_INTERRUPT_HARD);
    }
}

static int cpu_irq_ack(void *opaque)
{
    PC *pc = opaque;
    int vector = pic_ack(pc->dev->pic);
    if (vector >= 0) {
        pc->irq_counts[vector & 0xff]++;
    }
    return vector;
}

static int64_t cpu_clock_ns(void *opaque)
{
    PC *pc = opaque;
    return timer_now(&pc->timers);
}

/* FERR# drives IRQ13 on a PC; an OUT to port F0h clears the latch (the
 * "coprocessor busy" reset that DOS-era handlers write). */
static void cpu_ferr(void *opaque)
{
    PC *pc = opaque;
    pic_set_irq(pc->dev->pic, 13, 1);
}

static uint32_t ferr_port_read(void *opaque, uint16_t port, int size)
{
    return 0xff;
}

static void ferr_port_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    PC *pc = opaque;
    pc->cpu.ferr_pending = false;
    pic_set_irq(pc->dev->pic, 13, 0);
}

/* A20 is enabled when either gate is open: the i8042 output port or port 92h. */
static void machine_update_a20(PC *pc)
{
    uint32_t mask = (pc->a20_kbd || pc->a20_port92) ? 0xffffffffu : 0xffefffffu;
    if (pc->cpu.a20_mask != mask) {
        pc->cpu.a20_mask = mask;
        tlb_flush_all(&pc->cpu);
    }
}

static void machine_set_a20_kbd(void *opaque, bool on)
{
    PC *pc = opaque;
    pc->a20_kbd = on;
    machine_update_a20(pc);
}

static void machine_set_a20_port92(void *opaque, bool on)
{
    PC *pc = opaque;
    pc->a20_port92 = on;
    machine_update_a20(pc);
}

static void machine_poweroff(void *opaque)
{
    PC *pc = opaque;
    pc->exit_requested = true;
    pc->exit_status = 0;
    cpu_set_interrupt(&pc->cpu, CPU_INTERRUPT_EXIT);
}

static void machine_reset_request(void *opaque)
{
    PC *pc = opaque;
    pc->reset_requested = true;
    cpu_set_interrupt(&pc->cpu, CPU_INTERRUPT_EXIT);
}

static void machine_debug_exit(void *opaque, int status)
{
    PC *pc = opaque;
    pc->exit_requested = true;
    pc->exit_status = status;
    cpu_set_interrupt(&pc->cpu, CPU_INTERRUPT_EXIT);
}

/* The VGA cleared the dirty bytes of framebuffer pages (hw/vga_render.c):
 * the next store into them must miss the TLB and mark them again. */
static void machine_vga_flush(void *opaque, uint32_t paddr, uint32_t len)
{
    PC *pc = opaque;
    if (len > VGA_FLUSH_ALL_BYTES) {
        tlb_flush_all(&pc->cpu);
        return;
    }
    for (uint32_t off = 0; off < len; off += 4096) {
        tlb_flush_phys_page(&pc->cpu, paddr + off);
    }
}

/* A device moved one of its memory regions (a BAR): drop every translation. */
static void machine_map_changed(void *opaque)
{
    PC *pc = opaque;
    tlb_flush_all(&pc->cpu);
}

/* i440FX PAM register written: remap the segment, drop stale translations. */
static void machine_pam_changed(void *opaque, int pam_index, uint8_t value)
{
    PC *pc = opaque;
    if (pc->dev->pam && pam_set(pc->dev->pam, pam_index, value)) {
        tlb_flush_all(&pc->cpu);
    }
}

/*
 * The BIOS sits at the top of the 4 GiB space (where the reset vector
 * FFFFFFF0h lands) and, through the PAM window, its last 128 KiB again
 * below 1 MiB.  With neither -bios nor -kernel popek boots SeaBIOS.
 */
static void load_bios(PC *pc)
{
    const PopekOptions *o = pc->opts;
    char err[512];
    char *path = firmware_find(o->bios ? o->bios : FIRMWARE_DEFAULT_BIOS, o->firmware_dir, err,
                               sizeof(err));
    uint8_t *low = NULL;
    uint32_t low_len = 0;
    if (!path || !firmware_load_bios(&pc->phys, path, &low, &low_len, err, sizeof(err))) {
        fprintf(stderr, "popek: %s\n", err);
        exit(1);
    }
    free(path);
    pc->dev->pam = pam_new(&pc->phys, low, low_len);
    free(low);
    if (!pc->dev->pam) {
        fprintf(stderr, "popek: -bios: no room in the physical map for the BIOS window\n");
        exit(1);
    }
}

/* What SeaBIOS reads at POST: fw_cfg items and CMOS boot bytes. */
static void pc_setup_firmware_config(PC *pc)
{
    const PopekOptions *o = pc->opts;
    PCDevices *d = pc->dev;
    FirmwareConfig cfg = {o->ram_bytes, 1, o->boot_order, o->boot_menu};
    char err[512];
    if (!firmware_setup_fw_cfg(d->fw_cfg, &cfg, err, sizeof(err))) {
        fprintf(stderr, "popek: %s\n", err);
        exit(1);
    }
    /* Disks whose default geometry exceeds what CHS int 13h can address
     * get LBA translation, as QEMU's "auto" picks it. */
    unsigned lba = 0;
    for (int i = 0; i < POPEK_MAX_DRIVES; i++) {
        uint32_t c, h, sec;
        if (ide_disk_geometry(piix_ide_bus(d->ide, i / 2), i % 2, &c, &h, &sec) &&
            (c > 1024 || h > 16 || sec > 63)) {
            lba |= 1u << i;
        }
    }
    firmware_setup_cmos(d->rtc, &cfg, lba);
    /* SeaBIOS runs the VGA BIOS it finds as "pciVVVV,DDDD.rom" for the
     * card, passing the card's bus address, so the VGA BIOS finds the
     * framebuffer BAR (QEMU puts it in a ROM BAR to the same effect). */
    if ((o->bios || !o->kernel) &&
        !firmware_add_rom(d->fw_cfg, "pci1234,1111.rom", "vgabios-stdvga.bin", o->firmware_dir,
                          err, sizeof(err))) {
        fprintf(stderr, "popek: %s\n", err);
        exit(1);
    }
    if (o->kernel && o->bios) {
        /* -kernel with -bios: the BIOS boots it (QEMU's way). */
        FirmwareKernel k = {o->kernel, o->initrd, o->append, o->ram_bytes, o->firmware_dir};
        if (!firmware_add_kernel(d->fw_cfg, &k, err, sizeof(err))) {
            fprintf(stderr, "popek: %s\n", err);
            exit(1);
        }
    }
}

/* Open the images of -hda..-hdd, -cdrom and -drive and attach them. */
static void pc_attach_drives(PC *pc)
{
    const PopekOptions *o = pc->opts;
    PCDevices *d = pc->dev;
    char err[512];
    for (int i = 0; i < POPEK_MAX_DRIVES; i++) {
        const DriveOption *opt = &o->drives[i];
        IDEBus *bus = piix_ide_bus(d->ide, i / 2);
        d->drives[i].fd = d->drives[i].overlay_fd = -1;
        if (!opt->present) {
            continue;
        }
        if (opt->file && !drive_open(&d->drives[i], opt->file, opt->readonly, o->snapshot, err,
                                     sizeof(err))) {
            fprintf(stderr, "popek: %s %s\n", opt->option, err);
            exit(1);
        }
        const BlockDev *blk = opt->file ? &d->drives[i].blk : NULL;
        if (opt->cdrom ? !ide_attach_cdrom(bus, i % 2, blk) : !ide_attach_disk(bus, i % 2, blk)) {
            fprintf(stderr, "popek: %s: cannot attach IDE drive %d\n", opt->option, i);
            exit(1);
        }
    }
}

static void pc_init_devices(PC *pc)
{
    const PopekOptions *o = pc->opts;
    PCDevices *d = pc->dev;
    d->pic = pic_new(&pc->io, irq_make(cpu_intr_line, pc, 0));
    d->pit = pit_new(&pc->io, &pc->timers, pic_input(d->pic, 0));
    int64_t rtc_base = o->rtc_base;
    if (rtc_base < 0) {
        /* Deterministic runs need a fixed wall clock too: 2000-01-01. */
        rtc_base = o->icount_shift >= 0 ? 946684800 : (int64_t)time(NULL);
    }
    d->rtc = rtc_new(&pc->io, &pc->timers, pic_input(d->pic, 8), rtc_base);
    rtc_set_memory_size(d->rtc, o->ram_bytes);

    /* As in QEMU: -nographic puts COM1 on this terminal; otherwise COM1
     * belongs to the (absent) display unless -serial says where. */
    const char *serial = o->serial ? o->serial : o->nographic ? "stdio" : "null";
    chardev_open(&pc->serial_out, serial, "-serial");
    pc->stdin_fd = pc->serial_out.is_stdio ? STDIN_FILENO : -1;
    if (o->nographic && pc->serial_out.is_stdio) {
        pc->escapes = true;
        headless_start(&pc->headless);
    }
    d->com1 = uart_new(&pc->io, 0x3f8, &pc->timers, pic_input(d->pic, 4), &pc->serial_out.backend);
    chardev_open(&pc->com2_out, "null", "-serial");
    d->com2 = uart_new(&pc->io, 0x2f8, &pc->timers, pic_input(d->pic, 3), &pc->com2_out.backend);

    I8042Callbacks kcb = {pc, machine_reset_request, machine_set_a20_kbd};
    d->kbd = i8042_new(&pc->io, pic_input(d->pic, 1), pic_input(d->pic, 12), &kcb);
    d->port92 = port92_new(&pc->io, machine_set_a20_port92, machine_reset_request, pc);

    IRQ isa_irqs[16];
    for (int i = 0; i < 16; i++) {
        isa_irqs[i] = pic_input(d->pic, i);
    }
    d->pci = pci_bus_new(&pc->io);
    d->i440fx = i440fx_new(d->pci, machine_pam_changed, pc);
    /* Subsystem 1AF4:1100 on the host bridge is how SeaBIOS recognises a
     * QEMU-compatible board and turns to fw_cfg for its configuration. */
    pci_config_set(i440fx_pci_device(d->i440fx), PCI_SUBSYSTEM_VENDOR_ID, 0x1af4, 2);
    pci_config_set(i440fx_pci_device(d->i440fx), PCI_SUBSYSTEM_ID, 0x1100, 2);
    d->piix3 = piix3_new(d->pci, &pc->io, isa_irqs, machine_reset_request, pc);
    d->ide = piix_ide_new(d->pci, &pc->io, &pc->phys, pic_input(d->pic, 14),
                          pic_input(d->pic, 15));
    pc_attach_drives(pc);
    VGAHooks vga_hooks = {pc, machine_vga_flush, machine_map_changed};
    d->vga = vga_new(&pc->io, &pc->phys, d->pci, PCI_DEVFN(VGA_PCI_SLOT, 0), &pc->timers,
                     VGA_VRAM_DEFAULT, &vga_hooks);
    if (!d->vga) {
        fprintf(stderr, "popek: cannot create the VGA (out of memory)\n");
        exit(1);
    }
    display_init(&pc->display, d->vga);
    d->acpi = acpi_pm_new(&pc->io, &pc->timers, pic_input(d->pic, ACPI_PM_SCI_IRQ),
                          machine_poweroff, pc);
    if (o->debug_exit) {
        d->debug_exit = debugexit_new(&pc->io, o->debug_exit_base, o->debug_exit_size,
                                      machine_debug_exit, pc);
    }
    if (o->debugcon) {
        chardev_open(&pc->debugcon_out, o->debugcon, "-debugcon");
        d->debugcon = debugcon_new(&pc->io, 0xe9, &pc->debugcon_out.backend);
    }
    if (o->bioslog) {
        chardev_open(&pc->bioslog_out, o->bioslog, "-bioslog");
        d->bioslog = debugcon_new(&pc->io, DEBUGCON_SEABIOS_PORT, &pc->bioslog_out.backend);
    } else if (o->trace_categories && strstr(o->trace_categories, "guest_errors")) {
        /* -d guest_errors: the firmware's complaints go to stderr. */
        chardev_open(&pc->bioslog_out, "stdio", "-bioslog");
        pc->bioslog_out.fd = STDERR_FILENO;
        pc->bioslog_out.is_stdio = false;
        d->bioslog = debugcon_new(&pc->io, DEBUGCON_SEABIOS_PORT, &pc->bioslog_out.backend);
    }
    d->fw_cfg = fw_cfg_new(&pc->io, &pc->phys);
}

/* Direct kernel boot: the CPU starts at the kernel's 32-bit entry, no BIOS. */
static void pc_load_kernel(PC *pc)
{
    const PopekOptions *o = pc->opts;
    uint32_t rsdp = acpi_build_tables(&pc->phys, BOOT_ACPI_ADDR, o->ram_bytes);
    BootConfig cfg = {o->kernel, o->initrd, o->append, o->ram_bytes, rsdp};
    char err[512];
    if (!linux_boot_load(&pc->phys, &pc->cpu, &cfg, err, sizeof(err))) {
        fprintf(stderr, "popek: %s\n", err);
        exit(1);
    }
}

void pc_init(PC *pc, const PopekOptions *opts)
{
    memset(pc, 0, sizeof(*pc));
    pc->opts = opts;
    pc->stdin_fd = -1;
    if (!phys_init(&pc->phys, (uint32_t)opts->ram_bytes)) {
        fprintf(stderr, "popek: -m: cannot reserve %llu bytes of guest RAM: %s\n",
                (unsigned long long)opts->ram_bytes, strerror(errno));
        exit(1);
    }
    ioport_init(&pc->io);
    cpu_init(&pc->cpu, &pc->phys, &pc->io);
    if (opts->accel != ACCEL_INTERP) {
        /* The translator hangs off the CPU (cpu->bt); bt_new says why if it cannot. */
        if (!bt_new(&pc->cpu, (size_t)opts->tb_size_mib << 20,
                    opts->accel == ACCEL_CHECK ? BT_MODE_CHECK : BT_MODE_RUN)) {
            exit(1);
        }
        if (opts->perfmap && !bt_open_perfmap(pc->cpu.bt)) {
            exit(1);
        }
    }
    if (opts->icount_shift >= 0) {
        timerlist_init_icount(&pc->timers, &pc->cpu.icount, opts->icount_shift);
    } else {
        timerlist_init(&pc->timers);
    }
    pc->dev = calloc(1, sizeof(*pc->dev));
    pc->a20_kbd = true;
    pc_init_devices(pc);
    pc->cpu.hooks.opaque = pc;
    pc->cpu.hooks.irq_ack = cpu_irq_ack;
    pc->cpu.hooks.ferr = cpu_ferr;
    pc->cpu.hooks.clock_ns = cpu_clock_ns;
    ioport_register(&pc->io, 0xf0, 1, 1, ferr_port_read, ferr_port_write, pc);
    if (opts->bios || !opts->kernel) {
        load_bios(pc);
    }
    pc_setup_firmware_config(pc);
    if (opts->kernel && !opts->bios) {
        pc_load_kernel(pc);
    }
}

void pc_reset(PC *pc)
{
    PCDevices *d = pc->dev;
    pc->reset_requested = false;
    pic_reset(d->pic);
    pit_reset(d->pit);
    uart_reset(d->com1);
    uart_reset(d->com2);
    i8042_reset(d->kbd);
    vga_reset(d->vga);
    i440fx_reset(d->i440fx);
    fw_cfg_reset(d->fw_cfg);
    piix3_reset(d->piix3);
    piix_ide_reset(d->ide);
    acpi_pm_reset(d->acpi);
    port92_reset(d->port92);
    cpu_reset(&pc->cpu);
    if (pc->cpu.bt) {
        bt_flush(pc->cpu.bt); /* firmware and kernel are loaded again */
    }
    pc->a20_kbd = true;     /* the i8042's output port resets with A20 enabled */
    pc->a20_port92 = false; /* port 92h resets to 0 */
    machine_update_a20(pc);
    if (pc->opts->kernel && !pc->opts->bios) {
        pc_load_kernel(pc); /* a reboot boots the same kernel again, as QEMU does */
    }
}

/* Keys from the terminal: to COM1, or to the monitor after Ctrl-A c. */
static void pc_read_stdin(PC *pc)
{
    int room = pc->headless.monitor_active ? 64 : uart_can_receive(pc->dev->com1);
    if (room <= 0) {
        return;
    }
    uint8_t buf[64], out[64];
    ssize_t n = read(pc->stdin_fd, buf, room < (int)sizeof(buf) ? (size_t)room : sizeof(buf));
    if (n > 0) {
        int len = (int)n;
        if (pc->escapes) {
            len = headless_filter(&pc->headless, buf, len, out);
            if (pc->headless.quit) {
                pc->exit_requested = true;
                pc->exit_status = 0;
            }
        } else {
            memcpy(out, buf, (size_t)len);
        }
        if (len > 0) {
            uart_receive(pc->dev->com1, out, len);
        }
    } else if (n == 0) {
        pc->stdin_fd = -1; /* end of input: stop polling it */
    }
}

/* Serve host input (terminal, gdb, monitor, window), waiting up to timeout_ms. */
static void pc_poll_input(PC *pc, int timeout_ms)
{
    struct pollfd fds[8];
    int n = 0;
    if (pc->ui_poll) {
        int ui_ms = pc->ui_poll(pc->ui_opaque);
        timeout_ms = timeout_ms > ui_ms ? ui_ms : timeout_ms;
    }
    if (pc->stdin_fd >= 0) {
        fds[n++] = (struct pollfd){pc->stdin_fd, POLLIN, 0};
    }
    int gdb_at = n;
    if (pc->gdb) {
        n += gdbstub_pollfds(pc->gdb, fds + n, 8 - n);
    }
    int monitor_at = n;
    if (pc->monitor) {
        n += monitor_pollfds(pc->monitor, fds + n, 8 - n);
    }
    if (n == 0) {
        if (timeout_ms > 0) {
            poll(NULL, 0, timeout_ms);
        }
        return;
    }
    int ready = poll(fds, (nfds_t)n, timeout_ms);
    if (ready > 0 && pc->stdin_fd >= 0 && (fds[0].revents & (POLLIN | POLLHUP))) {
        pc_read_stdin(pc);
    }
    if (pc->gdb) {
        gdbstub_service(pc->gdb, fds + gdb_at, monitor_at - gdb_at);
    }
    if (pc->monitor) {
        monitor_service(pc->monitor, fds + monitor_at, n - monitor_at);
    }
}

/* Instructions to run before the next deadline. */
static uint64_t slice_budget(PC *pc)
{
    int64_t now = timer_now(&pc->timers);
    int64_t deadline = timerlist_next_deadline(&pc->timers);
    if (pc->opts->icount_shift < 0) {
        return SLICE_MAX_INSNS;
    }
    if (deadline == TIMER_NEVER) {
        return SLICE_MAX_INSNS;
    }
    int64_t ns = deadline > now ? deadline - now : 0;
    uint64_t insns = ((uint64_t)ns >> pc->opts->icount_shift) + 1;
    return insns < SLICE_MAX_INSNS ? insns : SLICE_MAX_INSNS;
}

/* HLT: wait for the next deadline or host input. */
static void pc_idle(PC *pc)
{
    int64_t now = timer_now(&pc->timers);
    int64_t deadline = timerlist_next_deadline(&pc->timers);
    if (pc->opts->icount_shift >= 0) {
        /* Deterministic time: idle time passes as instructions would. */
        if (deadline != TIMER_NEVER && deadline > now) {
            int shift = pc->opts->icount_shift;
            pc->cpu.icount += (uint64_t)((deadline - now + (1 << shift) - 1) >> shift);
        }
        pc_poll_input(pc, 0);
        return;
    }
    int timeout_ms = 100;
    if (deadline != TIMER_NEVER) {
        int64_t ms = (deadline - now + 999999) / 1000000;
        timeout_ms = ms < 0 ? 0 : ms > 100 ? 100 : (int)ms;
    }
    pc_poll_input(pc, timeout_ms);
}

int pc_run(PC *pc)
{
    for (;;) {
        if (pc->exit_requested) {
            return pc->exit_status;
        }
        if (pc->stopped) {
            /* Paused: serve the debugger and the monitor; guest time stands still. */
            if (pc->reset_requested) {
                if (pc->opts->no_reboot) {
                    return 0;
                }
                pc_reset(pc);
            }
            pc_poll_input(pc, 100);
            continue;
        }
        /* With a gdb stub the interpreter runs, through the stub, so a
         * breakpoint or a step can stop it before any instruction. */
        int reason = pc->gdb     ? gdbstub_exec(pc->gdb, slice_budget(pc))
                     : pc->cpu.bt ? bt_exec(pc->cpu.bt, slice_budget(pc))
                                  : cpu_exec(&pc->cpu, slice_budget(pc));
        if (reason == BT_EXIT_CHECK_MISMATCH) {
            fprintf(stderr, "popek: --accel check: translator and interpreter differ (see above)\n");
            return 2;
        }
        if (pc->gdb) {
            gdbstub_after_exec(pc->gdb, reason);
        }
        if (pc->exit_requested) {
            return pc->exit_status;
        }
        if (reason == CPU_EXIT_RESET || pc->reset_requested) {
            if (pc->opts->no_reboot) {
                return 0;
            }
            pc_reset(pc);
            continue;
        }
        timerlist_run(&pc->timers);
        if (reason == CPU_EXIT_HALT) {
            pc_idle(pc);
            timerlist_run(&pc->timers);
        } else {
            pc_poll_input(pc, 0);
        }
    }
}

void pc_request_reset(PC *pc)
{
    machine_reset_request(pc);
}

void pc_request_exit(PC *pc, int status)
{
    machine_debug_exit(pc, status);
}

I8042State *pc_keyboard(PC *pc)
{
    return pc->dev->kbd;
}

void pc_power_button(PC *pc)
{
    acpi_pm_power_button(pc->dev->acpi);
}

int pc_pic_info(PC *pc, char *buf, size_t len)
{
    return pic_info(pc->dev->pic, buf, len);
}

int pc_irq_info(PC *pc, char *buf, size_t len)
{
    int total = snprintf(buf, len, "hardware interrupts taken, by vector:\n");
    for (int v = 0; v < 256; v++) {
        if (pc->irq_counts[v]) {
            size_t used = (size_t)total < len ? (size_t)total : len;
            total += snprintf(buf + used, len - used, "  0x%02x: %llu\n", v,
                              (unsigned long long)pc->irq_counts[v]);
        }
    }
    return total;
}

void pc_destroy(PC *pc)
{
    PCDevices *d = pc->dev;
    bt_free(pc->cpu.bt);
    if (d->debug_exit) {
        debugexit_free(d->debug_exit);
    }
    if (d->debugcon) {
        debugcon_free(d->debugcon);
    }
    if (d->bioslog) {
        debugcon_free(d->bioslog);
    }
    fw_cfg_free(d->fw_cfg);
    pam_free(d->pam);
    acpi_pm_free(d->acpi);
    piix_ide_free(d->ide);
    vga_free(d->vga);
    for (int i = 0; i < POPEK_MAX_DRIVES; i++) {
        drive_close(&d->drives[i]);
    }
    piix3_free(d->piix3);
    i440fx_free(d->i440fx);
    pci_bus_free(d->pci);
    port92_free(d->port92);
    i8042_free(d->kbd);
    uart_free(d->com1);
    uart_free(d->com2);
    rtc_free(d->rtc);
    pit_free(d->pit);
    pic_free(d->pic);
    free(d);
    headless_stop(&pc->headless);
    chardev_close(&pc->serial_out);
    chardev_close(&pc->debugcon_out);
    chardev_close(&pc->bioslog_out);
    phys_destroy(&pc->phys);
}
