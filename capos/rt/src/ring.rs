//! The ring page seen from userspace: push SQEs, pop CQEs.
//!
//! The page is shared with the kernel, so every access is volatile (entries) or atomic (indices),
//! and indices are read from the page each time: if they were corrupted, this code sees what the
//! kernel sees.
use capos_abi::ring::{Cqe, RingHeader, Sqe, CQ_ENTRIES, CQ_OFFSET, SQ_ENTRIES, SQ_OFFSET};
use core::mem::offset_of;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, Ordering};

pub struct Ring {
    base: NonNull<u8>,
}

/// The submission queue has no free slot.
#[derive(Debug, PartialEq, Eq)]
pub struct RingFull;

impl Ring {
    /// # Safety
    /// `base` points at a 4 KiB ring page, 8-byte aligned, that stays mapped while the `Ring`
    /// lives; only this `Ring` and the kernel write it.
    pub unsafe fn new(base: *mut u8) -> Ring {
        Ring { base: NonNull::new(base).expect("ring address is not null") }
    }

    fn index(&self, offset: usize) -> &AtomicU32 {
        // SAFETY: offset is one of RingHeader's u32 fields inside the page (see `new`), 4-aligned.
        unsafe { &*(self.base.as_ptr().add(offset) as *const AtomicU32) }
    }

    pub fn sq_head(&self) -> u32 {
        self.index(offset_of!(RingHeader, sq_head)).load(Ordering::Acquire)
    }
    pub fn sq_tail(&self) -> u32 {
        self.index(offset_of!(RingHeader, sq_tail)).load(Ordering::Relaxed)
    }
    pub fn cq_head(&self) -> u32 {
        self.index(offset_of!(RingHeader, cq_head)).load(Ordering::Relaxed)
    }
    pub fn cq_tail(&self) -> u32 {
        self.index(offset_of!(RingHeader, cq_tail)).load(Ordering::Acquire)
    }

    /// Writes the SQ tail as is: for tests of the kernel's handling of corrupted indices.
    pub fn set_sq_tail(&self, tail: u32) {
        self.index(offset_of!(RingHeader, sq_tail)).store(tail, Ordering::Release);
    }
    /// Writes the CQ head as is (same purpose as `set_sq_tail`).
    pub fn set_cq_head(&self, head: u32) {
        self.index(offset_of!(RingHeader, cq_head)).store(head, Ordering::Release);
    }

    /// Queues one SQE.
    pub fn push(&mut self, sqe: &Sqe) -> Result<(), RingFull> {
        let tail = self.sq_tail();
        if tail.wrapping_sub(self.sq_head()) >= SQ_ENTRIES {
            return Err(RingFull);
        }
        let slot = SQ_OFFSET + (tail % SQ_ENTRIES) as usize * size_of::<Sqe>();
        // SAFETY: the slot lies inside the page; SQ_OFFSET and the entry size keep it aligned.
        unsafe { core::ptr::write_volatile(self.base.as_ptr().add(slot) as *mut Sqe, *sqe) };
        // Release: the kernel must see the entry before the new tail.
        self.set_sq_tail(tail.wrapping_add(1));
        Ok(())
    }

