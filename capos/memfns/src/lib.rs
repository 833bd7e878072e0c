//! The C memory functions the precompiled `core` and `alloc` call (`memcpy`, `memmove`,
//! `memset`, `memcmp`, `bcmp`, `strlen`), for the kernel and for capos-rt, which both run
//! without a C library.
//!
//! Copies use `rep movsq`/`rep stosq` (then `movsb`/`stosb` for the last bytes) in inline assembly and the comparisons read through
//! `read_volatile`: a plain loop can be recognised by the compiler as a copy or a comparison
//! and turned back into a call to the very function it implements, which then recurses forever.
//!
//! A crate links these only by naming it (`use capos_memfns as _;`). Host tests build the same
//! functions without `#[no_mangle]`, so the test binary keeps its C library's versions and
//! compares ours against the slice methods.
#![cfg_attr(not(test), no_std)]

use core::arch::asm;

// region: memfns
/// # Safety
/// The C contract: `n` bytes readable at `src`, writable at `dst`, not overlapping.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // Eight bytes per step, then the rest byte by byte: under TCG every iteration of a `rep`
    // string instruction is a separate trip through the translated code, so `rep movsb` alone
    // costs eight times as many trips (chapter A.1, "Making it faster").
    // SAFETY: forward copy of n bytes under the C contract above; DF is clear per the ABI.
    unsafe {
        asm!("rep movsq", "mov rcx, {tail}", "rep movsb", tail = in(reg) n & 7,
            inout("rdi") dst => _, inout("rsi") src => _, inout("rcx") n >> 3 => _,
            options(nostack, preserves_flags));
    }
    dst
}

/// # Safety
/// The C contract: `n` bytes readable at `src`, writable at `dst`; they may overlap.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize).wrapping_sub(src as usize) >= n {
        // dst is below src or past its end: a forward copy never reads what it already wrote.
        // SAFETY: as memcpy.
        unsafe { memcpy(dst, src, n) };
    } else {
        // dst lies inside (src, src + n), so n > 0: copy backwards from the last byte (DF set,
        // then cleared again as the ABI requires).
        // SAFETY: both pointers stay inside their n-byte regions.
        unsafe {
            asm!("std", "rep movsb", "cld",
                inout("rdi") dst.add(n - 1) => _, inout("rsi") src.add(n - 1) => _, inout("rcx") n => _,
                options(nostack));
        }
    }
    dst
}

/// # Safety
/// The C contract: `n` bytes writable at `dst`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn memset(dst: *mut u8, value: i32, n: usize) -> *mut u8 {
    // As memcpy: eight bytes per step (the byte repeated in every lane of rax), then the rest.
    // SAFETY: writes n bytes at dst under the contract above.
    unsafe {
        asm!("rep stosq", "mov rcx, {tail}", "rep stosb", tail = in(reg) n & 7,
            inout("rdi") dst => _, inout("rcx") n >> 3 => _, in("rax") (value as u8 as u64) * 0x0101_0101_0101_0101,
            options(nostack, preserves_flags));
    }
    dst
}

/// # Safety
/// The C contract: `n` bytes readable at both pointers.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: i < n, within both buffers.
        let (x, y) = unsafe { (core::ptr::read_volatile(a.add(i)), core::ptr::read_volatile(b.add(i))) };
        if x != y {
            return x as i32 - y as i32;
        }
    }
    0
}

/// # Safety
/// As `memcmp`.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract.
    unsafe { memcmp(a, b, n) }
}

/// # Safety
/// `s` points at a NUL-terminated string.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn strlen(s: *const u8) -> usize {
    let mut n = 0;
    // SAFETY: every byte up to and including the NUL is readable by the contract.
    while unsafe { core::ptr::read_volatile(s.add(n)) } != 0 {
        n += 1;
    }
    n
}
// endregion: memfns

#[cfg(test)]
mod tests {
    use super::*;

