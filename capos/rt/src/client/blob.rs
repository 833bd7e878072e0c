use super::{client, empty_params, params, DATA_RESULT, SMALL_RESULT};
use crate::error::Error;
use crate::transport::Cap;
use alloc::string::String;
use alloc::vec::Vec;
use capos_abi::MAX_READ;
use capos_schema::capos_capnp::blob;

const SIZE: u16 = 0;
const READ: u16 = 1;

/// Read-only bytes granted from the manifest (a binaries entry or inline text).
pub struct Blob {
    cap: Cap,
}
client!(Blob, capos_schema::ids::BLOB);

impl Blob {
    pub fn size(&self) -> Result<u64, Error> {
        let p = empty_params::<blob::size_params::Owned>();
        let reply = self.cap.call(SIZE, &p, SMALL_RESULT)?;
        Ok(reply.payload.read()?.get_root::<blob::size_results::Reader>()?.get_size())
    }

    /// Up to `max` bytes (at most `MAX_READ`) from `offset`; empty at or past the end.
    pub fn read(&self, offset: u64, max: u32) -> Result<Vec<u8>, Error> {
        let p = params(|m| {
            let mut root = m.init_root::<blob::read_params::Builder>();
            root.set_offset(offset);
            root.set_max_bytes(max);
        });
        let reply = self.cap.call(READ, &p, DATA_RESULT)?;
        let message = reply.payload.read()?;
        Ok(message.get_root::<blob::read_results::Reader>()?.get_data()?.to_vec())
    }

    /// The whole blob, read in `MAX_READ` chunks into one buffer reserved at its exact size (a
    /// 31 MiB module must not grow by doubling, with a copy of half of it alive meanwhile).
    pub fn read_all(&self) -> Result<Vec<u8>, Error> {
        let size = self.size()?;
        let mut out = Vec::new();
        let exact = usize::try_from(size).map_err(|_| Error::BadReply("blob size does not fit memory"))?;
        out.try_reserve_exact(exact).map_err(|_| Error::BadReply("no memory for the blob"))?;
        while (out.len() as u64) < size {
            let want = (size - out.len() as u64).min(MAX_READ as u64) as u32;
            let chunk = self.read(out.len() as u64, want)?;
            if chunk.is_empty() || chunk.len() > want as usize {
                return Err(Error::BadReply("blob read returned a wrong length"));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// The whole blob as UTF-8 text.
    pub fn read_string(&self) -> Result<String, Error> {
        String::from_utf8(self.read_all()?).map_err(|_| Error::Decode(String::from("blob is not utf-8")))
    }
}
