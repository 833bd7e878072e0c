//! The bytes of one HTTP/1.1 request: one per connection (`Connection: close`), a body only with
//! its length, and nothing the caller can put into a header.
use alloc::format;
use alloc::vec::Vec;
use capos_schema::capos_capnp::HttpError;

use crate::url::{check_path, Origin};

/// The methods the service sends.
pub const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "DELETE"];

// region: request
pub fn encode(method: &str, origin: &Origin, path: &str, body: &[u8]) -> Result<Vec<u8>, HttpError> {
    if !METHODS.contains(&method) {
        return Err(HttpError::BadMethod);
    }
    check_path(path)?;
    let mut out = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nUser-Agent: capos-http\r\n",
        origin.host()
    );
    if !body.is_empty() || matches!(method, "POST" | "PUT") {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    Ok(bytes)
}
// endregion: request

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_get_has_no_body_and_closes() {
        let o = Origin::parse("http://10.0.2.100").unwrap();
        let r = encode("GET", &o, "/greeting", b"").unwrap();
        assert_eq!(
            core::str::from_utf8(&r).unwrap(),
            "GET /greeting HTTP/1.1\r\nHost: 10.0.2.100\r\nConnection: close\r\nUser-Agent: capos-http\r\n\r\n"
        );
    }

    #[test]
    fn a_post_carries_its_length() {
        let o = Origin::parse("http://10.0.2.100:8080").unwrap();
        let r = encode("POST", &o, "/echo", b"abc").unwrap();
        assert!(r.ends_with(b"Content-Length: 3\r\n\r\nabc"));
        assert!(core::str::from_utf8(&r).unwrap().contains("Host: 10.0.2.100:8080\r\n"));
    }

    #[test]
    fn unknown_methods_and_bad_paths_are_refused() {
        let o = Origin::parse("http://10.0.2.100").unwrap();
        assert_eq!(encode("CONNECT", &o, "/", b""), Err(HttpError::BadMethod));
        assert_eq!(encode("get", &o, "/", b""), Err(HttpError::BadMethod));
        assert_eq!(encode("GET", &o, "/x\r\nEvil: 1", b""), Err(HttpError::BadUrl));
    }
}
