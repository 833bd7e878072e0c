//! What one endpoint of the stack allows, parsed from the manifest's `grants` text.
//!
//! One line per exported endpoint: its export name, then any of `listen PORT`, `udp PORT`,
//! `connect A.B.C.D:PORT` and `peer A.B.C.D[:PORT]`, each as often as needed. The stack enforces
//! these: a client holding that endpoint can listen, bind and connect to nothing else, and its UDP
//! sockets exchange datagrams only with its peers (a peer without a port is any port of that host),
//! whatever it asks. `clients N` (default 1) says how many clients will say `done` on it: the
//! stack ends once all have, and an endpoint whose client may be killed before it says so counts 0.
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grant {
    pub export: String,
    pub listen: Vec<u16>,
    pub udp: Vec<u16>,
    /// (IPv4 address as a big-endian u32, port)
    pub connect: Vec<(u32, u16)>,
    /// UDP peers: (IPv4 address as a big-endian u32, port, or 0 for any port)
    pub peers: Vec<(u32, u16)>,
    /// How many `done`s the stack waits for on this endpoint.
    pub clients: u32,
}

// region: grant
impl Grant {
    pub fn may_listen(&self, port: u16) -> bool {
        self.listen.contains(&port)
    }
    pub fn may_bind_udp(&self, port: u16) -> bool {
        self.udp.contains(&port)
    }
    pub fn may_connect(&self, addr: u32, port: u16) -> bool {
        self.connect.contains(&(addr, port))
    }
    /// Whether a UDP socket of this endpoint may send to, or hear from, `addr:port`.
    pub fn may_exchange(&self, addr: u32, port: u16) -> bool {
        self.peers.iter().any(|&(a, p)| a == addr && (p == 0 || p == port))
    }

    /// `web: listen 80` and so on, for the boot log.
    pub fn describe(&self) -> String {
        let mut out = format!("{}:", self.export);
        self.listen.iter().for_each(|p| out.push_str(&format!(" listen {p}")));
        self.udp.iter().for_each(|p| out.push_str(&format!(" udp {p}")));
        for (a, p) in &self.connect {
            let o = a.to_be_bytes();
            out.push_str(&format!(" connect {}.{}.{}.{}:{p}", o[0], o[1], o[2], o[3]));
        }
        for (a, p) in &self.peers {
            let o = a.to_be_bytes();
            out.push_str(&format!(" peer {}.{}.{}.{}", o[0], o[1], o[2], o[3]));
            if *p != 0 {
                out.push_str(&format!(":{p}"));
            }
        }
        if self.clients != 1 {
            out.push_str(&format!(" clients {}", self.clients));
        }
        out
    }
}

/// Parses the whole `grants` text; the error names the line and the word.
pub fn parse(text: &str) -> Result<Vec<Grant>, String> {
    let mut grants = Vec::new();
    for (n, line) in text.lines().enumerate().map(|(n, l)| (n + 1, l.trim())) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let mut grant = Grant { export: words.next().unwrap_or_default().to_string(), clients: 1, ..Grant::default() };
        while let Some(kind) = words.next() {
            let value = words.next().ok_or(format!("grants line {n}: `{kind}` needs a value"))?;
            match kind {
                "listen" => grant.listen.push(port(value).ok_or(format!("grants line {n}: bad port `{value}`"))?),
                "udp" => grant.udp.push(port(value).ok_or(format!("grants line {n}: bad port `{value}`"))?),
                "connect" => grant
                    .connect
                    .push(endpoint(value).ok_or(format!("grants line {n}: expected A.B.C.D:PORT, got `{value}`"))?),
                "peer" => grant.peers.push(
                    peer(value).ok_or(format!("grants line {n}: expected A.B.C.D or A.B.C.D:PORT, got `{value}`"))?,
                ),
                "clients" => {
                    grant.clients = value.parse().map_err(|_| format!("grants line {n}: bad client count `{value}`"))?
                }
                other => {
                    return Err(format!(
                        "grants line {n}: unknown `{other}` (expected listen, udp, connect, peer or clients)"
                    ))
                }
            }
        }
        grants.push(grant);
    }
    Ok(grants)
}
// endregion: grant

fn port(text: &str) -> Option<u16> {
    text.parse::<u16>().ok().filter(|&p| p != 0)
}

/// `A.B.C.D:PORT` as (big-endian address, port).
pub fn endpoint(text: &str) -> Option<(u32, u16)> {
    let (addr, p) = text.split_once(':')?;
    Some((ipv4(addr)?, port(p)?))
}

/// `A.B.C.D` (any port, 0) or `A.B.C.D:PORT`.
fn peer(text: &str) -> Option<(u32, u16)> {
    if text.contains(':') {
        endpoint(text)
    } else {
        Some((ipv4(text)?, 0))
    }
}

pub fn ipv4(text: &str) -> Option<u32> {
    let parts: Vec<u8> = text.split('.').map(|o| o.parse::<u8>().ok()).collect::<Option<_>>()?;
    (parts.len() == 4).then(|| u32::from_be_bytes([parts[0], parts[1], parts[2], parts[3]]))
}
