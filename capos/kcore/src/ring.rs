//! The ring protocol: consuming SQEs from a process's ring page and posting CQEs.
//!
//! The kernel keeps its own copies of the indices it owns (`sq_head`, `cq_tail`) and only reads
//! the two that userspace owns (`sq_tail`, `cq_head`), so a process scribbling over the header
//! can confuse itself but never the kernel. Every SQE is decoded field by field from bytes.

use crate::captable::CapTable;
use crate::usermem::{validate, MemError, UserMemory};
use alloc::vec;
use alloc::vec::Vec;
use capos_abi::addr::RING_ADDR;
use capos_abi::err::*;
use capos_abi::ring::*;
use capos_abi::MAX_MSG;

const SQE_SIZE: u64 = 64;
const CQE_SIZE: u64 = 32;
const OFF_SQ_HEAD: u64 = 0;
const OFF_SQ_TAIL: u64 = 4;
const OFF_CQ_HEAD: u64 = 8;
const OFF_CQ_TAIL: u64 = 12;
const OFF_SQ_ENTRIES: u64 = 16;
const OFF_CQ_ENTRIES: u64 = 20;

// region: state
/// The kernel's private view of one ring.
#[derive(Clone, Debug, Default)]
pub struct RingState {
    /// Next SQE the kernel will consume (mirrored into the page, never read back).
    pub sq_head: u32,
    /// Next CQE slot the kernel will fill (mirrored into the page, never read back).
    pub cq_tail: u32,
    /// Accepted calls whose CQE is still owed; each holds a reserved CQ slot.
    pub inflight: u32,
    /// A corruption CQE could not be posted yet because the CQ was full.
    owe_corrupt: bool,
}

/// Where a call that completes later must write its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingCall {
    pub user_data: u64,
    pub result_addr: u64,
    pub result_len: u32,
}

/// What a cap object answered.
pub enum Outcome<C> {
    /// Success: a framed Cap'n Proto result message and caps to hand to the caller.
    Reply { data: Vec<u8>, caps: Vec<(C, u64)> },
    /// The call failed at a valid cap: a framed, serialized CapException.
    Exception(Vec<u8>),
    /// The object kept the [`PendingCall`] and will complete it through [`complete`].
    Pending,
    /// The object refused the entry with a transport error (e.g. `E_BAD_TRANSFER` for caps sent
    /// to an object that takes none); MOVEd caps stay with the sender.
    Refused(i32),
}

/// A CALL as the cap object sees it: method, params, and the caps the caller transferred.
pub struct Request<'a, C> {
    pub method: u16,
    pub params: &'a [u8],
    pub transfer: Vec<(C, u64)>,
    pub pending: PendingCall,
}

/// The kernel's side of the ring: everything that depends on what the cap objects are.
pub trait Dispatch<C> {
    /// Invokes a CALL on `cap`. `caps` is the caller's table (for COPY grants).
    fn call(&mut self, cap: &C, req: Request<'_, C>, caps: &CapTable<C>) -> Outcome<C>;
    /// A RECV on `cap`: [`Outcome::Pending`] when the object will deliver a call later.
    fn recv(&mut self, cap: &C, pending: PendingCall) -> Outcome<C>;
    /// A RETURN of `call_id` through `cap` with a result (or, if `exception`, a CapException)
    /// and returned caps. Ok means accepted: the caps now belong to the caller.
    fn ret(&mut self, cap: &C, call_id: u32, data: Vec<u8>, exception: bool, caps: Vec<(C, u64)>) -> Result<(), i32>;
    /// The interface id of `cap` if it may travel in a transfer descriptor, else None.
    fn transferable(&self, cap: &C) -> Option<u64>;
    /// A serialized CapException for "your cap table is full" (result caps could not be stored).
    fn table_full(&mut self) -> Vec<u8>;
    /// Called for every transport error the ring answers (for optional tracing).
    fn transport_error(&mut self, _sqe: &Sqe, _code: i32) {}
}
// endregion: state

/// Writes the fixed header fields of a fresh ring page.
pub fn init(mem: &mut dyn UserMemory) -> Result<(), MemError> {
    mem.write(RING_ADDR + OFF_SQ_ENTRIES, &SQ_ENTRIES.to_le_bytes())?;
    mem.write(RING_ADDR + OFF_CQ_ENTRIES, &CQ_ENTRIES.to_le_bytes())
}

fn read_u32(mem: &dyn UserMemory, addr: u64) -> Result<u32, MemError> {
    let mut b = [0u8; 4];
    mem.read(addr, &mut b)?;
    Ok(u32::from_le_bytes(b))
}

fn le64(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().unwrap_or([0; 8]))
}
fn le32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap_or([0; 4]))
}

/// Decodes an SQE from its 64 bytes (no trust in alignment or contents).
pub fn decode_sqe(b: &[u8; 64]) -> Sqe {
    Sqe {
        opcode: b[0],
        flags: b[1],
        method_id: u16::from_le_bytes([b[2], b[3]]),
        cap_id: le32(b, 4),
        user_data: le64(b, 8),
        params_addr: le64(b, 16),
        params_len: le32(b, 24),
        result_len: le32(b, 28),
        result_addr: le64(b, 32),
        xfer_addr: le64(b, 40),
        xfer_count: le32(b, 48),
        call_id: le32(b, 52),
        _reserved: le64(b, 56),
    }
}

