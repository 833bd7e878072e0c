//! Timer: monotonic nanoseconds since boot from the calibrated TSC, its true resolution, and the
//! caller's alarm (kcore's [`Alarm`] decides; the scheduler delivers, see `sched::deliver_alarm`).

use super::{done, encode, params, CallCtx, CapError, KernelCap, Reply};
use crate::time;
use alloc::format;
use capos_kcore::alarm::Alarm;
use capos_schema::capos_capnp::timer;
use capos_schema::ids;
use capos_schema::wire;

pub struct Timer;

impl KernelCap for Timer {
    fn interface_id(&self) -> u64 {
        ids::TIMER
    }

    fn call(&self, method: u16, bytes: &[u8], ctx: &mut CallCtx<'_>) -> Result<Reply, CapError> {
        let mut out = wire::builder(wire::words_for(0));
        match method {
            0 => out.init_root::<timer::now_results::Builder>().set_ns(time::now_ns()),
            1 => out.init_root::<timer::resolution_results::Builder>().set_ns(time::resolution_ns()),
            // region: set-alarm
            2 => {
                let msg = params(bytes)?;
                let p = msg.get_root::<timer::set_alarm_params::Reader>()?;
                let armed = Alarm::arm(p.get_period_ns(), p.get_entry(), time::now_ns());
                *ctx.alarm = armed.map_err(|e| CapError::invalid(format!("{e}")))?;
                out.init_root::<timer::set_alarm_results::Builder>();
            }
            // endregion: set-alarm
            m => return Err(CapError::no_method("Timer", m)),
        }
        done(encode(&out))
    }
}
