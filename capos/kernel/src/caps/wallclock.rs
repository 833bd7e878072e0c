//! WallClock: the RTC's time at boot plus the monotonic clock (see rtc.rs). Ours, ahead of upstream.

use super::{done, encode, CallCtx, CapError, KernelCap, Reply};
use capos_schema::capnp::message::Builder;
use capos_schema::capos_capnp::wall_clock;
use capos_schema::ids;

pub struct WallClock;

impl KernelCap for WallClock {
    fn interface_id(&self) -> u64 {
        ids::WALL_CLOCK
    }

    fn call(&self, method: u16, _params: &[u8], _ctx: &mut CallCtx<'_>) -> Result<Reply, CapError> {
        let mut out = Builder::new_default();
        match method {
            0 => {
                let ns = crate::rtc::now_ns()
                    .ok_or_else(|| CapError::failed("the real-time clock gave no valid time at boot"))?;
                out.init_root::<wall_clock::now_results::Builder>().set_ns(ns);
            }
            m => return Err(CapError::no_method("WallClock", m)),
        }
        done(encode(&out))
    }
}
