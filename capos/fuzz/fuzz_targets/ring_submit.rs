//! The ring as a hostile process drives it: structured SQEs (opcodes, cap ids, pointers, lengths,
//! transfer descriptors) and header scribbles, submitted through `kcore::ring::submit`, with calls
//! left pending and completed or delivered later.
//!
//! Beyond "no panic", three properties are checked after every step:
//! - while userspace consumes honestly, the kernel never posts over an unconsumed CQE
//!   (`cq_tail - cq_head + inflight <= CQ_ENTRIES`). Userspace is dishonest once it writes `cq_head` or
//!   `cq_tail` itself, and also once it points a result buffer or a transfer table at those words: the kernel
//!   writes what it was asked to write there, which is userspace's own scribble by another route;
//! - the kernel's count of owed completions equals the calls the objects actually hold;
//! - the sq_head word in the page is the kernel's own copy, whatever userspace wrote there.
#![no_main]

use arbitrary::Arbitrary;
use capos_abi::addr::RING_ADDR;
use capos_abi::err::*;
use capos_abi::ring::*;
use capos_kcore::captable::{CapTable, MAX_CAPS};
use capos_kcore::ring::{self, Dispatch, Outcome, PendingCall, Request, RingState};
use capos_kcore::usermem::fake::FakeMemory;
use capos_kcore::usermem::UserMemory;
use libfuzzer_sys::fuzz_target;

const BUF: u64 = 0x40_0000;
const BUF_LEN: u64 = 0x1_0000;
const RO: u64 = 0x50_0000;

/// A cap object: its number decides how it answers.
#[derive(Clone, Debug, PartialEq)]
struct Obj(u32);

/// Answers by method: 0 echo, 1 a new cap, 2 pending, 3 exception, 4 refused, 5 many caps.
struct Objects {
    pending: Vec<(PendingCall, u32)>,
    next_call: u32,
    next_obj: u32,
}

impl Dispatch<Obj> for Objects {
    fn call(&mut self, cap: &Obj, req: Request<'_, Obj>, _t: &CapTable<Obj>) -> Outcome<Obj> {
        match req.method % 6 {
            0 => Outcome::Reply { data: req.params.to_vec(), caps: Vec::new() },
            1 => {
                self.next_obj += 1;
                Outcome::Reply { data: vec![1; 3], caps: vec![(Obj(self.next_obj), 0x77)] }
            }
            2 => {
                self.next_call += 1;
                self.pending.push((req.pending, self.next_call));
                Outcome::Pending
            }
            3 => Outcome::Exception(b"nope".to_vec()),
            4 => Outcome::Refused(E_BAD_TRANSFER),
            _ => Outcome::Reply { data: vec![], caps: (0..(cap.0 % 40)).map(|i| (Obj(i), 0x78)).collect() },
        }
    }
    fn recv(&mut self, cap: &Obj, pending: PendingCall) -> Outcome<Obj> {
        if cap.0.is_multiple_of(2) {
            self.next_call += 1;
            self.pending.push((pending, self.next_call));
            Outcome::Pending
        } else {
            Outcome::Refused(E_UNSUPPORTED)
        }
    }
    fn ret(&mut self, _cap: &Obj, call_id: u32, _data: Vec<u8>, _exc: bool, _caps: Vec<(Obj, u64)>) -> Result<(), i32> {
        if call_id.is_multiple_of(3) {
            Ok(())
        } else {
            Err(E_BAD_CALL_ID)
        }
    }
    fn transferable(&self, cap: &Obj) -> Option<u64> {
        (cap.0 % 5 != 4).then_some(0x77)
    }
    fn table_full(&mut self) -> Vec<u8> {
        b"full".to_vec()
    }
}

/// Where a pointer points: into the writable buffer, the read-only page, or anywhere at all.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Addr {
    Null,
    Buf(u16),
    ReadOnly(u16),
    Ring(u16),
    Raw(u64),
}

impl Addr {
    fn get(self) -> u64 {
        match self {
            Addr::Null => 0,
            Addr::Buf(off) => BUF + off as u64 % BUF_LEN,
            Addr::ReadOnly(off) => RO + off as u64 % 0x1000,
            Addr::Ring(off) => RING_ADDR + off as u64 % 0x1000,
            Addr::Raw(a) => a,
        }
    }
}

/// A cap id: one the process holds (by position), a stale-looking neighbour, or any number.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum CapRef {
    Held(u8),
    Bumped(u8),
    Raw(u32),
}

