//! Endpoint operations as raw ring entries. capos-rt's typed `Endpoint` and `EndpointOwner`
//! (used by `capos/services/echo`) never produce a malformed entry, which is what the hostile
//! roles need; the other roles use these too. RETURN goes through capos-rt's `Transport::ret`,
//! which already sends whatever call id and transfers it is given.

use alloc::vec;
use alloc::vec::Vec;
use capos_rt::abi::ring::{
    result_caps_offset, Cqe, ResultCap, Sqe, Transfer, CQE_EXCEPTION, OP_CALL, OP_RECV, OP_RETURN,
};
use capos_rt::schema::exception;
use capos_rt::schema::wire::AlignedBuf;
use capos_rt::{Error, Transport};

/// Room for a payload plus a few result-cap records.
pub const BUF: usize = 4096;

/// A completed RECV: which call, which method, its params and the caps it carried.
pub struct Incoming {
    pub call_id: u32,
    pub method: u16,
    pub params: Vec<u8>,
    pub caps: Vec<ResultCap>,
}

fn with_transfers(sqe: Sqe, xfer: &[Transfer]) -> Sqe {
    let (addr, count) = if xfer.is_empty() { (0, 0) } else { (xfer.as_ptr() as u64, xfer.len() as u32) };
    Sqe { xfer_addr: addr, xfer_count: count, ..sqe }
}

/// Reads a completion into payload + result caps, or the error it carries.
fn decode(cqe: &Cqe, buf: &AlignedBuf) -> Result<(Vec<u8>, Vec<ResultCap>), Error> {
    if cqe.result < 0 {
        return Err(Error::Transport(cqe.result));
    }
    let len = (cqe.result as usize).min(buf.len());
    if cqe.flags & CQE_EXCEPTION != 0 {
        return Err(exception::decode(&buf[..len]).map(Error::Exception).unwrap_or(Error::BadReply("bad exception")));
    }
    let mut caps = Vec::new();
    for i in 0..cqe.cap_count as usize {
        let at = result_caps_offset(len) + i * 16;
        let b = buf.get(at..at + 16).ok_or(Error::BadReply("result caps past the buffer"))?;
        let id = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let mut iface = [0u8; 8];
        iface.copy_from_slice(&b[8..16]);
        caps.push(ResultCap { cap_id: id, _pad: 0, interface_id: u64::from_le_bytes(iface) });
    }
    Ok((buf[..len].to_vec(), caps))
}

/// CALL `method` on `cap` with `params` and transfer descriptors; waits for the answer.
pub fn call(
    t: &Transport,
    cap: u32,
    method: u16,
    params: &[u8],
    xfer: &[Transfer],
) -> Result<(Vec<u8>, Vec<ResultCap>), Error> {
    let buf = AlignedBuf::zeroed(BUF);
    let sqe = Sqe {
        opcode: OP_CALL,
        method_id: method,
        cap_id: cap,
        params_addr: params.as_ptr() as u64,
        params_len: params.len() as u32,
        result_addr: buf.as_ptr() as u64,
        result_len: buf.len() as u32,
        ..Sqe::default()
    };
    let cqe = t.submit_and_wait(with_transfers(sqe, xfer))?;
    decode(&cqe, &buf)
}

/// RECV on an owner facet; waits for the next call.
pub fn recv(t: &Transport, cap: u32) -> Result<Incoming, Error> {
    let buf = AlignedBuf::zeroed(BUF);
    let sqe = Sqe {
        opcode: OP_RECV,
        cap_id: cap,
        result_addr: buf.as_ptr() as u64,
        result_len: buf.len() as u32,
        ..Sqe::default()
    };
    let cqe = t.submit_and_wait(sqe)?;
    let (params, caps) = decode(&cqe, &buf)?;
    Ok(Incoming { call_id: cqe.call_id, method: capos_rt::abi::ring::cqe_method(cqe.flags), params, caps })
}

/// RETURN `call_id` through an owner facet with a result payload and returned caps.
pub fn ret(t: &Transport, cap: u32, call_id: u32, data: &[u8], xfer: &[Transfer]) -> Result<(), Error> {
    t.ret(cap, call_id, data, xfer, false)
}

/// RETURN `call_id` with an empty result and RECV the next call, in one kernel entry.
pub fn ret_and_recv(t: &Transport, cap: u32, call_id: u32) -> Result<Incoming, Error> {
    let buf = AlignedBuf::zeroed(BUF);
    let ret = Sqe { opcode: OP_RETURN, cap_id: cap, call_id, user_data: t.next_user_data(), ..Sqe::default() };
    let recv = Sqe {
        opcode: OP_RECV,
        cap_id: cap,
        user_data: t.next_user_data(),
        result_addr: buf.as_ptr() as u64,
        result_len: buf.len() as u32,
        ..Sqe::default()
    };
    t.submit(&ret)?;
    t.submit(&recv)?;
    let cqe = t.wait(recv.user_data);
    // The RETURN's completion was posted in the same pass; collect it so nothing piles up.
    let done = t.wait(ret.user_data);
    if done.result < 0 {
        return Err(Error::Transport(done.result));
    }
    let (params, caps) = decode(&cqe, &buf)?;
    Ok(Incoming { call_id: cqe.call_id, method: capos_rt::abi::ring::cqe_method(cqe.flags), params, caps })
}

/// RETURN `call_id` as a CapException.
pub fn ret_exception(
    t: &Transport,
    cap: u32,
    call_id: u32,
    kind: exception::ExceptionKind,
    why: &str,
) -> Result<(), Error> {
    t.ret(cap, call_id, &exception::encode(kind, why), &[], true)
}

/// Submits `n` CALLs without waiting for them (they stay queued at an endpoint nobody serves).
/// The buffers are leaked on purpose: the kernel may write into them until the process ends.
pub fn call_no_wait(t: &Transport, cap: u32, n: usize) -> Result<(), Error> {
    for _ in 0..n {
        let buf: &'static mut [u8] = vec![0u8; 256].leak();
        let sqe = Sqe {
            opcode: OP_CALL,
            cap_id: cap,
            user_data: t.next_user_data(),
            result_addr: buf.as_mut_ptr() as u64,
            result_len: buf.len() as u32,
            ..Sqe::default()
        };
        t.submit(&sqe)?;
    }
    capos_rt::syscall::cap_enter(0, 0);
    Ok(())
}
