//! DeviceManager and Device: the kernel side of appendix A.6.
//!
//! `DeviceManager.open(name)` hands out the manifest's device `name` as a Device cap, to one
//! holder at a time. Through the Device the holder reads its function's configuration space,
//! writes the few registers a driver needs, maps its memory BARs (uncached), allocates DMA
//! memory (physically contiguous, counted against the device's `dmaBytes`) and waits for its
//! interrupt. Every refusal is an `invalidArgument` or `failed` exception naming the cause.

use super::{done, encode, params, CallCtx, CapError, KernelCap, Reply};
use crate::devices::{self, pci, DmaBuffer, DEVICES};
use crate::mem::frame;
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use capos_schema::capnp::message::Builder;
use capos_schema::capos_capnp::{bar, device, device_manager};
use capos_schema::ids;

const PAGE: u64 = 4096;

/// The whole device table (`only: None`, init's kernel cap `devices`) or one entry of it (what
/// a service's `device: "<name>"` grant receives, made by `restrict`).
pub struct DeviceManager {
    pub only: Option<usize>,
}

// region: manager
impl KernelCap for DeviceManager {
    fn interface_id(&self) -> u64 {
        ids::DEVICE_MANAGER
    }

    fn call(&self, method: u16, bytes: &[u8], ctx: &mut CallCtx<'_>) -> Result<Reply, CapError> {
        let msg = params(bytes)?;
        let name = match method {
            0 => msg.get_root::<device_manager::open_params::Reader>()?.get_name()?.to_str()?,
            1 => msg.get_root::<device_manager::restrict_params::Reader>()?.get_name()?.to_str()?,
            _ => return Err(CapError::no_method("DeviceManager", method)),
        };
        let mut d = DEVICES.borrow_mut();
        let Some(index) = d.table.iter().position(|x| x.name == name) else {
            return Err(CapError::invalid(format!("no device named {name:?} in this system's manifest")));
        };
        if self.only.is_some_and(|only| only != index) {
            return Err(CapError::invalid(format!("device {name} was not granted to this process")));
        }
        let mut out = Builder::new_default();
        if method == 1 {
            out.init_root::<device_manager::restrict_results::Builder>();
            let one: crate::caps::Cap = alloc::rc::Rc::new(DeviceManager { only: Some(index) });
            return Ok(Reply::Done { data: encode(&out), caps: vec![one] });
        }
        let dev = &mut d.table[index];
        if let Some(holder) = dev.holder {
            return Err(CapError::failed(format!("device {name} is held by pid {holder}")));
        }
        dev.holder = Some(ctx.caller);
        out.init_root::<device_manager::open_results::Builder>();
        Ok(Reply::Done { data: encode(&out), caps: vec![devices::new_cap(index)] })
    }
}
// endregion: manager

/// One held device: an index into the device table.
pub struct DeviceCap {
    pub index: usize,
}

/// The `waitInterrupt` result for the `count`-th interrupt.
pub fn encode_interrupt(count: u64) -> Vec<u8> {
    let mut out = Builder::new_default();
    out.init_root::<device::wait_interrupt_results::Builder>().set_count(count);
    encode(&out)
}

impl KernelCap for DeviceCap {
    fn interface_id(&self) -> u64 {
        ids::DEVICE
    }

    /// A Device stays with the process that opened it: its release is tied to that process.
    fn transferable(&self) -> bool {
        false
    }

    fn call(&self, method: u16, bytes: &[u8], ctx: &mut CallCtx<'_>) -> Result<Reply, CapError> {
        let mut d = DEVICES.borrow_mut();
        let dev = &mut d.table[self.index];
        if dev.holder != Some(ctx.caller) {
            return Err(CapError::failed("this device was released"));
        }
        match method {
            0 => info(dev),
            1 => config_read(dev, bytes),
            2 => config_write(dev, bytes),
            3 => map_bar(self.index, dev, bytes, ctx),
            4 => alloc_dma(dev, bytes, ctx),
            5 => free_dma(dev, bytes, ctx),
            6 => wait_interrupt(dev, ctx),
            m => Err(CapError::no_method("Device", m)),
        }
    }
}

// region: info
fn info(dev: &devices::Device) -> Result<Reply, CapError> {
    let f = &dev.function;
    let mut out = Builder::new_default();
    let mut r = out.init_root::<device::info_results::Builder>();
    r.set_vendor(f.vendor);
    r.set_device(f.device);
    r.set_class(f.class);
    r.set_bus(f.at.bus);
    r.set_slot(f.at.slot);
    r.set_function(f.at.function);
    r.set_irq_line(f.irq_line);
    r.set_has_interrupt(dev.interrupt);
    r.set_dma_limit(dev.dma_limit);
    let mut list = r.init_bars(6);
    for (i, b) in f.bars.iter().enumerate() {
        let mut e = list.reborrow().get(i as u32);
        e.set_index(i as u8);
        match *b {
            pci::Bar::None => e.set_kind(bar::Kind::None),
            pci::Bar::Memory { phys, size, .. } => {
                e.set_kind(bar::Kind::Memory);
                e.set_phys(phys);
                e.set_size(size);
            }
            pci::Bar::Io { port, size } => {
                e.set_kind(bar::Kind::Io);
                e.set_phys(port as u64);
                e.set_size(size as u64);
            }
        }
    }
    done(encode(&out))
}
// endregion: info

