use super::{client, empty_params, SMALL_RESULT};
use crate::error::Error;
use crate::transport::Cap;
use capos_schema::capos_capnp::timer;

const NOW: u16 = 0;
const RESOLUTION: u16 = 1;

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
}
