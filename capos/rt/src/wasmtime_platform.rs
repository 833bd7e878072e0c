//! wasmtime's "custom" platform over the VirtualMemory cap (appendix A.8, issue #17).
//!
//! wasmtime's no_std runtime calls a handful of C functions for what an OS would give it: mmap,
//! mprotect and munmap for linear memories and compiled code, a page size, optional memory images
//! (copy-on-write initial data), and two words of thread-local storage. This module defines them,
//! with the signatures of `crates/wasmtime/src/runtime/vm/sys/custom/capi.rs` in wasmtime 48.0.8.
//!
//! A process calls [`install`] with its `vmem` grant before it creates a wasmtime engine. The
//! platform then reserves one large range of address space (reservations cost no frames), and
//! every `wasmtime_mmap_new` takes the next piece of it, never reused, with one unmapped guard
//! page after each. The kernel's rules are the platform's: pages are committed read-write and
//! zeroed, code becomes executable only by an explicit protect, and write plus execute is refused.
//! wasmtime keeps to that on its own (it writes code through a read-write mapping, then asks for
//! read-execute), so a W+X request can only be a bug and fails like any refused call.
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::sync::atomic::{AtomicPtr, Ordering};

use crate::client::{VirtualMemory, VmProt};
use crate::error::Error;

// region: space
/// The page size wasmtime is told, and the kernel's.
pub const PAGE: u64 = 4096;
/// Address space the platform reserves once: 1 TiB of the kernel's 16 TiB window. Each module's
/// code and each linear memory (128 MiB reserved, committed as it grows) takes a fresh piece, and
/// addresses are never reused, so the arena must outlast every mapping a process makes; it costs
/// nothing until pages commit.
pub const ARENA_BYTES: u64 = 1 << 40;

/// wasmtime's protection bits (`WASMTIME_PROT_*`): the same bits the VirtualMemory cap takes.
const PROT_READ: u32 = 1;
const PROT_WRITE: u32 = 2;
const PROT_EXEC: u32 = 4;

/// What the platform needs from the kernel: the VirtualMemory cap's four methods.
pub trait PageOps {
    fn reserve(&self, bytes: u64) -> Result<u64, Error>;
    fn commit(&self, addr: u64, bytes: u64, prot: VmProt) -> Result<(), Error>;
    fn protect(&self, addr: u64, bytes: u64, prot: VmProt) -> Result<(), Error>;
    fn release(&self, addr: u64, bytes: u64) -> Result<(), Error>;
}

impl PageOps for VirtualMemory {
    fn reserve(&self, bytes: u64) -> Result<u64, Error> {
        VirtualMemory::reserve(self, bytes)
    }
    fn commit(&self, addr: u64, bytes: u64, prot: VmProt) -> Result<(), Error> {
        VirtualMemory::commit(self, addr, bytes, prot)
    }
    fn protect(&self, addr: u64, bytes: u64, prot: VmProt) -> Result<(), Error> {
        VirtualMemory::protect(self, addr, bytes, prot)
    }
    fn release(&self, addr: u64, bytes: u64) -> Result<(), Error> {
        VirtualMemory::release(self, addr, bytes)
    }
}

/// `bytes` rounded up to whole pages; `None` if that overflows.
fn round_up(bytes: u64) -> Option<u64> {
    bytes.checked_next_multiple_of(PAGE)
}

/// One `wasmtime_mmap_new` range: the protection of each page, 0 where nothing is committed.
struct Mapping {
    pages: Vec<u8>,
}

/// The arena, its mappings, and the kernel behind them.
pub struct Space<V: PageOps> {
    vm: V,
    next: u64,
    end: u64,
    maps: BTreeMap<u64, Mapping>,
    /// Why the last call failed: wasmtime reports only "os error N"; a host can print this.
    pub last_error: Option<String>,
}

