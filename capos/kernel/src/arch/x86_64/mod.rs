//! x86_64 specifics: port I/O, MSRs, CPUID, control registers, descriptor tables, entry paths.

pub mod apic;
pub mod cpu;
pub mod entry;
pub mod gdt;
pub mod idt;
pub mod pic;
pub mod port;
pub mod stacks;

pub use entry::{enter_user, fpu_load, fpu_save, TrapFrame, UserContext};
