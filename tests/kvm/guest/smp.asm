; Two vCPUs: the BSP wakes the AP with INIT-SIPI-SIPI through its local APIC
; (Intel SDM vol. 3A, 8.4.4.1 "Typical BSP Initialization Sequence"); the AP
; reports its APIC id (CPUID.01H:EBX[31:24]) to the probe port and sets a flag.
%include "common.inc"
bits 16
org 0
FLAG      equ 0x500
TRAMPOLINE equ 0x10000          ; SIPI vector 0x10
LAPIC_SVR    equ 0xfee000f0
LAPIC_ICR_LO equ 0xfee00300
LAPIC_ICR_HI equ 0xfee00310
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
    mov dword [FLAG], 0
    ; the AP starts in real mode at TRAMPOLINE: copy its code there
    mov esi, ap_code + 0xf0000
    mov edi, TRAMPOLINE
    mov ecx, ap_end - ap_code
    rep movsb
    mov dword [LAPIC_SVR], 0x1ff            ; software-enable the local APIC first
    mov dword [LAPIC_ICR_HI], 1 << 24       ; destination: APIC id 1
    mov dword [LAPIC_ICR_LO], 0x00004500    ; INIT, assert
    mov dword [LAPIC_ICR_LO], 0x00004610    ; SIPI, vector 0x10
    mov dword [LAPIC_ICR_LO], 0x00004610    ; SIPI again, as the SDM says
.wait:
    pause
    cmp dword [FLAG], 1
    jne .wait
    mov eax, 0xbbbb                          ; the BSP's mark after the AP's
    mov dx, PROBE_PORT
    out dx, ax
    exit_pass
bits 16
ap_code:                                     ; runs at 1000:0000
    cli
    mov eax, 1
    cpuid
    shr ebx, 24
    mov ax, bx
    mov dx, PROBE_PORT
    out dx, ax                               ; the AP's APIC id
    xor ax, ax
    mov ds, ax
    mov dword [FLAG], 1
.halt:
    hlt
    jmp .halt
ap_end:
align 8
gdt:
    dq 0
    dq 0x00cf9b000000ffff
    dq 0x00cf93000000ffff
gdt_ptr:
    dw gdt_ptr - gdt - 1
    dd gdt + 0xf0000
reset_vector
