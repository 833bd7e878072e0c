//! Access to one process's user memory. The kernel implements [`UserMemory`] by walking the
//! process's page tables; tests implement it with a map of fake pages.

use capos_abi::addr::USER_END;

/// Why a user buffer was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemError {
    /// `addr + len` overflows or reaches past the user half.
    OutOfRange,
    /// A page of the range is not mapped for the user.
    Unmapped,
    /// A page of the range is mapped read-only but the kernel must write it.
    ReadOnly,
}

impl core::fmt::Display for MemError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            MemError::OutOfRange => "buffer outside user space",
            MemError::Unmapped => "buffer not mapped",
            MemError::ReadOnly => "buffer not writable",
        })
    }
}

// region: usermem
/// One process's user address space as the kernel sees it. Implementations must refuse any
/// byte that is not mapped user-accessible (and writable, for writes); [`check_range`] has
/// already rejected kernel addresses and overflow before they are called.
pub trait UserMemory {
    /// Checks that every page of `[addr, addr+len)` is mapped for the user (writable if `write`).
    fn probe(&self, addr: u64, len: u64, write: bool) -> Result<(), MemError>;
    /// Copies user bytes at `addr` into `buf`.
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), MemError>;
    /// Copies `data` into user memory at `addr`.
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), MemError>;
}

/// Rejects ranges that overflow or leave the user half. An empty range is always fine.
pub fn check_range(addr: u64, len: u64) -> Result<(), MemError> {
    if len == 0 {
        return Ok(());
    }
    match addr.checked_add(len) {
        Some(end) if end <= USER_END => Ok(()),
        _ => Err(MemError::OutOfRange),
    }
}

/// Validates a user buffer completely: range first, then every page's mapping.
pub fn validate(mem: &dyn UserMemory, addr: u64, len: u64, write: bool) -> Result<(), MemError> {
    check_range(addr, len)?;
    if len == 0 {
        return Ok(());
    }
    mem.probe(addr, len, write)
}
// endregion: usermem

#[cfg(any(test, feature = "fake-memory"))]
pub mod fake {
    //! Sparse fake user memory for tests and the fuzz targets (feature `fake-memory`): 4 KiB
    //! pages, each readable and maybe writable.
    use super::*;
    use alloc::collections::BTreeMap;
    use alloc::vec;
    use alloc::vec::Vec;

    #[derive(Default)]
    pub struct FakeMemory {
        pub pages: BTreeMap<u64, (Vec<u8>, bool)>,
    }

    impl FakeMemory {
        pub fn new() -> Self {
            Self::default()
        }
        pub fn map(&mut self, addr: u64, len: u64, writable: bool) {
            let mut page = addr & !0xfff;
            while page < addr + len {
                self.pages.insert(page, (vec![0; 4096], writable));
                page += 4096;
            }
        }
        fn each<F: FnMut(u64, usize, usize) -> Result<(), MemError>>(
            &self,
            addr: u64,
            len: u64,
            write: bool,
            mut f: F,
        ) -> Result<(), MemError> {
            check_range(addr, len)?;
            let mut done = 0u64;
            while done < len {
                let a = addr + done;
                let page = a & !0xfff;
                let off = (a - page) as usize;
                let n = core::cmp::min(4096 - off as u64, len - done) as usize;
                match self.pages.get(&page) {
                    None => return Err(MemError::Unmapped),
                    Some((_, w)) if write && !*w => return Err(MemError::ReadOnly),
                    Some(_) => {}
                }
                f(page, off, n)?;
                done += n as u64;
            }
            Ok(())
        }
    }

    impl UserMemory for FakeMemory {
        fn probe(&self, addr: u64, len: u64, write: bool) -> Result<(), MemError> {
            self.each(addr, len, write, |_, _, _| Ok(()))
        }
        fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), MemError> {
            let mut pos = 0;
            self.each(addr, buf.len() as u64, false, |page, off, n| {
                buf[pos..pos + n].copy_from_slice(&self.pages[&page].0[off..off + n]);
                pos += n;
                Ok(())
            })
        }
        fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), MemError> {
            self.probe(addr, data.len() as u64, true)?;
            let mut done = 0usize;
            while done < data.len() {
                let a = addr + done as u64;
                let page = a & !0xfff;
                let off = (a - page) as usize;
                let n = core::cmp::min(4096 - off, data.len() - done);
                self.pages.get_mut(&page).unwrap().0[off..off + n].copy_from_slice(&data[done..done + n]);
                done += n;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::FakeMemory;
    use super::*;

    #[test]
    fn rejects_overflow_and_kernel_addresses() {
        assert_eq!(check_range(u64::MAX - 4, 16), Err(MemError::OutOfRange));
        assert_eq!(check_range(0xffff_8000_0000_0000, 8), Err(MemError::OutOfRange));
        assert_eq!(check_range(USER_END - 8, 8), Ok(()));
        assert_eq!(check_range(USER_END - 8, 9), Err(MemError::OutOfRange));
        assert_eq!(check_range(u64::MAX, 0), Ok(()));
    }

    #[test]
    fn validate_checks_every_page_and_write_permission() {
        let mut m = FakeMemory::new();
        m.map(0x1000, 0x1000, true);
        m.map(0x2000, 0x1000, false);
        assert_eq!(validate(&m, 0x1ff0, 0x20, false), Ok(()));
        assert_eq!(validate(&m, 0x1ff0, 0x20, true), Err(MemError::ReadOnly));
        assert_eq!(validate(&m, 0x2ff0, 0x20, false), Err(MemError::Unmapped));
    }
}
