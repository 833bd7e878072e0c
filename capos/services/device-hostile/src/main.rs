//! Hostile uses of the device caps (appendix A.6). Its `role` text grant picks one:
//!
//! - `hostile`: holds a `devices` grant for blk0 and tries every refused action, printing the
//!   error each gets;
//! - `ports`: a driver holding blk0 executes `in` on its own device's i/o bar, a port no process
//!   is ever granted: the CPU faults, the kernel kills this driver (and releases its device) and
//!   nothing else;
//! - `after`: opens the device the hostile process held, once that process has ended.
#![no_std]
#![no_main]
extern crate alloc;

use alloc::format;
use alloc::string::String;
use capos_rt::client::BarInfo;
use capos_rt::{Console, DeviceManager, Error, Runtime};

capos_rt::entry!(main);
capos_rt::heap!(128 * 1024);

fn main(rt: &mut Runtime) -> i32 {
    capos_rt::with_console(rt, |rt, console| match rt.take::<capos_rt::Blob>("role")?.read_string()?.as_str() {
        "hostile" => hostile(console, &rt.take::<DeviceManager>("devices")?),
        "ports" => ports(console, &rt.take::<DeviceManager>("devices")?),
        "after" => after(console, &rt.take::<DeviceManager>("devices")?),
        other => Err(Error::Decode(format!("unknown role {other}"))),
    })
}

fn outcome<T>(r: Result<T, Error>) -> String {
    match r {
        Ok(_) => String::from("ok"),
        Err(e) => format!("{e}"),
    }
}

// region: hostile
fn hostile(console: &Console, devices: &DeviceManager) -> Result<i32, Error> {
    let say = |what: &str, r: String| console.write_line(&format!("{what}: {r}"));
    say("open a device the manifest does not list", outcome(devices.open("nvme0")))?;
    say("open a listed device it was not granted", outcome(devices.open("vga0")))?;
    say("widen its grant to that device", outcome(devices.restrict("vga0")))?;
    let dev = devices.open("blk0")?;
    say("open blk0 a second time", outcome(devices.open("blk0")))?;
    say("map bar 9", outcome(dev.map_bar(9)))?;
    say("map bar 0 (an i/o bar)", outcome(dev.map_bar(0)))?;
    say("map bar 2 (absent)", outcome(dev.map_bar(2)))?;
    say("dma of 0 bytes", outcome(dev.alloc_dma(0)))?;
    say("dma of 2^40 bytes", outcome(dev.alloc_dma(1 << 40)))?;
    let buf = dev.alloc_dma(8192)?;
    say("dma of 8 KiB", format!("ok, {} bytes, physical address page aligned: {}", buf.size, buf.phys % 4096 == 0))?;
    say("free it", outcome(dev.free_dma(buf.address)))?;
    say("free it again", outcome(dev.free_dma(buf.address)))?;
    let whole = dev.alloc_dma(65536);
    say("dma of the whole 64 KiB quota, the 8 KiB returned", outcome(whole.and_then(|b| dev.free_dma(b.address))))?;
    say("free an address never allocated", outcome(dev.free_dma(0x1000)))?;
    say("wait on the interrupt it was not granted", outcome(dev.wait_interrupt()))?;
    say("move bar 4 over ram", outcome(dev.config_write(0x20, 4, 0x0010_0000)))?;
    say("write the interrupt line register", outcome(dev.config_write(0x3c, 1, 5)))?;
    say("misaligned config read", outcome(dev.config_read(3, 2)))?;
    say(
        "config read of the vendor id",
        match dev.config_read(0, 2) {
            Ok(v) => format!("{v:#06x}"),
            Err(e) => format!("{e}"),
        },
    )?;
    Ok(0)
}
// endregion: hostile

fn ports(console: &Console, devices: &DeviceManager) -> Result<i32, Error> {
    let dev = devices.open("blk0")?;
    let Some(&BarInfo::Io { port, size }) = dev.info()?.bars.first() else {
        return Err(Error::Decode(String::from("blk0 has no i/o bar 0")));
    };
    console.write_line(&format!("holds blk0, whose bar 0 is i/o ports {port:#x}+{size:#x}"))?;
    console.write_line(&format!("reading port {:#x} (its own device's, but no port is ever granted)", port + 18))?;
    let v: u8;
    // SAFETY: none needed for memory: an `in` from ring 3 with IOPL 0 and no I/O bitmap faults.
    unsafe { core::arch::asm!("in al, dx", in("dx") port + 18, out("al") v, options(nomem, nostack)) };
    console.write_line(&format!("port read returned {v} (the kernel should not allow this)"))?;
    Ok(1)
}

fn after(console: &Console, devices: &DeviceManager) -> Result<i32, Error> {
    let dev = devices.open("blk0")?;
    console.write_line(&format!("opened blk0 after its holder ended, vendor {:#06x}", dev.info()?.vendor))?;
    Ok(0)
}
