; The fixed program behind the golden trace (tests/debug/golden.trace):
; real-mode arithmetic, a counted loop, a divide error delivered through the
; IVT, and the exit through isa-debug-exit (port 0xf4).  Every value in the
; trace follows from the SDM: see the comments.
        bits 16
        org 0                   ; the image is F0000h-FFFFFh, CS = F000h

start:
        cli
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7000
        mov word [0], de_handler ; IVT entry 0 (#DE) = F000:de_handler
        mov word [2], 0xf000
        mov ax, 0x1234
        mov bx, ax
        add ax, bx              ; AX = 2468h
        mov cx, 3
.loop:  shl ax, 1               ; 48D0h, 91A0h, 2340h (CF=1 on the third)
        dec cx
        jnz .loop
        xor dx, dx
        xor bx, bx
        div bx                  ; #DE: a fault, IP pushed = this instruction
        hlt
de_handler:
        mov dx, 0xf4
        mov al, 0
        out dx, al              ; isa-debug-exit: popek exits with status 1

        times 0xfff0 - ($ - $$) db 0xff
        jmp 0xf000:start
        times 0x10000 - ($ - $$) db 0xff
