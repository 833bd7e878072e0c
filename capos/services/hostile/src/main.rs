//! Submits malformed ring entries, one at a time, and prints what the kernel answered:
//! unknown opcodes, non-zero reserved fields, bad, stale and released cap ids, buffers in kernel
//! space / unmapped / wrapping around / read-only, oversize lengths, a too-small result buffer,
//! malformed params, an unknown method, and corrupted ring indices. Each answer is compared with
//! the specific error the ABI promises; the exit code is the number of mismatches. Afterwards a
//! NOP must still work: bad input costs the sender an error, never the kernel.
#![no_std]
#![no_main]
extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec;
use capos_rt::abi::addr::CAPSET_ADDR;
use capos_rt::abi::err::*;
use capos_rt::abi::ring::{cap_generation, cap_id, cap_index, Cqe, Sqe, CQE_EXCEPTION, OP_CALL, OP_NOP, OP_RECV};
use capos_rt::abi::MAX_MSG;
use capos_rt::schema::capos_capnp::{console, timer};
use capos_rt::schema::exception;
use capos_rt::schema::wire::AlignedBuf;
use capos_rt::{encode_empty_params, encode_params, Client, Console, Runtime, Timer};

capos_rt::entry!(main);
capos_rt::heap!(512 * 1024);

const WRITE_LINE: u16 = 1;
const TIMER_NOW: u16 = 0;

/// What an entry must get back.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    Transport(i32),
    /// A CapException of any kind (the call reached a valid cap and was refused there).
    Exception,
}

struct Probe<'a> {
    rt: &'a Runtime,
    console: &'a Console,
    mismatches: i32,
    cases: i32,
}

impl Probe<'_> {
    /// Submits `sqe`, waits for its completion and reports it against `expect`.
    fn run(&mut self, name: &str, sqe: Sqe, result: &AlignedBuf, expect: Expect) {
        let outcome = match self.rt.transport().submit_and_wait(sqe) {
            Ok(cqe) => describe(&cqe, result),
            Err(e) => (format!("not submitted: {e}"), None),
        };
        self.check(name, outcome, expect);
    }

    fn check(&mut self, name: &str, (text, got): (String, Option<Expect>), expect: Expect) {
        self.cases += 1;
        let mark = if got == Some(expect) { "" } else { " (UNEXPECTED)" };
        if !mark.is_empty() {
            self.mismatches += 1;
        }
        let _ = self.console.write_line(&format!("{name}: {text}{mark}"));
    }
}

/// A line for a completion and how it classifies.
fn describe(cqe: &Cqe, result: &AlignedBuf) -> (String, Option<Expect>) {
    if cqe.result < 0 {
        return (format!("{} ({})", name(cqe.result), cqe.result), Some(Expect::Transport(cqe.result)));
    }
    if cqe.flags & CQE_EXCEPTION != 0 {
        let len = (cqe.result as usize).min(result.len());
        return match exception::decode(&result[..len]) {
            Ok(e) => (format!("exception: {e}"), Some(Expect::Exception)),
            Err(e) => (format!("undecodable exception: {e}"), None),
        };
    }
    (format!("ok ({} bytes)", cqe.result), None)
}

fn call(cap: u32, method: u16, params: &[u8], result: &AlignedBuf) -> Sqe {
    Sqe {
        opcode: OP_CALL,
        method_id: method,
        cap_id: cap,
        params_addr: params.as_ptr() as u64,
        params_len: params.len() as u32,
        result_addr: result.as_ptr() as u64,
        result_len: result.len() as u32,
        ..Sqe::default()
    }
}

