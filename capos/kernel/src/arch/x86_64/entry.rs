//! Kernel entry and exit: exception/interrupt stubs, the `syscall` entry and `enter_user`.
//!
//! Every entry from ring 3 builds the same [`TrapFrame`] on the kernel stack (the CPU pushes
//! the iret frame, the stub adds vector and error code, `trap_common` adds the registers). The
//! FPU/SSE registers are not saved on entry: the kernel is built soft-float and never touches
//! them, so they keep the last process's state until the scheduler switches to another process
//! (see [`fpu_save`]). Returning to a process always starts from a saved
//! [`UserContext`] (`sysretq` after a syscall, `iretq` otherwise), so the kernel never needs a
//! stack per process: a blocked process is just its saved context (see sched.rs). The one entry
//! that returns the ordinary way is a timer interrupt taken while the idle loop halts in ring 0:
//! `trap_entry` returns and `trap_common` pops the frame it pushed.

use core::arch::global_asm;

// region: frame
/// Registers as `trap_common` leaves them on the stack (lowest address first).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    /// Exception/interrupt vector, or [`VECTOR_SYSCALL`].
    pub vector: u64,
    pub error: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

/// The pseudo-vector the `syscall` entry records.
pub const VECTOR_SYSCALL: u64 = 256;

/// Everything needed to resume a process: its registers and its FXSAVE image.
#[repr(C, align(16))]
#[derive(Clone)]
pub struct UserContext {
    pub regs: TrapFrame,
    _pad: [u64; 2],
    pub fx: [u8; 512],
}
// endregion: frame

const _: () = assert!(core::mem::size_of::<TrapFrame>() == 176);
const _: () = assert!(core::mem::offset_of!(UserContext, fx) == 192);

impl UserContext {
    /// A fresh ring-3 context: interrupts enabled, default FPU state (x87 control word 0x37f,
    /// MXCSR 0x1f80 with all exceptions masked).
    pub fn new(entry: u64, stack_top: u64, args: [u64; 3]) -> Self {
        let mut fx = [0u8; 512];
        fx[0..2].copy_from_slice(&0x037fu16.to_le_bytes());
        fx[24..28].copy_from_slice(&0x1f80u32.to_le_bytes());
        fx[28..32].copy_from_slice(&0xffffu32.to_le_bytes());
        let regs = TrapFrame {
            rip: entry,
            cs: super::gdt::USER_CS as u64,
            rflags: 0x202,
            rsp: stack_top,
            ss: super::gdt::USER_DS as u64,
            rdi: args[0],
            rsi: args[1],
            rdx: args[2],
            ..TrapFrame::default()
        };
        UserContext { regs, _pad: [0; 2], fx }
    }

    /// Copies a frame saved by the entry path into this context. The FPU state is not part of
    /// it: it stays in the registers until [`fpu_save`] moves it here.
    pub fn save(&mut self, frame: &TrapFrame) {
        self.regs = *frame;
    }
}

extern "C" {
    fn enter_user_asm(ctx: *const UserContext) -> !;
    pub fn syscall_entry();
    pub static trap_stubs: [u64; 48];
}

// region: enter-user
/// Resumes a process. Segment selectors and RFLAGS are forced to user values, so a context a
/// process influenced can never return to ring 0 or with IOPL raised.
pub fn enter_user(ctx: &mut UserContext) -> ! {
    ctx.regs.cs = super::gdt::USER_CS as u64;
    ctx.regs.ss = super::gdt::USER_DS as u64;
    ctx.regs.rflags = (ctx.regs.rflags & 0xcd5) | 0x202;
    // SAFETY: the context holds user selectors and flags (forced above) and a saved FPU image;
    // iretq to ring 3 cannot harm the kernel, and the kernel stack is reset on the next entry.
    unsafe { enter_user_asm(ctx) }
}
// endregion: enter-user

// region: fpu-switch
/// The FPU registers hold the state of the last process that ran in ring 3 (the soft-float
/// kernel never touches them), so they are saved and loaded only when the scheduler switches to
/// a different process: [`fpu_save`] into the process that leaves, [`fpu_load`] from the one
/// that runs next. Staying with the same process costs nothing.
pub fn fpu_save(ctx: &mut UserContext) {
    // SAFETY: `fx` is 512 bytes and 16-byte aligned (`UserContext` is `align(16)`, the offset
    // 192 is asserted above), as fxsave64 requires; it writes those bytes and nothing else.
    unsafe { core::arch::asm!("fxsave64 [{}]", in(reg) ctx.fx.as_mut_ptr(), options(nostack)) };
}

