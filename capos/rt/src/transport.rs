//! Calls over the ring: submit, enter the kernel, match the completion by `user_data`.
//!
//! One `Transport` per process, shared (`Rc`) by every cap so that a dropped cap can release
//! itself. Completions for other `user_data` values that arrive while waiting are kept and handed
//! to their own waiter later, so out-of-order completion is fine.
use crate::error::Error;
use crate::ring::Ring;
use crate::syscall;
use alloc::rc::Rc;
use alloc::vec::Vec;
use capos_abi::ring::{
    cqe_method, result_caps_offset, Cqe, ResultCap, Sqe, Transfer, CQE_EXCEPTION, OP_CALL, OP_NOP, OP_RECV, OP_RELEASE,
    OP_RETURN, SQE_RETURN_EXCEPTION,
};
use capos_abi::syscall::WAIT_FOREVER;
use capos_schema::exception;
use capos_schema::wire::AlignedBuf;
use core::cell::RefCell;

/// Room reserved after a payload for result-cap records.
const RESULT_CAP_ROOM: usize = 4 * size_of::<ResultCap>();

pub struct Transport {
    inner: RefCell<Inner>,
}

struct Inner {
    ring: Ring,
    next_user_data: u64,
    /// Completions that arrived while waiting for another one.
    stash: Vec<Cqe>,
}

/// A successful call's result: the payload message and the caps that came with it.
#[derive(Debug)]
pub struct Reply {
    pub payload: AlignedBuf,
    pub caps: Vec<ResultCap>,
}

impl Transport {
    pub fn new(ring: Ring) -> Transport {
        // user_data 0 is never used for our own entries: the kernel posts ring-corruption
        // completions with user_data 0.
        Transport { inner: RefCell::new(Inner { ring, next_user_data: 1, stash: Vec::new() }) }
    }

    /// Runs `f` on the raw ring (for tests that corrupt it on purpose).
    pub fn with_ring<R>(&self, f: impl FnOnce(&mut Ring) -> R) -> R {
        f(&mut self.inner.borrow_mut().ring)
    }

    /// A fresh `user_data` value.
    pub fn next_user_data(&self) -> u64 {
        let mut inner = self.inner.borrow_mut();
        let id = inner.next_user_data;
        inner.next_user_data = id.wrapping_add(1).max(1);
        id
    }

    /// Queues `sqe` as is, entering the kernel once to make room if the queue is full.
    pub fn submit(&self, sqe: &Sqe) -> Result<(), Error> {
        if self.inner.borrow_mut().ring.push(sqe).is_ok() {
            return Ok(());
        }
        syscall::cap_enter(0, 0);
        self.inner.borrow_mut().ring.push(sqe).map_err(|_| Error::RingFull)
    }

    /// Waits for the completion carrying `user_data`.
    pub fn wait(&self, user_data: u64) -> Cqe {
        loop {
            if let Some(cqe) = self.take_completion(user_data) {
                return cqe;
            }
            syscall::cap_enter(1, WAIT_FOREVER);
        }
    }

    /// The completion for `user_data` if it already arrived; other completions are stashed.
    pub fn take_completion(&self, user_data: u64) -> Option<Cqe> {
        let mut inner = self.inner.borrow_mut();
        if let Some(i) = inner.stash.iter().position(|c| c.user_data == user_data) {
            return Some(inner.stash.swap_remove(i));
        }
        while let Some(cqe) = inner.ring.pop() {
            if cqe.user_data == user_data {
                return Some(cqe);
            }
            inner.stash.push(cqe);
        }
        None
    }

    /// Submits `sqe` with a fresh user_data and waits for its completion.
    pub fn submit_and_wait(&self, mut sqe: Sqe) -> Result<Cqe, Error> {
        sqe.user_data = self.next_user_data();
        self.submit(&sqe)?;
        Ok(self.wait(sqe.user_data))
    }

