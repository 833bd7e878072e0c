//! The read-only CapSet page at `addr::CAPSET_ADDR`: the process's grants, in manifest order.

pub const CAPSET_MAGIC: u32 = 0x5453_4143; // "CAST" little-endian: CApSeT
/// 2: the header also carries the memory quota (appendix A.9).
pub const CAPSET_VERSION: u32 = 2;
pub const NAME_MAX: usize = 47;
pub const MAX_ENTRIES: usize = (4096 - core::mem::size_of::<CapSetHeader>()) / core::mem::size_of::<CapSetEntry>();

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CapSetHeader {
    pub magic: u32,
    pub version: u32,
    pub count: u32,
    pub _pad: u32,
    /// The process's own memory quota in 4 KiB frames; 0 when it shares its parent's.
    pub frame_quota: u64,
    /// Frames its address space held when this page was written (this page included).
    pub frames_charged: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct CapSetEntry {
    pub cap_id: u32,
    pub _pad: u32,
    pub interface_id: u64,
    pub name_len: u8,
    pub name: [u8; NAME_MAX],
}

impl CapSetEntry {
    /// The entry's name, or None when the length byte is out of range.
    pub fn name(&self) -> Option<&[u8]> {
        self.name.get(..self.name_len as usize)
    }
}

const _: () = assert!(core::mem::size_of::<CapSetHeader>() == 32);
const _: () = assert!(core::mem::size_of::<CapSetEntry>() == 64);
