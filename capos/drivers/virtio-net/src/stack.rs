//! Sockets on smoltcp, per endpoint, within that endpoint's grant.
//!
//! Each socket is named by the badge of the facet the stack minted for it (the serve loop mints
//! it and hands it to the client as the socket's cap); badges are per endpoint, and a call can
//! only arrive with the badge of a cap its caller holds.
//! A listener is a pool of smoltcp sockets in the LISTEN state on one port (smoltcp has no
//! backlog; several listening sockets are its way to take concurrent connections); `accept`
//! takes the one whose peer connected first and puts a fresh listening socket in its place.
use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;
use smoltcp::iface::{Interface, SocketHandle, SocketSet};
use smoltcp::socket::{tcp, udp};
use smoltcp::wire::{IpAddress, IpEndpoint, Ipv4Address};

use crate::grant::Grant;

/// Listening sockets kept per listener: connections that may wait to be accepted at once.
pub const BACKLOG: usize = 32;
/// Sockets one endpoint may hold (listeners count one each, not their backlog).
pub const SOCKETS_MAX: usize = 64;
/// smoltcp socket slots reserved at start: a listener's pool, the sockets being served, and
/// those closed but still finishing their FIN exchange: under load on a busy host about 140
/// were alive at once (chapter W.6, "Under load").
const SOCKET_SLOTS: usize = 2 * BACKLOG + 2 * SOCKETS_MAX;
const TCP_RX: usize = 4096;
const TCP_TX: usize = 8192;
const UDP_BYTES: usize = 8192;
const UDP_PACKETS: usize = 8;
/// The largest UDP payload one Ethernet frame carries (1500 - 20 - 8): smoltcp is built without
/// IP fragmentation, so a larger datagram could never leave.
pub const UDP_PAYLOAD_MAX: usize = 1472;
/// The most bytes one recv returns (one Endpoint message carries it).
pub const RECV_MAX: usize = 8192;
/// Local ports for outgoing connections.
const EPHEMERAL: core::ops::Range<u16> = 49152..65535;

/// The answer the protocol sends for a NetError (capnp enum ordinals, see capos.capnp).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetError {
    WouldBlock,
    NotGranted,
    BadSocket,
    Reset,
    Closed,
    Refused,
    InUse,
    NoBuffers,
    Invalid,
}

pub enum Request {
    Listen { port: u16 },
    Accept { listener: u64, nonblocking: bool },
    Recv { socket: u64, max: u32, nonblocking: bool },
    Send { socket: u64, data: Vec<u8>, nonblocking: bool },
    Shutdown { socket: u64, how: u8 },
    Connect { addr: u32, port: u16 },
    BindUdp { port: u16 },
    SendTo { socket: u64, addr: u32, port: u16, data: Vec<u8> },
    RecvFrom { socket: u64, max: u32, nonblocking: bool },
    Poll { socket: u64 },
}

/// What a badge names: the interface its calls are decoded with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Manager,
    Listener,
    Tcp,
    Udp,
}

pub enum Answer {
    /// A new socket, by badge: the serve loop mints its cap and returns it.
    Socket(u64),
    Accepted {
        socket: u64,
        addr: u32,
        port: u16,
    },
    Data(Vec<u8>),
    Sent(u32),
    Empty,
    From {
        data: Vec<u8>,
        addr: u32,
        port: u16,
    },
    Ready {
        readable: bool,
        writable: bool,
        hangup: bool,
    },
    Error(NetError),
}

/// A call either has its answer now, or waits (a blocking call with nothing to do yet).
pub enum Step {
    Ready(Answer),
    Blocked,
}

/// One socket of a listener's pool, and when its peer's SYN arrived (in arrival order; `None`
/// while it still listens).
struct Slot {
    handle: SocketHandle,
    arrived: Option<u64>,
}

enum Sock {
    Listener { port: u16, pool: Vec<Slot> },
    Tcp { handle: SocketHandle, closed_by_us: bool, read_shut: bool, connecting: bool },
    Udp { handle: SocketHandle },
}

/// One client endpoint: its grant and its sockets, by badge (0 is the manager itself).
pub struct Client {
    pub grant: Grant,
    socks: BTreeMap<u64, Sock>,
    next: u64,
}