/// Encodes an SQE (used by tests and by anyone building rings by hand).
pub fn encode_sqe(s: &Sqe) -> [u8; 64] {
    let mut b = [0u8; 64];
    b[0] = s.opcode;
    b[1] = s.flags;
    b[2..4].copy_from_slice(&s.method_id.to_le_bytes());
    b[4..8].copy_from_slice(&s.cap_id.to_le_bytes());
    b[8..16].copy_from_slice(&s.user_data.to_le_bytes());
    b[16..24].copy_from_slice(&s.params_addr.to_le_bytes());
    b[24..28].copy_from_slice(&s.params_len.to_le_bytes());
    b[28..32].copy_from_slice(&s.result_len.to_le_bytes());
    b[32..40].copy_from_slice(&s.result_addr.to_le_bytes());
    b[40..48].copy_from_slice(&s.xfer_addr.to_le_bytes());
    b[48..52].copy_from_slice(&s.xfer_count.to_le_bytes());
    b[52..56].copy_from_slice(&s.call_id.to_le_bytes());
    b[56..64].copy_from_slice(&s._reserved.to_le_bytes());
    b
}

pub fn encode_cqe(c: &Cqe) -> [u8; 32] {
    let mut b = [0u8; 32];
    b[0..8].copy_from_slice(&c.user_data.to_le_bytes());
    b[8..12].copy_from_slice(&c.result.to_le_bytes());
    b[12..16].copy_from_slice(&c.flags.to_le_bytes());
    b[16..20].copy_from_slice(&c.cap_count.to_le_bytes());
    b[20..24].copy_from_slice(&c.call_id.to_le_bytes());
    b[24..32].copy_from_slice(&c.badge.to_le_bytes());
    b
}

pub fn decode_cqe(b: &[u8; 32]) -> Cqe {
    Cqe {
        user_data: le64(b, 0),
        result: le32(b, 8) as i32,
        flags: le32(b, 12),
        cap_count: le32(b, 16),
        call_id: le32(b, 20),
        badge: le64(b, 24),
    }
}

// region: cq
/// CQEs posted and not yet consumed, or None when userspace's `cq_head` is impossible.
fn cq_used(mem: &dyn UserMemory, st: &RingState) -> Result<Option<u32>, MemError> {
    let head = read_u32(mem, RING_ADDR + OFF_CQ_HEAD)?;
    let used = st.cq_tail.wrapping_sub(head);
    Ok(if used > CQ_ENTRIES { None } else { Some(used) })
}

/// Completions ready for userspace (0 when the CQ head is corrupt: nothing trustworthy is there).
pub fn available(mem: &dyn UserMemory, st: &RingState) -> Result<u32, MemError> {
    Ok(cq_used(mem, st)?.unwrap_or(0))
}

fn post(mem: &mut dyn UserMemory, st: &mut RingState, cqe: &Cqe) -> Result<(), MemError> {
    let slot = (st.cq_tail % CQ_ENTRIES) as u64;
    mem.write(RING_ADDR + CQ_OFFSET as u64 + slot * CQE_SIZE, &encode_cqe(cqe))?;
    st.cq_tail = st.cq_tail.wrapping_add(1);
    mem.write(RING_ADDR + OFF_CQ_TAIL, &st.cq_tail.to_le_bytes())
}

fn error_cqe(user_data: u64, code: i32) -> Cqe {
    Cqe { user_data, result: code, ..Cqe::default() }
}
// endregion: cq

// region: submit
/// Consumes submitted SQEs while the CQ has room, posting a CQE for each (or leaving it to the
/// cap object when it answers [`Outcome::Pending`]). Errors mean the ring page itself is not
/// accessible, which the kernel never allows to happen for a live process.
pub fn submit<C: Clone>(
    mem: &mut dyn UserMemory,
    st: &mut RingState,
    table: &mut CapTable<C>,
    d: &mut dyn Dispatch<C>,
) -> Result<(), MemError> {
    let sq_tail = read_u32(mem, RING_ADDR + OFF_SQ_TAIL)?;
    let used = match cq_used(mem, st)? {
        Some(u) => u,
        None => {
            // Userspace's CQ head is impossible: treat every CQE as consumed and say so.
            mem.write(RING_ADDR + OFF_CQ_HEAD, &st.cq_tail.to_le_bytes())?;
            st.owe_corrupt = true;
            0
        }
    };
    if sq_tail.wrapping_sub(st.sq_head) > SQ_ENTRIES {
        st.sq_head = sq_tail;
        st.owe_corrupt = true;
    }
    let mut room = CQ_ENTRIES.saturating_sub(used + st.inflight);
    if st.owe_corrupt && room > 0 {
        post(mem, st, &error_cqe(0, E_RING_CORRUPT))?;
        st.owe_corrupt = false;
        room -= 1;
    }
    while st.sq_head != sq_tail && room > 0 {
        let slot = (st.sq_head % SQ_ENTRIES) as u64;
        let mut raw = [0u8; 64];
        mem.read(RING_ADDR + SQ_OFFSET as u64 + slot * SQE_SIZE, &mut raw)?;
        st.sq_head = st.sq_head.wrapping_add(1);
        let sqe = decode_sqe(&raw);
        room -= 1;
        match execute(mem, table, d, &sqe) {
            Some(cqe) => {
                if cqe.result < 0 {
                    d.transport_error(&sqe, cqe.result);
                }
                post(mem, st, &cqe)?
            }
            None => st.inflight += 1,
        }
    }
    mem.write(RING_ADDR + OFF_SQ_HEAD, &st.sq_head.to_le_bytes())
}

/// Runs one SQE; None when the call is pending.
fn execute<C: Clone>(
    mem: &mut dyn UserMemory,
    table: &mut CapTable<C>,
    d: &mut dyn Dispatch<C>,
    s: &Sqe,
) -> Option<Cqe> {
    let no_transfer = s.flags == 0 && s.xfer_addr == 0 && s.xfer_count == 0 && s.call_id == 0 && s._reserved == 0;
    let no_buffers = s.params_addr == 0 && s.params_len == 0 && s.result_addr == 0 && s.result_len == 0;
    let done = Some(error_cqe(s.user_data, 0));
    let step = match s.opcode {
        OP_NOP if no_transfer && no_buffers && s.cap_id == 0 && s.method_id == 0 => Ok(done),
        OP_RELEASE if no_transfer && no_buffers && s.method_id == 0 => {
            table.remove(s.cap_id).map(|_| done).ok_or(E_BAD_CAP)
        }
        OP_NOP | OP_RELEASE => Err(E_BAD_SQE),
        OP_CALL => call(mem, table, d, s),
        OP_RECV => recv(mem, table, d, s),
        OP_RETURN => ret(mem, table, d, s),
        _ => Err(E_BAD_OPCODE),
    };
    step.unwrap_or_else(|code| Some(error_cqe(s.user_data, code)))
}
// endregion: submit

