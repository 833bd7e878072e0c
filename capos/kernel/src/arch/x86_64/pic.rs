//! The legacy 8259 PICs: remapped to vectors 32-47 (so a stray IRQ can never look like a CPU
//! exception) and fully masked at boot, for good: interrupts come through the IOAPIC
//! (`apic.rs`, appendix A.6).
use super::port::outb;

/// Vectors of the master's and slave's spurious IRQ 7 / IRQ 15 (never acknowledged); 47 is
/// also the local APIC's spurious vector.
pub const SPURIOUS_VECTORS: [u64; 2] = [39, 47];

pub fn init_masked() {
    outb(0x20, 0x11);
    outb(0xa0, 0x11);
    outb(0x21, 32);
    outb(0xa1, 40);
    outb(0x21, 4);
    outb(0xa1, 2);
    outb(0x21, 1);
    outb(0xa1, 1);
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
}
