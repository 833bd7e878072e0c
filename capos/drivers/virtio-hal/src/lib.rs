//! virtio-drivers' `Hal` and `ConfigurationAccess` over the Device cap.
//!
//! The crate calls both through static functions (no `self`), so the Device and what the
//! driver learned from it live in one process-wide [`State`], set once by [`install`] before
//! the crate is first called. A driver is one single-threaded process, so nothing races.
#![no_std]
extern crate alloc;

use alloc::vec::Vec;
use capos_rt::{Device, DmaRegion};
use core::cell::UnsafeCell;
use core::ptr::NonNull;
use virtio_drivers::transport::pci::bus::{ConfigurationAccess, DeviceFunction};
use virtio_drivers::{BufferDirection, Hal, PhysAddr};

/// A memory BAR mapped into this process.
pub struct MappedBar {
    pub phys: u64,
    pub size: u64,
    pub address: u64,
}

/// Bounce buffers for `share`: requests copy through DMA memory, because the driver does not
/// know (and must not need) the physical address of its own heap.
pub struct Bounce {
    pub region: DmaRegion,
    pub used: u64,
    pub outstanding: u32,
}

pub struct State {
    pub device: Device,
    pub bars: Vec<MappedBar>,
    pub bounce: Bounce,
    /// DMA regions whose buffers the device may use in place (a network driver's receive
    /// buffers): `share` of a buffer inside one returns its physical address, with no copy.
    pub direct: Vec<DmaRegion>,
}

/// The physical address of `len` bytes at `address` if they lie inside one of `regions`.
fn direct_phys(regions: &[DmaRegion], address: u64, len: u64) -> Option<u64> {
    regions
        .iter()
        .find(|r| address >= r.address && address + len <= r.address + r.size)
        .map(|r| r.phys + (address - r.address))
}

/// Whether a physical address belongs to one of `regions` (so `unshare` has nothing to copy back).
fn is_direct(regions: &[DmaRegion], phys: u64) -> bool {
    regions.iter().any(|r| phys >= r.phys && phys < r.phys + r.size)
}

struct Global(UnsafeCell<Option<State>>);
// SAFETY: the driver is one single-threaded process; see the module doc.
unsafe impl Sync for Global {}
static STATE: Global = Global(UnsafeCell::new(None));

pub fn install(state: State) {
    // SAFETY: called once, before virtio-drivers runs, with no other reference alive.
    unsafe { *STATE.0.get() = Some(state) };
}

/// The installed state. Each caller uses the reference for one short step only.
pub fn state() -> &'static mut State {
    // SAFETY: single-threaded; `install` ran first; no two of these borrows overlap because
    // every user finishes with it before calling back into virtio-drivers.
    unsafe { (*STATE.0.get()).as_mut().expect("hal state installed before the driver starts") }
}

// region: hal
pub struct CapHal;

// SAFETY: dma_alloc returns zeroed, physically contiguous pages the kernel mapped for this
// process and reports the true physical address; mmio_phys_to_virt returns the mapping of a
// BAR the kernel mapped; share returns the physical address of a bounce buffer of at least
// the buffer's length that stays allocated until unshare.
unsafe impl Hal for CapHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        match state().device.alloc_dma(pages as u64 * 4096) {
            Ok(r) => (r.phys, NonNull::new(r.address as *mut u8).expect("dma address is not null")),
            Err(_) => (0, NonNull::dangling()),
        }
    }

    unsafe fn dma_dealloc(_paddr: PhysAddr, vaddr: NonNull<u8>, _pages: usize) -> i32 {
        match state().device.free_dma(vaddr.as_ptr() as u64) {
            Ok(()) => 0,
            Err(_) => -1,
        }
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, size: usize) -> NonNull<u8> {
        let bar = state()
            .bars
            .iter()
            .find(|b| paddr >= b.phys && paddr + size as u64 <= b.phys + b.size)
            .expect("virtio-drivers asked for a region inside a mapped bar");
        NonNull::new((bar.address + (paddr - bar.phys)) as *mut u8).expect("bar address is not null")
    }

    unsafe fn share(buffer: NonNull<[u8]>, direction: BufferDirection) -> PhysAddr {
        let s = state();
        let len = buffer.len() as u64;
        if let Some(phys) = direct_phys(&s.direct, buffer.as_ptr() as *const u8 as u64, len) {
            return phys;
        }
        let b = &mut s.bounce;
        let at = b.used;
        assert!(at + len <= b.region.size, "bounce pool exhausted");
        b.used = (at + len).div_ceil(16) * 16;
        b.outstanding += 1;
        let dst = (b.region.address + at) as *mut u8;
        if direction != BufferDirection::DeviceToDriver {
            // SAFETY: dst lies inside the mapped bounce region; the source is the caller's buffer.
            unsafe { core::ptr::copy_nonoverlapping(buffer.as_ptr() as *const u8, dst, buffer.len()) };
        }
        b.region.phys + at
    }

    unsafe fn unshare(paddr: PhysAddr, buffer: NonNull<[u8]>, direction: BufferDirection) {
        let s = state();
        if is_direct(&s.direct, paddr) {
            return;
        }
        let b = &mut s.bounce;
        let src = (b.region.address + (paddr - b.region.phys)) as *const u8;
        if direction != BufferDirection::DriverToDevice {
            // SAFETY: src is the bounce copy made by share for this buffer.
            unsafe { core::ptr::copy_nonoverlapping(src, buffer.as_ptr() as *mut u8, buffer.len()) };
        }
        b.outstanding -= 1;
        if b.outstanding == 0 {
            b.used = 0;
        }
    }
}
// endregion: hal

// region: config-access
/// Configuration space through `Device.configRead`/`configWrite`: the kernel serves only this
/// device's function, whatever `DeviceFunction` the crate passes.
pub struct CapConfig;

impl ConfigurationAccess for CapConfig {
    fn read_word(&self, _function: DeviceFunction, offset: u8) -> u32 {
        state().device.config_read(offset, 4).unwrap_or(0xffff_ffff)
    }

    fn write_word(&mut self, _function: DeviceFunction, offset: u8, data: u32) {
        // A refused write leaves the register as it was; virtio-drivers reads back what it needs.
        let _ = state().device.config_write(offset, 4, data);
    }

    unsafe fn unsafe_clone(&self) -> Self {
        CapConfig
    }
}
// endregion: config-access

// region: open
/// Maps every memory BAR of `device` (virtio's modern structures live in them; I/O BARs are
/// never granted, appendix A.6).
pub fn map_memory_bars(
    device: &Device,
    info: &capos_rt::client::DeviceInfo,
) -> Result<Vec<MappedBar>, capos_rt::Error> {
    let mut bars = Vec::new();
    for (i, b) in info.bars.iter().enumerate() {
        if let capos_rt::client::BarInfo::Memory { .. } = b {
            let (address, size, phys) = device.map_bar(i as u8)?;
            bars.push(MappedBar { phys, size, address });
        }
    }
    Ok(bars)
}
// endregion: open
