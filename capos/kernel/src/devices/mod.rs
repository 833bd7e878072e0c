//! Devices as capabilities (appendix A.6).
//!
//! At boot the kernel enumerates PCI and binds each manifest `devices` entry to the first
//! matching function. From then on a function is reachable only through the DeviceManager cap
//! (`caps::device`), which hands it to one driver process at a time as a Device cap. This module
//! owns the table and what outlives a single call: who holds each device, its user mappings,
//! its DMA memory, its interrupt waiter, and the release when the holder ends.
//!
//! Interrupts: the handler (`irq`) only masks the line, acknowledges the PIC and records the
//! line as pending; the scheduler then calls [`deliver`], which completes the waiting
//! `waitInterrupt` call as a ring completion. The handler touches no other state, so it is safe
//! from the idle `hlt` as well as from ring 3.

pub mod pci;

use crate::arch::apic;
use crate::caps::Cap;
use crate::kcell::KCell;
use crate::klog;
use crate::mem::paging::AddressSpace;
use crate::process::Pid;
use crate::sched::Kernel;
use alloc::string::String;
use alloc::vec::Vec;
use capos_kcore::ring::{Outcome, PendingCall};
use core::sync::atomic::{AtomicU16, Ordering};
use pci::{Bar, Function};

// region: layout
/// Where a device's BARs appear in its driver: one 4 GiB window per device, 256 MiB per BAR.
pub const MMIO_BASE: u64 = 0x0000_4000_0000_0000;
/// Where its DMA buffers appear: one 4 GiB window per device.
pub const DMA_BASE: u64 = 0x0000_5000_0000_0000;
const WINDOW: u64 = 1 << 32;
pub const BAR_WINDOW: u64 = 1 << 28;
// endregion: layout

/// One DMA buffer: user address and page count (its frames are contiguous).
#[derive(Clone, Copy, Debug)]
pub struct DmaBuffer {
    pub va: u64,
    pub pages: u64,
}

/// A bound device and its current holder.
pub struct Device {
    pub name: String,
    pub function: Function,
    pub interrupt: bool,
    pub dma_limit: u64,
    pub holder: Option<Pid>,
    /// BARs mapped into the holder: (bar index, user address, bytes).
    pub mapped: Vec<(u8, u64, u64)>,
    pub dma: Vec<DmaBuffer>,
    pub dma_used: u64,
    /// Next free user address in the DMA window.
    pub dma_next: u64,
    /// A BAR register the driver wrote all ones to (the sizing protocol): reads answer the mask.
    pub sizing: [bool; 6],
    pub waiter: Option<(Pid, PendingCall)>,
    pub interrupts: u64,
}

pub struct Devices {
    pub table: Vec<Device>,
}

pub static DEVICES: KCell<Devices> = KCell::new(Devices { table: Vec::new() });

/// IRQ lines that fired and are not yet delivered (bit n = line n).
static PENDING: AtomicU16 = AtomicU16::new(0);

