//! Reading one HTTP/1.1 response as its bytes arrive: the status line, the headers, and a body
//! framed by `Content-Length`, by chunked transfer coding, or by the end of the connection.
use alloc::vec::Vec;
use capos_schema::capos_capnp::HttpError;

/// The most body bytes the service hands back (one message carries them).
pub const MAX_BODY: usize = 16 * 1024;
/// The most header bytes it reads before giving up.
const MAX_HEAD: usize = 8 * 1024;

#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// More bytes are needed (or, with `closed`, the response is cut short).
    Incomplete,
    Done {
        status: u16,
        body: Vec<u8>,
    },
}

enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

// region: response
/// Parses what has arrived so far; `closed` says the origin has ended the connection.
pub fn parse(buf: &[u8], closed: bool, head_request: bool) -> Result<Parsed, HttpError> {
    let Some(end) = find(buf, b"\r\n\r\n") else {
        return if buf.len() > MAX_HEAD {
            Err(HttpError::BadResponse)
        } else if closed {
            Err(HttpError::Reset)
        } else {
            Ok(Parsed::Incomplete)
        };
    };
    let head = core::str::from_utf8(&buf[..end]).map_err(|_| HttpError::BadResponse)?;
    let mut lines = head.split("\r\n");
    let status = status_of(lines.next().unwrap_or_default())?;
    let mut framing = Framing::UntilClose;
    for line in lines {
        let (name, value) = line.split_once(':').ok_or(HttpError::BadResponse)?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            framing = Framing::Length(value.parse().map_err(|_| HttpError::BadResponse)?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") && value.eq_ignore_ascii_case("chunked") {
            framing = Framing::Chunked;
        }
    }
    let body = &buf[end + 4..];
    // A HEAD answer, 1xx, 204 and 304 have no body whatever the headers say.
    if head_request || status / 100 == 1 || status == 204 || status == 304 {
        return Ok(Parsed::Done { status, body: Vec::new() });
    }
    match framing {
        Framing::Length(n) if n > MAX_BODY => Err(HttpError::TooLarge),
        Framing::Length(n) if body.len() >= n => Ok(Parsed::Done { status, body: body[..n].to_vec() }),
        Framing::Length(_) if closed => Err(HttpError::Reset),
        Framing::Length(_) => Ok(Parsed::Incomplete),
        Framing::Chunked => match dechunk(body)? {
            Some(body) => Ok(Parsed::Done { status, body }),
            None if closed => Err(HttpError::Reset),
            None => Ok(Parsed::Incomplete),
        },
        Framing::UntilClose if body.len() > MAX_BODY => Err(HttpError::TooLarge),
        Framing::UntilClose if closed => Ok(Parsed::Done { status, body: body.to_vec() }),
        Framing::UntilClose => Ok(Parsed::Incomplete),
    }
}

/// `HTTP/1.1 200 OK` (or HTTP/1.0) to 200.
fn status_of(line: &str) -> Result<u16, HttpError> {
    let mut words = line.splitn(3, ' ');
    let version = words.next().unwrap_or_default();
    let code = words.next().unwrap_or_default();
    if !(version == "HTTP/1.1" || version == "HTTP/1.0") || code.len() != 3 {
        return Err(HttpError::BadResponse);
    }
    code.parse::<u16>().ok().filter(|c| (100..600).contains(c)).ok_or(HttpError::BadResponse)
}

/// The body of a chunked response once its last chunk arrived; None while chunks are missing.
fn dechunk(mut rest: &[u8]) -> Result<Option<Vec<u8>>, HttpError> {
    let mut body = Vec::new();
    loop {
        let Some(eol) = find(rest, b"\r\n") else { return Ok(None) };
        let size_text = core::str::from_utf8(&rest[..eol]).map_err(|_| HttpError::BadResponse)?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| HttpError::BadResponse)?;
        rest = &rest[eol + 2..];
        if size == 0 {
            // The last chunk; trailers (none expected) end with an empty line.
            return Ok(find(rest, b"\r\n").map(|_| body));
        }
        if body.len() + size > MAX_BODY {
            return Err(HttpError::TooLarge);
        }
        if rest.len() < size + 2 {
            return Ok(None);
        }
        if &rest[size..size + 2] != b"\r\n" {
            return Err(HttpError::BadResponse);
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}
// endregion: response

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn done(status: u16, body: &[u8]) -> Result<Parsed, HttpError> {
        Ok(Parsed::Done { status, body: body.to_vec() })
    }

    #[test]
    fn a_length_framed_body_is_complete_at_its_length() {
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        assert_eq!(parse(r, false, false), done(200, b"hello"));
        // every shorter prefix needs more, and is a reset once the origin closed
        for n in 0..r.len() {
            assert_eq!(parse(&r[..n], false, false), Ok(Parsed::Incomplete), "{n}");
            assert_eq!(parse(&r[..n], true, false), Err(HttpError::Reset), "{n}");
        }
    }

    #[test]
    fn chunked_bodies_are_joined() {
        let r = b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nnot \r\n5;x=1\r\nfound\r\n0\r\n\r\n";
        assert_eq!(parse(r, false, false), done(404, b"not found"));
        assert_eq!(parse(&r[..r.len() - 2], false, false), Ok(Parsed::Incomplete));
        let bad = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        assert_eq!(parse(bad, false, false), Err(HttpError::BadResponse));
    }

    #[test]
    fn without_framing_the_body_ends_with_the_connection() {
        let r = b"HTTP/1.0 200 OK\r\n\r\nall of it";
        assert_eq!(parse(r, false, false), Ok(Parsed::Incomplete));
        assert_eq!(parse(r, true, false), done(200, b"all of it"));
    }

    #[test]
    fn head_and_204_have_no_body() {
        assert_eq!(parse(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", false, true), done(200, b""));
        assert_eq!(parse(b"HTTP/1.1 204 No Content\r\n\r\n", false, false), done(204, b""));
    }

    #[test]
    fn oversized_and_malformed_answers_are_refused() {
        let big = b"HTTP/1.1 200 OK\r\nContent-Length: 16385\r\n\r\n";
        assert_eq!(parse(big, false, false), Err(HttpError::TooLarge));
        let mut chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4001\r\n".to_vec();
        chunked.extend(vec![b'a'; 0x4001]);
        assert_eq!(parse(&chunked, false, false), Err(HttpError::TooLarge));
        for bad in [
            &b"SSH-2.0-x\r\n\r\n"[..],
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        ] {
            assert_eq!(parse(bad, false, false), Err(HttpError::BadResponse));
        }
        assert_eq!(parse(&vec![b'a'; MAX_HEAD + 1], false, false), Err(HttpError::BadResponse));
    }
}
