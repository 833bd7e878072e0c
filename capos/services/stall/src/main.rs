//! The kill proof. One binary; its role follows from its grants:
//!
//! - holding `serve` (an EndpointOwner): take calls and never answer them, for ever. Only a kill
//!   ends it, and its callers must then see `disconnected`;
//! - holding `server` (an Endpoint): call once, print how the call ended, and exit 0 only if it
//!   ended as `disconnected` (no reply can come from a server that never answers).
#![no_std]
#![no_main]
extern crate alloc;

use alloc::format;
use capos_rt::schema::exception::ExceptionKind;
use capos_rt::schema::ids::ENDPOINT_OWNER;
use capos_rt::{Console, Endpoint, EndpointOwner, Error, Runtime};

capos_rt::entry!(main);
capos_rt::heap!(256 * 1024);

fn main(rt: &mut Runtime) -> i32 {
    capos_rt::with_console(rt, |rt, console| {
        if rt.caps().find("serve", ENDPOINT_OWNER).is_ok() {
            rt.take::<EndpointOwner>("serve").and_then(|ep| hold(console, &ep))
        } else {
            rt.take::<Endpoint>("server").and_then(|ep| call(console, &ep))
        }
    })
}

// region: hold
/// Receives calls and keeps them: the incoming calls stay in the kernel's in-flight set.
fn hold(console: &Console, ep: &EndpointOwner) -> Result<i32, Error> {
    let mut held = alloc::vec::Vec::new();
    loop {
        let call = ep.recv()?;
        held.push(call);
        console.write_line(&format!("holding {} calls, answering none", held.len()))?;
    }
}
// endregion: hold

// region: call
fn call(console: &Console, ep: &Endpoint) -> Result<i32, Error> {
    console.write_line("calling the server")?;
    match ep.call(0, b"are you there?", &[]) {
        Err(Error::Exception(e)) if e.kind == ExceptionKind::Disconnected => {
            console.write_line(&format!("call ended: disconnected: {}", e.reason))?;
            Ok(0)
        }
        Err(e) => {
            console.write_line(&format!("call ended: {e}"))?;
            Ok(1)
        }
        Ok(_) => {
            console.write_line("call ended: a reply (from a server that never answers?)")?;
            Ok(1)
        }
    }
}
// endregion: call
