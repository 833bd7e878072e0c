//! Preemption proof. One binary, three roles chosen by the `role` text grant:
//! - `parent` (console, timer, spawner): starts a `loop` child, then a `work` child, waits for
//!   the worker and reports; it exits while the looper still spins.
//! - `loop`: never enters the kernel again. Without a timer interrupt nothing else would run.
//! - `work`: sleeps 30 ms in `cap_enter` (a timeout with nothing in flight), checks on the Timer
//!   that the time really passed, and exits 7.
#![no_std]
#![no_main]
extern crate alloc;

use alloc::format;
use alloc::string::String;
use capos_rt::client::Client;
use capos_rt::{Blob, Console, Error, ExitStatus, ProcessSpawner, Runtime, SpawnGrant, SpawnSource, Timer};

capos_rt::entry!(main);
capos_rt::heap!(128 * 1024);

const SLEEP_NS: u64 = 30_000_000;

fn main(rt: &mut Runtime) -> i32 {
    capos_rt::with_console(rt, |rt, console| {
        rt.take::<Blob>("role").and_then(|b| b.read_string()).and_then(|role| match role.as_str() {
            "parent" => parent(rt, console),
            "loop" => spin(console),
            "work" => work(rt, console),
            other => Err(Error::BadReply(if other.is_empty() { "empty role" } else { "unknown role" })),
        })
    })
}

// region: roles
fn parent(rt: &mut Runtime, console: &Console) -> Result<i32, Error> {
    let spawner: ProcessSpawner = rt.take("spawner")?;
    let timer: Timer = rt.take("timer")?;
    let console_id = console.cap().id();
    let child = |name: &str, role: &str, timer: Option<u32>| {
        let mut grants = alloc::vec![
            SpawnGrant { name: "console", source: SpawnSource::Cap(console_id) },
            SpawnGrant { name: "role", source: SpawnSource::Text(role) },
        ];
        if let Some(t) = timer {
            grants.push(SpawnGrant { name: "timer", source: SpawnSource::Cap(t) });
        }
        spawner.spawn(name, "ipc-preempt", &grants)
    };
    let _looper = child("looper", "loop", None)?;
    let worker = child("worker", "work", Some(timer.cap().id()))?;
    match worker.wait()? {
        ExitStatus::Exited(code) => console.write_line(&format!("worker exited with {code} while looper spins"))?,
        ExitStatus::Faulted(kind) => console.write_line(&format!("worker faulted: {kind}"))?,
        ExitStatus::Killed(why) => console.write_line(&format!("worker killed: {why}"))?,
    }
    Ok(0)
}

fn spin(console: &Console) -> Result<i32, Error> {
    console.write_line("spinning without ever entering the kernel")?;
    let mut n: u64 = 0;
    loop {
        // black_box keeps the loop from being folded away; it has no side effect.
        n = core::hint::black_box(n.wrapping_add(1));
    }
}

fn work(rt: &mut Runtime, console: &Console) -> Result<i32, Error> {
    let timer: Timer = rt.take("timer")?;
    console.write_line("working while the looper spins")?;
    let before = timer.now()?;
    // Nothing is in flight, so only the timeout can end this wait.
    capos_rt::syscall::cap_enter(1, SLEEP_NS);
    let slept = timer.now()? - before;
    let verdict: String = if slept >= SLEEP_NS { "at least".into() } else { "LESS than".into() };
    console.write_line(&format!("slept {verdict} {} ms", SLEEP_NS / 1_000_000))?;
    Ok(7)
}
// endregion: roles
