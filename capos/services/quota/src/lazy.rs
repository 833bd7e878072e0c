//! Lazily filled memory past the quota: `.bss` and the stack cost nothing until touched, so a
//! process may declare more of them than its quota pays for. The page fault that would back one
//! page too many ends the process instead (`faulted: out of memory at …`).
use capos_rt::{Console, Error};
use core::sync::atomic::{AtomicU8, Ordering};

// region: lazy
/// 2 MiB of zeroed `.bss`: twice the 1 MiB quota the manifest gives this role.
const BSS_BYTES: usize = 2 << 20;
static BSS: [AtomicU8; BSS_BYTES] = [const { AtomicU8::new(0) }; BSS_BYTES];

/// Writes one byte in every page of [`BSS`]; the kernel ends the process part way.
pub fn bss(console: &Console) -> Result<i32, Error> {
    let start = BSS.as_ptr() as u64;
    console.write_line(&alloc::format!("touching {} KiB of .bss from {start:#x}", BSS_BYTES / 1024))?;
    for page in BSS.iter().step_by(4096) {
        page.store(1, Ordering::Relaxed);
    }
    console.write_line("touched all of it (the quota should have stopped this)")?;
    Ok(1)
}

/// Recurses with 16 KiB frames until the stack's pages pass the quota (the stack's zero range
/// is 1 MiB, as large as the quota, and the process already holds other frames).
pub fn stack(console: &Console) -> Result<i32, Error> {
    console.write_line("recursing with 16 KiB stack frames")?;
    let depth = deeper(0);
    console.write_line(&alloc::format!("returned from depth {depth} (the quota should have stopped this)"))?;
    Ok(1)
}

#[inline(never)]
fn deeper(depth: u64) -> u64 {
    let mut frame = [0u8; 16 * 1024];
    for byte in frame.iter_mut().step_by(4096) {
        *byte = depth as u8;
    }
    core::hint::black_box(&mut frame);
    // Always true at run time; the compiler cannot know, so the recursion is not folded away.
    if core::hint::black_box(depth) < u64::MAX {
        deeper(depth + 1) + u64::from(frame[0])
    } else {
        depth
    }
}
// endregion: lazy
