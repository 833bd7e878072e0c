//! Clients of the store. What one does follows its `role` text grant:
//!
//! - `basic`: namespaces, attenuation and every expected outcome;
//! - `peer`: a second client writing its own files at the same time;
//! - `persist-write` / `persist-read`: boot 1 writes and syncs, boot 2 reads back;
//! - `crash-base`, `crash-burst`, `crash-verify`: the crash replay's base state, its logged burst
//!   and the verifier every replayed image boots;
//! - `corrupt-write` / `corrupt-read`: two generations, then reads after the runner flipped a byte;
//! - `hostile`, `victim` (dies holding caps and mid-call; never says done), `watcher`,
//!   `driver-death`;
//! - `bench`: the store's figures for `npm run bench -- store`, beside ext4 in a Linux guest.
#![no_std]
#![no_main]
extern crate alloc;

mod basic;
mod bench;
mod corrupt;
mod crash;
mod hostile;
mod persist;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use capos_rt::client::store::{error_name, NodeKind, Outcome, Store};
use capos_rt::{Endpoint, Error, Runtime};

capos_rt::entry!(main);
capos_rt::heap!(1024 * 1024);

fn main(rt: &mut Runtime) -> i32 {
    capos_rt::with_console(rt, |rt, console| {
        let role = rt.take::<capos_rt::Blob>("role")?.read_string()?;
        let store = Store::new(rt.take::<Endpoint>("store")?);
        let code = match role.as_str() {
            "basic" => basic::basic(console, &store)?,
            "peer" => basic::peer(console, &store)?,
            "persist-write" => persist::write(console, &store)?,
            "persist-read" => persist::read(console, &store)?,
            "crash-base" => crash::base(console, &store)?,
            "crash-burst" => crash::burst(console, &store)?,
            "crash-verify" => crash::verify(console, &store)?,
            "corrupt-write" => corrupt::write(console, &store)?,
            "corrupt-read" => corrupt::read(console, &store)?,
            "hostile" => hostile::hostile(console, &store)?,
            "watcher" => hostile::watcher(console, &store)?,
            "driver-death" => hostile::driver_death(console, &store)?,
            "bench" => bench::bench(console, &store, &rt.take::<capos_rt::Timer>("timer")?)?,
            // A client that dies never says done.
            "victim" => return hostile::victim(console, &store),
            other => return Err(Error::Decode(format!("unknown role {other}"))),
        };
        store.done()?;
        Ok(code)
    })
}

/// An outcome as a smoke line shows it: `ok`, the error variant's name, or the exception.
pub fn shown<T>(r: &Outcome<T>) -> String {
    match r {
        Ok(Ok(_)) => String::from("ok"),
        Ok(Err(e)) => String::from(error_name(*e)),
        Err(e) => format!("{e}"),
    }
}

/// The value of an outcome the smoke expects to succeed; anything else ends the client.
pub fn must<T>(what: &str, r: Outcome<T>) -> Result<T, Error> {
    match r {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(Error::Decode(format!("{what}: {}", error_name(e)))),
        Err(e) => Err(e),
    }
}

pub fn kind(k: NodeKind) -> &'static str {
    match k {
        NodeKind::File => "file",
        NodeKind::Dir => "dir",
    }
}

/// Deterministic bytes for file `seed`: a misplaced or stale block reads differently.
pub fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}
