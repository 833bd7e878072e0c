//! The VirtualMemory cap's decisions (the first piece of issue #17): which ranges a process
//! has reserved in its own address space, which pages of them are committed with which
//! protection, and whether a reserve, commit, protect or release is allowed. The kernel does
//! the mapping; this module says what to map, and refuses every bad argument with a reason.
//!
//! W^X: a page is read, read-write or read-execute, never writable and executable at once,
//! and a page becomes executable only through [`Vmem::protect`], never at commit, so code is
//! written through a read-write mapping and then switched to read-execute explicitly.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

pub const PAGE: u64 = 4096;

// region: prot
/// A page's protection. The wire form is a bit set: read 1, write 2, execute 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prot {
    Read,
    ReadWrite,
    ReadExecute,
}

pub const PROT_READ: u8 = 1;
pub const PROT_WRITE: u8 = 2;
pub const PROT_EXEC: u8 = 4;

impl Prot {
    /// The protection named by wire bits `bits`: W+X and anything else unknown are refused.
    pub fn from_bits(bits: u8) -> Result<Prot, VmError> {
        match bits {
            PROT_READ => Ok(Prot::Read),
            b if b == PROT_READ | PROT_WRITE => Ok(Prot::ReadWrite),
            b if b == PROT_READ | PROT_EXEC => Ok(Prot::ReadExecute),
            b if b & PROT_WRITE != 0 && b & PROT_EXEC != 0 => Err(VmError::WriteExecute),
            b => Err(VmError::UnknownProt(b)),
        }
    }
    pub fn writable(self) -> bool {
        self == Prot::ReadWrite
    }
    pub fn executable(self) -> bool {
        self == Prot::ReadExecute
    }
}
// endregion: prot

// region: errors
/// Why a VirtualMemory call was refused (each becomes an `invalidArgument` reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmError {
    Unaligned {
        addr: u64,
        bytes: u64,
    },
    ZeroLength,
    /// The length, or the range's end, does not fit the window.
    TooLarge {
        bytes: u64,
    },
    /// The range touches the kernel half (or the non-canonical hole above the user half).
    KernelHalf {
        addr: u64,
    },
    /// The range is not inside one reservation of this process.
    NotReserved {
        addr: u64,
        bytes: u64,
    },
    /// A commit over pages that are already committed.
    Overlaps {
        page: u64,
    },
    /// A protect over pages that are not committed.
    NotCommitted {
        page: u64,
    },
    UnknownProt(u8),
    WriteExecute,
    /// Commit never maps executable pages: code is written RW, then protected RX.
    ExecuteAtCommit,
    /// The window has no room for another reservation of that size, or the table is full.
    WindowFull {
        bytes: u64,
    },
}

impl core::fmt::Display for VmError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            VmError::Unaligned { addr, bytes } => {
                write!(f, "address {addr:#x} or length {bytes:#x} is not a multiple of 4096")
            }
            VmError::ZeroLength => f.write_str("length is zero"),
            VmError::TooLarge { bytes } => write!(f, "length {bytes:#x} is too large for the address space"),
            VmError::KernelHalf { addr } => write!(f, "range at {addr:#x} overlaps the kernel half"),
            VmError::NotReserved { addr, bytes } => {
                write!(f, "range {addr:#x}+{bytes:#x} is outside every reservation of this process")
            }
            VmError::Overlaps { page } => write!(f, "page {page:#x} overlaps an existing mapping"),
            VmError::NotCommitted { page } => write!(f, "page {page:#x} is not committed"),
            VmError::UnknownProt(b) => write!(f, "unknown prot {b:#x} (read 1, read-write 3, read-execute 5)"),
            VmError::WriteExecute => f.write_str("W^X: a page is never writable and executable at once"),
            VmError::ExecuteAtCommit => {
                f.write_str("W^X: commit maps read or read-write; make code executable with protect")
            }
            VmError::WindowFull { bytes } => write!(f, "no room to reserve {bytes:#x} bytes"),
        }
    }
}
// endregion: errors

// region: space
/// One process's reservations and committed pages.
pub struct Vmem {
    /// The part of the user half reservations come from: `[start, end)`, used by nothing else.
    start: u64,
    end: u64,
    /// Where the next reservation starts (reservations are never reused: addresses stay unique).
    next: u64,
    /// `(base, bytes)`, in address order.
    reservations: Vec<(u64, u64)>,
    /// Committed pages and their protection; every one holds a frame.
    pages: BTreeMap<u64, Prot>,
}

