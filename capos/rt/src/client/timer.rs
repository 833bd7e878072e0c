use super::{client, empty_params, params, SMALL_RESULT};
use crate::error::Error;
use crate::transport::Cap;
use capos_schema::capos_capnp::timer;

const NOW: u16 = 0;
const RESOLUTION: u16 = 1;
const SET_ALARM: u16 = 2;

/// Monotonic time since boot.
pub struct Timer {
    cap: Cap,
}
client!(Timer, capos_schema::ids::TIMER);

impl Timer {
    /// Nanoseconds since boot.
    pub fn now(&self) -> Result<u64, Error> {
        let p = empty_params::<timer::now_params::Owned>();
        let reply = self.cap.call(NOW, &p, SMALL_RESULT)?;
        Ok(reply.payload.read()?.get_root::<timer::now_results::Reader>()?.get_ns())
    }

    /// The clock's granularity in nanoseconds.
    pub fn resolution(&self) -> Result<u64, Error> {
        let p = empty_params::<timer::resolution_params::Owned>();
        let reply = self.cap.call(RESOLUTION, &p, SMALL_RESULT)?;
        Ok(reply.payload.read()?.get_root::<timer::resolution_results::Reader>()?.get_ns())
    }

    // region: set-alarm
    /// Arms this process's alarm: about every `period_ns` (1 ms to 60 s) of running, `handler`
    /// is called at whatever instruction the process is at, like a signal handler (see
    /// [`crate::alarm`] for what it may do). Replaces an earlier alarm and its handler.
    pub fn set_alarm(&self, period_ns: u64, handler: extern "C" fn()) -> Result<(), Error> {
        let earlier = crate::alarm::swap_handler(handler as usize);
        let armed = self.call_set_alarm(period_ns, crate::alarm::entry());
        if armed.is_err() {
            // Refused: an earlier alarm, if any, stays armed with its own handler.
            crate::alarm::swap_handler(earlier);
        }
        armed
    }

    /// Turns the alarm off; no upcall arrives after this returns.
    pub fn clear_alarm(&self) -> Result<(), Error> {
        self.call_set_alarm(0, 0)?;
        crate::alarm::clear_handler();
        Ok(())
    }

    /// `setAlarm` with any entry: what the kernel refuses is tested with this.
    pub fn call_set_alarm(&self, period_ns: u64, entry: u64) -> Result<(), Error> {
        let p = params(|m| {
            let mut r = m.init_root::<timer::set_alarm_params::Builder>();
            r.set_period_ns(period_ns);
            r.set_entry(entry);
        });
        self.cap.call(SET_ALARM, &p, SMALL_RESULT).map(drop)
    }
    // endregion: set-alarm
}
