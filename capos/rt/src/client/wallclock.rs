use super::{client, empty_params, SMALL_RESULT};
use crate::error::Error;
use crate::transport::Cap;
use capos_schema::capos_capnp::wall_clock;

const NOW: u16 = 0;

/// Wall-clock time: the RTC at boot plus the monotonic clock (ours, ahead of upstream).
pub struct WallClock {
    cap: Cap,
}
client!(WallClock, capos_schema::ids::WALL_CLOCK);

impl WallClock {
    /// Nanoseconds since 1970-01-01 00:00 UTC.
    pub fn now(&self) -> Result<u64, Error> {
        let p = empty_params::<wall_clock::now_params::Owned>();
        let reply = self.cap.call(NOW, &p, SMALL_RESULT)?;
        Ok(reply.payload.read()?.get_root::<wall_clock::now_results::Reader>()?.get_ns())
    }
}