    /// A seeded LCG: reproducible inputs, so a failure can be replayed.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            self.0 >> 33
        }
        fn below(&mut self, n: usize) -> usize {
            self.next() as usize % n
        }
        fn bytes(&mut self, n: usize) -> Vec<u8> {
            (0..n).map(|_| self.next() as u8).collect()
        }
    }

    const ROUNDS: usize = 2000;

    #[test]
    fn memcpy_matches_copy_from_slice() {
        let mut r = Lcg(1);
        for _ in 0..ROUNDS {
            let (n, so, d_o) = (r.below(300), r.below(16), r.below(16));
            let src = r.bytes(n + so);
            let mut ours = r.bytes(n + d_o + 16);
            let mut want = ours.clone();
            want[d_o..d_o + n].copy_from_slice(&src[so..so + n]);
            // SAFETY: both ranges lie inside their vectors and the vectors are distinct.
            let ret = unsafe { memcpy(ours.as_mut_ptr().add(d_o), src.as_ptr().add(so), n) };
            assert_eq!(ret, ours[d_o..].as_mut_ptr());
            assert_eq!(ours, want, "n {n} src offset {so} dst offset {d_o}");
        }
    }

    #[test]
    fn memmove_matches_copy_within_in_both_directions() {
        let mut r = Lcg(2);
        let (mut up, mut down) = (0, 0);
        for _ in 0..ROUNDS {
            let len = r.below(400) + 1;
            let (from, to) = (r.below(len), r.below(len));
            let n = r.below(len - from.max(to) + 1);
            let mut ours = r.bytes(len);
            let mut want = ours.clone();
            want.copy_within(from..from + n, to);
            let p = ours.as_mut_ptr();
            // SAFETY: both n-byte ranges lie inside the one vector.
            unsafe { memmove(p.add(to), p.add(from), n) };
            assert_eq!(ours, want, "len {len} from {from} to {to} n {n}");
            let overlapping = n > 0 && from.abs_diff(to) < n && from != to;
            up += (overlapping && to > from) as usize;
            down += (overlapping && to < from) as usize;
        }
        assert!(up > 100 && down > 100, "both overlap directions exercised ({up} up, {down} down)");
    }

    #[test]
    fn memset_matches_fill() {
        let mut r = Lcg(3);
        for _ in 0..ROUNDS {
            let (n, off, value) = (r.below(300), r.below(16), r.next() as i32);
            let mut ours = r.bytes(n + off + 16);
            let mut want = ours.clone();
            want[off..off + n].fill(value as u8);
            // SAFETY: the range lies inside the vector.
            unsafe { memset(ours.as_mut_ptr().add(off), value, n) };
            assert_eq!(ours, want);
        }
    }

    #[test]
    fn memcmp_and_bcmp_match_slice_comparison() {
        let mut r = Lcg(4);
        for _ in 0..ROUNDS {
            let n = r.below(200);
            let a = r.bytes(n);
            let mut b = a.clone();
            // Mostly one differing byte at a random place (or none), so equal prefixes of every
            // length occur, not just the first-byte differences of independent random inputs.
            if n > 0 && r.below(4) != 0 {
                let i = r.below(n);
                b[i] = r.next() as u8;
            }
            // SAFETY: both vectors hold n bytes.
            let (c, e) = unsafe { (memcmp(a.as_ptr(), b.as_ptr(), n), bcmp(a.as_ptr(), b.as_ptr(), n)) };
            assert_eq!(c.cmp(&0), a.cmp(&b), "{a:?} vs {b:?}");
            assert_eq!(e == 0, a == b);
        }
    }

    #[test]
    fn strlen_finds_the_first_nul() {
        let mut r = Lcg(5);
        for _ in 0..ROUNDS {
            let n = r.below(100);
            let mut s = r.bytes(n);
            s.push(0);
            let want = s.iter().position(|&c| c == 0).unwrap();
            // SAFETY: the vector ends with a NUL.
            assert_eq!(unsafe { strlen(s.as_ptr()) }, want);
        }
    }

    #[test]
    fn zero_lengths_touch_nothing() {
        // SAFETY: with n = 0 the C functions must not dereference their pointers at all.
        unsafe {
            let p = core::ptr::NonNull::<u8>::dangling().as_ptr();
            assert_eq!(memcpy(p, p, 0), p);
            assert_eq!(memmove(p, p.wrapping_add(1), 0), p);
            assert_eq!(memset(p, 7, 0), p);
            assert_eq!(memcmp(p, p, 0), 0);
        }
    }
}
