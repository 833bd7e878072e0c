//! Timer: monotonic nanoseconds since boot from the calibrated TSC, and its true resolution.

use super::{done, encode, CallCtx, CapError, KernelCap, Reply};
use crate::time;
use capos_schema::capos_capnp::timer;
use capos_schema::ids;
use capos_schema::wire;

pub struct Timer;

impl KernelCap for Timer {
    fn interface_id(&self) -> u64 {
        ids::TIMER
    }

    fn call(&self, method: u16, _params: &[u8], _ctx: &mut CallCtx<'_>) -> Result<Reply, CapError> {
        let mut out = wire::builder(wire::words_for(0));
        match method {
            0 => out.init_root::<timer::now_results::Builder>().set_ns(time::now_ns()),
            1 => out.init_root::<timer::resolution_results::Builder>().set_ns(time::resolution_ns()),
            m => return Err(CapError::no_method("Timer", m)),
        }
        done(encode(&out))
    }
}
