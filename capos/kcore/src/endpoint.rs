//! The Endpoint: a kernel object through which one process serves calls from others.
//!
//! Three bounded queues, nothing else:
//! - **queued calls**: CALLs that arrived before any RECV (FIFO, at most [`MAX_QUEUED_CALLS`]);
//! - **queued receives**: RECVs that arrived before any CALL (FIFO, at most [`MAX_QUEUED_RECVS`]);
//! - **in-flight calls**: delivered to a server, awaiting its RETURN, keyed by call id (at most
//!   [`MAX_IN_FLIGHT`]).
//!
//! The state machine knows nothing about rings, memory or processes beyond a pid per waiter: it
//! says *who* must be completed *with what*, and the kernel does the writing. That keeps every
//! rule here testable on the host, including the model test at the bottom.

use crate::ring::PendingCall;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

/// CALLs waiting for a RECV; one more is refused with [`EndpointError::QueueFull`].
pub const MAX_QUEUED_CALLS: usize = 16;
/// Queued CALLs of one process: no caller may take more than half the queue, so that one flooding client
/// never leaves another without room (A.9's ring fuzzer found that it could).
pub const MAX_QUEUED_CALLS_PER_CALLER: usize = MAX_QUEUED_CALLS / 2;
/// RECVs waiting for a CALL; one more is refused with [`EndpointError::QueueFull`].
pub const MAX_QUEUED_RECVS: usize = 16;
/// Calls received and not yet returned; a RECV beyond it is refused with [`EndpointError::QueueFull`].
pub const MAX_IN_FLIGHT: usize = 64;

/// A process waiting for a CQE: who, and where its result goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Waiter {
    pub pid: u32,
    pub pending: PendingCall,
}

/// What a CALL carries to the server: method ordinal, params bytes, transferred caps, and the
/// badge of the client facet it came through (0 for the unbadged facet). `ticket` is whatever
/// the kernel attaches to a message while it waits (A.9: the charge to its caller's share of the
/// kernel heap); the endpoint only moves it along with the message and drops it with it.
#[derive(Debug, PartialEq, Eq)]
pub struct Message<C, T = ()> {
    pub method: u16,
    pub params: Vec<u8>,
    pub caps: Vec<(C, u64)>,
    pub badge: u64,
    pub ticket: T,
}

/// The method ordinal of a release notice: the last copy of the client facet with the notice's
/// badge is gone. A notice has call id 0 and no caller, so it is never RETURNed.
pub const RELEASED_METHOD: u16 = 0xffff;

/// A call matched with a receive: the kernel writes `message` into the server's RECV buffer
/// and posts its CQE with `call_id`.
#[derive(Debug, PartialEq, Eq)]
pub struct Delivery<C, T = ()> {
    pub server: Waiter,
    pub call_id: u32,
    pub message: Message<C, T>,
}

// region: errors
/// Why the endpoint refused an operation. Each has a fixed answer on the ring (see the kernel's
/// endpoint cap): `QueueFull` and `Closed` are CapExceptions (overloaded, disconnected),
/// `NoSuchCall` is the transport error `E_BAD_CALL_ID`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointError {
    /// A bounded queue is at its limit.
    QueueFull,
    /// Every owner facet is gone; nothing will ever serve this endpoint.
    Closed,
    /// RETURN named a call id that is not in flight, or that another process received.
    NoSuchCall,
}

impl core::fmt::Display for EndpointError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            EndpointError::QueueFull => "endpoint queue full",
            EndpointError::Closed => "endpoint closed: the server is gone",
            EndpointError::NoSuchCall => "no such call in flight for this server",
        })
    }
}
// endregion: errors

// region: endpoint
/// What [`Endpoint::call`] answers: delivered now, queued (None), or refused with the message.
pub type CallResult<C, T> = Result<Option<Delivery<C, T>>, (EndpointError, Message<C, T>)>;

struct InFlight {
    /// The process that received the call; only it may RETURN it.
    server: u32,
    caller: Waiter,
}

pub struct Endpoint<C, T = ()> {
    calls: VecDeque<(Waiter, Message<C, T>)>,
    recvs: VecDeque<Waiter>,
    in_flight: BTreeMap<u32, InFlight>,
    /// Badges whose facets are gone, waiting for a RECV (delivered before any queued call).
    released: VecDeque<u64>,
    next_call_id: u32,
    closed: bool,
}

impl<C, T: Default> Endpoint<C, T> {
    pub const fn new() -> Self {
        Endpoint {
            calls: VecDeque::new(),
            recvs: VecDeque::new(),
            in_flight: BTreeMap::new(),
            released: VecDeque::new(),
            next_call_id: 1,
            closed: false,
        }
    }

