use super::{client, empty_params, params, DATA_RESULT, SMALL_RESULT};
use crate::error::Error;
use crate::transport::Cap;
use capos_abi::MAX_READ;
use capos_schema::capos_capnp::boot_package;
use capos_schema::wire::AlignedBuf;

const MANIFEST_SIZE: u16 = 0;
const READ_MANIFEST: u16 = 1;

/// The serialized SystemManifest the system booted with.
pub struct BootPackage {
    cap: Cap,
}
client!(BootPackage, capos_schema::ids::BOOT_PACKAGE);

impl BootPackage {
    pub fn manifest_size(&self) -> Result<u64, Error> {
        let p = empty_params::<boot_package::manifest_size_params::Owned>();
        let reply = self.cap.call(MANIFEST_SIZE, &p, SMALL_RESULT)?;
        Ok(reply.payload.read()?.get_root::<boot_package::manifest_size_results::Reader>()?.get_size())
    }

    /// Appends up to `max` bytes from `offset` to `out`; returns how many came.
    pub fn read_manifest(&self, offset: u64, max: u32, out: &mut AlignedBuf) -> Result<usize, Error> {
        let p = params(|m| {
            let mut root = m.init_root::<boot_package::read_manifest_params::Builder>();
            root.set_offset(offset);
            root.set_max_bytes(max);
        });
        let reply = self.cap.call(READ_MANIFEST, &p, DATA_RESULT)?;
        let message = reply.payload.read()?;
        let data = message.get_root::<boot_package::read_manifest_results::Reader>()?.get_data()?;
        if data.len() > max as usize {
            return Err(Error::BadReply("manifest read returned more than asked"));
        }
        out.extend_from_slice(data);
        Ok(data.len())
    }

    /// The whole manifest in 8-byte aligned memory, read in `MAX_READ` chunks.
    pub fn read_all(&self) -> Result<AlignedBuf, Error> {
        let size = self.manifest_size()?;
        // One allocation of the final size: growing by doubling would ask for twice a manifest just
        // over a power of two (16 MiB for 8.4 MB), more than init's heap holds.
        let mut out =
            AlignedBuf::zeroed(usize::try_from(size).map_err(|_| Error::BadReply("manifestSize does not fit memory"))?);
        out.truncate(0);
        while (out.len() as u64) < size {
            let want = (size - out.len() as u64).min(MAX_READ as u64) as u32;
            if self.read_manifest(out.len() as u64, want, &mut out)? == 0 {
                return Err(Error::BadReply("manifest ended before manifestSize"));
            }
        }
        Ok(out)
    }
}
