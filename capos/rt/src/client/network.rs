//! A client of the network stack's `Network` protocol (chapter W.6), over one Endpoint client
//! facet: the stack decides by that endpoint what the client may listen on and reach.
use super::params;
use crate::client::Endpoint;
use crate::error::Error;
use alloc::vec::Vec;
use capos_schema::capos_capnp::{network, NetError};

/// Room for the largest recv result (the stack returns at most 8 KiB per call).
const DATA_RESULT: usize = 8192 + 512;
const SMALL: usize = 256;

/// What a call answered: the stack's error, or the value.
pub type NetResult<T> = Result<Result<T, NetError>, Error>;

// region: network-client
pub struct Network {
    ep: Endpoint,
}

fn err(e: NetError) -> Result<(), NetError> {
    if e == NetError::None {
        Ok(())
    } else {
        Err(e)
    }
}

macro_rules! call {
    ($self:ident, $method:expr, $p:ident, $fill:block, $results:ident, $cap:expr, |$r:ident| $value:expr) => {{
        let bytes = params(|m| {
            #[allow(unused_mut, unused_variables)]
            let mut $p = m.init_root::<network::$p::Builder>();
            $fill
        });
        let reply = $self.ep.call_with_capacity($method, &bytes, &[], $cap)?;
        let msg = reply.payload.read()?;
        let $r = msg.get_root::<network::$results::Reader>()?;
        Ok(match err($r.get_error().map_err(|_| Error::BadReply("unknown network error"))?) {
            Ok(()) => Ok($value),
            Err(e) => Err(e),
        })
    }};
}

impl Network {
    pub fn new(ep: Endpoint) -> Network {
        Network { ep }
    }

    pub fn listen(&self, port: u16) -> NetResult<u32> {
        call!(self, 0, listen_params, { listen_params.set_port(port) }, listen_results, SMALL, |r| r.get_socket())
    }

    /// (socket, peer address, peer port)
    pub fn accept(&self, listener: u32, nonblocking: bool) -> NetResult<(u32, u32, u16)> {
        call!(
            self,
            1,
            accept_params,
            {
                accept_params.set_listener(listener);
                accept_params.set_nonblocking(nonblocking)
            },
            accept_results,
            SMALL,
            |r| (r.get_socket(), r.get_peer_addr(), r.get_peer_port())
        )
    }

    /// Up to `max` bytes; empty at the end of the stream.
    pub fn recv(&self, socket: u32, max: u32, nonblocking: bool) -> NetResult<Vec<u8>> {
        call!(
            self,
            2,
            recv_params,
            {
                recv_params.set_socket(socket);
                recv_params.set_max_bytes(max);
                recv_params.set_nonblocking(nonblocking)
            },
            recv_results,
            DATA_RESULT,
            |r| r.get_data()?.to_vec()
        )
    }

    pub fn send(&self, socket: u32, data: &[u8], nonblocking: bool) -> NetResult<u32> {
        call!(
            self,
            3,
            send_params,
            {
                send_params.set_socket(socket);
                send_params.set_data(data);
                send_params.set_nonblocking(nonblocking)
            },
            send_results,
            SMALL,
            |r| r.get_sent()
        )
    }

    /// `how`: 1 read, 2 write, 3 both.
    pub fn shutdown(&self, socket: u32, how: u8) -> NetResult<()> {
        call!(
            self,
            4,
            shutdown_params,
            {
                shutdown_params.set_socket(socket);
                shutdown_params.set_how(how)
            },
            shutdown_results,
            SMALL,
            |r| ()
        )
    }

    pub fn close(&self, socket: u32) -> NetResult<()> {
        call!(self, 5, close_params, { close_params.set_socket(socket) }, close_results, SMALL, |r| ())
    }

    pub fn connect(&self, addr: u32, port: u16) -> NetResult<u32> {
        call!(
            self,
            6,
            connect_params,
            {
                connect_params.set_addr(addr);
                connect_params.set_port(port)
            },
            connect_results,
            SMALL,
            |r| r.get_socket()
        )
    }

    pub fn bind_udp(&self, port: u16) -> NetResult<u32> {
        call!(self, 7, bind_udp_params, { bind_udp_params.set_port(port) }, bind_udp_results, SMALL, |r| r.get_socket())
    }

    pub fn send_to(&self, socket: u32, addr: u32, port: u16, data: &[u8]) -> NetResult<()> {
        call!(
            self,
            8,
            send_to_params,
            {
                send_to_params.set_socket(socket);
                send_to_params.set_addr(addr);
                send_to_params.set_port(port);
                send_to_params.set_data(data)
            },
            send_to_results,
            SMALL,
            |r| ()
        )
    }

    /// (data, from address, from port)
    pub fn recv_from(&self, socket: u32, max: u32, nonblocking: bool) -> NetResult<(Vec<u8>, u32, u16)> {
        call!(
            self,
            9,
            recv_from_params,
            {
                recv_from_params.set_socket(socket);
                recv_from_params.set_max_bytes(max);
                recv_from_params.set_nonblocking(nonblocking)
            },
            recv_from_results,
            DATA_RESULT,
            |r| (r.get_data()?.to_vec(), r.get_addr(), r.get_port())
        )
    }

    /// (readable, writable, hangup)
    pub fn poll(&self, socket: u32) -> NetResult<(bool, bool, bool)> {
        call!(self, 10, poll_params, { poll_params.set_socket(socket) }, poll_results, SMALL, |r| (
            r.get_readable(),
            r.get_writable(),
            r.get_hangup()
        ))
    }

    /// Tells the stack this client is finished.
    pub fn done(&self) -> Result<(), Error> {
        self.ep.call(11, &super::empty_params::<network::done_params::Owned>(), &[]).map(|_| ())
    }
}
// endregion: network-client
