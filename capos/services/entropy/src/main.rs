//! Prints 16 bytes from its EntropySource as hex. Two boots must print different bytes.
#![no_std]
#![no_main]
extern crate alloc;

use alloc::format;
use alloc::string::String;
use capos_rt::{Console, EntropySource, Runtime};
use core::fmt::Write;

capos_rt::entry!(main);
capos_rt::heap!(128 * 1024);

fn main(rt: &mut Runtime) -> i32 {
    let Ok(console) = rt.take::<Console>("console") else {
        return 2;
    };
    let mut bytes = [0u8; 16];
    let result = rt.take::<EntropySource>("entropy").and_then(|source| source.fill(&mut bytes));
    if let Err(e) = result {
        let _ = console.write_line(&format!("entropy: {e}"));
        return 1;
    }
    let mut hex = String::new();
    for b in bytes {
        let _ = write!(hex, "{b:02x}");
    }
    let _ = console.write_line(&format!("random: {hex}"));
    0
}