fn main(rt: &mut Runtime) -> i32 {
    let Ok(console) = rt.take::<Console>("console") else {
        return 100;
    };
    let Ok(timer) = rt.take::<Timer>("timer") else {
        let _ = console.write_line("needs a timer grant");
        return 100;
    };
    let console_id = console.cap().id();
    let timer_id = timer.cap().id();
    let line = encode_params(|m| m.init_root::<console::write_line_params::Builder>().set_text("x"));
    let now = encode_empty_params::<timer::now_params::Owned>();
    let result = AlignedBuf::zeroed(512);
    let none = AlignedBuf::default();
    let mut p = Probe { rt, console: &console, mismatches: 0, cases: 0 };
    use Expect::*;

    p.run("opcode 99", Sqe { opcode: 99, ..Sqe::default() }, &none, Transport(E_BAD_OPCODE));
    p.run(
        "nop with a reserved field set",
        Sqe { opcode: OP_NOP, _reserved: 1, ..Sqe::default() },
        &none,
        Transport(E_BAD_SQE),
    );
    p.run("nop with flags set", Sqe { opcode: OP_NOP, flags: 0x80, ..Sqe::default() }, &none, Transport(E_BAD_SQE));
    p.run("recv", Sqe { opcode: OP_RECV, cap_id: console_id, ..Sqe::default() }, &none, Transport(E_UNSUPPORTED));

    p.run(
        "call on never-granted cap id 0x2a",
        call(cap_id(0x2a, 0), WRITE_LINE, &line, &result),
        &result,
        Transport(E_BAD_CAP),
    );
    let stale = cap_id(cap_index(console_id), cap_generation(console_id).wrapping_add(1));
    p.run("call with a stale generation", call(stale, WRITE_LINE, &line, &result), &result, Transport(E_BAD_CAP));

    p.run(
        "params in kernel space",
        Sqe { params_addr: 0xffff_8000_0000_0000, ..call(console_id, WRITE_LINE, &line, &result) },
        &result,
        Transport(E_BAD_BUFFER),
    );
    p.run(
        "params unmapped",
        Sqe { params_addr: 0x0000_5000_0000_0000, ..call(console_id, WRITE_LINE, &line, &result) },
        &result,
        Transport(E_BAD_BUFFER),
    );
    p.run(
        "params wrapping past the top",
        Sqe { params_addr: u64::MAX - 15, ..call(console_id, WRITE_LINE, &line, &result) },
        &result,
        Transport(E_BAD_BUFFER),
    );
    p.run(
        "result in the read-only capset page",
        Sqe { result_addr: CAPSET_ADDR, result_len: 64, ..call(timer_id, TIMER_NOW, &now, &result) },
        &result,
        Transport(E_BAD_BUFFER),
    );
    let big = vec![0u8; MAX_MSG + 1];
    p.run("params of MAX_MSG + 1 bytes", call(console_id, WRITE_LINE, &big, &result), &result, Transport(E_TOO_LARGE));
    p.run(
        "result buffer of 8 bytes",
        Sqe { result_len: 8, ..call(timer_id, TIMER_NOW, &now, &result) },
        &result,
        Transport(E_RESULT_TOO_SMALL),
    );

    let garbage = AlignedBuf::copy_from(&[0xff; 24]);
    p.run("garbage params", call(console_id, WRITE_LINE, &garbage, &result), &result, Exception);
    p.run("unknown method 7", call(console_id, 7, &line, &result), &result, Exception);

    // Release the timer, then use its old id.
    let released = match timer.release() {
        Ok(()) => String::from("ok"),
        Err(e) => format!("{e}"),
    };
    let _ = console.write_line(&format!("release timer: {released}"));
    p.run("call on a released cap", call(timer_id, TIMER_NOW, &now, &result), &result, Transport(E_BAD_CAP));

    // Claim 1000 queued entries that were never written: the kernel must detect the tail running
    // more than a ring ahead, drop the queue and say so with one completion for user_data 0.
    rt.transport().with_ring(|ring| ring.set_sq_tail(ring.sq_head().wrapping_add(1000)));
    capos_rt::syscall::cap_enter(1, 1_000_000_000);
    let corrupt = match rt.transport().take_completion(0) {
        Some(cqe) => describe(&cqe, &none),
        None => (String::from("no completion"), None),
    };
    p.check("sq tail 1000 ahead of head", corrupt, Transport(E_RING_CORRUPT));

    let nop = rt.transport().nop();
    let nop_line = match &nop {
        Ok(()) => String::from("ok"),
        Err(e) => format!("{e}"),
    };
    let _ = console.write_line(&format!("nop afterwards: {nop_line}"));
    let (cases, mismatches) = (p.cases, p.mismatches + nop.is_err() as i32);
    let _ = console.write_line(&format!("{cases} cases, {mismatches} unexpected"));
    mismatches
}

fn name(code: i32) -> &'static str {
    capos_rt::abi::err::name(code)
}
