//! The HTTP service (chapter W.6): HTTP/1.1 over the network stack's TCP sockets, served as Fetch
//! and HttpEndpoint caps.
//!
//! Grants: `console`, `timer`, `net` (a client facet of the network stack, whose grant lists the
//! addresses this service may connect to), `endpoints` (text, see `capos_httpwire::exports`) and
//! one `export` per line of it under that line's name. A Fetch reaches the origins its line lists
//! and mints HttpEndpoints for them; an HttpEndpoint reaches its one origin and nothing else. The
//! service ends when the holder of every export has said `done`.
#![no_std]
#![no_main]
extern crate alloc;

mod exchange;
mod serve;

use alloc::format;
use alloc::vec::Vec;
use capos_httpwire::exports::{self, Role};
use capos_rt::{Blob, Console, Endpoint, EndpointOwner, Error, Network, Runtime, Timer};

capos_rt::entry!(main);
capos_rt::heap!(2 * 1024 * 1024);

fn main(rt: &mut Runtime) -> i32 {
    capos_rt::with_console(rt, run)
}

fn run(rt: &mut Runtime, console: &Console) -> Result<i32, Error> {
    let timer: Timer = rt.take("timer")?;
    let net = Network::new(rt.take::<Endpoint>("net")?);
    let text = rt.take::<Blob>("endpoints")?.read_string()?;
    let exports = exports::parse(&text).map_err(Error::Decode)?;
    let mut owners: Vec<EndpointOwner> = Vec::new();
    for e in &exports {
        owners.push(rt.take::<EndpointOwner>(&e.name)?);
        let what = match &e.role {
            Role::Fetch(origins) => {
                let list: Vec<_> = origins.iter().map(|o| o.text()).collect();
                format!("fetch {}", list.join(" "))
            }
            Role::Endpoint(o) => format!("origin {}", o.text()),
        };
        console.write_line(&format!("export {}: {what}", e.name))?;
    }
    let mut server = serve::Server::new(exports, owners, exchange::Exchange { net: &net, timer: &timer });
    server.serve(console)?;
    let c = &server.counters;
    console.write_line(&format!(
        "{} requests: {} answered, {} refused by grant, {} malformed, {} failed; {} endpoints minted, {} released",
        c.requests, c.answered, c.refused, c.malformed, c.failed, c.minted, c.released
    ))?;
    // Nothing useful can be done about a stack that is already gone.
    let _ = net.done();
    Ok(0)
}
