//! The service's endpoints: a started RECV on each export, one call answered at a time. The
//! badge a call arrives with says what it is for: 0 is the export itself (a Fetch or an
//! HttpEndpoint, by its `endpoints` line); any other is an HttpEndpoint a Fetch minted.
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use capos_httpwire::exports::{Export, Role};
use capos_httpwire::request;
use capos_httpwire::url::{self, Origin};
use capos_rt::abi::ring::{Transfer, XFER_MOVE};
use capos_rt::client::http::{method, MAX_BODY};
use capos_rt::schema::capnp;
use capos_rt::schema::capos_capnp::{fetch, http_endpoint, HttpError};
use capos_rt::schema::exception::ExceptionKind;
use capos_rt::schema::wire::{self, AlignedBuf};
use capos_rt::transport::RELEASED;
use capos_rt::{encode_params, Client, Console, EndpointOwner, Error, Incoming, StartedRecv};

use crate::exchange::Exchange;

/// Params of the largest request body plus framing.
const RECV_CAPACITY: usize = MAX_BODY + 2048;
/// HttpEndpoints minted and not yet released, across all Fetch exports.
const MINTED_MAX: usize = 256;

#[derive(Default)]
pub struct Counters {
    pub requests: u64,
    pub answered: u64,
    pub refused: u64,
    pub malformed: u64,
    pub failed: u64,
    pub minted: u64,
    pub released: u64,
}

/// What one call is for.
enum Target {
    Fetch(Vec<Origin>),
    Endpoint(Origin),
}

pub struct Server<'a> {
    exports: Vec<Export>,
    owners: Vec<EndpointOwner>,
    recvs: Vec<Option<StartedRecv>>,
    /// (export, badge) of a minted HttpEndpoint → its origin
    minted: BTreeMap<(usize, u64), Origin>,
    next_badge: u64,
    exchange: Exchange<'a>,
    pub counters: Counters,
}

type Refusal = (ExceptionKind, String);

fn malformed(e: capnp::Error) -> Refusal {
    (ExceptionKind::InvalidArgument, format!("malformed params: {e}"))
}

fn text(t: capnp::Result<capnp::text::Reader<'_>>) -> Result<String, Refusal> {
    let t = t.map_err(malformed)?;
    Ok(String::from(t.to_str().map_err(|_| (ExceptionKind::InvalidArgument, String::from("text is not UTF-8")))?))
}

/// A fetch or request result: error, status and body (the two results have the same fields).
macro_rules! results {
    ($builder:ty, $r:expr) => {
        encode_params(|m| {
            let mut b = m.init_root::<$builder>();
            match $r {
                Ok((status, body)) => {
                    b.set_error(HttpError::None);
                    b.set_status(status);
                    b.set_body(&body);
                }
                Err(e) => b.set_error(e),
            }
        })
    };
}

