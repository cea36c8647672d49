/*
 * The main loop: the CPU runs in slices, until the next timer deadline (in
 * deterministic mode, exactly that many instructions) or an exit request.
 * Between slices the loop fires timers, serves the host (input, debugger,
 * monitor, window: PCHostOps) and handles resets.  A halted CPU sleeps in
 * the host's poll until the next deadline or input, so an idle guest costs
 * no host CPU.
 */
#include <stdio.h>

#include "cpu/cpu.h"
#include "hw/pc/pc.h"
#include "translator/translator.h"

/* Host-clock slices are bounded so input and timers are served promptly
 * even when no deadline is near. */
#define SLICE_MAX_INSNS 200000

static void host_poll(PC *pc, int timeout_ms)
{
    if (pc->host.poll) {
        pc->host.poll(pc->host.opaque, timeout_ms);
    }
}

/* Instructions to run before the next deadline. */
static uint64_t slice_budget(PC *pc)
{
    int64_t now = timer_now(&pc->timers);
    int64_t deadline = timerlist_next_deadline(&pc->timers);
    if (pc->cfg.icount_shift < 0) {
        return SLICE_MAX_INSNS;
    }
    if (deadline == TIMER_NEVER) {
        return SLICE_MAX_INSNS;
    }
    int64_t ns = deadline > now ? deadline - now : 0;
    uint64_t insns = ((uint64_t)ns >> pc->cfg.icount_shift) + 1;
    return insns < SLICE_MAX_INSNS ? insns : SLICE_MAX_INSNS;
}

/* HLT: wait for the next deadline or host input. */
static void pc_idle(PC *pc)
{
    int64_t now = timer_now(&pc->timers);
    int64_t deadline = timerlist_next_deadline(&pc->timers);
    if (pc->cfg.icount_shift >= 0) {
        /* Deterministic time: idle time passes as instructions would. */
        if (deadline != TIMER_NEVER && deadline > now) {
            int shift = pc->cfg.icount_shift;
            pc->cpu.icount += (uint64_t)((deadline - now + (1 << shift) - 1) >> shift);
        }
        host_poll(pc, 0);
        return;
    }
    int timeout_ms = 100;
    if (deadline != TIMER_NEVER) {
        int64_t ms = (deadline - now + 999999) / 1000000;
        timeout_ms = ms < 0 ? 0 : ms > 100 ? 100 : (int)ms;
    }
    host_poll(pc, timeout_ms);
}

/* One slice on whichever engine runs the CPU. */
static int pc_exec(PC *pc)
{
    uint64_t budget = slice_budget(pc);
    if (pc->host.exec) {
        return pc->host.exec(pc->host.opaque, budget);
    }
    return bt_of(&pc->cpu) ? bt_exec(bt_of(&pc->cpu), budget) : cpu_exec(&pc->cpu, budget);
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
                if (pc->cfg.no_reboot) {
                    return 0;
                }
                pc_reset(pc);
            }
            host_poll(pc, 100);
            continue;
        }
        int reason = pc_exec(pc);
        if (reason == BT_EXIT_CHECK_MISMATCH) {
            fprintf(stderr, "popek: --accel check: translator and interpreter differ (see above)\n");
            return 2;
        }
        if (pc->exit_requested) {
            return pc->exit_status;
        }
        if (reason == CPU_EXIT_RESET || pc->reset_requested) {
            if (pc->cfg.no_reboot) {
                return 0;
            }
            pc_reset(pc);
            continue;
        }
        if (pc->init_requested) {
            /* INIT resets the CPU alone; it then runs from the reset vector. */
            pc->init_requested = false;
            cpu_init_signal(&pc->cpu);
            if (bt_of(&pc->cpu)) {
                bt_flush(bt_of(&pc->cpu));
            }
        }
        timerlist_run(&pc->timers);
        if (reason == CPU_EXIT_HALT) {
            pc_idle(pc);
            timerlist_run(&pc->timers);
        } else {
            host_poll(pc, 0);
        }
    }
}