// region: config
/// Checks an access of `width` bytes at `offset`: 1, 2 or 4, naturally aligned, inside 256 bytes.
fn access(offset: u8, width: u8) -> Result<(), CapError> {
    if !matches!(width, 1 | 2 | 4) || !offset.is_multiple_of(width) {
        return Err(CapError::invalid(format!("config access of width {width} at offset {offset:#x} is not aligned")));
    }
    Ok(())
}

/// Reads the function's own configuration space. A BAR register mid-sizing answers the size
/// mask the kernel read at boot; the real register is never changed by a driver.
fn config_read(dev: &devices::Device, bytes: &[u8]) -> Result<Reply, CapError> {
    let msg = params(bytes)?;
    let p = msg.get_root::<device::config_read_params::Reader>()?;
    let (offset, width) = (p.get_offset(), p.get_width());
    access(offset, width)?;
    let aligned = offset & !3;
    let word = match bar_register(aligned) {
        Some(i) if dev.sizing[i] => sizing_mask(&dev.function.bars, i),
        _ => pci::read32(dev.function.at, aligned),
    };
    let shift = (offset & 3) as u32 * 8;
    let value = if width == 4 { word } else { (word >> shift) & ((1u32 << (width as u32 * 8)) - 1) };
    let mut out = Builder::new_default();
    out.init_root::<device::config_read_results::Builder>().set_value(value);
    done(encode(&out))
}

/// The command bits a driver may change: I/O space, memory space, bus master, INTx disable.
const COMMAND_WRITABLE: u32 = 0x1 | 0x2 | 0x4 | 1 << 10;

/// Writes the command register (only [`COMMAND_WRITABLE`] bits; the status half is never
/// written, so its write-one-to-clear bits stay) and plays the BAR sizing protocol: all ones
/// starts sizing, the register's own value ends it, anything else is refused, so a driver can
/// never move a BAR over RAM. Every other register is read-only to a driver.
fn config_write(dev: &mut devices::Device, bytes: &[u8]) -> Result<Reply, CapError> {
    let msg = params(bytes)?;
    let p = msg.get_root::<device::config_write_params::Reader>()?;
    let (offset, width, value) = (p.get_offset(), p.get_width(), p.get_value());
    access(offset, width)?;
    let at = dev.function.at;
    if offset == 4 && width >= 2 {
        let command = pci::read32(at, 4) & 0xffff;
        pci::write32(at, 4, (command & !COMMAND_WRITABLE) | (value & COMMAND_WRITABLE));
    } else if let (Some(i), 4) = (bar_register(offset), width) {
        if value == 0xffff_ffff {
            dev.sizing[i] = true;
        } else if value == pci::read32(at, offset) {
            dev.sizing[i] = false;
        } else {
            return Err(CapError::invalid(format!("bar register {offset:#x}: a driver cannot move a bar")));
        }
    } else {
        return Err(CapError::invalid(format!(
            "config offset {offset:#x} (width {width}) is not writable by a driver"
        )));
    }
    let mut out = Builder::new_default();
    out.init_root::<device::config_write_results::Builder>();
    done(encode(&out))
}

fn bar_register(offset: u8) -> Option<usize> {
    (0x10..0x28).contains(&offset).then(|| ((offset - 0x10) / 4) as usize)
}

/// What register `i` reads back after all ones were written to it, from the boot sizing.
fn sizing_mask(bars: &[pci::Bar; 6], i: usize) -> u32 {
    match bars[i] {
        pci::Bar::Io { size, .. } => !(size as u32 - 1) | 1,
        pci::Bar::Memory { size, wide, phys } => {
            (!(size - 1)) as u32 & 0xffff_fff0 | (phys as u32 & 0xf) | if wide { 0b100 } else { 0 }
        }
        // The upper half of a 64-bit BAR.
        pci::Bar::None if i > 0 => match bars[i - 1] {
            pci::Bar::Memory { size, wide: true, .. } => ((!(size - 1)) >> 32) as u32,
            _ => 0,
        },
        pci::Bar::None => 0,
    }
}
// endregion: config

