//! A native client of the network stack that asks for what a socket cap must refuse (chapter
//! W.6, "Sockets as capabilities"): methods an interface does not have, params that are not a
//! message, a cap id never granted, a socket cap after its release, and a socket whose grant
//! said `done` while its cap was still held. Grants: `console`, `net` (a NetworkManager whose
//! grant allows `listen 81`). Each outcome is one console line.
#![no_std]
#![no_main]
extern crate alloc;

use alloc::format;
use alloc::string::String;
use capos_rt::client::network::method;
use capos_rt::schema::capos_capnp::{network_manager, tcp_listener, NetError};
use capos_rt::{encode_empty_params, encode_params, Client, Console, Endpoint, Error, NetResult, Network, Runtime};

capos_rt::entry!(main);
capos_rt::heap!(256 * 1024);

fn main(rt: &mut Runtime) -> i32 {
    capos_rt::with_console(rt, |rt, console| probe(console, &Network::new(rt.take::<Endpoint>("net")?)))
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
