//! Portable capOS kernel logic: everything that does not touch hardware, so it runs under
//! `cargo test` on the host against fake memory.
//!
//! Design principles, in order:
//! 1. User input is hostile. Every index, pointer and length read from user memory is checked
//!    before use and a bad one becomes an error result for that process, never a panic.
//! 2. Simple, clear algorithms over fast, clever ones (linear scans of 16 ring slots are fine).
//! 3. No hardware here: the kernel supplies user memory through the [`usermem::UserMemory`] trait.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_op_in_unsafe_fn)]

extern crate alloc;

pub mod acpi;
pub mod alarm;
pub mod capset;
pub mod captable;
pub mod console;
pub mod elf;
pub mod endpoint;
pub mod heap;
pub mod quota;
pub mod ring;
pub mod rtc;
pub mod sched;
#[cfg(test)]
mod test_rng;
pub mod usermem;
pub mod vmem;
