//! Kernel capability objects. Each one implements [`KernelCap`]: an interface id and a `call`
//! that decodes Cap'n Proto params, does the work and encodes a result, or fails with a
//! [`CapError`] that the ring turns into a serialized CapException.

pub mod blob;
pub mod boot_package;
pub mod console;
pub mod device;
pub mod endpoint;
pub mod entropy;
pub mod process;
pub mod timer;
pub mod vmem;
pub mod wallclock;

use crate::process::{Pid, Process};
use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use capos_kcore::captable::CapTable;
use capos_kcore::console::LineBuffer;
use capos_kcore::ring::{Dispatch, Outcome, PendingCall, Request};
use capos_schema::capnp;
use capos_schema::exception::{self, ExceptionKind};
use capos_schema::wire::{self, AlignedBuf};

// region: trait
/// A capability slot's content: shared, because COPY puts the same object in two tables.
pub type Cap = Rc<dyn KernelCap>;

pub trait KernelCap {
    /// The Cap'n Proto interface id (what CapSet entries and result-cap records carry).
    fn interface_id(&self) -> u64;
    /// Runs method `method` (the schema ordinal) with a framed params message.
    fn call(&self, method: u16, params: &[u8], ctx: &mut CallCtx<'_>) -> Result<Reply, CapError>;
    /// Whether the cap may be handed on by a transfer descriptor or a COPY grant.
    fn transferable(&self) -> bool {
        true
    }
    /// Endpoint facets say which side they are; every other cap is not an endpoint.
    fn endpoint(&self) -> Option<endpoint::Facet<'_>> {
        None
    }
}

/// A method's answer.
pub enum Reply {
    /// A framed result message plus caps returned as result-cap records.
    Done { data: Vec<u8>, caps: Vec<Cap> },
    /// The object kept `ctx.pending` and completes it later (ProcessHandle.wait).
    Pending,
}

/// A failure at a valid cap, sent back as a CapException.
#[derive(Debug)]
pub struct CapError {
    pub kind: ExceptionKind,
    pub reason: String,
}

/// What a call may touch besides its params: the caller and the kernel services it may use.
pub struct CallCtx<'a> {
    pub caller: Pid,
    pub caller_name: &'a str,
    pub caller_caps: &'a CapTable<Cap>,
    pub console: &'a mut LineBuffer,
    pub pending: PendingCall,
    /// Processes created by this call; the scheduler adopts them after the ring pass.
    pub spawned: &'a mut Vec<Process>,
    pub next_pid: &'a mut Pid,
    pub kernel_pml4: u64,
    /// Processes this call kills (`ProcessHandle.kill`), with the reason; the scheduler ends
    /// them after the ring pass, as it adopts spawned ones.
    pub kills: &'a mut Vec<(Pid, String)>,
    /// The caller's address space (Device maps registers and DMA memory into it).
    pub space: &'a crate::mem::paging::AddressSpace,
    /// The caller's alarm (`Timer.setAlarm`).
    pub alarm: &'a mut Option<capos_kcore::alarm::Alarm>,
}
// endregion: trait

impl CapError {
    pub fn invalid(reason: impl Into<String>) -> Self {
        CapError { kind: ExceptionKind::InvalidArgument, reason: reason.into() }
    }
    pub fn failed(reason: impl Into<String>) -> Self {
        CapError { kind: ExceptionKind::Failed, reason: reason.into() }
    }
    /// A quota or bound the caller ran into: retrying once it holds less may succeed.
    pub fn overloaded(reason: impl Into<String>) -> Self {
        CapError { kind: ExceptionKind::Overloaded, reason: reason.into() }
    }
    pub fn no_method(interface: &str, method: u16) -> Self {
        CapError { kind: ExceptionKind::Unimplemented, reason: format!("{interface} has no method {method}") }
    }
}

impl From<capnp::Error> for CapError {
    fn from(e: capnp::Error) -> Self {
        CapError::invalid(format!("malformed params: {e}"))
    }
}

impl From<core::str::Utf8Error> for CapError {
    fn from(_: core::str::Utf8Error) -> Self {
        CapError::invalid("text is not utf-8")
    }
}

/// A reply carrying just a result message.
pub fn done(data: Vec<u8>) -> Result<Reply, CapError> {
    Ok(Reply::Done { data, caps: Vec::new() })
}

/// Copies params into 8-byte aligned storage: capnp reads segments in place and needs that alignment.
fn aligned(params: &[u8]) -> AlignedBuf {
    AlignedBuf::copy_from(params)
}

