//! The Timer cap's alarm (issue #17, for wasmtime's epoch deadline): a periodic upcall into a
//! process's own code, like a POSIX interval timer's signal. This module decides what is
//! allowed and when an alarm is due; the kernel writes the frame and redirects the process.
//!
//! Delivery, when a timer tick interrupted the process in ring 3 and the alarm is due: the
//! interrupted RIP is pushed below the 128-byte red zone ([`frame`]), RIP becomes the entry, and
//! the next alarm is one period after the one just delivered, or one period after now when the
//! process missed more than one (it waited or was preempted): one upcall, never a storm of them.

use capos_abi::addr::USER_END;

// region: alarm
/// The shortest period: one scheduler tick. A shorter one could not be kept.
pub const MIN_PERIOD_NS: u64 = 1_000_000;
/// The longest period, one minute: an alarm is a pulse for code that must check the time while
/// it computes; anything slower is a `cap_enter` timeout.
pub const MAX_PERIOD_NS: u64 = 60_000_000_000;
/// Bytes below the interrupted stack pointer that the upcall leaves alone (the System V red
/// zone a leaf function may use without moving rsp).
pub const RED_ZONE: u64 = 128;

/// Why `setAlarm` was refused (each becomes an `invalidArgument` reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlarmError {
    /// The entry is in the kernel half, or not canonical.
    Entry(u64),
    TooShort(u64),
    TooLong(u64),
}

impl core::fmt::Display for AlarmError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            AlarmError::Entry(e) => write!(f, "alarm entry {e:#x} is not a user address (below {USER_END:#x})"),
            AlarmError::TooShort(p) => write!(f, "alarm period {p} ns is below the minimum of {MIN_PERIOD_NS} ns"),
            AlarmError::TooLong(p) => write!(f, "alarm period {p} ns is above the maximum of {MAX_PERIOD_NS} ns"),
        }
    }
}

/// An armed alarm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Alarm {
    pub period_ns: u64,
    pub entry: u64,
    /// When it is next due (nanoseconds on the kernel's clock).
    pub next_ns: u64,
}

impl Alarm {
    /// `setAlarm(period, entry)` at time `now`: None turns the alarm off (period 0, entry ignored).
    pub fn arm(period_ns: u64, entry: u64, now: u64) -> Result<Option<Alarm>, AlarmError> {
        if period_ns == 0 {
            return Ok(None);
        }
        if entry >= USER_END {
            return Err(AlarmError::Entry(entry));
        }
        if period_ns < MIN_PERIOD_NS {
            return Err(AlarmError::TooShort(period_ns));
        }
        if period_ns > MAX_PERIOD_NS {
            return Err(AlarmError::TooLong(period_ns));
        }
        Ok(Some(Alarm { period_ns, entry, next_ns: now.saturating_add(period_ns) }))
    }

    /// Whether a tick at `now` delivers the alarm. If so, the next one is a period after this
    /// one was due, so a 1 ms alarm keeps its pace against a tick of 0.99985 ms (a period after
    /// `now` would skip every other tick); if that is already past, a period after `now`. The
    /// next due time is always after `now`: at most one delivery per tick.
    pub fn take_due(&mut self, now: u64) -> bool {
        if now < self.next_ns {
            return false;
        }
        let next = self.next_ns.saturating_add(self.period_ns);
        self.next_ns = if next > now { next } else { now.saturating_add(self.period_ns) };
        true
    }
}

/// Where the interrupted RIP goes: 8 bytes below the red zone under `rsp`. The upcall starts
/// with rsp there, and returns with `ret 128`. None when that wraps below address 0.
pub fn frame(rsp: u64) -> Option<u64> {
    rsp.checked_sub(RED_ZONE + 8)
}
// endregion: alarm

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arm_checks_entry_and_period() {
        assert_eq!(Alarm::arm(0, u64::MAX, 5), Ok(None));
        assert_eq!(
            Alarm::arm(MIN_PERIOD_NS, 0x40_1000, 5),
            Ok(Some(Alarm { period_ns: MIN_PERIOD_NS, entry: 0x40_1000, next_ns: 5 + MIN_PERIOD_NS }))
        );
        assert_eq!(Alarm::arm(MIN_PERIOD_NS, USER_END, 0), Err(AlarmError::Entry(USER_END)));
        assert_eq!(Alarm::arm(MIN_PERIOD_NS, 0xffff_8000_0000_0000, 0), Err(AlarmError::Entry(0xffff_8000_0000_0000)));
        assert_eq!(Alarm::arm(MIN_PERIOD_NS - 1, 0x1000, 0), Err(AlarmError::TooShort(MIN_PERIOD_NS - 1)));
        assert_eq!(Alarm::arm(MAX_PERIOD_NS + 1, 0x1000, 0), Err(AlarmError::TooLong(MAX_PERIOD_NS + 1)));
        assert!(Alarm::arm(MAX_PERIOD_NS, USER_END - 1, u64::MAX).is_ok());
    }

    #[test]
    fn one_delivery_per_tick_and_no_catch_up() {
        let mut a = Alarm::arm(MIN_PERIOD_NS, 0x1000, 0).unwrap().unwrap();
        assert!(!a.take_due(MIN_PERIOD_NS - 1));
        assert!(a.take_due(MIN_PERIOD_NS));
        assert!(!a.take_due(MIN_PERIOD_NS), "a second tick at the same time delivers nothing");
        // A tick a little early for the next one, then one a little late: the pace is kept.
        assert!(!a.take_due(2 * MIN_PERIOD_NS - 150));
        assert!(a.take_due(3 * MIN_PERIOD_NS - 300));
        assert!(a.take_due(3 * MIN_PERIOD_NS + 10), "due at 3 periods, not 4 - 300 ns");
        // Away for 50 periods: one delivery, and the next is a period later, not 49 at once.
        let late = 51 * MIN_PERIOD_NS;
        assert!(a.take_due(late));
        assert!(!a.take_due(late + MIN_PERIOD_NS - 1));
        assert!(a.take_due(late + MIN_PERIOD_NS));
    }

    #[test]
    fn frame_skips_the_red_zone() {
        assert_eq!(frame(0x1000), Some(0x1000 - 136));
        assert_eq!(frame(135), None);
        assert_eq!(frame(136), Some(0));
    }
}
