//! PCI configuration space through the legacy mechanism #1: an address written to port 0xcf8
//! selects bus, slot, function and dword; port 0xcfc reads or writes that dword.
//!
//! Why ports and not ECAM: the smokes boot QEMU's default `pc` machine (i440FX), which has no
//! memory-mapped configuration space; ECAM needs `-machine q35` and the MCFG table. Mechanism #1
//! gives 256 bytes per function, enough for every register a virtio driver needs.

use crate::arch::port::{inl, outl};

const ADDRESS: u16 = 0xcf8;
const DATA: u16 = 0xcfc;

/// Bus, slot and function of one PCI function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bdf {
    pub bus: u8,
    pub slot: u8,
    pub function: u8,
}

fn select(at: Bdf, offset: u8) {
    let address = 1 << 31
        | (at.bus as u32) << 16
        | (at.slot as u32 & 0x1f) << 11
        | (at.function as u32 & 7) << 8
        | (offset as u32 & 0xfc);
    outl(ADDRESS, address);
}

pub fn read32(at: Bdf, offset: u8) -> u32 {
    select(at, offset);
    inl(DATA)
}

pub fn write32(at: Bdf, offset: u8, value: u32) {
    select(at, offset);
    outl(DATA, value);
}

// region: bars
/// What one Base Address Register decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bar {
    None,
    /// Memory space at `phys`, `size` bytes (a power of two); 64-bit BARs use two registers.
    Memory {
        phys: u64,
        size: u64,
        wide: bool,
    },
    Io {
        port: u16,
        size: u16,
    },
}

/// Sizes all six BARs the standard way (write all ones, read the mask back, restore) with the
/// function's decoding turned off meanwhile, so nothing answers at a half-written address.
pub fn read_bars(at: Bdf) -> [Bar; 6] {
    let command = read32(at, 4) & 0xffff;
    write32(at, 4, command & !0x3);
    let mut bars = [Bar::None; 6];
    let mut i = 0;
    while i < 6 {
        let off = 0x10 + 4 * i as u8;
        let orig = read32(at, off);
        write32(at, off, 0xffff_ffff);
        let mask = read32(at, off);
        write32(at, off, orig);
        if mask == 0 {
            i += 1;
            continue;
        }
        if orig & 1 == 1 {
            let size = (!(mask & !0x3)).wrapping_add(1) as u16;
            bars[i] = Bar::Io { port: (orig & 0xfffc) as u16, size };
            i += 1;
            continue;
        }
        let wide = orig & 0b110 == 0b100 && i < 5;
        let (mut phys, mut size_mask) =
            ((orig & 0xffff_fff0) as u64, (mask & 0xffff_fff0) as u64 | 0xffff_ffff_0000_0000);
        if wide {
            let hi_off = off + 4;
            let hi = read32(at, hi_off);
            write32(at, hi_off, 0xffff_ffff);
            let hi_mask = read32(at, hi_off);
            write32(at, hi_off, hi);
            phys |= (hi as u64) << 32;
            size_mask = (size_mask & 0xffff_ffff) | (hi_mask as u64) << 32;
        }
        bars[i] = Bar::Memory { phys, size: (!size_mask).wrapping_add(1), wide };
        i += if wide { 2 } else { 1 };
    }
    write32(at, 4, command);
    bars
}
// endregion: bars

// region: assign
/// Where BARs that firmware left unassigned get addresses. SeaBIOS assigns every BAR before it
/// starts a PVH kernel; qboot assigns none. Memory BARs are placed top-down below the lowest
/// address firmware used in QEMU's 32-bit PCI hole (or below the IOAPIC at 0xfec00000), never
/// under 0xe0000000, where the hole of a `pc` machine with less than 3.5 GiB of RAM starts;
/// I/O BARs go upwards from 0xc000 (above the legacy ISA ports), past any port firmware used.
pub struct Windows {
    mem_top: u64,
    io_next: u32,
}

const MEM_FLOOR: u64 = 0xe000_0000;
const MEM_CEILING: u64 = 0xfec0_0000;
const IO_FLOOR: u32 = 0xc000;

impl Windows {
    pub fn new(found: &[Function]) -> Windows {
        let mut w = Windows { mem_top: MEM_CEILING, io_next: IO_FLOOR };
        for bar in found.iter().flat_map(|f| f.bars.iter()) {
            match *bar {
                Bar::Memory { phys, .. } if (MEM_FLOOR..MEM_CEILING).contains(&phys) => w.mem_top = w.mem_top.min(phys),
                Bar::Io { port, size } if port != 0 => w.io_next = w.io_next.max(port as u32 + size as u32),
                _ => {}
            }
        }
        w
    }

