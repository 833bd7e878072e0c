//! Four-level x86_64 page tables for user address spaces. The kernel half (PML4 entries
//! 256-511) is copied from the boot tables into every new space, so those entries point at the
//! same kernel PDPTs everywhere; the user half is private and built here with 4 KiB pages.

use super::account::SharedAccount;
use super::{frame, phys_to_virt};
use capos_kcore::quota::Exhausted;
use core::cell::Cell;

pub const PRESENT: u64 = 1;
pub const WRITABLE: u64 = 1 << 1;
pub const USER: u64 = 1 << 2;
pub const NO_EXECUTE: u64 = 1 << 63;
/// Write-through and cache-disable: the leaf maps device registers, not RAM (appendix A.6).
pub const UNCACHED: u64 = (1 << 3) | (1 << 4);
pub(super) const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

/// A frame could not be had: the space's account is at its limit, or (outside any quota's
/// guarantee, which reservations make impossible) the frame allocator is empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutOfMemory {
    Quota(Exhausted),
    Physical,
}

impl core::fmt::Display for OutOfMemory {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            OutOfMemory::Quota(e) => write!(f, "memory {e} (4 KiB frames)"),
            OutOfMemory::Physical => f.write_str("physical memory exhausted"),
        }
    }
}

/// What [`AddressSpace::populate`] did with a not-present address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Populate {
    /// The page is in a zero range and now has a fresh frame.
    Filled,
    /// The address is in no zero range, or already mapped: a real fault.
    NotLazy,
    /// The page is in a zero range but no frame could be charged.
    OutOfMemory(OutOfMemory),
}

fn table(phys: u64) -> *mut u64 {
    phys_to_virt(phys) as *mut u64
}

pub(super) fn entry(table_phys: u64, index: u64) -> u64 {
    // SAFETY: table_phys is a page-table frame and index < 512.
    unsafe { table(table_phys).add(index as usize).read() }
}

pub(super) fn set_entry(table_phys: u64, index: u64, value: u64) {
    // SAFETY: as for `entry`; the kernel owns every page-table frame.
    unsafe { table(table_phys).add(index as usize).write(value) }
}

pub(super) fn index(va: u64, level: u32) -> u64 {
    (va >> (12 + 9 * level)) & 511
}

// region: address-space
/// One process's page tables, plus the ranges that are mapped on first touch.
pub struct AddressSpace {
    pub pml4: u64,
    /// Zero-filled ranges (.bss, the stack) whose frames are allocated when first touched,
    /// by the process (a not-present page fault) or by the kernel copying into them.
    lazy: alloc::vec::Vec<ZeroRange>,
    /// The last page [`translate`](Self::translate) resolved, so the ring page (read and
    /// written a dozen times per `cap_enter`) is walked once: the page's address with
    /// [`CACHED`] and, if every level allowed writes, [`WRITABLE`] in its low bits, and the
    /// frame. Any change to a mapping must call [`forget`](Self::forget).
    last: Cell<(u64, u64)>,
    /// Whose quota this space's frames are charged to (appendix A.9), and how many it holds.
    account: SharedAccount,
    charged: Cell<u64>,
    /// What the VirtualMemory cap reserved and committed here (issue #17); its pages are
    /// ordinary charged frames, so [`destroy`](Self::destroy) frees them with the rest.
    pub vmem: core::cell::RefCell<capos_kcore::vmem::Vmem>,
}

/// Marks a valid entry in `AddressSpace::last` (page addresses have 12 zero low bits).
const CACHED: u64 = 1;

/// `[start, end)`, page aligned, never executable.
#[derive(Clone, Copy, Debug)]
pub struct ZeroRange {
    pub start: u64,
    pub end: u64,
    pub writable: bool,
}

impl AddressSpace {
    /// A space with the shared kernel half and an empty user half, charging `account`.
    pub fn new(kernel_pml4: u64, account: SharedAccount) -> Result<Self, OutOfMemory> {
        let pml4 = charge_and_alloc(&account)?;
        for i in 256..512 {
            set_entry(pml4, i, entry(kernel_pml4, i));
        }
        let space = AddressSpace {
            pml4,
            lazy: alloc::vec::Vec::new(),
            last: Cell::new((0, 0)),
            account,
            charged: Cell::new(1),
            vmem: core::cell::RefCell::new(capos_kcore::vmem::Vmem::new(
                capos_abi::addr::VMEM_BASE,
                capos_abi::addr::VMEM_END,
            )),
        };
        Ok(space)
    }

