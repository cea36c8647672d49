; A boot sector that SeaBIOS loads from the ATA disk (or, built with
; -DCDBOOT, from an El Torito no-emulation CD) and that checks the disk
; path through the BIOS: INT 13h extensions (AH=41h), extended read
; (AH=42h) and, on the disk, extended write (AH=43h) read back.
; Built with -DFLOPPY it boots from a 1.44 MB floppy (drive A:, through
; the 82077AA and ISA DMA) and uses the CHS calls instead: drive
; parameters (AH=08h), read (AH=02h) of LBA 1 and of the last sector of
; cylinder 1, head 1 (LBA 71, "TRACK3-OK"), and a write (AH=03h) of LBA 2
; (CHS 0/0/3) read back.
; Output goes to port 0xE9 and COM1; the verdict leaves through
; isa-debug-exit at 0xF4: 0 = pass (popek exits 1), 1 = fail (exits 3).
; Disk layout (built by run_bios.sh): LBA 1 holds "SECTOR1-OK", LBA 2 is
; where the guest writes "WRITTEN-BY-GUEST".
bits 16
org 0x7c00

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    sti
    mov [drive], dl
    ; COM1: 115200 baud (divisor 1), 8 data bits, no parity, 1 stop bit.
    mov dx, 0x3fb
    mov al, 0x80                ; DLAB
    out dx, al
    mov dx, 0x3f8
    mov al, 1
    out dx, al
    inc dx
    xor al, al
    out dx, al
    mov dx, 0x3fb
    mov al, 0x03
    out dx, al
    mov si, msg_hello
    call print

%ifdef FLOPPY
    ; Drive A: is a 1.44 MB drive: type 4, 80 cylinders, 2 heads, 18 sectors.
    mov ah, 0x08
    mov dl, [drive]
    int 0x13                    ; (ES:DI = the diskette parameter table)
    jc fail
    push ds
    pop es
    cmp bl, 4
    jne fail
    cmp cx, 0x4f12
    jne fail
    cmp dh, 1
    jne fail
    mov si, msg_params
    call print
    mov cx, 0x0002              ; cylinder 0, sector 2 (LBA 1)
    xor dh, dh
    call chs_read
    mov si, 0x8000
    call print
    mov cx, 0x0112              ; cylinder 1, sector 18, head 1 (LBA 71)
    mov dh, 1
    call chs_read
    mov si, 0x8000
    call print
    cmp dword [0x8000], 'TRAC'
    jne fail
    mov si, marker              ; write our marker to LBA 2 (CHS 0/0/3), read it back
    mov di, 0x8000
    mov cx, 512
    rep movsb
    mov ax, 0x0301
    mov cx, 0x0003
    xor dh, dh
    mov dl, [drive]
    mov bx, 0x8000
    int 0x13
    jc fail
    mov di, 0x8000
    mov cx, 512
    xor al, al
    rep stosb
    mov cx, 0x0003
    xor dh, dh
    call chs_read
    mov si, marker
    mov di, 0x8000
    mov cx, marker_len
    repe cmpsb
    jne fail
    mov si, msg_written
    call print
%else
    mov ah, 0x41                ; extensions present?
    mov bx, 0x55aa
    mov dl, [drive]
    int 0x13
    jc fail
    cmp bx, 0xaa55
    jne fail
    mov si, msg_ext
    call print

%ifdef CDBOOT
    ; The primary volume descriptor at 2048-byte LBA 16 starts 01 "CD001".
    mov dword [dap.lba], 16
    call read_sector
    cmp dword [0x8001], 'CD00'
    jne fail
    cmp byte [0x8005], '1'
    jne fail
    mov si, msg_pvd
    call print
%else
    mov dword [dap.lba], 1
    call read_sector
    mov si, 0x8000              ; print what LBA 1 holds
    call print
    ; Write our marker to LBA 2, then read it back.
    mov si, marker
    mov di, 0x8000
    mov cx, 512
    rep movsb
    mov dword [dap.lba], 2
    mov ah, 0x43
    mov al, 0
    mov si, dap
    mov dl, [drive]
    int 0x13
    jc fail
    mov di, 0x8000              ; clear the buffer before reading back
    mov cx, 512
    xor al, al
    rep stosb
    call read_sector
    mov si, marker
    mov di, 0x8000
    mov cx, marker_len
    repe cmpsb
    jne fail
    mov si, msg_written
    call print
%endif
%endif
    mov si, msg_pass
    call print
    mov al, 0
    call exit
    jmp halt

fail:
    mov si, msg_fail
    call print
    mov al, 1
    call exit
halt:
    cli
    hlt
    jmp halt

; One sector at CHS (CX as INT 13h takes it, DH head) into 0000:8000
; through INT 13h AH=02h.
chs_read:
    mov ax, 0x0201
    mov dl, [drive]
    mov bx, 0x8000
    int 0x13
    jc fail
    ret

; One sector at dap.lba into 0000:8000 through INT 13h AH=42h.
read_sector:
    mov ah, 0x42
    mov si, dap
    mov dl, [drive]
    int 0x13
    jc fail
    ret

; Print the NUL-terminated string at DS:SI to port 0xE9 and COM1 (each
; byte once the transmit holding register is empty, LSR bit 5).
print:
    lodsb
    test al, al
    jz .done
    out 0xe9, al
    mov ah, al
    mov dx, 0x3fd
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    mov al, ah
    mov dx, 0x3f8
    out dx, al
    jmp print
.done:
    ret

; Exit through isa-debug-exit with AL once COM1 has sent everything
; (LSR bit 6, transmitter empty).
exit:
    mov ah, al
    mov dx, 0x3fd
.drain:
    in al, dx
    test al, 0x40
    jz .drain
    mov al, ah
    out 0xf4, al
    ret

drive:      db 0
align 4
dap:        db 16, 0            ; size, reserved
            dw 1                ; sectors
            dw 0x8000, 0        ; buffer offset, segment
.lba:       dd 0, 0

msg_hello:   db "boot sector running", 10, 0
msg_ext:     db "int13 extensions present", 10, 0
msg_params:  db "drive parameters: 1.44 MB", 10, 0
%ifdef CDBOOT
msg_pvd:     db "read the ISO volume descriptor", 10, 0
%else
msg_written: db "wrote LBA 2 and read it back", 10, 0
%endif
msg_pass:    db "PASS", 10, 0
msg_fail:    db "FAIL", 10, 0
marker:      db "WRITTEN-BY-GUEST", 10, 0
marker_len   equ $ - marker

times 510-($-$$) db 0
dw 0xaa55