// region: map-bar
/// Maps memory BAR `index` into the caller, uncached, at the device's window; once per BAR.
fn map_bar(
    dev_index: usize,
    dev: &mut devices::Device,
    bytes: &[u8],
    ctx: &mut CallCtx<'_>,
) -> Result<Reply, CapError> {
    let msg = params(bytes)?;
    let index = msg.get_root::<device::map_bar_params::Reader>()?.get_index();
    let bar = dev.function.bars.get(index as usize).copied().unwrap_or(pci::Bar::None);
    let (phys, size) = match bar {
        pci::Bar::Memory { phys, size, .. } => (phys, size),
        pci::Bar::Io { .. } => return Err(CapError::invalid(format!("bar {index} is an i/o port bar, not memory"))),
        pci::Bar::None => return Err(CapError::invalid(format!("bar {index} does not exist on this device"))),
    };
    if phys == 0 || size > devices::BAR_WINDOW || phys % PAGE != 0 && size >= PAGE {
        return Err(CapError::failed(format!("bar {index} is not assigned a usable address ({phys:#x}+{size:#x})")));
    }
    let va = devices::bar_address(dev_index, index);
    if !dev.mapped.iter().any(|m| m.0 == index) {
        let base = phys & !(PAGE - 1);
        let len = (phys + size).div_ceil(PAGE) * PAGE - base;
        for off in (0..len).step_by(PAGE as usize) {
            ctx.space
                .map_device(va + off, base + off)
                .map_err(|_| CapError::failed("out of memory for page tables"))?;
        }
        dev.mapped.push((index, va, len));
    }
    let mut out = Builder::new_default();
    let mut r = out.init_root::<device::map_bar_results::Builder>();
    r.set_address(va + (phys & (PAGE - 1)));
    r.set_size(size);
    r.set_phys(phys);
    done(encode(&out))
}
// endregion: map-bar

// region: dma
/// Allocates `bytes` (rounded up to pages) of physically contiguous, zeroed memory, maps it
/// into the caller and reports both addresses. Refused: 0 bytes, and anything past the
/// device's `dmaBytes` quota (which bounds 2^40 long before the frame allocator is asked).
fn alloc_dma(dev: &mut devices::Device, bytes: &[u8], ctx: &mut CallCtx<'_>) -> Result<Reply, CapError> {
    let msg = params(bytes)?;
    let len = msg.get_root::<device::alloc_dma_params::Reader>()?.get_bytes();
    if len == 0 {
        return Err(CapError::invalid("dma length 0"));
    }
    let pages = len.div_ceil(PAGE);
    if pages.saturating_mul(PAGE) > dev.dma_limit.saturating_sub(dev.dma_used) {
        return Err(CapError::failed(format!(
            "dma length {len} is over this device's quota ({} of {} bytes in use)",
            dev.dma_used, dev.dma_limit
        )));
    }
    // The run is charged to the caller's memory quota too: DMA memory is physical memory.
    ctx.space.charge(pages).map_err(|e| CapError::overloaded(format!("dma length {len}: {e}")))?;
    let Some(phys) = frame::alloc_contiguous(pages) else {
        ctx.space.uncharge(pages);
        return Err(CapError::failed("no contiguous physical memory left"));
    };
    let va = dev.dma_next;
    for i in 0..pages {
        let f = phys + i * PAGE;
        frame::zero(f);
        if let Err(e) = ctx.space.map(va + i * PAGE, f, true, false) {
            // Undo the whole run: nothing of it stays mapped, charged or taken.
            for j in 0..i {
                ctx.space.unmap(va + j * PAGE);
            }
            for j in 0..pages {
                frame::free(phys + j * PAGE);
            }
            ctx.space.uncharge(pages);
            return Err(CapError::overloaded(format!("dma page tables: {e}")));
        }
    }
    dev.dma_next += pages * PAGE;
    dev.dma_used += pages * PAGE;
    dev.dma.push(DmaBuffer { va, pages });
    let mut out = Builder::new_default();
    let mut r = out.init_root::<device::alloc_dma_results::Builder>();
    r.set_address(va);
    r.set_phys(phys);
    r.set_size(pages * PAGE);
    done(encode(&out))
}

/// Unmaps and frees a buffer from `allocDma`, named by its user address. A second free of the
/// same address finds nothing and is refused.
fn free_dma(dev: &mut devices::Device, bytes: &[u8], ctx: &mut CallCtx<'_>) -> Result<Reply, CapError> {
    let msg = params(bytes)?;
    let va = msg.get_root::<device::free_dma_params::Reader>()?.get_address();
    let Some(pos) = dev.dma.iter().position(|b| b.va == va) else {
        return Err(CapError::invalid(format!("no dma buffer at {va:#x} (never allocated, or freed already)")));
    };
    let b = dev.dma.remove(pos);
    for i in 0..b.pages {
        if let Some(f) = ctx.space.unmap(b.va + i * PAGE) {
            frame::free(f);
            ctx.space.uncharge(1);
        }
    }
    dev.dma_used -= b.pages * PAGE;
    let mut out = Builder::new_default();
    out.init_root::<device::free_dma_results::Builder>();
    done(encode(&out))
}
// endregion: dma

// region: interrupt
/// Unmasks the line and completes when the next interrupt arrives (the handler masks it
/// again): the driver clears the device's cause, then waits again.
fn wait_interrupt(dev: &mut devices::Device, ctx: &mut CallCtx<'_>) -> Result<Reply, CapError> {
    if !dev.interrupt {
        return Err(CapError::invalid(format!("device {} was granted without its interrupt", dev.name)));
    }
    if dev.waiter.is_some() {
        return Err(CapError::invalid("a waitInterrupt call is already pending on this device"));
    }
    dev.waiter = Some((ctx.caller, ctx.pending));
    crate::arch::apic::unmask_line(dev.function.irq_line);
    Ok(Reply::Pending)
}
// endregion: interrupt
