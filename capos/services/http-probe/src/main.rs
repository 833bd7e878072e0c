//! A native client of the HTTP service that asks for what its capabilities must refuse (chapter
//! W.6, outbound HTTP): a method Fetch does not have, params that are not a message, a body over
//! the limit, endpoints for an origin outside the grant and for a name that is not an origin, and
//! a minted HttpEndpoint used after its release. Grants: `console`, `fetch` (a Fetch whose line
//! lists http://10.0.2.100:80). Each outcome is one console line.
#![no_std]
#![no_main]
extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec;
use capos_rt::client::http::{method, Response, MAX_BODY};
use capos_rt::schema::capos_capnp::fetch;
use capos_rt::{encode_empty_params, Client, Console, Endpoint, Error, Fetch, HttpResult, Runtime};

capos_rt::entry!(main);
capos_rt::heap!(256 * 1024);

fn main(rt: &mut Runtime) -> i32 {
    capos_rt::with_console(rt, |rt, console| probe(console, &Fetch::new(rt.take::<Endpoint>("fetch")?)))
}

/// A call's outcome as a line shows it: the status and body, the HttpError, or the exception.
fn shown<T>(r: &HttpResult<T>, ok: impl Fn(&T) -> String) -> String {
    match r {
        Ok(Ok(v)) => ok(v),
        Ok(Err(e)) => format!("{e:?}"),
        Err(e) => format!("{e}"),
    }
}

fn page(r: &Response) -> String {
    format!("{} {:?}", r.status, String::from_utf8_lossy(&r.body).trim_end())
}

fn raw(r: Result<capos_rt::transport::Reply, Error>) -> String {
    match r {
        Ok(_) => String::from("answered"),
        Err(e) => format!("{e}"),
    }
}

// region: probe
fn probe(console: &Console, fetch: &Fetch) -> Result<i32, Error> {
    let say = |what: &str, how: String| console.write_line(&format!("{what}: {how}"));
    let ep = fetch.endpoint_cap();
    let empty = encode_empty_params::<fetch::done_params::Owned>();
    say("Fetch method 7", raw(ep.call(7, &empty, &[])))?;
    say("fetch with params that are not a message", raw(ep.call(method::FETCH, b"garbage!", &[])))?;
    let big = vec![b'x'; MAX_BODY + 1];
    say("POST of 16 KiB + 1", shown(&fetch.fetch("POST", "http://10.0.2.100:80/notes", &big), page))?;
    say("endpoint for http://10.0.2.101:80", shown(&fetch.endpoint("http://10.0.2.101:80"), |_| String::from("ok")))?;
    say("endpoint for example.com", shown(&fetch.endpoint("example.com"), |_| String::from("ok")))?;
    let minted = fetch.endpoint("http://10.0.2.100:80");
    say("endpoint for http://10.0.2.100:80", shown(&minted, |_| String::from("ok")))?;
    let Ok(Ok(minted)) = minted else { return Ok(1) };
    say("its origin", minted.origin().unwrap_or_else(|e| format!("{e}")))?;
    say("GET /greeting through it", shown(&minted.request("GET", "/greeting", b""), page))?;
    // The minted endpoint is an ordinary cap: once released, its id names nothing, and the kernel says so.
    let stale = minted.endpoint().cap().id();
    let t = minted.endpoint().cap().transport().clone();
    drop(minted);
    say("request on the released endpoint's cap id", raw(t.call(stale, method::REQUEST, &empty, 256)))?;
    fetch.done()?;
    Ok(0)
}
// endregion: probe