/// A refused call: the code wasmtime sees (never 0, reported as "os error N"), and the reason
/// kept in `last_error`. Codes: 1 an unaligned address or a zero or overflowing length, 2 the
/// arena is used up, 3 the kernel refused (commit, protect or release; the quota, say), 4 a range
/// outside every mapping, 5 a protection other than read, read-write or read-execute (W+X
/// included), 6 [`install`] never ran, 7 a memory image (never created here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub i32, pub String);

fn refused(code: i32, why: impl Into<String>) -> Refused {
    Refused(code, why.into())
}

fn kernel(what: &str, e: Error) -> Refused {
    refused(3, alloc::format!("{what}: {e}"))
}

impl<V: PageOps> Space<V> {
    /// Reserves the arena.
    pub fn new(vm: V) -> Result<Self, Error> {
        let base = vm.reserve(ARENA_BYTES)?;
        Ok(Space { vm, next: base, end: base + ARENA_BYTES, maps: BTreeMap::new(), last_error: None })
    }

    /// A fresh mapping of `size` bytes, committed with `prot` unless `prot` is 0 (reserved only).
    pub fn map_new(&mut self, size: usize, prot: u32) -> Result<u64, Refused> {
        let size = round_up(size as u64).filter(|&n| n > 0);
        let Some(size) = size else {
            return Err(refused(1, alloc::format!("mmap of {size:#x?} bytes: zero or too large")));
        };
        let base = self.next;
        let after = base.checked_add(size).and_then(|e| e.checked_add(PAGE)).filter(|&e| e <= self.end);
        let Some(after) = after else {
            return Err(refused(2, alloc::format!("mmap of {size:#x} bytes: the platform's arena is used up")));
        };
        self.next = after;
        self.maps.insert(base, Mapping { pages: vec![0; (size / PAGE) as usize] });
        if prot != 0 {
            self.set_prot(base, size, prot)?;
        }
        Ok(base)
    }

    /// The mapping holding `[addr, addr+size)` (size rounded up to whole pages, as Linux's
    /// mprotect and munmap do: wasmtime protects a code image of any length) and the index of
    /// its first page there.
    fn find(&mut self, addr: u64, size: u64) -> Result<(u64, usize), Refused> {
        let size = match round_up(size) {
            Some(n) if n > 0 && addr.is_multiple_of(PAGE) => n,
            _ => return Err(refused(1, alloc::format!("range {addr:#x}+{size:#x} is not page aligned"))),
        };
        let found = self.maps.range(..=addr).next_back().map(|(&b, m)| (b, m.pages.len() as u64 * PAGE));
        match found {
            Some((base, len)) if addr.checked_add(size).is_some_and(|e| e <= base + len) => {
                Ok((base, ((addr - base) / PAGE) as usize))
            }
            _ => Err(refused(4, alloc::format!("range {addr:#x}+{size:#x} is not inside one mapping"))),
        }
    }

    /// mprotect: commits what is not committed yet (read-write, zeroed), then sets `prot`; 0
    /// decommits (the pages' frames go back, and they read as zeros when committed again).
    pub fn set_prot(&mut self, addr: u64, size: u64, prot: u32) -> Result<(), Refused> {
        let (base, first) = self.find(addr, size)?;
        let size = round_up(size).unwrap_or(0);
        let count = (size / PAGE) as usize;
        if prot == 0 {
            return self.decommit(base, first, count);
        }
        let want = match prot {
            PROT_READ => VmProt::READ,
            p if p == PROT_READ | PROT_WRITE => VmProt::READ_WRITE,
            p if p == PROT_READ | PROT_EXEC => VmProt::READ_EXECUTE,
            p if p & PROT_WRITE != 0 && p & PROT_EXEC != 0 => {
                return Err(refused(5, "W^X: a page is never writable and executable at once"))
            }
            p => return Err(refused(5, alloc::format!("protection {p:#x} is not read, read-write or read-execute"))),
        };
        let Self { vm, maps, .. } = self;
        let pages = &mut maps.get_mut(&base).expect("found above").pages[first..first + count];
        // Commit each run of uncommitted pages with one call.
        let mut i = 0;
        while i < count {
            if pages[i] != 0 {
                i += 1;
                continue;
            }
            let run = pages[i..].iter().take_while(|&&p| p == 0).count();
            let at = addr + i as u64 * PAGE;
            vm.commit(at, run as u64 * PAGE, VmProt::READ_WRITE).map_err(|e| kernel("commit", e))?;
            pages[i..i + run].fill(VmProt::READ_WRITE.bits);
            i += run;
        }
        if pages.iter().any(|&p| p != want.bits) {
            vm.protect(addr, size, want).map_err(|e| kernel("protect", e))?;
            pages.fill(want.bits);
        }
        Ok(())
    }

