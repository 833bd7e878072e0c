//! Clients of the HTTP service (chapter W.6): `Fetch`, which reaches the origins its grant lists,
//! and `HttpEndpoint`, which reaches one origin. Both are Endpoint client facets of the service.
use super::{params, Client};
use crate::client::Endpoint;
use crate::error::Error;
use crate::transport::Cap;
use alloc::string::String;
use alloc::vec::Vec;
use capos_schema::capos_capnp::{fetch, http_endpoint, HttpError};

/// The most body bytes one message carries either way.
pub const MAX_BODY: usize = 16 * 1024;
/// Room for a result with the largest body.
const RESULT: usize = MAX_BODY + 1024;

pub mod method {
    pub const FETCH: u16 = 0;
    pub const ENDPOINT: u16 = 1;
    pub const FETCH_DONE: u16 = 2;
    pub const REQUEST: u16 = 0;
    pub const ORIGIN: u16 = 1;
    pub const ENDPOINT_DONE: u16 = 2;
}

/// An answer from the origin: its status and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// What a call answered: the service's error, or the value.
pub type HttpResult<T> = Result<Result<T, HttpError>, Error>;

fn unknown(_: capnp::NotInSchema) -> Error {
    Error::BadReply("unknown http error")
}

/// A fetch or a request: both send (method, target, body) and answer (error, status, body).
macro_rules! exchange {
    ($ep:expr, $ordinal:expr, $params:path, $results:path, $set_target:ident, $method:expr, $target:expr, $body:expr) => {{
        use $params as p;
        use $results as r;
        let bytes = params(|m| {
            let mut b = m.init_root::<p::Builder>();
            b.set_method($method);
            b.$set_target($target);
            b.set_body($body);
        });
        let reply = $ep.call_with_capacity($ordinal, &bytes, &[], RESULT)?;
        let msg = reply.payload.read()?;
        let res = msg.get_root::<r::Reader>()?;
        Ok(match res.get_error().map_err(unknown)? {
            HttpError::None => Ok(Response { status: res.get_status(), body: res.get_body()?.to_vec() }),
            e => Err(e),
        })
    }};
}

// region: http-client
pub struct Fetch {
    ep: Endpoint,
}

impl Fetch {
    pub fn new(ep: Endpoint) -> Fetch {
        Fetch { ep }
    }

    pub fn fetch(&self, method: &str, url: &str, body: &[u8]) -> HttpResult<Response> {
        exchange!(self.ep, method::FETCH, fetch::fetch_params, fetch::fetch_results, set_url, method, url, body)
    }

    /// The Endpoint underneath (hostile tests call it with wrong methods on purpose).
    pub fn endpoint_cap(&self) -> &Endpoint {
        &self.ep
    }

    /// An HttpEndpoint for one origin of this grant, minted by the service.
    pub fn endpoint(&self, origin: &str) -> HttpResult<HttpEndpoint> {
        let p = params(|m| m.init_root::<fetch::endpoint_params::Builder>().set_origin(origin));
        let reply = self.ep.call(method::ENDPOINT, &p, &[])?;
        let e = reply.payload.read()?.get_root::<fetch::endpoint_results::Reader>()?.get_error().map_err(unknown)?;
        if e != HttpError::None {
            return Ok(Err(e));
        }
        let first = reply.caps.first().ok_or(Error::BadReply("endpoint answered none but carried no cap"))?;
        if first.interface_id != Endpoint::INTERFACE_ID {
            return Err(Error::BadReply("endpoint returned a cap that is not an Endpoint"));
        }
        let cap = Cap::new(first.cap_id, first.interface_id, self.ep.cap().transport().clone());
        Ok(Ok(HttpEndpoint::new(Endpoint::from_cap(cap))))
    }

    pub fn done(&self) -> Result<(), Error> {
        self.ep.call(method::FETCH_DONE, &super::empty_params::<fetch::done_params::Owned>(), &[]).map(|_| ())
    }
}

pub struct HttpEndpoint {
    ep: Endpoint,
}

impl HttpEndpoint {
    pub fn new(ep: Endpoint) -> HttpEndpoint {
        HttpEndpoint { ep }
    }

    /// The Endpoint underneath (hostile tests call it with wrong methods on purpose).
    pub fn endpoint(&self) -> &Endpoint {
        &self.ep
    }

    pub fn request(&self, method: &str, path: &str, body: &[u8]) -> HttpResult<Response> {
        let ordinal = method::REQUEST;
        exchange!(
            self.ep,
            ordinal,
            http_endpoint::request_params,
            http_endpoint::request_results,
            set_path,
            method,
            path,
            body
        )
    }

    pub fn origin(&self) -> Result<String, Error> {
        let reply = self.ep.call(method::ORIGIN, &super::empty_params::<http_endpoint::origin_params::Owned>(), &[])?;
        let msg = reply.payload.read()?;
        let origin = msg.get_root::<http_endpoint::origin_results::Reader>()?.get_origin()?;
        Ok(String::from(origin.to_str().map_err(|_| Error::BadReply("origin is not UTF-8"))?))
    }

    pub fn done(&self) -> Result<(), Error> {
        self.ep
            .call(method::ENDPOINT_DONE, &super::empty_params::<http_endpoint::done_params::Owned>(), &[])
            .map(|_| ())
    }
}
// endregion: http-client
