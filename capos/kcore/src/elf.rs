//! Parsing static ELF64 executables from the boot package. The bytes come from a manifest that
//! may have been corrupted after mkmanifest checked it, so every field is checked here.

use alloc::vec::Vec;
use capos_abi::addr::{PAGE_SIZE, USER_IMAGE_BASE, USER_STACK_SIZE, USER_STACK_TOP};

/// Why an ELF image was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// Shorter than its headers claim.
    Truncated,
    /// Not `\x7fELF`, not 64-bit little-endian, or not version 1.
    BadMagic,
    /// Not an x86_64 executable (`ET_EXEC`).
    WrongKind,
    /// Program headers of an unexpected size or count.
    BadProgramHeaders,
    /// A segment's file size exceeds its memory size or its bytes lie outside the file.
    BadSegment,
    /// A segment lies outside the user image range or overlaps the stack.
    OutOfRange,
    /// A segment is both writable and executable.
    WritableAndExecutable,
    /// Two segments share a page (they could not get separate permissions).
    Overlap,
    /// No loadable segment.
    NoSegments,
    /// The entry point is not inside an executable segment.
    BadEntry,
}

impl core::fmt::Display for ElfError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ElfError::Truncated => "elf truncated",
            ElfError::BadMagic => "not a 64-bit little-endian elf",
            ElfError::WrongKind => "not an x86_64 executable",
            ElfError::BadProgramHeaders => "bad program headers",
            ElfError::BadSegment => "segment bytes outside the file",
            ElfError::OutOfRange => "segment outside the user image range",
            ElfError::WritableAndExecutable => "segment both writable and executable",
            ElfError::Overlap => "segments share a page",
            ElfError::NoSegments => "no loadable segment",
            ElfError::BadEntry => "entry point not in an executable segment",
        })
    }
}

// region: segment
/// One `PT_LOAD` segment, validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub vaddr: u64,
    pub mem_size: u64,
    pub file_offset: u64,
    pub file_size: u64,
    pub writable: bool,
    pub executable: bool,
}

