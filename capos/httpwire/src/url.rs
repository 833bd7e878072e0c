//! Origins and URLs: `http://A.B.C.D[:PORT]` and a path. IP literals only (there is no DNS in
//! capOS), plain HTTP only (there is no TLS yet): anything else is `badUrl`.
use alloc::format;
use alloc::string::String;
use capos_schema::capos_capnp::HttpError;

/// One origin: an IPv4 address (big-endian, as the stack takes it) and a port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    pub addr: u32,
    pub port: u16,
}

// region: url
impl Origin {
    /// `http://A.B.C.D` or `http://A.B.C.D:PORT`, without a path.
    pub fn parse(text: &str) -> Result<Origin, HttpError> {
        let rest = text.strip_prefix("http://").ok_or(HttpError::BadUrl)?;
        let (host, port) = match rest.split_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().ok().filter(|&p| p != 0).ok_or(HttpError::BadUrl)?),
            None => (rest, 80),
        };
        let octets: Option<alloc::vec::Vec<u8>> = host.split('.').map(|o| o.parse::<u8>().ok()).collect();
        match octets {
            Some(o) if o.len() == 4 => Ok(Origin { addr: u32::from_be_bytes([o[0], o[1], o[2], o[3]]), port }),
            _ => Err(HttpError::BadUrl),
        }
    }

    /// The origin as it is written: `http://10.0.2.100:80`.
    pub fn text(&self) -> String {
        let o = self.addr.to_be_bytes();
        format!("http://{}.{}.{}.{}:{}", o[0], o[1], o[2], o[3], self.port)
    }

    /// The Host header's value (the port left out when it is 80).
    pub fn host(&self) -> String {
        let o = self.addr.to_be_bytes();
        match self.port {
            80 => format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3]),
            p => format!("{}.{}.{}.{}:{p}", o[0], o[1], o[2], o[3]),
        }
    }
}

/// An absolute URL split into its origin and its path (`/` when it has none).
pub fn split(url: &str) -> Result<(Origin, &str), HttpError> {
    let after_scheme = url.strip_prefix("http://").ok_or(HttpError::BadUrl)?;
    let cut = after_scheme.find('/').map_or(url.len(), |i| i + "http://".len());
    let origin = Origin::parse(&url[..cut])?;
    let path = if cut == url.len() { "/" } else { &url[cut..] };
    check_path(path)?;
    Ok((origin, path))
}

/// A request target: starts with `/`, printable ASCII without spaces (nothing that could end the
/// request line early or smuggle a header).
pub fn check_path(path: &str) -> Result<(), HttpError> {
    let ok = path.starts_with('/') && path.len() <= 2048 && path.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(HttpError::BadUrl)
    }
}
// endregion: url

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_ip_literals_with_an_optional_port() {
        assert_eq!(Origin::parse("http://10.0.2.100"), Ok(Origin { addr: 0x0a00_0264, port: 80 }));
        assert_eq!(Origin::parse("http://10.0.2.100:8080").map(|o| o.port), Ok(8080));
        assert_eq!(Origin::parse("http://10.0.2.100:80").unwrap().text(), "http://10.0.2.100:80");
        assert_eq!(Origin::parse("http://10.0.2.100:8080").unwrap().host(), "10.0.2.100:8080");
        for bad in [
            "https://10.0.2.100",
            "http://example.com",
            "http://10.0.2",
            "http://10.0.2.300",
            "http://10.0.2.1:0",
            "http://10.0.2.1:x",
            "10.0.2.1",
        ] {
            assert_eq!(Origin::parse(bad), Err(HttpError::BadUrl), "{bad}");
        }
    }

    #[test]
    fn urls_split_into_origin_and_path() {
        let (o, p) = split("http://10.0.2.100:80/greeting?x=1").unwrap();
        assert_eq!((o.port, p), (80, "/greeting?x=1"));
        assert_eq!(split("http://10.0.2.100").unwrap().1, "/");
        assert_eq!(split("http://10.0.2.100/a b").map(|_| ()), Err(HttpError::BadUrl));
        assert_eq!(split("http://10.0.2.100/a\r\nX: y").map(|_| ()), Err(HttpError::BadUrl));
        assert_eq!(check_path("greeting"), Err(HttpError::BadUrl));
    }
}
