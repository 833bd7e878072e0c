//! Endpoint IPC proofs. One binary; the `role` text grant picks what a process does.
//!
//! - `parent` (console, timer, spawner, `scenario`): makes the endpoints with
//!   `ProcessSpawner::new_endpoint`, spawns the two sides with COPY grants of the facets, drops its
//!   own copies and waits for both. Scenario `transfer` runs `server` + `client`; scenario
//!   `hostile` runs `bad-server` + `bad-client`.
//! - `server` / `client`: a COPY and a MOVE across the endpoint, a cap returned to the caller,
//!   and a server that exits in the middle of a call.
//! - `bad-server` / `bad-client`: every forbidden endpoint action, each printing the error it got.
//! - `bench-server` / `bench-client`: empty CALL/RETURN round trips, timed (scenario `bench`).
#![no_std]
#![no_main]
extern crate alloc;

mod raw;

use alloc::format;
use alloc::string::String;
use capos_rt::abi::endpoint::{ENDPOINT_CLIENT_ID, ENDPOINT_OWNER_ID};
use capos_rt::abi::ring::{Transfer, MAX_TRANSFERS, XFER_COPY, XFER_MOVE};
use capos_rt::client::Client;
use capos_rt::schema::exception::ExceptionKind;
use capos_rt::schema::ids;
use capos_rt::{Blob, Cap, Console, Error, ExitStatus, ProcessSpawner, Runtime, SpawnGrant, SpawnSource, Timer};

capos_rt::entry!(main);
capos_rt::heap!(256 * 1024);

const KEEP: u16 = 1;
const SWAP: u16 = 2;
const EXIT: u16 = 3;
const HELLO: u16 = 4;

fn main(rt: &mut Runtime) -> i32 {
    capos_rt::with_console(rt, |rt, console| {
        rt.take::<Blob>("role").and_then(|b| b.read_string()).and_then(|role| match role.as_str() {
            "parent" => parent(rt, console),
            "server" => server(rt, console),
            "client" => client(rt, console),
            "bad-server" => bad_server(rt, console),
            "bad-client" => bad_client(rt, console),
            "bench-server" => bench_server(rt),
            "bench-client" => bench_client(rt, console),
            _ => Err(Error::BadReply("unknown role")),
        })
    })
}

/// The cap id of CapSet entry `name` with interface `iface`.
fn granted(rt: &Runtime, name: &str, iface: u64) -> Result<u32, Error> {
    Ok(rt.caps().find(name, iface)?.cap_id)
}

/// "ok" or the error, for lines that report what an action got.
fn outcome<T>(r: Result<T, Error>) -> String {
    match r {
        Ok(_) => String::from("ok"),
        Err(e) => format!("{e}"),
    }
}

// region: parent
fn parent(rt: &mut Runtime, console: &Console) -> Result<i32, Error> {
    let spawner: ProcessSpawner = rt.take("spawner")?;
    let timer: Timer = rt.take("timer")?;
    let scenario = rt.take::<Blob>("scenario")?.read_string()?;
    let (owner, client) = spawner.new_endpoint()?;
    let (sink_owner, sink_client) = spawner.new_endpoint()?;
    let c = console.cap().id();
    let (server_role, client_role) = match scenario.as_str() {
        "hostile" => ("bad-server", "bad-client"),
        "bench" => ("bench-server", "bench-client"),
        _ => ("server", "client"),
    };
    let server = spawner.spawn(
        server_role,
        "ipc-endpoint",
        &[
            SpawnGrant { name: "console", source: SpawnSource::Cap(c) },
            SpawnGrant { name: "endpoint", source: SpawnSource::Cap(owner.cap().id()) },
            SpawnGrant { name: "role", source: SpawnSource::Text(server_role) },
        ],
    )?;
    let client_proc = spawner.spawn(
        client_role,
        "ipc-endpoint",
        &[
            SpawnGrant { name: "console", source: SpawnSource::Cap(c) },
            SpawnGrant { name: "endpoint", source: SpawnSource::Cap(client.cap().id()) },
            SpawnGrant { name: "sink", source: SpawnSource::Cap(sink_client.cap().id()) },
            SpawnGrant { name: "timer", source: SpawnSource::Cap(timer.cap().id()) },
            SpawnGrant { name: "gift", source: SpawnSource::Text("a blob that crossed by MOVE") },
            SpawnGrant { name: "role", source: SpawnSource::Text(client_role) },
        ],
    )?;
    // From here the server's owner facet is the only one: when it exits, the endpoint closes.
    owner.release()?;
    client.release()?;
    sink_client.release()?;
    for (name, handle) in [(client_role, client_proc), (server_role, server)] {
        match handle.wait()? {
            ExitStatus::Exited(code) => console.write_line(&format!("{name} exited with {code}"))?,
            ExitStatus::Faulted(kind) => console.write_line(&format!("{name} faulted: {kind}"))?,
            ExitStatus::Killed(why) => console.write_line(&format!("{name} killed: {why}"))?,
        }
    }
    drop(sink_owner);
    Ok(0)
}
// endregion: parent

