; 32-bit protected mode: the same, plus 8-byte MMIO through an MMX register
; (MOVQ mm/m64, 0F 6F / 0F 7F: one 8-byte access).
%include "common.inc"
bits 16
org 0
%define M(x) PROBE_MMIO + (x)
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
    port_sequence
    mmio_sequence
    ; MMX for an 8-byte access: CR0.EM = 0, CR0.TS = 0
    mov eax, cr0
    and eax, ~(4 | 8)
    mov cr0, eax
    movq mm0, [qword_value + 0xf0000]
    movq [M(0x50)], mm0         ; 8-byte write
    movq mm1, [M(0x58)]         ; 8-byte read ...
    movq [M(0x60)], mm1         ; ... echoed as an 8-byte write
    emms
    exit_pass
align 8
qword_value: dq 0x1122334455667788
align 8
gdt:
    dq 0
    dq 0x00cf9b000000ffff       ; 0x08: flat 32-bit code
    dq 0x00cf93000000ffff       ; 0x10: flat data
gdt_ptr:
    dw gdt_ptr - gdt - 1
    dd gdt + 0xf0000
reset_vector