// region: dispatch
/// Bridges kcore's ring processing to the kernel's cap objects for one process's ring pass.
pub struct KernelDispatch<'a> {
    pub caller: Pid,
    pub caller_name: &'a str,
    pub console: &'a mut LineBuffer,
    pub spawned: &'a mut Vec<Process>,
    pub next_pid: &'a mut Pid,
    pub kernel_pml4: u64,
    pub kills: &'a mut Vec<(Pid, String)>,
    pub space: &'a crate::mem::paging::AddressSpace,
    pub alarm: &'a mut Option<capos_kcore::alarm::Alarm>,
}

impl Dispatch<Cap> for KernelDispatch<'_> {
    fn call(&mut self, cap: &Cap, req: Request<'_, Cap>, caps: &CapTable<Cap>) -> Outcome<Cap> {
        // A client facet's CALL goes to the endpoint's server; an owner facet's CALL is a kernel
        // method of its own (EndpointOwner.mint).
        // Below the heap's low-water mark nothing new is taken on (appendix A.9).
        if let Err(free) = crate::mem::heap::admit() {
            let why = format!(
                "kernel heap low: {} KiB free, calls refused below {} KiB",
                free >> 10,
                crate::mem::heap::LOW_WATER >> 10
            );
            return Outcome::Exception(exception::encode(ExceptionKind::Overloaded, &why));
        }
        if let Some(facet @ endpoint::Facet::Client(..)) = cap.endpoint() {
            let caller = (self.caller, self.space.account());
            return endpoint::call(facet, caller, req.method, req.params, req.transfer, req.pending);
        }
        // Kernel objects take their inputs as params; only endpoints carry caps along.
        if !req.transfer.is_empty() {
            return Outcome::Refused(capos_abi::err::E_BAD_TRANSFER);
        }
        let (method, pending) = (req.method, req.pending);
        let params = aligned(req.params);
        let mut ctx = CallCtx {
            caller: self.caller,
            caller_name: self.caller_name,
            caller_caps: caps,
            console: &mut *self.console,
            pending,
            spawned: &mut *self.spawned,
            next_pid: &mut *self.next_pid,
            kernel_pml4: self.kernel_pml4,
            kills: &mut *self.kills,
            space: self.space,
            alarm: &mut *self.alarm,
        };
        match cap.call(method, &params, &mut ctx) {
            Ok(Reply::Done { data, caps }) => Outcome::Reply {
                data,
                caps: caps
                    .into_iter()
                    .map(|c| {
                        let id = c.interface_id();
                        (c, id)
                    })
                    .collect(),
            },
            Ok(Reply::Pending) => Outcome::Pending,
            Err(e) => Outcome::Exception(exception::encode(e.kind, &e.reason)),
        }
    }

    fn recv(&mut self, cap: &Cap, pending: PendingCall) -> Outcome<Cap> {
        match cap.endpoint() {
            Some(facet) => endpoint::recv(facet, self.caller, pending),
            None => Outcome::Refused(capos_abi::err::E_UNSUPPORTED),
        }
    }

    fn ret(
        &mut self,
        cap: &Cap,
        call_id: u32,
        data: Vec<u8>,
        exception: bool,
        caps: Vec<(Cap, u64)>,
    ) -> Result<(), i32> {
        match cap.endpoint() {
            Some(facet) => endpoint::ret(facet, self.caller, call_id, data, exception, caps),
            None => Err(capos_abi::err::E_UNSUPPORTED),
        }
    }

    fn transferable(&self, cap: &Cap) -> Option<u64> {
        cap.transferable().then(|| cap.interface_id())
    }

    fn table_full(&mut self) -> Vec<u8> {
        exception::encode(ExceptionKind::Overloaded, "cap table full")
    }

    fn transport_error(&mut self, sqe: &capos_abi::ring::Sqe, code: i32) {
        if crate::manifest::get().kernel_params.trace_errors {
            crate::klog!(
                "{} (pid {}): opcode {} cap {:#x} method {} -> {} ({})",
                self.caller_name,
                self.caller,
                sqe.opcode,
                sqe.cap_id,
                sqe.method_id,
                capos_abi::err::name(code),
                code
            );
        }
    }
}
// endregion: dispatch

/// Reads a params message (empty params are an error for methods that take any).
pub fn params(bytes: &[u8]) -> Result<capnp::message::Reader<capnp::serialize::BufferSegments<&[u8]>>, CapError> {
    wire::read(bytes).map_err(CapError::from)
}

/// Serializes a builder.
pub fn encode(message: &capnp::message::Builder<capnp::message::HeapAllocator>) -> Vec<u8> {
    wire::to_bytes(message)
}

/// The bytes `[offset, offset + max)` of `data`, clamped to `MAX_READ` and to the end.
pub fn chunk(data: &[u8], offset: u64, max: u32) -> &[u8] {
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(data.len());
    let len = (max as usize).min(capos_abi::MAX_READ).min(data.len() - start);
    &data[start..start + len]
}
