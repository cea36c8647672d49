; A boot sector for tests/desktop/vga_modes_test.py: SeaBIOS boots it from
; an ATA disk; it sets the video mode in the byte before the boot
; signature through the VGA BIOS (INT 10h AH=00h), draws a pattern with
; the BIOS's write-pixel call (AH=0Ch) on every other pixel of every other
; line, colour ((x >> 4) + (y >> 4)) & mask, reads one pixel back
; (AH=0Dh) and prints "DONE" or "BAD" on the 0xE9 debug console.
        bits 16
        org 0x7c00

start:  cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7c00
        sti
        mov al, [mode]
        mov ah, 0x00
        int 0x10
        mov si, modes
.find:  mov al, [si]
        cmp al, [mode]
        je .found
        add si, 6
        cmp si, modes_end
        jb .find
        jmp bad
.found: mov al, [si + 1]
        mov [mask], al
        mov ax, [si + 2]
        mov [width], ax
        mov ax, [si + 4]
        mov [height], ax

        xor dx, dx              ; y
.row:   xor cx, cx              ; x
.pixel: call color
        mov ah, 0x0c            ; write pixel AL at (CX, DX), page BH
        xor bh, bh
        int 0x10
        add cx, 2
        cmp cx, [width]
        jb .pixel
        add dx, 2
        cmp dx, [height]
        jb .row

        ; Read back the pixel at (34, 18): colour (2 + 1) & mask.
        mov cx, 34
        mov dx, 18
        mov ah, 0x0d
        xor bh, bh
        int 0x10
        mov ah, al
        call color
        cmp al, ah
        jne bad
        mov si, done_msg
        jmp print
bad:    mov si, bad_msg
print:  lodsb
        test al, al
        jz .hang
        out 0xe9, al
        jmp print
.hang:  hlt
        jmp .hang

; AL = ((CX >> 4) + (DX >> 4)) & mask; keeps CX and DX.
color:  push cx
        push dx
        shr cx, 4
        shr dx, 4
        add cx, dx
        mov al, cl
        and al, [mask]
        pop dx
        pop cx
        ret

;               mode, colour mask, width, height
modes:  db 0x13, 0x0f
        dw 320, 200
        db 0x12, 0x0f
        dw 640, 480
        db 0x0d, 0x0f
        dw 320, 200
        db 0x04, 0x03
        dw 320, 200
        db 0x6a, 0x0f
        dw 800, 600
modes_end:

done_msg: db `DONE\n`, 0
bad_msg:  db `BAD\n`, 0
mask:   db 0
width:  dw 0
height: dw 0

        times 509 - ($ - $$) db 0
mode:   db 0x13                 ; patched by the test
        dw 0xaa55
