//! The stack's one loop: the NIC's interrupt, a RECV on every client endpoint and smoltcp's
//! timers are all waited on at once, in one `cap_enter` with a timeout.
use alloc::format;
use alloc::vec::Vec;
use capos_rt::abi::ring::{Transfer, XFER_MOVE};
use capos_rt::client::network::method;
use capos_rt::schema::exception::ExceptionKind;
use capos_rt::transport::RELEASED;
use capos_rt::{Client, Console, EndpointOwner, Error, Incoming, StartedCall, StartedRecv, Timer};
use smoltcp::time::Instant;

use crate::nic::Nic;
use crate::stack::{Answer, NetError, Request, Stack, Step};
use crate::wire;

/// Params of the largest send plus framing.
const RECV_CAPACITY: usize = crate::stack::RECV_MAX + 512;
/// Longest sleep when smoltcp has no timer due: also how often the stack looks at `dieAfter`.
const IDLE_NS: u64 = 100_000_000;

/// A call that waits for the network (an accept with no connection yet, a recv with no data).
struct Blocked {
    client: usize,
    call: Incoming,
    req: Request,
    /// A connect whose handshake is under way: the socket (badge) it will answer with.
    connecting: Option<u64>,
}

pub struct Endpoints {
    pub owners: Vec<EndpointOwner>,
    recvs: Vec<Option<StartedRecv>>,
}

impl Endpoints {
    pub fn new(owners: Vec<EndpointOwner>) -> Endpoints {
        let recvs = owners.iter().map(|_| None).collect();
        Endpoints { owners, recvs }
    }
}

pub fn now(timer: &Timer) -> Result<Instant, Error> {
    Ok(Instant::from_micros((timer.now()? / 1000) as i64))
}

// region: loop
pub fn serve(
    stack: &mut Stack,
    nic: &mut Nic,
    eps: &mut Endpoints,
    timer: &Timer,
    console: &Console,
    die_after: Option<u64>,
) -> Result<i32, Error> {
    let mut blocked: Vec<Blocked> = Vec::new();
    let mut interrupt: Option<StartedCall> = None;
    let mut served: u64 = 0;
    let mut finished = 0;
    let expected: u32 = stack.clients.iter().map(|c| c.grant.clients).sum();
    while finished < expected {
        let t = now(timer)?;
        stack.iface.poll(t, nic, &mut stack.sockets);
        stack.note_arrivals();
        stack.reap();
        // Calls that waited: answer every one the network has now made possible.
        let mut i = 0;
        while i < blocked.len() {
            if let Some(answer) = retry(stack, &blocked[i]) {
                let b = blocked.swap_remove(i);
                answer_call(stack, eps, &b, &answer)?;
                continue;
            }
            i += 1;
        }
        // Answers may have queued data: let smoltcp send it before sleeping.
        stack.iface.poll(t, nic, &mut stack.sockets);
        for (k, owner) in eps.owners.iter().enumerate() {
            if eps.recvs[k].is_none() {
                eps.recvs[k] = Some(owner.start_recv(RECV_CAPACITY)?);
            }
        }
        if interrupt.is_none() {
            interrupt = Some(capos_virtio_hal::state().device.start_wait_interrupt()?);
        }
        let delay =
            stack.iface.poll_delay(t, &stack.sockets).map_or(IDLE_NS, |d| (d.total_micros() * 1000).min(IDLE_NS));
        if delay > 0 {
            capos_rt::syscall::cap_enter(1, delay);
        }
        if let Some(call) = interrupt.as_mut() {
            if let Some(count) = capos_virtio_hal::state().device.interrupt_count(call) {
                count?;
                interrupt = None;
                nic.net.ack_interrupt();
                nic.drain();
            }
        }
        for k in 0..eps.owners.len() {
            let Some(recv) = eps.recvs[k].as_mut() else { continue };
            let Some(call) = eps.owners[k].poll_recv(recv) else { continue };
            eps.recvs[k] = None;
            let call = call?;
            if call.method == RELEASED {
                stack.release(k, call.badge);
                continue;
            }
            served += 1;
            if die_after == Some(served) {
                console.write_line(&format!("dying on purpose in the middle of call {}", call.call_id))?;
                // SAFETY: none; this is the deliberate fault the stack-death smoke asks for.
                unsafe { core::ptr::write_volatile(16 as *mut u8, 1) };
            }
            if call.badge == 0 && call.method == method::DONE {
                finished += 1;
                stack.close_all(k);
                eps.owners[k].ret(
                    &call,
                    &capos_rt::encode_empty_params::<capos_rt::schema::capos_capnp::network_manager::done_results::Owned>(),
                    &[],
                )?;
                continue;
            }
            // A badge the stack no longer knows: a socket closed at its grant's `done`, whose
            // cap a process still holds.
            let Some(kind) = stack.kind(k, call.badge) else {
                reply(&eps.owners[k], &call, &wire::encode(&Answer::Error(NetError::BadSocket)), &[])?;
                continue;
            };
            match wire::decode(kind, &call) {
                Err((kind, why)) => reply_exception(&eps.owners[k], &call, kind, &why)?,
                Ok(req) => {
                    let b = Blocked { client: k, call, req, connecting: None };
                    match first_step(stack, b) {
                        Ok((b, answer)) => answer_call(stack, eps, &b, &answer)?,
                        Err(b) => blocked.push(b),
                    }
                }
            }
        }
    }
    // Let the last FIN exchanges finish (bounded), so live sockets and heap are measured at rest.
    let until = timer.now()? + 2_000_000_000;
    while stack.closing_count() > 0 && timer.now()? < until {
        let t = now(timer)?;
        stack.iface.poll(t, nic, &mut stack.sockets);
        stack.reap();
        capos_rt::syscall::cap_enter(1, 10_000_000);
        nic.net.ack_interrupt();
        nic.drain();
    }
    let c = &stack.counters;
    console.write_line(&format!("{} socket caps released, {} sockets closed at done", c.released, c.closed_at_done))?;
    console.write_line(&format!(
        "served {served} calls: {} accepted, {} connected, {} closed, {} refused by grant; {} frames in, {} frames out; {} sockets live; all {finished} clients done",
        c.accepted, c.connected, c.closed, c.refused_grants, nic.frames_in, nic.frames_out, stack.live_sockets()
    ))?;
    if c.udp_bound > 0 {
        console.write_line(&format!(
            "udp: {} sockets bound, {} datagrams from ungranted peers dropped",
            c.udp_bound, c.udp_dropped
        ))?;
    }
    let (heap, peak) = capos_rt::heap_stats::stats();
    if let Some(start) = c.heap_at_start {
        console.write_line(&format!(
            "{} SYNs in, {} connections ended before accept; heap {heap} bytes at the end, {} more than before the first listen, peak {peak}",
            nic.syns_in, c.dropped_unaccepted, heap as i64 - start as i64
        ))?;
    }
    Ok(0)
}
// endregion: loop

