//! The CMOS real-time clock, read once at boot: the wall-clock time at one TSC instant, from
//! which WallClock adds the monotonic clock (ours, ahead of upstream; chapter W.8).

use crate::arch::port::{inb, outb};
use crate::time;
use capos_kcore::rtc::{unix_seconds, RtcRegisters};
use core::sync::atomic::{AtomicU64, Ordering};

/// Unix time in ns at boot minus the monotonic clock at the read: `now = BASE + time::now_ns()`.
static BASE_NS: AtomicU64 = AtomicU64::new(0);
/// Whether the RTC gave a valid time (0 = not read or garbage).
static VALID: AtomicU64 = AtomicU64::new(0);

// region: rtc-read
/// CMOS register `reg`, with NMI left disabled during the access (bit 7 of the index port).
fn cmos(reg: u8) -> u8 {
    outb(0x70, 0x80 | reg);
    inb(0x71)
}

fn registers() -> RtcRegisters {
    RtcRegisters {
        seconds: cmos(0x00),
        minutes: cmos(0x02),
        hours: cmos(0x04),
        day: cmos(0x07),
        month: cmos(0x08),
        year: cmos(0x09),
        century: cmos(0x32),
        status_b: cmos(0x0b),
    }
}

/// Reads the RTC outside an update (status A bit 7) twice until two reads agree, so a read
/// never straddles a second's rollover; then records the base. Returns the Unix seconds read.
pub fn init() -> Option<u64> {
    let mut last = None;
    for _ in 0..16 {
        while cmos(0x0a) & 0x80 != 0 {
            core::hint::spin_loop();
        }
        let r = registers();
        if last == Some(r) {
            let secs = unix_seconds(&r).ok()?;
            let base = (secs * 1_000_000_000).saturating_sub(time::now_ns());
            BASE_NS.store(base, Ordering::Relaxed);
            VALID.store(1, Ordering::Relaxed);
            return Some(secs);
        }
        last = Some(r);
    }
    None
}
// endregion: rtc-read

/// Wall-clock nanoseconds since 1970, `None` when the RTC gave no valid time at boot.
pub fn now_ns() -> Option<u64> {
    (VALID.load(Ordering::Relaxed) == 1).then(|| BASE_NS.load(Ordering::Relaxed).saturating_add(time::now_ns()))
}