    /// A zeroed frame charged to this space's account; [`free_frame`](Self::free_frame) or
    /// [`destroy`](Self::destroy) gives it back.
    pub fn alloc_frame(&self) -> Result<u64, OutOfMemory> {
        let frame = charge_and_alloc(&self.account)?;
        self.charged.set(self.charged.get() + 1);
        Ok(frame)
    }

    /// Frees a frame from [`alloc_frame`](Self::alloc_frame) that was never mapped.
    pub fn free_frame(&self, frame: u64) {
        frame::free(frame);
        self.uncharge(1);
    }

    /// Charges `n` frames the caller takes from the allocator itself (a contiguous DMA run).
    pub fn charge(&self, n: u64) -> Result<(), OutOfMemory> {
        self.account.borrow_mut().frames.charge(n).map_err(OutOfMemory::Quota)?;
        self.charged.set(self.charged.get() + n);
        Ok(())
    }

    /// Gives back `n` frames this space charged.
    pub fn uncharge(&self, n: u64) {
        self.account.borrow_mut().frames.release(n);
        self.charged.set(self.charged.get() - n);
    }

    /// The account this space charges.
    pub fn account(&self) -> &SharedAccount {
        &self.account
    }

    /// Frames this space holds now.
    pub fn charged(&self) -> u64 {
        self.charged.get()
    }

    /// Declares a zero-filled range that costs no memory until touched.
    pub fn add_zero_range(&mut self, range: ZeroRange) {
        self.lazy.push(range);
    }

    /// Backs the page containing `va` with a fresh zeroed frame if it lies in a zero range
    /// and is not mapped yet, charging the frame (and any page table it needs) to the account.
    pub fn populate(&self, va: u64) -> Populate {
        let Some(r) = self.lazy.iter().find(|r| va >= r.start && va < r.end) else { return Populate::NotLazy };
        let page = va & !0xfff;
        if self.translate(page, false).is_some() {
            return Populate::NotLazy;
        }
        let frame = match self.alloc_frame() {
            Ok(f) => f,
            Err(e) => return Populate::OutOfMemory(e),
        };
        if let Err(e) = self.map(page, frame, r.writable, false) {
            self.free_frame(frame);
            return Populate::OutOfMemory(e);
        }
        Populate::Filled
    }

    /// Maps the user page at `va` to `phys`. Intermediate tables allow everything; the leaf
    /// entry carries the real permissions (W^X: never writable and executable at once).
    ///
    /// Takes `&self`: the tables live in frames reached through the direct map, not in this
    /// struct, and the kernel never runs two operations on one space at once.
    pub fn map(&self, va: u64, phys: u64, writable: bool, executable: bool) -> Result<(), OutOfMemory> {
        debug_assert!(!(writable && executable));
        self.forget();
        let mut t = self.pml4;
        for level in (1..4).rev() {
            let i = index(va, level);
            let e = entry(t, i);
            t = if e & PRESENT != 0 {
                e & ADDR_MASK
            } else {
                let next = self.alloc_frame()?;
                set_entry(t, i, next | PRESENT | WRITABLE | USER);
                next
            };
        }
        let mut leaf = phys | PRESENT | USER;
        if writable {
            leaf |= WRITABLE;
        }
        if !executable {
            leaf |= NO_EXECUTE;
        }
        set_entry(t, index(va, 0), leaf);
        Ok(())
    }

    /// Maps device registers at `va`: uncached, never executable. The frame is not RAM from
    /// the allocator, so the device release must [`AddressSpace::unmap`] it before `destroy`.
    pub fn map_device(&self, va: u64, phys: u64) -> Result<(), OutOfMemory> {
        self.map(va, phys, true, false)?;
        let leaf = self.leaf(va).expect("just mapped");
        set_entry(leaf.0, leaf.1, entry(leaf.0, leaf.1) | UNCACHED);
        self.forget();
        // SAFETY: invlpg only drops a translation.
        unsafe { core::arch::asm!("invlpg [{}]", in(reg) va, options(nostack)) };
        Ok(())
    }

    /// Rewrites the protection of the mapped user page at `va` and flushes its TLB entry, so a
    /// page switched from read-write to read-execute is never still writable through a stale
    /// translation (W^X: never both).
    pub fn set_prot(&self, va: u64, writable: bool, executable: bool) -> bool {
        debug_assert!(!(writable && executable));
        let Some((t, i)) = self.leaf(va) else { return false };
        let e = entry(t, i);
        if e & PRESENT == 0 {
            return false;
        }
        let mut leaf = (e & !(WRITABLE | NO_EXECUTE)) | if writable { WRITABLE } else { 0 };
        if !executable {
            leaf |= NO_EXECUTE;
        }
        set_entry(t, i, leaf);
        self.forget();
        // SAFETY: invlpg only drops a translation.
        unsafe { core::arch::asm!("invlpg [{}]", in(reg) va, options(nostack)) };
        true
    }