/// Loads a context's FPU image into the registers (see [`fpu_save`]).
pub fn fpu_load(ctx: &UserContext) {
    // SAFETY: as in `fpu_save`; the image came from fxsave64 or from `UserContext::new`, whose
    // reserved MXCSR bits are clear, so fxrstor64 cannot fault.
    unsafe { core::arch::asm!("fxrstor64 [{}]", in(reg) ctx.fx.as_ptr(), options(nostack, readonly)) };
}
// endregion: fpu-switch

global_asm!(
    r#"
    .section .bss
    .p2align 3
user_rsp_scratch:
    .skip 8

    .section .text
    .global syscall_entry
syscall_entry:
    mov %rsp, user_rsp_scratch(%rip)
    lea kernel_stack_top(%rip), %rsp
    push $0x1b
    push user_rsp_scratch(%rip)
    push %r11
    push $0x23
    push %rcx
    push $0
    push $256
    jmp trap_common

trap_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    cld
    mov %rsp, %rdi
    mov %rsp, %rbx
    and $-16, %rsp
    call trap_entry
    // trap_entry returns only for an interrupt taken in ring 0 (the idle hlt): undo the entry.
    mov %rbx, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp
    iretq

    .global enter_user_asm
    // region: enter-user-asm
enter_user_asm:
    // Back from a syscall to a canonical user address: sysretq (rcx = rip, r11 = rflags, the
    // registers `syscall` clobbers anyway) is much cheaper than iretq under TCG, which loads
    // and checks both segment descriptors. Everything else (interrupts, faults, a fresh
    // process) returns through iretq, which restores every register.
    cmpq $256, 120(%rdi)
    jne 1f
    mov 136(%rdi), %rax
    shr $47, %rax
    jnz 1f
    mov 0(%rdi), %r15
    mov 8(%rdi), %r14
    mov 16(%rdi), %r13
    mov 24(%rdi), %r12
    mov 40(%rdi), %r10
    mov 48(%rdi), %r9
    mov 56(%rdi), %r8
    mov 64(%rdi), %rbp
    mov 80(%rdi), %rsi
    mov 88(%rdi), %rdx
    mov 104(%rdi), %rbx
    mov 112(%rdi), %rax
    mov 136(%rdi), %rcx
    mov 152(%rdi), %r11
    mov 160(%rdi), %rsp
    mov 72(%rdi), %rdi
    sysretq
    // endregion: enter-user-asm
1:
    lea kernel_stack_top(%rip), %rsp
    push 168(%rdi)
    push 160(%rdi)
    push 152(%rdi)
    push 144(%rdi)
    push 136(%rdi)
    mov 0(%rdi), %r15
    mov 8(%rdi), %r14
    mov 16(%rdi), %r13
    mov 24(%rdi), %r12
    mov 32(%rdi), %r11
    mov 40(%rdi), %r10
    mov 48(%rdi), %r9
    mov 56(%rdi), %r8
    mov 64(%rdi), %rbp
    mov 80(%rdi), %rsi
    mov 88(%rdi), %rdx
    mov 96(%rdi), %rcx
    mov 104(%rdi), %rbx
    mov 112(%rdi), %rax
    mov 72(%rdi), %rdi
    iretq

trap_stub_0:
    push $0
    push $0
    jmp trap_common
trap_stub_1:
    push $0
    push $1
    jmp trap_common
trap_stub_2:
    push $0
    push $2
    jmp trap_common
trap_stub_3:
    push $0
    push $3
    jmp trap_common
trap_stub_4:
    push $0
    push $4
    jmp trap_common
trap_stub_5:
    push $0
    push $5
    jmp trap_common
trap_stub_6:
    push $0
    push $6
    jmp trap_common
trap_stub_7:
    push $0
    push $7
    jmp trap_common
trap_stub_8:
    push $8
    jmp trap_common
trap_stub_9:
    push $0
    push $9
    jmp trap_common
trap_stub_10:
    push $10
    jmp trap_common
trap_stub_11:
    push $11
    jmp trap_common
trap_stub_12:
    push $12
    jmp trap_common
trap_stub_13:
    push $13
    jmp trap_common
trap_stub_14:
    push $14
    jmp trap_common
trap_stub_15:
    push $0
    push $15
    jmp trap_common
trap_stub_16:
    push $0
    push $16
    jmp trap_common
trap_stub_17:
    push $17
    jmp trap_common
trap_stub_18:
    push $0
    push $18
    jmp trap_common
trap_stub_19:
    push $0
    push $19
    jmp trap_common
trap_stub_20:
    push $0
    push $20
    jmp trap_common
trap_stub_21:
    push $21
    jmp trap_common
trap_stub_22:
    push $0
    push $22
    jmp trap_common
trap_stub_23:
    push $0
    push $23
    jmp trap_common
trap_stub_24:
    push $0
    push $24
    jmp trap_common
trap_stub_25:
    push $0
    push $25
    jmp trap_common
trap_stub_26:
    push $0
    push $26
    jmp trap_common
trap_stub_27:
    push $0
    push $27
    jmp trap_common
trap_stub_28:
    push $0
    push $28
    jmp trap_common
trap_stub_29:
    push $29
    jmp trap_common
trap_stub_30:
    push $30
    jmp trap_common
trap_stub_31:
    push $0
    push $31
    jmp trap_common
trap_stub_32:
    push $0
    push $32
    jmp trap_common
trap_stub_33:
    push $0
    push $33
    jmp trap_common
trap_stub_34:
    push $0
    push $34
    jmp trap_common
trap_stub_35:
    push $0
    push $35
    jmp trap_common
trap_stub_36:
    push $0
    push $36
    jmp trap_common
trap_stub_37:
    push $0
    push $37
    jmp trap_common
trap_stub_38:
    push $0
    push $38
    jmp trap_common
trap_stub_39:
    push $0
    push $39
    jmp trap_common
trap_stub_40:
    push $0
    push $40
    jmp trap_common
trap_stub_41:
    push $0
    push $41
    jmp trap_common
trap_stub_42:
    push $0
    push $42
    jmp trap_common
trap_stub_43:
    push $0
    push $43
    jmp trap_common
trap_stub_44:
    push $0
    push $44
    jmp trap_common
trap_stub_45:
    push $0
    push $45
    jmp trap_common
trap_stub_46:
    push $0
    push $46
    jmp trap_common
trap_stub_47:
    push $0
    push $47
    jmp trap_common
    .section .rodata
    .p2align 3
    .global trap_stubs
trap_stubs:
    .quad trap_stub_0
    .quad trap_stub_1
    .quad trap_stub_2
    .quad trap_stub_3
    .quad trap_stub_4
    .quad trap_stub_5
    .quad trap_stub_6
    .quad trap_stub_7
    .quad trap_stub_8
    .quad trap_stub_9
    .quad trap_stub_10
    .quad trap_stub_11
    .quad trap_stub_12
    .quad trap_stub_13
    .quad trap_stub_14
    .quad trap_stub_15
    .quad trap_stub_16
    .quad trap_stub_17
    .quad trap_stub_18
    .quad trap_stub_19
    .quad trap_stub_20
    .quad trap_stub_21
    .quad trap_stub_22
    .quad trap_stub_23
    .quad trap_stub_24
    .quad trap_stub_25
    .quad trap_stub_26
    .quad trap_stub_27
    .quad trap_stub_28
    .quad trap_stub_29
    .quad trap_stub_30
    .quad trap_stub_31
    .quad trap_stub_32
    .quad trap_stub_33
    .quad trap_stub_34
    .quad trap_stub_35
    .quad trap_stub_36
    .quad trap_stub_37
    .quad trap_stub_38
    .quad trap_stub_39
    .quad trap_stub_40
    .quad trap_stub_41
    .quad trap_stub_42
    .quad trap_stub_43
    .quad trap_stub_44
    .quad trap_stub_45
    .quad trap_stub_46
    .quad trap_stub_47
    "#,
    options(att_syntax)
);
