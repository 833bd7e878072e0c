use super::{client, params, DATA_RESULT};
use crate::error::Error;
use crate::transport::Cap;
use capos_abi::MAX_READ;
use capos_schema::capos_capnp::entropy_source;

const FILL: u16 = 0;

/// Bytes from the kernel's hardware entropy source.
pub struct EntropySource {
    cap: Cap,
}
client!(EntropySource, capos_schema::ids::ENTROPY_SOURCE);

impl EntropySource {
    /// Fills `buf`, asking for at most `MAX_READ` bytes per call.
    pub fn fill(&self, buf: &mut [u8]) -> Result<(), Error> {
        for chunk in buf.chunks_mut(MAX_READ) {
            let len = chunk.len() as u32;
            let p = params(|m| m.init_root::<entropy_source::fill_params::Builder>().set_len(len));
            let reply = self.cap.call(FILL, &p, DATA_RESULT)?;
            let message = reply.payload.read()?;
            let data = message.get_root::<entropy_source::fill_results::Reader>()?.get_data()?;
            if data.len() != chunk.len() {
                return Err(Error::BadReply("entropy fill returned a different length"));
            }
            chunk.copy_from_slice(data);
        }
        Ok(())
    }
}