    /// Removes the user mapping at `va` without freeing its frame; returns that frame.
    pub fn unmap(&self, va: u64) -> Option<u64> {
        let (t, i) = self.leaf(va)?;
        let e = entry(t, i);
        if e & PRESENT == 0 {
            return None;
        }
        set_entry(t, i, 0);
        self.forget();
        // SAFETY: invlpg only drops a translation (a stale one for this space when it is loaded).
        unsafe { core::arch::asm!("invlpg [{}]", in(reg) va, options(nostack)) };
        Some(e & ADDR_MASK)
    }

    /// The page table and index holding the leaf entry for `va`, if its tables exist.
    fn leaf(&self, va: u64) -> Option<(u64, u64)> {
        if va >= capos_abi::addr::USER_END {
            return None;
        }
        let mut t = self.pml4;
        for level in (1..4).rev() {
            let e = entry(t, index(va, level));
            if e & PRESENT == 0 {
                return None;
            }
            t = e & ADDR_MASK;
        }
        Some((t, index(va, 0)))
    }

    /// The physical address behind user address `va`, if mapped for the user (and writable
    /// when `write`).
    pub fn translate(&self, va: u64, write: bool) -> Option<u64> {
        if va >= capos_abi::addr::USER_END {
            return None;
        }
        let page = va & !0xfff;
        let (tag, frame) = self.last.get();
        if tag & !0xfff == page && tag & CACHED != 0 && (!write || tag & WRITABLE != 0) {
            return Some(frame | (va & 0xfff));
        }
        let mut t = self.pml4;
        let mut writable = true;
        for level in (0..4).rev() {
            let e = entry(t, index(va, level));
            if e & PRESENT == 0 || e & USER == 0 || (write && e & WRITABLE == 0) {
                return None;
            }
            writable &= e & WRITABLE != 0;
            if level == 0 {
                self.last.set((page | CACHED | if writable { WRITABLE } else { 0 }, e & ADDR_MASK));
                return Some((e & ADDR_MASK) | (va & 0xfff));
            }
            t = e & ADDR_MASK;
        }
        None
    }

    /// Drops the cached translation (every function that changes a mapping calls this first).
    pub fn forget(&self) {
        self.last.set((0, 0));
    }

    /// Frees every user page and user page table, then the PML4 itself, and gives their
    /// charge back to the account (device registers were unmapped before this, and DMA runs
    /// gave back their own charge when the device layer freed them).
    pub fn destroy(self) {
        let freed = free_level(self.pml4, 3, 256) + 1;
        frame::free(self.pml4);
        debug_assert_eq!(freed, self.charged.get(), "frames freed and frames charged differ");
        self.account.borrow_mut().frames.release(self.charged.get());
    }
}

/// One frame from the allocator, charged to `account` first (and uncharged when none is left).
fn charge_and_alloc(account: &SharedAccount) -> Result<u64, OutOfMemory> {
    account.borrow_mut().frames.charge(1).map_err(OutOfMemory::Quota)?;
    frame::alloc().ok_or_else(|| {
        account.borrow_mut().frames.release(1);
        OutOfMemory::Physical
    })
}

/// Frees the frames mapped under entries `0..limit` of a table at `level` (3 = PML4), and says
/// how many.
fn free_level(t: u64, level: u32, limit: u64) -> u64 {
    let mut freed = 0;
    for i in 0..limit {
        let e = entry(t, i);
        if e & PRESENT == 0 {
            continue;
        }
        let child = e & ADDR_MASK;
        if level > 0 {
            freed += free_level(child, level - 1, 512);
        }
        frame::free(child);
        freed += 1;
    }
    freed
}
// endregion: address-space

/// Removes the boot identity map (PML4 entry 0) so a null or low pointer in the kernel faults,
/// and returns the PML4 that now serves as the kernel-half template.
pub fn forget_identity_map(boot_pml4: u64) -> u64 {
    set_entry(boot_pml4, 0, 0);
    // SAFETY: reloading CR3 with the same tables flushes the stale identity translations; the
    // kernel runs entirely in the higher half by now.
    unsafe { crate::arch::cpu::set_cr3(boot_pml4) };
    boot_pml4
}
