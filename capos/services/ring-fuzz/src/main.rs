//! The in-machine ring fuzzer (appendix A.9). One binary; the `role` text grant picks what a process does.
//!
//! - `fuzzer` (console, `clock`, `timer`, `work`, `seed`, `millis`): for `millis` ms fills its own ring with
//!   random entries and now and then corrupts an index, then checks that a well-formed NOP still completes.
//! - `server` (console, `serve`, `token`): answers every call on its endpoint, from anyone, and stops on a
//!   `stop` call that carries the token.
//! - `worker` (console, `clock`, `work`, `token`, `millis`): the well-behaved client: calls the server for
//!   `millis` ms, checks every answer, and counts its round trips second by second.
#![no_std]
#![no_main]
extern crate alloc;

mod entries;
mod fuzzer;
mod pair;
mod tsc;

use capos_rt::{Blob, Error, Runtime};

capos_rt::entry!(main);
capos_rt::heap!(1024 * 1024);

fn main(rt: &mut Runtime) -> i32 {
    capos_rt::with_console(rt, |rt, console| {
        let role = rt.take::<Blob>("role")?.read_string()?;
        match role.as_str() {
            "fuzzer" => fuzzer::run(rt, console),
            "server" => pair::server(rt, console),
            "worker" => pair::worker(rt, console),
            _ => Err(Error::BadReply("unknown role")),
        }
    })
}

/// A whole number from a text grant (`seed`, `millis`).
fn number(rt: &mut Runtime, name: &str) -> Result<u64, Error> {
    rt.take::<Blob>(name)?.read_string()?.trim().parse().map_err(|_| Error::BadReply("grant is not a whole number"))
}
