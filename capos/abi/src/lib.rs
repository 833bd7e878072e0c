//! The capOS userspace ABI: everything both sides of the syscall boundary must agree on.
//!
//! The kernel and `capos-rt` both depend on this crate and nothing else defines these numbers.
//! Layouts are `#[repr(C)]` with sizes pinned by const assertions, because the ring and the
//! CapSet page are shared memory read by code that trusts nothing but the byte layout.
#![cfg_attr(not(test), no_std)]

pub mod addr;
pub mod capset;
pub mod endpoint;
pub mod err;
pub mod ring;
pub mod syscall;

/// Longest Console line in bytes; longer lines are split, never dropped.
pub const CONSOLE_LINE_MAX: usize = 200;
/// Largest params or result buffer a CALL may name.
pub const MAX_MSG: usize = 64 * 1024;
/// Largest chunk a Blob or BootPackage read returns.
pub const MAX_READ: usize = 16 * 1024;
/// Longest inline `text` grant in bytes (served to the child as a Blob).
pub const GRANT_TEXT_MAX: usize = 4096;
/// Longest binary, service or grant name in bytes (a grant name must fit a CapSet entry).
pub const NAME_MAX: usize = capset::NAME_MAX;
/// Manifest format version written by mkmanifest and required by init and the kernel.
pub const MANIFEST_SCHEMA_VERSION: u32 = 1;
