//! The C symbols the precompiled core and alloc reference: the memory functions come from
//! capos-memfns (shared with the kernel), the unwinding symbols are here (never used:
//! panic = "abort").

// Naming the crate links its `#[no_mangle]` memcpy, memmove, memset, memcmp, bcmp and strlen.
use capos_memfns as _;

/// Referenced by the precompiled core's unwind tables; with panic = "abort" nothing unwinds.
#[no_mangle]
pub extern "C" fn _Unwind_Resume() -> ! {
    crate::syscall::exit(134)
}

#[no_mangle]
pub extern "C" fn rust_eh_personality() {}