// region: bind
/// Enumerates PCI, logs every function (the BAR finding of appendix A.6 comes from these lines),
/// and binds the manifest's device entries. An entry with no matching function is logged and
/// left out: DeviceManager.open then says it does not exist.
pub fn init(specs: &[capos_schema::manifest::DeviceSpec<'_>]) {
    let mut found = Vec::new();
    pci::enumerate(|f| found.push(f));
    for f in &found {
        log_function(f);
    }
    let mut windows = pci::Windows::new(&found);
    let mut d = DEVICES.borrow_mut();
    for (index, spec) in specs.iter().enumerate() {
        let taken = |f: &Function| d.table.iter().any(|x| x.function.at == f.at);
        let matching = found.iter().find(|f| {
            f.vendor == spec.vendor
                && (spec.device == 0 || f.device == spec.device)
                && f.class == spec.class
                && !taken(f)
        });
        let Some(&(mut function)) = matching else {
            klog!(
                "device {}: no pci function {:04x}:{:04x} class {:02x}",
                spec.name,
                spec.vendor,
                spec.device,
                spec.class
            );
            continue;
        };
        let assigned = windows.assign(&mut function);
        if assigned != 0 {
            let mut line = alloc::format!("device {}: firmware left bars unassigned; assigned", spec.name);
            for (i, bar) in function.bars.iter().enumerate().filter(|(i, _)| assigned & 1 << i != 0) {
                line += &describe_bar(i, bar);
            }
            klog!("{}", line);
        }
        let route = match function.irq_line {
            0xff => None,
            line => match apic::route_pci_line(line) {
                Ok(r) => Some(r),
                Err(why) => {
                    klog!("device {}: irq {line} not routed: {why}", spec.name);
                    None
                }
            },
        };
        // A driver starts from a function that is reset, decodes nothing and cannot bus-master.
        reset(spec.name, &function);
        quiesce(&function);
        klog!("device {} is pci {:02x}:{:02x}.{}", spec.name, function.at.bus, function.at.slot, function.at.function);
        if let Some(r) = route {
            klog!("device {}: irq {} -> ioapic gsi {} ({})", spec.name, function.irq_line, r.gsi, describe_route(&r));
        }
        d.table.push(Device {
            name: String::from(spec.name),
            function,
            interrupt: spec.interrupt && route.is_some(),
            dma_limit: spec.dma_bytes,
            holder: None,
            mapped: Vec::new(),
            dma: Vec::new(),
            dma_used: 0,
            dma_next: DMA_BASE + index as u64 * WINDOW,
            sizing: [false; 6],
            waiter: None,
            interrupts: 0,
        });
    }
}

/// ` bar1 mem32 0xfebd1000+0x1000`, or nothing for an unused BAR.
fn describe_bar(i: usize, bar: &Bar) -> String {
    match *bar {
        Bar::None => String::new(),
        Bar::Memory { phys, size, wide } => {
            alloc::format!(" bar{i} mem{} {phys:#x}+{size:#x}", if wide { "64" } else { "32" })
        }
        Bar::Io { port, size } => alloc::format!(" bar{i} io {port:#x}+{size:#x}"),
    }
}

fn log_function(f: &Function) {
    let mut line = alloc::format!(
        "pci {:02x}:{:02x}.{} {:04x}:{:04x} class {:02x}.{:02x}",
        f.at.bus,
        f.at.slot,
        f.at.function,
        f.vendor,
        f.device,
        f.class,
        f.subclass
    );
    for (i, bar) in f.bars.iter().enumerate() {
        line += &describe_bar(i, bar);
    }
    if f.irq_line != 0xff {
        line += &alloc::format!(" irq {}", f.irq_line);
    }
    klog!("{}", line);
}
// endregion: bind

/// "level, active low" and the like, for the boot log.
pub fn describe_route(r: &capos_kcore::acpi::Route) -> &'static str {
    match (r.level, r.active_low) {
        (true, true) => "level, active low",
        (true, false) => "level, active high",
        (false, true) => "edge, active low",
        (false, false) => "edge, active high",
    }
}

/// The user address of device `index`'s BAR `bar`.
pub fn bar_address(index: usize, bar: u8) -> u64 {
    MMIO_BASE + index as u64 * WINDOW + bar as u64 * BAR_WINDOW
}

// region: irq
/// The vector of a line the device table uses, for the trap handler.
pub fn line_of_vector(vector: u64) -> Option<u8> {
    let line = vector.checked_sub(apic::VECTOR_BASE)? as u8;
    (1..16).contains(&line).then_some(line)
}

/// The interrupt handler for a device line: mask its IOAPIC pin, acknowledge the local APIC,
/// remember. Runs with any state borrowed (it may interrupt the idle loop), so it touches only
/// the APIC registers and `PENDING`.
pub fn irq(line: u8) {
    apic::mask_line(line);
    apic::eoi();
    PENDING.fetch_or(1 << line, Ordering::Relaxed);
}

