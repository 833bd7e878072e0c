//! The CapSet page: the caps this process was started with, by name and interface id.
use crate::error::Error;
use alloc::string::String;
use alloc::vec::Vec;
use capos_abi::capset::{CapSetEntry, CapSetHeader, CAPSET_MAGIC, CAPSET_VERSION, MAX_ENTRIES};
use capos_schema::ids::interface_name;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapEntry {
    pub name: String,
    pub cap_id: u32,
    pub interface_id: u64,
}

/// Why a CapSet page was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapSetError {
    BadMagic(u32),
    BadVersion(u32),
    TooManyEntries(u32),
    BadName { index: usize },
}

impl core::fmt::Display for CapSetError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CapSetError::BadMagic(m) => write!(f, "capset magic {m:#x} is wrong"),
            CapSetError::BadVersion(v) => write!(f, "capset version {v} is not supported"),
            CapSetError::TooManyEntries(n) => write!(f, "capset claims {n} entries, a page holds {MAX_ENTRIES}"),
            CapSetError::BadName { index } => write!(f, "capset entry {index} has a bad name"),
        }
    }
}

/// The CapSet header's memory fields: a quota of the process's own, in 4 KiB frames (0 when it
/// shares its parent's), and the frames its space already held when the kernel wrote the page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Memory {
    pub frame_quota: u64,
    pub frames_charged: u64,
}

#[derive(Clone, Debug, Default)]
pub struct CapSet {
    entries: Vec<CapEntry>,
    /// What the header says about this process's memory quota.
    memory: Memory,
    /// Entries already turned into clients (a cap id has one owner, which releases it on drop).
    taken: Vec<bool>,
}

impl CapSet {
    /// Reads the page at `page`; a null address means the process was given no caps.
    ///
    /// # Safety
    /// A non-null `page` points at a readable 4 KiB page.
    pub unsafe fn parse(page: *const u8) -> Result<CapSet, CapSetError> {
        if page.is_null() {
            return Ok(CapSet::default());
        }
        // SAFETY: the caller guarantees a readable page; the slice covers exactly that page.
        let bytes = unsafe { core::slice::from_raw_parts(page, 4096) };
        CapSet::from_bytes(bytes)
    }

    // region: memory-of
    /// The header's memory fields alone, read without allocating (the runtime needs them to size
    /// its heap before anything can allocate); None for a page this runtime cannot read.
    pub fn memory_of(page: &[u8]) -> Option<Memory> {
        let header = read::<CapSetHeader>(page, 0)?;
        (header.magic == CAPSET_MAGIC && header.version == CAPSET_VERSION)
            .then_some(Memory { frame_quota: header.frame_quota, frames_charged: header.frames_charged })
    }
    // endregion: memory-of

    /// Parses a CapSet page image.
    pub fn from_bytes(page: &[u8]) -> Result<CapSet, CapSetError> {
        let header = read::<CapSetHeader>(page, 0).ok_or(CapSetError::TooManyEntries(0))?;
        if header.magic != CAPSET_MAGIC {
            return Err(CapSetError::BadMagic(header.magic));
        }
        if header.version != CAPSET_VERSION {
            return Err(CapSetError::BadVersion(header.version));
        }
        if header.count as usize > MAX_ENTRIES {
            return Err(CapSetError::TooManyEntries(header.count));
        }
        let mut entries = Vec::with_capacity(header.count as usize);
        for index in 0..header.count as usize {
            let offset = size_of::<CapSetHeader>() + index * size_of::<CapSetEntry>();
            let entry = read::<CapSetEntry>(page, offset).ok_or(CapSetError::TooManyEntries(header.count))?;
            let name = entry.name().and_then(|n| core::str::from_utf8(n).ok()).ok_or(CapSetError::BadName { index })?;
            entries.push(CapEntry { name: String::from(name), cap_id: entry.cap_id, interface_id: entry.interface_id });
        }
        let taken = alloc::vec![false; entries.len()];
        let memory = Memory { frame_quota: header.frame_quota, frames_charged: header.frames_charged };
        Ok(CapSet { entries, memory, taken })
    }

    pub fn entries(&self) -> &[CapEntry] {
        &self.entries
    }

    /// The process's memory quota as the kernel wrote it (appendix A.9).
    pub fn memory(&self) -> Memory {
        self.memory
    }

    /// The entry called `name`, if its interface is `interface_id`.
    pub fn find(&self, name: &str, interface_id: u64) -> Result<&CapEntry, Error> {
        let entry =
            self.entries.iter().find(|e| e.name == name).ok_or_else(|| Error::NotGranted(String::from(name)))?;
        if entry.interface_id != interface_id {
            return Err(Error::WrongInterface {
                name: String::from(name),
                expected: interface_name(interface_id),
                found: interface_name(entry.interface_id),
            });
        }
        Ok(entry)
    }

    /// The first entry implementing `interface_id`, whatever its name.
    pub fn find_interface(&self, interface_id: u64) -> Option<&CapEntry> {
        self.entries.iter().find(|e| e.interface_id == interface_id)
    }