// region: call
/// Validates and performs a CALL: Ok(Some(cqe)) when finished, Ok(None) when pending,
/// Err(code) for a transport error.
fn call<C: Clone>(
    mem: &mut dyn UserMemory,
    table: &mut CapTable<C>,
    d: &mut dyn Dispatch<C>,
    s: &Sqe,
) -> Result<Option<Cqe>, i32> {
    if s.flags != 0 || s.call_id != 0 || s._reserved != 0 {
        return Err(E_BAD_SQE);
    }
    let cap = table.get(s.cap_id).cloned().ok_or(E_BAD_CAP)?;
    let params = read_params(mem, s)?;
    let pending = result_buffer(mem, s)?;
    let Transfers { caps: transfer, moves } = read_transfers(mem, table, d, s)?;
    let req = Request { method: s.method_id, params: &params, transfer, pending };
    let outcome = d.call(&cap, req, table);
    if matches!(outcome, Outcome::Pending | Outcome::Reply { .. }) {
        commit(table, &moves);
    }
    match outcome {
        Outcome::Pending => Ok(None),
        Outcome::Refused(code) => Err(code),
        done => Ok(Some(finish(mem, table, d, pending, done))),
    }
}

/// Checks and copies in the params buffer (CALL's params, RETURN's result).
fn read_params(mem: &dyn UserMemory, s: &Sqe) -> Result<Vec<u8>, i32> {
    if s.params_len as usize > MAX_MSG {
        return Err(E_TOO_LARGE);
    }
    validate(mem, s.params_addr, s.params_len as u64, false).map_err(|_| E_BAD_BUFFER)?;
    let mut params = vec![0u8; s.params_len as usize];
    mem.read(s.params_addr, &mut params).map_err(|_| E_BAD_BUFFER)?;
    Ok(params)
}

/// Checks the result buffer and records where the answer must go.
fn result_buffer(mem: &dyn UserMemory, s: &Sqe) -> Result<PendingCall, i32> {
    if s.result_len as usize > MAX_MSG {
        return Err(E_TOO_LARGE);
    }
    validate(mem, s.result_addr, s.result_len as u64, true).map_err(|_| E_BAD_BUFFER)?;
    Ok(PendingCall { user_data: s.user_data, result_addr: s.result_addr, result_len: s.result_len })
}
// endregion: call

// region: transfer
/// The caps a CALL or RETURN carries (cloned, with their interface ids), and which of the
/// sender's ids to remove when the message is accepted.
struct Transfers<C> {
    caps: Vec<(C, u64)>,
    moves: Vec<u32>,
}

/// Reads and checks the transfer descriptors of a CALL or RETURN. Nothing changes hands here:
/// the caps are cloned, and the ids to MOVE are returned for [`commit`], which removes them only
/// once the receiving object accepted the message. Until then a refusal needs no rollback.
fn read_transfers<C: Clone>(
    mem: &dyn UserMemory,
    table: &CapTable<C>,
    d: &dyn Dispatch<C>,
    s: &Sqe,
) -> Result<Transfers<C>, i32> {
    if s.xfer_count == 0 || s.xfer_addr == 0 {
        let none = Transfers { caps: Vec::new(), moves: Vec::new() };
        return if s.xfer_count == 0 && s.xfer_addr == 0 { Ok(none) } else { Err(E_BAD_SQE) };
    }
    if s.xfer_count > MAX_TRANSFERS {
        return Err(E_BAD_TRANSFER);
    }
    let len = s.xfer_count as u64 * core::mem::size_of::<Transfer>() as u64;
    validate(mem, s.xfer_addr, len, false).map_err(|_| E_BAD_BUFFER)?;
    let mut raw = vec![0u8; len as usize];
    mem.read(s.xfer_addr, &mut raw).map_err(|_| E_BAD_BUFFER)?;
    let descs: Vec<Transfer> = raw.chunks_exact(8).map(|b| Transfer { cap_id: le32(b, 0), mode: le32(b, 4) }).collect();
    let mut caps = Vec::new();
    let mut moves = Vec::new();
    for t in &descs {
        let cap = table.get(t.cap_id).ok_or(E_BAD_CAP)?;
        let interface_id = d.transferable(cap).ok_or(E_BAD_TRANSFER)?;
        match t.mode {
            XFER_COPY => {}
            // A cap moved away by the very entry that uses it, or moved twice, is contradictory.
            XFER_MOVE if t.cap_id != s.cap_id && !moves.contains(&t.cap_id) => moves.push(t.cap_id),
            _ => return Err(E_BAD_TRANSFER),
        }
        caps.push((cap.clone(), interface_id));
    }
    if descs.iter().any(|t| t.mode == XFER_COPY && moves.contains(&t.cap_id)) {
        return Err(E_BAD_TRANSFER);
    }
    Ok(Transfers { caps, moves })
}

/// The message was accepted: MOVEd slots leave the sender's table (their ids go stale).
fn commit<C>(table: &mut CapTable<C>, moves: &[u32]) {
    for id in moves {
        table.remove(*id);
    }
}
// endregion: transfer