    /// Takes the oldest CQE, if any. Indices more than a queue apart were written over (by this process: a
    /// result buffer it aimed at its own ring, say): like the kernel, it then takes the head to be the tail
    /// and returns nothing, instead of reading garbage for up to 2^32 entries.
    pub fn pop(&mut self) -> Option<Cqe> {
        let (head, tail) = (self.cq_head(), self.cq_tail());
        if head == tail {
            return None;
        }
        if tail.wrapping_sub(head) > CQ_ENTRIES {
            self.set_cq_head(tail);
            return None;
        }
        let slot = CQ_OFFSET + (head % CQ_ENTRIES) as usize * size_of::<Cqe>();
        // SAFETY: inside the page and aligned, as in `push`; the Acquire load of cq_tail above
        // orders this read after the kernel's write of the entry.
        let cqe = unsafe { core::ptr::read_volatile(self.base.as_ptr().add(slot) as *const Cqe) };
        self.set_cq_head(head.wrapping_add(1));
        Some(cqe)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use alloc::boxed::Box;

    #[repr(C, align(4096))]
    pub(crate) struct Page(pub [u8; 4096]);

    pub(crate) fn page() -> Box<Page> {
        Box::new(Page([0; 4096]))
    }

    /// Plays the kernel: completes every queued SQE with `result`, echoing user_data.
    pub(crate) fn complete_all(page: &mut Page, result: i32) {
        let header = page.0.as_mut_ptr() as *mut RingHeader;
        // SAFETY: the test owns the page; no Ring method runs concurrently.
        unsafe {
            while (*header).sq_head != (*header).sq_tail {
                let sqe =
                    *(page.0.as_ptr().add(SQ_OFFSET + ((*header).sq_head % SQ_ENTRIES) as usize * 64) as *const Sqe);
                (*header).sq_head = (*header).sq_head.wrapping_add(1);
                let cqe = Cqe { user_data: sqe.user_data, result, ..Cqe::default() };
                let slot = CQ_OFFSET + ((*header).cq_tail % CQ_ENTRIES) as usize * 32;
                *(page.0.as_mut_ptr().add(slot) as *mut Cqe) = cqe;
                (*header).cq_tail = (*header).cq_tail.wrapping_add(1);
            }
        }
    }

    #[test]
    fn push_until_full_then_complete_in_order() {
        let mut p = page();
        // SAFETY: the page outlives the ring in this test.
        let mut ring = unsafe { Ring::new(p.0.as_mut_ptr()) };
        for i in 0..SQ_ENTRIES {
            ring.push(&Sqe { user_data: i as u64 + 1, ..Sqe::default() }).unwrap();
        }
        assert_eq!(ring.push(&Sqe::default()), Err(RingFull));
        complete_all(&mut p, 7);
        for i in 0..SQ_ENTRIES {
            let cqe = ring.pop().unwrap();
            assert_eq!((cqe.user_data, cqe.result), (i as u64 + 1, 7));
        }
        assert_eq!(ring.pop(), None);
    }

    #[test]
    fn impossible_cq_indices_are_reset_not_read() {
        let mut p = page();
        // SAFETY: as above.
        let mut ring = unsafe { Ring::new(p.0.as_mut_ptr()) };
        ring.push(&Sqe { user_data: 5, ..Sqe::default() }).unwrap();
        complete_all(&mut p, 0);
        // a head past the tail: 2^32 - 1 entries "waiting"
        ring.set_cq_head(ring.cq_tail().wrapping_add(1));
        assert_eq!(ring.pop(), None);
        assert_eq!(ring.cq_head(), ring.cq_tail());
        // and the ring works on
        ring.push(&Sqe { user_data: 6, ..Sqe::default() }).unwrap();
        complete_all(&mut p, 0);
        assert_eq!(ring.pop().map(|c| c.user_data), Some(6));
    }

    #[test]
    fn indices_wrap_around_u32() {
        let mut p = page();
        for field in [0usize, 4, 8, 12] {
            p.0[field..field + 4].copy_from_slice(&(u32::MAX - 1).to_le_bytes());
        }
        // SAFETY: as above.
        let mut ring = unsafe { Ring::new(p.0.as_mut_ptr()) };
        for i in 0..4u64 {
            ring.push(&Sqe { user_data: i, ..Sqe::default() }).unwrap();
        }
        complete_all(&mut p, 0);
        let got: alloc::vec::Vec<u64> = core::iter::from_fn(|| ring.pop()).map(|c| c.user_data).collect();
        assert_eq!(got, [0, 1, 2, 3]);
        assert_eq!(ring.sq_tail(), 2);
    }
}
