//! A native client of the network stack that asks for what a socket cap must refuse (chapter
//! W.6, "Sockets as capabilities"): methods an interface does not have, params that are not a
//! message, a cap id never granted, a socket cap after its release, and a socket whose grant
//! said `done` while its cap was still held. Grants: `console`, `net` (a NetworkManager whose
//! grant allows `listen 81`). Each outcome is one console line.
//!
//! With a `role` text grant of `giver` or `taker`, two probes pass a socket cap from one process
//! to another instead: the giver (grants `net`, allowing `listen 83`, and `handoff`, an export)
//! listens and hands a copy of its listener to the taker (grant `handoff`, the giver's export).
#![no_std]
#![no_main]
extern crate alloc;

use alloc::format;
use alloc::string::String;
use capos_rt::abi::ring::{Transfer, XFER_COPY};
use capos_rt::client::network::method;
use capos_rt::schema::capos_capnp::{network_manager, tcp_listener, NetError};
use capos_rt::{
    encode_empty_params, encode_params, Blob, Client, Console, Endpoint, EndpointOwner, Error, NetResult, Network,
    Runtime, TcpListener,
};

capos_rt::entry!(main);
capos_rt::heap!(256 * 1024);

fn main(rt: &mut Runtime) -> i32 {
    capos_rt::with_console(rt, |rt, console| {
        let role = match rt.take::<Blob>("role") {
            Ok(b) => b.read_string()?,
            Err(_) => String::new(),
        };
        match role.as_str() {
            "giver" => {
                giver(console, &Network::new(rt.take::<Endpoint>("net")?), &rt.take::<EndpointOwner>("handoff")?)
            }
            "taker" => taker(console, &rt.take::<Endpoint>("handoff")?),
            _ => probe(console, &Network::new(rt.take::<Endpoint>("net")?)),
        }
    })
}

/// A call's outcome as a line shows it: `ok`, the NetError, or the transport error or exception.
fn shown<T>(r: &NetResult<T>) -> String {
    match r {
        Ok(Ok(_)) => String::from("ok"),
        Ok(Err(e)) => format!("{e:?}"),
        Err(e) => format!("{e}"),
    }
}

fn raw(r: Result<capos_rt::transport::Reply, Error>) -> String {
    match r {
        Ok(_) => String::from("answered"),
        Err(e) => format!("{e}"),
    }
}

// region: probe
fn probe(console: &Console, net: &Network) -> Result<i32, Error> {
    let say = |what: &str, how: String| console.write_line(&format!("{what}: {how}"));
    let listener = net.listen(81);
    say("listen 81", shown(&listener))?;
    let Ok(Ok(listener)) = listener else { return Ok(1) };
    say("listen 81 again", shown(&net.listen(81)))?;
    say("listen 82 (not granted)", shown(&net.listen(82)))?;
    // Ordinals the interface does not have, and params that are not a message: the stack's exceptions.
    let manager = net.endpoint();
    let empty = encode_empty_params::<network_manager::done_params::Owned>();
    say("NetworkManager method 9", raw(manager.call(9, &empty, &[])))?;
    say("TcpListener method 2", raw(listener.endpoint().call(2, &empty, &[])))?;
    say("accept with params that are not a message", raw(listener.endpoint().call(method::ACCEPT, b"garbage!", &[])))?;
    // Cap ids: one never granted, and the listener's after its release. The kernel refuses both.
    let accept = encode_params(|m| m.init_root::<tcp_listener::accept_params::Builder>().set_nonblocking(true));
    let t = manager.cap().transport().clone();
    say("accept on a cap id never granted", raw(t.call(0x00ab_cdef, method::ACCEPT, &accept, 256)))?;
    let stale = listener.endpoint().cap().id();
    drop(listener);
    say("accept on the released listener's cap id", raw(t.call(stale, method::ACCEPT, &accept, 256)))?;
    // The release closed the socket: its port is free again.
    let again = net.listen(81);
    say("listen 81 after the release", shown(&again))?;
    let Ok(Ok(kept)) = again else { return Ok(1) };
    // `done` closes what the grant opened, even a socket whose cap is still held.
    net.done()?;
    let after = kept.accept(true).map(|r| r.map(|_| ()));
    say("accept on a listener closed at done", shown(&after))?;
    Ok(if matches!(after, Ok(Err(NetError::BadSocket))) { 0 } else { 1 })
}
// endregion: probe

// region: handoff
/// Hand-off calls from the taker: 0 asks for the listener, 1 says it holds its copy, 2 that it
/// dropped it. The giver answers each once.
const GIVE: u16 = 0;
const HOLDING: u16 = 1;
const DROPPED: u16 = 2;

fn giver(console: &Console, net: &Network, handoff: &EndpointOwner) -> Result<i32, Error> {
    let say = |what: &str, how: String| console.write_line(&format!("{what}: {how}"));
    let Ok(Ok(listener)) = net.listen(83) else { return Ok(1) };
    let call = handoff.recv()?;
    // A COPY: the giver keeps its own cap, and the stack now has two copies of one facet.
    let copy = [Transfer { cap_id: listener.endpoint().cap().id(), mode: XFER_COPY }];
    handoff.ret(&call, &[], if call.method == GIVE { &copy } else { &[] })?;
    let call = handoff.recv()?;
    drop(listener);
    // The taker's copy keeps the socket open: the port is still taken.
    say("listen 83 after dropping our copy, the taker holding its own", shown(&net.listen(83)))?;
    handoff.ret(&call, &[], &[])?;
    let call = handoff.recv()?;
    // The last copy is gone: the release closed the socket.
    say("listen 83 after the taker dropped the last copy", shown(&net.listen(83)))?;
    handoff.ret(&call, &[], &[])?;
    net.done()?;
    Ok(if call.method == DROPPED { 0 } else { 1 })
}

fn taker(console: &Console, handoff: &Endpoint) -> Result<i32, Error> {
    let say = |what: &str, how: String| console.write_line(&format!("{what}: {how}"));
    let reply = handoff.call(GIVE, &[], &[])?;
    let listener = TcpListener::from_endpoint(handoff.result_endpoint(&reply, "the giver passed no listener")?);
    say("poll on the listener passed from another process", shown(&listener.poll()))?;
    handoff.call(HOLDING, &[], &[])?;
    say("poll after the giver dropped its copy", shown(&listener.poll()))?;
    drop(listener);
    handoff.call(DROPPED, &[], &[])?;
    Ok(0)
}
// endregion: handoff
