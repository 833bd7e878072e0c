//! Devices (appendix A.6): the kernel's DeviceManager and Device, and BlockDevice, the protocol
//! a block driver serves on an Endpoint.
use super::{client, empty_params, params, Endpoint, SMALL_RESULT};
use crate::error::Error;
use crate::transport::Cap;
use alloc::vec::Vec;
use capos_schema::capos_capnp::{bar, block_device, device, device_manager};
use capos_schema::ids::{DEVICE, DEVICE_MANAGER};

/// The kernel's device table (kernel cap `devices`).
pub struct DeviceManager {
    cap: Cap,
}
client!(DeviceManager, DEVICE_MANAGER);

impl DeviceManager {
    /// The manifest's device `name`, for this process alone until it exits.
    pub fn open(&self, name: &str) -> Result<Device, Error> {
        let p = params(|m| m.init_root::<device_manager::open_params::Builder>().set_name(name));
        let cap = self.result_cap(0, &p, DEVICE, "open returned no Device")?;
        Ok(Device { cap })
    }

    /// A DeviceManager that opens only device `name` (which this one must be able to open): what
    /// init hands a service whose grant says `device: "<name>"`.
    pub fn restrict(&self, name: &str) -> Result<DeviceManager, Error> {
        let p = params(|m| m.init_root::<device_manager::restrict_params::Builder>().set_name(name));
        let cap = self.result_cap(1, &p, DEVICE_MANAGER, "restrict returned no DeviceManager")?;
        Ok(DeviceManager { cap })
    }

    /// Calls `method` and takes its first result cap, which must implement `interface_id`.
    fn result_cap(&self, method: u16, p: &[u8], interface_id: u64, missing: &'static str) -> Result<Cap, Error> {
        let reply = self.cap.call(method, p, SMALL_RESULT)?;
        let first = reply.caps.first().ok_or(Error::BadReply(missing))?;
        // Made before the check, so a cap of the wrong kind is released when it drops.
        let cap = Cap::new(first.cap_id, first.interface_id, self.cap.transport().clone());
        if first.interface_id != interface_id {
            return Err(Error::BadReply(missing));
        }
        Ok(cap)
    }
}

/// One BAR as the kernel sized it at boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarInfo {
    None,
    Memory { phys: u64, size: u64 },
    Io { port: u16, size: u16 },
}

/// What `Device.info` reports.
#[derive(Clone, Debug)]
pub struct DeviceInfo {
    pub vendor: u16,
    pub device: u16,
    pub class: u8,
    pub bus: u8,
    pub slot: u8,
    pub function: u8,
    pub irq_line: u8,
    pub has_interrupt: bool,
    pub bars: Vec<BarInfo>,
    pub dma_limit: u64,
}

/// A DMA buffer: where the driver sees it and where the device does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmaRegion {
    pub address: u64,
    pub phys: u64,
    pub size: u64,
}

/// One PCI function held by this process.
pub struct Device {
    cap: Cap,
}
client!(Device, DEVICE);

impl Device {
    pub fn info(&self) -> Result<DeviceInfo, Error> {
        let reply = self.cap.call(0, &empty_params::<device::info_params::Owned>(), 1024)?;
        let msg = reply.payload.read()?;
        let r = msg.get_root::<device::info_results::Reader>()?;
        let mut bars = Vec::new();
        for b in r.get_bars()?.iter() {
            bars.push(match b.get_kind() {
                Ok(bar::Kind::Memory) => BarInfo::Memory { phys: b.get_phys(), size: b.get_size() },
                Ok(bar::Kind::Io) => BarInfo::Io { port: b.get_phys() as u16, size: b.get_size() as u16 },
                _ => BarInfo::None,
            });
        }
        Ok(DeviceInfo {
            vendor: r.get_vendor(),
            device: r.get_device(),
            class: r.get_class(),
            bus: r.get_bus(),
            slot: r.get_slot(),
            function: r.get_function(),
            irq_line: r.get_irq_line(),
            has_interrupt: r.get_has_interrupt(),
            bars,
            dma_limit: r.get_dma_limit(),
        })
    }

    /// `width` (1, 2 or 4) bytes of configuration space at `offset`.
    pub fn config_read(&self, offset: u8, width: u8) -> Result<u32, Error> {
        let p = params(|m| {
            let mut r = m.init_root::<device::config_read_params::Builder>();
            r.set_offset(offset);
            r.set_width(width);
        });
        let reply = self.cap.call(1, &p, SMALL_RESULT)?;
        Ok(reply.payload.read()?.get_root::<device::config_read_results::Reader>()?.get_value())
    }

    pub fn config_write(&self, offset: u8, width: u8, value: u32) -> Result<(), Error> {
        let p = params(|m| {
            let mut r = m.init_root::<device::config_write_params::Builder>();
            r.set_offset(offset);
            r.set_width(width);
            r.set_value(value);
        });
        self.cap.call(2, &p, SMALL_RESULT).map(|_| ())
    }