/// The first try of a call: its answer, or the call back to wait.
// The Err is the blocked call itself, handed back by value to be queued; boxing it would allocate per wait.
#[allow(clippy::result_large_err)]
fn first_step(stack: &mut Stack, mut b: Blocked) -> Result<(Blocked, Answer), Blocked> {
    match stack.step(b.client, &b.req) {
        Step::Ready(Answer::Socket(s)) if matches!(b.req, Request::Connect { .. }) => {
            b.connecting = Some(s);
            match retry(stack, &b) {
                Some(answer) => Ok((b, answer)),
                None => Err(b),
            }
        }
        Step::Ready(answer) => Ok((b, answer)),
        Step::Blocked => Err(b),
    }
}

/// A waiting call's answer once it has one.
fn retry(stack: &mut Stack, b: &Blocked) -> Option<Answer> {
    if let Some(socket) = b.connecting {
        return match stack.connect_state(b.client, socket)? {
            Ok(()) => Some(Answer::Socket(socket)),
            Err(e) => Some(Answer::Error(e)),
        };
    }
    match stack.step(b.client, &b.req) {
        Step::Ready(answer) => Some(answer),
        Step::Blocked => None,
    }
}

// region: answer
/// Answers a call. A new socket (an open or an accept) goes back as its cap: a facet of the
/// client's endpoint minted with the socket's badge and moved to the caller.
fn answer_call(stack: &mut Stack, eps: &Endpoints, b: &Blocked, answer: &Answer) -> Result<(), Error> {
    let owner = &eps.owners[b.client];
    let badge = match answer {
        Answer::Socket(s) | Answer::Accepted { socket: s, .. } => *s,
        _ => return reply(owner, &b.call, &wire::encode(answer), &[]),
    };
    let facet = match owner.mint(badge) {
        Ok(facet) => facet,
        Err(e) => {
            // No cap, so no release notice will come: the socket goes now.
            stack.forget(b.client, badge);
            return reply_exception(owner, &b.call, ExceptionKind::Failed, &format!("mint: {e}"));
        }
    };
    let moved = [Transfer { cap_id: facet.cap().id(), mode: XFER_MOVE }];
    match owner.ret(&b.call, &wire::encode(answer), &moved) {
        // Delivered: the facet is the caller's now.
        Ok(()) => {
            facet.into_cap().moved();
            Ok(())
        }
        // Not delivered (the caller died mid-call): dropping the facet releases its only copy,
        // and the release notice closes the socket.
        Err(Error::Transport(_)) => Ok(()),
        Err(e) => Err(e),
    }
}
// endregion: answer

/// RETURNs an exception, as `reply` does a result.
fn reply_exception(owner: &EndpointOwner, call: &Incoming, kind: ExceptionKind, why: &str) -> Result<(), Error> {
    match owner.ret_exception(call, kind, why) {
        Err(Error::Transport(_)) => Ok(()),
        other => other,
    }
}

/// RETURNs `result`; a caller that is gone (killed mid-call) is no error, the stack carries on.
fn reply(owner: &EndpointOwner, call: &Incoming, result: &[u8], moved: &[Transfer]) -> Result<(), Error> {
    match owner.ret(call, result, moved) {
        Err(Error::Transport(_)) => Ok(()),
        other => other,
    }
}
