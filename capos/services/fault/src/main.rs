//! Announces itself, then reads an unmapped address. The kernel kills it and init reports the
//! fault; services after it still run.
#![no_std]
#![no_main]

use capos_rt::{Console, Runtime};

capos_rt::entry!(main);
capos_rt::heap!(64 * 1024);

/// Inside the user range, below the image: never mapped.
const UNMAPPED: usize = 0x1000;

fn main(rt: &mut Runtime) -> i32 {
    if let Ok(console) = rt.take::<Console>("console") {
        let _ = console.write_line("reading unmapped address 0x1000");
    }
    // SAFETY: deliberately unsound: the point of this service is the page fault this causes.
    let value = unsafe { core::ptr::read_volatile(UNMAPPED as *const u64) };
    // Not reached: the kernel ends the process on the fault.
    value as i32
}
