//! The global allocator with a high-water mark: linked_list_allocator's heap, plus the most
//! bytes it ever had allocated at once (capos-wasm's benchmark reports it per instance, W.8).
use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicUsize, Ordering};

pub struct CountingHeap {
    pub(crate) heap: linked_list_allocator::LockedHeap,
    used: AtomicUsize,
    peak: AtomicUsize,
}

impl CountingHeap {
    pub const fn empty() -> Self {
        Self { heap: linked_list_allocator::LockedHeap::empty(), used: AtomicUsize::new(0), peak: AtomicUsize::new(0) }
    }
}

// SAFETY: every call is forwarded to linked_list_allocator's GlobalAlloc unchanged; the counters
// only observe the sizes of successful calls.
unsafe impl GlobalAlloc for CountingHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds GlobalAlloc's contract, which we pass on.
        let p = unsafe { self.heap.alloc(layout) };
        if !p.is_null() {
            let now = self.used.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            self.peak.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for alloc.
        unsafe { self.heap.dealloc(ptr, layout) };
        self.used.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

/// Bytes allocated now, and the most allocated at once since the last [`reset_peak`].
#[cfg(all(feature = "runtime", not(test)))]
pub fn stats() -> (usize, usize) {
    let a = &crate::ALLOCATOR;
    (a.used.load(Ordering::Relaxed), a.peak.load(Ordering::Relaxed))
}

/// Starts a new high-water mark at the current use.
#[cfg(all(feature = "runtime", not(test)))]
pub fn reset_peak() {
    let a = &crate::ALLOCATOR;
    a.peak.store(a.used.load(Ordering::Relaxed), Ordering::Relaxed);
}
