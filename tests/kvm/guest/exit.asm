; The first instruction ends the run through isa-debug-exit: the start-up
; benchmark's guest (process time = start-up + one exit).
%include "common.inc"
bits 16
org 0
start:
    exit_pass
reset_vector