/// Counters the stack prints when it ends (and the load smoke asserts).
#[derive(Default)]
pub struct Counters {
    pub accepted: u64,
    pub connected: u64,
    pub closed: u64,
    pub refused_grants: u64,
    /// Heap bytes in use before the first listen: the load smoke compares the heap at the end,
    /// when every socket is gone again, with it.
    pub heap_at_start: Option<usize>,
    /// Connections that ended (reset or timed out) before they were accepted: their pool
    /// socket was replaced by a fresh listening one.
    pub dropped_unaccepted: u64,
    /// Sockets closed because the last copy of their cap was released (by RELEASE, or by the
    /// kernel when the holder ended).
    pub released: u64,
    /// Sockets still open when their grant said `done`, closed then.
    pub closed_at_done: u64,
    /// Datagrams that arrived on a UDP socket from a peer its endpoint's grant does not name.
    pub udp_dropped: u64,
    /// UDP sockets bound.
    pub udp_bound: u64,
}

pub struct Stack {
    pub iface: Interface,
    pub sockets: SocketSet<'static>,
    pub clients: Vec<Client>,
    /// Closed by their owner, still finishing their FIN exchange; removed once done.
    closing: Vec<SocketHandle>,
    next_port: u16,
    /// Stamps the SYNs listeners received, so `accept` takes connections in arrival order.
    arrivals: u64,
    pub counters: Counters,
}

fn ready(a: Answer) -> Result<Step, NetError> {
    Ok(Step::Ready(a))
}

fn new_tcp() -> tcp::Socket<'static> {
    tcp::Socket::new(tcp::SocketBuffer::new(vec![0; TCP_RX]), tcp::SocketBuffer::new(vec![0; TCP_TX]))
}

fn be(addr: IpAddress) -> u32 {
    match addr {
        IpAddress::Ipv4(a) => u32::from_be_bytes(a.octets()),
    }
}

impl Client {
    pub fn new(grant: Grant) -> Client {
        Client { grant, socks: BTreeMap::new(), next: 1 }
    }

    fn insert(&mut self, sock: Sock) -> Result<u64, NetError> {
        if self.socks.len() >= SOCKETS_MAX {
            return Err(NetError::NoBuffers);
        }
        let id = self.next;
        self.next += 1;
        self.socks.insert(id, sock);
        Ok(id)
    }
}

// region: step
impl Stack {
    pub fn new(iface: Interface, grants: Vec<Grant>) -> Stack {
        Stack {
            iface,
            // Slots for every socket one busy listener has at once (its pool, the connections
            // being served and those finishing their FIN exchange), reserved before the first
            // listen so that the heap at the end compares with the heap at the start.
            sockets: SocketSet::new(Vec::with_capacity(SOCKET_SLOTS)),
            clients: grants.into_iter().map(Client::new).collect(),
            closing: Vec::with_capacity(SOCKETS_MAX),
            next_port: EPHEMERAL.start,
            arrivals: 0,
            counters: Counters::default(),
        }
    }

    /// Carries out `req` for client `c`, or says it must wait.
    pub fn step(&mut self, c: usize, req: &Request) -> Step {
        match self.try_step(c, req) {
            Ok(step) => step,
            Err(e) => Step::Ready(Answer::Error(e)),
        }
    }

    fn try_step(&mut self, c: usize, req: &Request) -> Result<Step, NetError> {
        match *req {
            Request::Listen { port } => self.listen(c, port),
            Request::Accept { listener, nonblocking } => self.accept(c, listener, nonblocking),
            Request::Recv { socket, max, nonblocking } => self.recv(c, socket, max, nonblocking),
            Request::Send { socket, ref data, nonblocking } => self.send(c, socket, data, nonblocking),
            Request::Shutdown { socket, how } => self.shutdown(c, socket, how),
            Request::Connect { addr, port } => self.connect(c, addr, port),
            Request::BindUdp { port } => self.bind_udp(c, port),
            Request::SendTo { socket, addr, port, ref data } => self.send_to(c, socket, addr, port, data),
            Request::RecvFrom { socket, max, nonblocking } => self.recv_from(c, socket, max, nonblocking),
            Request::Poll { socket } => self.poll(c, socket),
        }
    }

