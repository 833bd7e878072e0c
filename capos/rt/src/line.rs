//! A `Console.writeLine` params message encoded by hand into a fixed buffer, without the heap:
//! the panic handler uses it, and it must work even when the allocator is what failed.
//!
//! Layout (one segment): segment table word, root struct pointer (0 data words, 1 pointer),
//! then a byte-list pointer to the NUL-terminated text, then the text padded to a word.

/// Longest text the buffer holds; longer text is cut.
pub const LINE_MAX: usize = 240;
const WORDS: usize = 3 + (LINE_MAX + 1).div_ceil(8);

/// A buffer holding one encoded message, 8-byte aligned.
pub struct LineMessage {
    words: [u64; WORDS],
    len: usize,
}

impl LineMessage {
    pub fn encode(text: &[u8]) -> LineMessage {
        let text = &text[..text.len().min(LINE_MAX)];
        let text_words = (text.len() + 1).div_ceil(8);
        let segment_words = 2 + text_words;
        let mut words = [0u64; WORDS];
        // Segment table: (segment count - 1) = 0, then segment 0's size in words.
        words[0] = (segment_words as u64) << 32;
        // Root: struct pointer, offset 0, data size 0 words, pointer count 1.
        words[1] = 1 << 48;
        // Pointer 0: list pointer (tag 1), offset 0, element size 2 (bytes), count = len + NUL.
        words[2] = 1 | (2 << 32) | (((text.len() + 1) as u64) << 35);
        for (i, byte) in text.iter().enumerate() {
            words[3 + i / 8] |= (*byte as u64) << (8 * (i % 8));
        }
        LineMessage { words, len: (1 + segment_words) * 8 }
    }

    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: u64s viewed as bytes, `len` within the array (at most WORDS * 8).
        unsafe { core::slice::from_raw_parts(self.words.as_ptr() as *const u8, self.len) }
    }
}

/// Formats into a fixed buffer, cutting what does not fit.
pub struct StackWriter {
    pub buf: [u8; LINE_MAX],
    pub len: usize,
}

impl StackWriter {
    pub const fn new() -> StackWriter {
        StackWriter { buf: [0; LINE_MAX], len: 0 }
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Default for StackWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Write for StackWriter {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = LINE_MAX - self.len;
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use capos_schema::capos_capnp::console;
    use capos_schema::wire::AlignedBuf;

    #[test]
    fn hand_encoding_reads_back_with_capnp() {
        for text in ["", "a", "seven77", "eight888", "panicked at src/main.rs:3:5: boom", &"x".repeat(LINE_MAX + 10)] {
            let msg = LineMessage::encode(text.as_bytes());
            let buf = AlignedBuf::copy_from(msg.as_bytes());
            let reader = buf.read().unwrap();
            let got = reader.get_root::<console::write_line_params::Reader>().unwrap().get_text().unwrap();
            let expected = &text[..text.len().min(LINE_MAX)];
            assert_eq!(got.to_str().unwrap(), expected);
        }
    }

    #[test]
    fn stack_writer_cuts_instead_of_failing() {
        use core::fmt::Write;
        let mut w = StackWriter::new();
        for _ in 0..100 {
            write!(w, "0123456789").unwrap();
        }
        assert_eq!(w.len, LINE_MAX);
    }
}