    /// NOP: a round trip through the kernel that does nothing.
    pub fn nop(&self) -> Result<(), Error> {
        let cqe = self.submit_and_wait(Sqe { opcode: OP_NOP, ..Sqe::default() })?;
        if cqe.result < 0 {
            return Err(Error::Transport(cqe.result));
        }
        Ok(())
    }

    /// Drops `cap_id` from this process's cap table.
    pub fn release(&self, cap_id: u32) -> Result<(), Error> {
        let cqe = self.submit_and_wait(Sqe { opcode: OP_RELEASE, cap_id, ..Sqe::default() })?;
        if cqe.result < 0 {
            return Err(Error::Transport(cqe.result));
        }
        Ok(())
    }

    /// CALL `method` on `cap_id` with a framed params message; the result payload may be up to
    /// `capacity` bytes.
    pub fn call(&self, cap_id: u32, method: u16, params: &[u8], capacity: usize) -> Result<Reply, Error> {
        self.call_with(cap_id, method, params, capacity, &[])
    }

    /// CALL carrying transfer descriptors (COPY or MOVE of the caller's caps; at most
    /// `abi::ring::MAX_TRANSFERS`). Room for as many result caps as may come back is reserved.
    pub fn call_with(
        &self,
        cap_id: u32,
        method: u16,
        params: &[u8],
        capacity: usize,
        transfers: &[Transfer],
    ) -> Result<Reply, Error> {
        let mut result = AlignedBuf::zeroed(capacity + RESULT_CAP_ROOM.max(transfers.len() * size_of::<ResultCap>()));
        let sqe = with_transfers(
            Sqe {
                opcode: OP_CALL,
                method_id: method,
                cap_id,
                params_addr: params.as_ptr() as u64,
                params_len: params.len() as u32,
                result_addr: result.as_ptr() as u64,
                result_len: result.len() as u32,
                ..Sqe::default()
            },
            transfers,
        );
        let cqe = self.submit_and_wait(sqe)?;
        decode_completion(&cqe, &mut result)?;
        let caps = result_caps(&cqe, &result)?;
        result.truncate(cqe.result as usize);
        Ok(Reply { payload: result, caps })
    }

    /// RECV on an endpoint owner facet: waits for the next call, whose params may be up to
    /// `capacity` bytes.
    pub fn recv(&self, cap_id: u32, capacity: usize) -> Result<Incoming, Error> {
        let mut buf = AlignedBuf::zeroed(capacity + size_of::<ResultCap>() * capos_abi::ring::MAX_TRANSFERS as usize);
        let sqe = Sqe {
            opcode: OP_RECV,
            cap_id,
            result_addr: buf.as_ptr() as u64,
            result_len: buf.len() as u32,
            ..Sqe::default()
        };
        let cqe = self.submit_and_wait(sqe)?;
        decode_completion(&cqe, &mut buf)?;
        let caps = result_caps(&cqe, &buf)?;
        buf.truncate(cqe.result as usize);
        Ok(Incoming { call_id: cqe.call_id, method: cqe_method(cqe.flags), params: buf, caps, badge: cqe.badge })
    }

    /// RETURN `call_id` through an owner facet: `data` is the result message (or, with
    /// `exception`, a serialized CapException), `transfers` the caps that go back with it.
    pub fn ret(
        &self,
        cap_id: u32,
        call_id: u32,
        data: &[u8],
        transfers: &[Transfer],
        exception: bool,
    ) -> Result<(), Error> {
        let sqe = Sqe {
            opcode: OP_RETURN,
            flags: if exception { SQE_RETURN_EXCEPTION } else { 0 },
            cap_id,
            call_id,
            params_addr: data.as_ptr() as u64,
            params_len: data.len() as u32,
            ..Sqe::default()
        };
        let cqe = self.submit_and_wait(with_transfers(sqe, transfers))?;
        if cqe.result < 0 {
            return Err(Error::Transport(cqe.result));
        }
        Ok(())
    }
}

