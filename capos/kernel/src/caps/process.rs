//! ProcessSpawner and ProcessHandle: starting services from the boot package with exactly
//! the grants the caller names, and waiting for them to end.

use super::blob::Blob;
use super::{done, encode, params, CallCtx, Cap, CapError, KernelCap, Reply};
use crate::mem::account::{Account, Reservation, KERNEL_SHARE, KERNEL_SHARE_MOST};
use crate::process::{ExitCell, ExitStatus, Limits, NewGrant, Process};
use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use capos_abi::endpoint::SPAWNER_NEW_ENDPOINT;
use capos_abi::{GRANT_TEXT_MAX, NAME_MAX};
use capos_kcore::captable::MAX_CAPS;
use capos_schema::capos_capnp::{grant, process_handle, process_quota, process_spawner};
use capos_schema::ids;
use capos_schema::manifest::BinaryKind;
use capos_schema::wire;
use core::cell::RefCell;

pub struct ProcessSpawner;

// region: spawn
impl KernelCap for ProcessSpawner {
    fn interface_id(&self) -> u64 {
        ids::PROCESS_SPAWNER
    }

    fn call(&self, method: u16, bytes: &[u8], ctx: &mut CallCtx<'_>) -> Result<Reply, CapError> {
        match method {
            0 => spawn(bytes, ctx),
            SPAWNER_NEW_ENDPOINT => new_endpoint(bytes),
            _ => Err(CapError::no_method("ProcessSpawner", method)),
        }
    }
}

// region: new-endpoint
/// `newEndpoint @1 () -> ()`: a fresh endpoint, owner facet as result cap 0, client facet as
/// result cap 1. The caller passes them on with COPY grants when it spawns the server and its
/// clients, then releases its own copies.
fn new_endpoint(bytes: &[u8]) -> Result<Reply, CapError> {
    if !bytes.is_empty() {
        params(bytes)?;
    }
    let (owner, client) = super::endpoint::new_pair();
    let mut out = wire::builder(wire::words_for(0));
    out.init_root::<process_spawner::new_endpoint_results::Builder>();
    Ok(Reply::Done { data: encode(&out), caps: vec![owner, client] })
}
// endregion: new-endpoint

fn spawn(bytes: &[u8], ctx: &mut CallCtx<'_>) -> Result<Reply, CapError> {
    let msg = params(bytes)?;
    let p = msg.get_root::<process_spawner::spawn_params::Reader>()?;
    let name = p.get_name()?.to_str()?;
    let binary_name = p.get_binary_name()?.to_str()?;
    if name.is_empty() || name.len() > NAME_MAX {
        return Err(CapError::invalid(format!("process name must be 1 to {NAME_MAX} bytes")));
    }
    let manifest = crate::manifest::get();
    let binary =
        manifest.binary(binary_name).ok_or_else(|| CapError::invalid(format!("no binary named {binary_name}")))?;
    if binary.kind != BinaryKind::Elf {
        return Err(CapError::invalid(format!("binary {binary_name} is not an elf")));
    }
    let list = p.get_grants()?;
    if list.len() as usize > capos_abi::capset::MAX_ENTRIES {
        return Err(CapError::invalid(format!(
            "{} grants, a capset page holds {}",
            list.len(),
            capos_abi::capset::MAX_ENTRIES
        )));
    }
    let mut grants: Vec<NewGrant> = Vec::new();
    for g in list.iter() {
        let grant_name = g.get_name()?.to_str()?;
        if grant_name.is_empty() || grant_name.len() > NAME_MAX || grants.iter().any(|x| x.name == grant_name) {
            return Err(CapError::invalid(format!("grant name {grant_name:?} empty, too long or repeated")));
        }
        let cap = grant_cap(grant_name, g, ctx)?;
        grants.push(NewGrant { name: String::from(grant_name), cap });
    }
    let limits = child_limits(name, p.get_quota()?, ctx)?;
    let pid = *ctx.next_pid;
    let child = Process::load(pid, name, binary.data, grants, ctx.kernel_pml4, limits)
        .map_err(|e| CapError::overloaded(format!("spawn {name}: {e}")))?;
    *ctx.next_pid += 1;
    let handle: Cap = Rc::new(ProcessHandle { exit: child.exit.clone(), pid });
    ctx.spawned.push(child);
    let mut out = wire::builder(wire::words_for(0));
    out.init_root::<process_spawner::spawn_results::Builder>();
    Ok(Reply::Done { data: encode(&out), caps: vec![handle] })
}

// region: child-limits
/// The child's account and cap-table size. A memory quota is reserved in whole pages from the
/// caller's account, together with a kernel-heap share (refused, `overloaded`, when that account
/// cannot cover either); none shares the caller's account, so the child's frames and waiting
/// calls count against the caller's quota.
fn child_limits(name: &str, q: process_quota::Reader<'_>, ctx: &CallCtx<'_>) -> Result<Limits, CapError> {
    let parent = ctx.space.account();
    // A share of the kernel heap comes with a memory quota of the service's own (at most half
    // the heap: mkmanifest's bound, and the kernel's for spawns that do not come from a manifest).
    let share = match q.get_kernel_bytes() {
        0 => KERNEL_SHARE,
        bytes => bytes.min(KERNEL_SHARE_MOST),
    };
    let account = match q.get_memory_bytes() {
        0 => parent.clone(),
        bytes => Account::reserve_from(parent, bytes.div_ceil(4096), share).map_err(|r| {
            CapError::overloaded(match r {
                Reservation::Frames(e) => {
                    format!("spawn {name}: a memory quota of {bytes} bytes: {e} (4 KiB frames, the spawner's account)")
                }
                Reservation::KernelHeap(e) => {
                    format!("spawn {name}: a kernel-heap share of {share} bytes: {e} (the spawner's share)")
                }
            })
        })?,
    };
    let caps = match q.get_caps() {
        0 => MAX_CAPS,
        n => (n as usize).min(MAX_CAPS),
    };
    Ok(Limits { account, caps })
}
// endregion: child-limits

