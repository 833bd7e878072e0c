//! The physical frame allocator: a bump pointer over the RAM regions PVH reported, plus a
//! free list threaded through freed frames (through the direct map). Frames handed out are
//! zeroed, so no process sees another's old data.

use super::{phys_to_virt, DIRECT_MAP_SIZE};
use crate::kcell::KCell;

const FRAME: u64 = 4096;

// region: frames
pub struct Frames {
    regions: [(u64, u64); 32],
    count: usize,
    current: usize,
    next: u64,
    reserved: [(u64, u64); 4],
    free_head: u64,
    pub free_frames: u64,
    pub total_frames: u64,
}

static FRAMES: KCell<Frames> = KCell::new(Frames {
    regions: [(0, 0); 32],
    count: 0,
    current: 0,
    next: 0,
    reserved: [(0, 0); 4],
    free_head: 0,
    free_frames: 0,
    total_frames: 0,
});

/// Takes RAM `(start, len)` regions and ranges that must never be handed out (kernel image,
/// initrd, boot structures). Memory below 1 MiB and above the direct map is ignored.
pub fn init(ram: &[(u64, u64)], reserved: [(u64, u64); 4]) {
    let mut f = FRAMES.borrow_mut();
    for &(start, len) in ram {
        let s = ((start.max(0x10_0000)) + FRAME - 1) & !(FRAME - 1);
        let e = ((start + len).min(DIRECT_MAP_SIZE)) & !(FRAME - 1);
        if e > s && f.count < f.regions.len() {
            let i = f.count;
            f.regions[i] = (s, e);
            f.count += 1;
            f.total_frames += (e - s) / FRAME;
        }
    }
    f.reserved = reserved;
    f.next = f.regions[0].0;
}

impl Frames {
    fn is_reserved(&self, frame: u64) -> Option<u64> {
        self.reserved.iter().find(|&&(s, e)| frame + FRAME > s && frame < e).map(|&(_, e)| e)
    }

    /// The next never-used frame, skipping reserved ranges.
    fn bump(&mut self) -> Option<u64> {
        while self.current < self.count {
            let (_, end) = self.regions[self.current];
            if self.next + FRAME <= end {
                if let Some(skip_to) = self.is_reserved(self.next) {
                    self.next = (skip_to + FRAME - 1) & !(FRAME - 1);
                    continue;
                }
                let frame = self.next;
                self.next += FRAME;
                return Some(frame);
            }
            self.current += 1;
            if self.current < self.count {
                self.next = self.regions[self.current].0;
            }
        }
        None
    }
}

/// Frames [`alloc`] can still hand out: the free list plus never-used memory, less the reserved
/// ranges that lie in it (init's account is this, less the kernel's reserve; appendix A.9).
pub fn available() -> u64 {
    let f = FRAMES.borrow_mut();
    let mut frames = f.free_frames;
    for i in f.current..f.count {
        let (start, end) = f.regions[i];
        let start = if i == f.current { f.next.max(start) } else { start };
        if end <= start {
            continue;
        }
        let mut bytes = end - start;
        for &(rs, re) in &f.reserved {
            let (lo, hi) = (rs.max(start), re.min(end));
            if hi > lo {
                bytes = bytes.saturating_sub(((hi - lo) + FRAME - 1) & !(FRAME - 1));
            }
        }
        frames += bytes / FRAME;
    }
    frames
}

/// A zeroed frame, or None when physical memory is exhausted.
pub fn alloc() -> Option<u64> {
    let mut f = FRAMES.borrow_mut();
    let frame = if f.free_head != 0 {
        let frame = f.free_head;
        f.free_head = super::read_phys::<u64>(frame);
        f.free_frames -= 1;
        frame
    } else {
        f.bump()?
    };
    zero(frame);
    Some(frame)
}

/// Zeroes a frame 8 bytes per step (`rep stosq`; emulators run `rep stosb` byte by byte).
pub fn zero(frame: u64) {
    // SAFETY: the frame is free RAM below the direct-map limit, owned by the caller.
    unsafe {
        core::arch::asm!("rep stosq", inout("rcx") FRAME / 8 => _, inout("rdi") phys_to_virt(frame) => _,
            in("rax") 0u64, options(nostack, preserves_flags));
    }
}

/// Returns a frame from [`alloc`].
pub fn free(frame: u64) {
    let mut f = FRAMES.borrow_mut();
    // SAFETY: the caller gives up the frame; its first word links the free list.
    unsafe { core::ptr::write(phys_to_virt(frame) as *mut u64, f.free_head) };
    f.free_head = frame;
    f.free_frames += 1;
}

/// `count` physically contiguous frames from never-used memory (the heap at boot, DMA buffers).
/// A single frame comes from the free list first, so one-page DMA buffers that a driver frees
/// are used again; longer runs are taken from never-used memory only (the free list keeps no
/// order, so runs freed back to it are reused as single frames).
pub fn alloc_contiguous(count: u64) -> Option<u64> {
    if count == 1 {
        return alloc();
    }
    let mut f = FRAMES.borrow_mut();
    let first = f.bump()?;
    for i in 1..count {
        if f.bump()? != first + i * FRAME {
            return None;
        }
    }
    Some(first)
}
// endregion: frames