// region: recv-return
/// RECV: wait on an endpoint's owner facet for the next call, delivered into the result buffer.
fn recv<C: Clone>(
    mem: &mut dyn UserMemory,
    table: &mut CapTable<C>,
    d: &mut dyn Dispatch<C>,
    s: &Sqe,
) -> Result<Option<Cqe>, i32> {
    let unused = s.flags == 0 && s.method_id == 0 && s.params_addr == 0 && s.params_len == 0;
    if !(unused && s.xfer_addr == 0 && s.xfer_count == 0 && s.call_id == 0 && s._reserved == 0) {
        return Err(E_BAD_SQE);
    }
    let cap = table.get(s.cap_id).cloned().ok_or(E_BAD_CAP)?;
    let pending = result_buffer(mem, s)?;
    match d.recv(&cap, pending) {
        Outcome::Pending => Ok(None),
        Outcome::Refused(code) => Err(code),
        done => Ok(Some(finish(mem, table, d, pending, done))),
    }
}

/// RETURN: answer call `call_id` with the params buffer as its result and the transferred caps
/// as its result caps. Completes at once with 0; the caller's CQE is the kernel's business.
fn ret<C: Clone>(
    mem: &mut dyn UserMemory,
    table: &mut CapTable<C>,
    d: &mut dyn Dispatch<C>,
    s: &Sqe,
) -> Result<Option<Cqe>, i32> {
    let unused = s.method_id == 0 && s.result_addr == 0 && s.result_len == 0 && s._reserved == 0;
    if !unused || s.flags & !SQE_RETURN_EXCEPTION != 0 {
        return Err(E_BAD_SQE);
    }
    let cap = table.get(s.cap_id).cloned().ok_or(E_BAD_CAP)?;
    let data = read_params(mem, s)?;
    let Transfers { caps, moves } = read_transfers(mem, table, d, s)?;
    d.ret(&cap, s.call_id, data, s.flags & SQE_RETURN_EXCEPTION != 0, caps)?;
    commit(table, &moves);
    Ok(Some(Cqe { user_data: s.user_data, ..Cqe::default() }))
}
// endregion: recv-return

// region: finish
/// Writes a finished outcome into the caller's result buffer and returns its CQE. Result caps
/// enter the caller's table only once the payload is known to fit.
fn finish<C>(
    mem: &mut dyn UserMemory,
    table: &mut CapTable<C>,
    d: &mut dyn Dispatch<C>,
    p: PendingCall,
    outcome: Outcome<C>,
) -> Cqe {
    let (mut data, mut caps, mut flags) = match outcome {
        Outcome::Reply { data, caps } => (data, caps, 0),
        Outcome::Exception(data) => (data, Vec::new(), CQE_EXCEPTION),
        Outcome::Pending => return error_cqe(p.user_data, E_UNSUPPORTED),
        Outcome::Refused(code) => return error_cqe(p.user_data, code),
    };
    if caps.len() > table.room() {
        (data, caps, flags) = (d.table_full(), Vec::new(), CQE_EXCEPTION);
    }
    let total = if caps.is_empty() { data.len() } else { result_caps_offset(data.len()) + caps.len() * 16 };
    if total > p.result_len as usize {
        return error_cqe(p.user_data, E_RESULT_TOO_SMALL);
    }
    if mem.write(p.result_addr, &data).is_err() {
        return error_cqe(p.user_data, E_BAD_BUFFER);
    }
    let mut at = p.result_addr + result_caps_offset(data.len()) as u64;
    let cap_count = caps.len() as u32;
    for (object, interface_id) in caps {
        let Ok(id) = table.insert(object) else { return error_cqe(p.user_data, E_BAD_CAP) };
        let mut b = [0u8; 16];
        b[0..4].copy_from_slice(&id.to_le_bytes());
        b[8..16].copy_from_slice(&interface_id.to_le_bytes());
        if mem.write(at, &b).is_err() {
            return error_cqe(p.user_data, E_BAD_BUFFER);
        }
        at += 16;
    }
    Cqe { user_data: p.user_data, result: data.len() as i32, flags, cap_count, call_id: 0, badge: 0 }
}

/// Completes a call that was left [`Outcome::Pending`], releasing its reserved CQ slot.
pub fn complete<C>(
    mem: &mut dyn UserMemory,
    st: &mut RingState,
    table: &mut CapTable<C>,
    d: &mut dyn Dispatch<C>,
    p: PendingCall,
    outcome: Outcome<C>,
) -> Result<(), MemError> {
    let cqe = finish(mem, table, d, p, outcome);
    st.inflight = st.inflight.saturating_sub(1);
    post(mem, st, &cqe)
}

