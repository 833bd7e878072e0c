//! Hardware entropy: RDSEED when the CPU has it (straight from the conditioner), else RDRAND.
//! Both can transiently report "not ready" (CF = 0), so each word is retried a bounded number
//! of times; persistent failure is an error, never a fallback to a weaker source.

use crate::arch::cpu::{cpuid, rdrand, rdseed};
use core::sync::atomic::{AtomicU8, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    None = 0,
    Rdrand = 1,
    Rdseed = 2,
}

static SOURCE: AtomicU8 = AtomicU8::new(0);
const RETRIES: u32 = 100;

// region: entropy
/// Detects the source via CPUID (leaf 1 ECX bit 30: RDRAND; leaf 7 EBX bit 18: RDSEED).
pub fn init() -> Source {
    let max_leaf = cpuid(0, 0)[0];
    let has_rdrand = cpuid(1, 0)[2] & (1 << 30) != 0;
    let has_rdseed = max_leaf >= 7 && cpuid(7, 0)[1] & (1 << 18) != 0;
    let source = if has_rdseed {
        Source::Rdseed
    } else if has_rdrand {
        Source::Rdrand
    } else {
        Source::None
    };
    SOURCE.store(source as u8, Ordering::Relaxed);
    source
}

pub fn source() -> Source {
    match SOURCE.load(Ordering::Relaxed) {
        2 => Source::Rdseed,
        1 => Source::Rdrand,
        _ => Source::None,
    }
}

fn word() -> Option<u64> {
    let draw = match source() {
        Source::Rdseed => rdseed,
        Source::Rdrand => rdrand,
        Source::None => return None,
    };
    (0..RETRIES).find_map(|_| draw())
}

/// Fills `buf` with hardware random bytes; None when the source is absent or keeps failing.
pub fn fill(buf: &mut [u8]) -> Option<()> {
    for chunk in buf.chunks_mut(8) {
        let w = word()?.to_le_bytes();
        chunk.copy_from_slice(&w[..chunk.len()]);
    }
    Some(())
}
// endregion: entropy
