//! The two system calls. Arguments come from the saved registers (rax = number, rdi, rsi);
//! the result goes into the saved rax the process resumes with.

use crate::arch::cpu::{wrmsr, IA32_FMASK, IA32_LSTAR, IA32_STAR};
use crate::arch::entry::syscall_entry;
use crate::arch::gdt::KERNEL_CS;
use crate::process::{ExitStatus, Pid};
use crate::sched::{self, Kernel};
use capos_abi::syscall::{SYS_CAP_ENTER, SYS_EXIT, UNKNOWN_SYSCALL};

// region: msr
/// Programs `syscall`: kernel CS/SS from STAR[47:32], user selectors for a later `sysret`
/// from STAR[63:48] (user data = base + 8, user code = base + 16), entry in LSTAR, and RFLAGS
/// bits to clear on entry (IF, TF, DF, AC, NT) in FMASK. EFER.SCE was set by the boot stub.
pub fn init() {
    let star = ((0x10u64) << 48) | ((KERNEL_CS as u64) << 32);
    // SAFETY: the entry point and selectors match the GDT and the stub in entry.rs.
    unsafe {
        wrmsr(IA32_STAR, star);
        wrmsr(IA32_LSTAR, syscall_entry as *const () as u64);
        wrmsr(IA32_FMASK, 0x4_4700);
    }
}
// endregion: msr

// region: dispatch
pub fn handle(k: &mut Kernel, pid: Pid) {
    let Some(ctx) = k.ctx_mut(pid) else { return };
    let (number, a0, a1) = (ctx.regs.rax, ctx.regs.rdi, ctx.regs.rsi);
    match number {
        SYS_EXIT => sched::exit(k, pid, ExitStatus::Exited(a0 as i32)),
        SYS_CAP_ENTER => sched::cap_enter(k, pid, a0, a1),
        _ => ctx.regs.rax = UNKNOWN_SYSCALL,
    }
}
// endregion: dispatch
