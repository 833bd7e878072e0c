//! Endpoint facets: the kernel's face of kcore's [`Endpoint`] state machine.
//!
//! An endpoint has two kinds of cap. The **owner facet** may RECV and RETURN; the **client
//! facet** may only CALL. Attenuation is by facet, not by a rights mask: a process holding only
//! a client facet has no way to serve or to see other clients' calls.
//!
//! Work that touches another process (delivering a call into the server's ring, completing a
//! caller) cannot happen during the current process's ring pass, which has only that process
//! borrowed. It is queued as an [`Event`] and the scheduler applies it right after the pass
//! ([`crate::sched`] `drain_ipc`).

use super::{Cap, KernelCap};
use crate::kcell::KCell;
use crate::mem::account::{KernelCharge, SharedAccount};
use crate::process::Pid;
use alloc::rc::{Rc, Weak};
use alloc::vec::Vec;
use capos_abi::endpoint::{ENDPOINT_CLIENT_ID, ENDPOINT_OWNER_ID};
use capos_abi::err::{E_BAD_CALL_ID, E_BAD_TRANSFER, E_NOT_OWNER};
use capos_kcore::endpoint::{Delivery, Endpoint, EndpointError, Message, Waiter};
use capos_kcore::ring::{Outcome, PendingCall};
use capos_schema::exception::{self, ExceptionKind};
use core::cell::RefCell;

/// The kernel's endpoint: messages carry caps, and a queued one carries its charge to the caller's
/// kernel-heap share.
pub type KernelEndpoint = Endpoint<Cap, KernelCharge>;
pub type Shared = Rc<RefCell<KernelEndpoint>>;

// region: events
/// Work for the scheduler once the current ring pass is over.
pub enum Event {
    /// Write a call into the server's RECV buffer (and, if that fails, fail the caller).
    Deliver { ep: Shared, delivery: Delivery<Cap, KernelCharge> },
    /// Post a caller's CQE: the server's RETURN, or a disconnection.
    Complete { to: Waiter, outcome: Outcome<Cap> },
    /// The last copy of a badged client facet is gone: tell the server (a release notice).
    Released { ep: Shared, badge: u64 },
}

pub static EVENTS: KCell<Vec<Event>> = KCell::new(Vec::new());
/// Every endpoint ever made, weakly: a process's exit must reach the ones it served.
static ENDPOINTS: KCell<Vec<Weak<RefCell<KernelEndpoint>>>> = KCell::new(Vec::new());

fn push(event: Event) {
    EVENTS.borrow_mut().push(event);
}

/// Takes the queued events (the queue is free again while they are applied).
pub fn take_events() -> Vec<Event> {
    core::mem::take(&mut *EVENTS.borrow_mut())
}

fn disconnect(callers: Vec<Waiter>, reason: &str) {
    for to in callers {
        push(Event::Complete {
            to,
            outcome: Outcome::Exception(exception::encode(ExceptionKind::Disconnected, reason)),
        });
    }
}

/// Process `pid` ended: the calls it had received will never be returned.
pub fn process_exited(pid: Pid) {
    let live: Vec<Shared> = {
        let mut all = ENDPOINTS.borrow_mut();
        all.retain(|w| w.strong_count() > 0);
        all.iter().filter_map(Weak::upgrade).collect()
    };
    for ep in live {
        let callers = ep.borrow_mut().process_exited(pid);
        disconnect(callers, "the server exited during the call");
    }
}
// endregion: events

// region: facets
/// Creates an endpoint and returns (owner facet, client facet).
pub fn new_pair() -> (Cap, Cap) {
    let ep: Shared = Rc::new(RefCell::new(Endpoint::new()));
    let mut all = ENDPOINTS.borrow_mut();
    // A dead Weak still pins its allocation: prune here too, so creating and dropping endpoints
    // in a loop cannot grow the list without bound.
    all.retain(|w| w.strong_count() > 0);
    all.push(Rc::downgrade(&ep));
    drop(all);
    (Rc::new(Owner { ep: ep.clone() }), Rc::new(Client { ep, badge: 0 }))
}

/// Applies a [`Event::Released`]: the notice, delivered now if the server waits in RECV.
pub fn released(ep: &Shared, badge: u64) {
    if let Some(delivery) = ep.borrow_mut().release_notice(badge) {
        push(Event::Deliver { ep: ep.clone(), delivery });
    }
}

/// May RECV and RETURN. One object however often it is granted (COPY shares it), so its drop
/// means the last owner facet is gone and the endpoint closes.
pub struct Owner {
    ep: Shared,
}

/// May only CALL. Its calls reach the server with its badge: 0 for the facet an export grants,
/// the owner's choice for a facet minted with `EndpointOwner.mint`, which is how one server
/// tells its many objects apart (a store's files and directories, say).
pub struct Client {
    ep: Shared,
    badge: u64,
}

impl Drop for Client {
    fn drop(&mut self) {
        // Dropped wherever a cap table lets go of it (a RELEASE, a MOVE that failed, a process's
        // end), maybe while this endpoint is borrowed: the notice is queued, not sent here.
        if self.badge != 0 {
            push(Event::Released { ep: self.ep.clone(), badge: self.badge });
        }
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        let callers = self.ep.borrow_mut().close();
        disconnect(callers, "the endpoint has no server any more");
    }
}