    /// A client's CALL. Delivered at once to the oldest queued RECV, else queued. On refusal
    /// the message comes back untouched, so the caller's MOVEd caps can stay where they are.
    pub fn call(&mut self, caller: Waiter, message: Message<C, T>) -> CallResult<C, T> {
        if self.closed {
            return Err((EndpointError::Closed, message));
        }
        if self.in_flight.len() < MAX_IN_FLIGHT {
            if let Some(server) = self.recvs.pop_front() {
                return Ok(Some(self.deliver(server, caller, message)));
            }
        }
        let own = self.calls.iter().filter(|(w, _)| w.pid == caller.pid).count();
        if self.calls.len() >= MAX_QUEUED_CALLS || own >= MAX_QUEUED_CALLS_PER_CALLER {
            return Err((EndpointError::QueueFull, message));
        }
        self.calls.push_back((caller, message));
        Ok(None)
    }

    /// The owner's RECV. Takes the oldest queued call, else waits in the receive queue.
    pub fn recv(&mut self, server: Waiter) -> Result<Option<Delivery<C, T>>, EndpointError> {
        if let Some(badge) = self.released.pop_front() {
            return Ok(Some(notice(server, badge)));
        }
        if self.in_flight.len() >= MAX_IN_FLIGHT {
            return Err(EndpointError::QueueFull);
        }
        if let Some((caller, message)) = self.calls.pop_front() {
            return Ok(Some(self.deliver(server, caller, message)));
        }
        if self.recvs.len() >= MAX_QUEUED_RECVS {
            return Err(EndpointError::QueueFull);
        }
        self.recvs.push_back(server);
        Ok(None)
    }

    /// The last copy of the client facet badged `badge` was released: its server learns it on
    /// a RECV, now if one is waiting. Notices are not bounded by [`MAX_QUEUED_CALLS`] (refusing
    /// one would leak the server's object): there is at most one per facet the server minted.
    /// A closed endpoint has nobody to tell.
    pub fn release_notice(&mut self, badge: u64) -> Option<Delivery<C, T>> {
        if self.closed {
            return None;
        }
        if let Some(server) = self.recvs.pop_front() {
            return Some(notice(server, badge));
        }
        self.released.push_back(badge);
        None
    }

    /// The owner's RETURN of `call_id` by process `server`: the caller to complete.
    pub fn ret(&mut self, server: u32, call_id: u32) -> Result<Waiter, EndpointError> {
        if self.in_flight.get(&call_id).is_none_or(|f| f.server != server) {
            return Err(EndpointError::NoSuchCall);
        }
        self.in_flight.remove(&call_id).map(|f| f.caller).ok_or(EndpointError::NoSuchCall)
    }

    /// The kernel could not hand a delivered call to its server (the server died, or its buffer
    /// or cap table was too small): the call leaves the in-flight set and its caller is returned.
    pub fn abort(&mut self, call_id: u32) -> Option<Waiter> {
        self.in_flight.remove(&call_id).map(|f| f.caller)
    }

    /// The last owner facet is gone: every queued and in-flight caller is returned (to be
    /// completed as disconnected, with the caps their messages carried dropped) and later calls
    /// are refused with [`EndpointError::Closed`].
    pub fn close(&mut self) -> Vec<Waiter> {
        self.closed = true;
        self.recvs.clear();
        self.released.clear();
        let mut callers: Vec<Waiter> = self.calls.drain(..).map(|(w, _)| w).collect();
        callers.extend(core::mem::take(&mut self.in_flight).into_values().map(|f| f.caller));
        callers
    }

    /// Process `pid` ended. Calls it had received are returned (their callers are disconnected);
    /// its queued receives and queued calls are dropped; calls it made that are in flight stay,
    /// and their RETURN later finds no one to complete.
    pub fn process_exited(&mut self, pid: u32) -> Vec<Waiter> {
        self.recvs.retain(|w| w.pid != pid);
        self.calls.retain(|(w, _)| w.pid != pid);
        let ids: Vec<u32> = self.in_flight.iter().filter(|(_, f)| f.server == pid).map(|(id, _)| *id).collect();
        ids.into_iter().filter_map(|id| self.in_flight.remove(&id)).map(|f| f.caller).collect()
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// (queued calls, queued receives, in-flight calls).
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.calls.len(), self.recvs.len(), self.in_flight.len())
    }

    fn deliver(&mut self, server: Waiter, caller: Waiter, message: Message<C, T>) -> Delivery<C, T> {
        let call_id = self.fresh_call_id();
        self.in_flight.insert(call_id, InFlight { server: server.pid, caller });
        Delivery { server, call_id, message }
    }

    /// A call id not in flight. Never 0 (RETURN's "no call" value); wraps after 2^32 - 1 calls,
    /// and skips ids still in flight, so an id is never live twice.
    fn fresh_call_id(&mut self) -> u32 {
        loop {
            let id = self.next_call_id;
            self.next_call_id = match id.wrapping_add(1) {
                0 => 1,
                n => n,
            };
            if !self.in_flight.contains_key(&id) {
                return id;
            }
        }
    }
}
// endregion: endpoint

