//! TSC profile of the kernel's round trip, compiled in only with the `tsc-profile` feature
//! (`cargo build --features tsc-profile`; chapter A.1, "Where a round trip spends its time").
//! Each entry from ring 3 is cut into phases at fixed marks; the TSC deltas between marks of
//! the last 4096 entries are kept, and their quartiles per phase are printed when init exits. Without the feature every mark is an empty
//! inline function, so the default kernel carries none of it.

// region: marks
/// Marks, in the order one kernel entry passes them.
#[derive(Clone, Copy)]
pub enum Mark {
    /// `trap_entry` starts: the asm stub (register pushes) is done.
    Entry = 0,
    /// the trapping process's context is saved.
    Saved = 1,
    /// the syscall or interrupt is handled (for `cap_enter`: the ring pass).
    Handled = 2,
    /// the scheduler has picked a process and is about to `iretq` into it.
    Leave = 3,
}
// endregion: marks

#[cfg(feature = "tsc-profile")]
mod imp {
    use super::Mark;
    use crate::arch::cpu::rdtsc;
    use core::cell::{Cell, RefCell};

    /// Entries kept for the medians (the most recent ones; a bench's loop fills it).
    const KEEP: usize = 4096;

    struct Prof {
        last: [Cell<u64>; 4],
        phases: RefCell<[[u32; 3]; KEEP]>,
        entries: Cell<u64>,
        switches: Cell<u64>,
    }
    // SAFETY: one CPU, interrupts off in ring 0: no two marks ever run at once.
    unsafe impl Sync for Prof {}
    static PROF: Prof = Prof {
        last: [Cell::new(0), Cell::new(0), Cell::new(0), Cell::new(0)],
        phases: RefCell::new([[0; 3]; KEEP]),
        entries: Cell::new(0),
        switches: Cell::new(0),
    };

    pub fn mark(m: Mark) {
        let now = rdtsc();
        PROF.last[m as usize].set(now);
        if let Mark::Entry = m {
            PROF.entries.set(PROF.entries.get() + 1);
        }
        if let Mark::Leave = m {
            let l = |i: usize| PROF.last[i].get();
            if l(0) != 0 && l(1) >= l(0) && l(2) >= l(1) && now >= l(2) {
                let n = PROF.entries.get() as usize % KEEP;
                PROF.phases.borrow_mut()[n] = [(l(1) - l(0)) as u32, (l(2) - l(1)) as u32, (now - l(2)) as u32];
            }
            for c in &PROF.last[..3] {
                c.set(0);
            }
        }
    }

    pub fn switched() {
        PROF.switches.set(PROF.switches.get() + 1);
    }

    /// Quartiles over the kept entries of each phase, in TSC ticks.
    pub fn report() {
        let phases = PROF.phases.borrow();
        let kept = (PROF.entries.get() as usize).min(KEEP);
        let mut col = alloc::vec::Vec::with_capacity(kept);
        let mut q = [[0u32; 3]; 3];
        for (i, qi) in q.iter_mut().enumerate() {
            col.clear();
            col.extend(phases[..kept].iter().map(|p| p[i]).filter(|&t| t != 0));
            col.sort_unstable();
            for (j, v) in qi.iter_mut().enumerate() {
                *v = col.get(col.len() * (j + 1) / 4).copied().unwrap_or(0);
            }
        }
        let f = |x: [u32; 3]| alloc::format!("{}/{}/{}", x[0], x[1], x[2]);
        crate::klog!(
            "tsc profile: {} entries, {} address-space switches; ticks (p25/p50/p75) of the last {}: save {}, handle {}, schedule {}",
            PROF.entries.get(), PROF.switches.get(), kept, f(q[0]), f(q[1]), f(q[2])
        );
    }
}

#[cfg(not(feature = "tsc-profile"))]
mod imp {
    use super::Mark;
    #[inline(always)]
    pub fn mark(_: Mark) {}
    #[inline(always)]
    pub fn switched() {}
    #[inline(always)]
    pub fn report() {}
}

pub use imp::{mark, report, switched};
