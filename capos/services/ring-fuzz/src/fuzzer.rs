//! The fuzzer role: batches of random entries written straight into the ring for a fixed time, one kernel
//! entry after each batch, every completion counted by what it says; then a NOP that must still complete.
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use capos_rt::abi::err::{self, E_RING_CORRUPT};
use capos_rt::abi::ring::{Cqe, CQE_EXCEPTION, CQ_ENTRIES, SQ_ENTRIES};
use capos_rt::syscall::cap_enter;
use capos_rt::{Client, Console, Endpoint, Error, Runtime, Timer, Transport};

use crate::entries::{self, Rng, Target, SCRATCH_SIZE};
use crate::tsc::{self, Tsc};

/// Entries the fuzzer lets wait for an answer at once: the rest of the CQ stays free for its own report.
const MAX_OUTSTANDING: u32 = CQ_ENTRIES / 2;
/// The fuzzer's `user_data` values carry the top bit; the runtime's own count up from 1.
const TAG: u64 = 1 << 63;
/// How long one wait for owed answers may take.
const WAIT_NS: u64 = 1_000_000;
/// Waits for owed answers before the fuzzer stops counting them.
const MAX_WAITS: u32 = 1000;

/// What came back.
#[derive(Default)]
struct Tally {
    entries: u64,
    batches: u64,
    corruptions: u64,
    ok: u64,
    exceptions: u64,
    /// transport errors, indexed by their negated code
    errors: [u64; 12],
    /// completions without a user_data of the fuzzer's: an entry pointed a result at the CQ and the kernel
    /// wrote it there, as it was told
    foreign: u64,
    /// the kernel's `ring corrupted` notices (user_data 0)
    corrupt_notices: u64,
    /// times the CQ indices themselves were impossible and the fuzzer reset its head
    head_resets: u64,
    /// answers the fuzzer stopped waiting for
    given_up: u64,
}

pub fn run(rt: &mut Runtime, console: &Console) -> Result<i32, Error> {
    let clock: Timer = rt.take("clock")?;
    let timer: Timer = rt.take("timer")?;
    let work: Endpoint = rt.take("work")?;
    let seed = crate::number(rt, "seed")?;
    let millis = crate::number(rt, "millis")?;
    // leaked: entries point the kernel at it, and a late answer may land there until the process ends
    let scratch: &'static mut [u8] = vec![0u8; SCRATCH_SIZE as usize].leak();
    let caps = [timer.cap().id(), work.cap().id()];
    let target = Target { caps: &caps, scratch: scratch.as_mut_ptr() as u64 };
    let transport = rt.transport().clone();
    let mut rng = Rng::new(seed);
    let mut tally = Tally::default();
    let mut outstanding = 0u32;
    // The loop keeps time with the TSC, calibrated against the clock first: a clock call through the runtime
    // would let the runtime stash every answer of the fuzzer's that arrives while it waits for its own.
    let start = clock.now()?;
    let tsc = Tsc::calibrate(&clock)?;
    let deadline = tsc.after_ms(millis - tsc.calibrated_ms.min(millis));
    let mut waits = 0u32;
    while outstanding > 0 || tsc::now() < deadline {
        if outstanding >= MAX_OUTSTANDING || tsc::now() >= deadline {
            // answers owed: give the server the CPU for a moment
            cap_enter(1, WAIT_NS);
            waits += 1;
            if waits >= MAX_WAITS {
                // answers owed this long will not come (the fuzzer lost count): stop waiting for them
                tally.given_up += outstanding as u64;
                outstanding = 0;
            }
        } else {
            waits = 0;
            batch(&transport, &mut rng, &target, &mut tally, &mut outstanding);
        }
        drain(&transport, &mut tally, &mut outstanding);
    }
    // A way back to a clean ring that any process has: declare both indices impossible. The kernel answers by
    // resetting both queues (no stale entry left in the SQ runs) and posting one `ring corrupted` notice
    // (A.1), which the runtime's wait skips.
    transport.with_ring(|ring| {
        ring.set_sq_tail(ring.sq_head().wrapping_add(0x8000_0000));
        ring.set_cq_head(ring.cq_tail().wrapping_add(0x8000_0000));
    });
    cap_enter(0, 0);
    let nop = transport.nop();
    let ran = (clock.now()? - start) / 1_000_000;
    console.write_line(&format!(
        "seed {seed}: {} entries in {} batches over {ran} ms, {} indices corrupted",
        tally.entries, tally.batches, tally.corruptions
    ))?;
    console.write_line(&format!("answers: {} ok, {} exceptions", tally.ok, tally.exceptions))?;
    // one line per half of the error codes: a console line holds 240 bytes
    console.write_line(&format!("transport errors: {}", errors(&tally, 1..7)))?;
    console.write_line(&format!("transport errors: {}", errors(&tally, 7..12)))?;
    console.write_line(&format!(
        "ring: {} ring-corrupted notices, {} foreign completions, {} head resets, {} answers given up",
        tally.corrupt_notices, tally.foreign, tally.head_resets, tally.given_up
    ))?;
    console.write_line(&format!(
        "nop afterwards: {}",
        match &nop {
            Ok(()) => String::from("ok"),
            Err(e) => format!("{e}"),
        }
    ))?;
    Ok(if nop.is_ok() { 0 } else { 1 })
}

