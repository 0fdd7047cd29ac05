; The PIT interrupt through the interrupt path Vireo uses with KVM: Vireo's 8254
; raises GSI 0, KVM's in-kernel 8259 passes it to the BSP's local APIC LINT0 in
; virtual-wire mode (Intel MP spec 1.4, 3.6.2.2), and a 32-bit IDT handler counts
; the ticks.  After 5 ticks the count goes to the probe port.
%include "common.inc"
bits 16
org 0
TICKS     equ 0x500
IDT       equ 0x1000
VECTOR    equ 0x20              ; IRQ 0 after the 8259's ICW2 below
LAPIC_SVR equ 0xfee000f0
LAPIC_LVT0 equ 0xfee00350
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
    mov dword [TICKS], 0
    ; IDT: 256 not-present gates, then an interrupt gate for VECTOR
    mov edi, IDT
    xor eax, eax
    mov ecx, 256 * 2
    rep stosd
    mov eax, irq0 + 0xf0000
    mov word [IDT + VECTOR * 8], ax
    mov word [IDT + VECTOR * 8 + 2], 0x08
    mov word [IDT + VECTOR * 8 + 4], 0x8e00     ; present, 32-bit interrupt gate
    shr eax, 16
    mov word [IDT + VECTOR * 8 + 6], ax
    lidt [idt_ptr + 0xf0000]
    ; local APIC: software-enabled, LINT0 = ExtINT (virtual wire)
    mov dword [LAPIC_SVR], 0x1ff
    mov dword [LAPIC_LVT0], 0x700
    ; 8259 master: ICW1 edge + ICW4, ICW2 vector base, ICW3 slave on IR2, ICW4 8086
    mov al, 0x11
    out 0x20, al
    mov al, VECTOR
    out 0x21, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x01
    out 0x21, al
    mov al, 0xfe                ; OCW1: only IRQ 0 unmasked
    out 0x21, al
    ; 8254 channel 0, lobyte/hibyte, mode 3 (square wave, as SeaBIOS programs
    ; it), divisor 1193: 1 kHz
    mov al, 0x36
    out 0x43, al
    mov al, 1193 & 0xff
    out 0x40, al
    mov al, 1193 >> 8
    out 0x40, al
    sti
.wait:
    hlt
    cmp dword [TICKS], 5
    jb .wait
    cli
    mov eax, [TICKS]
    mov dx, PROBE_PORT
    out dx, ax
    exit_pass
irq0:
    push eax
    inc dword [TICKS]
    mov al, 0x20                ; OCW2: non-specific EOI
    out 0x20, al
    pop eax
    iret
align 8
gdt:
    dq 0
    dq 0x00cf9b000000ffff
    dq 0x00cf93000000ffff
gdt_ptr:
    dw gdt_ptr - gdt - 1
    dd gdt + 0xf0000
idt_ptr:
    dw 256 * 8 - 1
    dd IDT
reset_vector
