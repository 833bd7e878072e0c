//! EntropySource: bytes straight from the CPU's hardware generator (see entropy.rs).

use super::{done, encode, params, CallCtx, CapError, KernelCap, Reply};
use alloc::format;
use alloc::vec;
use capos_abi::MAX_READ;
use capos_schema::capos_capnp::entropy_source;
use capos_schema::ids;
use capos_schema::wire;

pub struct EntropySource;

impl KernelCap for EntropySource {
    fn interface_id(&self) -> u64 {
        ids::ENTROPY_SOURCE
    }

    fn call(&self, method: u16, bytes: &[u8], _ctx: &mut CallCtx<'_>) -> Result<Reply, CapError> {
        match method {
            0 => {
                let msg = params(bytes)?;
                let len = msg.get_root::<entropy_source::fill_params::Reader>()?.get_len() as usize;
                if len > MAX_READ {
                    return Err(CapError::invalid(format!("len {len} over {MAX_READ}")));
                }
                let mut data = vec![0u8; len];
                crate::entropy::fill(&mut data).ok_or_else(|| CapError::failed("hardware entropy source failed"))?;
                let mut out = wire::builder(wire::words_for(data.len()));
                out.init_root::<entropy_source::fill_results::Builder>().set_data(&data);
                done(encode(&out))
            }
            m => Err(CapError::no_method("EntropySource", m)),
        }
    }
}
