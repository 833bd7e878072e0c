//! Kernel access to a process's memory: every byte goes through the process's own page
//! tables, so only what that process may touch is ever read or written, and it works whether
//! or not that space is the one loaded in CR3 (a child's exit completes its parent's call).

use super::paging::{AddressSpace, Populate};
use super::phys_to_virt;
use capos_kcore::usermem::{check_range, MemError, UserMemory};

// region: user-memory
pub struct UserMem<'a>(pub &'a AddressSpace);

impl UserMem<'_> {
    /// Walks `[addr, addr+len)` page by page, handing each chunk's kernel address to `f`.
    fn each(&self, addr: u64, len: u64, write: bool, mut f: impl FnMut(*mut u8, usize, usize)) -> Result<(), MemError> {
        check_range(addr, len)?;
        let mut done = 0u64;
        while done < len {
            let va = addr + done;
            let n = core::cmp::min(4096 - (va & 0xfff), len - done);
            let phys = match self.0.translate(va, write) {
                Some(p) => p,
                None if self.0.populate(va) == Populate::Filled => match self.0.translate(va, write) {
                    Some(p) => p,
                    None => return Err(MemError::ReadOnly),
                },
                None if write && self.0.translate(va, false).is_some() => return Err(MemError::ReadOnly),
                None => return Err(MemError::Unmapped),
            };
            f(phys_to_virt(phys), done as usize, n as usize);
            done += n;
        }
        Ok(())
    }
}

impl UserMemory for UserMem<'_> {
    fn probe(&self, addr: u64, len: u64, write: bool) -> Result<(), MemError> {
        self.each(addr, len, write, |_, _, _| {})
    }

    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), MemError> {
        self.each(addr, buf.len() as u64, false, |src, at, n| {
            // SAFETY: `src` is the direct-map address of n bytes of a mapped user page.
            unsafe { core::ptr::copy_nonoverlapping(src, buf.as_mut_ptr().add(at), n) }
        })
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), MemError> {
        self.probe(addr, data.len() as u64, true)?;
        self.each(addr, data.len() as u64, true, |dst, at, n| {
            // SAFETY: `dst` is the direct-map address of n bytes of a writable user page.
            unsafe { core::ptr::copy_nonoverlapping(data.as_ptr().add(at), dst, n) }
        })
    }
}
// endregion: user-memory
