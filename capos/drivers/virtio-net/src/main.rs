//! virtio-net: the NIC driver and the TCP/IP stack in one process (chapter W.6).
//!
//! Grants: `console`, `devices` (a DeviceManager restricted to `net0`: `devices: device: "net0"`), `timer`, `grants` (text: one
//! line per client endpoint, see `grant`), one `export` per line of `grants` under that line's
//! name, and optionally `dieAfter` (text: fault on purpose at that call, for the stack-death
//! smoke). The stack is smoltcp on a static IPv4 address: QEMU's user network puts the guest at
//! 10.0.2.15/24 behind the gateway 10.0.2.2, and the smokes use IP literals only.
#![no_std]
#![no_main]
extern crate alloc;

mod grant;
mod nic;
mod serve;
mod stack;
mod wire;

use alloc::format;
use alloc::vec::Vec;
use capos_rt::{Blob, Console, DeviceManager, EndpointOwner, Error, Runtime, Timer};
use capos_virtio_hal::{self as hal, Bounce, CapConfig, CapHal, State};
use smoltcp::iface::{Config, Interface};
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpCidr, Ipv4Address};
use virtio_drivers::transport::pci::bus::{Command, DeviceFunction, PciRoot};
use virtio_drivers::transport::pci::PciTransport;

capos_rt::entry!(main);
capos_rt::heap!(4 * 1024 * 1024);

const BOUNCE_BYTES: u64 = 16 * 1024;
pub const GUEST: Ipv4Address = Ipv4Address::new(10, 0, 2, 15);
pub const GATEWAY: Ipv4Address = Ipv4Address::new(10, 0, 2, 2);

fn main(rt: &mut Runtime) -> i32 {
    capos_rt::with_console(rt, run)
}

fn text(rt: &mut Runtime, name: &str) -> Result<Option<alloc::string::String>, Error> {
    match rt.take::<Blob>(name) {
        Ok(b) => Ok(Some(b.read_string()?)),
        Err(_) => Ok(None),
    }
}

// region: run
fn run(rt: &mut Runtime, console: &Console) -> Result<i32, Error> {
    let devices: DeviceManager = rt.take("devices")?;
    let timer: Timer = rt.take("timer")?;
    let grants = grant::parse(&text(rt, "grants")?.unwrap_or_default()).map_err(Error::Decode)?;
    let die_after = text(rt, "dieAfter")?.and_then(|t| t.trim().parse::<u64>().ok());
    let mut owners = Vec::new();
    for g in &grants {
        owners.push(rt.take::<EndpointOwner>(&g.export)?);
    }
    let mut nic = start(&devices, console)?;
    let mac = nic.net.mac_address();
    let mut config = Config::new(HardwareAddress::Ethernet(EthernetAddress(mac)));
    config.random_seed = serve::now(&timer)?.total_micros() as u64;
    let mut iface = Interface::new(config, &mut nic, serve::now(&timer)?);
    iface.update_ip_addrs(|a| {
        let _ = a.push(IpCidr::new(GUEST.into(), 24));
    });
    iface.routes_mut().add_default_ipv4_route(GATEWAY).map_err(|_| Error::Decode("default route".into()))?;
    let mut stack = stack::Stack::new(iface, grants);
    console.write_line(&format!(
        "virtio-net: mac {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}, {} on {}/24, {} client endpoints",
        mac[0],
        mac[1],
        mac[2],
        mac[3],
        mac[4],
        mac[5],
        GUEST,
        GUEST,
        stack.clients.len()
    ))?;
    for c in &stack.clients {
        console.write_line(&format!("grant {}", c.grant.describe()))?;
    }
    let mut eps = serve::Endpoints::new(owners);
    serve::serve(&mut stack, &mut nic, &mut eps, &timer, console, die_after)
}
// endregion: run

// region: start
/// Opens `net0` and brings up the virtio-net device on it.
fn start(devices: &DeviceManager, console: &Console) -> Result<nic::Nic, Error> {
    let device = devices.open("net0")?;
    let info = device.info()?;
    let bars = hal::map_memory_bars(&device, &info)?;
    let bounce = device.alloc_dma(BOUNCE_BYTES)?;
    let rx = device.alloc_dma((nic::QUEUE * nic::RX_BUF) as u64)?;
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
    let direct = alloc::vec![capos_rt::DmaRegion { address: rx.address, phys: rx.phys, size: rx.size }];
    hal::install(State { device, bars, bounce: Bounce { region: bounce, used: 0, outstanding: 0 }, direct });
    let function = DeviceFunction { bus: info.bus, device: info.slot, function: info.function };
    let mut root = PciRoot::new(CapConfig);
    root.set_command(function, Command::MEMORY_SPACE | Command::BUS_MASTER);
    let transport = PciTransport::new::<CapHal, CapConfig>(&mut root, function)
        .map_err(|e| Error::Decode(format!("virtio pci transport: {e}")))?;
    let net = nic::Net::new(transport).map_err(|e| Error::Decode(format!("virtio-net init: {e}")))?;
    nic::Nic::new(net, rx).map_err(|e| Error::Decode(format!("virtio-net receive buffers: {e}")))
}
// endregion: start
