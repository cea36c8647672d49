; Greets on each COM port and then echoes what each receives, upper-cased,
; back out of the same port, polling the line status registers forever
; (interrupts off).  Bytes from the keyboard controller go to COM1 as
; "K:xx" lines (the scancodes the monitor's sendkey sent).  Used by the console tests: the upper-casing shows the
; bytes went through the guest, and the endless loop keeps instructions
; counting for the trace and signal tests.  A port that is not there reads
; as FFh and is skipped.
%include "lib.inc"

%define LCR 3
%define LSR 5
%define LSR_DR 0x01

start:
        cli
        xor bx, bx
.greet: mov dx, [cs:ports + bx]
        add dx, LCR
        mov al, 3               ; 8 data bits, no parity, 1 stop bit
        out dx, al
        sub dx, LCR
        mov si, hello
.char:  cs lodsb
        test al, al
        jz .digit
        out dx, al
        jmp .char
.digit: mov al, bl
        shr al, 1
        add al, '1'             ; COM1..COM4
        out dx, al
        mov al, `\r`
        out dx, al
        mov al, `\n`
        out dx, al
        add bx, 2
        cmp bx, 8
        jb .greet

poll:   xor bx, bx
.port:  mov dx, [cs:ports + bx]
        add dx, LSR
        in al, dx
        cmp al, 0xff            ; no UART here
        je .next
        test al, LSR_DR
        jz .next
        sub dx, LSR
        in al, dx
        cmp al, 'a'
        jb .send
        cmp al, 'z'
        ja .send
        sub al, 'a' - 'A'
.send:  out dx, al
.next:  add bx, 2
        cmp bx, 8
        jb .port
        in al, 0x64             ; i8042 status: output buffer full?
        test al, 1
        jz poll
        in al, 0x60
        mov ah, al
        mov dx, 0x3f8
        mov al, 'K'
        out dx, al
        mov al, ':'
        out dx, al
        mov al, ah
        shr al, 4
        call hexdigit
        mov al, ah
        and al, 0x0f
        call hexdigit
        mov al, `\r`
        out dx, al
        mov al, `\n`
        out dx, al
        jmp poll

; AL = 0..15 out of DX as a lower-case hex digit.
hexdigit:
        add al, '0'
        cmp al, '9'
        jbe .out
        add al, 'a' - '9' - 1
.out:   out dx, al
        ret

ports:  dw 0x3f8, 0x2f8, 0x3e8, 0x2e8
hello:  db `echo guest up on COM`, 0

        RESET_VECTOR
