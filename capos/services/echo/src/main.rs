//! The exports proof. One binary; what it does follows from what the manifest granted it:
//!
//! - holding `serve` (an EndpointOwner, from an `export` grant): serve echo calls until `stop`;
//! - holding `echo` (an Endpoint, from an `import` grant): call the server, hand it a cap by MOVE,
//!   try an unknown method, stop it, and call once more after it is gone;
//! - holding neither: try to reach the server anyway and print the error each way gives.
//!
//! Params and results are plain UTF-8 bytes: the kernel passes them through unread.
#![no_std]
#![no_main]
extern crate alloc;

use alloc::format;
use alloc::string::String;
use capos_rt::abi::ring::{Transfer, XFER_MOVE};
use capos_rt::schema::exception::ExceptionKind;
use capos_rt::schema::ids::{ENDPOINT, ENDPOINT_OWNER};
use capos_rt::{Blob, Cap, Client, Console, Endpoint, EndpointOwner, Error, Runtime};

capos_rt::entry!(main);
capos_rt::heap!(256 * 1024);

// region: protocol
/// `echo(text) -> "echo: " + text`.
const ECHO: u16 = 0;
/// One Blob cap by MOVE; the server prints what it reads.
const GIFT: u16 = 1;
/// Answer, then exit.
const STOP: u16 = 2;
// endregion: protocol

fn main(rt: &mut Runtime) -> i32 {
    capos_rt::with_console(rt, |rt, console| {
        if rt.caps().find("serve", ENDPOINT_OWNER).is_ok() {
            rt.take::<EndpointOwner>("serve").and_then(|ep| server(rt, console, &ep))
        } else if rt.caps().find("echo", ENDPOINT).is_ok() {
            rt.take::<Endpoint>("echo").and_then(|ep| client(rt, console, &ep))
        } else {
            outsider(rt, console)
        }
    })
}

/// "ok" or the error, for lines that report what an action got.
fn outcome<T>(r: Result<T, Error>) -> String {
    match r {
        Ok(_) => String::from("ok"),
        Err(e) => format!("{e}"),
    }
}

// region: server
fn server(rt: &Runtime, console: &Console, ep: &EndpointOwner) -> Result<i32, Error> {
    loop {
        let call = ep.recv()?;
        match call.method {
            ECHO => {
                let text = String::from_utf8_lossy(&call.params);
                console.write_line(&format!("echoing \"{text}\""))?;
                ep.ret(&call, format!("echo: {text}").as_bytes(), &[])?;
            }
            GIFT => {
                let [cap] = call.caps.as_slice() else {
                    ep.ret_exception(&call, ExceptionKind::InvalidArgument, "gift carries one cap")?;
                    continue;
                };
                let gift = Blob::from_cap(Cap::new(cap.cap_id, cap.interface_id, rt.transport().clone()));
                console.write_line(&format!("got a Blob by MOVE: {}", gift.read_string()?))?;
                ep.ret(&call, b"thanks", &[])?;
            }
            STOP => {
                ep.ret(&call, b"", &[])?;
                return Ok(0);
            }
            m => ep.ret_exception(&call, ExceptionKind::Unimplemented, &format!("echo has no method {m}"))?,
        }
    }
}
// endregion: server

// region: client
fn client(rt: &mut Runtime, console: &Console, ep: &Endpoint) -> Result<i32, Error> {
    let reply = ep.call(ECHO, b"hello through the endpoint init made", &[])?;
    console.write_line(&format!("reply: {}", String::from_utf8_lossy(&reply.payload)))?;

    let gift: Blob = rt.take("gift")?;
    let moved = [Transfer { cap_id: gift.cap().id(), mode: XFER_MOVE }];
    let reply = ep.call(GIFT, b"", &moved)?;
    console.write_line(&format!("gift reply: {}", String::from_utf8_lossy(&reply.payload)))?;
    console.write_line(&format!("my id of the gift after MOVE: {}", outcome(gift.size())))?;

    console.write_line(&format!("method 7: {}", outcome(ep.call(7, b"", &[]))))?;
    console.write_line(&format!("stop: {}", outcome(ep.call(STOP, b"", &[]))))?;
    // Init dropped its facets after starting everyone, so with the server gone this must end.
    console.write_line(&format!("call after stop: {}", outcome(ep.call(ECHO, b"anyone?", &[]))))?;
    Ok(0)
}
// endregion: client

// region: outsider
fn outsider(rt: &mut Runtime, console: &Console) -> Result<i32, Error> {
    console.write_line(&format!("take echo: {}", outcome(rt.take::<Endpoint>("echo"))))?;
    // Past the runtime: a cap id this process was never given, used as if it were an endpoint.
    let forged = Endpoint::from_cap(Cap::new(0x0001_0028, ENDPOINT, rt.transport().clone()));
    console.write_line(&format!("call on a forged endpoint id: {}", outcome(forged.call(ECHO, b"hi", &[]))))?;
    // Dropping would RELEASE an id that was never ours; keep the kernel's table out of it.
    core::mem::forget(forged);
    Ok(0)
}
// endregion: outsider
