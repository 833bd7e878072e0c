//! Symbols the precompiled core/alloc expect from a C library: the memory functions come from
//! capos-memfns (shared with capos-rt); the unwinding stubs they reference live here (the kernel
//! aborts on panic, so these are never called).

// Naming the crate links its `#[no_mangle]` memcpy, memmove, memset, memcmp, bcmp and strlen.
use capos_memfns as _;

#[no_mangle]
pub extern "C" fn _Unwind_Resume() -> ! {
    panic!("unwinding is not supported")
}

#[no_mangle]
pub extern "C" fn rust_eh_personality() {}
