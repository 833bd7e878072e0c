//! Panics print one Console line (when the process holds a Console) and exit with code 101.
//!
//! The handler touches neither the heap nor the `Transport` (either may be what failed, or be
//! borrowed mid-call): it encodes the line into a stack buffer and submits it straight to the ring.
use crate::line::{LineMessage, StackWriter};
use crate::ring::Ring;
use crate::syscall;
use capos_abi::ring::{Sqe, OP_CALL};
use core::fmt::Write;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Exit code of a panicking process (as Rust uses on Linux).
pub const PANIC_EXIT_CODE: i32 = 101;
const NO_CONSOLE: u32 = u32::MAX;
const WRITE_LINE: u16 = 1;
/// How long the handler waits for its line to be written.
const PRINT_TIMEOUT_NS: u64 = 1_000_000_000;

static CONSOLE_CAP: AtomicU32 = AtomicU32::new(NO_CONSOLE);
static RING_ADDR: AtomicU64 = AtomicU64::new(0);

/// Remembers where panics print: the ring and, if granted, a Console cap id.
pub fn set_target(ring: u64, console: Option<u32>) {
    RING_ADDR.store(ring, Ordering::Relaxed);
    CONSOLE_CAP.store(console.unwrap_or(NO_CONSOLE), Ordering::Relaxed);
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let cap = CONSOLE_CAP.swap(NO_CONSOLE, Ordering::Relaxed); // a panic while printing stays silent
    let ring = RING_ADDR.load(Ordering::Relaxed);
    if cap != NO_CONSOLE && ring != 0 {
        let mut text = StackWriter::new();
        let _ = write!(text, "panicked: {}", info.message());
        if let Some(at) = info.location() {
            let _ = write!(text, " at {}:{}", at.file(), at.line());
        }
        let message = LineMessage::encode(text.as_bytes());
        let mut result = [0u64; 8];
        let sqe = Sqe {
            opcode: OP_CALL,
            method_id: WRITE_LINE,
            cap_id: cap,
            user_data: u64::MAX,
            params_addr: message.as_bytes().as_ptr() as u64,
            params_len: message.as_bytes().len() as u32,
            result_addr: result.as_mut_ptr() as u64,
            result_len: size_of_val(&result) as u32,
            ..Sqe::default()
        };
        // SAFETY: the ring page stays mapped for the whole process; the process is single
        // threaded and ends below, so no other ring user runs after this point.
        let mut ring = unsafe { Ring::new(ring as *mut u8) };
        if ring.push(&sqe).is_err() {
            syscall::cap_enter(0, 0);
            let _ = ring.push(&sqe);
        }
        syscall::cap_enter(1, PRINT_TIMEOUT_NS);
    }
    syscall::exit(PANIC_EXIT_CODE)
}