const _: () = assert!(capos_schema::supervision::MAX_KERNEL_KIB as u64 * 1024 == KERNEL_SHARE_MOST);

/// Resolves one grant: a COPY of a caller cap, a manifest blob, or inline text.
fn grant_cap(name: &str, g: grant::Reader<'_>, ctx: &CallCtx<'_>) -> Result<Cap, CapError> {
    match g.get_source().which()? {
        grant::source::Cap(id) => {
            // Owner facets are not transferable on the ring, but a grant is how a server gets one.
            let grantable = |cap: &Cap| cap.transferable() || cap.endpoint().is_some();
            ctx.caller_caps.get(id).cloned().filter(grantable).ok_or_else(|| {
                CapError::invalid(format!("grant {name}: cap id {id:#x} is not a transferable cap of the caller"))
            })
        }
        grant::source::Blob(blob) => {
            let blob = blob?.to_str()?;
            let b = crate::manifest::get()
                .binary(blob)
                .ok_or_else(|| CapError::invalid(format!("grant {name}: no binary named {blob}")))?;
            Ok(Rc::new(Blob::Manifest(b.data)))
        }
        grant::source::Text(text) => {
            let text = text?.as_bytes();
            if text.len() > GRANT_TEXT_MAX {
                return Err(CapError::invalid(format!("grant {name}: text over {GRANT_TEXT_MAX} bytes")));
            }
            Ok(Rc::new(Blob::Text(text.to_vec())))
        }
    }
}
// endregion: spawn

impl From<capos_schema::capnp::NotInSchema> for CapError {
    fn from(e: capos_schema::capnp::NotInSchema) -> Self {
        CapError::invalid(format!("unknown union variant {}", e.0))
    }
}

// region: handle
/// The parent's view of one child: the child's exit cell, which outlives the child, and its pid
/// (never reused: pids only count up), which `kill` names.
pub struct ProcessHandle {
    pub exit: Rc<RefCell<ExitCell>>,
    pub pid: crate::process::Pid,
}

/// The longest reason `kill` takes: it ends up in one console line of the killer.
pub const KILL_REASON_MAX: usize = 120;

/// The `wait` result message for an exit status.
pub fn encode_status(status: &ExitStatus) -> Vec<u8> {
    let mut out = wire::builder(wire::words_for(64));
    let mut s = out.init_root::<process_handle::wait_results::Builder>().init_status();
    match status {
        ExitStatus::Exited(code) => s.set_exited(*code),
        ExitStatus::Faulted(kind) => s.set_faulted(kind.as_str()),
        ExitStatus::Killed(reason) => s.set_killed(reason.as_str()),
    }
    encode(&out)
}

impl KernelCap for ProcessHandle {
    fn interface_id(&self) -> u64 {
        ids::PROCESS_HANDLE
    }

    /// Handles stay with their spawner, as upstream keeps them.
    fn transferable(&self) -> bool {
        false
    }

    fn call(&self, method: u16, params: &[u8], ctx: &mut CallCtx<'_>) -> Result<Reply, CapError> {
        match method {
            0 => self.wait(ctx),
            1 => self.kill(params, ctx),
            _ => Err(CapError::no_method("ProcessHandle", method)),
        }
    }
}

impl ProcessHandle {
    fn wait(&self, ctx: &mut CallCtx<'_>) -> Result<Reply, CapError> {
        let mut exit = self.exit.borrow_mut();
        if let Some(status) = &exit.status {
            return done(encode_status(status));
        }
        exit.waiters.push((ctx.caller, ctx.pending));
        Ok(Reply::Pending)
    }
}
// endregion: handle

// region: kill
impl ProcessHandle {
    /// `kill @1 (reason) -> (killed)`: queues the child's end for right after this ring pass
    /// (`sched::end_killed`), which releases what it held through the same path as an exit.
    /// A child that already ended is left alone and `killed` is false.
    fn kill(&self, bytes: &[u8], ctx: &mut CallCtx<'_>) -> Result<Reply, CapError> {
        let msg = params(bytes)?;
        let reason = msg.get_root::<process_handle::kill_params::Reader>()?.get_reason()?.to_str()?;
        if reason.len() > KILL_REASON_MAX {
            return Err(CapError::invalid(format!("kill reason over {KILL_REASON_MAX} bytes")));
        }
        let queued = ctx.kills.iter().any(|(pid, _)| *pid == self.pid);
        let killed = self.exit.borrow().status.is_none() && !queued;
        if killed {
            ctx.kills.push((self.pid, String::from(reason)));
        }
        let mut out = wire::builder(wire::words_for(0));
        out.init_root::<process_handle::kill_results::Builder>().set_killed(killed);
        done(encode(&out))
    }
}
// endregion: kill
