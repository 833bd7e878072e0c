//! init: the only process the kernel starts.
//!
//! 1. Reads the manifest through BootPackage in `MAX_READ` chunks and validates it with the same
//!    rules as mkmanifest and the kernel (capos_schema::manifest).
//! 2. Makes one Endpoint per export (`ProcessSpawner.newEndpoint`) before anything runs.
//! 3. Spawns every service except itself, in manifest order: kernel caps are passed as copies of
//!    init's own caps (found by their kernel cap name), blob and text grants by value, an export
//!    as a copy of its endpoint's owner facet, an import as a copy of a client facet. A grant init
//!    cannot satisfy (e.g. `entropy` on a machine without a hardware source) fails that service
//!    with a clear line instead of starting it with less.
//! 4. A service with no export or import is waited for before the next one starts, as before
//!    endpoints existed. A wired service keeps running while the rest start (a server and its
//!    clients must overlap); once all are started init drops its facets and waits for those.
//!    Each wait prints `service <name> exited with <code>` or `... faulted: <kind>`.
//! 5. Exits 0 when every service exited 0, else 1.
#![no_std]
#![no_main]
extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use capos_rt::schema::manifest::{self, GrantSource, Service};
use capos_rt::{
    BootPackage, Client, Console, Endpoint, EndpointOwner, ExitStatus, ProcessHandle, ProcessSpawner, Runtime, SpawnGrant,
    SpawnSource,
};

capos_rt::entry!(main);
// The whole manifest (every binary and blob in it) is read into the heap.
capos_rt::heap!(32 * 1024 * 1024);

fn main(rt: &mut Runtime) -> i32 {
    let Ok(console) = rt.take::<Console>("console") else {
        return 2; // nowhere to report anything
    };
    match run(rt, &console) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) => {
            let _ = console.write_line(&e);
            1
        }
    }
}

/// Runs every service; `Ok(true)` when all exited 0. `Err` is a reason init could not go on.
fn run(rt: &mut Runtime, console: &Console) -> Result<bool, String> {
    let boot: BootPackage = rt.take("bootPackage").map_err(|e| format!("boot package: {e}"))?;
    let spawner: ProcessSpawner = rt.take("spawner").map_err(|e| format!("spawner: {e}"))?;
    let bytes = boot.read_all().map_err(|e| format!("reading the manifest: {e}"))?;
    let message = manifest::read(&bytes).map_err(|e| format!("manifest: {e}"))?;
    let m = manifest::decode(&message).map_err(|e| format!("manifest: {e}"))?;

    let children: Vec<&Service<'_>> = m.children().collect();
    let _ = console.write_line(&format!("starting {} services", children.len()));
    let mut endpoints = Vec::new();
    for (service, export) in m.exports() {
        let (owner, client) = spawner.new_endpoint().map_err(|e| format!("endpoint {service}.{export}: {e}"))?;
        endpoints.push(Export { service, export, owner, client });
    }
    let mut failed = 0;
    let mut running: Vec<(&str, ProcessHandle)> = Vec::new();
    for service in children {
        match start_service(rt, console, &spawner, &endpoints, service) {
            None => failed += 1,
            Some(handle) if is_wired(service) => running.push((service.name, handle)),
            Some(handle) => failed += usize::from(!wait_service(console, service.name, handle)),
        }
    }
    // From here the servers hold the only owner facets: a server that exits disconnects its clients.
    drop(endpoints);
    for (name, handle) in running {
        failed += usize::from(!wait_service(console, name, handle));
    }
    let _ = console.write_line(&format!("all services done, {failed} failed"));
    Ok(failed == 0)
}

// region: run-service
/// The endpoint init made for one export, until every service is started.
struct Export<'a> {
    service: &'a str,
    export: &'a str,
    owner: EndpointOwner,
    client: Endpoint,
}

/// True when the service serves or uses an export, so it must run alongside the others.
fn is_wired(service: &Service<'_>) -> bool {
    service.grants.iter().any(|g| matches!(g.source, GrantSource::Export(_) | GrantSource::Import(_)))
}

/// Spawns one service; None (after printing why) when it could not be started.
fn start_service(
    rt: &Runtime,
    console: &Console,
    spawner: &ProcessSpawner,
    endpoints: &[Export<'_>],
    service: &Service<'_>,
) -> Option<ProcessHandle> {
    let grants = match resolve_grants(rt, endpoints, service) {
        Ok(grants) => grants,
        Err(why) => {
            let _ = console.write_line(&format!("service {} not started: {why}", service.name));
            return None;
        }
    };
    match spawner.spawn(service.name, service.binary, &grants) {
        Ok(handle) => Some(handle),
        Err(e) => {
            let _ = console.write_line(&format!("service {} not started: {e}", service.name));
            None
        }
    }
}

/// Waits for one service and prints how it ended; true when it exited 0.
fn wait_service(console: &Console, name: &str, handle: ProcessHandle) -> bool {
    let line = match handle.wait() {
        Ok(ExitStatus::Exited(code)) => (format!("service {name} exited with {code}"), code == 0),
        Ok(ExitStatus::Faulted(kind)) => (format!("service {name} faulted: {kind}"), false),
        Err(e) => (format!("service {name} lost: {e}"), false),
    };
    let _ = console.write_line(&line.0);
    line.1
}

/// The spawn grants for `service`, in manifest order.
fn resolve_grants<'a>(rt: &Runtime, endpoints: &[Export<'_>], service: &Service<'a>) -> Result<Vec<SpawnGrant<'a>>, String> {
    // The validator guarantees every export and import names an endpoint made above.
    let endpoint = |service: &str, export: &str| endpoints.iter().find(|e| e.service == service && e.export == export);
    service
        .grants
        .iter()
        .map(|g| {
            let source = match g.source {
                GrantSource::Kernel(cap) => match rt.caps().find(cap.name(), cap.interface_id()) {
                    Ok(entry) => SpawnSource::Cap(entry.cap_id),
                    Err(_) => {
                        return Err(format!("grant \"{}\" needs kernel cap \"{}\", which this system does not have", g.name, cap.name()))
                    }
                },
                GrantSource::Blob(name) => SpawnSource::Blob(name),
                GrantSource::Text(text) => SpawnSource::Text(text),
                GrantSource::Export(export) => match endpoint(service.name, export) {
                    Some(e) => SpawnSource::Cap(e.owner.cap().id()),
                    None => return Err(format!("grant \"{}\": no endpoint for export \"{export}\"", g.name)),
                },
                GrantSource::Import(import) => match manifest::split_import(import).and_then(|(s, x)| endpoint(s, x)) {
                    Some(e) => SpawnSource::Cap(e.client.cap().id()),
                    None => return Err(format!("grant \"{}\": no endpoint for import \"{import}\"", g.name)),
                },
            };
            Ok(SpawnGrant { name: g.name, source })
        })
        .collect()
}
// endregion: run-service
