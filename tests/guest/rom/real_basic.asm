; Real mode basics: stack, arithmetic and flags, string moves, far call and
; return, and an INT through the interrupt vector table.
%include "lib.inc"

start:
        cli
        xor ax, ax
        mov ss, ax
        mov sp, 0x7000
        mov ds, ax
        mov es, ax

        ; arithmetic and flags
        mov ax, 0xffff
        add ax, 1
        jnc .bad_carry
        jnz .bad_zero
        mov bx, 7
        mov ax, 6
        mul bx
        CHECK_EQ ax, 42, "mul"

        ; rep movsb copies within RAM
        mov di, 0x1000
        mov cx, 16
        mov al, 0x5a
        rep stosb
        mov si, 0x1000
        mov di, 0x2000
        mov cx, 16
        rep movsb
        CHECK_EQ byte [0x200f], 0x5a, "rep movsb"
        CHECK_EQ cx, 0, "rep count"

        ; INT 0x40 through the IVT
        mov word [0x40 * 4], int40
        mov word [0x40 * 4 + 2], cs
        mov bx, 0
        int 0x40
        CHECK_EQ bx, 0x1234, "int 0x40"

        ; far call and return
        call 0xf000:farproc
        CHECK_EQ dx, 0xbeef, "far call"
        PASS
.bad_carry:
        FAIL "carry"
.bad_zero:
        FAIL "zero"

int40:
        mov bx, 0x1234
        iret

farproc:
        mov dx, 0xbeef
        retf

        RESET_VECTOR
