//! A client of the network stack (chapter W.6). The grant's export facet is its NetworkManager
//! ([`Network`]); every socket it opens comes back as a badged facet of the same Endpoint, typed
//! here as [`TcpListener`], [`TcpSocket`] or [`UdpSocket`]. Dropping a socket releases its cap,
//! and the stack closes the socket when the last copy of the cap is gone.
use super::params;
use crate::client::Endpoint;
use crate::error::Error;
use crate::transport::Reply;
use alloc::vec::Vec;
use capos_schema::capos_capnp::{network_manager, tcp_listener, tcp_socket, udp_socket, NetError};

/// Room for the largest recv result (the stack returns at most 8 KiB per call).
const DATA_RESULT: usize = 8192 + 512;
const SMALL: usize = 256;

/// What a call answered: the stack's error, or the value.
pub type NetResult<T> = Result<Result<T, NetError>, Error>;

/// (readable, writable, hangup)
pub type Readiness = (bool, bool, bool);

/// Method ordinals (the schema's, per interface).
pub mod method {
    pub const LISTEN: u16 = 0;
    pub const CONNECT: u16 = 1;
    pub const BIND_UDP: u16 = 2;
    pub const DONE: u16 = 3;
    pub const ACCEPT: u16 = 0;
    pub const LISTENER_POLL: u16 = 1;
    pub const RECV: u16 = 0;
    pub const SEND: u16 = 1;
    pub const SHUTDOWN: u16 = 2;
    pub const TCP_POLL: u16 = 3;
    pub const SEND_TO: u16 = 0;
    pub const RECV_FROM: u16 = 1;
    pub const UDP_POLL: u16 = 2;
}

// region: network-client
fn err(e: NetError) -> Result<(), NetError> {
    if e == NetError::None {
        Ok(())
    } else {
        Err(e)
    }
}

/// Calls `$method` of interface module `$iface` on `$ep`; `|$r, $reply|` maps a result without
/// error to the value.
macro_rules! call {
    ($ep:expr, $iface:ident, $method:expr, $p:ident, $fill:block, $results:ident, $cap:expr, |$r:ident, $reply:ident| $value:expr) => {{
        let bytes = params(|m| {
            #[allow(unused_mut, unused_variables)]
            let mut $p = m.init_root::<$iface::$p::Builder>();
            $fill
        });
        #[allow(unused_variables)]
        let $reply = $ep.call_with_capacity($method, &bytes, &[], $cap)?;
        let msg = $reply.payload.read()?;
        let $r = msg.get_root::<$iface::$results::Reader>()?;
        match err($r.get_error().map_err(|_| Error::BadReply("unknown network error"))?) {
            Ok(()) => Ok(Ok($value)),
            Err(e) => Ok(Err(e)),
        }
    }};
}

/// The socket a successful open or accept returned, as result cap 0.
fn socket_cap(ep: &Endpoint, reply: &Reply) -> Result<Endpoint, Error> {
    ep.result_endpoint(reply, "the stack's answer carried no Endpoint socket cap")
}

