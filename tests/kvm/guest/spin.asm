; A guest that only runs: the monitor and QMP tests stop, inspect and reset it.
; It counts in EAX so that `info registers` shows it moving.
%include "common.inc"
bits 16
org 0
start:
    cli
    xor eax, eax
.loop:
    inc eax
    jmp .loop
reset_vector
