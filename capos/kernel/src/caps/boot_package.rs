//! BootPackage: the manifest.bin the system booted with, read in bounded chunks.

use super::{chunk, done, encode, params, CallCtx, CapError, KernelCap, Reply};
use capos_schema::capos_capnp::boot_package;
use capos_schema::ids;
use capos_schema::wire;

pub struct BootPackage {
    pub manifest: &'static [u8],
}

impl KernelCap for BootPackage {
    fn interface_id(&self) -> u64 {
        ids::BOOT_PACKAGE
    }

    fn call(&self, method: u16, bytes: &[u8], _ctx: &mut CallCtx<'_>) -> Result<Reply, CapError> {
        let mut out = wire::builder(wire::words_for(0));
        match method {
            0 => out.init_root::<boot_package::manifest_size_results::Builder>().set_size(self.manifest.len() as u64),
            1 => {
                let msg = params(bytes)?;
                let p = msg.get_root::<boot_package::read_manifest_params::Reader>()?;
                let data = chunk(self.manifest, p.get_offset(), p.get_max_bytes());
                out.init_root::<boot_package::read_manifest_results::Builder>().set_data(data);
            }
            m => return Err(CapError::no_method("BootPackage", m)),
        }
        done(encode(&out))
    }
}
