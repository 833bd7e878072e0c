//! The kernel-object hog (appendix A.9): takes what the kernel gives until it is refused.
//!
//! Grants: `console`, `spawner` (for `newEndpoint`), `clock`, `millis`. Three rounds, each
//! reported on the console:
//! 1. **waiting calls**: CALLs of the largest message (64 KiB) on endpoints nobody serves, so
//!    that the kernel must keep every one of them queued, until one is refused or the ring
//!    cannot wait for more; they are held for `millis` ms, so that hogs running together hold
//!    theirs at the same time;
//! 2. **endpoints**: `newEndpoint` until the cap table is full;
//! 3. **churn**: for `millis` ms, releases an endpoint and makes another, over and over.
//!
//! Then it lets everything go and checks that the kernel gave it all back: the round of
//! waiting calls runs a second time, and a hog with a quota of its own (whose share no one else
//! uses) must queue as many as the first time.
#![no_std]
#![no_main]
extern crate alloc;

use alloc::format;
use alloc::vec::Vec;
use capos_rt::{Blob, Client, Console, Endpoint, EndpointOwner, Error, ProcessSpawner, Runtime, StartedCall, Timer};

capos_rt::entry!(main);
capos_rt::heap!(4 * 1024 * 1024);

// region: hog
/// Calls this process lets wait at once: its CQ has 32 slots, and a few must stay free for the
/// answers to its other requests (`newEndpoint`, the clock, the console).
const MOST_CALLS: usize = 28;
/// Queued calls the kernel accepts from one caller on one endpoint (kcore's per-caller share).
const CALLS_PER_ENDPOINT: usize = 8;

fn main(rt: &mut Runtime) -> i32 {
    capos_rt::with_console(rt, |rt, console| {
        let spawner = rt.take::<ProcessSpawner>("spawner")?;
        let clock = rt.take::<Timer>("clock")?;
        let millis: u64 = rt.take::<Blob>("millis")?.read_string()?.trim().parse().unwrap_or(0);
        let first = waiting_calls(&spawner, console, &clock, millis)?;
        endpoints_and_churn(&spawner, &clock, console, millis)?;
        let again = waiting_calls(&spawner, console, &clock, 0)?;
        console.write_line(&format!("everything released; waiting calls again: {again} (first round {first})"))?;
        let own_share = rt.caps().memory().frame_quota != 0;
        Ok(if own_share && again != first { 1 } else { 0 })
    })
}

/// Round 1: queues 64 KiB calls on unserved endpoints until refused, holds them `hold` ms, and
/// returns how many waited.
fn waiting_calls(spawner: &ProcessSpawner, console: &Console, clock: &Timer, hold: u64) -> Result<usize, Error> {
    let mut owners: Vec<EndpointOwner> = Vec::new();
    let mut clients: Vec<Endpoint> = Vec::new();
    let mut calls: Vec<StartedCall> = Vec::new();
    let mut refusal = None;
    while calls.len() < MOST_CALLS && refusal.is_none() {
        if calls.len().is_multiple_of(CALLS_PER_ENDPOINT) {
            let (owner, client) = spawner.new_endpoint()?;
            owners.push(owner);
            clients.push(client);
        }
        let client = clients.last().expect("made above").cap();
        let params = alloc::vec![0x5a; capos_rt::abi::MAX_MSG];
        // Room for the refusal's exception text; a queued call never gets a result.
        let mut call = client.transport().start_call(client.id(), 0, params, 512)?;
        // A queued call completes only when its endpoint goes; a refused one completes now.
        capos_rt::syscall::cap_enter(0, 0);
        match client.transport().poll_call(&mut call) {
            Some(Err(e)) => refusal = Some(e),
            Some(Ok(_)) => return Err(Error::BadReply("an unserved endpoint answered")),
            None => calls.push(call),
        }
    }
    let waited = calls.len();
    let end = match refusal {
        Some(e) => format!("then refused: {e}"),
        None => alloc::string::String::from("the most this ring waits for at once"),
    };
    console.write_line(&format!("waiting calls: {waited} of 64 KiB queued, {end}"))?;
    let until = clock.now()? + hold * 1_000_000;
    while clock.now()? < until {
        capos_rt::syscall::cap_enter(1, 1_000_000);
    }
    // Closing the endpoints disconnects every waiting call; each one's CQE must arrive.
    drop(owners);
    for (call, client) in calls.iter_mut().zip((0..).map(|i| &clients[i / CALLS_PER_ENDPOINT])) {
        let transport = client.cap().transport();
        loop {
            match transport.poll_call(call) {
                Some(Err(Error::Exception(_))) => break,
                Some(_) => return Err(Error::BadReply("a call on a closed endpoint did not end in an exception")),
                None => {
                    capos_rt::syscall::cap_enter(1, 0);
                }
            }
        }
    }
    Ok(waited)
}

/// Rounds 2 and 3: endpoints until the cap table is full, then `millis` ms of churn.
fn endpoints_and_churn(spawner: &ProcessSpawner, clock: &Timer, console: &Console, millis: u64) -> Result<(), Error> {
    let mut pairs = Vec::new();
    let refusal = loop {
        match spawner.new_endpoint() {
            Ok(pair) => pairs.push(pair),
            Err(e) => break e,
        }
    };
    console.write_line(&format!("endpoints: {} made, then refused: {refusal}", pairs.len()))?;
    // Room for one pair again: churn releases one and asks for another.
    pairs.pop();
    let (start, mut cycles, mut refused) = (clock.now()?, 0u64, 0u64);
    while clock.now()? - start < millis * 1_000_000 {
        if !pairs.is_empty() {
            pairs.remove(0);
        }
        match spawner.new_endpoint() {
            Ok(pair) => pairs.push(pair),
            Err(_) => refused += 1,
        }
        cycles += 1;
    }
    console.write_line(&format!("churn: {cycles} endpoints released and made in {millis} ms, {refused} refused"))?;
    Ok(())
}
// endregion: hog
