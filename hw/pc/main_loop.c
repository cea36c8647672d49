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

/* Host-clock slices are bounded so input is served promptly even when no
 * deadline is near. */
#define SLICE_MAX_INSNS 200000
/*
 * On the host clock a deadline is a time, and the CPU runs instructions, so
 * the slice is the time to the deadline at the speed the CPU has been
 * running: measured over each slice and smoothed, since it moves between
 * the interpreter's tens and the translator's hundreds of millions of
 * instructions a second.  A slice too long makes timer interrupts late
 * (a fixed 200,000 instructions is 10 ms in interpreted code, so a 1024 Hz
 * RTC interrupt came about 100 times a second); one too short costs a pass
 * through the main loop, so slices are at least SLICE_MIN_INSNS and the
 * estimate starts at the interpreter's speed.
 */
#define SLICE_MIN_INSNS 500
/* With no deadline near, a slice is still at most this long at the
 * measured speed: a guest whose instructions each cost the host much (a
 * NIC's transmit tail written over and over, each write sending a ring of
 * frames) would otherwise hold the loop for SLICE_MAX_INSNS of them,
 * seconds, before the monitor or the window is served again. */
#define SLICE_MAX_NS    10000000
/* A slice this far past its planned end is cut at the next pacer tick. */
#define SLICE_LATE_NS   5000000
#define RATE_INITIAL    0.02 /* instructions per ns: 20 MIPS */
#define RATE_MIN_NS     20000 /* shorter slices do not measure the rate */

static void host_poll(PC *pc, int timeout_ms)
{
    if (pc->host.poll) {
        pc->host.poll(pc->host.opaque, timeout_ms);
    }
}

/* Instructions to run before the next deadline; *end is when (virtual ns)
 * the slice should be over. */
static uint64_t slice_budget(PC *pc, int64_t *end)
{
    int64_t now = timer_now(&pc->timers);
    int64_t deadline = timerlist_next_deadline(&pc->timers);
    int64_t ns = deadline == TIMER_NEVER ? INT64_MAX : deadline > now ? deadline - now : 0;
    uint64_t insns;
    if (pc->cfg.icount_shift < 0) {
        ns = ns < SLICE_MAX_NS ? ns : SLICE_MAX_NS;
        double rate = pc->insns_per_ns > 0 ? pc->insns_per_ns : RATE_INITIAL;
        double want = (double)ns * rate;
        insns = want >= SLICE_MAX_INSNS ? SLICE_MAX_INSNS : (uint64_t)want;
        insns = insns < SLICE_MIN_INSNS ? SLICE_MIN_INSNS : insns;
        *end = now + (int64_t)((double)insns / rate);
    } else {
        uint64_t left = ((uint64_t)ns >> pc->cfg.icount_shift) + 1;
        insns = left < SLICE_MAX_INSNS ? left : SLICE_MAX_INSNS;
        *end = now + (int64_t)(insns << pc->cfg.icount_shift);
    }
    return insns;
}

/* A timer armed in the middle of a slice for before its end. */
static void slice_cut(void *opaque)
{
    PC *pc = opaque;
    cpu_set_interrupt(&pc->cpu, CPU_INTERRUPT_EXIT);
}

/* Every PACER_PERIOD device accesses: on the host clock, a slice whose
 * device work made it run late ends now (softmmu/pacer.h).  With -icount
 * virtual time follows instructions, so this never fires there and the
 * run stays deterministic. */
static void slice_pace(void *opaque)
{
    PC *pc = opaque;
    if (pc->cfg.icount_shift < 0 && pc->timers.slice_end != INT64_MIN &&
        timer_now(&pc->timers) > pc->timers.slice_end + SLICE_LATE_NS) {
        cpu_set_interrupt(&pc->cpu, CPU_INTERRUPT_EXIT);
    }
}

/* Host clock: fold one slice's speed into the estimate. */
static void slice_measured(PC *pc, uint64_t insns, int64_t ns)
{
    if (pc->cfg.icount_shift >= 0 || ns < RATE_MIN_NS || insns == 0) {
        return;
    }
    double rate = (double)insns / (double)ns;
    double old = pc->insns_per_ns > 0 ? pc->insns_per_ns : rate;
    pc->insns_per_ns = 0.75 * old + 0.25 * rate;
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

int pc_engine_exec(PC *pc, uint64_t budget)
{
    return bt_of(&pc->cpu) ? bt_exec(bt_of(&pc->cpu), budget) : cpu_exec(&pc->cpu, budget);
}

/* One slice on whichever engine runs the CPU. */
static int pc_exec(PC *pc)
{
    int64_t end;
    uint64_t budget = slice_budget(pc, &end);
    pc->timers.slice_cut = slice_cut;
    pc->timers.slice_cut_opaque = pc;
    pc->timers.slice_end = end;
    pc->pacer = (AccessPacer){pc->pacer.count, slice_pace, pc};
    pc->phys.pacer = &pc->pacer;
    pc->io.pacer = &pc->pacer;
    int reason = pc->host.exec ? pc->host.exec(pc->host.opaque, budget)
                               : pc_engine_exec(pc, budget);
    pc->timers.slice_end = INT64_MIN;
    return reason;
}

int pc_run(PC *pc)
{
    for (;;) {
        if (pc->exit_requested) {
            return pc->exit_status;
        }
        if (pc->stopped) {
            /* Paused: serve the debugger and the monitor.  Virtual time (and
             * with it the TSC, the RTC and every device timer) stops with
             * the CPU, so after cont the guest has not lost the pause. */
            timerlist_stop(&pc->timers);
            if (pc->reset_requested) {
                if (pc->cfg.no_reboot) {
                    return 0;
                }
                pc_reset(pc);
            }
            host_poll(pc, 100);
            continue;
        }
        timerlist_resume(&pc->timers);
        uint64_t icount0 = pc->cpu.icount;
        int64_t t0 = timer_now(&pc->timers);
        int reason = pc_exec(pc);
        if (reason == CPU_EXIT_BUDGET) {
            slice_measured(pc, pc->cpu.icount - icount0, timer_now(&pc->timers) - t0);
        }
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
