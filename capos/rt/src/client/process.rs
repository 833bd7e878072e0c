use super::{client, empty_params, params, Client, SMALL_RESULT};
use super::{Endpoint, EndpointOwner};
use crate::error::Error;
use crate::transport::{Cap, StartedCall};
use alloc::string::String;
use capos_schema::capos_capnp::{exit_status, process_handle, process_spawner};
use capos_schema::ids::{ENDPOINT, ENDPOINT_OWNER, PROCESS_HANDLE};

const SPAWN: u16 = 0;
const NEW_ENDPOINT: u16 = capos_abi::endpoint::SPAWNER_NEW_ENDPOINT;
const WAIT: u16 = 0;
const KILL: u16 = 1;

/// Starts processes from the boot package's ELF binaries.
pub struct ProcessSpawner {
    cap: Cap,
}
client!(ProcessSpawner, capos_schema::ids::PROCESS_SPAWNER);

/// One named cap for the child.
#[derive(Clone, Copy, Debug)]
pub struct SpawnGrant<'a> {
    pub name: &'a str,
    pub source: SpawnSource<'a>,
}

#[derive(Clone, Copy, Debug)]
pub enum SpawnSource<'a> {
    /// A copy of one of the caller's caps (by cap id).
    Cap(u32),
    /// A binaries entry of the boot package, served as a Blob.
    Blob(&'a str),
    /// Inline text, served as a Blob.
    Text(&'a str),
}

/// What the child may hold (appendix A.9); 0 in a field asks for the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpawnQuota {
    /// Memory reserved from the caller's account for the child; 0 shares the caller's account.
    pub memory_bytes: u64,
    /// With `memory_bytes`: the kernel-heap share reserved with it; 0 for the kernel's default.
    pub kernel_bytes: u64,
    /// The child's cap-table size; 0 is the kernel's most (1024).
    pub caps: u32,
}

impl ProcessSpawner {
    /// Starts `binary` as a process called `name` with exactly `grants`, in that CapSet order.
    pub fn spawn(&self, name: &str, binary: &str, grants: &[SpawnGrant<'_>]) -> Result<ProcessHandle, Error> {
        self.spawn_with_quota(name, binary, grants, SpawnQuota::default())
    }

    /// [`spawn`](Self::spawn) with a quota: the kernel refuses the spawn (`overloaded`) when the
    /// caller's own account cannot reserve `quota.memory_bytes`.
    pub fn spawn_with_quota(
        &self,
        name: &str,
        binary: &str,
        grants: &[SpawnGrant<'_>],
        quota: SpawnQuota,
    ) -> Result<ProcessHandle, Error> {
        let p = params(|m| {
            let mut root = m.init_root::<process_spawner::spawn_params::Builder>();
            root.set_name(name);
            root.set_binary_name(binary);
            let mut q = root.reborrow().init_quota();
            q.set_memory_bytes(quota.memory_bytes);
            q.set_kernel_bytes(quota.kernel_bytes);
            q.set_caps(quota.caps);
            let mut list = root.init_grants(grants.len() as u32);
            for (i, g) in grants.iter().enumerate() {
                let mut out = list.reborrow().get(i as u32);
                out.set_name(g.name);
                let mut source = out.init_source();
                match g.source {
                    SpawnSource::Cap(id) => source.set_cap(id),
                    SpawnSource::Blob(b) => source.set_blob(b),
                    SpawnSource::Text(t) => source.set_text(t),
                }
            }
        });
        let reply = self.cap.call(SPAWN, &p, SMALL_RESULT)?;
        let first = reply.caps.first().ok_or(Error::BadReply("spawn returned no process handle"))?;
        // The handle is ours from here on, even if its interface is wrong: wrap it so it is released.
        let cap = Cap::new(first.cap_id, first.interface_id, self.cap.transport().clone());
        if first.interface_id != PROCESS_HANDLE {
            return Err(Error::BadReply("spawn returned a cap that is not a ProcessHandle"));
        }
        Ok(ProcessHandle::from_cap(cap))
    }
}

impl ProcessSpawner {
    /// A fresh Endpoint: its owner facet and one client facet. Hand them to the server and its
    /// clients as `SpawnSource::Cap` grants (COPY), then drop these: while this process holds the
    /// owner facet, a server that exits does not disconnect its clients.
    pub fn new_endpoint(&self) -> Result<(EndpointOwner, Endpoint), Error> {
        let p = empty_params::<process_spawner::new_endpoint_params::Owned>();
        let reply = self.cap.call(NEW_ENDPOINT, &p, SMALL_RESULT)?;
        // Every returned cap is ours: wrap them all first so that each is released on an error.
        let t = self.cap.transport();
        let caps: alloc::vec::Vec<Cap> =
            reply.caps.iter().map(|c| Cap::new(c.cap_id, c.interface_id, t.clone())).collect();
        let mut it = caps.into_iter();
        match (it.next(), it.next(), it.next()) {
            (Some(owner), Some(client), None)
                if owner.interface_id() == ENDPOINT_OWNER && client.interface_id() == ENDPOINT =>
            {
                Ok((EndpointOwner::from_cap(owner), Endpoint::from_cap(client)))
            }
            _ => Err(Error::BadReply("newEndpoint must return an owner facet and a client facet")),
        }
    }
}

/// How a process ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    Exited(i32),
    /// Killed by the kernel; the text says what fault.
    Faulted(String),
    /// Ended by `ProcessHandle::kill`; the text is the reason the killer gave.
    Killed(String),
}

/// A parent's handle on one child.
pub struct ProcessHandle {
    cap: Cap,
}
client!(ProcessHandle, PROCESS_HANDLE);

impl ProcessHandle {
    /// Waits until the child ends (returns at once if it already has).
    pub fn wait(&self) -> Result<ExitStatus, Error> {
        let p = empty_params::<process_handle::wait_params::Owned>();
        decode_status(self.cap.call(WAIT, &p, SMALL_RESULT)?)
    }

