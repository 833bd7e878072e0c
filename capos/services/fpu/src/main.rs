//! The FPU proof. The kernel saves a process's SSE registers only when it switches to another
//! process (chapter A.1, change 9), so two copies of this program run at once, each filling
//! `xmm0`-`xmm15` and MXCSR with values of its own. Inside one assembly block each then makes
//! system calls and spins between them, long enough for the timer to switch to its sibling
//! many times, and finally reads every register back. Any state lost or leaked across a
//! system call or a switch shows up as a mismatch.
#![no_std]
#![no_main]
extern crate alloc;

use alloc::format;
use capos_rt::{Blob, Console, Runtime};

capos_rt::entry!(main);
capos_rt::heap!(64 * 1024);

const ROUNDS: u32 = 40;
const CALLS_PER_ROUND: u32 = 50;
const SPIN_PER_CALL: u32 = 20_000;

fn main(rt: &mut Runtime) -> i32 {
    let Ok(console) = rt.take::<Console>("console") else {
        return 2;
    };
    // The seed keeps the two copies' values apart; the rounding mode differs too.
    let Ok(seed) = rt.take::<Blob>("seed").and_then(|b| b.read_string()) else {
        let _ = console.write_line("error: no seed text grant");
        return 2;
    };
    let seed = seed.bytes().fold(0x9e37_79b9_7f4a_7c15u64, |h, c| (h ^ u64::from(c)).wrapping_mul(0x100_0000_01b3));
    let rounding = 1 + (seed % 3) as u32;
    let mut mismatches = 0;
    let mut state = seed;
    for _ in 0..ROUNDS {
        let pattern: [u64; 32] = core::array::from_fn(|_| xorshift(&mut state));
        let mxcsr = 0x1f80 | (rounding << 13);
        let (seen, seen_mxcsr) = hold(&pattern, mxcsr);
        mismatches += seen.iter().zip(&pattern).filter(|(a, b)| a != b).count();
        mismatches += usize::from(seen_mxcsr != mxcsr);
    }
    let line = format!(
        "{} rounds of {} system calls: {} registers changed (rounding mode {})",
        ROUNDS, CALLS_PER_ROUND, mismatches, rounding
    );
    let _ = console.write_line(&line);
    i32::from(mismatches != 0)
}

fn xorshift(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

// region: hold
/// Loads `pattern` into `xmm0`-`xmm15` and `mxcsr` into MXCSR, makes `CALLS_PER_ROUND` ring
/// NOPs (`cap_enter(0, 0)`) with a spin after each, then returns what the registers hold. The
/// caller's MXCSR is put back before compiled code runs again.
fn hold(pattern: &[u64; 32], mxcsr: u32) -> ([u64; 32], u32) {
    let mut seen = [0u64; 32];
    let mut seen_mxcsr = 0u32;
    let mut saved_mxcsr = 0u32;
    // SAFETY: the block reads `pattern`/`mxcsr` and writes `seen`/`seen_mxcsr`/`saved_mxcsr`,
    // all live locals of the right size; every register it changes is declared as clobbered
    // (the syscall clobbers rcx and r11, the kernel's cap_enter also rdx and r8-r10), and MXCSR
    // is restored before the block ends.
    unsafe {
        core::arch::asm!(
            "stmxcsr [{saved}]",
            "ldmxcsr [{csr}]",
            "movdqu xmm0, [{p}]", "movdqu xmm1, [{p} + 16]", "movdqu xmm2, [{p} + 32]",
            "movdqu xmm3, [{p} + 48]", "movdqu xmm4, [{p} + 64]", "movdqu xmm5, [{p} + 80]",
            "movdqu xmm6, [{p} + 96]", "movdqu xmm7, [{p} + 112]", "movdqu xmm8, [{p} + 128]",
            "movdqu xmm9, [{p} + 144]", "movdqu xmm10, [{p} + 160]", "movdqu xmm11, [{p} + 176]",
            "movdqu xmm12, [{p} + 192]", "movdqu xmm13, [{p} + 208]", "movdqu xmm14, [{p} + 224]",
            "movdqu xmm15, [{p} + 240]",
            "2:",
            "mov eax, 1",
            "xor edi, edi",
            "xor esi, esi",
            "syscall",
            "mov ecx, {spin}",
            "3:",
            "dec ecx",
            "jnz 3b",
            "dec {n:e}",
            "jnz 2b",
            "movdqu [{o}], xmm0", "movdqu [{o} + 16], xmm1", "movdqu [{o} + 32], xmm2",
            "movdqu [{o} + 48], xmm3", "movdqu [{o} + 64], xmm4", "movdqu [{o} + 80], xmm5",
            "movdqu [{o} + 96], xmm6", "movdqu [{o} + 112], xmm7", "movdqu [{o} + 128], xmm8",
            "movdqu [{o} + 144], xmm9", "movdqu [{o} + 160], xmm10", "movdqu [{o} + 176], xmm11",
            "movdqu [{o} + 192], xmm12", "movdqu [{o} + 208], xmm13", "movdqu [{o} + 224], xmm14",
            "movdqu [{o} + 240], xmm15",
            "stmxcsr [{seen_csr}]",
            "ldmxcsr [{saved}]",
            p = in(reg) pattern.as_ptr(),
            o = in(reg) seen.as_mut_ptr(),
            csr = in(reg) &mxcsr,
            seen_csr = in(reg) &mut seen_mxcsr,
            saved = in(reg) &mut saved_mxcsr,
            n = inout(reg) CALLS_PER_ROUND => _,
            spin = const SPIN_PER_CALL,
            out("rax") _, out("rdi") _, out("rsi") _, out("rdx") _, out("rcx") _,
            out("r8") _, out("r9") _, out("r10") _, out("r11") _,
            out("xmm0") _, out("xmm1") _, out("xmm2") _, out("xmm3") _, out("xmm4") _,
            out("xmm5") _, out("xmm6") _, out("xmm7") _, out("xmm8") _, out("xmm9") _,
            out("xmm10") _, out("xmm11") _, out("xmm12") _, out("xmm13") _, out("xmm14") _,
            out("xmm15") _,
            options(nostack),
        );
    }
    (seen, seen_mxcsr)
}
// endregion: hold
