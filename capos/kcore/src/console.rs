//! Console line discipline: per-process write buffering and line splitting, so that every
//! serial line is `[<process>] <text>`, at most `CONSOLE_LINE_MAX` bytes of text, and no
//! process can forge another's prefix (embedded newlines start a new prefixed line, other
//! control bytes are shown as '.').

use alloc::vec::Vec;
use capos_abi::CONSOLE_LINE_MAX;

// region: console
/// Bytes a process wrote with `Console.write` that do not end in a newline yet.
#[derive(Default)]
pub struct LineBuffer {
    pending: Vec<u8>,
}

impl LineBuffer {
    /// Appends `data`, calling `emit` for every completed line (without its newline).
    pub fn write(&mut self, data: &[u8], emit: &mut dyn FnMut(&[u8])) {
        for &b in data {
            if b == b'\n' {
                let line = core::mem::take(&mut self.pending);
                split_line(&line, emit);
            } else {
                self.pending.push(b);
                if self.pending.len() >= CONSOLE_LINE_MAX {
                    // A full line's worth without a newline: emit it now so the buffer stays bounded.
                    let cut = char_boundary(&self.pending, CONSOLE_LINE_MAX);
                    let rest = self.pending.split_off(cut);
                    emit(&sanitize(&self.pending));
                    self.pending = rest;
                }
            }
        }
    }

    /// Emits a partial line, if any (before a writeLine, and at process exit).
    pub fn flush(&mut self, emit: &mut dyn FnMut(&[u8])) {
        if !self.pending.is_empty() {
            let line = core::mem::take(&mut self.pending);
            split_line(&line, emit);
        }
    }
}

/// Emits `text` as one or more lines: split at newlines and every `CONSOLE_LINE_MAX` bytes
/// (never inside a UTF-8 sequence).
pub fn split_line(text: &[u8], emit: &mut dyn FnMut(&[u8])) {
    for line in text.split(|&b| b == b'\n') {
        let mut rest = line;
        loop {
            let cut = char_boundary(rest, CONSOLE_LINE_MAX);
            emit(&sanitize(&rest[..cut]));
            rest = &rest[cut..];
            if rest.is_empty() {
                break;
            }
        }
    }
}
// endregion: console

/// The largest split point <= `max` that does not fall inside a UTF-8 sequence (or `max` when
/// the bytes are not UTF-8 at all).
fn char_boundary(b: &[u8], max: usize) -> usize {
    if b.len() <= max {
        return b.len();
    }
    let mut cut = max;
    while cut > max.saturating_sub(3) && cut > 0 && b[cut] & 0xc0 == 0x80 {
        cut -= 1;
    }
    if b[cut] & 0xc0 == 0x80 {
        max
    } else {
        cut
    }
}

fn sanitize(b: &[u8]) -> Vec<u8> {
    b.iter().map(|&c| if (c < 0x20 && c != b'\t') || c == 0x7f { b'.' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(f: impl FnOnce(&mut dyn FnMut(&[u8]))) -> Vec<String> {
        let mut out = Vec::new();
        f(&mut |l: &[u8]| out.push(String::from_utf8_lossy(l).into_owned()));
        out
    }

    #[test]
    fn write_buffers_until_newline() {
        let mut lb = LineBuffer::default();
        assert!(collect(|e| lb.write(b"hel", e)).is_empty());
        assert_eq!(collect(|e| lb.write(b"lo\nwor", e)), vec!["hello"]);
        assert_eq!(collect(|e| lb.flush(e)), vec!["wor"]);
        assert!(collect(|e| lb.flush(e)).is_empty());
    }

    #[test]
    fn long_lines_are_split_not_dropped() {
        let text = vec![b'a'; CONSOLE_LINE_MAX * 2 + 5];
        let lines = collect(|e| split_line(&text, e));
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].len(), CONSOLE_LINE_MAX);
        assert_eq!(lines[2].len(), 5);
        let mut lb = LineBuffer::default();
        let lines = collect(|e| lb.write(&text, e));
        assert_eq!(lines.len(), 2);
        assert_eq!(collect(|e| lb.flush(e)), vec!["aaaaa"]);
    }

    #[test]
    fn split_respects_utf8() {
        let mut text = vec![b'a'; CONSOLE_LINE_MAX - 1];
        text.extend_from_slice("é".as_bytes());
        let lines = collect(|e| split_line(&text, e));
        assert_eq!(lines, vec!["a".repeat(CONSOLE_LINE_MAX - 1), "é".to_string()]);
    }

    #[test]
    fn newlines_and_control_bytes_cannot_forge_prefixes() {
        let lines = collect(|e| split_line(b"ok\n[kernel] fake\rx\x1b[2K", e));
        assert_eq!(lines, vec!["ok", "[kernel] fake.x.[2K"]);
    }
}
