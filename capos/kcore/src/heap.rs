//! The kernel heap: an address-ordered first-fit free list with coalescing, over one region.
//!
//! Free blocks store their size and the next block in their own first 16 bytes, so the heap
//! needs no memory besides the region. Every block is a multiple of 16 bytes and 16-aligned.

use core::ptr::null_mut;

const UNIT: usize = 16;

#[repr(C)]
struct Free {
    size: usize,
    next: *mut Free,
}

// region: heap
pub struct FreeList {
    head: *mut Free,
    /// Bytes on the list, kept as blocks come and go (the kernel reads it on every call, A.9).
    free: usize,
    /// The fewest free bytes since [`FreeList::reset_lowest`].
    lowest: usize,
}

// SAFETY: the list is only reached through `&mut self`; the kernel wraps it in a lock-like cell.
unsafe impl Send for FreeList {}

impl FreeList {
    pub const fn empty() -> Self {
        FreeList { head: null_mut(), free: 0, lowest: 0 }
    }

    /// Adds `[start, start+len)` to the heap (trimmed to 16-byte units).
    ///
    /// # Safety
    /// The region must be writable memory owned by the heap from now on, not overlapping any
    /// region added before.
    pub unsafe fn add_region(&mut self, start: usize, len: usize) {
        let begin = (start + UNIT - 1) & !(UNIT - 1);
        let end = (start + len) & !(UNIT - 1);
        if end > begin {
            // SAFETY: the caller hands over the region.
            unsafe { self.release(begin, end - begin) };
            self.free += end - begin;
            self.lowest = self.lowest.max(self.free);
        }
    }

    fn round(size: usize) -> usize {
        (size.max(1) + UNIT - 1) & !(UNIT - 1)
    }

    /// Allocates `size` bytes aligned to `align` (a power of two); null when nothing fits.
    pub fn alloc(&mut self, size: usize, align: usize) -> *mut u8 {
        let size = Self::round(size);
        let align = align.max(UNIT);
        let mut prev: *mut *mut Free = &mut self.head;
        // SAFETY: every node on the list is a free block inside a region given to add_region.
        unsafe {
            while !(*prev).is_null() {
                let block = *prev;
                let start = block as usize;
                let end = start + (*block).size;
                let aligned = (start + align - 1) & !(align - 1);
                if aligned.checked_add(size).is_some_and(|e| e <= end) {
                    let next = (*block).next;
                    *prev = next;
                    if aligned + size < end {
                        self.release(aligned + size, end - aligned - size);
                    }
                    if aligned > start {
                        self.release(start, aligned - start);
                    }
                    self.free -= size;
                    self.lowest = self.lowest.min(self.free);
                    return aligned as *mut u8;
                }
                prev = &mut (*block).next;
            }
        }
        null_mut()
    }

    /// Returns a block from [`FreeList::alloc`].
    ///
    /// # Safety
    /// `ptr` and `size` must come from a live allocation of this heap.
    pub unsafe fn dealloc(&mut self, ptr: *mut u8, size: usize) {
        // SAFETY: the caller returns memory this heap handed out.
        unsafe { self.release(ptr as usize, Self::round(size)) }
        self.free += Self::round(size);
    }

    /// Inserts a free block in address order and merges it with touching neighbours.
    unsafe fn release(&mut self, start: usize, size: usize) {
        // SAFETY: blocks on the list and the new block are heap memory, at least 16 bytes each.
        unsafe {
            let mut prev: *mut Free = null_mut();
            let mut cur = self.head;
            while !cur.is_null() && (cur as usize) < start {
                prev = cur;
                cur = (*cur).next;
            }
            let node = start as *mut Free;
            node.write(Free { size, next: cur });
            if !cur.is_null() && start + size == cur as usize {
                (*node).size += (*cur).size;
                (*node).next = (*cur).next;
            }
            if prev.is_null() {
                self.head = node;
            } else if prev as usize + (*prev).size == start {
                (*prev).size += (*node).size;
                (*prev).next = (*node).next;
            } else {
                (*prev).next = node;
            }
        }
    }

    /// Free bytes now, in whatever pieces (a count kept up to date, not a walk).
    pub fn free_bytes(&self) -> usize {
        self.free
    }