/// Up to a full SQ of random entries, sometimes a corrupted index, then one kernel entry.
fn batch(transport: &Transport, rng: &mut Rng, target: &Target<'_>, tally: &mut Tally, outstanding: &mut u32) {
    let mut tables = Vec::new();
    let n = 1 + rng.below(SQ_ENTRIES as u64);
    transport.with_ring(|ring| {
        for _ in 0..n {
            if *outstanding >= MAX_OUTSTANDING {
                break;
            }
            let mut sqe = entries::entry(rng, target, &mut tables);
            tally.entries += 1;
            sqe.user_data = TAG | tally.entries;
            if ring.push(&sqe).is_err() {
                break;
            }
            *outstanding += 1;
        }
        if rng.below(64) == 0 {
            tally.corruptions += 1;
            if rng.below(2) == 0 {
                ring.set_sq_tail(ring.sq_tail().wrapping_add(1 + rng.below(4096) as u32));
            } else {
                ring.set_cq_head(rng.next() as u32);
            }
        }
    });
    tally.batches += 1;
    cap_enter(0, 0);
    // the kernel read every descriptor table during that entry; they may go now
    drop(tables);
}

/// Counts every completion the CQ holds. Pops at most what the indices say is there, and resets the head when
/// the indices are impossible (a result written over them), so a scribbled CQ never loops the fuzzer.
fn drain(transport: &Transport, tally: &mut Tally, outstanding: &mut u32) {
    transport.with_ring(|ring| {
        let (head, tail) = (ring.cq_head(), ring.cq_tail());
        if tail.wrapping_sub(head) > CQ_ENTRIES {
            ring.set_cq_head(tail);
            tally.head_resets += 1;
            // what was posted and not read is gone: the count of owed answers starts again
            *outstanding = 0;
            return;
        }
        for _ in 0..tail.wrapping_sub(head) {
            let Some(cqe) = ring.pop() else { break };
            if count(tally, &cqe) {
                *outstanding = 0;
            } else {
                *outstanding = outstanding.saturating_sub(1);
            }
        }
    });
}

/// Files one completion; true for the kernel's `ring corrupted` notice, after which the kernel has dropped
/// what the CQ held.
fn count(t: &mut Tally, c: &Cqe) -> bool {
    if c.user_data == 0 && c.result == E_RING_CORRUPT {
        t.corrupt_notices += 1;
        return true;
    }
    if c.user_data & TAG == 0 {
        t.foreign += 1;
    } else if c.result < 0 {
        let i = c.result.unsigned_abs() as usize;
        if let Some(n) = t.errors.get_mut(i) {
            *n += 1;
        } else {
            t.foreign += 1;
        }
    } else if c.flags & CQE_EXCEPTION != 0 {
        t.exceptions += 1;
    } else {
        t.ok += 1;
    }
    false
}

/// `bad opcode 40, malformed sqe 0, …`: the count of each transport error whose negated code is in `codes`.
fn errors(t: &Tally, codes: core::ops::Range<usize>) -> String {
    let parts: Vec<String> = codes.map(|i| format!("{} {}", err::name(-(i as i32)), t.errors[i])).collect();
    parts.join(", ")
}
