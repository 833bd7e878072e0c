//! The legacy 8259 PICs: remapped to vectors 32-47 (so a stray IRQ can never look like a CPU
//! exception) and fully masked at boot; [`unmask_timer`] then lets only IRQ 0 (the PIT) through.
use super::port::outb;

/// The vector IRQ 0 (the PIT tick) arrives on.
pub const TIMER_VECTOR: u64 = 32;
/// Vectors of the master's and slave's spurious IRQ 7 / IRQ 15 (never acknowledged).
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

/// Unmasks IRQ 0 only; every other line stays masked.
pub fn unmask_timer() {
    outb(0x21, 0xfe);
}

/// Acknowledges an IRQ from the master PIC (the timer is IRQ 0, so the slave is never involved).
pub fn eoi() {
    outb(0x20, 0x20);
}

// region: irq-lines
/// Masks IRQ `line` (0-15) at its PIC.
pub fn mask_line(line: u8) {
    let (port, bit) = if line < 8 { (0x21, line) } else { (0xa1, line - 8) };
    outb(port, super::port::inb(port) | (1 << bit));
}

/// Unmasks IRQ `line`; a slave line also opens the cascade (master IRQ 2).
pub fn unmask_line(line: u8) {
    let (port, bit) = if line < 8 { (0x21, line) } else { (0xa1, line - 8) };
    outb(port, super::port::inb(port) & !(1 << bit));
    if line >= 8 {
        outb(0x21, super::port::inb(0x21) & !(1 << 2));
    }
}

/// Makes `line` level-triggered in the ELCR (ports 0x4d0/0x4d1), as PCI INTx lines are: a
/// device keeps its line asserted until its driver clears the cause, so an interrupt that
/// arrived while the line was masked is not lost.
pub fn set_level_triggered(line: u8) {
    let (port, bit) = if line < 8 { (0x4d0, line) } else { (0x4d1, line - 8) };
    outb(port, super::port::inb(port) | (1 << bit));
}

/// Acknowledges IRQ `line`: the slave first when the line is on it, then the master.
pub fn eoi_line(line: u8) {
    if line >= 8 {
        outb(0xa0, 0x20);
    }
    outb(0x20, 0x20);
}
// endregion: irq-lines