    /// The fewest free bytes there have been since the last [`FreeList::reset_lowest`].
    pub fn lowest_free(&self) -> usize {
        self.lowest
    }

    /// Starts a new low mark at the current free bytes.
    pub fn reset_lowest(&mut self) {
        self.lowest = self.free;
    }

    /// Free bytes counted by walking the list (what the count must always agree with; tests).
    pub fn walk_free_bytes(&self) -> usize {
        let mut n = 0;
        let mut cur = self.head;
        // SAFETY: walking our own list.
        unsafe {
            while !cur.is_null() {
                n += (*cur).size;
                cur = (*cur).next;
            }
        }
        n
    }
}
// endregion: heap

#[cfg(test)]
mod tests {
    use super::*;

    fn heap(len: usize) -> (Vec<u128>, FreeList) {
        let mut mem = vec![0u128; len / 16];
        let mut h = FreeList::empty();
        // SAFETY: the vector outlives the heap in each test and is not otherwise used.
        unsafe { h.add_region(mem.as_mut_ptr() as usize, len) };
        (mem, h)
    }

    #[test]
    fn allocates_aligned_and_coalesces() {
        let (_m, mut h) = heap(4096);
        let a = h.alloc(10, 8);
        let b = h.alloc(100, 64);
        let c = h.alloc(1000, 16);
        assert!(!a.is_null() && !b.is_null() && !c.is_null());
        assert_eq!(b as usize % 64, 0);
        // SAFETY: returning what we allocated.
        unsafe {
            h.dealloc(b, 100);
            h.dealloc(a, 10);
            h.dealloc(c, 1000);
        }
        assert_eq!(h.free_bytes(), 4096);
        let big = h.alloc(4096, 16);
        assert!(!big.is_null(), "fully coalesced heap serves one block of everything");
    }

    #[test]
    fn exhaustion_returns_null() {
        let (_m, mut h) = heap(1024);
        assert!(h.alloc(2048, 16).is_null());
        let a = h.alloc(1024, 16);
        assert!(!a.is_null());
        assert!(h.alloc(16, 16).is_null());
    }

    #[test]
    fn many_random_sizes_do_not_overlap() {
        let (_m, mut h) = heap(1 << 16);
        let mut live: Vec<(usize, usize)> = Vec::new();
        let mut seed = 12345u64;
        for _ in 0..2000 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let size = (seed >> 33) as usize % 700 + 1;
            assert_eq!(h.free_bytes(), h.walk_free_bytes(), "the running count agrees with the list");
            if seed & 1 == 0 && !live.is_empty() {
                let (p, s) = live.swap_remove((seed >> 20) as usize % live.len());
                // SAFETY: p/s came from alloc.
                unsafe { h.dealloc(p as *mut u8, s) };
            } else {
                let p = h.alloc(size, 16) as usize;
                if p != 0 {
                    for &(q, t) in &live {
                        assert!(p + size <= q || q + t <= p, "overlap");
                    }
                    live.push((p, size));
                }
            }
        }
        for (p, s) in live {
            // SAFETY: as above.
            unsafe { h.dealloc(p as *mut u8, s) };
        }
        assert_eq!(h.free_bytes(), 1 << 16);
        assert_eq!(h.walk_free_bytes(), 1 << 16);
    }

    #[test]
    fn the_low_mark_remembers_the_fullest_moment() {
        let (_m, mut h) = heap(4096);
        assert_eq!((h.free_bytes(), h.lowest_free()), (4096, 4096));
        let a = h.alloc(1000, 16); // 1008 bytes in 16-byte units
        let b = h.alloc(1000, 16);
        // SAFETY: returning what we allocated.
        unsafe { h.dealloc(a, 1000) };
        assert_eq!((h.free_bytes(), h.lowest_free()), (4096 - 1008, 4096 - 2016));
        h.reset_lowest();
        assert_eq!(h.lowest_free(), 4096 - 1008);
        // SAFETY: as above.
        unsafe { h.dealloc(b, 1000) };
        assert_eq!((h.free_bytes(), h.lowest_free()), (4096, 4096 - 1008));
    }
}
