//! Blob: read-only bytes from the manifest (a binaries entry) or an inline text grant.

use super::{chunk, done, encode, params, CallCtx, CapError, KernelCap, Reply};
use alloc::vec::Vec;
use capos_schema::capos_capnp::blob;
use capos_schema::ids;
use capos_schema::wire;

pub enum Blob {
    /// Bytes inside the boot manifest (never freed).
    Manifest(&'static [u8]),
    /// A copy of a text grant.
    Text(Vec<u8>),
}

impl Blob {
    fn bytes(&self) -> &[u8] {
        match self {
            Blob::Manifest(b) => b,
            Blob::Text(t) => t,
        }
    }
}

impl KernelCap for Blob {
    fn interface_id(&self) -> u64 {
        ids::BLOB
    }

    fn call(&self, method: u16, bytes: &[u8], _ctx: &mut CallCtx<'_>) -> Result<Reply, CapError> {
        let mut out = wire::builder(wire::words_for(0));
        match method {
            0 => out.init_root::<blob::size_results::Builder>().set_size(self.bytes().len() as u64),
            1 => {
                let msg = params(bytes)?;
                let p = msg.get_root::<blob::read_params::Reader>()?;
                out.init_root::<blob::read_results::Builder>().set_data(chunk(
                    self.bytes(),
                    p.get_offset(),
                    p.get_max_bytes(),
                ));
            }
            m => return Err(CapError::no_method("Blob", m)),
        }
        done(encode(&out))
    }
}
