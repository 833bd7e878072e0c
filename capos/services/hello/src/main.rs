//! Greets, names the caps it was granted, reads the time when it holds a Timer, and exits with the
//! number in its `code` text grant (0 without one). Two manifest entries running this binary with
//! different grants show that each process gets exactly its own.
#![no_std]
#![no_main]
extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use capos_rt::{Blob, Console, Error, Runtime, Timer};

capos_rt::entry!(main);
capos_rt::heap!(256 * 1024);

fn main(rt: &mut Runtime) -> i32 {
    capos_rt::with_console(rt, run)
}

fn run(rt: &mut Runtime, console: &Console) -> Result<i32, Error> {
    let names: Vec<String> = rt.caps().entries().iter().map(|e| e.name.clone()).collect();
    console.write_line(&format!("hello from pid {}, caps: {}", rt.pid(), names.join(", ")))?;
    if names.iter().any(|n| n == "timer") {
        let timer: Timer = rt.take("timer")?;
        let (a, b) = (timer.now()?, timer.now()?);
        let order = if b >= a { "monotonic" } else { "went backwards" };
        console.write_line(&format!("timer: {order}, resolution {} ns", timer.resolution()?))?;
    }
    if !names.iter().any(|n| n == "code") {
        return Ok(0);
    }
    let code: String = rt.take::<Blob>("code")?.read_string()?;
    match code.trim().parse::<i32>() {
        Ok(n) => Ok(n),
        Err(_) => {
            console.write_line(&format!("code grant \"{code}\" is not a number"))?;
            Ok(1)
        }
    }
}
