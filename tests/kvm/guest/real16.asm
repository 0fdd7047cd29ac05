; Real mode: port exits of 1/2/4 bytes, string I/O, MMIO exits of 1/2/4 bytes.
%include "common.inc"
bits 16
org 0
%define M(x) es:(x)
start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7000
    mov es, ax                  ; rep insw stores through ES:DI
    port_sequence
    mov ax, PROBE_MMIO >> 4     ; ES reaches the probe's memory
    mov es, ax
    mmio_sequence
    exit_pass
reset_vector