// region: started-call
/// A CALL submitted without waiting ([`Transport::start_call`]): the params and result buffers
/// live here until [`Transport::poll_call`] sees the completion, because the kernel reads the
/// params when it processes the entry and writes the result when the call completes, which for
/// `ProcessHandle.wait` is whenever the child ends.
pub struct StartedCall {
    user_data: u64,
    params: Vec<u8>,
    result: AlignedBuf,
    done: bool,
}

impl Drop for StartedCall {
    fn drop(&mut self) {
        if !self.done {
            // The kernel may still write the result: leak the buffers rather than free them
            // under it (a leak, never a write into freed memory).
            core::mem::forget(core::mem::take(&mut self.params));
            core::mem::forget(core::mem::replace(&mut self.result, AlignedBuf::zeroed(0)));
        }
    }
}

impl Transport {
    /// Submits CALL `method` on `cap_id` and returns at once; the kernel sees it on the next
    /// `cap_enter`. Several started calls may be outstanding at a time.
    pub fn start_call(&self, cap_id: u32, method: u16, params: Vec<u8>, capacity: usize) -> Result<StartedCall, Error> {
        let result = AlignedBuf::zeroed(capacity + RESULT_CAP_ROOM);
        let sqe = Sqe {
            opcode: OP_CALL,
            method_id: method,
            cap_id,
            params_addr: params.as_ptr() as u64,
            params_len: params.len() as u32,
            result_addr: result.as_ptr() as u64,
            result_len: result.len() as u32,
            user_data: self.next_user_data(),
            ..Sqe::default()
        };
        let call = StartedCall { user_data: sqe.user_data, params, result, done: false };
        self.submit(&sqe)?;
        Ok(call)
    }

    /// The outcome of a started call once its completion has arrived (None before); each
    /// started call yields its outcome once.
    pub fn poll_call(&self, call: &mut StartedCall) -> Option<Result<Reply, Error>> {
        if call.done {
            return None;
        }
        let cqe = self.take_completion(call.user_data)?;
        call.done = true;
        let mut result = core::mem::replace(&mut call.result, AlignedBuf::zeroed(0));
        Some(decode_completion(&cqe, &mut result).and_then(|()| {
            let caps = result_caps(&cqe, &result)?;
            result.truncate(cqe.result as usize);
            Ok(Reply { payload: result, caps })
        }))
    }
}
// endregion: started-call

// region: started-recv
/// A RECV submitted without waiting ([`Transport::start_recv`]): a server that also waits for
/// other things (a device interrupt, a timeout, several endpoints) keeps one of these per
/// endpoint and looks at it after each `cap_enter` (the network stack, chapter W.6).
pub struct StartedRecv {
    user_data: u64,
    buf: AlignedBuf,
    done: bool,
}

impl Drop for StartedRecv {
    fn drop(&mut self) {
        if !self.done {
            // The kernel may still deliver a call into the buffer: leak it (see StartedCall).
            core::mem::forget(core::mem::replace(&mut self.buf, AlignedBuf::zeroed(0)));
        }
    }
}

impl Transport {
    /// Submits RECV on `cap_id` for params of up to `capacity` bytes and returns at once.
    pub fn start_recv(&self, cap_id: u32, capacity: usize) -> Result<StartedRecv, Error> {
        let buf = AlignedBuf::zeroed(capacity + size_of::<ResultCap>() * capos_abi::ring::MAX_TRANSFERS as usize);
        let sqe = Sqe {
            opcode: OP_RECV,
            cap_id,
            result_addr: buf.as_ptr() as u64,
            result_len: buf.len() as u32,
            user_data: self.next_user_data(),
            ..Sqe::default()
        };
        let recv = StartedRecv { user_data: sqe.user_data, buf, done: false };
        self.submit(&sqe)?;
        Ok(recv)
    }

    /// The delivered call once it has arrived (None before); each started RECV yields once.
    pub fn poll_recv(&self, recv: &mut StartedRecv) -> Option<Result<Incoming, Error>> {
        if recv.done {
            return None;
        }
        let cqe = self.take_completion(recv.user_data)?;
        recv.done = true;
        let mut buf = core::mem::replace(&mut recv.buf, AlignedBuf::zeroed(0));
        Some(decode_completion(&cqe, &mut buf).and_then(|()| {
            let caps = result_caps(&cqe, &buf)?;
            buf.truncate(cqe.result as usize);
            Ok(Incoming { call_id: cqe.call_id, method: cqe_method(cqe.flags), params: buf, caps, badge: cqe.badge })
        }))
    }
}
// endregion: started-recv