    fn listen(&mut self, c: usize, port: u16) -> Result<Step, NetError> {
        if !self.clients[c].grant.may_listen(port) {
            self.counters.refused_grants += 1;
            return Err(NetError::NotGranted);
        }
        let taken = self
            .clients
            .iter()
            .any(|cl| cl.socks.values().any(|s| matches!(s, Sock::Listener { port: p, .. } if *p == port)));
        if taken {
            return Err(NetError::InUse);
        }
        self.counters.heap_at_start.get_or_insert(capos_rt::heap_stats::stats().0);
        let mut pool = Vec::new();
        for _ in 0..BACKLOG {
            pool.push(Slot { handle: self.listening(port)?, arrived: None });
        }
        ready(Answer::Socket(self.clients[c].insert(Sock::Listener { port, pool })?))
    }

    fn listening(&mut self, port: u16) -> Result<SocketHandle, NetError> {
        let mut s = new_tcp();
        s.listen(port).map_err(|_| NetError::InUse)?;
        Ok(self.sockets.add(s))
    }

    fn accept(&mut self, c: usize, listener: u64, nonblocking: bool) -> Result<Step, NetError> {
        self.note_arrivals();
        let Some(Sock::Listener { port, pool }) = self.clients[c].socks.get(&listener) else {
            return Err(self.kind_error(c, listener));
        };
        let port = *port;
        let sockets = &self.sockets;
        // The connection whose SYN came first among those whose handshake is done (it may
        // already have data and a FIN). Taking the first in pool order instead would starve a
        // connection in a late slot for as long as earlier slots keep filling.
        let found = pool
            .iter()
            .enumerate()
            .filter(|(_, slot)| {
                !matches!(
                    sockets.get::<tcp::Socket>(slot.handle).state(),
                    tcp::State::Listen | tcp::State::SynReceived | tcp::State::Closed
                )
            })
            .min_by_key(|(_, slot)| slot.arrived)
            .map(|(i, _)| i);
        let Some(i) = found else {
            return if nonblocking { Err(NetError::WouldBlock) } else { Ok(Step::Blocked) };
        };
        let fresh = Slot { handle: self.listening(port)?, arrived: None };
        let Some(Sock::Listener { pool, .. }) = self.clients[c].socks.get_mut(&listener) else { unreachable!() };
        let handle = core::mem::replace(&mut pool[i], fresh).handle;
        let remote = self.sockets.get::<tcp::Socket>(handle).remote_endpoint();
        let socket =
            self.clients[c].insert(Sock::Tcp { handle, closed_by_us: false, read_shut: false, connecting: false })?;
        self.counters.accepted += 1;
        let (addr, port) = remote.map_or((0, 0), |e| (be(e.addr), e.port));
        ready(Answer::Accepted { socket, addr, port })
    }

