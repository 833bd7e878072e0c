//! What one endpoint of the stack allows, parsed from the manifest's `grants` text.
//!
//! One line per exported endpoint: its export name, then any of `listen PORT`, `udp PORT` and
//! `connect A.B.C.D:PORT`, each as often as needed. The stack enforces these: a client holding
//! that endpoint can listen, bind and connect to nothing else, whatever it asks.
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

    /// `web: listen 80` and so on, for the boot log.
    pub fn describe(&self) -> String {
        let mut out = format!("{}:", self.export);
        self.listen.iter().for_each(|p| out.push_str(&format!(" listen {p}")));
        self.udp.iter().for_each(|p| out.push_str(&format!(" udp {p}")));
        for (a, p) in &self.connect {
            let o = a.to_be_bytes();
            out.push_str(&format!(" connect {}.{}.{}.{}:{p}", o[0], o[1], o[2], o[3]));
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
        let mut grant = Grant { export: words.next().unwrap_or_default().to_string(), ..Grant::default() };
        while let Some(kind) = words.next() {
            let value = words.next().ok_or(format!("grants line {n}: `{kind}` needs a value"))?;
            match kind {
                "listen" => grant.listen.push(port(value).ok_or(format!("grants line {n}: bad port `{value}`"))?),
                "udp" => grant.udp.push(port(value).ok_or(format!("grants line {n}: bad port `{value}`"))?),
                "connect" => grant
                    .connect
                    .push(endpoint(value).ok_or(format!("grants line {n}: expected A.B.C.D:PORT, got `{value}`"))?),
                other => return Err(format!("grants line {n}: unknown `{other}` (expected listen, udp or connect)")),
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

pub fn ipv4(text: &str) -> Option<u32> {
    let parts: Vec<u8> = text.split('.').map(|o| o.parse::<u8>().ok()).collect::<Option<_>>()?;
    (parts.len() == 4).then(|| u32::from_be_bytes([parts[0], parts[1], parts[2], parts[3]]))
}