    /// Maps memory BAR `index`; returns (user address, size, physical address).
    pub fn map_bar(&self, index: u8) -> Result<(u64, u64, u64), Error> {
        let p = params(|m| m.init_root::<device::map_bar_params::Builder>().set_index(index));
        let reply = self.cap.call(3, &p, SMALL_RESULT)?;
        let msg = reply.payload.read()?;
        let r = msg.get_root::<device::map_bar_results::Reader>()?;
        Ok((r.get_address(), r.get_size(), r.get_phys()))
    }

    /// Physically contiguous memory of at least `bytes`, mapped into this process.
    pub fn alloc_dma(&self, bytes: u64) -> Result<DmaRegion, Error> {
        let p = params(|m| m.init_root::<device::alloc_dma_params::Builder>().set_bytes(bytes));
        let reply = self.cap.call(4, &p, SMALL_RESULT)?;
        let msg = reply.payload.read()?;
        let r = msg.get_root::<device::alloc_dma_results::Reader>()?;
        Ok(DmaRegion { address: r.get_address(), phys: r.get_phys(), size: r.get_size() })
    }

    pub fn free_dma(&self, address: u64) -> Result<(), Error> {
        let p = params(|m| m.init_root::<device::free_dma_params::Builder>().set_address(address));
        self.cap.call(5, &p, SMALL_RESULT).map(|_| ())
    }

    /// Waits for the device's next interrupt; returns how many it has had.
    pub fn wait_interrupt(&self) -> Result<u64, Error> {
        let reply = self.cap.call(6, &empty_params::<device::wait_interrupt_params::Owned>(), SMALL_RESULT)?;
        Ok(reply.payload.read()?.get_root::<device::wait_interrupt_results::Reader>()?.get_count())
    }

    /// Starts `waitInterrupt` without waiting: a driver that serves clients meanwhile (the
    /// network stack, chapter W.6) collects it with [`Device::interrupt_count`] once it completes.
    pub fn start_wait_interrupt(&self) -> Result<crate::StartedCall, Error> {
        self.cap.transport().start_call(
            self.cap.id(),
            6,
            empty_params::<device::wait_interrupt_params::Owned>(),
            SMALL_RESULT,
        )
    }

    /// The interrupt count a started `waitInterrupt` returned, once it has (None before).
    pub fn interrupt_count(&self, call: &mut crate::StartedCall) -> Option<Result<u64, Error>> {
        let reply = self.cap.transport().poll_call(call)?;
        Some(
            reply.and_then(|r| Ok(r.payload.read()?.get_root::<device::wait_interrupt_results::Reader>()?.get_count())),
        )
    }
}

// region: block-client
/// Method ids of the BlockDevice protocol (the schema ordinals).
pub mod block {
    pub const INFO: u16 = 0;
    pub const READ: u16 = 1;
    pub const WRITE: u16 = 2;
    pub const FLUSH: u16 = 3;
    pub const DONE: u16 = 4;
    /// Bytes per sector.
    pub const SECTOR: usize = 512;
    /// The most sectors one read or write may carry.
    pub const MAX_SECTORS: u32 = 32;
}

/// Size of a block device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockInfo {
    pub sectors: u64,
    pub sector_size: u32,
    pub max_sectors: u32,
}

/// A client of a block driver: an Endpoint client facet speaking the BlockDevice protocol.
pub struct BlockDevice {
    ep: Endpoint,
}

impl BlockDevice {
    pub fn new(ep: Endpoint) -> BlockDevice {
        BlockDevice { ep }
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.ep
    }

    pub fn info(&self) -> Result<BlockInfo, Error> {
        let reply = self.ep.call(block::INFO, &empty_params::<block_device::info_params::Owned>(), &[])?;
        let msg = reply.payload.read()?;
        let r = msg.get_root::<block_device::info_results::Reader>()?;
        Ok(BlockInfo { sectors: r.get_sectors(), sector_size: r.get_sector_size(), max_sectors: r.get_max_sectors() })
    }

    /// `count` sectors from `sector`.
    pub fn read(&self, sector: u64, count: u32) -> Result<Vec<u8>, Error> {
        let p = params(|m| {
            let mut r = m.init_root::<block_device::read_params::Builder>();
            r.set_sector(sector);
            r.set_count(count);
        });
        let capacity = count.min(block::MAX_SECTORS) as usize * block::SECTOR + 256;
        let reply = self.ep.call_with_capacity(block::READ, &p, &[], capacity)?;
        let msg = reply.payload.read()?;
        Ok(msg.get_root::<block_device::read_results::Reader>()?.get_data()?.to_vec())
    }

    /// Writes whole sectors from `sector`.
    pub fn write(&self, sector: u64, data: &[u8]) -> Result<(), Error> {
        let p = params(|m| {
            let mut r = m.init_root::<block_device::write_params::Builder>();
            r.set_sector(sector);
            r.set_data(data);
        });
        self.ep.call(block::WRITE, &p, &[]).map(|_| ())
    }

    /// Returns once everything written before is on stable storage.
    pub fn flush(&self) -> Result<(), Error> {
        self.ep.call(block::FLUSH, &empty_params::<block_device::flush_params::Owned>(), &[]).map(|_| ())
    }

    /// Tells the driver this client is finished.
    pub fn done(&self) -> Result<(), Error> {
        self.ep.call(block::DONE, &empty_params::<block_device::done_params::Owned>(), &[]).map(|_| ())
    }
}
// endregion: block-client
