//! Building the read-only CapSet page a process finds at `addr::CAPSET_ADDR`.

use capos_abi::capset::{CAPSET_MAGIC, CAPSET_VERSION, MAX_ENTRIES, NAME_MAX};

/// Why a CapSet could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapSetError {
    /// More grants than fit in one page.
    TooMany,
    /// A grant name is empty or longer than `NAME_MAX` bytes.
    BadName,
}

impl core::fmt::Display for CapSetError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            CapSetError::TooMany => "too many grants for the capset page",
            CapSetError::BadName => "grant name empty or longer than 47 bytes",
        })
    }
}

/// One grant as it appears on the page.
pub struct Grant<'a> {
    pub name: &'a [u8],
    pub cap_id: u32,
    pub interface_id: u64,
}

/// What the header says about the process's memory (appendix A.9).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Memory {
    /// Its own quota in frames, 0 when it shares its parent's.
    pub frame_quota: u64,
    /// Frames charged when the page is written, the page itself included.
    pub frames_charged: u64,
}

const HEADER: usize = core::mem::size_of::<capos_abi::capset::CapSetHeader>();

// region: capset
/// Lays out header and entries (in grant order) exactly as `capos_abi::capset` declares them.
pub fn build(grants: &[Grant<'_>], memory: Memory) -> Result<[u8; 4096], CapSetError> {
    if grants.len() > MAX_ENTRIES {
        return Err(CapSetError::TooMany);
    }
    let mut page = [0u8; 4096];
    page[0..4].copy_from_slice(&CAPSET_MAGIC.to_le_bytes());
    page[4..8].copy_from_slice(&CAPSET_VERSION.to_le_bytes());
    page[8..12].copy_from_slice(&(grants.len() as u32).to_le_bytes());
    page[16..24].copy_from_slice(&memory.frame_quota.to_le_bytes());
    page[24..32].copy_from_slice(&memory.frames_charged.to_le_bytes());
    for (i, g) in grants.iter().enumerate() {
        if g.name.is_empty() || g.name.len() > NAME_MAX {
            return Err(CapSetError::BadName);
        }
        let e = &mut page[HEADER + i * 64..HEADER + (i + 1) * 64];
        e[0..4].copy_from_slice(&g.cap_id.to_le_bytes());
        e[8..16].copy_from_slice(&g.interface_id.to_le_bytes());
        e[16] = g.name.len() as u8;
        e[17..17 + g.name.len()].copy_from_slice(g.name);
    }
    Ok(page)
}
// endregion: capset

#[cfg(test)]
mod tests {
    use super::*;
    use capos_abi::capset::{CapSetEntry, CapSetHeader};

    #[test]
    fn layout_matches_abi_structs() {
        let memory = Memory { frame_quota: 4096, frames_charged: 37 };
        let page = build(
            &[
                Grant { name: b"console", cap_id: 0x10000, interface_id: 0xdead_beef_0000_0001 },
                Grant { name: b"timer", cap_id: 0x10001, interface_id: 7 },
            ],
            memory,
        )
        .unwrap();
        // SAFETY: the page is 4096 bytes and both structs are plain repr(C) integers; unaligned reads.
        let h: CapSetHeader = unsafe { core::ptr::read_unaligned(page.as_ptr() as *const CapSetHeader) };
        assert_eq!((h.magic, h.version, h.count), (CAPSET_MAGIC, CAPSET_VERSION, 2));
        assert_eq!((h.frame_quota, h.frames_charged), (4096, 37));
        // SAFETY: as above; entry 1 lies one header and one entry in.
        let e: CapSetEntry = unsafe { core::ptr::read_unaligned(page.as_ptr().add(HEADER + 64) as *const CapSetEntry) };
        assert_eq!(e.cap_id, 0x10001);
        assert_eq!(e.interface_id, 7);
        assert_eq!(e.name(), Some(&b"timer"[..]));
    }

    #[test]
    fn rejects_bad_names_and_too_many() {
        let long = [b'x'; 48];
        assert_eq!(
            build(&[Grant { name: &long, cap_id: 1, interface_id: 1 }], Memory::default()),
            Err(CapSetError::BadName)
        );
        assert_eq!(
            build(&[Grant { name: b"", cap_id: 1, interface_id: 1 }], Memory::default()),
            Err(CapSetError::BadName)
        );
        let max = [b'y'; 47];
        assert!(build(&[Grant { name: &max, cap_id: 1, interface_id: 1 }], Memory::default()).is_ok());
        let many: Vec<Grant> = (0..MAX_ENTRIES + 1).map(|_| Grant { name: b"a", cap_id: 1, interface_id: 1 }).collect();
        assert_eq!(build(&many, Memory::default()), Err(CapSetError::TooMany));
        assert!(build(&many[..MAX_ENTRIES], Memory::default()).is_ok());
    }
}
