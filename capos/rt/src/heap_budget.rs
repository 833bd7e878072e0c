//! How much of the declared heap a process may really use: what its memory quota leaves.
//!
//! `heap!(n)` declares `n` bytes of `.bss`, which the kernel fills a page at a time as the
//! allocator first touches it. A process with a quota of its own (appendix A.9) would fault the
//! moment those pages outgrow the quota. So the runtime gives the allocator only the part the
//! quota can pay for, and running out becomes a failed allocation (`memory.grow` answering -1 in
//! a WASI guest) instead of the end of the process.

// region: heap-budget
use crate::capset::Memory;

/// 4 KiB pages.
pub const PAGE: u64 = 4096;
/// Stack pages kept for the stack: its first 64 KiB below the top page, which is mapped before
/// the start. The stack may grow to 1 MiB; the rest is paid for from what the heap leaves, and a
/// process whose heap took everything faults there (A.9's table). Keeping the whole megabyte back
/// would leave a service with a 1 MiB quota no heap at all.
pub const STACK_FRAMES: u64 = 16;
/// Frames kept back for what neither the heap nor the stack accounts for: `.bss` beside the
/// heap, and the page tables of a heap that straddles table boundaries.
pub const SLACK_FRAMES: u64 = 32;
/// Data pages one page table maps, and page tables one directory maps.
const PER_TABLE: u64 = 512;

/// The bytes of a `declared`-byte heap that the quota in `memory` can pay for, page tables
/// included; all of it when the process has no quota of its own (it shares its parent's).
pub fn usable_heap(memory: Memory, declared: usize) -> usize {
    if memory.frame_quota == 0 {
        return declared;
    }
    let left = memory.frame_quota.saturating_sub(memory.frames_charged + STACK_FRAMES + SLACK_FRAMES);
    let pages = data_pages_within(left).min(declared as u64 / PAGE);
    (pages * PAGE) as usize
}

/// The most data pages that `frames` frames can hold together with their page tables and
/// directories: pages + ceil(pages / 512) + ceil(pages / 512²) ≤ frames.
fn data_pages_within(frames: u64) -> u64 {
    let cost = |pages: u64| pages + pages.div_ceil(PER_TABLE) + pages.div_ceil(PER_TABLE * PER_TABLE);
    // cost() grows by at least one a page: a binary search over 0..=frames finds the largest fit.
    let (mut lo, mut hi) = (0, frames);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if cost(mid) <= frames {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}
// endregion: heap-budget

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    #[test]
    fn no_quota_of_its_own_means_the_whole_declared_heap() {
        assert_eq!(usable_heap(Memory { frame_quota: 0, frames_charged: 40 }, 3 * MIB), 3 * MIB);
    }

    #[test]
    fn a_small_declared_heap_is_untouched_by_a_large_quota() {
        let memory = Memory { frame_quota: 64 * 256, frames_charged: 50 };
        assert_eq!(usable_heap(memory, MIB), MIB);
    }

    #[test]
    fn the_quota_bounds_a_large_declared_heap() {
        // 21 MiB of quota, 100 frames loaded: the heap, its tables, the stack and the slack fit.
        let memory = Memory { frame_quota: 21 * 256, frames_charged: 100 };
        let heap = usable_heap(memory, 1200 * MIB) as u64 / PAGE;
        let tables = heap.div_ceil(512) + 1;
        assert!(heap + tables + 100 + STACK_FRAMES + SLACK_FRAMES <= 21 * 256, "{heap} pages is too many");
        // ... and nothing much is wasted: one more page table's worth would not fit.
        assert!(heap + 512 + tables + 100 + STACK_FRAMES + SLACK_FRAMES > 21 * 256);
    }

    #[test]
    fn a_quota_already_spent_leaves_no_heap() {
        let memory = Memory { frame_quota: 300, frames_charged: 290 };
        assert_eq!(usable_heap(memory, MIB), 0);
    }

    #[test]
    fn page_tables_are_paid_for_exactly() {
        for frames in [0, 1, 2, 512, 513, 514, 515, 10_000, 262_144 + 600] {
            let pages = data_pages_within(frames);
            let cost = |p: u64| p + p.div_ceil(512) + p.div_ceil(512 * 512);
            assert!(cost(pages) <= frames, "{frames}: {pages} pages cost {}", cost(pages));
            assert!(cost(pages + 1) > frames, "{frames}: {} pages would also fit", pages + 1);
        }
    }
}
