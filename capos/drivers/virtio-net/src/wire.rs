//! The network protocol's messages (capos.capnp `NetworkManager`, `TcpListener`, `TcpSocket`,
//! `UdpSocket`) to and from the stack's requests. Which interface a call is for is decided by
//! its badge (see `Stack::kind`), since the method ordinals of the four overlap.
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use capos_rt::client::network::method;
use capos_rt::encode_params;
use capos_rt::schema::capos_capnp::{network_manager, tcp_listener, tcp_socket, udp_socket, NetError as Wire};
use capos_rt::schema::exception::ExceptionKind;
use capos_rt::schema::wire::{self, AlignedBuf};
use capos_rt::Incoming;

use crate::stack::{Answer, Kind, NetError, Request};

// region: decode
/// The request a call on a cap of `kind` (the socket named by its badge) carries, or the
/// exception that refuses it: `unimplemented` for a method the interface does not have,
/// `invalidArgument` for params that are not its message. `done` is the serve loop's and never
/// comes here.
pub fn decode(kind: Kind, call: &Incoming) -> Result<Request, (ExceptionKind, String)> {
    let buf = AlignedBuf::copy_from(&call.params);
    let bad = |e: capos_rt::schema::capnp::Error| (ExceptionKind::InvalidArgument, format!("malformed params: {e}"));
    let msg = wire::read(&buf).map_err(bad)?;
    let socket = call.badge;
    Ok(match (kind, call.method) {
        (Kind::Manager, method::LISTEN) => {
            Request::Listen { port: msg.get_root::<network_manager::listen_params::Reader>().map_err(bad)?.get_port() }
        }
        (Kind::Manager, method::CONNECT) => {
            let p = msg.get_root::<network_manager::connect_params::Reader>().map_err(bad)?;
            Request::Connect { addr: p.get_addr(), port: p.get_port() }
        }
        (Kind::Manager, method::BIND_UDP) => Request::BindUdp {
            port: msg.get_root::<network_manager::bind_udp_params::Reader>().map_err(bad)?.get_port(),
        },
        (Kind::Listener, method::ACCEPT) => {
            let p = msg.get_root::<tcp_listener::accept_params::Reader>().map_err(bad)?;
            Request::Accept { listener: socket, nonblocking: p.get_nonblocking() }
        }
        (Kind::Listener, method::LISTENER_POLL) | (Kind::Tcp, method::TCP_POLL) | (Kind::Udp, method::UDP_POLL) => {
            Request::Poll { socket }
        }
        (Kind::Tcp, method::RECV) => {
            let p = msg.get_root::<tcp_socket::recv_params::Reader>().map_err(bad)?;
            Request::Recv { socket, max: p.get_max_bytes(), nonblocking: p.get_nonblocking() }
        }
        (Kind::Tcp, method::SEND) => {
            let p = msg.get_root::<tcp_socket::send_params::Reader>().map_err(bad)?;
            Request::Send { socket, data: p.get_data().map_err(bad)?.to_vec(), nonblocking: p.get_nonblocking() }
        }
        (Kind::Tcp, method::SHUTDOWN) => Request::Shutdown {
            socket,
            how: msg.get_root::<tcp_socket::shutdown_params::Reader>().map_err(bad)?.get_how(),
        },
        (Kind::Udp, method::SEND_TO) => {
            let p = msg.get_root::<udp_socket::send_to_params::Reader>().map_err(bad)?;
            Request::SendTo {
                socket,
                addr: p.get_addr(),
                port: p.get_port(),
                data: p.get_data().map_err(bad)?.to_vec(),
            }
        }
        (Kind::Udp, method::RECV_FROM) => {
            let p = msg.get_root::<udp_socket::recv_from_params::Reader>().map_err(bad)?;
            Request::RecvFrom { socket, max: p.get_max_bytes(), nonblocking: p.get_nonblocking() }
        }
        (kind, m) => return Err((ExceptionKind::Unimplemented, format!("{} has no method {m}", name(kind)))),
    })
}
// endregion: decode

/// The schema's name of the interface behind a kind of cap.
pub fn name(kind: Kind) -> &'static str {
    match kind {
        Kind::Manager => "NetworkManager",
        Kind::Listener => "TcpListener",
        Kind::Tcp => "TcpSocket",
        Kind::Udp => "UdpSocket",
    }
}

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
/// The result message for `answer`. An error is sent in the method's own results (every one
/// has `error` first), so a client decodes one shape per method; an error alone is encoded in
/// the smallest of those shapes (`shutdown`'s), which every other reads the same way. That is
/// also how a call on a socket closed already is answered: its kind is no longer known.
pub fn encode(answer: &Answer) -> Vec<u8> {
    let err = match answer {
        Answer::Error(e) => Some(*e),
        _ => None,
    };
    let w = wire_error(err);
    encode_params(|m| match answer {
        Answer::Socket(_) => m.init_root::<network_manager::listen_results::Builder>().set_error(w),
        Answer::Accepted { addr, port, .. } => {
            let mut r = m.init_root::<tcp_listener::accept_results::Builder>();
            r.set_error(w);
            r.set_peer_addr(*addr);
            r.set_peer_port(*port);
        }
        Answer::Data(d) => {
            let mut r = m.init_root::<tcp_socket::recv_results::Builder>();
            r.set_error(w);
            r.set_data(d)
        }
        Answer::Sent(n) => {
            let mut r = m.init_root::<tcp_socket::send_results::Builder>();
            r.set_error(w);
            r.set_sent(*n)
        }
        Answer::From { data, addr, port } => {
            let mut r = m.init_root::<udp_socket::recv_from_results::Builder>();
            r.set_error(w);
            r.set_data(data);
            r.set_addr(*addr);
            r.set_port(*port);
        }
        Answer::Ready { readable, writable, hangup } => {
            let mut r = m.init_root::<tcp_socket::poll_results::Builder>();
            r.set_error(w);
            r.set_readable(*readable);
            r.set_writable(*writable);
            r.set_hangup(*hangup);
        }
        // shutdown and sendTo, and every error: the error alone
        Answer::Empty | Answer::Error(_) => m.init_root::<tcp_socket::shutdown_results::Builder>().set_error(w),
    })
}
// endregion: encode
