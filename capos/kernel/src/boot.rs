//! PVH entry: QEMU's `-kernel` finds the Xen ELF note, loads the image at its physical address
//! and jumps to `pvh_start32` in 32-bit protected mode with paging off and `ebx` pointing at
//! the `hvm_start_info` structure.
//!
//! The stub builds boot page tables that map the first 4 GiB twice (identity, so the next
//! instruction still runs, and at `DIRECT_MAP`), plus the first GiB at `KERNEL_VMA` where the
//! kernel is linked, enables long mode with SSE and NX, and calls `kmain` in the higher half.

use core::arch::global_asm;

// region: pvh-note
// The note's descriptor is the 32-bit physical entry address (XEN_ELFNOTE_PHYS32_ENTRY = 18).
global_asm!(
    r#"
    .section .note.pvh, "a", @note
    .p2align 2
    .long 4
    .long 4
    .long 18
    .asciz "Xen"
    .p2align 2
    .long pvh_start32
    .p2align 2
    "#
);
// endregion: pvh-note

// region: pvh-entry
global_asm!(
    r#"
    .section .boot.bss, "aw", @nobits
    .p2align 12
    .global boot_pml4
boot_pml4:    .skip 4096
boot_pdpt_dm: .skip 4096
boot_pdpt_k:  .skip 4096
boot_pd:      .skip 4096 * 4
boot_stack:   .skip 4096
boot_stack_top:

    .section .boot.data, "aw"
    .p2align 3
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff
    .quad 0x00cf92000000ffff
boot_gdt_ptr:
    .word boot_gdt_ptr - boot_gdt - 1
    .long boot_gdt
    .global boot_tsc
boot_tsc_lo: .long 0
boot_tsc_hi: .long 0

    .section .boot.text, "ax"
    .code32
    .global pvh_start32
pvh_start32:
    cli
    cld
    mov %ebx, %esi
    rdtsc
    mov %eax, boot_tsc_lo
    mov %edx, boot_tsc_hi
    mov $boot_stack_top, %esp

    mov $boot_pml4, %edi
    xor %eax, %eax
    mov $(7 * 4096 / 4), %ecx
    rep stosl

    mov $(boot_pdpt_dm + 3), %eax
    mov %eax, boot_pml4
    mov %eax, boot_pml4 + 256 * 8
    mov $(boot_pdpt_k + 3), %eax
    mov %eax, boot_pml4 + 511 * 8

    mov $(boot_pd + 3), %eax
    mov %eax, boot_pdpt_dm
    mov %eax, boot_pdpt_k + 510 * 8
    add $4096, %eax
    mov %eax, boot_pdpt_dm + 8
    add $4096, %eax
    mov %eax, boot_pdpt_dm + 16
    add $4096, %eax
    mov %eax, boot_pdpt_dm + 24

    mov $boot_pd, %edi
    mov $0x83, %eax
    mov $2048, %ecx
1:  mov %eax, (%edi)
    movl $0, 4(%edi)
    add $0x200000, %eax
    add $8, %edi
    loop 1b

    mov %cr4, %eax
    or $0x620, %eax
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov $0xC0000080, %ecx
    rdmsr
    or $0x901, %eax
    wrmsr
    mov %cr0, %eax
    and $0xfffffffb, %eax
    or $0x80010023, %eax
    mov %eax, %cr0

    lgdt boot_gdt_ptr
    ljmp $0x08, $boot_long

    .code64
boot_long:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %eax, %eax
    mov %ax, %fs
    mov %ax, %gs
    movabs $__bss_start, %rdi
    movabs $__bss_end, %rcx
    sub %rdi, %rcx
    xor %eax, %eax
    rep stosb
    movabs $kernel_stack_top, %rsp
    mov %esi, %edi
    mov boot_tsc_lo, %eax
    mov boot_tsc_hi, %edx
    shl $32, %rdx
    or %rdx, %rax
    mov %rax, %rsi
    movabs $kmain, %rax
    call *%rax
2:  hlt
    jmp 2b
    "#,
    options(att_syntax)
);
// endregion: pvh-entry

/// Physical address of the boot PML4, which becomes the kernel's template address space.
pub fn boot_pml4_phys() -> u64 {
    extern "C" {
        static boot_pml4: u8;
    }
    // Only the address is taken (no read), which needs no unsafe.
    core::ptr::addr_of!(boot_pml4) as u64
}

// region: start-info
/// What the kernel needs from `hvm_start_info` (Xen PVH ABI, version 1).
pub struct StartInfo {
    pub memory: [(u64, u64); 32],
    pub memory_count: usize,
    /// Physical address and size of the first module (the initrd = manifest.bin).
    pub module: Option<(u64, u64)>,
    /// Physical address of the ACPI RSDP, or 0 when the loader did not say.
    pub rsdp: u64,
}

const START_MAGIC: u32 = 0x336e_c578;
const E820_RAM: u32 = 1;

/// Reads the start info through the direct map. A wrong magic is a boot failure (panic):
/// nothing a process controls can cause it.
pub fn read_start_info(phys: u64) -> StartInfo {
    let rd32 = |a: u64| crate::mem::read_phys::<u32>(a);
    let rd64 = |a: u64| crate::mem::read_phys::<u64>(a);
    assert!(rd32(phys) == START_MAGIC, "bad pvh start info magic");
    let nr_modules = rd32(phys + 12);
    let modlist = rd64(phys + 16);
    let memmap = rd64(phys + 40);
    let memmap_entries = rd32(phys + 48);
    let mut info = StartInfo { memory: [(0, 0); 32], memory_count: 0, module: None, rsdp: rd64(phys + 32) };
    if nr_modules > 0 && modlist != 0 {
        info.module = Some((rd64(modlist), rd64(modlist + 8)));
    }
    for i in 0..memmap_entries as u64 {
        let e = memmap + i * 24;
        if rd32(e + 16) == E820_RAM && info.memory_count < info.memory.len() {
            info.memory[info.memory_count] = (rd64(e), rd64(e + 8));
            info.memory_count += 1;
        }
    }
    info
}
// endregion: start-info
