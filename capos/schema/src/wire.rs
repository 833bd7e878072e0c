//! Framing messages for the ring and reading them back.
//!
//! A params or result buffer holds one Cap'n Proto message in the standard stream framing
//! (segment table, then segments). capnp reads segments in place and, without its `unaligned`
//! feature, needs them 8-byte aligned, so receivers keep messages in [`AlignedBuf`].
use alloc::vec::Vec;
use capnp::message::{Builder, HeapAllocator, Reader, ReaderOptions};
use capnp::serialize::{self, BufferSegments};
use capnp::Word;

/// A message builder whose first segment holds `words` words. capnp's default first segment is
/// 1024 words (8 KiB), allocated zeroed for every message, while most of ours need a handful;
/// under TCG zeroing it cost more than the rest of an empty CALL (chapter A.1, "Making it
/// faster"). A message that outgrows the first segment gets a second one, as large messages
/// always did.
pub fn builder(words: u32) -> Builder<HeapAllocator> {
    Builder::new(HeapAllocator::new().first_segment_words(words.max(1)))
}

/// First-segment words for a message carrying `bytes` of data or text plus a few small fields.
pub fn words_for(bytes: usize) -> u32 {
    u32::try_from(bytes.div_ceil(8) + 16).unwrap_or(u32::MAX)
}

/// Serializes a built message with its segment table.
pub fn to_bytes(message: &Builder<HeapAllocator>) -> Vec<u8> {
    serialize::write_message_to_words(message)
}

/// Reader options for messages of `len` bytes: the traversal limit is a few times the message
/// size, enough for any honest reader and small enough to stop pointer amplification.
pub fn options_for(len: usize) -> ReaderOptions {
    let mut options = ReaderOptions::new();
    options.traversal_limit_in_words(Some(len / 8 * 4 + 1024));
    options
}

/// Reads a framed message that starts at `bytes` (which must be 8-byte aligned). Trailing bytes
/// after the message are ignored.
pub fn read(bytes: &[u8]) -> capnp::Result<Reader<BufferSegments<&[u8]>>> {
    if !(bytes.as_ptr() as usize).is_multiple_of(8) {
        return Err(capnp::Error::failed(alloc::string::String::from("message buffer is not 8-byte aligned")));
    }
    BufferSegments::new(bytes, options_for(bytes.len())).map(|segments| Reader::new(segments, options_for(bytes.len())))
}

/// A byte buffer whose start is 8-byte aligned, so a message in it can be read in place.
#[derive(Clone, Default)]
pub struct AlignedBuf {
    words: Vec<Word>,
    len: usize,
}

impl AlignedBuf {
    /// A zeroed buffer of `len` bytes.
    pub fn zeroed(len: usize) -> AlignedBuf {
        AlignedBuf { words: Word::allocate_zeroed_vec(len.div_ceil(8)), len }
    }

    /// A copy of `bytes` in aligned storage.
    pub fn copy_from(bytes: &[u8]) -> AlignedBuf {
        let mut buf = AlignedBuf::zeroed(bytes.len());
        buf.as_mut_slice().copy_from_slice(bytes);
        buf
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Shortens the visible length (the storage stays).
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// Reserves room for `total` bytes in all, so appends up to it never reallocate (a 35 MB boot
    /// package must not double to 64 MiB with the old 32 MiB alive during the copy).
    pub fn reserve_exact(&mut self, total: usize) {
        self.words.reserve_exact(total.div_ceil(8).saturating_sub(self.words.len()));
    }

    /// Appends bytes, growing the storage when needed: exactly within reserved capacity,
    /// by doubling beyond it.
    pub fn extend_from_slice(&mut self, bytes: &[u8]) {
        let start = self.len;
        let end = start + bytes.len();
        if end > self.words.len() * 8 {
            let need = end.div_ceil(8);
            let target = if need <= self.words.capacity() { need } else { need.max(self.words.len() * 2) };
            self.words.resize(target, capnp::word(0, 0, 0, 0, 0, 0, 0, 0));
        }
        self.len = end;
        self.as_mut_slice()[start..end].copy_from_slice(bytes);
    }

    pub fn as_slice(&self) -> &[u8] {
        &Word::words_to_bytes(&self.words)[..self.len]
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut Word::words_to_bytes_mut(&mut self.words)[..self.len]
    }

    /// Reads the framed message held in the buffer.
    pub fn read(&self) -> capnp::Result<Reader<BufferSegments<&[u8]>>> {
        read(self.as_slice())
    }
}

impl core::fmt::Debug for AlignedBuf {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "AlignedBuf({} bytes)", self.len)
    }
}

impl core::ops::Deref for AlignedBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capos_capnp::console;

    #[test]
    fn message_round_trips_through_aligned_buffer() {
        let mut message = Builder::new_default();
        message.init_root::<console::write_line_params::Builder>().set_text("hello");
        let bytes = to_bytes(&message);
        let mut buf = AlignedBuf::default();
        buf.extend_from_slice(&bytes[..5]);
        buf.extend_from_slice(&bytes[5..]);
        let reader = buf.read().unwrap();
        let params = reader.get_root::<console::write_line_params::Reader>().unwrap();
        assert_eq!(params.get_text().unwrap().to_str().unwrap(), "hello");
    }

    /// Segments in a framed message (the first word of the stream framing holds count - 1).
    fn segments(bytes: &[u8]) -> u32 {
        u32::from_le_bytes(bytes[0..4].try_into().unwrap()) + 1
    }

    #[test]
    fn sized_builders_keep_one_segment_and_serialize_like_the_default() {
        for n in [0usize, 1, 7, 8, 100, 1000, 5000] {
            let data = vec![0xa5u8; n];
            let mut sized = builder(words_for(n));
            sized.init_root::<console::write_params::Builder>().set_data(&data);
            let mut default = Builder::new_default();
            default.init_root::<console::write_params::Builder>().set_data(&data);
            let (a, b) = (to_bytes(&sized), to_bytes(&default));
            assert_eq!(segments(&a), 1, "{n} bytes");
            assert_eq!(a, b, "{n} bytes");
        }
    }

    #[test]
    fn a_message_that_outgrows_the_first_segment_still_round_trips() {
        let data = vec![7u8; 4096];
        let mut small = builder(4);
        small.init_root::<console::write_params::Builder>().set_data(&data);
        let bytes = to_bytes(&small);
        assert_eq!(segments(&bytes), 2);
        let buf = AlignedBuf::copy_from(&bytes);
        let reader = buf.read().unwrap();
        assert_eq!(reader.get_root::<console::write_params::Reader>().unwrap().get_data().unwrap(), &data[..]);
    }

    #[test]
    fn unaligned_or_truncated_input_is_an_error_not_a_panic() {
        let mut message = Builder::new_default();
        message.init_root::<console::write_line_params::Builder>().set_text("hello");
        let bytes = to_bytes(&message);
        let buf = AlignedBuf::copy_from(&bytes);
        assert!(read(&buf.as_slice()[..bytes.len() - 8]).is_err());
        let mut shifted = AlignedBuf::copy_from(&[0u8]);
        shifted.extend_from_slice(&bytes);
        assert!(read(&shifted.as_slice()[1..]).is_err());
        assert!(read(&[]).is_err());
    }
}
