//! The kernel heap (`alloc` for the kernel): kcore's free list over a contiguous run of frames.
//!
//! Every allocation a process can cause is bounded, and the kernel turns running low into an
//! error for the process that asked, never a panic (appendix A.9): a CALL is admitted only while
//! [`LOW_WATER`] bytes are free, and no one call allocates that much.

use crate::kcell::KCell;
use capos_kcore::heap::FreeList;
use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicUsize, Ordering};

/// Heap size: room for cap tables, process records, messages in flight and manifest decoding.
pub const HEAP_SIZE: u64 = 32 << 20;

struct KernelHeap(KCell<FreeList>);

#[global_allocator]
static HEAP: KernelHeap = KernelHeap(KCell::new(FreeList::empty()));

// SAFETY: FreeList returns disjoint, suitably aligned blocks inside memory given to it.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.0.borrow_mut().alloc(layout.size(), layout.align())
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: GlobalAlloc's contract: ptr/layout come from `alloc` above.
        unsafe { self.0.borrow_mut().dealloc(ptr, layout.size()) }
    }
}

/// Gives the heap its memory; panics at boot when RAM is too small.
pub fn init() {
    let frames = HEAP_SIZE / 4096;
    let start = super::frame::alloc_contiguous(frames).expect("no contiguous memory for the kernel heap");
    // SAFETY: the frames were just taken from the allocator and are never handed out again.
    unsafe { HEAP.0.borrow_mut().add_region(super::phys_to_virt(start) as usize, HEAP_SIZE as usize) };
}

// region: low-water
/// Free heap below which every CALL is refused: far more than one call can allocate (its params
/// of at most 64 KiB, its reply, the records of a spawn), so an admitted call never finds the
/// heap empty, and the kernel's own work (exits, IPC delivery, timers) always has room.
pub const LOW_WATER: usize = 2 << 20;

/// Free heap bytes now.
pub fn free_bytes() -> usize {
    HEAP.0.borrow_mut().free_bytes()
}

/// Whether a CALL may go ahead; `Err` says how low the heap is, for an `overloaded` answer.
pub fn admit() -> Result<(), usize> {
    match free_bytes() {
        free if free >= LOW_WATER => Ok(()),
        free => Err(free),
    }
}

/// Free bytes when init started, for [`report`].
static AT_INIT: AtomicUsize = AtomicUsize::new(0);

/// init is about to start: the heap's low mark starts here.
pub fn mark_init_start() {
    let mut heap = HEAP.0.borrow_mut();
    heap.reset_lowest();
    AT_INIT.store(heap.free_bytes(), Ordering::Relaxed);
}

/// The kernel-heap line printed when init exits: how full it ever got while init's system ran.
pub fn report() {
    let heap = HEAP.0.borrow_mut();
    let (start, end, lowest) = (AT_INIT.load(Ordering::Relaxed), heap.free_bytes(), heap.lowest_free());
    drop(heap);
    crate::klog!(
        "heap: {} KiB free when init started, {} at its end, lowest {} KiB (refusals below {} KiB)",
        start >> 10,
        end >> 10,
        lowest >> 10,
        LOW_WATER >> 10
    );
}
// endregion: low-water
