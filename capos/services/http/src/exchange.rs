//! One request and its response over one TCP connection through the stack: connect, send it all,
//! read until the response is whole, close. At most 10 s from connect to the last byte.
use alloc::vec::Vec;
use capos_httpwire::response::{self, Parsed};
use capos_httpwire::url::Origin;
use capos_rt::schema::capos_capnp::{HttpError, NetError};
use capos_rt::{NetResult, Network, TcpSocket, Timer};

/// How long one exchange may take, connect to last byte.
const LIMIT_NS: u64 = 10_000_000_000;
/// How often a waiting exchange looks at the network again.
const POLL_NS: u64 = 2_000_000;

pub struct Exchange<'a> {
    pub net: &'a Network,
    pub timer: &'a Timer,
}

/// The stack's refusals as the service reports them; a transport failure is the stack gone.
fn net<T>(r: NetResult<T>) -> Result<T, HttpError> {
    match r {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(NetError::NotGranted)) => Err(HttpError::NotGranted),
        Ok(Err(NetError::Refused)) => Err(HttpError::Unreachable),
        Ok(Err(NetError::NoBuffers)) => Err(HttpError::Unreachable),
        Ok(Err(_)) => Err(HttpError::Reset),
        Err(_) => Err(HttpError::NetGone),
    }
}

// region: exchange
impl Exchange<'_> {
    pub fn run(&self, origin: &Origin, request: &[u8], head: bool) -> Result<(u16, Vec<u8>), HttpError> {
        let deadline = self.timer.now().map_err(|_| HttpError::NetGone)? + LIMIT_NS;
        // The socket is a capability of its own: dropping it at the end closes the connection.
        let socket = net(self.net.connect(origin.addr, origin.port))?;
        self.talk(&socket, request, head, deadline)
    }

    fn talk(&self, socket: &TcpSocket, request: &[u8], head: bool, deadline: u64) -> Result<(u16, Vec<u8>), HttpError> {
        let mut sent = 0;
        while sent < request.len() {
            let end = request.len().min(sent + 8192);
            sent += net(socket.send(&request[sent..end], false))? as usize;
        }
        let mut got = Vec::new();
        loop {
            // Non-blocking reads with a bounded wait between them: a silent origin costs this
            // exchange its 10 s, never the service.
            let (closed, data) = match socket.recv(8192, true) {
                Ok(Ok(d)) if d.is_empty() => (true, d),
                Ok(Ok(d)) => (false, d),
                Ok(Err(NetError::WouldBlock)) => (false, Vec::new()),
                other => (false, net(other)?),
            };
            got.extend_from_slice(&data);
            match response::parse(&got, closed, head)? {
                Parsed::Done { status, body } => return Ok((status, body)),
                Parsed::Incomplete if closed => return Err(HttpError::Reset),
                Parsed::Incomplete => {}
            }
            if data.is_empty() {
                if self.timer.now().map_err(|_| HttpError::NetGone)? > deadline {
                    return Err(HttpError::Timeout);
                }
                capos_rt::syscall::cap_enter(1, POLL_NS);
            }
        }
    }
}
// endregion: exchange
