//! The Network protocol's messages (capos.capnp `Network`) to and from the stack's requests.
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use capos_rt::encode_params;
use capos_rt::schema::capos_capnp::{network, NetError as Wire};
use capos_rt::schema::wire::{self, AlignedBuf};
use capos_rt::Incoming;

use crate::stack::{Answer, NetError, Request};

/// `Network.done`: the client is finished.
pub const DONE: u16 = 11;

// region: decode
/// The request a call carries, or why it is malformed.
pub fn decode(call: &Incoming) -> Result<Request, String> {
    let buf = AlignedBuf::copy_from(&call.params);
    let msg = wire::read(&buf).map_err(|e| format!("malformed params: {e}"))?;
    let bad = |e: capos_rt::schema::capnp::Error| format!("malformed params: {e}");
    Ok(match call.method {
        0 => Request::Listen { port: msg.get_root::<network::listen_params::Reader>().map_err(bad)?.get_port() },
        1 => {
            let p = msg.get_root::<network::accept_params::Reader>().map_err(bad)?;
            Request::Accept { listener: p.get_listener(), nonblocking: p.get_nonblocking() }
        }
        2 => {
            let p = msg.get_root::<network::recv_params::Reader>().map_err(bad)?;
            Request::Recv { socket: p.get_socket(), max: p.get_max_bytes(), nonblocking: p.get_nonblocking() }
        }
        3 => {
            let p = msg.get_root::<network::send_params::Reader>().map_err(bad)?;
            Request::Send {
                socket: p.get_socket(),
                data: p.get_data().map_err(bad)?.to_vec(),
                nonblocking: p.get_nonblocking(),
            }
        }
        4 => {
            let p = msg.get_root::<network::shutdown_params::Reader>().map_err(bad)?;
            Request::Shutdown { socket: p.get_socket(), how: p.get_how() }
        }
        5 => Request::Close { socket: msg.get_root::<network::close_params::Reader>().map_err(bad)?.get_socket() },
        6 => {
            let p = msg.get_root::<network::connect_params::Reader>().map_err(bad)?;
            Request::Connect { addr: p.get_addr(), port: p.get_port() }
        }
        7 => Request::BindUdp { port: msg.get_root::<network::bind_udp_params::Reader>().map_err(bad)?.get_port() },
        8 => {
            let p = msg.get_root::<network::send_to_params::Reader>().map_err(bad)?;
            Request::SendTo {
                socket: p.get_socket(),
                addr: p.get_addr(),
                port: p.get_port(),
                data: p.get_data().map_err(bad)?.to_vec(),
            }
        }
        9 => {
            let p = msg.get_root::<network::recv_from_params::Reader>().map_err(bad)?;
            Request::RecvFrom { socket: p.get_socket(), max: p.get_max_bytes(), nonblocking: p.get_nonblocking() }
        }
        10 => Request::Poll { socket: msg.get_root::<network::poll_params::Reader>().map_err(bad)?.get_socket() },
        m => return Err(format!("Network has no method {m}")),
    })
}
// endregion: decode

fn wire_error(e: Option<NetError>) -> Wire {
    match e {
        None => Wire::None,
        Some(NetError::WouldBlock) => Wire::WouldBlock,
        Some(NetError::NotGranted) => Wire::NotGranted,
        Some(NetError::BadSocket) => Wire::BadSocket,
        Some(NetError::Reset) => Wire::Reset,
        Some(NetError::Closed) => Wire::Closed,
        Some(NetError::Refused) => Wire::Refused,
        Some(NetError::InUse) => Wire::InUse,
        Some(NetError::NoBuffers) => Wire::NoBuffers,
        Some(NetError::Invalid) => Wire::Invalid,
    }
}

// region: encode
/// The result message of `method` for `answer`. An error is sent in the method's own results
/// (every one has `error` first), so a client decodes one shape per method.
pub fn encode(method: u16, answer: &Answer) -> Vec<u8> {
    let err = match answer {
        Answer::Error(e) => Some(*e),
        _ => None,
    };
    let w = wire_error(err);
    encode_params(|m| match (method, answer) {
        (0 | 6 | 7, a) => {
            let mut r = m.init_root::<network::listen_results::Builder>();
            r.set_error(w);
            if let Answer::Socket(s) = a {
                r.set_socket(*s)
            }
        }
        (1, a) => {
            let mut r = m.init_root::<network::accept_results::Builder>();
            r.set_error(w);
            if let Answer::Accepted { socket, addr, port } = a {
                r.set_socket(*socket);
                r.set_peer_addr(*addr);
                r.set_peer_port(*port);
            }
        }
        (2, a) => {
            let mut r = m.init_root::<network::recv_results::Builder>();
            r.set_error(w);
            if let Answer::Data(d) = a {
                r.set_data(d)
            }
        }
        (3, a) => {
            let mut r = m.init_root::<network::send_results::Builder>();
            r.set_error(w);
            if let Answer::Sent(n) = a {
                r.set_sent(*n)
            }
        }
        (9, a) => {
            let mut r = m.init_root::<network::recv_from_results::Builder>();
            r.set_error(w);
            if let Answer::From { data, addr, port } = a {
                r.set_data(data);
                r.set_addr(*addr);
                r.set_port(*port);
            }
        }
        (10, a) => {
            let mut r = m.init_root::<network::poll_results::Builder>();
            r.set_error(w);
            if let Answer::Ready { readable, writable, hangup } = a {
                r.set_readable(*readable);
                r.set_writable(*writable);
                r.set_hangup(*hangup);
            }
        }
        // shutdown, close and sendTo: the error alone (their results share this shape)
        _ => m.init_root::<network::close_results::Builder>().set_error(w),
    })
}
// endregion: encode