// region: serve
impl<'a> Server<'a> {
    pub fn new(exports: Vec<Export>, owners: Vec<EndpointOwner>, exchange: Exchange<'a>) -> Server<'a> {
        let recvs = owners.iter().map(|_| None).collect();
        Server {
            exports,
            owners,
            recvs,
            minted: BTreeMap::new(),
            next_badge: 1,
            exchange,
            counters: Counters::default(),
        }
    }

    /// Serves until the holder of every export has said `done`.
    pub fn serve(&mut self, console: &Console) -> Result<(), Error> {
        let mut finished = 0;
        while finished < self.owners.len() {
            for (k, owner) in self.owners.iter().enumerate() {
                if self.recvs[k].is_none() {
                    self.recvs[k] = Some(owner.start_recv(RECV_CAPACITY)?);
                }
            }
            capos_rt::syscall::cap_enter(1, u64::MAX);
            for k in 0..self.owners.len() {
                let Some(recv) = self.recvs[k].as_mut() else { continue };
                let Some(call) = self.owners[k].poll_recv(recv) else { continue };
                self.recvs[k] = None;
                let call = call?;
                if call.method == RELEASED {
                    if self.minted.remove(&(k, call.badge)).is_some() {
                        self.counters.released += 1;
                    }
                    continue;
                }
                let done = if call.badge == 0 && matches!(self.exports[k].role, Role::Fetch(_)) {
                    method::FETCH_DONE
                } else {
                    method::ENDPOINT_DONE
                };
                // A minted HttpEndpoint's `done` is answered and not counted: only export holders end the service.
                if call.badge != 0 && call.method == method::ENDPOINT_DONE && self.minted.contains_key(&(k, call.badge))
                {
                    let empty = encode_params(|m| {
                        m.init_root::<http_endpoint::done_results::Builder>();
                    });
                    self.owners[k].ret(&call, &empty, &[])?;
                    continue;
                }
                if call.badge == 0 && call.method == done {
                    finished += 1;
                    let empty = encode_params(|m| {
                        m.init_root::<fetch::done_results::Builder>();
                    });
                    self.owners[k].ret(&call, &empty, &[])?;
                    continue;
                }
                let answer = self.handle(k, &call);
                self.answer(k, &call, answer)?;
            }
        }
        console
            .write_line(&format!("all {finished} clients done; {} minted endpoints still held", self.minted.len()))?;
        Ok(())
    }

    fn target(&self, k: usize, badge: u64) -> Option<Target> {
        match (badge, &self.exports[k].role) {
            (0, Role::Fetch(o)) => Some(Target::Fetch(o.clone())),
            (0, Role::Endpoint(o)) => Some(Target::Endpoint(*o)),
            (b, _) => self.minted.get(&(k, b)).map(|o| Target::Endpoint(*o)),
        }
    }

    fn handle(&mut self, k: usize, call: &Incoming) -> Result<(Vec<u8>, Option<capos_rt::Endpoint>), Refusal> {
        let buf = AlignedBuf::copy_from(&call.params);
        let msg = wire::read(&buf).map_err(|e| (ExceptionKind::InvalidArgument, format!("malformed params: {e}")))?;
        let target = self
            .target(k, call.badge)
            .ok_or((ExceptionKind::Disconnected, String::from("this HttpEndpoint was released")))?;
        match (target, call.method) {
            (Target::Fetch(origins), method::FETCH) => {
                let p = msg.get_root::<fetch::fetch_params::Reader>().map_err(malformed)?;
                let (m, u) = (text(p.get_method())?, text(p.get_url())?);
                let body = p.get_body().map_err(malformed)?;
                let r = url::split(&u).and_then(|(o, path)| {
                    if origins.contains(&o) {
                        Ok((o, String::from(path)))
                    } else {
                        Err(HttpError::NotGranted)
                    }
                });
                let r = r.and_then(|(o, path)| self.request(&o, &m, &path, body));
                self.count(&r);
                Ok((results!(fetch::fetch_results::Builder, r), None))
            }
            (Target::Fetch(origins), method::ENDPOINT) => {
                let p = msg.get_root::<fetch::endpoint_params::Reader>().map_err(malformed)?;
                let origin = Origin::parse(&text(p.get_origin())?);
                let origin = origin.and_then(|o| if origins.contains(&o) { Ok(o) } else { Err(HttpError::NotGranted) });
                self.mint(k, origin)
            }
            (Target::Endpoint(origin), method::REQUEST) => {
                let p = msg.get_root::<http_endpoint::request_params::Reader>().map_err(malformed)?;
                let (m, path) = (text(p.get_method())?, text(p.get_path())?);
                let body = p.get_body().map_err(malformed)?;
                // A path, or an absolute URL naming this very origin; any other origin is not ours.
                let r = if path.starts_with('/') {
                    Ok(path)
                } else {
                    url::split(&path).and_then(|(o, p)| {
                        if o == origin {
                            Ok(String::from(p))
                        } else {
                            Err(HttpError::NotGranted)
                        }
                    })
                };
                let r = r.and_then(|path| self.request(&origin, &m, &path, body));
                self.count(&r);
                Ok((results!(http_endpoint::request_results::Builder, r), None))
            }
            (Target::Endpoint(origin), method::ORIGIN) => {
                let answer = encode_params(|m| {
                    m.init_root::<http_endpoint::origin_results::Builder>().set_origin(origin.text().as_str())
                });
                Ok((answer, None))
            }
            (_, m) => Err((ExceptionKind::Unimplemented, format!("no method {m} on this capability"))),
        }
    }

    /// One exchange with `origin`.
    fn request(&mut self, origin: &Origin, m: &str, path: &str, body: &[u8]) -> Result<(u16, Vec<u8>), HttpError> {
        if body.len() > MAX_BODY {
            return Err(HttpError::TooLarge);
        }
        request::encode(m, origin, path, body).and_then(|bytes| self.exchange.run(origin, &bytes, m == "HEAD"))
    }

    /// Every fetch and request is counted once, by how it ended.
    fn count(&mut self, r: &Result<(u16, Vec<u8>), HttpError>) {
        let c = &mut self.counters;
        c.requests += 1;
        match r {
            Ok(_) => c.answered += 1,
            Err(HttpError::NotGranted) => c.refused += 1,
            Err(HttpError::BadUrl | HttpError::BadMethod) => c.malformed += 1,
            // tooLarge counts as failed: usually the origin's answer, not the caller's request, is too big.
            Err(_) => c.failed += 1,
        }
    }
}
// endregion: serve

impl Server<'_> {
    fn mint(
        &mut self,
        k: usize,
        origin: Result<Origin, HttpError>,
    ) -> Result<(Vec<u8>, Option<capos_rt::Endpoint>), Refusal> {
        let refuse = |e: HttpError| encode_params(|m| m.init_root::<fetch::endpoint_results::Builder>().set_error(e));
        let origin = match origin {
            Ok(o) => o,
            Err(e) => return Ok((refuse(e), None)),
        };
        if self.minted.len() >= MINTED_MAX {
            return Err((ExceptionKind::Overloaded, format!("{MINTED_MAX} HttpEndpoints are held already")));
        }
        let badge = self.next_badge;
        self.next_badge += 1;
        let facet = self.owners[k].mint(badge).map_err(|e| (ExceptionKind::Failed, format!("mint: {e}")))?;
        self.minted.insert((k, badge), origin);
        self.counters.minted += 1;
        Ok((refuse(HttpError::None), Some(facet)))
    }

    fn answer(
        &mut self,
        k: usize,
        call: &Incoming,
        answer: Result<(Vec<u8>, Option<capos_rt::Endpoint>), Refusal>,
    ) -> Result<(), Error> {
        let r = match answer {
            Ok((data, None)) => self.owners[k].ret(call, &data, &[]),
            Ok((data, Some(facet))) => {
                let moved = [Transfer { cap_id: facet.cap().id(), mode: XFER_MOVE }];
                // On success the facet is the caller's; on failure dropping it releases it, and the
                // release notice forgets its origin.
                let r = self.owners[k].ret(call, &data, &moved);
                if r.is_ok() {
                    facet.into_cap().moved();
                }
                r
            }
            Err((kind, why)) => self.owners[k].ret_exception(call, kind, &why),
        };
        match r {
            // The caller is gone (killed mid-call): nothing to answer, the service carries on.
            Err(Error::Transport(_)) => Ok(()),
            other => other,
        }
    }
}