impl Segment {
    /// First page and end page (exclusive) the segment touches.
    pub fn pages(&self) -> (u64, u64) {
        let start = self.vaddr & !(PAGE_SIZE - 1);
        let end = (self.vaddr + self.mem_size + PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
        (start, end)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    pub entry: u64,
    pub segments: Vec<Segment>,
}

/// Highest address (exclusive) an image may use: below the stack and its guard page.
pub const IMAGE_LIMIT: u64 = USER_STACK_TOP - USER_STACK_SIZE - PAGE_SIZE;
// endregion: segment

const PT_LOAD: u32 = 1;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const MAX_PHDRS: u16 = 64;

fn u16_at(b: &[u8], off: usize) -> Result<u16, ElfError> {
    let s = b.get(off..off.checked_add(2).ok_or(ElfError::Truncated)?).ok_or(ElfError::Truncated)?;
    Ok(u16::from_le_bytes([s[0], s[1]]))
}
fn u32_at(b: &[u8], off: usize) -> Result<u32, ElfError> {
    let s = b.get(off..off.checked_add(4).ok_or(ElfError::Truncated)?).ok_or(ElfError::Truncated)?;
    Ok(u32::from_le_bytes(s.try_into().map_err(|_| ElfError::Truncated)?))
}
fn u64_at(b: &[u8], off: usize) -> Result<u64, ElfError> {
    let s = b.get(off..off.checked_add(8).ok_or(ElfError::Truncated)?).ok_or(ElfError::Truncated)?;
    Ok(u64::from_le_bytes(s.try_into().map_err(|_| ElfError::Truncated)?))
}

// region: parse
/// Parses and validates an executable; the loader may then copy segments without further checks.
pub fn parse(b: &[u8]) -> Result<Image, ElfError> {
    if b.len() < 64 {
        return Err(ElfError::Truncated);
    }
    if b[0..4] != *b"\x7fELF" || b[4] != 2 || b[5] != 1 || b[6] != 1 {
        return Err(ElfError::BadMagic);
    }
    if u16_at(b, 16)? != 2 || u16_at(b, 18)? != 0x3e {
        return Err(ElfError::WrongKind);
    }
    let entry = u64_at(b, 24)?;
    let phoff = u64_at(b, 32)?;
    let phentsize = u16_at(b, 54)?;
    let phnum = u16_at(b, 56)?;
    if phentsize != 56 || phnum > MAX_PHDRS {
        return Err(ElfError::BadProgramHeaders);
    }
    let mut segments: Vec<Segment> = Vec::new();
    for i in 0..phnum as u64 {
        let off = phoff.checked_add(i * 56).ok_or(ElfError::Truncated)?;
        let off = usize::try_from(off).map_err(|_| ElfError::Truncated)?;
        let field = |n: usize| off.checked_add(n).ok_or(ElfError::Truncated);
        if u32_at(b, off)? != PT_LOAD {
            continue;
        }
        let flags = u32_at(b, field(4)?)?;
        let seg = Segment {
            file_offset: u64_at(b, field(8)?)?,
            vaddr: u64_at(b, field(16)?)?,
            file_size: u64_at(b, field(32)?)?,
            mem_size: u64_at(b, field(40)?)?,
            writable: flags & PF_W != 0,
            executable: flags & PF_X != 0,
        };
        check_segment(b.len() as u64, &seg)?;
        segments.push(seg);
    }
    if segments.is_empty() {
        return Err(ElfError::NoSegments);
    }
    segments.sort_by_key(|s| s.vaddr);
    for pair in segments.windows(2) {
        if pair[0].pages().1 > pair[1].pages().0 {
            return Err(ElfError::Overlap);
        }
    }
    let entry_ok = segments.iter().any(|s| s.executable && entry >= s.vaddr && entry < s.vaddr + s.mem_size);
    if !entry_ok {
        return Err(ElfError::BadEntry);
    }
    Ok(Image { entry, segments })
}

fn check_segment(file_len: u64, s: &Segment) -> Result<(), ElfError> {
    if s.file_size > s.mem_size {
        return Err(ElfError::BadSegment);
    }
    match s.file_offset.checked_add(s.file_size) {
        Some(end) if end <= file_len => {}
        _ => return Err(ElfError::BadSegment),
    }
    match s.vaddr.checked_add(s.mem_size) {
        Some(end) if s.vaddr >= USER_IMAGE_BASE && end <= IMAGE_LIMIT => {}
        _ => return Err(ElfError::OutOfRange),
    }
    if s.writable && s.executable {
        return Err(ElfError::WritableAndExecutable);
    }
    Ok(())
}
// endregion: parse

#[cfg(test)]
pub mod build {
    //! A tiny ELF writer for tests.
    pub struct Seg {
        pub vaddr: u64,
        pub data: Vec<u8>,
        pub mem_size: u64,
        pub flags: u32,
    }

    pub fn elf(entry: u64, segs: &[Seg]) -> Vec<u8> {
        let phoff = 64u64;
        let mut data_off = phoff + 56 * segs.len() as u64;
        let mut out = vec![0u8; 64];
        out[0..4].copy_from_slice(b"\x7fELF");
        out[4] = 2;
        out[5] = 1;
        out[6] = 1;
        out[16..18].copy_from_slice(&2u16.to_le_bytes());
        out[18..20].copy_from_slice(&0x3eu16.to_le_bytes());
        out[20..24].copy_from_slice(&1u32.to_le_bytes());
        out[24..32].copy_from_slice(&entry.to_le_bytes());
        out[32..40].copy_from_slice(&phoff.to_le_bytes());
        out[52..54].copy_from_slice(&64u16.to_le_bytes());
        out[54..56].copy_from_slice(&56u16.to_le_bytes());
        out[56..58].copy_from_slice(&(segs.len() as u16).to_le_bytes());
        let mut bodies = Vec::new();
        for s in segs {
            let mut ph = vec![0u8; 56];
            ph[0..4].copy_from_slice(&1u32.to_le_bytes());
            ph[4..8].copy_from_slice(&s.flags.to_le_bytes());
            ph[8..16].copy_from_slice(&data_off.to_le_bytes());
            ph[16..24].copy_from_slice(&s.vaddr.to_le_bytes());
            ph[24..32].copy_from_slice(&s.vaddr.to_le_bytes());
            ph[32..40].copy_from_slice(&(s.data.len() as u64).to_le_bytes());
            ph[40..48].copy_from_slice(&s.mem_size.to_le_bytes());
            ph[48..56].copy_from_slice(&4096u64.to_le_bytes());
            out.extend_from_slice(&ph);
            bodies.extend_from_slice(&s.data);
            data_off += s.data.len() as u64;
        }
        out.extend_from_slice(&bodies);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::build::*;
    use super::*;

    fn text(vaddr: u64) -> Seg {
        Seg { vaddr, data: vec![0x90; 16], mem_size: 16, flags: 5 }
    }

    #[test]
    fn parses_text_and_bss() {
        let e =
            elf(0x400000, &[text(0x400000), Seg { vaddr: 0x401000, data: vec![1, 2], mem_size: 100 << 20, flags: 6 }]);
        let img = parse(&e).unwrap();
        assert_eq!(img.entry, 0x400000);
        assert_eq!(img.segments.len(), 2);
        assert!(img.segments[0].executable && !img.segments[0].writable);
        assert!(img.segments[1].writable && !img.segments[1].executable);
        assert_eq!(img.segments[1].mem_size, 100 << 20);
    }

    #[test]
    fn rejects_malformed() {
        let good = elf(0x400000, &[text(0x400000)]);
        assert_eq!(parse(&good[..40]), Err(ElfError::Truncated));
        let mut bad = good.clone();
        bad[0] = 0;
        assert_eq!(parse(&bad), Err(ElfError::BadMagic));
        let mut bad = good.clone();
        bad[18] = 3;
        assert_eq!(parse(&bad), Err(ElfError::WrongKind));
        let mut bad = good.clone();
        bad[54] = 32;
        assert_eq!(parse(&bad), Err(ElfError::BadProgramHeaders));
        let mut bad = good.clone();
        bad[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(parse(&bad), Err(ElfError::Truncated));
        // file size beyond the file
        let mut bad = good.clone();
        bad[64 + 32..64 + 40].copy_from_slice(&1000u64.to_le_bytes());
        bad[64 + 40..64 + 48].copy_from_slice(&1000u64.to_le_bytes());
        assert_eq!(parse(&bad), Err(ElfError::BadSegment));
        // file offset overflowing
        let mut bad = good.clone();
        bad[64 + 8..64 + 16].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(parse(&bad), Err(ElfError::BadSegment));
        // filesz > memsz
        let mut bad = good.clone();
        bad[64 + 40..64 + 48].copy_from_slice(&1u64.to_le_bytes());
        assert_eq!(parse(&bad), Err(ElfError::BadSegment));
    }

    #[test]
    fn rejects_kernel_and_low_addresses() {
        assert_eq!(parse(&elf(0xffff_8000_0000_0000, &[text(0xffff_8000_0000_0000)])), Err(ElfError::OutOfRange));
        assert_eq!(parse(&elf(0x100000, &[text(0x100000)])), Err(ElfError::OutOfRange));
        let s = Seg { vaddr: 0x400000, data: vec![], mem_size: u64::MAX - 0x1000, flags: 6 };
        assert_eq!(parse(&elf(0x400000, &[text(0x500000), s])), Err(ElfError::OutOfRange));
        let s = Seg { vaddr: IMAGE_LIMIT - 0x1000, data: vec![], mem_size: 0x2000, flags: 6 };
        assert_eq!(parse(&elf(0x400000, &[text(0x400000), s])), Err(ElfError::OutOfRange));
    }

    #[test]
    fn enforces_w_xor_x_and_no_shared_pages() {
        let wx = Seg { vaddr: 0x400000, data: vec![0x90], mem_size: 1, flags: 7 };
        assert_eq!(parse(&elf(0x400000, &[wx])), Err(ElfError::WritableAndExecutable));
        let data = Seg { vaddr: 0x400800, data: vec![0], mem_size: 8, flags: 6 };
        assert_eq!(parse(&elf(0x400000, &[text(0x400000), data])), Err(ElfError::Overlap));
    }

    #[test]
    fn entry_must_be_executable() {
        let data = Seg { vaddr: 0x401000, data: vec![0], mem_size: 8, flags: 6 };
        assert_eq!(parse(&elf(0x401000, &[text(0x400000), data])), Err(ElfError::BadEntry));
        assert_eq!(parse(&elf(0x400000, &[])), Err(ElfError::NoSegments));
    }
}
