//! The two syscalls. `syscall` clobbers rcx and r11; the other argument registers are marked
//! clobbered too so the runtime does not depend on the kernel preserving them.
use capos_abi::syscall::{SYS_CAP_ENTER, SYS_EXIT};

/// Ends the process with `code`.
pub fn exit(code: i32) -> ! {
    // SAFETY: SYS_EXIT takes the code in rdi and never returns; no memory is touched.
    unsafe {
        core::arch::asm!("syscall", in("rax") SYS_EXIT, in("rdi") code as i64 as u64, options(noreturn, nostack));
    }
}

/// Processes submitted SQEs and waits until `min_complete` CQEs are available or `timeout_ns`
/// passed. Returns the number of CQEs available.
pub fn cap_enter(min_complete: u32, timeout_ns: u64) -> u64 {
    let available: u64;
    // SAFETY: the kernel reads the ring page (which this process owns) and writes completions to
    // it; the ring is only accessed through volatile/atomic operations in `ring`.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") SYS_CAP_ENTER => available,
            inlateout("rdi") min_complete as u64 => _,
            inlateout("rsi") timeout_ns => _,
            lateout("rdx") _, lateout("rcx") _, lateout("r8") _, lateout("r9") _, lateout("r10") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    available
}
