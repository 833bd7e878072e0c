//! Measures round trips through the ring: NOP (kernel entry and completion only) and
//! Console.write with empty data (a full CALL: params decode, cap dispatch, result encode).
//! Prints two figures per measurement in the form `npm run bench` collects,
//! `bench <metric> <value> <unit>`: calls per second and nanoseconds per call.
#![no_std]
#![no_main]
extern crate alloc;

use alloc::format;
use capos_rt::{Console, Error, Runtime, Timer};

capos_rt::entry!(main);
capos_rt::heap!(256 * 1024);

const ROUNDS: u64 = 2000;

fn main(rt: &mut Runtime) -> i32 {
    let Ok(console) = rt.take::<Console>("console") else {
        return 2;
    };
    match run(rt, &console) {
        Ok(()) => 0,
        Err(e) => {
            let _ = console.write_line(&format!("bench failed: {e}"));
            1
        }
    }
}

fn run(rt: &mut Runtime, console: &Console) -> Result<(), Error> {
    let timer: Timer = rt.take("timer")?;
    let transport = rt.transport().clone();
    measure(console, &timer, "nop-call", || transport.nop())?;
    measure(console, &timer, "console-write-empty-call", || console.write(&[]))?;
    Ok(())
}

fn measure(console: &Console, timer: &Timer, what: &str, mut op: impl FnMut() -> Result<(), Error>) -> Result<(), Error> {
    // Warm up so first-touch page faults and allocator growth are not timed.
    for _ in 0..50 {
        op()?;
    }
    let start = timer.now()?;
    for _ in 0..ROUNDS {
        op()?;
    }
    let ns = timer.now()?.saturating_sub(start).max(1);
    console.write_line(&format!("bench {what}-rate {} calls/s", ROUNDS * 1_000_000_000 / ns))?;
    console.write_line(&format!("bench {what}-time {} ns", ns / ROUNDS))
}