    fn decommit(&mut self, base: u64, first: usize, count: usize) -> Result<(), Refused> {
        let Self { vm, maps, .. } = self;
        let pages = &mut maps.get_mut(&base).expect("found by the caller").pages[first..first + count];
        if pages.iter().any(|&p| p != 0) {
            vm.release(base + first as u64 * PAGE, count as u64 * PAGE).map_err(|e| kernel("release", e))?;
            pages.fill(0);
        }
        Ok(())
    }

    /// mmap with MAP_FIXED over part of a mapping: fresh zeroed pages with `prot`.
    pub fn remap(&mut self, addr: u64, size: u64, prot: u32) -> Result<(), Refused> {
        self.set_prot(addr, size, 0)?;
        if prot != 0 {
            self.set_prot(addr, size, prot)?;
        }
        Ok(())
    }

    /// munmap: decommits, and forgets a mapping that is unmapped whole.
    pub fn unmap(&mut self, addr: u64, size: u64) -> Result<(), Refused> {
        let (base, first) = self.find(addr, size)?;
        let size = round_up(size).unwrap_or(0);
        let count = (size / PAGE) as usize;
        self.decommit(base, first, count)?;
        if first == 0 && self.maps.get(&base).is_some_and(|m| m.pages.len() == count) {
            self.maps.remove(&base);
        }
        Ok(())
    }

    /// Pages committed now, over every mapping.
    pub fn committed_pages(&self) -> usize {
        self.maps.values().map(|m| m.pages.iter().filter(|&&p| p != 0).count()).sum()
    }
}
// endregion: space

// region: capi
/// The process's platform, once [`install`] ran.
struct Global(RefCell<Option<Space<VirtualMemory>>>);
// SAFETY: a capOS process has one thread and no signal handlers (capos-rt starts nothing else),
// so the cell is only ever reached from that thread, one call at a time.
unsafe impl Sync for Global {}
static SPACE: Global = Global(RefCell::new(None));

/// Gives the platform this process's VirtualMemory cap; call before creating a wasmtime engine.
pub fn install(vm: VirtualMemory) -> Result<(), Error> {
    let space = Space::new(vm)?;
    *SPACE.0.borrow_mut() = Some(space);
    Ok(())
}

/// Why the platform last refused a call (wasmtime itself says only "os error N").
pub fn last_error() -> Option<String> {
    SPACE.0.borrow().as_ref().and_then(|s| s.last_error.clone())
}

/// Pages the platform has committed now.
pub fn committed_pages() -> usize {
    SPACE.0.borrow().as_ref().map_or(0, |s| s.committed_pages())
}

fn with_space(f: impl FnOnce(&mut Space<VirtualMemory>) -> Result<(), Refused>) -> i32 {
    let mut cell = SPACE.0.borrow_mut();
    let Some(space) = cell.as_mut() else { return 6 };
    match f(space) {
        Ok(()) => 0,
        Err(Refused(code, why)) => {
            space.last_error = Some(why);
            code
        }
    }
}

#[no_mangle]
pub extern "C" fn wasmtime_mmap_new(size: usize, prot_flags: u32, ret: &mut *mut u8) -> i32 {
    with_space(|s| {
        let base = s.map_new(size, prot_flags)?;
        *ret = base as usize as *mut u8;
        Ok(())
    })
}

