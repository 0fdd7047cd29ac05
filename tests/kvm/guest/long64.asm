; 64-bit long mode: identity-mapped first GiB (2 MiB pages), the same sequence,
; 8-byte MMIO with a general register.
%include "common.inc"
bits 16
org 0
%define M(x) PROBE_MMIO + (x)
PML4 equ 0x1000
PDPT equ 0x2000
PD   equ 0x3000
start:
    cli
    xor ax, ax
    mov ds, ax
    o32 lgdt [cs:gdt_ptr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword 0x08:pm_entry + 0xf0000
bits 32
pm_entry:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x7000
    ; page tables (Intel SDM vol. 3A, 4.5 "4-level paging")
    mov edi, PML4
    xor eax, eax
    mov ecx, 3 * 4096 / 4
    rep stosd
    mov dword [PML4], PDPT | 3
    mov dword [PDPT], PD | 3
    mov edi, PD
    mov eax, 0x83               ; present, writable, 2 MiB page
    mov ecx, 512
.pd:
    mov [edi], eax
    add eax, 0x200000
    add edi, 8
    loop .pd
    mov eax, cr4
    or eax, 1 << 5              ; PAE
    mov cr4, eax
    mov eax, PML4
    mov cr3, eax
    mov ecx, 0xc0000080         ; EFER.LME
    rdmsr
    or eax, 1 << 8
    wrmsr
    mov eax, cr0
    or eax, 1 << 31             ; paging on: long mode active
    mov cr0, eax
    jmp 0x18:lm_entry + 0xf0000
bits 64
lm_entry:
    mov rsp, 0x7000
    port_sequence
    mmio_sequence
    mov rax, 0x1122334455667788
    mov [M(0x50)], rax          ; 8-byte write
    mov rax, [M(0x58)]          ; 8-byte read ...
    mov [M(0x60)], rax          ; ... echoed
    exit_pass
align 8
gdt:
    dq 0
    dq 0x00cf9b000000ffff       ; 0x08: flat 32-bit code
    dq 0x00cf93000000ffff       ; 0x10: flat data
    dq 0x00af9b000000ffff       ; 0x18: 64-bit code (L = 1)
gdt_ptr:
    dw gdt_ptr - gdt - 1
    dd gdt + 0xf0000
reset_vector
