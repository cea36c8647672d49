; The guest of the desktop test (tests/desktop/desktop_test.py): a 64 KiB
; BIOS image that drives the VGA with no VGA BIOS, the keyboard and the
; PS/2 mouse, reporting on the 0xE9 debug console.
;
;   1. Text mode as the VGA comes out of reset (80x25 at B8000h): load one
;      glyph (DBh, a full block) into plane 2, write a title, print READY1.
;   2. Print every byte the keyboard sends ("KEY xx") until Return's make
;      code (1Ch).
;   3. Give the VGA's BAR0 (00:02.0) the address E0000000h, set the Bochs
;      VBE mode 640x480x32 with the linear framebuffer, and draw from
;      32-bit protected mode: an orange square (100..199, 50..149) and a
;      white pixel at (0,0).  Print READY2.
;   4. Enable the mouse and print its first packet ("MOUSE b0 b1 b2"), then
;      READY3, and halt.  The test closes the window; popek exits.
%include "lib.inc"

%define LFB 0xe0000000
%define VGA_BDF 0x80001000      ; config address of 00:02.0

start:
        cli
        xor ax, ax
        mov ss, ax
        mov sp, 0x7000
        mov ds, ax
        PIC_MASKED

        ; ---- 1. text ----
        call load_block_glyph
        mov ax, 0xb800
        mov es, ax
        xor di, di
        mov ax, 0x0edb          ; two yellow full blocks
        stosw
        stosw
        mov si, title
        mov ah, 0x1f            ; white on blue
.title: cs lodsb
        test al, al
        jz .title_done
        stosw
        jmp .title
.title_done:
        PRINT `READY1\n`

        ; ---- 2. keys ----
.key:   call read_kbd
        push ax
        PRINT `KEY `
        pop ax
        push ax
        call print_hex8
        PRINT `\n`
        pop ax
        cmp al, 0x1c
        jne .key

        ; ---- 3. VBE with the linear framebuffer ----
        mov eax, VGA_BDF | 0x10
        mov dx, 0xcf8
        out dx, eax
        mov eax, LFB
        mov dx, 0xcfc
        out dx, eax
        mov eax, VGA_BDF | 0x04
        mov dx, 0xcf8
        out dx, eax
        mov eax, 3              ; I/O and memory decoding
        mov dx, 0xcfc
        out dx, eax
        mov si, vbe_mode
        mov cx, 4
.vbe:   mov ax, [cs:si]
        mov dx, 0x1ce
        out dx, ax
        mov ax, [cs:si + 2]
        mov dx, 0x1cf
        out dx, ax
        add si, 4
        loop .vbe

        A20_ON
        LOAD_GDT16 gdt, gdt_end, GDT_ADDR
        ENTER_PM32 KCODE, KDATA
        mov esp, 0x7000
        mov dword [LFB], 0x00ffffff
        mov edi, LFB + (50 * 640 + 100) * 4
        mov edx, 100            ; rows
.row:   mov ecx, 100
        mov eax, 0x00ff8000
        push edi
        rep stosd
        pop edi
        add edi, 640 * 4
        dec edx
        jnz .row
        PRINT32 `READY2\n`

        ; ---- 4. mouse ----
        mov al, 0xa8            ; enable the auxiliary port
        out 0x64, al
        mov al, 0xd4            ; next data byte to the mouse
        out 0x64, al
        mov al, 0xf4            ; enable data reporting
        out 0x60, al
.ack:   call read_aux32
        cmp al, 0xfa
        jne .ack
        PRINT32 `MOUSE`
        mov ecx, 3
.pkt:   call read_aux32
        PRINT32 ` `
        movzx ebx, al
        PRINT_HEX32 ebx
        loop .pkt
        PRINT32 `\nREADY3\n`
.idle:  hlt
        jmp .idle

; Wait for a keyboard byte (OBF set, AUXB clear) into AL.
        bits 16
read_kbd:
        in al, 0x64
        test al, 1
        jz read_kbd
        test al, 0x20
        jnz .aux
        in al, 0x60
        ret
.aux:   in al, 0x60             ; a mouse byte here: not ours
        jmp read_kbd

; Print AL as two hex digits on the debug console.
print_hex8:
        push ax
        shr al, 4
        call .nibble
        pop ax
.nibble:
        and al, 0x0f
        add al, '0'
        cmp al, '9'
        jbe .out
        add al, 'a' - '0' - 10
.out:   out DEBUGCON, al
        ret

; Put a full block (16 lines of FFh) at glyph DBh of font 0, as a BIOS
; loads fonts: plane 2 alone, sequential addressing, A0000h 64 KiB.
load_block_glyph:
        mov dx, 0x3c4
        mov ax, 0x0402          ; SR2: plane 2
        out dx, ax
        mov ax, 0x0604          ; SR4: odd/even off
        out dx, ax
        mov dx, 0x3ce
        mov ax, 0x0204          ; GR4: read plane 2
        out dx, ax
        mov ax, 0x0005          ; GR5: write mode 0, no odd/even
        out dx, ax
        mov ax, 0x0406          ; GR6: A0000h 64 KiB, still text
        out dx, ax
        mov ax, 0xa000
        mov es, ax
        mov di, 0xdb * 32
        mov cx, 16
        mov al, 0xff
        cld
        rep stosb
        mov dx, 0x3c4
        mov ax, 0x0302          ; back to mode 3: planes 0 and 1
        out dx, ax
        mov ax, 0x0204          ; odd/even
        out dx, ax
        mov dx, 0x3ce
        mov ax, 0x0004
        out dx, ax
        mov ax, 0x1005
        out dx, ax
        mov ax, 0x0e06          ; B8000h 32 KiB, text
        out dx, ax
        ret

; Wait for a mouse byte (OBF and AUXB) into AL; keyboard bytes are dropped.
        bits 32
read_aux32:
        in al, 0x64
        test al, 1
        jz read_aux32
        test al, 0x20
        jz .kbd
        in al, 0x60
        ret
.kbd:   in al, 0x60
        jmp read_aux32

title:  db ' POPEK DESKTOP TEST', 0

vbe_mode:
        dw 1, 640               ; XRES
        dw 2, 480               ; YRES
        dw 3, 32                ; BPP
        dw 4, 0x41              ; ENABLE: enabled, linear framebuffer

        align 8
gdt:
        dq 0
        DESC 0, 0xfffff, 0x9a, 0xc              ; 08: code, flat, 32-bit
        DESC 0, 0xfffff, 0x92, 0xc              ; 10: data, flat, 4 GiB
gdt_end:

        RESET_VECTOR