#[no_mangle]
pub extern "C" fn wasmtime_mmap_remap(addr: *mut u8, size: usize, prot_flags: u32) -> i32 {
    with_space(|s| s.remap(addr as usize as u64, size as u64, prot_flags))
}

#[no_mangle]
pub extern "C" fn wasmtime_munmap(ptr: *mut u8, size: usize) -> i32 {
    with_space(|s| s.unmap(ptr as usize as u64, size as u64))
}

#[no_mangle]
pub extern "C" fn wasmtime_mprotect(ptr: *mut u8, size: usize, prot_flags: u32) -> i32 {
    with_space(|s| s.set_prot(ptr as usize as u64, size as u64, prot_flags))
}

#[no_mangle]
pub extern "C" fn wasmtime_page_size() -> usize {
    PAGE as usize
}

/// Opaque to wasmtime; never created here.
pub enum MemoryImage {}

/// No memory images: wasmtime then copies a module's data segments into each fresh memory
/// instead of mapping them copy-on-write (the engine is also configured with CoW off).
#[no_mangle]
pub extern "C" fn wasmtime_memory_image_new(_ptr: *const u8, _len: usize, ret: &mut *mut MemoryImage) -> i32 {
    *ret = core::ptr::null_mut();
    0
}

/// Never called: no image is ever created. Refuses, should that change.
#[no_mangle]
pub extern "C" fn wasmtime_memory_image_map_at(_image: *mut MemoryImage, _addr: *mut u8, _len: usize) -> i32 {
    7
}

#[no_mangle]
pub extern "C" fn wasmtime_memory_image_free(_image: *mut MemoryImage) {}

/// wasmtime's two TLS words (slot 0: the runtime's state, slot 1: async components). A capOS
/// process has exactly one thread, so process-wide statics are that thread's storage.
static TLS: [AtomicPtr<u8>; 2] = [AtomicPtr::new(core::ptr::null_mut()), AtomicPtr::new(core::ptr::null_mut())];

#[no_mangle]
pub extern "C" fn wasmtime_tls_get(slot: usize) -> *mut u8 {
    TLS.get(slot).map_or(core::ptr::null_mut(), |t| t.load(Ordering::Relaxed))
}