    /// Stamps every pool socket that has left LISTEN since the last call with the next arrival
    /// number (the stack calls this after each poll of the interface), and replaces one whose
    /// connection ended before it was accepted (a peer that connected and reset) with a fresh
    /// listening socket, so that no peer can shrink the pool.
    pub fn note_arrivals(&mut self) {
        for client in self.clients.iter_mut() {
            for sock in client.socks.values_mut() {
                let Sock::Listener { port, pool } = sock else { continue };
                for slot in pool.iter_mut() {
                    let state = self.sockets.get::<tcp::Socket>(slot.handle).state();
                    match state {
                        tcp::State::Listen => slot.arrived = None,
                        tcp::State::Closed => {
                            let mut s = new_tcp();
                            if s.listen(*port).is_ok() {
                                self.sockets.remove(slot.handle);
                                *slot = Slot { handle: self.sockets.add(s), arrived: None };
                                self.counters.dropped_unaccepted += 1;
                            }
                        }
                        _ if slot.arrived.is_none() => {
                            slot.arrived = Some(self.arrivals);
                            self.arrivals += 1;
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    /// `BadSocket` for an unknown number, `Invalid` for a socket of the wrong kind.
    fn kind_error(&self, c: usize, socket: u64) -> NetError {
        if self.clients[c].socks.contains_key(&socket) {
            NetError::Invalid
        } else {
            NetError::BadSocket
        }
    }

    fn tcp(&mut self, c: usize, socket: u64) -> Result<(SocketHandle, bool, bool), NetError> {
        match self.clients[c].socks.get(&socket) {
            Some(Sock::Tcp { handle, closed_by_us, read_shut, .. }) => Ok((*handle, *closed_by_us, *read_shut)),
            _ => Err(self.kind_error(c, socket)),
        }
    }

    fn recv(&mut self, c: usize, socket: u64, max: u32, nonblocking: bool) -> Result<Step, NetError> {
        let (h, closed_by_us, read_shut) = self.tcp(c, socket)?;
        let s = self.sockets.get_mut::<tcp::Socket>(h);
        if read_shut {
            return ready(Answer::Data(Vec::new()));
        }
        if s.can_recv() {
            let mut buf = vec![0u8; (max as usize).clamp(1, RECV_MAX)];
            let n = s.recv_slice(&mut buf).map_err(|_| NetError::Reset)?;
            buf.truncate(n);
            return ready(Answer::Data(buf));
        }
        if !s.may_recv() {
            // Closed without our close: the peer reset it (or it timed out).
            if s.state() == tcp::State::Closed && !closed_by_us {
                return Err(NetError::Reset);
            }
            return ready(Answer::Data(Vec::new()));
        }
        if nonblocking {
            Err(NetError::WouldBlock)
        } else {
            Ok(Step::Blocked)
        }
    }

    fn send(&mut self, c: usize, socket: u64, data: &[u8], nonblocking: bool) -> Result<Step, NetError> {
        let (h, closed_by_us, _) = self.tcp(c, socket)?;
        let s = self.sockets.get_mut::<tcp::Socket>(h);
        if !s.may_send() {
            if s.state() == tcp::State::Closed && !closed_by_us {
                return Err(NetError::Reset);
            }
            if matches!(s.state(), tcp::State::SynSent | tcp::State::SynReceived) {
                return if nonblocking { Err(NetError::WouldBlock) } else { Ok(Step::Blocked) };
            }
            return Err(NetError::Closed);
        }
        if s.can_send() {
            let n = s.send_slice(data).map_err(|_| NetError::Closed)?;
            return ready(Answer::Sent(n as u32));
        }
        if nonblocking {
            Err(NetError::WouldBlock)
        } else {
            Ok(Step::Blocked)
        }
    }

    fn shutdown(&mut self, c: usize, socket: u64, how: u8) -> Result<Step, NetError> {
        if !(1..=3).contains(&how) {
            return Err(NetError::Invalid);
        }
        let (h, ..) = self.tcp(c, socket)?;
        if let Some(Sock::Tcp { closed_by_us, read_shut, .. }) = self.clients[c].socks.get_mut(&socket) {
            if how & 1 != 0 {
                *read_shut = true;
            }
            if how & 2 != 0 {
                *closed_by_us = true;
                self.sockets.get_mut::<tcp::Socket>(h).close();
            }
        }
        ready(Answer::Empty)
    }

    fn close(&mut self, c: usize, socket: u64) -> Result<Step, NetError> {
        match self.clients[c].socks.remove(&socket) {
            None => Err(NetError::BadSocket),
            Some(Sock::Listener { pool, .. }) => {
                pool.into_iter().for_each(|slot| {
                    self.sockets.remove(slot.handle);
                });
                ready(Answer::Empty)
            }
            Some(Sock::Tcp { handle, .. }) => {
                let s = self.sockets.get_mut::<tcp::Socket>(handle);
                // Released with bytes still unread: reset, as TCP stacks do (RFC 2525, 2.17). A FIN
                // would leave a peer that is still sending facing a window nobody opens again, and
                // the socket would never finish closing.
                if s.recv_queue() > 0 {
                    s.abort();
                } else {
                    s.close();
                }
                self.closing.push(handle);
                self.counters.closed += 1;
                ready(Answer::Empty)
            }
            Some(Sock::Udp { handle }) => {
                self.sockets.remove(handle);
                ready(Answer::Empty)
            }
        }
    }

    /// Every socket a client held goes (its endpoint's client facet is gone for good).
    pub fn close_all(&mut self, c: usize) {
        let ids: Vec<u64> = self.clients[c].socks.keys().copied().collect();
        for id in ids {
            if self.close(c, id).is_ok() {
                self.counters.closed_at_done += 1;
            }
        }
    }

    /// Frees closed sockets whose FIN exchange is over (or that the peer reset).
    pub fn reap(&mut self) {
        let sockets = &mut self.sockets;
        self.closing.retain(|&h| {
            let done = matches!(sockets.get::<tcp::Socket>(h).state(), tcp::State::Closed | tcp::State::TimeWait);
            if done {
                sockets.remove(h);
            }
            !done
        });
    }

    fn connect(&mut self, c: usize, addr: u32, port: u16) -> Result<Step, NetError> {
        if !self.clients[c].grant.may_connect(addr, port) {
            self.counters.refused_grants += 1;
            return Err(NetError::NotGranted);
        }
        let local = self.next_port;
        self.next_port = if EPHEMERAL.contains(&(local + 1)) { local + 1 } else { EPHEMERAL.start };
        let mut s = new_tcp();
        let remote = IpEndpoint::new(IpAddress::Ipv4(Ipv4Address::from_bits(addr)), port);
        s.connect(self.iface.context(), remote, local).map_err(|_| NetError::Refused)?;
        let handle = self.sockets.add(s);
        let socket =
            self.clients[c].insert(Sock::Tcp { handle, closed_by_us: false, read_shut: false, connecting: true })?;
        self.counters.connected += 1;
        ready(Answer::Socket(socket))
    }

    /// Whether a connect of client `c`'s `socket` is still in its handshake (the caller waits),
    /// refused (the socket is dropped), or done.
    pub fn connect_state(&mut self, c: usize, socket: u64) -> Option<Result<(), NetError>> {
        let Some(Sock::Tcp { handle, connecting: true, .. }) = self.clients[c].socks.get(&socket) else {
            return Some(Ok(()));
        };
        match self.sockets.get::<tcp::Socket>(*handle).state() {
            tcp::State::SynSent | tcp::State::SynReceived => None,
            tcp::State::Closed => {
                let _ = self.close(c, socket);
                Some(Err(NetError::Refused))
            }
            _ => {
                if let Some(Sock::Tcp { connecting, .. }) = self.clients[c].socks.get_mut(&socket) {
                    *connecting = false;
                }
                Some(Ok(()))
            }
        }
    }

    fn udp(&mut self, c: usize, socket: u64) -> Result<SocketHandle, NetError> {
        match self.clients[c].socks.get(&socket) {
            Some(Sock::Udp { handle }) => Ok(*handle),
            _ => Err(self.kind_error(c, socket)),
        }
    }

    fn bind_udp(&mut self, c: usize, port: u16) -> Result<Step, NetError> {
        if !self.clients[c].grant.may_bind_udp(port) {
            self.counters.refused_grants += 1;
            return Err(NetError::NotGranted);
        }
        let buffer = || udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; UDP_PACKETS], vec![0; UDP_BYTES]);
        let mut s = udp::Socket::new(buffer(), buffer());
        s.bind(port).map_err(|_| NetError::InUse)?;
        let handle = self.sockets.add(s);
        self.counters.udp_bound += 1;
        ready(Answer::Socket(self.clients[c].insert(Sock::Udp { handle })?))
    }

    // region: udp
    fn send_to(&mut self, c: usize, socket: u64, addr: u32, port: u16, data: &[u8]) -> Result<Step, NetError> {
        let h = self.udp(c, socket)?;
        if !self.clients[c].grant.may_exchange(addr, port) {
            self.counters.refused_grants += 1;
            return Err(NetError::NotGranted);
        }
        if data.len() > UDP_PAYLOAD_MAX {
            return Err(NetError::Invalid);
        }
        let to = IpEndpoint::new(IpAddress::Ipv4(Ipv4Address::from_bits(addr)), port);
        match self.sockets.get_mut::<udp::Socket>(h).send_slice(data, to) {
            Ok(()) => ready(Answer::Empty),
            Err(udp::SendError::BufferFull) => Err(NetError::WouldBlock),
            Err(_) => Err(NetError::Invalid),
        }
    }

    /// Drops the datagrams at the head of a UDP socket's queue that came from a peer the grant
    /// does not name, so that only granted peers are ever heard (and poll is not woken by others).
    fn drop_ungranted(&mut self, c: usize, h: SocketHandle) {
        let s = self.sockets.get_mut::<udp::Socket>(h);
        while let Ok((_, meta)) = s.peek() {
            if self.clients[c].grant.may_exchange(be(meta.endpoint.addr), meta.endpoint.port) {
                break;
            }
            let _ = s.recv();
            self.counters.udp_dropped += 1;
        }
    }

    /// The next datagram from a granted peer, cut to `max` bytes (the rest of it is dropped, as
    /// a datagram socket does); the adapter asks for `RECV_MAX` and cuts to the guest's buffer.
    fn recv_from(&mut self, c: usize, socket: u64, max: u32, nonblocking: bool) -> Result<Step, NetError> {
        let h = self.udp(c, socket)?;
        self.drop_ungranted(c, h);
        let s = self.sockets.get_mut::<udp::Socket>(h);
        let Ok((payload, meta)) = s.recv() else {
            return if nonblocking { Err(NetError::WouldBlock) } else { Ok(Step::Blocked) };
        };
        let data = payload[..payload.len().min((max as usize).clamp(1, RECV_MAX))].to_vec();
        ready(Answer::From { data, addr: be(meta.endpoint.addr), port: meta.endpoint.port })
    }

    // endregion: udp

    fn poll(&mut self, c: usize, socket: u64) -> Result<Step, NetError> {
        let answer = match self.clients[c].socks.get(&socket) {
            None => return Err(NetError::BadSocket),
            Some(Sock::Listener { pool, .. }) => {
                let readable = pool.iter().any(|slot| {
                    !matches!(
                        self.sockets.get::<tcp::Socket>(slot.handle).state(),
                        tcp::State::Listen | tcp::State::SynReceived | tcp::State::Closed
                    )
                });
                Answer::Ready { readable, writable: false, hangup: false }
            }
            Some(Sock::Tcp { handle, read_shut, .. }) => {
                let s = self.sockets.get::<tcp::Socket>(*handle);
                let hangup = !s.may_recv() && !s.can_recv();
                Answer::Ready {
                    readable: s.can_recv() || hangup || *read_shut,
                    writable: s.can_send() || !s.may_send(),
                    hangup,
                }
            }
            Some(&Sock::Udp { handle }) => {
                self.drop_ungranted(c, handle);
                let s = self.sockets.get::<udp::Socket>(handle);
                Answer::Ready { readable: s.can_recv(), writable: s.can_send(), hangup: false }
            }
        };
        ready(answer)
    }

    /// Sockets closed by their owner and still finishing their FIN exchange.
    pub fn closing_count(&self) -> usize {
        self.closing.len()
    }

    /// Live smoltcp sockets (the load smoke checks they are released).
    pub fn live_sockets(&self) -> usize {
        self.sockets.iter().count()
    }
}
// endregion: step

// region: badges
impl Stack {
    /// What `badge` names on client `c`'s endpoint, if anything.
    pub fn kind(&self, c: usize, badge: u64) -> Option<Kind> {
        if badge == 0 {
            return Some(Kind::Manager);
        }
        Some(match self.clients[c].socks.get(&badge)? {
            Sock::Listener { .. } => Kind::Listener,
            Sock::Tcp { .. } => Kind::Tcp,
            Sock::Udp { .. } => Kind::Udp,
        })
    }

    /// The release notice for `badge`: the last copy of that socket's cap is gone, so the
    /// socket goes too. A notice for a socket closed already (at `done`) changes nothing.
    pub fn release(&mut self, c: usize, badge: u64) {
        if self.close(c, badge).is_ok() {
            self.counters.released += 1;
        }
    }

    /// Closes a socket whose cap could not be minted (so no release notice will come).
    pub fn forget(&mut self, c: usize, badge: u64) {
        let _ = self.close(c, badge);
    }
}
// endregion: badges
