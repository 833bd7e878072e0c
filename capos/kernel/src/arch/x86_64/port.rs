//! Port I/O.
use core::arch::asm;

pub fn outb(port: u16, value: u8) {
    // SAFETY: the kernel only touches ports of devices it owns (COM1, PIT, PIC, debug exit).
    unsafe { asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags)) }
}

pub fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: as for outb.
    unsafe { asm!("in al, dx", in("dx") port, out("al") v, options(nomem, nostack, preserves_flags)) }
    v
}

pub fn outl(port: u16, value: u32) {
    // SAFETY: as for outb.
    unsafe { asm!("out dx, eax", in("dx") port, in("eax") value, options(nomem, nostack, preserves_flags)) }
}

pub fn inl(port: u16) -> u32 {
    let v: u32;
    // SAFETY: as for outb (PCI configuration ports 0xcf8/0xcfc, touched only by devices/pci.rs).
    unsafe { asm!("in eax, dx", in("dx") port, out("eax") v, options(nomem, nostack, preserves_flags)) }
    v
}