    /// Gives every unassigned BAR of `f` an address and writes it (decoding off meanwhile).
    /// Returns the indices it assigned; a BAR that does not fit stays unassigned, and
    /// `Device.mapBar` then refuses it.
    pub fn assign(&mut self, f: &mut Function) -> u8 {
        let command = read32(f.at, 4) & 0xffff;
        write32(f.at, 4, command & !0x3);
        let mut assigned = 0u8;
        for i in 0..6 {
            let off = 0x10 + 4 * i as u8;
            match f.bars[i] {
                Bar::Memory { phys: 0, size, wide } if size != 0 && size <= MEM_CEILING - MEM_FLOOR => {
                    let at = (self.mem_top - size) & !(size - 1);
                    if at < MEM_FLOOR {
                        continue;
                    }
                    self.mem_top = at;
                    write32(f.at, off, at as u32 | if wide { 0b100 } else { 0 });
                    if wide {
                        write32(f.at, off + 4, 0);
                    }
                    f.bars[i] = Bar::Memory { phys: at, size, wide };
                    assigned |= 1 << i;
                }
                Bar::Io { port: 0, size } if size != 0 => {
                    let size = size as u32;
                    let at = (self.io_next + size - 1) & !(size - 1);
                    if at + size > 0x1_0000 {
                        continue;
                    }
                    self.io_next = at + size;
                    write32(f.at, off, at | 1);
                    f.bars[i] = Bar::Io { port: at as u16, size: size as u16 };
                    assigned |= 1 << i;
                }
                _ => {}
            }
        }
        write32(f.at, 4, command);
        assigned
    }
}
// endregion: assign

/// One function found on the bus.
#[derive(Clone, Copy, Debug)]
pub struct Function {
    pub at: Bdf,
    pub vendor: u16,
    pub device: u16,
    pub class: u8,
    pub subclass: u8,
    /// The PIC line firmware routed INTx to (configuration offset 0x3c); 0xff when none.
    pub irq_line: u8,
    pub bars: [Bar; 6],
}

// region: intx
/// The ISA IRQ that the i440FX's PIIX3 south bridge (function 00:01.0, 8086:7000) sends a bus-0
/// device's INTx pin to: QEMU swizzles pin and slot onto the four PIRQ links
/// (`(pin - 1 + slot - 1) mod 4`), and the PIIX3's PIRQ route registers (configuration offsets
/// 0x60-0x63) name each link's IRQ, bit 7 meaning disabled. This is what the ACPI `_PRT` of
/// this machine describes. Firmware's interrupt line register is only a note: SeaBIOS writes
/// the right IRQ there, qboot does not, so the kernel reads the routing itself and uses the
/// line register only where there is no PIIX3.
fn piix_line(at: Bdf, pin: u8) -> Option<u8> {
    const PIIX3: Bdf = Bdf { bus: 0, slot: 1, function: 0 };
    if at.bus != 0 || !(1..=4).contains(&pin) || at.slot == 0 || read32(PIIX3, 0) != 0x7000_8086 {
        return None;
    }
    let link = (pin - 1 + at.slot - 1) % 4;
    let irq = (read32(PIIX3, 0x60) >> (8 * link)) as u8;
    (irq & 0x80 == 0 && irq < 16).then_some(irq)
}
// endregion: intx

// region: enumerate
/// Every function reachable from bus 0: each slot of a bus, functions 1-7 only when function 0
/// says the device has several, and the secondary bus of every PCI-to-PCI bridge (header
/// type 1) found on the way. Calls `found` for each. Probing only buses that exist matters under TCG,
/// where each configuration read is two port accesses: a brute-force walk of all 256 buses made
/// 16,384 of them at every boot.
pub fn enumerate(mut found: impl FnMut(Function)) {
    let mut pending = alloc::vec![0u8];
    let mut seen = [false; 256];
    while let Some(bus) = pending.pop() {
        if core::mem::replace(&mut seen[bus as usize], true) {
            continue;
        }
        scan_bus(bus, &mut found, &mut pending);
    }
}

fn scan_bus(bus: u8, found: &mut impl FnMut(Function), pending: &mut alloc::vec::Vec<u8>) {
    for slot in 0..32u8 {
        let first = Bdf { bus, slot, function: 0 };
        if read32(first, 0) & 0xffff == 0xffff {
            continue;
        }
        let multi = read32(first, 0x0c) >> 16 & 0x80 != 0;
        for function in 0..if multi { 8 } else { 1 } {
            let at = Bdf { bus, slot, function };
            let id = read32(at, 0);
            if id & 0xffff == 0xffff {
                continue;
            }
            if read32(at, 0x0c) >> 16 & 0x7f == 1 {
                // A PCI-to-PCI bridge: its secondary bus number is byte 1 of offset 0x18.
                pending.push((read32(at, 0x18) >> 8) as u8);
            }
            let class = read32(at, 0x08);
            let pin_line = read32(at, 0x3c);
            let pin = (pin_line >> 8) as u8;
            let line = piix_line(at, pin).unwrap_or(pin_line as u8);
            found(Function {
                at,
                vendor: id as u16,
                device: (id >> 16) as u16,
                class: (class >> 24) as u8,
                subclass: (class >> 16) as u8,
                irq_line: if pin != 0 && line < 16 && line != 2 { line } else { 0xff },
                bars: read_bars(at),
            });
        }
    }
}
// endregion: enumerate
