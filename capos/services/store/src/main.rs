//! The store (appendix A.7): a crash-safe volume (capos-storefs) on a BlockDevice, served as
//! Store, Namespace and File caps on one Endpoint.
//!
//! Grants: `console`, `disk` (a client facet of the block driver's export), `serve` (the owner
//! facet of its `store` export) and `clients` (text: how many Store holders will say `done`;
//! 1 when absent). It mounts the volume (formatting a blank disk), reports what mount found,
//! serves, and when every client is done tells the driver it is done too.
#![no_std]
#![no_main]
extern crate alloc;

mod disk;
mod objects;
mod serve;

use alloc::format;
use capos_rt::{BlockDevice, Console, Endpoint, EndpointOwner, Error, Runtime};
use capos_storefs::{MountReport, Volume};
use disk::BlockDisk;

capos_rt::entry!(main);
capos_rt::heap!(4 * 1024 * 1024);

fn main(rt: &mut Runtime) -> i32 {
    capos_rt::with_console(rt, run)
}

fn run(rt: &mut Runtime, console: &Console) -> Result<i32, Error> {
    let disk = BlockDisk::new(BlockDevice::new(rt.take::<Endpoint>("disk")?))?;
    let ep: EndpointOwner = rt.take("serve")?;
    let clients = match rt.take::<capos_rt::Blob>("clients") {
        Ok(b) => b.read_string()?.trim().parse::<u32>().unwrap_or(1),
        Err(_) => 1,
    };
    let (vol, report) = match Volume::mount(disk) {
        Ok(v) => v,
        Err(e) => {
            console.write_line(&format!("mount refused: {e}"))?;
            return Ok(1);
        }
    };
    say_mounted(console, &vol, &report)?;
    let mut server = serve::Server { vol, objects: objects::Objects::new(), ep: &ep };
    server.serve(console, clients)?;
    // Every client is done: unmount, committing what was written since the last sync, and
    // tell the driver (whose one client this store is) that it is done too.
    if server.vol.disk().gone.is_some() {
        return Ok(0);
    }
    match server.vol.sync() {
        Ok(()) => console.write_line(&format!("unmounted at generation {}", server.vol.stats().generation))?,
        Err(e) => console.write_line(&format!("unmount: {e}"))?,
    }
    server.vol.disk().device().done()?;
    Ok(0)
}

// region: mounted
fn say_mounted(console: &Console, vol: &Volume<BlockDisk>, r: &MountReport) -> Result<(), Error> {
    let s = vol.stats();
    if r.formatted {
        console.write_line(&format!(
            "formatted a blank disk: {} KiB, generation {}",
            s.capacity / 1024,
            r.generation
        ))?;
    } else {
        console.write_line(&format!(
            "mounted generation {}: {} files, {} directories, {} KiB free",
            r.generation,
            s.files,
            s.dirs,
            s.free / 1024
        ))?;
    }
    if let Some((g, why)) = &r.rolled_back {
        console.write_line(&format!("rolled back from generation {g} to {}: {why}", r.generation))?;
    }
    if !r.bad_blocks.is_empty() {
        console.write_line(&format!(
            "{} blocks fail their checksums and will never be served: {:?}",
            r.bad_blocks.len(),
            r.bad_blocks
        ))?;
    }
    Ok(())
}
// endregion: mounted
