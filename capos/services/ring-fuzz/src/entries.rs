//! Random ring entries, drawn field by field the way `capos/fuzz`'s `ring_submit` target draws them, but from a
//! seeded generator instead of libFuzzer: the same seed gives the same entries on every boot.
use alloc::vec::Vec;
use capos_rt::abi::addr::{CAPSET_ADDR, RING_ADDR, USER_END, USER_STACK_TOP};
use capos_rt::abi::ring::{cap_generation, cap_id, cap_index, Sqe, Transfer, MAX_TRANSFERS};
use capos_rt::abi::MAX_MSG;

/// xorshift64*: small, fast, and good enough to pick fields.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What the entries may point at: the process's own caps and a scratch area the kernel may write into.
pub struct Target<'a> {
    /// cap ids the fuzzer may name (never the console it reports through)
    pub caps: &'a [u32],
    /// where the scratch area of [`SCRATCH_SIZE`] bytes starts (leaked: the kernel may write there until the
    /// process ends)
    pub scratch: u64,
}

/// One random entry, and the transfer table it points at when that table lives in `tables`.
pub fn entry(rng: &mut Rng, t: &Target<'_>, tables: &mut Vec<Vec<Transfer>>) -> Sqe {
    let mut sqe = Sqe {
        // the five opcodes and a few past them
        opcode: rng.below(8) as u8,
        flags: if rng.below(8) == 0 { rng.next() as u8 } else { 0 },
        method_id: rng.below(6) as u16,
        cap_id: cap(rng, t),
        params_addr: addr(rng, t),
        params_len: len(rng),
        result_addr: addr(rng, t),
        result_len: len(rng),
        call_id: if rng.below(4) == 0 { rng.below(8) as u32 } else { 0 },
        _reserved: if rng.below(16) == 0 { 1 } else { 0 },
        ..Sqe::default()
    };
    match rng.below(4) {
        // a real table of descriptors: caps held, stale or made up, COPY, MOVE or a bad mode
        0 => {
            let n = rng.below(MAX_TRANSFERS as u64 + 2) as usize;
            let table: Vec<Transfer> =
                (0..n).map(|_| Transfer { cap_id: cap(rng, t), mode: rng.below(3) as u32 }).collect();
            sqe.xfer_addr = table.as_ptr() as u64;
            sqe.xfer_count = n as u32;
            tables.push(table);
        }
        // a table address anywhere, with any count
        1 => {
            sqe.xfer_addr = addr(rng, t);
            sqe.xfer_count = rng.below(MAX_TRANSFERS as u64 + 4) as u32;
        }
        _ => {}
    }
    sqe
}

/// A cap id: one held, one held with its generation bumped (stale), 0, or any number.
fn cap(rng: &mut Rng, t: &Target<'_>) -> u32 {
    let held = t.caps[rng.below(t.caps.len() as u64) as usize];
    match rng.below(6) {
        0 => 0,
        1 => cap_id(cap_index(held), cap_generation(held).wrapping_add(1)),
        2 => rng.next() as u32,
        _ => held,
    }
}

/// Bytes at the start of the scratch area an address may point at; the area is this much longer than the
/// longest length `len` draws, so a write the kernel accepts never reaches past the area into live data.
pub const SCRATCH_WINDOW: u64 = 64 * 1024;
/// The scratch area's size.
pub const SCRATCH_SIZE: u64 = SCRATCH_WINDOW + 2 * MAX_MSG as u64;

/// An address: null, the scratch area, the ring page itself, the read-only CapSet page, kernel space, the
/// unmapped gap above the stack, just below 2^64 (so a length wraps), or a random address with the top bit set.
/// Never a random low address: the kernel would write results into whatever of the fuzzer's own memory is
/// there, which tests the fuzzer, not the kernel.
fn addr(rng: &mut Rng, t: &Target<'_>) -> u64 {
    let start = t.scratch;
    match rng.below(10) {
        0 => 0,
        1..=3 => start + rng.below(SCRATCH_WINDOW),
        4 => RING_ADDR + rng.below(4096),
        5 => CAPSET_ADDR + rng.below(4096),
        6 => 0xffff_8000_0000_0000 + rng.below(1 << 40),
        7 => USER_STACK_TOP + rng.below(USER_END - USER_STACK_TOP),
        8 => u64::MAX - rng.below(2 * MAX_MSG as u64),
        _ => rng.next() | 1 << 63,
    }
}

/// A length: empty, small, a page, or anything up to twice the largest message.
fn len(rng: &mut Rng) -> u32 {
    (match rng.below(4) {
        0 => 0,
        1 => rng.below(64),
        2 => rng.below(4096),
        _ => rng.below(2 * MAX_MSG as u64),
    }) as u32
}
