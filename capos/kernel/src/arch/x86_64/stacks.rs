//! The kernel's two stacks: the one every entry from ring 3 starts on (TSS `RSP0`, also the
//! `syscall` entry's), and the IST stack of double fault, NMI and machine check.
//!
//! Each sits above a guard page, a page of `.bss` that the kernel mapping (mem/kmap.rs) leaves
//! out. Running off the kernel stack faults on the guard, the CPU cannot push the page-fault
//! frame onto the same stack and raises a double fault instead, which switches to the IST stack
//! and panics naming the stack ([`guard_hit`]). The IST stack has its own guard, so even the
//! panic path cannot silently write over memory.

use core::arch::global_asm;

/// The kernel stack: deep enough for the deepest kernel path (spawning a process from a
/// decoded manifest) with room to spare.
pub const KERNEL_STACK_SIZE: usize = 64 << 10;
/// The IST stack: the double-fault panic path (trap frame, formatting, serial output) used
/// under 1 KiB of it in a deliberate overflow test; 16 KiB leave a wide margin.
pub const CRITICAL_STACK_SIZE: usize = 16 << 10;
const GUARD: usize = 4096;

// region: stacks
global_asm!(
    r#"
    .section .bss.kstacks, "aw", @nobits
    .p2align 12
    .global kernel_stack_guard
kernel_stack_guard:
    .skip {guard}
    .skip {kernel}
    .global kernel_stack_top
kernel_stack_top:
    .global critical_stack_guard
critical_stack_guard:
    .skip {guard}
    .skip {critical}
    .global critical_stack_top
critical_stack_top:
    "#,
    guard = const GUARD,
    kernel = const KERNEL_STACK_SIZE,
    critical = const CRITICAL_STACK_SIZE,
    options(att_syntax)
);
// endregion: stacks

extern "C" {
    static kernel_stack_guard: u8;
    static kernel_stack_top: u8;
    static critical_stack_guard: u8;
    static critical_stack_top: u8;
}

/// Top of the kernel stack (TSS `RSP0`; the asm entry paths name `kernel_stack_top` directly).
pub fn kernel_top() -> u64 {
    // Only addresses are taken (no read), which needs no unsafe.
    core::ptr::addr_of!(kernel_stack_top) as u64
}

/// Top of the IST stack for double fault, NMI and machine check.
pub fn critical_top() -> u64 {
    core::ptr::addr_of!(critical_stack_top) as u64
}

/// The guard pages (page addresses) and the stack each one protects.
pub fn guards() -> [(u64, &'static str); 2] {
    [
        (core::ptr::addr_of!(kernel_stack_guard) as u64, "kernel"),
        (core::ptr::addr_of!(critical_stack_guard) as u64, "double-fault (IST)"),
    ]
}

/// Which stack ran into its guard page, if `addr` (a faulting address) lies in one.
pub fn guard_hit(addr: u64) -> Option<&'static str> {
    guards().into_iter().find(|&(page, _)| addr >= page && addr < page + GUARD as u64).map(|(_, name)| name)
}
