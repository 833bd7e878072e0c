/* Tiny raw test programs for kernel fault handling (no runtime, no caps used).
   Built by build-testdata.sh with -DKIND=<n>; each one traps in its own way. */
    .text
    .global _start
_start:
#if KIND == 1
    ud2                         /* invalid opcode */
#elif KIND == 2
    cli                         /* privileged in ring 3: general protection fault */
#elif KIND == 3
    xor %ecx, %ecx
    mov $1, %eax
    xor %edx, %edx
    div %ecx                    /* divide error */
#elif KIND == 4
    movabs $0xffffffff80100000, %rax
    mov (%rax), %rax            /* kernel address: page fault (protection) */
#elif KIND == 5
    mov %rsp, %rax
    sub $0x100008, %rax
    movq $1, (%rax)             /* just below the 1 MiB stack: the guard page */
#elif KIND == 6
    movabs $0x100000, %rax      /* the ring page is not executable: page fault at the jump target */
    jmp *%rax
#elif KIND == 7
    mov $0x101000, %rax         /* the CapSet page is read-only */
    movq $1, (%rax)
#elif KIND == 8
    mov $99, %eax               /* unknown syscall returns -1, then exit(rax & 0x7f) */
    syscall
    mov %rax, %rdi
    and $0x7f, %rdi
    xor %eax, %eax
    syscall
#endif
    ud2
