//! The alarm upcall's user half (`Timer.setAlarm`, appendix A.1): the entry the kernel resumes
//! the process at, and the one handler it calls.
//!
//! When the alarm is due, a timer tick that interrupted this process's code pushes the
//! interrupted RIP 136 bytes below the interrupted rsp (past the 128-byte red zone) and resumes
//! at [`capos_rt_alarm_entry`]. Nothing else was saved for the process: every register holds
//! what the interrupted code had in it. The entry saves all general registers and RFLAGS on the
//! stack, aligns rsp (it may be anything at the interrupted instruction), saves the x87/SSE
//! state with `fxsave64` into a 16-byte-aligned area, clears DF as the C ABI requires, calls the
//! handler, restores everything in reverse, and returns with `ret 128`: that pops the saved RIP
//! and then drops the red-zone gap, so rsp is the interrupted one again.
//!
//! The handler runs like a signal handler: at any instruction of the program, perhaps in the
//! middle of an allocation or of a ring call. It must be async-signal-safe: no allocation, no
//! locks, no ring calls; an atomic operation on a static is the intended use.

use core::sync::atomic::{AtomicUsize, Ordering};

// region: entry
/// The registered handler as an address; 0 = none (the entry then returns at once).
static HANDLER: AtomicUsize = AtomicUsize::new(0);

// SAFETY: the entry touches only the stack below the interrupted rsp's red zone (which the
// kernel reserved for it), HANDLER and the registers it restores before returning; the handler
// it calls is an `extern "C" fn()` (set through `set_handler`, so a real function), called on a
// 16-byte-aligned stack with DF clear, as the System V ABI requires.
core::arch::global_asm!(
    ".globl capos_rt_alarm_entry",
    "capos_rt_alarm_entry:",
    "pushfq",
    "push rax",
    "push rcx",
    "push rdx",
    "push rbx",
    "push rbp",
    "push rsi",
    "push rdi",
    "push r8",
    "push r9",
    "push r10",
    "push r11",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    // rbx is callee-saved, so it still holds this frame's top after the call.
    "mov rbx, rsp",
    "and rsp, -16",
    "sub rsp, 512",
    "fxsave64 [rsp]",
    "cld",
    "mov rax, qword ptr [rip + {handler}]",
    "test rax, rax",
    "jz 2f",
    "call rax",
    "2:",
    "fxrstor64 [rsp]",
    "mov rsp, rbx",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop r11",
    "pop r10",
    "pop r9",
    "pop r8",
    "pop rdi",
    "pop rsi",
    "pop rbp",
    "pop rbx",
    "pop rdx",
    "pop rcx",
    "pop rax",
    "popfq",
    "ret 128",
    handler = sym HANDLER,
);

extern "C" {
    /// The upcall entry above. Never called from Rust: only its address is handed to the kernel.
    fn capos_rt_alarm_entry();
}
// endregion: entry

/// The address the kernel resumes the process at when the alarm is due.
pub fn entry() -> u64 {
    capos_rt_alarm_entry as *const () as u64
}

/// Registers the function the entry calls (replacing any earlier one); see the module docs for
/// what it may do.
pub fn set_handler(handler: extern "C" fn()) {
    HANDLER.store(handler as usize, Ordering::Release);
}

/// Forgets the handler: an upcall still on its way returns at once.
pub fn clear_handler() {
    HANDLER.store(0, Ordering::Release);
}

/// Sets the handler's address (0: none) and returns the earlier one.
pub(crate) fn swap_handler(handler: usize) -> usize {
    HANDLER.swap(handler, Ordering::AcqRel)
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::sync::atomic::AtomicU64;

    static CALLS: AtomicU64 = AtomicU64::new(0);

    /// Overwrites every caller-saved register, xmm0 and xmm1, and sets DF, as a handler may.
    extern "C" fn clobber() {
        CALLS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: only writes the registers it declares; DF is left set on purpose (the entry's
        // popfq must restore the interrupted flags).
        unsafe {
            core::arch::asm!(
                "mov rax, -1", "mov rcx, -1", "mov rdx, -1", "mov rsi, -1", "mov rdi, -1",
                "mov r8, -1", "mov r9, -1", "mov r10, -1", "mov r11, -1",
                "pcmpeqd xmm0, xmm0", "pcmpeqd xmm1, xmm1", "std",
                out("rax") _, out("rcx") _, out("rdx") _, out("rsi") _, out("rdi") _,
                out("r8") _, out("r9") _, out("r10") _, out("r11") _, out("xmm0") _, out("xmm1") _,
            )
        }
    }

    /// Enters the entry exactly as the kernel's delivery does (the return address 136 bytes
    /// below rsp, rsp there) and checks that every register came back.
    #[test]
    fn the_entry_calls_the_handler_and_preserves_registers() {
        set_handler(clobber);
        let before = CALLS.load(Ordering::Relaxed);
        let vals: [u64; 9] = core::array::from_fn(|i| 0x1111_1111_1111_1111 * (i as u64 + 1));
        let mut r = vals;
        let (mut x0, mut x1) = (1.5f64, -2.25f64);
        let flags: u64;
        // SAFETY: simulates the kernel's upcall on this thread's stack: it writes only below
        // the red zone (the asm has no `nostack`, so the compiler keeps nothing there), and the
        // entry returns to label 3 with rsp as it was.
        unsafe {
            core::arch::asm!(
                "sub rsp, 136",
                "lea r12, [rip + 3f]",
                "mov [rsp], r12",
                "jmp {entry}",
                "3:",
                "pushfq",
                "pop r12",
                entry = sym capos_rt_alarm_entry,
                inout("rax") r[0], inout("rcx") r[1], inout("rdx") r[2], inout("rsi") r[3],
                inout("rdi") r[4], inout("r8") r[5], inout("r9") r[6], inout("r10") r[7],
                inout("r11") r[8], inout("xmm0") x0, inout("xmm1") x1, out("r12") flags,
            )
        }
        assert_eq!(CALLS.load(Ordering::Relaxed), before + 1, "the handler ran once");
        assert_eq!(r, vals, "general registers preserved");
        assert_eq!((x0, x1), (1.5, -2.25), "SSE registers preserved");
        assert_eq!(flags & (1 << 10), 0, "DF restored to clear");
        clear_handler();
        assert_eq!(HANDLER.load(Ordering::Relaxed), 0);
        // Without a handler the entry returns at once.
        // SAFETY: as above.
        unsafe {
            core::arch::asm!(
                "sub rsp, 136", "lea rax, [rip + 4f]", "mov [rsp], rax", "jmp {entry}", "4:",
                entry = sym capos_rt_alarm_entry, out("rax") _,
            )
        }
        assert_eq!(CALLS.load(Ordering::Relaxed), before + 1);
    }
}
