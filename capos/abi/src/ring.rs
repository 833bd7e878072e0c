//! The per-process submission/completion ring: one 4 KiB page at `addr::RING_ADDR`.
//!
//! Indices are free-running `u32`s; slot = index % entries. Userspace produces SQEs (writes
//! `sq_tail`) and consumes CQEs (writes `cq_head`); the kernel does the opposite.

pub const SQ_ENTRIES: u32 = 16;
pub const CQ_ENTRIES: u32 = 32;
pub const SQ_OFFSET: usize = 64;
pub const CQ_OFFSET: usize = SQ_OFFSET + SQ_ENTRIES as usize * core::mem::size_of::<Sqe>();

pub const OP_NOP: u8 = 0;
pub const OP_CALL: u8 = 1;
pub const OP_RECV: u8 = 2;
pub const OP_RETURN: u8 = 3;
pub const OP_RELEASE: u8 = 4;

/// Set in `Cqe::flags` when the result buffer holds a serialized `CapException`.
pub const CQE_EXCEPTION: u32 = 1;
/// A RECV completion carries the call's method ordinal in bits 16..32 of `Cqe::flags`
/// (and the call id to RETURN in `Cqe::call_id`).
pub const CQE_METHOD_SHIFT: u32 = 16;

/// The method ordinal of a RECV completion.
pub const fn cqe_method(flags: u32) -> u16 {
    (flags >> CQE_METHOD_SHIFT) as u16
}

/// `Sqe::flags` on RETURN: the params buffer holds a serialized `CapException`, which the
/// caller receives with `CQE_EXCEPTION` set.
pub const SQE_RETURN_EXCEPTION: u8 = 1;

/// Transfer modes of a [`Transfer`] descriptor.
pub const XFER_COPY: u32 = 0;
pub const XFER_MOVE: u32 = 1;
/// Most descriptors one CALL or RETURN may carry.
pub const MAX_TRANSFERS: u32 = 8;

/// One cap to hand over with a CALL or RETURN; `Sqe::xfer_addr` points at `xfer_count` of them.
/// COPY leaves the sender's slot alone; MOVE removes it once the kernel accepted the message
/// (the CALL was queued or delivered, the RETURN matched a call), and never when it was refused.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Transfer {
    pub cap_id: u32,
    pub mode: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct RingHeader {
    pub sq_head: u32,
    pub sq_tail: u32,
    pub cq_head: u32,
    pub cq_tail: u32,
    pub sq_entries: u32,
    pub cq_entries: u32,
    pub _reserved: [u32; 10],
}

/// One submission. Fields a given opcode does not use must be zero.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sqe {
    pub opcode: u8,
    pub flags: u8,
    /// Cap'n Proto method ordinal (CALL).
    pub method_id: u16,
    pub cap_id: u32,
    /// Echoed in the matching CQE; completions may arrive out of order.
    pub user_data: u64,
    pub params_addr: u64,
    pub params_len: u32,
    /// Capacity of the result buffer.
    pub result_len: u32,
    pub result_addr: u64,
    /// Transfer descriptors (part 2) and RETURN's call id.
    pub xfer_addr: u64,
    pub xfer_count: u32,
    pub call_id: u32,
    pub _reserved: u64,
}

/// One completion.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cqe {
    pub user_data: u64,
    /// Bytes of result written (>= 0) or a transport error from `err` (< 0).
    pub result: i32,
    pub flags: u32,
    /// How many `ResultCap` records follow the payload.
    pub cap_count: u32,
    pub call_id: u32,
    /// A RECV completion: the badge of the client facet the call came through (0: unbadged).
    pub badge: u64,
}

/// A capability returned by a call, placed at `result_addr + align8(result)`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResultCap {
    pub cap_id: u32,
    pub _pad: u32,
    pub interface_id: u64,
}

/// Offset of the first result-cap record after a payload of `len` bytes.
pub const fn result_caps_offset(len: usize) -> usize {
    (len + 7) & !7
}

const _: () = assert!(core::mem::size_of::<RingHeader>() == 64);
const _: () = assert!(core::mem::size_of::<Sqe>() == 64);
const _: () = assert!(core::mem::size_of::<Cqe>() == 32);
const _: () = assert!(core::mem::size_of::<ResultCap>() == 16);
const _: () = assert!(core::mem::size_of::<Transfer>() == 8);
const _: () = assert!(CQ_OFFSET + CQ_ENTRIES as usize * core::mem::size_of::<Cqe>() <= 4096);

/// Cap ids carry a generation so a reused slot is not mistaken for the cap that was there.
pub const fn cap_id(index: u16, generation: u16) -> u32 {
    ((generation as u32) << 16) | index as u32
}
pub const fn cap_index(id: u32) -> u16 {
    id as u16
}
pub const fn cap_generation(id: u32) -> u16 {
    (id >> 16) as u16
}
