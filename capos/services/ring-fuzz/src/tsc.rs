//! Time from the TSC, calibrated against the kernel's clock: reading it takes no kernel entry and no ring slot.
use capos_rt::{Error, Timer};

/// How long the calibration watches the clock.
const CALIBRATION_MS: u64 = 20;

pub struct Tsc {
    /// TSC ticks in one millisecond
    ticks_per_ms: u64,
    /// the clock time the calibration took
    pub calibrated_ms: u64,
}

/// The TSC now.
pub fn now() -> u64 {
    // SAFETY: RDTSC reads a counter and has no effect on memory; x86-64 always has it, and the kernel does
    // not disable it for user mode (CR4.TSD is clear).
    unsafe { core::arch::x86_64::_rdtsc() }
}

impl Tsc {
    /// Counts TSC ticks over at least `CALIBRATION_MS` of the clock.
    pub fn calibrate(clock: &Timer) -> Result<Tsc, Error> {
        let (t0, c0) = (clock.now()?, now());
        let mut t1 = t0;
        while t1 - t0 < CALIBRATION_MS * 1_000_000 {
            t1 = clock.now()?;
        }
        let ms = (t1 - t0) / 1_000_000;
        Ok(Tsc { ticks_per_ms: ((now() - c0) / ms).max(1), calibrated_ms: ms })
    }

    /// The TSC value `ms` milliseconds from now.
    pub fn after_ms(&self, ms: u64) -> u64 {
        now() + ms * self.ticks_per_ms
    }
}
