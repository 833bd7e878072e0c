//! The IDT: vectors 0-47 go to the stubs in entry.rs; critical exceptions use their own stack.

use super::entry::trap_stubs;
use super::gdt::{IST_CRITICAL, KERNEL_CS};
use core::arch::asm;
use core::cell::UnsafeCell;

struct Idt(UnsafeCell<[u64; 512]>);
// SAFETY: one CPU; written once in `init`.
unsafe impl Sync for Idt {}
static IDT: Idt = Idt(UnsafeCell::new([0; 512]));

// region: idt
pub fn init() {
    // SAFETY: runs once at boot before interrupts can arrive.
    let idt = unsafe { &mut *IDT.0.get() };
    // SAFETY: trap_stubs is a read-only table of 48 addresses emitted by entry.rs.
    let stubs = unsafe { &*core::ptr::addr_of!(trap_stubs) };
    for (vector, &handler) in stubs.iter().enumerate() {
        let ist = match vector {
            2 | 8 | 18 => IST_CRITICAL as u64,
            _ => 0,
        };
        // Present, DPL 0, 64-bit interrupt gate (interrupts stay off inside the kernel).
        idt[vector * 2] = (handler & 0xffff)
            | ((KERNEL_CS as u64) << 16)
            | (ist << 32)
            | (0x8e << 40)
            | (((handler >> 16) & 0xffff) << 48);
        idt[vector * 2 + 1] = handler >> 32;
    }
    #[repr(C, packed)]
    struct Ptr {
        limit: u16,
        base: u64,
    }
    let ptr = Ptr { limit: (256 * 16 - 1) as u16, base: idt.as_ptr() as u64 };
    // SAFETY: the IDT is static and fully initialised for the vectors that can occur.
    unsafe { asm!("lidt [{}]", in(reg) &ptr, options(nostack)) };
}
// endregion: idt
