//! Interrupt delivery through the local APIC and the IOAPIC (appendices A.1 and A.6).
//!
//! At boot the kernel finds the MADT through the RSDP (the PVH start info names it; the BIOS
//! area is scanned when it does not), maps the IOAPIC's and the local APIC's register pages
//! uncached, enables the local APIC, masks LINT0 (where the 8259s would deliver; they stay
//! masked too) and masks every IOAPIC pin. The PIT's IRQ 0 and each device's INTx line are then
//! routed to pins as the MADT's interrupt source overrides say (GSI, polarity, trigger mode),
//! each on vector 32 + its ISA IRQ number, so a vector still names a line. Every interrupt is
//! acknowledged with an EOI to the local APIC, which for a level-triggered pin also ends its
//! remote-IRR state at the IOAPIC.
//!
//! The interrupt handlers run with any kernel state borrowed (they may interrupt the idle
//! `hlt`), so what they use (the register addresses and each line's pin) is in atomics.

use crate::mem::{self, DIRECT_MAP_SIZE};
use capos_kcore::acpi::{self, Bus, Madt, Route};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// The local APIC's spurious vector: one of the two vectors the trap handler already ignores.
const SPURIOUS: u32 = 47;
const LAPIC_ID: u64 = 0x20;
const LAPIC_TPR: u64 = 0x80;
const LAPIC_EOI: u64 = 0xb0;
const LAPIC_SVR: u64 = 0xf0;
const LAPIC_LINT0: u64 = 0x350;
const MASKED: u32 = 1 << 16;
/// The vector of ISA IRQ 0 (the PIT); line n arrives on `VECTOR_BASE + n`.
pub const VECTOR_BASE: u64 = 32;

static LAPIC: AtomicU64 = AtomicU64::new(0);
static IOAPIC: AtomicU64 = AtomicU64::new(0);
static IOAPIC_BASE_GSI: AtomicU32 = AtomicU32::new(0);
static PINS: AtomicU32 = AtomicU32::new(0);
static DESTINATION: AtomicU32 = AtomicU32::new(0);
/// Pin of each ISA line once routed (`ROUTED | pin`), 0 before.
static LINE_PIN: [AtomicU32; 16] = [const { AtomicU32::new(0) }; 16];
const ROUTED: u32 = 1 << 31;

static MADT: crate::kcell::KCell<Option<Madt>> = crate::kcell::KCell::new(None);

/// What `init` found, for the boot log.
pub struct Found {
    pub lapic: u64,
    pub ioapic: u64,
    pub gsis: (u32, u32),
    pub overrides: usize,
    /// Where the RSDP was: "pvh start info" or "bios area".
    pub rsdp_from: &'static str,
}

// region: find
/// Bytes of physical memory through the direct map, or None past its end.
fn phys(address: u64, len: usize) -> Option<&'static [u8]> {
    if address.checked_add(len as u64)? > DIRECT_MAP_SIZE {
        return None;
    }
    // SAFETY: in the direct map (checked above). ACPI tables and the BIOS area are firmware
    // memory the frame allocator never hands out (it takes only e820 RAM above 1 MiB), and
    // the slices are dropped before `init` returns.
    Some(unsafe { mem::phys_slice(address, len) })
}

/// The RSDP: at `hint` (from the PVH start info) or, failing that, on a 16-byte boundary of
/// the BIOS area 0xe0000-0xfffff, where SeaBIOS puts it.
fn find_rsdp(hint: u64) -> Option<(acpi::Root, &'static str)> {
    if hint != 0 {
        if let Some(root) = phys(hint, 36).and_then(|b| acpi::rsdp(b).ok()) {
            return Some((root, "pvh start info"));
        }
    }
    let scan = (0xe_0000..0x10_0000u64).step_by(16).find_map(|a| phys(a, 36).and_then(|b| acpi::rsdp(b).ok()));
    scan.map(|root| (root, "bios area"))
}