impl KernelCap for Owner {
    fn interface_id(&self) -> u64 {
        ENDPOINT_OWNER_ID
    }
    fn call(&self, method: u16, params: &[u8], _c: &mut super::CallCtx<'_>) -> Result<super::Reply, super::CapError> {
        use capos_schema::capos_capnp::endpoint_owner::mint_params;
        if method != 0 {
            let why = alloc::format!("an owner facet cannot call: EndpointOwner has no method {method} (only mint @0)");
            return Err(super::CapError { kind: ExceptionKind::Unimplemented, reason: why });
        }
        let badge = super::params(params)?.get_root::<mint_params::Reader>()?.get_badge();
        if badge == 0 {
            return Err(super::CapError::invalid("badge 0 is the unbadged facet; mint a non-zero badge"));
        }
        let facet: Cap = Rc::new(Client { ep: self.ep.clone(), badge });
        let mut out = capos_schema::capnp::message::Builder::new_default();
        out.init_root::<capos_schema::capos_capnp::endpoint_owner::mint_results::Builder>();
        Ok(super::Reply::Done { data: super::encode(&out), caps: alloc::vec![facet] })
    }
    fn transferable(&self) -> bool {
        // Only ProcessSpawner grants hand out owner facets; sending one through an endpoint
        // could park it in its own queue, where the endpoint would keep itself alive.
        false
    }
    fn endpoint(&self) -> Option<Facet<'_>> {
        Some(Facet::Owner(&self.ep))
    }
}

impl KernelCap for Client {
    fn interface_id(&self) -> u64 {
        ENDPOINT_CLIENT_ID
    }
    fn call(&self, method: u16, _p: &[u8], _c: &mut super::CallCtx<'_>) -> Result<super::Reply, super::CapError> {
        // Unreachable in practice: the dispatcher routes client-facet CALLs to `call` below.
        Err(super::CapError::no_method("Endpoint", method))
    }
    fn endpoint(&self) -> Option<Facet<'_>> {
        Some(Facet::Client(&self.ep, self.badge))
    }
}

/// Which side of an endpoint a cap is.
pub enum Facet<'a> {
    Owner(&'a Shared),
    Client(&'a Shared, u64),
}
// endregion: facets

// region: ops
fn refused(kind: ExceptionKind, e: EndpointError) -> Outcome<Cap> {
    Outcome::Exception(exception::encode(kind, &alloc::format!("{e}")))
}

// region: call
/// Kernel-heap bytes a waiting message costs besides its params: the queue entry and the
/// message record, rounded up.
pub const MESSAGE_BYTES: u64 = 112;
/// And for each cap it carries (an `Rc` and its interface id).
pub const CAP_BYTES: u64 = 16;

/// CALL through a client facet: queued or delivered. A refused call is an exception, so the
/// ring commits none of its MOVEs and the caller keeps its caps. The message is charged to the
/// caller's kernel-heap share for as long as it waits; a call the share cannot cover is refused
/// with `overloaded`.
pub fn call(
    facet: Facet<'_>,
    (caller, account): (Pid, &SharedAccount),
    method: u16,
    params: &[u8],
    caps: Vec<(Cap, u64)>,
    pending: PendingCall,
) -> Outcome<Cap> {
    let Facet::Client(ep, badge) = facet else {
        return Outcome::Exception(exception::encode(ExceptionKind::Unimplemented, "an owner facet cannot call"));
    };
    let bytes = MESSAGE_BYTES + params.len() as u64 + CAP_BYTES * caps.len() as u64;
    let ticket = match KernelCharge::take(account, bytes) {
        Ok(ticket) => ticket,
        Err(e) => {
            let why = alloc::format!("kernel memory share for waiting calls: {e} (bytes)");
            return Outcome::Exception(exception::encode(ExceptionKind::Overloaded, &why));
        }
    };
    let message = Message { method, params: params.to_vec(), caps, badge, ticket };
    match ep.borrow_mut().call(Waiter { pid: caller, pending }, message) {
        Ok(Some(delivery)) => push(Event::Deliver { ep: ep.clone(), delivery }),
        Ok(None) => {}
        Err((e @ EndpointError::Closed, _)) => return refused(ExceptionKind::Disconnected, e),
        Err((e, _)) => return refused(ExceptionKind::Overloaded, e),
    }
    Outcome::Pending
}
// endregion: call

/// RECV through an owner facet.
pub fn recv(facet: Facet<'_>, server: Pid, pending: PendingCall) -> Outcome<Cap> {
    let Facet::Owner(ep) = facet else { return Outcome::Refused(E_NOT_OWNER) };
    match ep.borrow_mut().recv(Waiter { pid: server, pending }) {
        Ok(Some(delivery)) => push(Event::Deliver { ep: ep.clone(), delivery }),
        Ok(None) => {}
        Err(e) => return refused(ExceptionKind::Overloaded, e),
    }
    Outcome::Pending
}

/// RETURN through an owner facet: only the process that received `call_id` may answer it.
pub fn ret(
    facet: Facet<'_>,
    server: Pid,
    call_id: u32,
    data: Vec<u8>,
    exception: bool,
    caps: Vec<(Cap, u64)>,
) -> Result<(), i32> {
    let Facet::Owner(ep) = facet else { return Err(E_NOT_OWNER) };
    if exception && !caps.is_empty() {
        return Err(E_BAD_TRANSFER);
    }
    let to = ep.borrow_mut().ret(server, call_id).map_err(|_| E_BAD_CALL_ID)?;
    let outcome = if exception { Outcome::Exception(data) } else { Outcome::Reply { data, caps } };
    push(Event::Complete { to, outcome });
    Ok(())
}

/// A delivered call could not be written into the server: its caller gets a failure.
pub fn delivery_failed(ep: &Shared, call_id: u32) {
    if let Some(to) = ep.borrow_mut().abort(call_id) {
        let why = "the server could not take the call (receive buffer or cap table too small)";
        push(Event::Complete { to, outcome: Outcome::Exception(exception::encode(ExceptionKind::Failed, why)) });
    }
}
// endregion: ops
