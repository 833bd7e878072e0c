//! The two facets of an Endpoint. A client CALLs its facet with any method ordinal and opaque
//! params; the owner RECVs each call and answers it with RETURN. Caps travel with either side
//! as transfer descriptors (COPY keeps the sender's cap, MOVE gives it away on commit).
use super::client;
use crate::error::Error;
use crate::transport::{Cap, Incoming, Reply};
use capos_abi::ring::Transfer;
use capos_schema::exception::{self, ExceptionKind};
use capos_schema::ids::{ENDPOINT, ENDPOINT_OWNER};

/// Room for params or results unless the caller asks for more: one page.
pub const DEFAULT_CAPACITY: usize = 4096;

/// The client facet: CALL only.
pub struct Endpoint {
    cap: Cap,
}
client!(Endpoint, ENDPOINT);

impl Endpoint {
    /// Calls the server with `method` and `params` (usually a framed Cap'n Proto message, but the
    /// kernel does not look inside), handing over `transfers`. The server's result, or its
    /// CapException, or `disconnected` once the server is gone.
    pub fn call(&self, method: u16, params: &[u8], transfers: &[Transfer]) -> Result<Reply, Error> {
        self.call_with_capacity(method, params, transfers, DEFAULT_CAPACITY)
    }

    /// Like [`Endpoint::call`] with room for a result of up to `capacity` bytes.
    pub fn call_with_capacity(
        &self,
        method: u16,
        params: &[u8],
        transfers: &[Transfer],
        capacity: usize,
    ) -> Result<Reply, Error> {
        self.cap.transport().call_with(self.cap.id(), method, params, capacity, transfers)
    }
}

impl Endpoint {
    /// The Endpoint a reply to a call on this one carries in result-cap record 0: a facet the
    /// server minted and moved to us (a store object, a socket). `what` names it for the error
    /// when it is missing or is not an Endpoint.
    pub fn result_endpoint(&self, reply: &Reply, what: &'static str) -> Result<Endpoint, Error> {
        endpoint_at(&self.cap, reply, what)
    }
}

fn endpoint_at(on: &Cap, reply: &Reply, what: &'static str) -> Result<Endpoint, Error> {
    let first = reply.caps.first().ok_or(Error::BadReply(what))?;
    let cap = Cap::new(first.cap_id, first.interface_id, on.transport().clone());
    if first.interface_id != ENDPOINT {
        return Err(Error::BadReply(what));
    }
    Ok(Endpoint { cap })
}

/// The owner facet: RECV and RETURN.
pub struct EndpointOwner {
    cap: Cap,
}
client!(EndpointOwner, ENDPOINT_OWNER);

impl EndpointOwner {
    /// A new client facet whose calls arrive with `badge` (not 0) in [`Incoming::badge`]; when
    /// its last copy is released this owner receives a release notice with that badge.
    pub fn mint(&self, badge: u64) -> Result<Endpoint, Error> {
        let p = super::params(|m| {
            m.init_root::<capos_schema::capos_capnp::endpoint_owner::mint_params::Builder>().set_badge(badge)
        });
        let reply = self.cap.call(0, &p, super::SMALL_RESULT)?;
        endpoint_at(&self.cap, &reply, "mint returned no Endpoint facet")
    }

    /// Waits for the next call (params of up to [`DEFAULT_CAPACITY`] bytes).
    pub fn recv(&self) -> Result<Incoming, Error> {
        self.recv_with_capacity(DEFAULT_CAPACITY)
    }

    pub fn recv_with_capacity(&self, capacity: usize) -> Result<Incoming, Error> {
        self.cap.transport().recv(self.cap.id(), capacity)
    }

    /// Starts a RECV without waiting for it ([`crate::Transport::poll_recv`] collects the call).
    pub fn start_recv(&self, capacity: usize) -> Result<crate::StartedRecv, Error> {
        self.cap.transport().start_recv(self.cap.id(), capacity)
    }

    /// The call a started RECV delivered, once it has arrived.
    pub fn poll_recv(&self, recv: &mut crate::StartedRecv) -> Option<Result<Incoming, Error>> {
        self.cap.transport().poll_recv(recv)
    }

    /// Answers `call` with `result`, handing `transfers` back to the caller.
    pub fn ret(&self, call: &Incoming, result: &[u8], transfers: &[Transfer]) -> Result<(), Error> {
        self.cap.transport().ret(self.cap.id(), call.call_id, result, transfers, false)
    }

    /// Answers `call` with a CapException of `kind`.
    pub fn ret_exception(&self, call: &Incoming, kind: ExceptionKind, reason: &str) -> Result<(), Error> {
        let data = exception::encode(kind, reason);
        self.cap.transport().ret(self.cap.id(), call.call_id, &data, &[], true)
    }
}