// region: server
fn server(rt: &mut Runtime, console: &Console) -> Result<i32, Error> {
    let ep = granted(rt, "endpoint", ENDPOINT_OWNER_ID)?;
    let t = rt.transport().clone();
    loop {
        let call = raw::recv(&t, ep)?;
        match call.method {
            KEEP => {
                let [cap] = call.caps.as_slice() else { return Err(Error::BadReply("KEEP carries one cap")) };
                let timer = Timer::from_cap(Cap::new(cap.cap_id, cap.interface_id, t.clone()));
                let works = timer.now().is_ok() && cap.interface_id == ids::TIMER;
                console.write_line(&format!("got a Timer by COPY, now() works: {works}"))?;
                raw::ret(&t, ep, call.call_id, b"kept a copy of your timer", &[])?;
            }
            SWAP => {
                let [cap] = call.caps.as_slice() else { return Err(Error::BadReply("SWAP carries one cap")) };
                let text = Blob::from_cap(Cap::new(cap.cap_id, cap.interface_id, t.clone()));
                console.write_line(&format!("got a Blob by MOVE: {}", text.read_string()?))?;
                // Hand it back by MOVE as a result cap; afterwards our id for it is stale.
                let id = text.into_cap();
                let back = [Transfer { cap_id: id.id(), mode: XFER_MOVE }];
                raw::ret(&t, ep, call.call_id, b"returned your blob", &back)?;
                let stale = raw::call(&t, id.id(), 0, &[], &[]);
                console.write_line(&format!("my id of the blob after moving it back: {}", outcome(stale)))?;
            }
            EXIT => {
                console.write_line(&format!("exiting in the middle of call {}", call.call_id))?;
                capos_rt::syscall::exit(0);
            }
            m => raw::ret_exception(&t, ep, call.call_id, ExceptionKind::Unimplemented, &format!("no method {m}"))?,
        }
    }
}
// endregion: server

// region: client
fn client(rt: &mut Runtime, console: &Console) -> Result<i32, Error> {
    let ep = granted(rt, "endpoint", ENDPOINT_CLIENT_ID)?;
    let timer: Timer = rt.take("timer")?;
    let gift: Blob = rt.take("gift")?;
    let t = rt.transport().clone();

    let copy = [Transfer { cap_id: timer.cap().id(), mode: XFER_COPY }];
    let (reply, _) = raw::call(&t, ep, KEEP, b"", &copy)?;
    console.write_line(&format!("COPY reply: {}", String::from_utf8_lossy(&reply)))?;
    console.write_line(&format!("my timer after COPY: {}", outcome(timer.now())))?;

    let gift_id = gift.cap().id();
    let moved = [Transfer { cap_id: gift_id, mode: XFER_MOVE }];
    let (reply, caps) = raw::call(&t, ep, SWAP, b"", &moved)?;
    console.write_line(&format!("MOVE reply: {}, {} cap(s) back", String::from_utf8_lossy(&reply), caps.len()))?;
    console.write_line(&format!("my old id of the blob after MOVE: {}", outcome(gift.size())))?;
    let [back] = caps.as_slice() else { return Err(Error::BadReply("SWAP returns one cap")) };
    let back = Blob::from_cap(Cap::new(back.cap_id, back.interface_id, t.clone()));
    console.write_line(&format!("the returned cap reads: {}", back.read_string()?))?;

    let mid = raw::call(&t, ep, EXIT, b"", &[]);
    console.write_line(&format!("call while the server exits: {}", outcome(mid)))?;
    let after = raw::call(&t, ep, KEEP, b"", &copy);
    console.write_line(&format!("call after the server exited: {}", outcome(after)))?;
    Ok(0)
}
// endregion: client