    /// Starts a wait without blocking: poll the result with [`PendingWait::poll`], so that one
    /// process can wait for many children (and for a deadline) at once.
    pub fn start_wait(&self) -> Result<PendingWait, Error> {
        let p = empty_params::<process_handle::wait_params::Owned>();
        Ok(PendingWait { call: self.cap.transport().start_call(self.cap.id(), WAIT, p, SMALL_RESULT)? })
    }

    /// Ends the child now; its waiters see `ExitStatus::Killed(reason)`. False when it had
    /// already ended.
    pub fn kill(&self, reason: &str) -> Result<bool, Error> {
        let p = params(|m| m.init_root::<process_handle::kill_params::Builder>().set_reason(reason));
        let reply = self.cap.call(KILL, &p, SMALL_RESULT)?;
        Ok(reply.payload.read()?.get_root::<process_handle::kill_results::Reader>()?.get_killed())
    }
}

/// A `wait` in flight (see [`ProcessHandle::start_wait`]).
pub struct PendingWait {
    call: StartedCall,
}

impl PendingWait {
    /// The exit status once the child has ended (None before; the status comes once). `handle`
    /// is the handle the wait was started on.
    pub fn poll(&mut self, handle: &ProcessHandle) -> Option<Result<ExitStatus, Error>> {
        let reply = handle.cap.transport().poll_call(&mut self.call)?;
        Some(reply.and_then(decode_status))
    }
}

fn decode_status(reply: crate::transport::Reply) -> Result<ExitStatus, Error> {
    let message = reply.payload.read()?;
    let status = message.get_root::<process_handle::wait_results::Reader>()?.get_status()?;
    let text = |t: capnp::Result<capnp::text::Reader<'_>>| -> Result<String, Error> {
        Ok(String::from(t?.to_str().map_err(|_| Error::Decode(String::from("exit status text is not utf-8")))?))
    };
    match status.which() {
        Ok(exit_status::Exited(code)) => Ok(ExitStatus::Exited(code)),
        Ok(exit_status::Faulted(kind)) => Ok(ExitStatus::Faulted(text(kind)?)),
        Ok(exit_status::Killed(reason)) => Ok(ExitStatus::Killed(text(reason)?)),
        Err(_) => Err(Error::BadReply("unknown exit status variant")),
    }
}
