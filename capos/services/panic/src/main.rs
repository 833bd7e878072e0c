//! Panics on purpose. capos-rt's panic handler prints the message and location through the
//! granted Console and ends the process with exit code 101.
#![no_std]
#![no_main]

use capos_rt::{Console, Runtime};

capos_rt::entry!(main);
capos_rt::heap!(64 * 1024);

fn main(rt: &mut Runtime) -> i32 {
    let console: Console = rt.take("console").expect("a console grant");
    let _ = console.write_line("about to panic");
    let answer = rt.caps().entries().len() + 41;
    panic!("deliberate panic, answer {answer}");
}
