//! The global allocator with a high-water mark: linked_list_allocator's heap, plus the most
//! bytes it ever had allocated at once (capos-wasm's benchmark reports it per instance, W.8).
use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicUsize, Ordering};

/// The heap the binary declared with `heap!`, and the part of it its memory quota let the
/// allocator have (A.9's `heap_budget`); set once at start.
static DECLARED: AtomicUsize = AtomicUsize::new(0);
static USABLE: AtomicUsize = AtomicUsize::new(0);

/// Records the heap's two sizes (the runtime's start does, before anything allocates).
pub fn set_bound(declared: usize, usable: usize) {
    DECLARED.store(declared, Ordering::Relaxed);
    USABLE.store(usable, Ordering::Relaxed);
}

/// (declared bytes, usable bytes): what `heap!` asked for, and what the quota leaves of it.
pub fn bound() -> (usize, usize) {
    (DECLARED.load(Ordering::Relaxed), USABLE.load(Ordering::Relaxed))
}

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
