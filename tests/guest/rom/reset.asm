; System reset through the i8042 (command 0xFE pulses the reset line): the
; machine restarts at the reset vector with RAM and CMOS kept, as a PC does.
; First pass: mark CMOS byte 0x50 and reset; second pass: see the mark and
; reset through port 0xCF9; third pass: PASS.  (With -no-reboot the first
; reset would end popek with status 0 instead, which the test runner rejects.)
%include "lib.inc"

start:
        cli
        mov al, 0x50
        out 0x70, al
        in al, 0x71
        cmp al, 0xa5
        je .second
        cmp al, 0x5a
        je .third
        PRINT `pass 1: i8042 reset\n`
        mov al, 0x50
        out 0x70, al
        mov al, 0xa5
        out 0x71, al
        mov al, 0xfe
        out 0x64, al
.hang1: hlt
        jmp .hang1
.second:
        PRINT `pass 2: 0xCF9 reset\n`
        mov al, 0x50
        out 0x70, al
        mov al, 0x5a
        out 0x71, al
        mov dx, 0xcf9
        mov al, 0x02
        out dx, al
        mov al, 0x06
        out dx, al
.hang2: hlt
        jmp .hang2
.third:
        PASS

        RESET_VECTOR
