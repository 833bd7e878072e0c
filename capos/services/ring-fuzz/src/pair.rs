//! The well-behaved pair: a server that answers anyone, the fuzzer included, and a worker whose round trips
//! through it show whether the rest of the system keeps moving while the fuzzer runs.
use alloc::format;
use alloc::vec;
use capos_rt::abi::ring::MAX_TRANSFERS;
use capos_rt::abi::MAX_MSG;
use capos_rt::schema::exception::ExceptionKind;
use capos_rt::transport::RELEASED;
use capos_rt::{Blob, Console, Endpoint, EndpointOwner, Error, Runtime, Timer};

/// `echo(bytes) -> bytes`
const ECHO: u16 = 0;
/// `stop(token)`: answers, then the server exits; refused without the manifest's token.
const STOP: u16 = 1;
/// The largest params a RECV can take: the runtime adds room for the caps a call may carry, and the whole
/// buffer may not pass `MAX_MSG`.
const CAPACITY: usize = MAX_MSG - MAX_TRANSFERS as usize * 16;
/// Failed RECVs in a row after which the server gives up (its endpoint is gone).
const MAX_FAILED_RECVS: u32 = 1000;

pub fn server(rt: &mut Runtime, console: &Console) -> Result<i32, Error> {
    let serve: EndpointOwner = rt.take("serve")?;
    let token = rt.take::<Blob>("token")?.read_string()?;
    let transport = rt.transport().clone();
    let (mut answered, mut refused, mut released, mut failed_returns, mut failed_recvs) =
        (0u64, 0u64, 0u64, 0u64, 0u32);
    loop {
        let call = match serve.recv_with_capacity(CAPACITY) {
            Ok(call) => call,
            Err(_) if failed_recvs + 1 < MAX_FAILED_RECVS => {
                failed_recvs += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        failed_recvs = 0;
        // caps a caller sent are never used here: drop them, or a hostile caller fills the table
        for cap in &call.caps {
            let _ = transport.release(cap.cap_id);
            released += 1;
        }
        let returned = match call.method {
            RELEASED => continue,
            ECHO => {
                answered += 1;
                serve.ret(&call, &call.params, &[])
            }
            STOP if call.params[..] == *token.as_bytes() => {
                serve.ret(&call, &[], &[])?;
                console.write_line(&format!(
                    "answered {answered} calls, refused {refused}, released {released} caps callers sent, \
                     {failed_returns} answers undeliverable; stopping"
                ))?;
                return Ok(0);
            }
            STOP => {
                refused += 1;
                serve.ret_exception(&call, ExceptionKind::Failed, "stop needs the token")
            }
            _ => {
                refused += 1;
                serve.ret_exception(&call, ExceptionKind::Unimplemented, "echo (0) and stop (1) only")
            }
        };
        // a caller whose result buffer was bad gets an error from the kernel; the server goes on
        if returned.is_err() {
            failed_returns += 1;
        }
    }
}

pub fn worker(rt: &mut Runtime, console: &Console) -> Result<i32, Error> {
    let work: Endpoint = rt.take("work")?;
    let clock: Timer = rt.take("clock")?;
    let token = rt.take::<Blob>("token")?.read_string()?;
    let millis = crate::number(rt, "millis")?;
    let mut per_second = vec![0u64; millis.div_ceil(1000) as usize];
    let (mut total, mut wrong) = (0u64, 0u64);
    let start = clock.now()?;
    loop {
        let elapsed = (clock.now()? - start) / 1_000_000;
        if elapsed >= millis {
            break;
        }
        let text = format!("round trip {total}");
        let reply = work.call(ECHO, text.as_bytes(), &[])?;
        if reply.payload[..] != *text.as_bytes() {
            wrong += 1;
        }
        total += 1;
        per_second[(elapsed / 1000) as usize] += 1;
    }
    let slowest = per_second.iter().min().copied().unwrap_or(0);
    let seconds: alloc::vec::Vec<alloc::string::String> = per_second.iter().map(|n| format!("{n}")).collect();
    console.write_line(&format!("{total} round trips in {millis} ms, {wrong} wrong answers"))?;
    console.write_line(&format!("round trips per second: {}", seconds.join(" ")))?;
    console.write_line(&format!("slowest second: {slowest} round trips"))?;
    work.call(STOP, token.as_bytes(), &[])?;
    Ok(if wrong == 0 { 0 } else { 1 })
}
