/*
 * The board's share of a saved VM: the sections that are not one device's
 * (the CPU, virtual time, RAM), the order of all sections, and what a
 * load must rebuild.
 *
 * Order matters only for time: "cpu" comes first (its instruction count
 * is the clock under -icount), then "clock", so every device section
 * after it re-arms its timers relative to the restored virtual time.
 *
 * What is never saved: the translator's code cache, the shadow TLB, the
 * decoded-instruction cache and the jump caches (all flushed on load);
 * ROM and fw_cfg contents, rebuilt from the same command line; the host
 * ends of devices (images, chardevs, netdevs), which the new process opens
 * itself.  A load into a running machine either completes or, when it
 * fails part way, the state taken just before is loaded back
 * (pc_load_state's rollback), so the VM is left as it was.  Should that
 * reload fail too (a device refusing the state it wrote a moment ago), the
 * machine is in no defined state: it stops, and popek exits with status 1
 * after one line saying why.  It never aborts.
 */
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "hw/pc/vmstate_pc.h"
#include "softmmu/mmu.h"
#include "translator/translator.h"

/* ---- "clock": virtual time ---- */

static void clock_save(VMWriter *w, void *opaque)
{
    PC *pc = opaque;
    vm_put_u8(w, pc->timers.deterministic);
    vm_put_u32(w, (uint32_t)pc->timers.icount_shift);
    vm_put_u64(w, (uint64_t)timer_now(&pc->timers));
}

static bool clock_load(VMReader *r, void *opaque, uint32_t version)
{
    PC *pc = opaque;
    uint8_t deterministic = vm_get_u8(r);
    int shift = (int)vm_get_u32(r);
    int64_t now = (int64_t)vm_get_u64(r);
    if (r->failed) {
        return false;
    }
    if (deterministic != pc->timers.deterministic ||
        (deterministic && shift != pc->timers.icount_shift)) {
        return vm_fail(r, "saved with %s%d, this machine runs with %s%d",
                       deterministic ? "-icount " : "the host clock", deterministic ? shift : 0,
                       pc->timers.deterministic ? "-icount " : "the host clock",
                       pc->timers.deterministic ? pc->timers.icount_shift : 0);
    }
    if (now < 0) {
        return vm_fail(r, "virtual time %lld", (long long)now);
    }
    if (!timerlist_set_now(&pc->timers, now)) {
        return vm_fail(r, "virtual time %lld does not match the instruction count", (long long)now);
    }
    return true;
}

static const VMStateDesc clock_vmstate = {
    .name = "clock",
    .version = 1,
    .min_version = 1,
    .save = clock_save,
    .load = clock_load,
};

/* ---- "ram" ---- */

static void ram_save(VMWriter *w, void *opaque)
{
    PC *pc = opaque;
    vm_put_pages(w, pc->phys.ram, pc->phys.ram_size);
}

static bool ram_load(VMReader *r, void *opaque, uint32_t version)
{
    PC *pc = opaque;
    vm_get_pages(r, pc->phys.ram, pc->phys.ram_size);
    return !r->failed;
}

static const VMStateDesc ram_vmstate = {
    .name = "ram",
    .version = 1,
    .min_version = 1,
    .save = ram_save,
    .load = ram_load,
};

/* ---- "board": the A20 gates ---- */

static const VMField board_fields[] = {
    VMS_BOOL(PC, a20_kbd),
    VMS_BOOL(PC, a20_port92),
    VMS_END,
};

static const VMStateDesc board_vmstate = {
    .name = "board",
    .version = 1,
    .min_version = 1,
    .fields = board_fields,
};

void pc_vmstate_init(PC *pc)
{
    pc->vmstate = calloc(1, sizeof(*pc->vmstate));
    if (!pc->vmstate) {
        abort();
    }
    vmstate_registry_init(pc->vmstate, &pc->timers);
    vmstate_register(pc->vmstate, &cpu_vmstate, 0, &pc->cpu);
    vmstate_register(pc->vmstate, &clock_vmstate, 0, pc);
    vmstate_register(pc->vmstate, &ram_vmstate, 0, pc);
    vmstate_register(pc->vmstate, &board_vmstate, 0, pc);
}

bool pc_save_state(PC *pc, VMWriter *w)
{
    return vmstate_save(pc->vmstate, w);
}

/* Whatever was derived from the old RAM and CPU state goes. */
static void pc_state_loaded(PC *pc)
{
    CPUState *cpu = &pc->cpu;
    for (uint32_t page = 0; page < pc->phys.ram_size >> 12; page++) {
        if (pc->phys.code_pages[page]) {
            phys_code_written(&pc->phys, page << 12, 4096);
        }
    }
    if (bt_of(cpu)) {
        bt_flush(bt_of(cpu));
    }
    tlb_flush_all(cpu);
    cpu_ras_clear(cpu->bt_ras);
    pc->reset_requested = false;
    pc->init_requested = false;
}

bool pc_load_state(PC *pc, const uint8_t *data, size_t len, bool rollback, char *err, size_t errlen)
{
    if (!vmstate_check_frame(data, len, err, errlen)) {
        return false; /* nothing touched */
    }
    VMWriter backup;
    vm_writer_init(&backup);
    if (rollback && !pc_save_state(pc, &backup)) {
        vm_writer_free(&backup);
        snprintf(err, errlen, "out of host memory for the state to return to");
        return false;
    }
    bool ok = vmstate_load(pc->vmstate, data, len, err, errlen);
    bool stop = false;
    if (!ok && rollback) {
        char again[256];
        if (!vmstate_load(pc->vmstate, backup.buf, backup.len, again, sizeof(again))) {
            snprintf(err, errlen, "cannot return to the state before the load: %s; stopping",
                     again);
            fprintf(stderr, "popek: %s\n", err);
            stop = true;
        }
    }
    vm_writer_free(&backup);
    pc_state_loaded(pc);
    if (stop) {
        pc_request_exit(pc, 1); /* after pc_state_loaded, which clears pending requests */
    }
    return ok;
}
