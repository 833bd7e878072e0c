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
//! 4. Starts every service at once, except that a service with `after: [...]` starts only when
//!    each service it names has ended. It waits for all of them together ([`supervise`]): each
//!    end prints `service <name> exited with <code>`, `... faulted: <kind>` or `... killed:
//!    <why>`. A run past its `deadlineMs` is killed; a service with `restart: "on-failure"` is
//!    started again after its backoff, up to its limit. When an exporting service has ended for
//!    good, init drops its owner facet, so the endpoint closes and waiting clients are
//!    disconnected.
//! 5. Exits 0 when every service that must succeed ended with exit code 0, else 1.
#![no_std]
#![no_main]
extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use capos_rt::schema::ids::{KernelCap, DEVICE_MANAGER};
use capos_rt::schema::manifest::{self, GrantSource, Service};
use capos_rt::transport::Cap;
use capos_rt::{
    BootPackage, Client, Console, DeviceManager, Endpoint, EndpointOwner, ProcessHandle, ProcessSpawner, Runtime,
    SpawnGrant, SpawnQuota, SpawnSource, Timer,
};
use core::mem::ManuallyDrop;
use supervise::{Slot, Supervisor};

mod supervise;

capos_rt::entry!(main);
// The whole manifest (every binary and blob in it) is read into the heap, once, at its exact size:
// 128 MiB of address space (mapped lazily) holds a boot package of up to about 120 MB; W.8's, with
// a 33 MB Go module in it, is 35 MB.
capos_rt::heap!(128 * 1024 * 1024);

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
        endpoints.push(Export { service, export, owner: Some(owner), client });
    }
    let timer: Option<Timer> = rt.take("timer").ok();
    let mut slots: Vec<Slot<'_>> = children.into_iter().map(Slot::new).collect();
    Supervisor { rt, console, spawner: &spawner, timer: timer.as_ref(), endpoints: &mut endpoints }.run(&mut slots);
    // Every service has ended: init's client facets go too.
    drop(endpoints);
    let failed = slots.iter().filter(|s| !s.ok && s.service.supervision.must_succeed).count();
    let excused: Vec<String> = slots
        .iter()
        .filter(|s| !s.ok && !s.service.supervision.must_succeed)
        .map(|s| format!("{} {}", s.service.name, s.ending))
        .collect();
    let mut summary = format!("all services done, {failed} failed");
    if !excused.is_empty() {
        summary.push_str(&format!("; need not succeed: {}", excused.join(", ")));
    }
    let _ = console.write_line(&summary);
    Ok(failed == 0)
}

// region: run-service
/// The endpoint init made for one export. init keeps the owner facet until the exporting
/// service has ended for good (restarts reuse the endpoint), the client facet until the end.
pub struct Export<'a> {
    pub service: &'a str,
    export: &'a str,
    pub owner: Option<EndpointOwner>,
    client: Endpoint,
}

/// Spawns one service; None (after printing why) when it could not be started.
pub fn start_service(
    rt: &Runtime,
    console: &Console,
    spawner: &ProcessSpawner,
    endpoints: &[Export<'_>],
    service: &Service<'_>,
) -> Option<ProcessHandle> {
    // `_held` keeps the restricted DeviceManagers alive until the spawn has copied them.
    let (grants, _held) = match resolve_grants(rt, endpoints, service) {
        Ok(grants) => grants,
        Err(why) => {
            let _ = console.write_line(&format!("service {} not started: {why}", service.name));
            return None;
        }
    };
    let q = service.supervision.quota;
    let quota =
        SpawnQuota { memory_bytes: q.memory_bytes(), caps: q.caps.unwrap_or(0), kernel_bytes: q.kernel_bytes() };
    match spawner.spawn_with_quota(service.name, service.binary, &grants, quota) {
        Ok(handle) => Some(handle),
        Err(e) => {
            let _ = console.write_line(&format!("service {} not started: {e}", service.name));
            None
        }
    }
}

/// The spawn grants for `service`, in manifest order, and the DeviceManagers made for its
/// `device` grants.
fn resolve_grants<'a>(
    rt: &Runtime,
    endpoints: &[Export<'_>],
    service: &Service<'a>,
) -> Result<(Vec<SpawnGrant<'a>>, Vec<DeviceManager>), String> {
    // The validator guarantees every export and import names an endpoint made above.
    let endpoint = |service: &str, export: &str| endpoints.iter().find(|e| e.service == service && e.export == export);
    let mut held = Vec::new();
    let grants = service
        .grants
        .iter()
        .map(|g| {
            let source = match g.source {
                GrantSource::Kernel(cap) => match rt.caps().find(cap.name(), cap.interface_id()) {
                    Ok(entry) => SpawnSource::Cap(entry.cap_id),
                    Err(_) => {
                        return Err(format!(
                            "grant \"{}\" needs kernel cap \"{}\", which this system does not have",
                            g.name,
                            cap.name()
                        ))
                    }
                },
                GrantSource::Blob(name) => SpawnSource::Blob(name),
                GrantSource::Text(text) => SpawnSource::Text(text),
                GrantSource::Export(export) => match endpoint(service.name, export).and_then(|e| e.owner.as_ref()) {
                    Some(owner) => SpawnSource::Cap(owner.cap().id()),
                    None => return Err(format!("grant \"{}\": no endpoint for export \"{export}\"", g.name)),
                },
                GrantSource::Import(import) => match manifest::split_import(import).and_then(|(s, x)| endpoint(s, x)) {
                    Some(e) => SpawnSource::Cap(e.client.cap().id()),
                    None => return Err(format!("grant \"{}\": no endpoint for import \"{import}\"", g.name)),
                },
                GrantSource::Device(name) => {
                    let one = restricted_devices(rt, name)
                        .map_err(|e| format!("grant \"{}\": device {name}: {e}", g.name))?;
                    let id = one.cap().id();
                    held.push(one);
                    SpawnSource::Cap(id)
                }
            };
            Ok(SpawnGrant { name: g.name, source })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok((grants, held))
}

/// A DeviceManager for device `name` alone, made from init's whole table (kernel cap `devices`),
/// which init keeps: only the restricted one is copied to the service.
fn restricted_devices(rt: &Runtime, name: &str) -> Result<DeviceManager, String> {
    let entry = rt
        .caps()
        .find(KernelCap::Devices.name(), DEVICE_MANAGER)
        .map_err(|_| String::from("this system has no device table"))?;
    // Borrowed, not owned: dropping this client must not release init's own cap.
    let whole =
        ManuallyDrop::new(DeviceManager::from_cap(Cap::new(entry.cap_id, DEVICE_MANAGER, rt.transport().clone())));
    whole.restrict(name).map_err(|e| format!("{e}"))
}
// endregion: run-service
