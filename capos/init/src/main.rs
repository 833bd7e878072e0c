//! init: the only process the kernel starts.
//!
//! 1. Reads the manifest through BootPackage in `MAX_READ` chunks and validates it with the same
//!    rules as mkmanifest and the kernel (capos_schema::manifest).
//! 2. Spawns every service except itself, in manifest order, one at a time: kernel caps are passed
//!    as copies of init's own caps (found by their kernel cap name), blob and text grants by
//!    value. A grant init cannot satisfy (e.g. `entropy` on a machine without a hardware source)
//!    fails that service with a clear line instead of starting it with less.
//! 3. Waits for each and prints `service <name> exited with <code>` or `... faulted: <kind>`.
//! 4. Exits 0 when every service exited 0, else 1.
#![no_std]
#![no_main]
extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use capos_rt::schema::manifest::{self, GrantSource, Service};
use capos_rt::{BootPackage, Console, ExitStatus, ProcessSpawner, Runtime, SpawnGrant, SpawnSource};

capos_rt::entry!(main);
// The whole manifest (every binary and blob in it) is read into the heap.
capos_rt::heap!(32 * 1024 * 1024);

fn main(rt: &mut Runtime) -> i32 {
    let Ok(console) = rt.take::<Console>("console") else {
        return 2; // nowhere to report anything
    };
    match run(rt, &console) {
        Ok(all_ok) => {
            if all_ok {
                0
            } else {
                1
            }
        }
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
    let mut failed = 0;
    for service in children {
        if !run_service(rt, console, &spawner, service) {
            failed += 1;
        }
    }
    let _ = console.write_line(&format!("all services done, {failed} failed"));
    Ok(failed == 0)
}

// region: run-service
/// Spawns one service and waits for it; true when it exited 0.
fn run_service(rt: &Runtime, console: &Console, spawner: &ProcessSpawner, service: &Service<'_>) -> bool {
    let grants = match resolve_grants(rt, service) {
        Ok(grants) => grants,
        Err(why) => {
            let _ = console.write_line(&format!("service {} not started: {why}", service.name));
            return false;
        }
    };
    let handle = match spawner.spawn(service.name, service.binary, &grants) {
        Ok(handle) => handle,
        Err(e) => {
            let _ = console.write_line(&format!("service {} not started: {e}", service.name));
            return false;
        }
    };
    let line = match handle.wait() {
        Ok(ExitStatus::Exited(code)) => (format!("service {} exited with {code}", service.name), code == 0),
        Ok(ExitStatus::Faulted(kind)) => (format!("service {} faulted: {kind}", service.name), false),
        Err(e) => (format!("service {} lost: {e}", service.name), false),
    };
    let _ = console.write_line(&line.0);
    line.1
}

/// The spawn grants for `service`, in manifest order.
fn resolve_grants<'a>(rt: &Runtime, service: &Service<'a>) -> Result<Vec<SpawnGrant<'a>>, String> {
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
            };
            Ok(SpawnGrant { name: g.name, source })
        })
        .collect()
}
// endregion: run-service