/// At most this many reservations per process (the table lives on the kernel heap).
pub const MAX_RESERVATIONS: usize = 64;

/// A protection change the kernel must make: rewrite the leaf and flush its TLB entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    pub page: u64,
    pub from: Prot,
    pub to: Prot,
}

impl Vmem {
    /// Reservations come from `[start, end)`, which must be page aligned.
    pub fn new(start: u64, end: u64) -> Vmem {
        debug_assert!(start.is_multiple_of(PAGE) && end.is_multiple_of(PAGE) && start < end);
        Vmem { start, end, next: start, reservations: Vec::new(), pages: BTreeMap::new() }
    }

    /// Pages committed now (frames this cap holds).
    pub fn committed(&self) -> u64 {
        self.pages.len() as u64
    }

    /// A fresh range of `bytes` (a page multiple) that no other mapping uses, nothing mapped yet.
    /// One guard page is left unreserved after each reservation.
    pub fn reserve(&mut self, bytes: u64) -> Result<u64, VmError> {
        if bytes == 0 {
            return Err(VmError::ZeroLength);
        }
        if !bytes.is_multiple_of(PAGE) {
            return Err(VmError::Unaligned { addr: 0, bytes });
        }
        if bytes > self.end - self.start {
            return Err(VmError::TooLarge { bytes });
        }
        if self.reservations.len() >= MAX_RESERVATIONS {
            return Err(VmError::WindowFull { bytes });
        }
        let base = self.next;
        let fits = base.checked_add(bytes).is_some_and(|e| e <= self.end);
        if !fits {
            return Err(VmError::WindowFull { bytes });
        }
        self.next = (base + bytes).saturating_add(PAGE).min(self.end);
        self.reservations.push((base, bytes));
        Ok(base)
    }

    /// Checks `[addr, addr+bytes)`: aligned, non-empty, below the kernel half and inside one
    /// reservation. Returns the end.
    fn range(&self, addr: u64, bytes: u64) -> Result<u64, VmError> {
        if !addr.is_multiple_of(PAGE) || !bytes.is_multiple_of(PAGE) {
            return Err(VmError::Unaligned { addr, bytes });
        }
        if bytes == 0 {
            return Err(VmError::ZeroLength);
        }
        let end = addr.checked_add(bytes).ok_or(VmError::TooLarge { bytes })?;
        if end > capos_abi::addr::USER_END {
            return Err(VmError::KernelHalf { addr });
        }
        let inside = self.reservations.iter().any(|&(b, n)| addr >= b && end <= b + n);
        if !inside {
            return Err(VmError::NotReserved { addr, bytes });
        }
        Ok(end)
    }

    /// The pages a commit must map with fresh zeroed frames; nothing is recorded until
    /// [`Vmem::committed_page`] says a page really is mapped.
    pub fn plan_commit(&self, addr: u64, bytes: u64, prot: Prot) -> Result<core::ops::Range<u64>, VmError> {
        let end = self.range(addr, bytes)?;
        if prot.executable() {
            return Err(VmError::ExecuteAtCommit);
        }
        if let Some((&page, _)) = self.pages.range(addr..end).next() {
            return Err(VmError::Overlaps { page });
        }
        Ok(addr / PAGE..end / PAGE)
    }

    /// Records that `page` (an address) is now mapped with `prot`.
    pub fn committed_page(&mut self, page: u64, prot: Prot) {
        let old = self.pages.insert(page, prot);
        debug_assert!(old.is_none());
    }

    /// The protection changes a protect makes (only pages whose protection differs); refused
    /// unless every page of the range is committed. Applied here; the kernel applies them too.
    pub fn protect(&mut self, addr: u64, bytes: u64, prot: Prot) -> Result<Vec<Change>, VmError> {
        let end = self.range(addr, bytes)?;
        let mut page = addr;
        while page < end {
            if !self.pages.contains_key(&page) {
                return Err(VmError::NotCommitted { page });
            }
            page += PAGE;
        }
        let mut changes = Vec::new();
        for (&page, p) in self.pages.range_mut(addr..end) {
            if *p != prot {
                changes.push(Change { page, from: *p, to: prot });
                *p = prot;
            }
        }
        Ok(changes)
    }