    /// Like `find`, and marks the entry as owned by the caller from now on.
    pub fn take(&mut self, name: &str, interface_id: u64) -> Result<u32, Error> {
        let cap_id = self.find(name, interface_id)?.cap_id;
        let index = self.entries.iter().position(|e| e.name == name).expect("found above");
        if core::mem::replace(&mut self.taken[index], true) {
            return Err(Error::AlreadyTaken(String::from(name)));
        }
        Ok(cap_id)
    }
}

/// The CapSet layout structs: repr(C) and integers only, so every bit pattern is a valid value.
trait Plain: Copy {}
impl Plain for CapSetHeader {}
impl Plain for CapSetEntry {}

/// An unaligned read of a plain-data `T` at `offset`, or None past the end.
fn read<T: Plain>(bytes: &[u8], offset: usize) -> Option<T> {
    let end = offset.checked_add(size_of::<T>())?;
    let src = bytes.get(offset..end)?;
    // SAFETY: `src` holds size_of::<T>() bytes and `T: Plain` is valid for any bit pattern;
    // read_unaligned needs no alignment.
    Some(unsafe { core::ptr::read_unaligned(src.as_ptr() as *const T) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use capos_schema::ids::{CONSOLE, TIMER};

    fn page(entries: &[(&str, u32, u64)]) -> Vec<u8> {
        let mut page = alloc::vec![0u8; 4096];
        let header = CapSetHeader {
            magic: CAPSET_MAGIC,
            version: CAPSET_VERSION,
            count: entries.len() as u32,
            _pad: 0,
            frame_quota: 0,
            frames_charged: 0,
        };
        // SAFETY (test): writes plain-data structs into the byte vector at in-range offsets.
        unsafe { core::ptr::write_unaligned(page.as_mut_ptr() as *mut CapSetHeader, header) };
        for (i, (name, id, iface)) in entries.iter().enumerate() {
            let mut entry =
                CapSetEntry { cap_id: *id, _pad: 0, interface_id: *iface, name_len: name.len() as u8, name: [0; 47] };
            entry.name[..name.len()].copy_from_slice(name.as_bytes());
            let at = size_of::<CapSetHeader>() + 64 * i;
            // SAFETY (test): as above.
            unsafe { core::ptr::write_unaligned(page.as_mut_ptr().add(at) as *mut CapSetEntry, entry) };
        }
        page
    }

    #[test]
    fn typed_lookup_checks_the_interface() {
        let set = CapSet::from_bytes(&page(&[("console", 0x10001, CONSOLE), ("clock", 2, TIMER)])).unwrap();
        assert_eq!(set.find("console", CONSOLE).unwrap().cap_id, 0x10001);
        assert_eq!(set.find("timer", TIMER), Err(Error::NotGranted("timer".into())));
        assert_eq!(
            set.find("clock", CONSOLE),
            Err(Error::WrongInterface { name: "clock".into(), expected: "Console", found: "Timer" })
        );
        assert_eq!(set.find_interface(TIMER).unwrap().name, "clock");
    }

    #[test]
    fn take_hands_out_each_cap_once() {
        let mut set = CapSet::from_bytes(&page(&[("console", 1, CONSOLE)])).unwrap();
        assert_eq!(set.take("console", CONSOLE), Ok(1));
        assert_eq!(set.take("console", CONSOLE), Err(Error::AlreadyTaken("console".into())));
    }

    #[test]
    fn memory_is_read_from_the_header_alone() {
        let mut p = page(&[("console", 1, CONSOLE)]);
        p[16..24].copy_from_slice(&5376u64.to_le_bytes());
        p[24..32].copy_from_slice(&77u64.to_le_bytes());
        let memory = Memory { frame_quota: 5376, frames_charged: 77 };
        assert_eq!(CapSet::memory_of(&p), Some(memory));
        assert_eq!(CapSet::from_bytes(&p).unwrap().memory(), memory);
        p[4] = 1; // version 1 had no quota fields
        assert_eq!(CapSet::memory_of(&p), None);
        assert_eq!(CapSet::memory_of(&p[..20]), None);
    }

    #[test]
    fn bad_pages_are_refused() {
        let mut p = page(&[("console", 1, CONSOLE)]);
        p[0] ^= 1;
        assert!(matches!(CapSet::from_bytes(&p), Err(CapSetError::BadMagic(_))));
        let mut p = page(&[("console", 1, CONSOLE)]);
        p[8..12].copy_from_slice(&1000u32.to_le_bytes());
        assert_eq!(CapSet::from_bytes(&p).unwrap_err(), CapSetError::TooManyEntries(1000));
        let mut p = page(&[("console", 1, CONSOLE)]);
        p[size_of::<CapSetHeader>() + 16] = 48; // name_len beyond the 47-byte field
        assert_eq!(CapSet::from_bytes(&p).unwrap_err(), CapSetError::BadName { index: 0 });
        // SAFETY: a null page is documented to mean "no caps" and is not dereferenced.
        assert!(unsafe { CapSet::parse(core::ptr::null()) }.unwrap().entries().is_empty());
    }
}