#[derive(Arbitrary, Debug)]
struct FuzzSqe {
    opcode: u8,
    flags: u8,
    method: u16,
    cap: CapRef,
    user_data: u64,
    params: Addr,
    params_len: u32,
    result: Addr,
    result_len: u32,
    xfer: Addr,
    xfer_count: u8,
    call_id: u32,
    reserved: u64,
    /// Transfer descriptors written at `xfer` before submitting (when it is in the buffer).
    descs: Vec<(CapRef, u32)>,
}

#[derive(Arbitrary, Debug)]
enum Step {
    Submit(Vec<FuzzSqe>),
    /// Userspace writes a header word (0 sq_head … 5 cq_entries).
    Scribble {
        word: u8,
        value: u32,
    },
    /// Userspace consumes up to `n` CQEs honestly.
    Consume(u8),
    Complete {
        which: u8,
        method: u8,
    },
    Deliver {
        which: u8,
        len: u8,
        caps: u8,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    buffer: Vec<u8>,
    seed_caps: Vec<u32>,
    steps: Vec<Step>,
}

struct World {
    mem: FakeMemory,
    st: RingState,
    table: CapTable<Obj>,
    objects: Objects,
    held: Vec<u32>,
    honest: bool,
}

fn hdr(mem: &FakeMemory, word: u64) -> u32 {
    let mut b = [0u8; 4];
    mem.read(RING_ADDR + word * 4, &mut b).expect("ring page is mapped");
    u32::from_le_bytes(b)
}

fn set_hdr(mem: &mut FakeMemory, word: u64, v: u32) {
    mem.write(RING_ADDR + word * 4, &v.to_le_bytes()).expect("ring page is mapped");
}

/// Whether `len` bytes at `addr` overlap the header's `cq_head` and `cq_tail` words (2 and 3).
fn aims_at_cq_words(addr: u64, len: u64) -> bool {
    let (start, end) = (RING_ADDR + 8, RING_ADDR + 16);
    addr < end && addr.saturating_add(len) > start
}

impl World {
    fn cap(&self, c: CapRef) -> u32 {
        match c {
            CapRef::Held(i) if !self.held.is_empty() => self.held[i as usize % self.held.len()],
            CapRef::Bumped(i) if !self.held.is_empty() => self.held[i as usize % self.held.len()].wrapping_add(1 << 16),
            CapRef::Raw(id) => id,
            _ => 0,
        }
    }

    fn submit(&mut self, sqes: &[FuzzSqe]) {
        let mut tail = hdr(&self.mem, 1);
        for s in sqes.iter().take(SQ_ENTRIES as usize) {
            let xfer = s.xfer.get();
            let result_len = s.result_len % 0x2_0000;
            // a transfer table is up to MAX_TRANSFERS + 1 descriptors of 8 bytes (the harness writes that many)
            if aims_at_cq_words(s.result.get(), result_len as u64)
                || aims_at_cq_words(xfer, (MAX_TRANSFERS as u64 + 1) * 8)
            {
                self.honest = false;
            }
            for (i, (c, mode)) in s.descs.iter().take(MAX_TRANSFERS as usize + 1).enumerate() {
                let mut b = [0u8; 8];
                b[0..4].copy_from_slice(&self.cap(*c).to_le_bytes());
                b[4..8].copy_from_slice(&(mode % 3).to_le_bytes());
                // Descriptors land only where userspace may write; elsewhere the pointer stays hostile.
                let _ = self.mem.write(xfer.wrapping_add(i as u64 * 8), &b);
            }
            let sqe = Sqe {
                opcode: s.opcode % 7,
                flags: s.flags % 3,
                method_id: s.method,
                cap_id: self.cap(s.cap),
                user_data: s.user_data,
                params_addr: s.params.get(),
                params_len: s.params_len % 0x2_0000,
                result_len,
                result_addr: s.result.get(),
                xfer_addr: xfer,
                xfer_count: s.xfer_count as u32 % (MAX_TRANSFERS + 2),
                call_id: s.call_id % 8,
                _reserved: s.reserved % 2,
            };
            let slot = (tail % SQ_ENTRIES) as u64;
            self.mem
                .write(RING_ADDR + SQ_OFFSET as u64 + slot * 64, &ring::encode_sqe(&sqe))
                .expect("ring page is mapped");
            tail = tail.wrapping_add(1);
        }
        set_hdr(&mut self.mem, 1, tail);
        ring::submit(&mut self.mem, &mut self.st, &mut self.table, &mut self.objects).expect("ring page stays mapped");
    }