/// Completes a pending RECV with a delivered call: the params as payload, the transferred caps
/// as result-cap records, the call id and method in the CQE. Returns whether the server got it
/// (false when its buffer or cap table was too small: it then got that error instead).
#[allow(clippy::too_many_arguments)]
pub fn deliver<C>(
    mem: &mut dyn UserMemory,
    st: &mut RingState,
    table: &mut CapTable<C>,
    d: &mut dyn Dispatch<C>,
    p: PendingCall,
    call_id: u32,
    method: u16,
    message: (Vec<u8>, Vec<(C, u64)>),
    badge: u64,
) -> Result<bool, MemError> {
    let mut cqe = finish(mem, table, d, p, Outcome::Reply { data: message.0, caps: message.1 });
    let ok = cqe.result >= 0 && cqe.flags & CQE_EXCEPTION == 0;
    if ok {
        cqe.call_id = call_id;
        cqe.badge = badge;
        cqe.flags |= (method as u32) << CQE_METHOD_SHIFT;
    }
    st.inflight = st.inflight.saturating_sub(1);
    post(mem, st, &cqe)?;
    Ok(ok)
}
// endregion: finish

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usermem::fake::FakeMemory;
    use alloc::rc::Rc;
    use core::cell::RefCell;

    /// A test cap: answers method 0 with the params echoed, method 1 with a new cap, method 2 by
    /// keeping the call pending, anything else with an exception.
    #[derive(Clone, Debug, PartialEq)]
    struct Obj(u32);

    /// Transfers: method 3 accepts the caps (pending), method 4 refuses with an exception; any
    /// other method refuses caps with `E_BAD_TRANSFER`. Obj(666) is not transferable. RECV is
    /// unsupported; RETURN succeeds for call id 5 only.
    /// A RETURN the test dispatcher accepted: call id, data, exception flag, caps.
    type Returned = (u32, Vec<u8>, bool, Vec<(Obj, u64)>);

    struct Disp {
        pending: Rc<RefCell<Vec<PendingCall>>>,
        errors: Vec<i32>,
        received: Vec<Vec<(Obj, u64)>>,
        returned: Vec<Returned>,
    }

    impl Dispatch<Obj> for Disp {
        fn call(&mut self, cap: &Obj, req: Request<'_, Obj>, _t: &CapTable<Obj>) -> Outcome<Obj> {
            match req.method {
                3 => {
                    self.received.push(req.transfer);
                    self.pending.borrow_mut().push(req.pending);
                    return Outcome::Pending;
                }
                4 => return Outcome::Exception(b"full".to_vec()),
                _ if !req.transfer.is_empty() => return Outcome::Refused(E_BAD_TRANSFER),
                _ => {}
            }
            match req.method {
                0 => Outcome::Reply { data: req.params.to_vec(), caps: Vec::new() },
                1 => Outcome::Reply { data: vec![1, 2, 3], caps: vec![(Obj(cap.0 + 100), 0xabcd)] },
                2 => {
                    self.pending.borrow_mut().push(req.pending);
                    Outcome::Pending
                }
                _ => Outcome::Exception(b"nope".to_vec()),
            }
        }
        fn recv(&mut self, _cap: &Obj, _p: PendingCall) -> Outcome<Obj> {
            Outcome::Refused(E_UNSUPPORTED)
        }
        fn ret(
            &mut self,
            _cap: &Obj,
            call_id: u32,
            data: Vec<u8>,
            exc: bool,
            caps: Vec<(Obj, u64)>,
        ) -> Result<(), i32> {
            if call_id != 5 {
                return Err(E_BAD_CALL_ID);
            }
            self.returned.push((call_id, data, exc, caps));
            Ok(())
        }
        fn transferable(&self, cap: &Obj) -> Option<u64> {
            (cap.0 != 666).then_some(0x77)
        }
        fn table_full(&mut self) -> Vec<u8> {
            b"full".to_vec()
        }
        fn transport_error(&mut self, _sqe: &Sqe, code: i32) {
            self.errors.push(code);
        }
    }

    const BUF: u64 = 0x40_0000;
    const RO: u64 = 0x50_0000;

    struct World {
        mem: FakeMemory,
        st: RingState,
        table: CapTable<Obj>,
        d: Disp,
        cap: u32,
    }

    fn world() -> World {
        let mut mem = FakeMemory::new();
        mem.map(RING_ADDR, 4096, true);
        mem.map(BUF, 0x20000, true);
        mem.map(RO, 0x1000, false);
        init(&mut mem).unwrap();
        let mut table = CapTable::new();
        let cap = table.insert(Obj(7)).unwrap();
        World {
            mem,
            st: RingState::default(),
            table,
            d: Disp {
                pending: Rc::new(RefCell::new(Vec::new())),
                errors: Vec::new(),
                received: Vec::new(),
                returned: Vec::new(),
            },
            cap,
        }
    }

    impl World {
        fn hdr(&self, off: u64) -> u32 {
            read_u32(&self.mem, RING_ADDR + off).unwrap()
        }
        fn set_hdr(&mut self, off: u64, v: u32) {
            self.mem.write(RING_ADDR + off, &v.to_le_bytes()).unwrap();
        }
        /// Writes SQEs at the current tail and publishes them.
        fn push(&mut self, sqes: &[Sqe]) {
            let mut tail = self.hdr(OFF_SQ_TAIL);
            for s in sqes {
                let slot = (tail % SQ_ENTRIES) as u64;
                self.mem.write(RING_ADDR + SQ_OFFSET as u64 + slot * 64, &encode_sqe(s)).unwrap();
                tail = tail.wrapping_add(1);
            }
            self.set_hdr(OFF_SQ_TAIL, tail);
        }
        fn run(&mut self) {
            submit(&mut self.mem, &mut self.st, &mut self.table, &mut self.d).unwrap();
        }
        /// Pops every available CQE (as userspace would).
        fn pop(&mut self) -> Vec<Cqe> {
            let mut head = self.hdr(OFF_CQ_HEAD);
            let tail = self.hdr(OFF_CQ_TAIL);
            let mut out = Vec::new();
            while head != tail {
                let mut b = [0u8; 32];
                self.mem.read(RING_ADDR + CQ_OFFSET as u64 + (head % CQ_ENTRIES) as u64 * 32, &mut b).unwrap();
                out.push(decode_cqe(&b));
                head = head.wrapping_add(1);
            }
            self.set_hdr(OFF_CQ_HEAD, head);
            out
        }
        fn call(&self, method: u16, params: &[u8], ud: u64) -> Sqe {
            Sqe {
                opcode: OP_CALL,
                method_id: method,
                cap_id: self.cap,
                user_data: ud,
                params_addr: BUF,
                params_len: params.len() as u32,
                result_addr: BUF + 0x10000,
                result_len: 0x1000,
                ..Sqe::default()
            }
        }
    }

    fn results(cqes: &[Cqe]) -> Vec<(u64, i32)> {
        cqes.iter().map(|c| (c.user_data, c.result)).collect()
    }

    #[test]
    fn call_echoes_and_nop_completes() {
        let mut w = world();
        w.mem.write(BUF, b"params!").unwrap();
        let call = w.call(0, b"params!", 11);
        w.push(&[call, Sqe { opcode: OP_NOP, user_data: 12, ..Sqe::default() }]);
        w.run();
        let c = w.pop();
        assert_eq!(results(&c), vec![(11, 7), (12, 0)]);
        let mut out = [0u8; 7];
        w.mem.read(BUF + 0x10000, &mut out).unwrap();
        assert_eq!(&out, b"params!");
        assert_eq!(w.hdr(OFF_SQ_HEAD), 2);
    }

    #[test]
    fn result_caps_follow_payload_and_enter_table() {
        let mut w = world();
        let call = w.call(1, b"", 5);
        w.push(&[call]);
        w.run();
        let c = w.pop();
        assert_eq!((c[0].result, c[0].cap_count, c[0].flags), (3, 1, 0));
        let mut rec = [0u8; 16];
        w.mem.read(BUF + 0x10000 + 8, &mut rec).unwrap();
        let id = u32::from_le_bytes(rec[0..4].try_into().unwrap());
        assert_eq!(u64::from_le_bytes(rec[8..16].try_into().unwrap()), 0xabcd);
        assert_eq!(w.table.get(id), Some(&Obj(107)));
    }

    #[test]
    fn exception_sets_flag() {
        let mut w = world();
        let call = w.call(9, b"", 1);
        w.push(&[call]);
        w.run();
        let c = w.pop();
        assert_eq!((c[0].result, c[0].flags), (4, CQE_EXCEPTION));
    }

    #[test]
    fn hostile_entries_get_specific_errors() {
        let mut w = world();
        let good = w.call(0, b"", 0);
        let cases: Vec<(Sqe, i32)> = vec![
            (Sqe { opcode: 99, ..good }, E_BAD_OPCODE),
            (Sqe { flags: 1, ..good }, E_BAD_SQE),
            (Sqe { _reserved: 1, ..good }, E_BAD_SQE),
            (Sqe { xfer_count: 1, ..good }, E_BAD_SQE),
            (Sqe { call_id: 3, ..good }, E_BAD_SQE),
            (Sqe { cap_id: 0, ..good }, E_BAD_CAP),
            (Sqe { cap_id: good.cap_id + 0x10000, ..good }, E_BAD_CAP),
            (Sqe { params_len: MAX_MSG as u32 + 1, ..good }, E_TOO_LARGE),
            (Sqe { result_len: u32::MAX, ..good }, E_TOO_LARGE),
            (Sqe { params_addr: 0xffff_8000_0000_0000, params_len: 8, ..good }, E_BAD_BUFFER),
            (Sqe { params_addr: u64::MAX - 3, params_len: 8, ..good }, E_BAD_BUFFER),
            (Sqe { params_addr: 0x1000, params_len: 8, ..good }, E_BAD_BUFFER),
            (Sqe { result_addr: RO, ..good }, E_BAD_BUFFER),
            (Sqe { result_addr: BUF + 0x20000 - 8, result_len: 16, ..good }, E_BAD_BUFFER),
            (Sqe { opcode: OP_NOP, cap_id: 1, ..Sqe::default() }, E_BAD_SQE),
            (Sqe { opcode: OP_RECV, ..Sqe::default() }, E_BAD_CAP),
            (Sqe { opcode: OP_RECV, cap_id: good.cap_id, ..Sqe::default() }, E_UNSUPPORTED),
            (Sqe { opcode: OP_RECV, cap_id: good.cap_id, method_id: 1, ..Sqe::default() }, E_BAD_SQE),
            (
                Sqe { opcode: OP_RECV, cap_id: good.cap_id, result_addr: RO, result_len: 8, ..Sqe::default() },
                E_BAD_BUFFER,
            ),
            (Sqe { opcode: OP_RETURN, ..Sqe::default() }, E_BAD_CAP),
            (Sqe { opcode: OP_RETURN, cap_id: good.cap_id, call_id: 4, ..Sqe::default() }, E_BAD_CALL_ID),
            (Sqe { opcode: OP_RETURN, cap_id: good.cap_id, call_id: 5, flags: 2, ..Sqe::default() }, E_BAD_SQE),
            (Sqe { opcode: OP_RETURN, cap_id: good.cap_id, call_id: 5, result_len: 1, ..Sqe::default() }, E_BAD_SQE),
            (Sqe { xfer_addr: BUF, ..good }, E_BAD_SQE),
            (Sqe { xfer_addr: BUF, xfer_count: MAX_TRANSFERS + 1, ..good }, E_BAD_TRANSFER),
            (Sqe { xfer_addr: 0xffff_8000_0000_0000, xfer_count: 1, ..good }, E_BAD_BUFFER),
            (Sqe { opcode: OP_RELEASE, cap_id: 12345, ..Sqe::default() }, E_BAD_CAP),
            (Sqe { opcode: OP_RELEASE, cap_id: good.cap_id, params_len: 1, ..Sqe::default() }, E_BAD_SQE),
        ];
        for (i, (sqe, want)) in cases.iter().enumerate() {
            w.push(&[Sqe { user_data: i as u64 + 1, ..*sqe }]);
            w.run();
            let c = w.pop();
            assert_eq!(results(&c), vec![(i as u64 + 1, *want)], "case {i}: {sqe:?}");
        }
        // Every one of them was reported to the tracing hook, in order.
        assert_eq!(w.d.errors, cases.iter().map(|c| c.1).collect::<Vec<_>>());
        // The cap survived all of that.
        assert_eq!(w.table.get(w.cap), Some(&Obj(7)));
    }

    #[test]
    fn result_too_small_is_reported() {
        let mut w = world();
        w.mem.write(BUF, &[9; 64]).unwrap();
        let call = Sqe { result_len: 8, ..w.call(0, &[9; 64], 4) };
        w.push(&[call]);
        w.run();
        assert_eq!(results(&w.pop()), vec![(4, E_RESULT_TOO_SMALL)]);
    }

    #[test]
    fn release_then_stale_id_is_bad_cap() {
        let mut w = world();
        w.push(&[Sqe { opcode: OP_RELEASE, cap_id: w.cap, user_data: 1, ..Sqe::default() }]);
        w.run();
        let call = w.call(0, b"", 2);
        w.push(&[call]);
        w.run();
        assert_eq!(results(&w.pop()), vec![(1, 0), (2, E_BAD_CAP)]);
    }

    #[test]
    fn corrupted_sq_tail_drains_and_reports() {
        let mut w = world();
        w.set_hdr(OFF_SQ_TAIL, 1000);
        w.run();
        assert_eq!(results(&w.pop()), vec![(0, E_RING_CORRUPT)]);
        assert_eq!(w.hdr(OFF_SQ_HEAD), 1000);
        // The ring works again afterwards.
        w.push(&[Sqe { opcode: OP_NOP, user_data: 3, ..Sqe::default() }]);
        w.run();
        assert_eq!(results(&w.pop()), vec![(3, 0)]);
    }

    #[test]
    fn corrupted_cq_head_resets_and_reports() {
        let mut w = world();
        w.set_hdr(OFF_CQ_HEAD, 77);
        w.push(&[Sqe { opcode: OP_NOP, user_data: 8, ..Sqe::default() }]);
        w.run();
        assert_eq!(results(&w.pop()), vec![(0, E_RING_CORRUPT), (8, 0)]);
    }

    #[test]
    fn kernel_ignores_user_writes_to_its_indices() {
        let mut w = world();
        w.push(&[Sqe { opcode: OP_NOP, user_data: 1, ..Sqe::default() }]);
        w.run();
        w.pop();
        w.set_hdr(OFF_SQ_HEAD, 500);
        w.set_hdr(OFF_CQ_TAIL, 900);
        w.push(&[Sqe { opcode: OP_NOP, user_data: 2, ..Sqe::default() }]);
        w.run();
        assert_eq!(w.hdr(OFF_SQ_HEAD), 2);
        assert_eq!(w.hdr(OFF_CQ_TAIL), 2);
    }

    #[test]
    fn full_cq_leaves_sqes_queued() {
        let mut w = world();
        for round in 0..3 {
            let nops: Vec<Sqe> =
                (0..16).map(|i| Sqe { opcode: OP_NOP, user_data: round * 16 + i, ..Sqe::default() }).collect();
            w.push(&nops);
            w.run();
        }
        // 32 CQEs fit; the last 16 SQEs wait.
        assert_eq!(w.hdr(OFF_CQ_TAIL), 32);
        assert_eq!(w.hdr(OFF_SQ_HEAD), 32);
        assert_eq!(w.pop().len(), 32);
        w.run();
        let rest = w.pop();
        assert_eq!(rest.len(), 16);
        assert_eq!(rest[0].user_data, 32);
    }

    #[test]
    fn pending_call_reserves_a_slot_and_completes_later() {
        let mut w = world();
        let call = w.call(2, b"", 42);
        w.push(&[call]);
        w.run();
        assert!(w.pop().is_empty());
        assert_eq!(w.st.inflight, 1);
        // 31 NOPs fill the rest of the CQ; the 32nd must wait for the pending call's slot.
        let nops: Vec<Sqe> = (0..16).map(|i| Sqe { opcode: OP_NOP, user_data: i, ..Sqe::default() }).collect();
        w.push(&nops);
        w.run();
        w.push(&nops);
        w.run();
        assert_eq!(w.hdr(OFF_CQ_TAIL), 31);
        let p = w.d.pending.borrow_mut().pop().unwrap();
        complete(
            &mut w.mem,
            &mut w.st,
            &mut w.table,
            &mut w.d,
            p,
            Outcome::Reply { data: vec![5; 3], caps: Vec::new() },
        )
        .unwrap();
        assert_eq!(w.st.inflight, 0);
        let c = w.pop();
        assert_eq!(c.len(), 32);
        assert_eq!((c[31].user_data, c[31].result), (42, 3));
        w.run();
        assert_eq!(w.pop().len(), 1);
    }

    // region: transfer-tests
    const XFER: u64 = BUF + 0x8000;

    impl World {
        fn transfers(&mut self, list: &[(u32, u32)]) -> Sqe {
            for (i, (id, mode)) in list.iter().enumerate() {
                let mut b = [0u8; 8];
                b[0..4].copy_from_slice(&id.to_le_bytes());
                b[4..8].copy_from_slice(&mode.to_le_bytes());
                self.mem.write(XFER + i as u64 * 8, &b).unwrap();
            }
            Sqe { xfer_addr: XFER, xfer_count: list.len() as u32, ..Sqe::default() }
        }
        fn call_with(&mut self, method: u16, list: &[(u32, u32)], ud: u64) -> Vec<Cqe> {
            let x = self.transfers(list);
            let sqe = Sqe { xfer_addr: x.xfer_addr, xfer_count: x.xfer_count, ..self.call(method, b"", ud) };
            self.push(&[sqe]);
            self.run();
            self.pop()
        }
    }

    #[test]
    fn copy_keeps_and_move_removes_the_source_on_commit() {
        let mut w = world();
        let a = w.table.insert(Obj(1)).unwrap();
        let b = w.table.insert(Obj(2)).unwrap();
        assert!(w.call_with(3, &[(a, XFER_COPY), (b, XFER_MOVE)], 1).is_empty(), "accepted calls stay pending");
        assert_eq!(w.d.received, vec![vec![(Obj(1), 0x77), (Obj(2), 0x77)]]);
        assert_eq!(w.table.get(a), Some(&Obj(1)), "copied cap stays");
        assert_eq!(w.table.get(b), None, "moved cap is gone");
        // The moved id is stale for every later use, including another transfer.
        assert_eq!(results(&w.call_with(3, &[(b, XFER_COPY)], 2)), vec![(2, E_BAD_CAP)]);
        w.push(&[Sqe { opcode: OP_RELEASE, cap_id: b, user_data: 3, ..Sqe::default() }]);
        w.run();
        assert_eq!(results(&w.pop()), vec![(3, E_BAD_CAP)]);
    }

    #[test]
    fn refused_transfer_rolls_back() {
        let mut w = world();
        let a = w.table.insert(Obj(1)).unwrap();
        let c = w.call_with(4, &[(a, XFER_MOVE)], 1);
        assert_eq!((c[0].result, c[0].flags), (4, CQE_EXCEPTION));
        assert_eq!(w.table.get(a), Some(&Obj(1)), "a refused MOVE leaves the cap with the sender");
        assert_eq!(results(&w.call_with(0, &[(a, XFER_MOVE)], 2)), vec![(2, E_BAD_TRANSFER)]);
        assert_eq!(w.table.get(a), Some(&Obj(1)));
    }

    #[test]
    fn malformed_transfers_are_refused_whole() {
        let mut w = world();
        let a = w.table.insert(Obj(1)).unwrap();
        let locked = w.table.insert(Obj(666)).unwrap();
        let own = w.cap;
        let cases: Vec<(Vec<(u32, u32)>, i32)> = vec![
            (vec![(a, XFER_MOVE), (a, XFER_MOVE)], E_BAD_TRANSFER),
            (vec![(a, XFER_MOVE), (a, XFER_COPY)], E_BAD_TRANSFER),
            (vec![(a, XFER_COPY), (a, XFER_MOVE)], E_BAD_TRANSFER),
            (vec![(a, 2)], E_BAD_TRANSFER),
            (vec![(own, XFER_MOVE)], E_BAD_TRANSFER),
            (vec![(locked, XFER_COPY)], E_BAD_TRANSFER),
            (vec![(a, XFER_MOVE), (a + 0x10000, XFER_COPY)], E_BAD_CAP),
            (vec![(a, XFER_MOVE), (0, XFER_COPY)], E_BAD_CAP),
        ];
        for (i, (list, want)) in cases.iter().enumerate() {
            assert_eq!(results(&w.call_with(3, list, i as u64)), vec![(i as u64, *want)], "case {i}");
            assert_eq!(w.table.get(a), Some(&Obj(1)), "case {i}: nothing moved");
        }
        assert!(w.d.received.is_empty());
        // Copying the cap the call goes through is fine.
        assert!(w.call_with(3, &[(own, XFER_COPY)], 99).is_empty());
    }

    #[test]
    fn return_moves_only_when_accepted() {
        let mut w = world();
        let a = w.table.insert(Obj(1)).unwrap();
        w.mem.write(BUF, b"answer").unwrap();
        let x = w.transfers(&[(a, XFER_MOVE)]);
        let base = Sqe { opcode: OP_RETURN, cap_id: w.cap, params_addr: BUF, params_len: 6, ..x };
        w.push(&[Sqe { call_id: 9, user_data: 1, ..base }]);
        w.run();
        assert_eq!(results(&w.pop()), vec![(1, E_BAD_CALL_ID)]);
        assert_eq!(w.table.get(a), Some(&Obj(1)), "refused RETURN keeps the cap");
        w.push(&[Sqe { call_id: 5, user_data: 2, flags: SQE_RETURN_EXCEPTION, ..base }]);
        w.run();
        assert_eq!(results(&w.pop()), vec![(2, 0)]);
        assert_eq!(w.table.get(a), None);
        assert_eq!(w.d.returned, vec![(5, b"answer".to_vec(), true, vec![(Obj(1), 0x77)])]);
    }

    #[test]
    fn deliver_writes_call_id_method_and_caps() {
        let mut w = world();
        w.push(&[w.call(2, b"", 7)]);
        w.run();
        let p = w.d.pending.borrow_mut().pop().unwrap();
        let ok =
            deliver(&mut w.mem, &mut w.st, &mut w.table, &mut w.d, p, 42, 3, (vec![1; 5], vec![(Obj(9), 0x77)]), 0xbad)
                .unwrap();
        assert!(ok);
        let c = w.pop();
        assert_eq!(
            (c[0].user_data, c[0].result, c[0].call_id, cqe_method(c[0].flags), c[0].cap_count),
            (7, 5, 42, 3, 1)
        );
        assert_eq!(c[0].badge, 0xbad, "the facet's badge reaches the server");
        assert_eq!(c[0].flags & CQE_EXCEPTION, 0);
        let mut rec = [0u8; 4];
        w.mem.read(BUF + 0x10000 + 8, &mut rec).unwrap();
        assert_eq!(w.table.get(u32::from_le_bytes(rec)), Some(&Obj(9)));
        // Too small a buffer: the server gets the error, and the kernel learns it failed.
        w.push(&[Sqe { result_len: 4, ..w.call(2, b"", 8) }]);
        w.run();
        let p = w.d.pending.borrow_mut().pop().unwrap();
        let ok = deliver(&mut w.mem, &mut w.st, &mut w.table, &mut w.d, p, 43, 0, (vec![1; 5], vec![]), 0).unwrap();
        assert!(!ok);
        assert_eq!(results(&w.pop()), vec![(8, E_RESULT_TOO_SMALL)]);
    }
    // endregion: transfer-tests

    #[test]
    fn sqe_and_cqe_codecs_match_abi_layout() {
        let s = Sqe {
            opcode: 1,
            flags: 2,
            method_id: 3,
            cap_id: 4,
            user_data: 5,
            params_addr: 6,
            params_len: 7,
            result_len: 8,
            result_addr: 9,
            xfer_addr: 10,
            xfer_count: 11,
            call_id: 12,
            _reserved: 13,
        };
        let b = encode_sqe(&s);
        // SAFETY: Sqe is repr(C) plain integers, 64 bytes.
        let direct: [u8; 64] = unsafe { core::mem::transmute(s) };
        assert_eq!(b, direct);
        assert_eq!(decode_sqe(&b), s);
        let c = Cqe { user_data: 1, result: -2, flags: 3, cap_count: 4, call_id: 5, badge: 6 };
        // SAFETY: Cqe is repr(C) plain integers, 32 bytes.
        let direct: [u8; 32] = unsafe { core::mem::transmute(c) };
        assert_eq!(encode_cqe(&c), direct);
        assert_eq!(decode_cqe(&encode_cqe(&c)), c);
    }
}
