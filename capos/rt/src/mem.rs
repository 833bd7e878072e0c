//! The C memory functions the precompiled core and alloc call, plus the unwinding symbols they
//! reference (never used: panic = "abort").
//!
//! Copies use `rep movsb`/`rep stosb`, and the comparisons read through `read_volatile`, so the
//! compiler cannot turn these bodies back into calls to themselves.
use core::arch::asm;

/// # Safety
/// The C contract: `n` bytes readable at `src`, writable at `dst`, not overlapping.
#[no_mangle]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: forward byte copy of n bytes under the C contract above; DF is clear per the ABI.
    unsafe {
        asm!("rep movsb", inout("rdi") dst => _, inout("rsi") src => _, inout("rcx") n => _, options(nostack, preserves_flags));
    }
    dst
}

/// # Safety
/// The C contract: `n` bytes readable at `src`, writable at `dst`; they may overlap.
#[no_mangle]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize).wrapping_sub(src as usize) >= n {
        // dst is below src or past its end: a forward copy never reads what it already wrote.
        // SAFETY: as memcpy.
        unsafe { memcpy(dst, src, n) };
    } else {
        // SAFETY: copy backwards from the last byte (DF set, then cleared again as the ABI needs).
        unsafe {
            asm!(
                "std", "rep movsb", "cld",
                inout("rdi") dst.add(n).wrapping_sub(1) => _,
                inout("rsi") src.add(n).wrapping_sub(1) => _,
                inout("rcx") n => _,
                options(nostack),
            );
        }
    }
    dst
}

/// # Safety
/// The C contract: `n` bytes writable at `dst`.
#[no_mangle]
pub unsafe extern "C" fn memset(dst: *mut u8, value: i32, n: usize) -> *mut u8 {
    // SAFETY: writes n bytes at dst under the contract above.
    unsafe {
        asm!("rep stosb", inout("rdi") dst => _, inout("rcx") n => _, in("al") value as u8, options(nostack, preserves_flags));
    }
    dst
}

/// # Safety
/// The C contract: `n` bytes readable at both pointers.
#[no_mangle]
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
#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract.
    unsafe { memcmp(a, b, n) }
}

/// # Safety
/// `s` points at a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn strlen(s: *const u8) -> usize {
    let mut n = 0;
    // SAFETY: every byte up to and including the NUL is readable by the contract.
    while unsafe { core::ptr::read_volatile(s.add(n)) } != 0 {
        n += 1;
    }
    n
}

/// Referenced by the precompiled core's unwind tables; with panic = "abort" nothing unwinds.
#[no_mangle]
pub extern "C" fn _Unwind_Resume() -> ! {
    crate::syscall::exit(134)
}

#[no_mangle]
pub extern "C" fn rust_eh_personality() {}
