//! Holds only a Console and tries to reach what it was not given:
//! - a Timer by name (the runtime finds no such CapSet entry);
//! - its Console as a Timer (the interface id does not match);
//! - a cap id it was never granted, straight on the ring (the kernel answers bad cap id).
//!
//! Exits 0 when each attempt failed with exactly the expected error.
#![no_std]
#![no_main]
extern crate alloc;

use alloc::format;
use capos_rt::abi::err::E_BAD_CAP;
use capos_rt::abi::ring::cap_id;
use capos_rt::schema::capos_capnp::timer;
use capos_rt::{Console, Error, Runtime, Timer};

capos_rt::entry!(main);
capos_rt::heap!(128 * 1024);

const TIMER_NOW: u16 = 0;

fn main(rt: &mut Runtime) -> i32 {
    let Ok(console) = rt.take::<Console>("console") else {
        return 2;
    };
    let mut wrong = 0;
    let mut report = |what: &str, got: Result<(), Error>, expected: &Error| {
        let text = match &got {
            Ok(()) => format!("{what}: succeeded"),
            Err(e) => format!("{what}: {e}"),
        };
        let _ = console.write_line(&text);
        if got.as_ref().err() != Some(expected) {
            wrong += 1;
        }
    };

    let timer = rt.take::<Timer>("timer").map(drop);
    report("take timer", timer, &Error::NotGranted("timer".into()));

    let as_timer = rt.caps().find("console", capos_rt::schema::ids::TIMER).map(drop);
    let expected = Error::WrongInterface { name: "console".into(), expected: "Timer", found: "Console" };
    report("use console as timer", as_timer, &expected);

    // A slot past every granted cap, generation 0: nothing of this process lives there.
    let forged = cap_id(rt.caps().entries().len() as u16 + 8, 0);
    let params = capos_rt::encode_empty_params::<timer::now_params::Owned>();
    let call = rt.transport().call(forged, TIMER_NOW, &params, 64).map(drop);
    report("call timer.now on a forged cap id", call, &Error::Transport(E_BAD_CAP));
    wrong
}