/// A call delivered to a server by RECV.
#[derive(Debug)]
pub struct Incoming {
    /// What RETURN must name to answer this call.
    pub call_id: u32,
    /// The method ordinal the client called.
    pub method: u16,
    pub params: AlignedBuf,
    /// Caps the client sent (COPY or MOVE); they are now in this process's table.
    pub caps: Vec<ResultCap>,
    /// The badge of the client facet the call came through (0: unbadged; see
    /// `EndpointOwner::mint`). A release notice has method `RELEASED` and call id 0.
    pub badge: u64,
}

/// The method of a release notice: the last copy of the facet with the notice's badge is gone.
pub const RELEASED: u16 = 0xffff;

/// Points `sqe` at the transfer descriptors (none: address and count stay 0, as the ABI requires).
fn with_transfers(sqe: Sqe, transfers: &[Transfer]) -> Sqe {
    if transfers.is_empty() {
        return sqe;
    }
    Sqe { xfer_addr: transfers.as_ptr() as u64, xfer_count: transfers.len() as u32, ..sqe }
}

/// Turns a transport error or exception completion into an `Error`.
fn decode_completion(cqe: &Cqe, result: &mut AlignedBuf) -> Result<(), Error> {
    if cqe.result < 0 {
        return Err(Error::Transport(cqe.result));
    }
    let len = cqe.result as usize;
    if len > result.len() {
        return Err(Error::BadReply("result length past the buffer"));
    }
    if cqe.flags & CQE_EXCEPTION != 0 {
        return match exception::decode(&result[..len]) {
            Ok(e) => Err(Error::Exception(e)),
            Err(e) => Err(Error::from(e)),
        };
    }
    Ok(())
}

/// Reads the result-cap records that follow the payload.
fn result_caps(cqe: &Cqe, result: &AlignedBuf) -> Result<Vec<ResultCap>, Error> {
    let start = result_caps_offset(cqe.result as usize);
    (0..cqe.cap_count as usize)
        .map(|i| {
            let at = start + i * size_of::<ResultCap>();
            let bytes =
                result.get(at..at + size_of::<ResultCap>()).ok_or(Error::BadReply("result caps past the buffer"))?;
            // SAFETY: 16 in-range bytes; ResultCap is plain integers, valid for any bits.
            Ok(unsafe { core::ptr::read_unaligned(bytes.as_ptr() as *const ResultCap) })
        })
        .collect()
}

/// An owned capability: released when dropped.
pub struct Cap {
    id: u32,
    interface_id: u64,
    transport: Rc<Transport>,
}

