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
    Memory { phys: u64, size: u64, wide: bool },
    Io { port: u16, size: u16 },
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
        let (mut phys, mut size_mask) = ((orig & 0xffff_fff0) as u64, (mask & 0xffff_fff0) as u64 | 0xffff_ffff_0000_0000);
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

// region: enumerate
/// Every function on every bus, by brute force (256 buses x 32 slots; functions 1-7 only
/// when function 0 says the device has several). Calls `found` for each.
pub fn enumerate(mut found: impl FnMut(Function)) {
    for bus in 0..=255u8 {
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
                let class = read32(at, 0x08);
                let pin_line = read32(at, 0x3c);
                let pin = (pin_line >> 8) as u8;
                let line = pin_line as u8;
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
}
// endregion: enumerate
