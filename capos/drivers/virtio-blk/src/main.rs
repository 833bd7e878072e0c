//! virtio-blk: a userspace block driver (appendix A.6).
//!
//! Grants: `console`, `devices` (DeviceManager), `serve` (the owner facet of its `blk` export)
//! `clients` (text: how many clients will say `done`; 1 when absent) and optionally `dieAfter` (text: fault on purpose after that many requests, for the
//! driver-death smoke). It opens device `blk0`, turns on memory decoding and bus mastering,
//! maps the memory BARs, hands virtio-drivers a Hal and a configuration access built on the
//! Device cap, and then serves BlockDevice calls one at a time. Reads and writes wait for the
//! device's interrupt as a ring completion; flush (for which virtio-drivers 0.13 has no
//! non-blocking form) and device set-up poll the used ring.
#![no_std]
#![no_main]
extern crate alloc;

mod serve;

use capos_virtio_hal as hal;

use alloc::format;
use alloc::vec::Vec;
use capos_rt::{Console, DeviceManager, EndpointOwner, Error, Runtime};
use core::sync::atomic::{AtomicU64, Ordering};
use hal::{Bounce, CapConfig, CapHal, State};
use virtio_drivers::device::blk::VirtIOBlk;
use virtio_drivers::transport::pci::bus::{Command, DeviceFunction, PciRoot};
use virtio_drivers::transport::pci::PciTransport;

capos_rt::entry!(main);
capos_rt::heap!(512 * 1024);

/// Bounce memory: room for the largest request plus its header and status.
const BOUNCE_BYTES: u64 = 32 * 1024;

pub type Blk = VirtIOBlk<CapHal, PciTransport>;

fn main(rt: &mut Runtime) -> i32 {
    capos_rt::with_console(rt, run)
}

fn run(rt: &mut Runtime, console: &Console) -> Result<i32, Error> {
    let devices: DeviceManager = rt.take("devices")?;
    let serve: EndpointOwner = rt.take("serve")?;
    // How many clients the manifest wired to this driver; it exits once each has said `done`.
    let clients = match rt.take::<capos_rt::Blob>("clients") {
        Ok(b) => b.read_string()?.trim().parse::<u32>().unwrap_or(1),
        Err(_) => 1,
    };
    let die_after = match rt.take::<capos_rt::Blob>("dieAfter") {
        Ok(b) => b.read_string()?.trim().parse::<u32>().ok(),
        Err(_) => None,
    };
    let mut blk = start(&devices, console)?;
    console.write_line(&format!("virtio-blk: {} sectors, serving", blk.capacity()))?;
    serve::serve(&mut blk, &serve, console, clients, die_after)
}

// region: start
/// Opens `blk0` and brings up the virtio device on it.
fn start(devices: &DeviceManager, console: &Console) -> Result<Blk, Error> {
    let device = devices.open("blk0")?;
    let info = device.info()?;
    let bars = hal::map_memory_bars(&device, &info)?;
    let region = device.alloc_dma(BOUNCE_BYTES)?;
    console.write_line(&format!(
        "device {:04x}:{:04x} at {:02x}:{:02x}.{}, irq {}, {} memory bars mapped",
        info.vendor,
        info.device,
        info.bus,
        info.slot,
        info.function,
        info.irq_line,
        bars.len()
    ))?;
    hal::install(State { device, bars, bounce: Bounce { region, used: 0, outstanding: 0 }, direct: Vec::new() });
    let function = DeviceFunction { bus: info.bus, device: info.slot, function: info.function };
    let mut root = PciRoot::new(CapConfig);
    // Clears INTx-disable too: the kernel hands the function over quiesced.
    root.set_command(function, Command::MEMORY_SPACE | Command::BUS_MASTER);
    let transport = PciTransport::new::<CapHal, CapConfig>(&mut root, function)
        .map_err(|e| Error::Decode(format!("virtio pci transport: {e}")))?;
    VirtIOBlk::new(transport).map_err(|e| Error::Decode(format!("virtio-blk init: {e}")))
}
// endregion: start

// region: wait
/// Waits for the request `token` to complete: first the device's interrupt, as the completion of
/// a `waitInterrupt` call in this process's ring, then an acknowledgement at the device (reading
/// its ISR lowers the level-triggered line), then a look at the used ring. Under TCG the device
/// often finishes during the notify itself; its line then stays asserted (and masked) until
/// this wait unmasks it, so the interrupt is taken at once rather than lost. A stale interrupt
/// (from a polled flush) only costs one more round of the loop.
pub fn wait_for(blk: &mut Blk, token: u16) -> Result<(), Error> {
    loop {
        INTERRUPTS.store(hal::state().device.wait_interrupt()?, Ordering::Relaxed);
        blk.ack_interrupt();
        if blk.peek_used() == Some(token) {
            return Ok(());
        }
    }
}
// endregion: wait

/// The device's interrupt count as of the last wait (the kernel counts them).
pub static INTERRUPTS: AtomicU64 = AtomicU64::new(0);
