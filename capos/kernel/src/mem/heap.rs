//! The kernel heap (`alloc` for the kernel): kcore's free list over a contiguous run of frames.

use crate::kcell::KCell;
use capos_kcore::heap::FreeList;
use core::alloc::{GlobalAlloc, Layout};

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
