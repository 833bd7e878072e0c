//! The fixed user address map every process starts with.

/// The ring page (read-write for the process).
pub const RING_ADDR: u64 = 0x0010_0000;
/// The CapSet page (read-only for the process).
pub const CAPSET_ADDR: u64 = 0x0010_1000;
/// Where user ELF images are linked.
pub const USER_IMAGE_BASE: u64 = 0x0040_0000;
/// Top of the initial user stack (exclusive); the stack grows down from here.
pub const USER_STACK_TOP: u64 = 0x0000_7fff_fff0_0000;
/// Size of the initial user stack. One unmapped guard page sits below it.
pub const USER_STACK_SIZE: u64 = 1024 * 1024;
/// First address that is never user memory (start of the non-canonical hole).
pub const USER_END: u64 = 0x0000_8000_0000_0000;
pub const PAGE_SIZE: u64 = 4096;
/// Where VirtualMemory reservations come from (issue #17): 16 TiB no other mapping uses, above
/// the device windows and far below the stack.
pub const VMEM_BASE: u64 = 0x0000_6000_0000_0000;
pub const VMEM_END: u64 = 0x0000_7000_0000_0000;
