; Sits idle with interrupts off: HLT forever, after saying so on COM1.
; Used by the terminal tests, which drive popek's -nographic escape keys
; while the guest does nothing.  (It never exits by itself, so it is not run
; as a PASS/FAIL ROM test.)
%include "lib.inc"

start:
        cli
        mov si, msg
        mov dx, 0x3f8           ; COM1 THR: the UART sends at once
.next:  cs lodsb
        test al, al
        jz .wait
        out dx, al
        jmp .next
.wait:  hlt
        jmp .wait
msg:    db `idle guest up\r\n`, 0

        RESET_VECTOR