#[no_mangle]
pub extern "C" fn wasmtime_tls_set(slot: usize, ptr: *mut u8) {
    if let Some(t) = TLS.get(slot) {
        t.store(ptr, Ordering::Relaxed);
    }
}
// endregion: capi

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    use core::cell::RefCell;

    /// The kernel's rules in miniature: commit over a committed page, protect of an uncommitted
    /// page, W+X and calls outside the reservation are refused.
    #[derive(Default)]
    struct Kernel {
        reserved: RefCell<Option<(u64, u64)>>,
        pages: RefCell<BTreeMap<u64, u8>>,
        calls: RefCell<Vec<&'static str>>,
    }

    fn no() -> Error {
        Error::BadReply("refused")
    }

    impl Kernel {
        fn inside(&self, addr: u64, bytes: u64) -> bool {
            self.reserved.borrow().is_some_and(|(b, n)| addr >= b && addr + bytes <= b + n)
        }
    }

    impl PageOps for &Kernel {
        fn reserve(&self, bytes: u64) -> Result<u64, Error> {
            *self.reserved.borrow_mut() = Some((0x6000_0000_0000, bytes));
            Ok(0x6000_0000_0000)
        }
        fn commit(&self, addr: u64, bytes: u64, prot: VmProt) -> Result<(), Error> {
            self.calls.borrow_mut().push("commit");
            let mut pages = self.pages.borrow_mut();
            if !self.inside(addr, bytes)
                || prot.bits & 4 != 0
                || (addr..addr + bytes).step_by(4096).any(|p| pages.contains_key(&p))
            {
                return Err(no());
            }
            for p in (addr..addr + bytes).step_by(4096) {
                pages.insert(p, prot.bits);
            }
            Ok(())
        }
        fn protect(&self, addr: u64, bytes: u64, prot: VmProt) -> Result<(), Error> {
            self.calls.borrow_mut().push("protect");
            let mut pages = self.pages.borrow_mut();
            if prot.bits == 7 || (addr..addr + bytes).step_by(4096).any(|p| !pages.contains_key(&p)) {
                return Err(no());
            }
            for p in (addr..addr + bytes).step_by(4096) {
                pages.insert(p, prot.bits);
            }
            Ok(())
        }
        fn release(&self, addr: u64, bytes: u64) -> Result<(), Error> {
            self.calls.borrow_mut().push("release");
            if !self.inside(addr, bytes) {
                return Err(no());
            }
            let mut pages = self.pages.borrow_mut();
            for p in (addr..addr + bytes).step_by(4096) {
                pages.remove(&p);
            }
            Ok(())
        }
    }

    #[test]
    fn code_is_written_then_made_executable_and_never_both() {
        let k = Kernel::default();
        let mut s = Space::new(&k).unwrap();
        let code = s.map_new(3 * 4096, PROT_READ | PROT_WRITE).unwrap();
        assert_eq!(k.pages.borrow().len(), 3);
        s.set_prot(code, 2 * 4096, PROT_READ | PROT_EXEC).unwrap();
        assert_eq!(k.pages.borrow()[&code], 5);
        assert_eq!(k.pages.borrow()[&(code + 2 * 4096)], 3);
        let wx = s.set_prot(code, 4096, PROT_READ | PROT_WRITE | PROT_EXEC).unwrap_err();
        assert_eq!(wx.0, 5);
        assert_eq!(k.pages.borrow()[&code], 5, "a refused call changes nothing");
        // A length that is not a page multiple covers the page it ends in (wasmtime protects a
        // code image of any length).
        s.set_prot(code, 2 * 4096 + 100, PROT_READ).unwrap();
        assert_eq!(k.pages.borrow()[&(code + 2 * 4096)], 1);
    }

    #[test]
    fn a_reserved_mapping_commits_on_mprotect_and_decommits_on_remap() {
        let k = Kernel::default();
        let mut s = Space::new(&k).unwrap();
        let mem = s.map_new(8 * 4096, 0).unwrap();
        assert!(k.pages.borrow().is_empty(), "prot 0 reserves only");
        s.set_prot(mem, 2 * 4096, PROT_READ | PROT_WRITE).unwrap();
        // Growing: the next pages commit, the first two are left alone (no commit over a committed page).
        s.set_prot(mem, 4 * 4096, PROT_READ | PROT_WRITE).unwrap();
        assert_eq!(k.pages.borrow().len(), 4);
        assert_eq!(*k.calls.borrow(), ["commit", "commit"]);
        s.remap(mem, 4 * 4096, 0).unwrap();
        assert!(k.pages.borrow().is_empty());
        assert_eq!(s.committed_pages(), 0);
    }

    #[test]
    fn mappings_never_share_addresses_and_unmap_forgets_them() {
        let k = Kernel::default();
        let mut s = Space::new(&k).unwrap();
        let a = s.map_new(4096, PROT_READ | PROT_WRITE).unwrap();
        let b = s.map_new(4096, PROT_READ | PROT_WRITE).unwrap();
        assert_eq!(b, a + 2 * 4096, "one guard page between mappings");
        s.unmap(a, 4096).unwrap();
        assert_eq!(s.find(a, 4096).unwrap_err().0, 4, "an unmapped range is no longer known");
        let c = s.map_new(4096, 0).unwrap();
        assert!(c > b, "addresses are not reused");
        assert_eq!(s.map_new(0, 0).unwrap_err().0, 1);
        assert_eq!(s.set_prot(b + 1, 4096, PROT_READ).unwrap_err().0, 1, "an unaligned address is refused");
        assert_eq!(s.set_prot(b + 4096, 4096, PROT_READ).unwrap_err().0, 4, "the guard page is in no mapping");
    }
}