/// A socket type: its cap, taking one received from elsewhere, handing it on, and `poll`,
/// which all three have (as ordinal `$poll` of interface module `$iface`).
macro_rules! socket_type {
    ($(#[$doc:meta])* $name:ident, $iface:ident, $poll:expr) => {
        $(#[$doc])*
        pub struct $name {
            ep: Endpoint,
        }

        impl $name {
            /// A cap of this type received from elsewhere.
            pub fn from_endpoint(ep: Endpoint) -> $name {
                $name { ep }
            }

            /// The cap itself, to pass on to another process.
            pub fn endpoint(&self) -> &Endpoint {
                &self.ep
            }

            pub fn poll(&self) -> NetResult<Readiness> {
                call!(self.ep, $iface, $poll, poll_params, {}, poll_results, SMALL, |r, reply| {
                    (r.get_readable(), r.get_writable(), r.get_hangup())
                })
            }
        }
    };
}

/// A grant's NetworkManager: opens listeners, connections and UDP sockets within the grant.
pub struct Network {
    ep: Endpoint,
}

impl Network {
    pub fn new(ep: Endpoint) -> Network {
        Network { ep }
    }

    pub fn listen(&self, port: u16) -> NetResult<TcpListener> {
        call!(
            self.ep,
            network_manager,
            method::LISTEN,
            listen_params,
            { listen_params.set_port(port) },
            listen_results,
            SMALL,
            |r, reply| TcpListener { ep: socket_cap(&self.ep, &reply)? }
        )
    }

    /// Returns once the handshake is done (or refused).
    pub fn connect(&self, addr: u32, port: u16) -> NetResult<TcpSocket> {
        call!(
            self.ep,
            network_manager,
            method::CONNECT,
            connect_params,
            {
                connect_params.set_addr(addr);
                connect_params.set_port(port)
            },
            connect_results,
            SMALL,
            |r, reply| TcpSocket { ep: socket_cap(&self.ep, &reply)? }
        )
    }

    pub fn bind_udp(&self, port: u16) -> NetResult<UdpSocket> {
        call!(
            self.ep,
            network_manager,
            method::BIND_UDP,
            bind_udp_params,
            { bind_udp_params.set_port(port) },
            bind_udp_results,
            SMALL,
            |r, reply| UdpSocket { ep: socket_cap(&self.ep, &reply)? }
        )
    }

    /// The manager's cap itself (badge 0 of the grant's endpoint).
    pub fn endpoint(&self) -> &Endpoint {
        &self.ep
    }

    /// Tells the stack this client is finished; it closes every socket this grant opened.
    pub fn done(&self) -> Result<(), Error> {
        self.ep.call(method::DONE, &super::empty_params::<network_manager::done_params::Owned>(), &[]).map(|_| ())
    }
}

socket_type!(
    /// A listening socket: a TcpListener cap. Readable when a connection waits to be accepted.
    TcpListener,
    tcp_listener,
    method::LISTENER_POLL
);
socket_type!(
    /// One TCP connection: a TcpSocket cap.
    TcpSocket,
    tcp_socket,
    method::TCP_POLL
);
socket_type!(
    /// A bound UDP socket: a UdpSocket cap.
    UdpSocket,
    udp_socket,
    method::UDP_POLL
);

impl TcpListener {
    /// (connection, peer address, peer port)
    pub fn accept(&self, nonblocking: bool) -> NetResult<(TcpSocket, u32, u16)> {
        call!(
            self.ep,
            tcp_listener,
            method::ACCEPT,
            accept_params,
            { accept_params.set_nonblocking(nonblocking) },
            accept_results,
            SMALL,
            |r, reply| (TcpSocket { ep: socket_cap(&self.ep, &reply)? }, r.get_peer_addr(), r.get_peer_port())
        )
    }
}

impl TcpSocket {
    /// Up to `max` bytes; empty at the end of the stream.
    pub fn recv(&self, max: u32, nonblocking: bool) -> NetResult<Vec<u8>> {
        call!(
            self.ep,
            tcp_socket,
            method::RECV,
            recv_params,
            {
                recv_params.set_max_bytes(max);
                recv_params.set_nonblocking(nonblocking)
            },
            recv_results,
            DATA_RESULT,
            |r, reply| r.get_data()?.to_vec()
        )
    }

    pub fn send(&self, data: &[u8], nonblocking: bool) -> NetResult<u32> {
        call!(
            self.ep,
            tcp_socket,
            method::SEND,
            send_params,
            {
                send_params.set_data(data);
                send_params.set_nonblocking(nonblocking)
            },
            send_results,
            SMALL,
            |r, reply| r.get_sent()
        )
    }

    /// `how`: 1 read, 2 write, 3 both.
    pub fn shutdown(&self, how: u8) -> NetResult<()> {
        call!(
            self.ep,
            tcp_socket,
            method::SHUTDOWN,
            shutdown_params,
            { shutdown_params.set_how(how) },
            shutdown_results,
            SMALL,
            |r, reply| ()
        )
    }
}

impl UdpSocket {
    pub fn send_to(&self, addr: u32, port: u16, data: &[u8]) -> NetResult<()> {
        call!(
            self.ep,
            udp_socket,
            method::SEND_TO,
            send_to_params,
            {
                send_to_params.set_addr(addr);
                send_to_params.set_port(port);
                send_to_params.set_data(data)
            },
            send_to_results,
            SMALL,
            |r, reply| ()
        )
    }

    /// (data, from address, from port)
    pub fn recv_from(&self, max: u32, nonblocking: bool) -> NetResult<(Vec<u8>, u32, u16)> {
        call!(
            self.ep,
            udp_socket,
            method::RECV_FROM,
            recv_from_params,
            {
                recv_from_params.set_max_bytes(max);
                recv_from_params.set_nonblocking(nonblocking)
            },
            recv_from_results,
            DATA_RESULT,
            |r, reply| (r.get_data()?.to_vec(), r.get_addr(), r.get_port())
        )
    }
}
// endregion: network-client
