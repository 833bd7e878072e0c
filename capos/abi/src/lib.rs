//! The capOS userspace ABI: everything both sides of the syscall boundary must agree on.
//!
//! The kernel and `capos-rt` both depend on this crate and nothing else defines these numbers.
//! Layouts are `#[repr(C)]` with sizes pinned by const assertions, because the ring and the
//! CapSet page are shared memory read by code that trusts nothing but the byte layout.
#![cfg_attr(not(test), no_std)]

pub mod addr;
pub mod capset;
pub mod err;
pub mod ring;
pub mod syscall;

/// Longest Console line in bytes; longer lines are split, never dropped.
pub const CONSOLE_LINE_MAX: usize = 200;
/// Largest params or result buffer a CALL may name.
pub const MAX_MSG: usize = 64 * 1024;
/// Largest chunk a Blob or BootPackage read returns.
pub const MAX_READ: usize = 16 * 1024;