fn find_madt(hint: u64) -> Result<(Madt, &'static str), &'static str> {
    let (root, from) = find_rsdp(hint).ok_or("no acpi rsdp")?;
    let table = |address: u64| {
        let len = acpi::table_length(phys(address, 36).ok_or("acpi table beyond the direct map")?)
            .map_err(|_| "short acpi table")?;
        phys(address, len).ok_or("acpi table beyond the direct map")
    };
    let entries = acpi::root_entries(table(root.address)?, root).map_err(|_| "bad acpi root table")?;
    for address in entries {
        let t = table(address)?;
        if &t[..4] == b"APIC" {
            return acpi::madt(t).map(|m| (m, from)).map_err(|_| "bad acpi madt");
        }
    }
    Err("no acpi madt")
}
// endregion: find

fn lapic_write(reg: u64, value: u32) {
    // SAFETY: LAPIC holds the uncached direct-map address of the local APIC's registers
    // (set in `init` before any caller runs); registers are 32-bit and 16-byte aligned.
    unsafe { core::ptr::write_volatile((LAPIC.load(Ordering::Relaxed) + reg) as *mut u32, value) }
}

fn lapic_read(reg: u64) -> u32 {
    // SAFETY: as for `lapic_write`.
    unsafe { core::ptr::read_volatile((LAPIC.load(Ordering::Relaxed) + reg) as *const u32) }
}

fn ioapic_write(reg: u32, value: u32) {
    let base = IOAPIC.load(Ordering::Relaxed);
    // SAFETY: IOAPIC holds the uncached direct-map address of the IOAPIC's register window
    // (IOREGSEL at +0, IOWIN at +0x10); one CPU and interrupts off in the kernel, so the
    // select-then-access pair is never split.
    unsafe {
        core::ptr::write_volatile(base as *mut u32, reg);
        core::ptr::write_volatile((base + 0x10) as *mut u32, value);
    }
}

fn ioapic_read(reg: u32) -> u32 {
    let base = IOAPIC.load(Ordering::Relaxed);
    // SAFETY: as for `ioapic_write`.
    unsafe {
        core::ptr::write_volatile(base as *mut u32, reg);
        core::ptr::read_volatile((base + 0x10) as *const u32)
    }
}

// region: init
/// Finds the MADT, enables the local APIC and masks every IOAPIC pin (and LINT0, where the
/// 8259s would deliver). Nothing is delivered until `route_timer` and `route_line`.
pub fn init(rsdp_hint: u64, pml4: u64) -> Result<Found, &'static str> {
    let (madt, rsdp_from) = find_madt(rsdp_hint)?;
    let io = madt.ioapics[0];
    for address in [madt.lapic, u64::from(io.address)] {
        if address >= DIRECT_MAP_SIZE {
            return Err("apic registers beyond the direct map");
        }
        mem::kmap::uncache_direct_map(pml4, address);
    }
    LAPIC.store(mem::DIRECT_MAP + madt.lapic, Ordering::Relaxed);
    IOAPIC.store(mem::DIRECT_MAP + u64::from(io.address), Ordering::Relaxed);
    IOAPIC_BASE_GSI.store(io.gsi_base, Ordering::Relaxed);
    lapic_write(LAPIC_TPR, 0);
    lapic_write(LAPIC_LINT0, MASKED);
    lapic_write(LAPIC_SVR, 0x100 | SPURIOUS);
    DESTINATION.store(lapic_read(LAPIC_ID) >> 24, Ordering::Relaxed);
    let pins = ((ioapic_read(1) >> 16) & 0xff) + 1;
    PINS.store(pins, Ordering::Relaxed);
    for pin in 0..pins {
        ioapic_write(0x10 + 2 * pin, MASKED);
    }
    let found = Found {
        lapic: madt.lapic,
        ioapic: u64::from(io.address),
        gsis: (io.gsi_base, io.gsi_base + pins - 1),
        overrides: madt.overrides.len(),
        rsdp_from,
    };
    *MADT.borrow_mut() = Some(madt);
    Ok(found)
}
// endregion: init

// region: route
/// Programs the pin of ISA line `line` (vector `VECTOR_BASE + line`, fixed delivery to this
/// CPU, the route's polarity and trigger mode), masked or not. Err when the MADT routes it to
/// a GSI this IOAPIC does not have.
fn route(line: u8, bus: Bus, masked: bool) -> Result<Route, &'static str> {
    let r = MADT.borrow_mut().as_ref().ok_or("no ioapic")?.route(line, bus);
    let pin = r.gsi.checked_sub(IOAPIC_BASE_GSI.load(Ordering::Relaxed)).filter(|&p| p < PINS.load(Ordering::Relaxed));
    let pin = pin.ok_or("gsi beyond the ioapic")?;
    let low = (VECTOR_BASE as u32 + u32::from(line))
        | if r.active_low { 1 << 13 } else { 0 }
        | if r.level { 1 << 15 } else { 0 }
        | if masked { MASKED } else { 0 };
    ioapic_write(0x11 + 2 * pin, DESTINATION.load(Ordering::Relaxed) << 24);
    ioapic_write(0x10 + 2 * pin, low);
    LINE_PIN[line as usize].store(ROUTED | pin, Ordering::Relaxed);
    Ok(r)
}

/// Routes the PIT (ISA IRQ 0, an ISA line) and lets it through.
pub fn route_timer() -> Result<Route, &'static str> {
    route(0, Bus::Isa, false)
}

/// Routes a PCI function's INTx line (its interrupt line register, an ISA IRQ number on this
/// machine), masked until its driver waits for it.
pub fn route_pci_line(line: u8) -> Result<Route, &'static str> {
    route(line, Bus::Pci, true)
}

fn set_masked(line: u8, masked: bool) {
    let routed = LINE_PIN.get(line as usize).map_or(0, |p| p.load(Ordering::Relaxed));
    if routed & ROUTED == 0 {
        return;
    }
    let reg = 0x10 + 2 * (routed & !ROUTED);
    let low = ioapic_read(reg);
    ioapic_write(reg, if masked { low | MASKED } else { low & !MASKED });
}

pub fn mask_line(line: u8) {
    set_masked(line, true);
}

pub fn unmask_line(line: u8) {
    set_masked(line, false);
}

/// Ends the interrupt being handled.
pub fn eoi() {
    lapic_write(LAPIC_EOI, 0);
}
// endregion: route
