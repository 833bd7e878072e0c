//! Goes past its quotas (appendix A.9), one per process; the `role` text grant picks which.
//!
//! - `spawn` (console, spawner): asks for a child whose memory quota is larger than its own
//!   account, then for one that fits, and shows the refusal left its account as it was;
//! - `hold` (console): keeps its reservation a second, so that init's next spawn cannot fit;
//! - `bss`, `stack` (console): touch more lazily filled memory than the quota holds, and fault;
//! - `dma` (console, devices): asks for a DMA run larger than its memory quota, then a small one;
//! - `caps` (console, spawner): makes endpoints until its cap table is full, then frees a pair.
//!
//! Each refusal it sees is printed as the runtime reports it; the smoke compares the text.
#![no_std]
#![no_main]
extern crate alloc;

mod caps;
mod dma;
mod lazy;
mod spawn;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use capos_rt::{Blob, Error, Runtime};

capos_rt::entry!(main);
capos_rt::heap!(64 * 1024);

fn main(rt: &mut Runtime) -> i32 {
    capos_rt::with_console(rt, |rt, console| {
        warm_heap();
        let memory = rt.caps().memory();
        console.write_line(&format!(
            "quota {} frames, {} held at start, {} caps",
            memory.frame_quota,
            memory.frames_charged,
            rt.caps().entries().len()
        ))?;
        match rt.take::<Blob>("role")?.read_string()?.as_str() {
            "spawn" => spawn::spawn(rt, console),
            "hold" => spawn::hold(console),
            "caps" => caps::fill(rt, console),
            "dma" => dma::run(rt, console),
            "bss" => lazy::bss(console),
            "stack" => lazy::stack(console),
            _ => Err(Error::BadReply("unknown role")),
        }
    })
}

/// Touches the whole heap once, so that its pages are charged before anything is measured: the
/// figures a refusal reports then change only by what the kernel itself charges or returns.
fn warm_heap() {
    let mut v: Vec<u8> = Vec::with_capacity(48 * 1024);
    v.resize(v.capacity(), 1);
    core::hint::black_box(&v);
}

/// What a call came to: `ok`, or the error as the runtime prints it.
fn outcome<T>(r: &Result<T, Error>) -> String {
    match r {
        Ok(_) => String::from("ok"),
        Err(e) => format!("{e}"),
    }
}