/// A release notice for `server`: call id 0, never in flight.
fn notice<C, T: Default>(server: Waiter, badge: u64) -> Delivery<C, T> {
    Delivery {
        server,
        call_id: 0,
        message: Message { method: RELEASED_METHOD, params: Vec::new(), caps: Vec::new(), badge, ticket: T::default() },
    }
}

impl<C, T: Default> Default for Endpoint<C, T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::Rng;
    use alloc::vec;

    fn w(pid: u32, ud: u64) -> Waiter {
        Waiter { pid, pending: PendingCall { user_data: ud, result_addr: 0x1000, result_len: 64 } }
    }
    fn msg(tag: u8) -> Message<u32> {
        Message { method: tag as u16, params: vec![tag], caps: vec![], badge: 0, ticket: () }
    }

    #[test]
    fn release_notices_go_to_a_waiting_recv_or_the_next_one_first() {
        let mut e: Endpoint<u32> = Endpoint::new();
        e.recv(w(1, 1)).unwrap();
        let d = e.release_notice(7).expect("a waiting receive takes the notice at once");
        assert_eq!((d.call_id, d.message.method, d.message.badge), (0, RELEASED_METHOD, 7));
        assert_eq!(e.counts(), (0, 0, 0), "a notice is never in flight");
        e.call(w(2, 1), msg(3)).unwrap();
        assert!(e.release_notice(8).is_none());
        let d = e.recv(w(1, 2)).unwrap().unwrap();
        assert_eq!((d.message.method, d.message.badge), (RELEASED_METHOD, 8), "notices come before queued calls");
        assert_eq!(e.recv(w(1, 3)).unwrap().unwrap().message.params, vec![3]);
        e.close();
        assert!(e.release_notice(9).is_none());
        assert!(e.recv(w(1, 4)).unwrap().is_none(), "a closed endpoint drops notices");
    }

    #[test]
    fn call_before_recv_queues_then_delivers() {
        let mut e = Endpoint::new();
        assert_eq!(e.call(w(2, 1), msg(7)).unwrap(), None);
        let d = e.recv(w(1, 9)).unwrap().unwrap();
        assert_eq!((d.server, d.message.params.clone()), (w(1, 9), vec![7]));
        assert_eq!(e.counts(), (0, 0, 1));
        assert_eq!(e.ret(1, d.call_id), Ok(w(2, 1)));
        assert_eq!(e.counts(), (0, 0, 0));
    }

    #[test]
    fn recv_before_call_queues_then_delivers() {
        let mut e = Endpoint::new();
        assert_eq!(e.recv(w(1, 9)).unwrap(), None);
        let d = e.call(w(2, 1), msg(3)).unwrap().unwrap();
        assert_eq!(d.server, w(1, 9));
        assert_ne!(d.call_id, 0);
    }

    #[test]
    fn queued_calls_are_bounded_and_return_the_message() {
        let mut e = Endpoint::new();
        for i in 0..MAX_QUEUED_CALLS {
            // two callers, each up to its share
            e.call(w(2 + (i % 2) as u32, i as u64), msg(0)).unwrap();
        }
        let (err, back) = e.call(w(4, 99), msg(5)).unwrap_err();
        assert_eq!((err, back), (EndpointError::QueueFull, msg(5)));
    }

    #[test]
    fn one_caller_takes_at_most_half_the_queue() {
        let mut e = Endpoint::new();
        for i in 0..MAX_QUEUED_CALLS_PER_CALLER {
            e.call(w(2, i as u64), msg(0)).unwrap();
        }
        assert_eq!(e.call(w(2, 99), msg(1)).unwrap_err(), (EndpointError::QueueFull, msg(1)));
        // another caller still finds room, and the flooder gets its share back as its calls are received
        assert_eq!(e.call(w(3, 1), msg(2)).unwrap(), None);
        e.recv(w(1, 1)).unwrap().unwrap();
        assert_eq!(e.call(w(2, 100), msg(3)).unwrap(), None);
    }

    #[test]
    fn queued_recvs_and_in_flight_are_bounded() {
        let mut e: Endpoint<u32> = Endpoint::new();
        for i in 0..MAX_QUEUED_RECVS {
            e.recv(w(1, i as u64)).unwrap();
        }
        assert_eq!(e.recv(w(1, 99)), Err(EndpointError::QueueFull));
        let mut e: Endpoint<u32> = Endpoint::new();
        for i in 0..MAX_IN_FLIGHT {
            e.call(w(2, i as u64), msg(0)).unwrap();
            e.recv(w(1, i as u64)).unwrap().unwrap();
        }
        assert_eq!(e.recv(w(1, 0)), Err(EndpointError::QueueFull));
        // A call is queued rather than delivered beyond the in-flight bound.
        assert_eq!(e.call(w(2, 0), msg(0)).unwrap(), None);
    }

    #[test]
    fn only_the_receiving_process_may_return_and_only_once() {
        let mut e = Endpoint::new();
        e.call(w(2, 1), msg(0)).unwrap();
        let d = e.recv(w(1, 1)).unwrap().unwrap();
        assert_eq!(e.ret(3, d.call_id), Err(EndpointError::NoSuchCall));
        assert_eq!(e.ret(1, d.call_id + 1), Err(EndpointError::NoSuchCall));
        assert_eq!(e.ret(1, 0), Err(EndpointError::NoSuchCall));
        assert!(e.ret(1, d.call_id).is_ok());
        assert_eq!(e.ret(1, d.call_id), Err(EndpointError::NoSuchCall));
    }

    #[test]
    fn close_returns_every_caller_and_refuses_more() {
        let mut e = Endpoint::new();
        e.call(w(2, 1), msg(0)).unwrap();
        e.recv(w(1, 1)).unwrap().unwrap();
        e.call(w(3, 2), msg(0)).unwrap();
        let mut gone = e.close();
        gone.sort_by_key(|w| w.pid);
        assert_eq!(gone, vec![w(2, 1), w(3, 2)]);
        assert_eq!(e.call(w(2, 5), msg(1)).unwrap_err().0, EndpointError::Closed);
        assert_eq!(e.counts(), (0, 0, 0));
    }

    #[test]
    fn server_exit_disconnects_the_calls_it_received() {
        let mut e = Endpoint::new();
        e.call(w(2, 1), msg(0)).unwrap();
        e.call(w(3, 1), msg(0)).unwrap();
        e.recv(w(1, 1)).unwrap().unwrap();
        e.recv(w(1, 2)).unwrap(); // takes pid 3's call
        assert_eq!(e.process_exited(1).len(), 2);
        assert_eq!(e.counts(), (0, 0, 0));
        // The endpoint itself stays open: another owner may still serve it.
        assert!(e.call(w(2, 3), msg(0)).unwrap().is_none());
    }

    #[test]
    fn caller_exit_drops_its_queued_calls() {
        let mut e = Endpoint::new();
        e.call(w(2, 1), msg(0)).unwrap();
        e.recv(w(1, 1)).unwrap();
        e.call(w(2, 2), msg(0)).unwrap();
        e.call(w(4, 2), msg(0)).unwrap();
        assert!(e.process_exited(2).is_empty());
        assert_eq!(e.counts(), (1, 0, 1));
    }

    #[test]
    fn call_ids_skip_ids_in_flight_and_zero() {
        let mut e = Endpoint::new();
        e.next_call_id = u32::MAX;
        e.call(w(2, 1), msg(0)).unwrap();
        let a = e.recv(w(1, 1)).unwrap().unwrap().call_id;
        e.call(w(2, 2), msg(0)).unwrap();
        let b = e.recv(w(1, 2)).unwrap().unwrap().call_id;
        assert_eq!((a, b), (u32::MAX, 1));
        e.next_call_id = u32::MAX;
        e.call(w(2, 3), msg(0)).unwrap();
        assert_eq!(e.recv(w(1, 3)).unwrap().unwrap().call_id, 2);
    }

    // region: model
    /// A deliberately naive reference: plain vectors searched linearly, no call-id allocator
    /// (it records the ids the endpoint hands out and checks they are fresh and non-zero).
    #[derive(Default)]
    struct Model {
        calls: Vec<(u32, u64)>,
        recvs: Vec<(u32, u64)>,
        in_flight: Vec<(u32, u32, (u32, u64))>, // (call id, server, caller)
        closed: bool,
    }

    fn key(w: &Waiter) -> (u32, u64) {
        (w.pid, w.pending.user_data)
    }

    #[test]
    fn random_operations_match_the_reference_model() {
        for seed in 1..=200u64 {
            let mut rng = Rng::new(seed);
            let mut e: Endpoint<u32> = Endpoint::new();
            let mut m = Model::default();
            let mut ud = 0u64;
            for step in 0..400 {
                ud += 1;
                let ctx = format!("seed {seed} step {step}");
                match rng.below(100) {
                    0..=39 => {
                        let caller = w(10 + rng.below(4) as u32, ud);
                        let r = e.call(caller, msg(ud as u8));
                        if m.closed {
                            assert_eq!(r.unwrap_err().0, EndpointError::Closed, "{ctx}");
                        } else if !m.recvs.is_empty() && m.in_flight.len() < MAX_IN_FLIGHT {
                            let d = r.unwrap().expect(&ctx);
                            assert_eq!(key(&d.server), m.recvs.remove(0), "{ctx}: oldest receive first");
                            assert_eq!(d.message.params, vec![ud as u8], "{ctx}");
                            assert!(d.call_id != 0 && m.in_flight.iter().all(|f| f.0 != d.call_id), "{ctx}");
                            m.in_flight.push((d.call_id, d.server.pid, key(&caller)));
                        } else if m.calls.len() >= MAX_QUEUED_CALLS
                            || m.calls.iter().filter(|c| c.0 == caller.pid).count() >= MAX_QUEUED_CALLS_PER_CALLER
                        {
                            assert_eq!(r.unwrap_err().0, EndpointError::QueueFull, "{ctx}");
                        } else {
                            assert!(r.unwrap().is_none(), "{ctx}");
                            m.calls.push(key(&caller));
                        }
                    }
                    40..=69 => {
                        let server = w(1 + rng.below(2) as u32, ud);
                        let r = e.recv(server);
                        if m.in_flight.len() >= MAX_IN_FLIGHT {
                            assert_eq!(r, Err(EndpointError::QueueFull), "{ctx}");
                        } else if !m.calls.is_empty() {
                            let d = r.unwrap().expect(&ctx);
                            let caller = m.calls.remove(0);
                            assert!(d.call_id != 0 && m.in_flight.iter().all(|f| f.0 != d.call_id), "{ctx}");
                            m.in_flight.push((d.call_id, server.pid, caller));
                        } else if m.recvs.len() >= MAX_QUEUED_RECVS {
                            assert_eq!(r, Err(EndpointError::QueueFull), "{ctx}");
                        } else {
                            assert_eq!(r, Ok(None), "{ctx}");
                            m.recvs.push(key(&server));
                        }
                    }
                    70..=89 => {
                        // RETURN: usually a real id, sometimes a forged one or the wrong server.
                        let server = 1 + rng.below(2) as u32;
                        let id = match (m.in_flight.is_empty(), rng.below(4)) {
                            (false, 0..=2) => m.in_flight[rng.below(m.in_flight.len() as u64) as usize].0,
                            _ => rng.below(8) as u32,
                        };
                        let want = m.in_flight.iter().position(|f| f.0 == id && f.1 == server);
                        match want {
                            Some(i) => {
                                assert_eq!(e.ret(server, id).map(|w| key(&w)), Ok(m.in_flight.remove(i).2), "{ctx}")
                            }
                            None => assert_eq!(e.ret(server, id), Err(EndpointError::NoSuchCall), "{ctx}"),
                        }
                    }
                    90..=95 => {
                        let pid = if rng.below(2) == 0 { 1 + rng.below(2) as u32 } else { 10 + rng.below(4) as u32 };
                        let mut got: Vec<_> = e.process_exited(pid).iter().map(key).collect();
                        let mut want: Vec<_> = m.in_flight.iter().filter(|f| f.1 == pid).map(|f| f.2).collect();
                        m.in_flight.retain(|f| f.1 != pid);
                        m.calls.retain(|c| c.0 != pid);
                        m.recvs.retain(|r| r.0 != pid);
                        got.sort();
                        want.sort();
                        assert_eq!(got, want, "{ctx}");
                    }
                    _ => {
                        if rng.below(4) == 0 {
                            let mut got: Vec<_> = e.close().iter().map(key).collect();
                            let mut want: Vec<_> = m.calls.drain(..).collect();
                            want.extend(m.in_flight.drain(..).map(|f| f.2));
                            m.recvs.clear();
                            m.closed = true;
                            got.sort();
                            want.sort();
                            assert_eq!(got, want, "{ctx}");
                        }
                    }
                }
                assert_eq!(e.counts(), (m.calls.len(), m.recvs.len(), m.in_flight.len()), "{ctx}");
                assert_eq!(e.is_closed(), m.closed, "{ctx}");
            }
        }
    }
    // endregion: model
}
