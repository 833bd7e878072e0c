//! Measures round trips through the ring: NOP (kernel entry and completion only) and
//! Console.write with empty data (a full CALL: params decode, cap dispatch, result encode).
//! Prints three figures per measurement in the form `npm run bench` collects,
//! `bench <metric> <value> <unit>`: calls per second and nanoseconds per call in the fastest of
//! eight windows, and nanoseconds per call over all of them (`-mean-time`).
#![no_std]
#![no_main]
extern crate alloc;

use alloc::format;
use capos_rt::{Console, Error, Runtime, Timer};

capos_rt::entry!(main);
capos_rt::heap!(256 * 1024);

const ROUNDS: u64 = 2000;
/// ROUNDS are timed in this many windows of equal length.
const WINDOWS: u64 = 8;

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

fn measure(
    console: &Console,
    timer: &Timer,
    what: &str,
    mut op: impl FnMut() -> Result<(), Error>,
) -> Result<(), Error> {
    // Warm up so first-touch page faults and allocator growth are not timed.
    for _ in 0..50 {
        op()?;
    }
    // WINDOWS timed windows: the mean over all of them, and the fastest one, which on a shared
    // host is the one least disturbed by other work (chapter A.4, "Best windows").
    let (mut total, mut best) = (0u64, u64::MAX);
    for _ in 0..WINDOWS {
        let start = timer.now()?;
        for _ in 0..ROUNDS / WINDOWS {
            op()?;
        }
        let ns = timer.now()?.saturating_sub(start).max(1);
        total += ns;
        best = best.min(ns);
    }
    let per = ROUNDS / WINDOWS;
    console.write_line(&format!("bench {what}-rate {} calls/s", per * 1_000_000_000 / best))?;
    console.write_line(&format!("bench {what}-time {} ns", best / per))?;
    console.write_line(&format!("bench {what}-mean-time {} ns", total / ROUNDS))
}
