//! A DMA run past the memory quota. `allocDma` charges the run to the caller's account on top of
//! the device's own `dmaBytes` bound, and a refused run leaves nothing behind: the account reports
//! the same use, and the next run's address shows no address space was taken.
use crate::outcome;
use alloc::format;
use capos_rt::{Console, DeviceManager, Error, Runtime};

// region: dma
/// Larger than this role's 2 MiB memory quota, inside the device's 8 MiB `dmaBytes`.
const TOO_MUCH: u64 = 4 << 20;
const SMALL: u64 = 64 * 1024;

pub fn run(rt: &mut Runtime, console: &Console) -> Result<i32, Error> {
    let dev = rt.take::<DeviceManager>("devices")?.open("vga0")?;
    let say = |what: &str, r: &str| console.write_line(&format!("{what}: {r}"));
    let first = dev.alloc_dma(SMALL)?;
    dev.free_dma(first.address)?;
    say("dma of 64 KiB, freed", "ok")?;
    let refused = outcome(&dev.alloc_dma(TOO_MUCH));
    say("dma of 4 MiB", &refused)?;
    let again = outcome(&dev.alloc_dma(TOO_MUCH));
    say("the same refusal reports the same use", if again == refused { "true" } else { &again })?;
    let next = dev.alloc_dma(SMALL)?;
    let adjacent = next.address == first.address + first.size;
    say("dma of 64 KiB after it, right after the first run", if adjacent { "true" } else { "false" })?;
    dev.free_dma(next.address)?;
    Ok(0)
}
// endregion: dma