/// Completes the `waitInterrupt` calls of every line that fired. The scheduler calls it
/// before it picks a process.
pub fn deliver(k: &mut Kernel) {
    let lines = PENDING.swap(0, Ordering::Relaxed);
    if lines == 0 {
        return;
    }
    let mut woken = Vec::new();
    {
        let mut d = DEVICES.borrow_mut();
        for dev in d.table.iter_mut().filter(|x| x.interrupt && lines & (1 << x.function.irq_line) != 0) {
            dev.interrupts += 1;
            if let Some((pid, pending)) = dev.waiter.take() {
                woken.push((pid, pending, dev.interrupts));
            }
        }
    }
    for (pid, pending, count) in woken {
        let data = crate::caps::device::encode_interrupt(count);
        crate::sched::complete_call(k, pid, pending, Outcome::Reply { data, caps: Vec::new() });
    }
}

/// True while some driver waits for an interrupt: the scheduler then halts instead of
/// reporting a deadlock when nothing is runnable.
pub fn interrupt_awaited() -> bool {
    DEVICES.borrow_mut().table.iter().any(|d| d.waiter.is_some())
}
// endregion: irq

// region: release
/// Releases every device `pid` holds, before its address space is destroyed: decoding and bus
/// mastering off (so the function can neither be reached nor write memory any more), the line
/// masked, the BAR pages unmapped (they are not RAM, so the space must not free them), the DMA
/// bookkeeping dropped (those frames are mapped, so destroying the space frees them), the
/// waiter dropped. The device can then be opened again.
pub fn process_exiting(pid: Pid, space: &AddressSpace) {
    let mut d = DEVICES.borrow_mut();
    for dev in d.table.iter_mut().filter(|x| x.holder == Some(pid)) {
        reset(&dev.name, &dev.function);
        quiesce(&dev.function);
        if dev.interrupt {
            apic::mask_line(dev.function.irq_line);
        }
        for &(_, va, len) in &dev.mapped {
            for page in (va..va + len).step_by(4096) {
                space.unmap(page);
            }
        }
        dev.mapped.clear();
        dev.dma.clear();
        dev.dma_used = 0;
        dev.sizing = [false; 6];
        dev.waiter = None;
        dev.holder = None;
        klog!("device {} released by pid {}: bus mastering off, mappings gone", dev.name, pid);
    }
}

/// Resets the function where the kernel knows how: a transitional virtio function (vendor
/// 0x1af4, device 0x1000-0x103f) has its legacy i/o bar 0, whose device status register
/// (offset 18) resets the device when written with 0: its queues stop, its features and
/// configuration are forgotten, and it deasserts its interrupt. The kernel opens i/o decoding
/// for the write (quiesce closes it again) and reads the status back. Other functions get only
/// the quiesce (no generic PCI reset exists on this bus: function-level reset is a PCIe feature).
fn reset(name: &str, f: &Function) {
    let Bar::Io { port, .. } = f.bars[0] else { return };
    if f.vendor != 0x1af4 || !(0x1000..=0x103f).contains(&f.device) {
        return;
    }
    let command = pci::read32(f.at, 4) & 0xffff;
    pci::write32(f.at, 4, command | 1);
    crate::arch::port::outb(port + 18, 0);
    let status = crate::arch::port::inb(port + 18);
    klog!("device {name} reset: virtio status written 0 through i/o port {:#x}, reads back {status}", port + 18);
}

/// Turns off I/O and memory decoding and bus mastering, and disables INTx.
pub fn quiesce(f: &Function) {
    let command = pci::read32(f.at, 4) & 0xffff;
    pci::write32(f.at, 4, (command & !0x7) | 1 << 10);
}
// endregion: release

/// The Device cap for table entry `index`, now held by `pid`.
pub fn new_cap(index: usize) -> Cap {
    alloc::rc::Rc::new(crate::caps::device::DeviceCap { index })
}