// region: hostile
fn bad_server(rt: &mut Runtime, console: &Console) -> Result<i32, Error> {
    let ep = granted(rt, "endpoint", ENDPOINT_OWNER_ID)?;
    let t = rt.transport().clone();
    let say = |what: &str, r: String| console.write_line(&format!("{what}: {r}"));
    say("RETURN of a call never received", outcome(raw::ret(&t, ep, 12345, b"", &[])))?;
    say("CALL through the owner facet", outcome(raw::call(&t, ep, HELLO, b"", &[])))?;
    let call = raw::recv(&t, ep)?;
    say("RECV", format!("method {} params {}", call.method, String::from_utf8_lossy(&call.params)))?;
    let own = [Transfer { cap_id: ep, mode: XFER_COPY }];
    say("RETURN giving away the owner facet", outcome(raw::ret(&t, ep, call.call_id, b"", &own)))?;
    say("RETURN", outcome(raw::ret(&t, ep, call.call_id, b"hello back", &[])))?;
    say("second RETURN of the same call", outcome(raw::ret(&t, ep, call.call_id, b"again", &[])))?;
    Ok(0)
}

fn bad_client(rt: &mut Runtime, console: &Console) -> Result<i32, Error> {
    let ep = granted(rt, "endpoint", ENDPOINT_CLIENT_ID)?;
    let sink = granted(rt, "sink", ENDPOINT_CLIENT_ID)?;
    let timer: Timer = rt.take("timer")?;
    let t = rt.transport().clone();
    let say = |what: &str, r: String| console.write_line(&format!("{what}: {r}"));
    say("RECV through the client facet", outcome(raw::recv(&t, ep).map(|_| ())))?;
    say("RETURN through the client facet", outcome(raw::ret(&t, ep, 1, b"", &[])))?;
    let forged = [Transfer { cap_id: 0x0007_0042, mode: XFER_COPY }];
    say("transfer of a forged cap id", outcome(raw::call(&t, ep, HELLO, b"", &forged)))?;
    let tid = timer.cap().id();
    let twice = [Transfer { cap_id: tid, mode: XFER_MOVE }, Transfer { cap_id: tid, mode: XFER_MOVE }];
    say("MOVE of the same cap twice", outcome(raw::call(&t, ep, HELLO, b"", &twice)))?;
    say("timer after the refused MOVE", outcome(timer.now()))?;
    let many = [Transfer { cap_id: tid, mode: XFER_COPY }; MAX_TRANSFERS as usize + 1];
    say("too many transfer descriptors", outcome(raw::call(&t, ep, HELLO, b"", &many)))?;
    timer.release()?;
    let released = [Transfer { cap_id: tid, mode: XFER_COPY }];
    say("transfer of a released cap", outcome(raw::call(&t, ep, HELLO, b"", &released)))?;
    say("call served by the bad server", outcome(raw::call(&t, ep, HELLO, b"hello", &[])))?;
    raw::call_no_wait(&t, sink, capos_rt::abi::ring::SQ_ENTRIES as usize)?;
    say("one call over the queue bound", outcome(raw::call(&t, sink, HELLO, b"", &[])))?;
    Ok(0)
}
// endregion: hostile

// region: bench
const BENCH_CALLS: u64 = 5000;
const BENCH_WINDOWS: u64 = 50;
const BENCH_STOP: u16 = 9;

/// Answers every call with an empty result. RETURN and the next RECV go in together, so one
/// kernel entry serves one round trip.
fn bench_server(rt: &mut Runtime) -> Result<i32, Error> {
    let ep = granted(rt, "endpoint", ENDPOINT_OWNER_ID)?;
    let t = rt.transport().clone();
    let mut call = raw::recv(&t, ep)?;
    while call.method != BENCH_STOP {
        call = raw::ret_and_recv(&t, ep, call.call_id)?;
    }
    raw::ret(&t, ep, call.call_id, b"", &[])?;
    Ok(0)
}

fn bench_client(rt: &mut Runtime, console: &Console) -> Result<i32, Error> {
    let ep = granted(rt, "endpoint", ENDPOINT_CLIENT_ID)?;
    let timer: Timer = rt.take("timer")?;
    let t = rt.transport().clone();
    // Timed in windows, as the bench service does: the total, and the fastest window (the one a
    // shared host disturbed least).
    let (mut ns, mut best) = (0u64, u64::MAX);
    for _ in 0..BENCH_WINDOWS {
        let start = timer.now()?;
        for _ in 0..BENCH_CALLS / BENCH_WINDOWS {
            raw::call(&t, ep, 1, b"", &[])?;
        }
        let w = (timer.now()? - start).max(1);
        ns += w;
        best = best.min(w);
    }
    raw::call(&t, ep, BENCH_STOP, b"", &[])?;
    console.write_line(&format!(
        "endpoint round trips: {BENCH_CALLS} in {} us, {} per second",
        ns / 1000,
        BENCH_CALLS * 1_000_000_000 / ns
    ))?;
    console.write_line(&format!("bench endpoint-roundtrip-time {} ns", best / (BENCH_CALLS / BENCH_WINDOWS)))?;
    Ok(0)
}
// endregion: bench
