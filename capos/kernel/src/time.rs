//! Monotonic time from the TSC, calibrated once at boot against the PIT (channel 2, whose
//! input clock is a fixed 1.193182 MHz), and the scheduler tick from PIT channel 0.

use crate::arch::cpu::rdtsc;
use crate::arch::port::{inb, outb};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

const PIT_HZ: u64 = 1_193_182;
const CALIBRATE_TICKS: u16 = 2_386; // 2 ms
/// Calibration windows; the fastest-looking one wins (see `init`).
const CALIBRATE_WINDOWS: usize = 5;

/// Scheduler ticks per second: PIT channel 0 interrupts (IRQ 0) at this rate.
pub const TICK_HZ: u64 = 1000;
/// A process runs at most this many ticks before the next runnable one gets the CPU.
pub const QUANTUM_TICKS: u64 = 10;

static TSC_HZ: AtomicU64 = AtomicU64::new(0);
/// Nanoseconds per TSC tick in 32.32 fixed point, so a conversion is a multiply and a shift
/// instead of a 128-bit division (a library call that TCG runs slowly, on every kernel entry).
static NS_PER_TICK_Q32: AtomicU64 = AtomicU64::new(0);
static BOOT_TSC: AtomicU64 = AtomicU64::new(0);

// region: calibrate
/// Measures TSC ticks across several 2 ms PIT one-shots and keeps the smallest count. Under
/// TCG on a loaded host the vCPU can be descheduled while the emulated PIT keeps counting host
/// time, which only ever inflates a window's TSC count (seen: 5.9 GHz for a 2.6 GHz TSC), so the
/// minimum is the honest estimate. One PIT tick of error is 0.04%. `boot_tsc` (read at the PVH
/// entry) is the zero of [`now_ns`].
pub fn init(boot_tsc: u64) {
    BOOT_TSC.store(boot_tsc, Ordering::Relaxed);
    let ticks = (0..CALIBRATE_WINDOWS).map(|_| pit_window_tsc_ticks()).min().unwrap_or(0);
    let hz = (ticks as u128 * PIT_HZ as u128 / CALIBRATE_TICKS as u128) as u64;
    TSC_HZ.store(hz.max(1), Ordering::Relaxed);
    NS_PER_TICK_Q32.store(((1_000_000_000u128 << 32) / hz.max(1) as u128) as u64, Ordering::Relaxed);
}

/// TSC ticks across one PIT channel 2 one-shot of `CALIBRATE_TICKS`.
fn pit_window_tsc_ticks() -> u64 {
    let gate = inb(0x61);
    outb(0x61, (gate & !0x02) | 0x01); // gate on, speaker off
    outb(0x43, 0xb0); // channel 2, lobyte/hibyte, mode 0 (output rises at terminal count)
    outb(0x42, CALIBRATE_TICKS as u8);
    let start = rdtsc();
    outb(0x42, (CALIBRATE_TICKS >> 8) as u8);
    while inb(0x61) & 0x20 == 0 {
        core::hint::spin_loop();
    }
    let ticks = rdtsc() - start;
    outb(0x61, gate);
    ticks
}
// endregion: calibrate

pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// Converts a TSC delta to nanoseconds (error below one part in 10^9 for any TSC of at least
/// 4 MHz; the product cannot overflow 128 bits).
pub fn tsc_to_ns(ticks: u64) -> u64 {
    ((ticks as u128 * NS_PER_TICK_Q32.load(Ordering::Relaxed) as u128) >> 32) as u64
}

/// Nanoseconds since the kernel's first instruction.
pub fn now_ns() -> u64 {
    tsc_to_ns(rdtsc().saturating_sub(BOOT_TSC.load(Ordering::Relaxed)))
}

/// The clock's resolution: one TSC tick, rounded up to whole nanoseconds.
pub fn resolution_ns() -> u64 {
    1_000_000_000u64.div_ceil(tsc_hz()).max(1)
}

// region: tick
/// Starts PIT channel 0 as a rate generator at [`TICK_HZ`] (the divisor rounds to 1193, so a
/// tick is 0.99985 ms). Nothing reads the tick as a clock: `now_ns` stays on the TSC, and the
/// tick only decides when the scheduler looks at deadlines and quanta again.
pub fn start_tick() {
    let divisor = (PIT_HZ + TICK_HZ / 2) / TICK_HZ;
    outb(0x43, 0x34); // channel 0, lobyte/hibyte, mode 2 (rate generator)
    outb(0x40, divisor as u8);
    outb(0x40, (divisor >> 8) as u8);
    TICKING.store(true, Ordering::Relaxed);
}
// endregion: tick

// region: tickless
static TICKING: AtomicBool = AtomicBool::new(false);

/// Runs the tick only while something needs it (the scheduler decides, see `sched::schedule`).
/// A tick interrupts the running process, and under TCG each one costs thousands of emulated
/// instructions; a process computing alone has no use for it. Stopping is a control word that
/// puts channel 0 in one-shot mode without a count, so it never fires (its IOAPIC pin stays routed
/// and unmasked). Changes only on a transition, so a steady state costs
/// no port I/O.
pub fn set_tick(on: bool) {
    if TICKING.load(Ordering::Relaxed) == on {
        return;
    }
    if on {
        start_tick();
    } else {
        outb(0x43, 0x30); // channel 0, lobyte/hibyte, mode 0, no count written: stopped
        TICKING.store(false, Ordering::Relaxed);
    }
}
// endregion: tickless
