//! CPU registers and instructions the kernel needs: MSRs, CR2/CR3, CPUID, TSC, RDRAND/RDSEED.
use core::arch::asm;

pub const IA32_STAR: u32 = 0xC000_0081;
pub const IA32_LSTAR: u32 = 0xC000_0082;
pub const IA32_FMASK: u32 = 0xC000_0084;

/// # Safety
/// Writing an MSR changes CPU behaviour; the caller must know the consequences.
pub unsafe fn wrmsr(msr: u32, value: u64) {
    // SAFETY: forwarded to the caller.
    unsafe { asm!("wrmsr", in("ecx") msr, in("eax") value as u32, in("edx") (value >> 32) as u32, options(nostack)) }
}

pub fn cr2() -> u64 {
    let v: u64;
    // SAFETY: reading CR2 has no side effects.
    unsafe { asm!("mov {}, cr2", out(reg) v, options(nomem, nostack)) }
    v
}

/// # Safety
/// `pml4` must be a valid top-level table that maps the kernel half like the boot tables do.
pub unsafe fn set_cr3(pml4: u64) {
    // SAFETY: forwarded to the caller.
    unsafe { asm!("mov cr3, {}", in(reg) pml4, options(nostack)) }
}

pub fn cr3() -> u64 {
    let v: u64;
    // SAFETY: reading CR3 has no side effects.
    unsafe { asm!("mov {}, cr3", out(reg) v, options(nomem, nostack)) }
    v
}

pub fn cpuid(leaf: u32, sub: u32) -> [u32; 4] {
    let r = core::arch::x86_64::__cpuid_count(leaf, sub);
    [r.eax, r.ebx, r.ecx, r.edx]
}

pub fn rdtsc() -> u64 {
    // SAFETY: RDTSC is available on every x86_64 CPU and has no side effects.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// One RDRAND attempt; None when the CPU reported no value ready (CF = 0).
pub fn rdrand() -> Option<u64> {
    let v: u64;
    let ok: u8;
    // SAFETY: only called after CPUID reported RDRAND.
    unsafe { asm!("rdrand {}", "setc {}", out(reg) v, out(reg_byte) ok, options(nomem, nostack)) }
    (ok != 0).then_some(v)
}

/// One RDSEED attempt; None when the CPU reported no value ready.
pub fn rdseed() -> Option<u64> {
    let v: u64;
    let ok: u8;
    // SAFETY: only called after CPUID reported RDSEED.
    unsafe { asm!("rdseed {}", "setc {}", out(reg) v, out(reg_byte) ok, options(nomem, nostack)) }
    (ok != 0).then_some(v)
}

/// Sleeps until the next interrupt, then turns interrupts off again. The only place ring 0
/// runs with interrupts on: `sti` takes effect after the next instruction, so no interrupt can
/// slip in between it and `hlt` and be missed; the handler returns here (see entry.rs).
pub fn wait_for_interrupt() {
    // SAFETY: the kernel-mode interrupt path in entry.rs saves and restores every general
    // register (the soft-float kernel leaves the FPU alone), and the handlers it calls touch no
    // state this loop holds.
    unsafe { asm!("sti", "hlt", "cli", options(nomem, nostack)) }
}

/// Writes to QEMU's isa-debug-exit port; QEMU exits with `(value << 1) | 1`.
pub fn debug_exit(value: u8) -> ! {
    super::port::outl(0xf4, value as u32);
    loop {
        // SAFETY: interrupts off and halt: the machine stops here if the device is absent.
        unsafe { asm!("cli; hlt", options(nomem, nostack)) }
    }
}
