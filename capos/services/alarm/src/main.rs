//! Exercises `Timer.setAlarm` (issue #17; appendix A.1, "An alarm that interrupts the process").
//!
//! Role `compute` (no `role` grant): makes every bad `setAlarm` and prints each refusal; arms a
//! 1 ms alarm whose handler bumps an atomic counter; computes (integer and floating-point work
//! whose state lives in registers) until the counter passes [`UPCALLS`]; turns the alarm off;
//! runs the same number of rounds again without it and checks that both checksums agree, so a
//! register the upcall clobbered would show. Then it waits and checks that no upcall came after
//! the alarm was cleared. Exits with the number of checks that went wrong.
//!
//! Roles `unmapped-stack` and `readonly-stack`: arm the alarm, then spin in a loop with rsp
//! pointing at an unmapped page or into the read-only CapSet page. The kernel cannot push the
//! interrupted RIP there and ends the process with a fault line; nothing else is disturbed.
//!
//! Without a Timer grant it reports that and exits 0.
#![no_std]
#![no_main]
extern crate alloc;

use alloc::format;
use capos_rt::probe::Checks;
use capos_rt::schema::exception::ExceptionKind;
use capos_rt::{Blob, Console, Error, Runtime, Timer};
use core::sync::atomic::{AtomicU64, Ordering};

/// What every bad `setAlarm` must be refused as.
const BAD: ExceptionKind = ExceptionKind::InvalidArgument;

capos_rt::entry!(main);
capos_rt::heap!(64 * 1024);

const MS: u64 = 1_000_000;
/// Upcalls to wait for while computing.
const UPCALLS: u64 = 100;
/// A user address nothing is mapped at (between the CapSet page and the program image).
const UNMAPPED_STACK: u64 = 0x20_0000;
/// Inside the CapSet page, which is mapped read-only.
const READONLY_STACK: u64 = capos_rt::abi::addr::CAPSET_ADDR + 0x800;

static UPCALLS_SEEN: AtomicU64 = AtomicU64::new(0);
/// The handler's own floating-point work (its result is never checked, only its registers).
static HANDLER_FLOAT: AtomicU64 = AtomicU64::new(0);

/// The alarm handler: async-signal-safe (atomics only). It also does floating-point and
/// integer work of its own, so the caller-saved registers the entry must preserve really change.
extern "C" fn count_upcall() {
    let n = UPCALLS_SEEN.fetch_add(1, Ordering::Relaxed);
    let x = f64::from_bits(HANDLER_FLOAT.load(Ordering::Relaxed)) * 0.5 + n as f64 * 3.25 / (n as f64 + 1.5);
    HANDLER_FLOAT.store(x.to_bits(), Ordering::Relaxed);
}

fn main(rt: &mut Runtime) -> i32 {
    let Ok(console) = rt.take::<Console>("console") else {
        return 2;
    };
    let timer = match rt.take::<Timer>("timer") {
        Ok(t) => t,
        Err(e) => {
            let _ = console.write_line(&format!("alarm: no Timer cap, so no alarm: {e}"));
            return 0;
        }
    };
    let role = rt.take::<Blob>("role").and_then(|b| b.read_string()).unwrap_or_else(|_| "compute".into());
    let mut t = Checks::new(&console, "alarm");
    let result = match role.as_str() {
        "compute" => compute(&timer, &mut t),
        "unmapped-stack" => spin_on_bad_stack(&timer, &t, UNMAPPED_STACK),
        "readonly-stack" => spin_on_bad_stack(&timer, &t, READONLY_STACK),
        other => {
            t.say(&format!("alarm: unknown role {other:?}"));
            return 1;
        }
    };
    if let Err(e) = result {
        t.unexpected(&e);
    }
    t.wrong
}

fn compute(timer: &Timer, t: &mut Checks<'_>) -> Result<i32, Error> {
    let entry = capos_rt::alarm::entry();
    t.refused("an entry in the kernel half", timer.call_set_alarm(MS, 0xffff_8000_0000_0000), BAD);
    t.refused("a non-canonical entry", timer.call_set_alarm(MS, 0x0000_8000_0000_0000), BAD);
    t.refused("a period of 0.5 ms", timer.call_set_alarm(MS / 2, entry), BAD);
    t.refused("a period of 61 s", timer.call_set_alarm(61_000 * MS, entry), BAD);

    let mut armed = Work::new();
    timer.set_alarm(MS, count_upcall)?;
    let start = timer.now()?;
    let mut rounds = 0u64;
    while UPCALLS_SEEN.load(Ordering::Relaxed) < UPCALLS {
        armed.round();
        rounds += 1;
    }
    let ms = (timer.now()? - start) / MS;
    timer.clear_alarm()?;
    let seen = UPCALLS_SEEN.load(Ordering::Relaxed);
    t.say(&format!("alarm: {seen} upcalls in {ms} ms of computing ({rounds} rounds)"));
    t.expect(&format!("at least {UPCALLS} upcalls arrived while computing"), seen >= UPCALLS);

    let mut quiet = Work::new();
    for _ in 0..rounds {
        quiet.round();
    }
    t.say(&format!("alarm: checksum {:#018x}, without the alarm {:#018x}", armed.sum(), quiet.sum()));
    t.expect("the checksum matches the same rounds run without the alarm", armed.sum() == quiet.sum());

    // Cleared: a wait of 20 ticks brings no upcall.
    capos_rt::syscall::cap_enter(1, 20 * MS);
    t.expect("no upcall after the alarm was cleared", UPCALLS_SEEN.load(Ordering::Relaxed) == seen);
    Ok(0)
}

/// Integer and SSE work whose state stays in registers through each round's inner loop: an
/// upcall that lost any of them changes the checksum.
#[derive(Clone, Copy)]
struct Work {
    a: u64,
    b: u64,
    c: u64,
    x: f64,
    y: f64,
    z: f64,
}

impl Work {
    fn new() -> Work {
        Work { a: 0x9e37_79b9_7f4a_7c15, b: 1, c: 7, x: 1.0, y: 0.5, z: 0.25 }
    }

    #[inline(never)]
    fn round(&mut self) {
        let Work { mut a, mut b, mut c, mut x, mut y, mut z } = *self;
        for i in 0..2000u64 {
            a ^= a << 13;
            a ^= a >> 7;
            a ^= a << 17;
            b = b.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(a | 1);
            c = c.rotate_left(5) ^ b ^ i;
            x = x * 0.999_999 + (a >> 40) as f64 * 1e-9;
            y = (y + x * 0.5) * 0.75;
            z = z + (x - y) * 1e-3 + (c & 0xff) as f64 * 1e-6;
        }
        *self = Work { a, b, c, x, y, z };
    }

    fn sum(&self) -> u64 {
        self.a
            ^ self.b.rotate_left(7)
            ^ self.c.rotate_left(13)
            ^ self.x.to_bits()
            ^ self.y.to_bits().rotate_left(3)
            ^ self.z.to_bits().rotate_left(29)
    }
}

fn spin_on_bad_stack(timer: &Timer, t: &Checks<'_>, rsp: u64) -> Result<i32, Error> {
    timer.set_alarm(MS, count_upcall)?;
    t.say(&format!("alarm: spinning with rsp at {rsp:#x}"));
    // SAFETY: deliberately unsound: nothing here uses the stack, and the loop never ends on its
    // own; the next alarm finds rsp at `rsp`, where the kernel cannot push, and ends the process.
    unsafe { core::arch::asm!("mov rsp, {0}", "2:", "jmp 2b", in(reg) rsp, options(noreturn)) }
}