    fn consume(&mut self, n: u8) {
        let head = hdr(&self.mem, 2);
        let tail = hdr(&self.mem, 3);
        let avail = tail.wrapping_sub(head).min(CQ_ENTRIES);
        set_hdr(&mut self.mem, 2, head.wrapping_add(avail.min(n as u32)));
    }

    fn pick_pending(&mut self, which: u8) -> Option<(PendingCall, u32)> {
        if self.objects.pending.is_empty() {
            return None;
        }
        let i = which as usize % self.objects.pending.len();
        Some(self.objects.pending.remove(i))
    }

    fn check(&self) {
        assert!(self.st.inflight <= CQ_ENTRIES, "inflight {} over the CQ size", self.st.inflight);
        assert_eq!(self.st.inflight as usize, self.objects.pending.len(), "owed completions != calls held");
        assert_eq!(hdr(&self.mem, 0), self.st.sq_head, "sq_head in the page is the kernel's");
        assert!(self.table.len() <= MAX_CAPS);
        if self.honest {
            let used = self.st.cq_tail.wrapping_sub(hdr(&self.mem, 2));
            assert!(
                used + self.st.inflight <= CQ_ENTRIES,
                "kernel overran the CQ: used {used}, inflight {}",
                self.st.inflight
            );
        }
    }
}

fuzz_target!(|input: Input| {
    let mut mem = FakeMemory::new();
    mem.map(RING_ADDR, 4096, true);
    mem.map(BUF, BUF_LEN, true);
    mem.map(RO, 0x1000, false);
    ring::init(&mut mem).expect("ring page is mapped");
    let n = input.buffer.len().min(BUF_LEN as usize);
    mem.write(BUF, &input.buffer[..n]).expect("buffer is mapped");
    let mut table = CapTable::new();
    let mut held = Vec::new();
    for v in input.seed_caps.iter().take(8) {
        held.push(table.insert(Obj(*v)).expect("room for eight"));
    }
    if held.is_empty() {
        held.push(table.insert(Obj(2)).expect("room for one"));
    }
    let objects = Objects { pending: Vec::new(), next_call: 0, next_obj: 1000 };
    let mut w = World { mem, st: RingState::default(), table, objects, held, honest: true };
    for step in input.steps.iter().take(64) {
        match step {
            Step::Submit(sqes) => w.submit(sqes),
            Step::Scribble { word, value } => {
                let word = *word as u64 % 6;
                // The kernel ignores what userspace writes to its own words; only a bad cq_head can
                // make it drop CQEs, which an honest consumer never does.
                if word == 2 || word == 3 {
                    w.honest = false;
                }
                set_hdr(&mut w.mem, word, *value);
                if word == 0 {
                    // The kernel never reads sq_head back; the next submit writes its own copy.
                    ring::submit(&mut w.mem, &mut w.st, &mut w.table, &mut w.objects).expect("ring page stays mapped");
                }
            }
            Step::Consume(n) => w.consume(*n),
            Step::Complete { which, method } => {
                if let Some((p, _)) = w.pick_pending(*which) {
                    let outcome = match method % 4 {
                        0 => Outcome::Reply { data: vec![7; *method as usize], caps: vec![(Obj(9), 0x77)] },
                        1 => Outcome::Exception(b"later".to_vec()),
                        2 => Outcome::Refused(E_BAD_CAP),
                        _ => Outcome::Reply {
                            data: Vec::new(),
                            caps: (0..*method as u32).map(|i| (Obj(i), 1)).collect(),
                        },
                    };
                    ring::complete(&mut w.mem, &mut w.st, &mut w.table, &mut w.objects, p, outcome)
                        .expect("ring page stays mapped");
                }
            }
            Step::Deliver { which, len, caps } => {
                if let Some((p, call_id)) = w.pick_pending(*which) {
                    let caps = (0..*caps as u32 % 12).map(|i| (Obj(i), 2)).collect();
                    let msg = (vec![3; *len as usize], caps);
                    ring::deliver(&mut w.mem, &mut w.st, &mut w.table, &mut w.objects, p, call_id, 1, msg, 5)
                        .expect("ring page stays mapped");
                }
            }
        }
        w.check();
    }
});