    /// The committed pages in the range, forgotten here; the kernel unmaps and frees them.
    /// Pages of the range that were never committed are simply skipped.
    pub fn release(&mut self, addr: u64, bytes: u64) -> Result<Vec<u64>, VmError> {
        let end = self.range(addr, bytes)?;
        let pages: Vec<u64> = self.pages.range(addr..end).map(|(&p, _)| p).collect();
        for p in &pages {
            self.pages.remove(p);
        }
        Ok(pages)
    }

    /// The protection of a committed page.
    pub fn prot(&self, page: u64) -> Option<Prot> {
        self.pages.get(&page).copied()
    }
}
// endregion: space

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::Rng;

    const START: u64 = 0x6000_0000_0000;
    const END: u64 = 0x7000_0000_0000;
    /// The largest page-aligned length: its end overflows any base.
    const HUGE: u64 = !(PAGE - 1);

    fn commit(v: &mut Vmem, addr: u64, bytes: u64, prot: Prot) -> Result<(), VmError> {
        let pages = v.plan_commit(addr, bytes, prot)?;
        for p in pages {
            v.committed_page(p * PAGE, prot);
        }
        Ok(())
    }

    #[test]
    fn prot_bits_enforce_w_xor_x() {
        assert_eq!(Prot::from_bits(1), Ok(Prot::Read));
        assert_eq!(Prot::from_bits(3), Ok(Prot::ReadWrite));
        assert_eq!(Prot::from_bits(5), Ok(Prot::ReadExecute));
        assert_eq!(Prot::from_bits(7), Err(VmError::WriteExecute));
        assert_eq!(Prot::from_bits(6), Err(VmError::WriteExecute));
        assert_eq!(Prot::from_bits(0), Err(VmError::UnknownProt(0)));
        assert_eq!(Prot::from_bits(8), Err(VmError::UnknownProt(8)));
    }

    #[test]
    fn reservations_are_aligned_disjoint_and_guarded() {
        let mut v = Vmem::new(START, END);
        let a = v.reserve(2 * PAGE).unwrap();
        let b = v.reserve(PAGE).unwrap();
        assert_eq!(a, START);
        assert_eq!(b, START + 3 * PAGE, "one guard page between reservations");
        assert_eq!(v.reserve(0), Err(VmError::ZeroLength));
        assert_eq!(v.reserve(100), Err(VmError::Unaligned { addr: 0, bytes: 100 }));
        assert_eq!(v.reserve(HUGE), Err(VmError::TooLarge { bytes: HUGE }));
    }

    #[test]
    fn every_bad_range_is_refused_with_its_reason() {
        let mut v = Vmem::new(START, END);
        let a = v.reserve(4 * PAGE).unwrap();
        let rw = Prot::ReadWrite;
        assert_eq!(v.plan_commit(a + 1, PAGE, rw), Err(VmError::Unaligned { addr: a + 1, bytes: PAGE }));
        assert_eq!(v.plan_commit(a, 10, rw), Err(VmError::Unaligned { addr: a, bytes: 10 }));
        assert_eq!(v.plan_commit(a, 0, rw), Err(VmError::ZeroLength));
        let huge = HUGE;
        assert_eq!(v.plan_commit(a, huge, rw), Err(VmError::TooLarge { bytes: huge }));
        let kernel = 0xffff_8000_0000_0000;
        assert_eq!(v.plan_commit(kernel, PAGE, rw), Err(VmError::KernelHalf { addr: kernel }));
        let straddle = capos_abi::addr::USER_END - PAGE;
        assert_eq!(v.plan_commit(straddle, 2 * PAGE, rw), Err(VmError::KernelHalf { addr: straddle }));
        assert_eq!(v.plan_commit(a, 5 * PAGE, rw), Err(VmError::NotReserved { addr: a, bytes: 5 * PAGE }));
        assert_eq!(v.plan_commit(0x40_0000, PAGE, rw), Err(VmError::NotReserved { addr: 0x40_0000, bytes: PAGE }));
        assert_eq!(v.plan_commit(a, PAGE, Prot::ReadExecute), Err(VmError::ExecuteAtCommit));
        commit(&mut v, a + PAGE, PAGE, rw).unwrap();
        assert_eq!(v.plan_commit(a, 2 * PAGE, rw), Err(VmError::Overlaps { page: a + PAGE }));
        assert_eq!(v.protect(a, 2 * PAGE, Prot::Read), Err(VmError::NotCommitted { page: a }));
    }

    #[test]
    fn code_is_written_rw_then_switched_to_rx() {
        let mut v = Vmem::new(START, END);
        let a = v.reserve(2 * PAGE).unwrap();
        commit(&mut v, a, 2 * PAGE, Prot::ReadWrite).unwrap();
        let changes = v.protect(a, PAGE, Prot::ReadExecute).unwrap();
        assert_eq!(changes, [Change { page: a, from: Prot::ReadWrite, to: Prot::ReadExecute }]);
        assert_eq!(v.protect(a, PAGE, Prot::ReadExecute).unwrap(), [], "no change, nothing to flush");
        assert_eq!(v.prot(a + PAGE), Some(Prot::ReadWrite));
        assert_eq!(v.release(a, 2 * PAGE).unwrap(), [a, a + PAGE]);
        assert_eq!(v.committed(), 0);
        assert_eq!(v.release(a, 2 * PAGE).unwrap(), [], "releasing twice frees nothing");
    }

    /// Random operations against a page-by-page model: the committed set and protections
    /// agree, no page is ever W+X, a refused operation changes nothing, and reservations
    /// never overlap each other or leave the window.
    #[test]
    fn random_operations_match_a_page_model() {
        for seed in 0..200 {
            let mut rng = Rng::new(seed);
            let mut v = Vmem::new(START, START + 64 * PAGE);
            let mut model: BTreeMap<u64, Prot> = BTreeMap::new();
            let mut reserved: Vec<(u64, u64)> = Vec::new();
            for _ in 0..200 {
                let prots = [Prot::Read, Prot::ReadWrite, Prot::ReadExecute];
                let prot = prots[rng.below(3) as usize];
                let base = reserved.get(rng.below(reserved.len() as u64 + 1) as usize).map_or(START, |r| r.0);
                let addr = base + (rng.below(6) * PAGE) - if rng.below(8) == 0 { PAGE } else { 0 };
                let bytes = rng.below(5) * PAGE + if rng.below(10) == 0 { 1 } else { 0 };
                let in_res = |a: u64, n: u64| reserved.iter().any(|&(b, m)| a >= b && a + n <= b + m);
                let valid = addr.is_multiple_of(PAGE) && bytes.is_multiple_of(PAGE) && bytes > 0 && in_res(addr, bytes);
                let pages: Vec<u64> = (0..bytes / PAGE).map(|i| addr + i * PAGE).collect();
                match rng.below(4) {
                    0 => {
                        let n = (1 + rng.below(8)) * PAGE;
                        if let Ok(b) = v.reserve(n) {
                            assert!(b >= START && b + n <= START + 64 * PAGE);
                            assert!(reserved.iter().all(|&(c, m)| b + n <= c || c + m <= b));
                            reserved.push((b, n));
                        }
                    }
                    1 => {
                        let ok = valid && !prot.executable() && pages.iter().all(|p| !model.contains_key(p));
                        assert_eq!(commit(&mut v, addr, bytes, prot).is_ok(), ok, "seed {seed}");
                        if ok {
                            for &p in &pages {
                                model.insert(p, prot);
                            }
                        }
                    }
                    2 => {
                        let ok = valid && pages.iter().all(|p| model.contains_key(p));
                        let r = v.protect(addr, bytes, prot);
                        assert_eq!(r.is_ok(), ok, "seed {seed}");
                        if let Ok(changes) = r {
                            let want = pages.iter().filter(|p| model[p] != prot).count();
                            assert_eq!(changes.len(), want);
                            for &p in &pages {
                                model.insert(p, prot);
                            }
                        }
                    }
                    _ => {
                        let r = v.release(addr, bytes);
                        assert_eq!(r.is_ok(), valid, "seed {seed}");
                        if let Ok(freed) = r {
                            let want: Vec<u64> = pages.iter().copied().filter(|p| model.contains_key(p)).collect();
                            assert_eq!(freed, want);
                            for p in &pages {
                                model.remove(p);
                            }
                        }
                    }
                }
                assert_eq!(v.committed(), model.len() as u64, "seed {seed}");
                for (&p, &want) in &model {
                    assert_eq!(v.prot(p), Some(want));
                }
            }
        }
    }
}