impl Cap {
    /// Takes ownership of `id` (it will be released on drop).
    pub fn new(id: u32, interface_id: u64, transport: Rc<Transport>) -> Cap {
        Cap { id, interface_id, transport }
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    pub fn interface_id(&self) -> u64 {
        self.interface_id
    }

    pub fn transport(&self) -> &Rc<Transport> {
        &self.transport
    }

    pub fn call(&self, method: u16, params: &[u8], capacity: usize) -> Result<Reply, Error> {
        self.transport.call(self.id, method, params, capacity)
    }

    /// Forgets the cap without releasing it: a RETURN or CALL MOVEd it to another process, so
    /// this process's slot is already gone.
    pub fn moved(self) {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never used again; moving the Rc out drops the only copy held by it.
        drop(unsafe { core::ptr::read(&this.transport) });
    }

    /// Releases now, reporting the kernel's answer (drop ignores it).
    pub fn release(self) -> Result<(), Error> {
        let this = core::mem::ManuallyDrop::new(self);
        let result = this.transport.release(this.id);
        // SAFETY: `this` is never used again; moving the Rc out drops the only copy held by it.
        drop(unsafe { core::ptr::read(&this.transport) });
        result
    }
}

impl Drop for Cap {
    fn drop(&mut self) {
        // Nothing useful can be done about a failed release while dropping.
        let _ = self.transport.release(self.id);
    }
}

impl core::fmt::Debug for Cap {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Cap({:#x}, {})", self.id, capos_schema::ids::interface_name(self.interface_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ring::tests::{complete_all, page};

    #[test]
    fn completions_are_matched_by_user_data_in_any_order() {
        let mut p = page();
        // SAFETY: the page outlives the transport in this test.
        let t = Transport::new(unsafe { Ring::new(p.0.as_mut_ptr()) });
        let (a, b) = (t.next_user_data(), t.next_user_data());
        assert!(a != 0 && b != 0 && a != b, "user_data 0 is reserved for ring corruption reports");
        t.submit(&Sqe { opcode: OP_NOP, user_data: a, ..Sqe::default() }).unwrap();
        t.submit(&Sqe { opcode: OP_NOP, user_data: b, ..Sqe::default() }).unwrap();
        assert!(t.take_completion(b).is_none());
        complete_all(&mut p, 0);
        assert_eq!(t.take_completion(b).unwrap().user_data, b);
        assert_eq!(t.take_completion(a).unwrap().user_data, a, "the earlier completion was kept");
        assert!(t.take_completion(a).is_none());
    }

    #[test]
    fn exception_and_transport_errors_become_errors() {
        let mut buf = AlignedBuf::copy_from(&exception::encode(exception::ExceptionKind::Unimplemented, "no method 7"));
        let cqe = Cqe { result: buf.len() as i32, flags: CQE_EXCEPTION, ..Cqe::default() };
        match decode_completion(&cqe, &mut buf) {
            Err(Error::Exception(e)) => assert_eq!(e.reason, "no method 7"),
            other => panic!("expected an exception, got {other:?}"),
        }
        let cqe = Cqe { result: -3, ..Cqe::default() };
        assert_eq!(decode_completion(&cqe, &mut buf), Err(Error::Transport(-3)));
        let cqe = Cqe { result: buf.len() as i32 + 1, ..Cqe::default() };
        assert_eq!(decode_completion(&cqe, &mut buf), Err(Error::BadReply("result length past the buffer")));
    }

    #[test]
    fn transfers_are_pointed_at_only_when_there_are_some() {
        // The kernel refuses an SQE whose xfer fields are set with no transfers (E_BAD_SQE).
        let sqe = with_transfers(Sqe { opcode: OP_CALL, ..Sqe::default() }, &[]);
        assert_eq!((sqe.xfer_addr, sqe.xfer_count), (0, 0));
        let xfer = [Transfer { cap_id: 5, mode: 1 }, Transfer { cap_id: 6, mode: 0 }];
        let sqe = with_transfers(Sqe { opcode: OP_CALL, ..Sqe::default() }, &xfer);
        assert_eq!((sqe.xfer_addr, sqe.xfer_count), (xfer.as_ptr() as u64, 2));
        assert_eq!(sqe.opcode, OP_CALL, "the rest of the entry is kept");
    }

    #[test]
    fn result_caps_follow_the_aligned_payload() {
        let mut buf = AlignedBuf::zeroed(64);
        let record = ResultCap { cap_id: 0x0002_0005, _pad: 0, interface_id: 0xabc };
        // SAFETY (test): writes one record at offset 16 = align8(13) inside the 64-byte buffer.
        unsafe { core::ptr::write_unaligned(buf.as_mut_slice().as_mut_ptr().add(16) as *mut ResultCap, record) };
        let cqe = Cqe { result: 13, cap_count: 1, ..Cqe::default() };
        assert_eq!(result_caps(&cqe, &buf).unwrap(), [record]);
        let cqe = Cqe { result: 13, cap_count: 4, ..Cqe::default() };
        assert_eq!(result_caps(&cqe, &buf), Err(Error::BadReply("result caps past the buffer")));
    }
}
