; A guest that floods its NIC both ways (tests/guest/resource_bounds.py):
; it transmits without end, as fast as the card takes frames, and gives the
; card a few receive buffers that it never hands back, so every frame for
; it after those finds the ring full.  popek's queues must drop, not grow.
; Assembled once per card (nasm -DMODE_x):
;   MODE_E1000   the 82540EM at PCI 8086:100E (BAR0 memory): a 16-entry
;                transmit ring whose tail moves 15 entries on at every
;                write; 8 receive descriptors, RDT never moved again
;   MODE_VIRTIO  virtio-net through the legacy interface (1AF4:1000, BAR0
;                I/O, virtio 0.9.5 2.3): queue 1 (transmit) refilled as the
;                device uses it, queue 0 (receive) given 4 buffers once
; The frame is a UDP datagram from 10.0.2.15:1234 to 10.0.2.2:9 (the user
; network's host, its discard port), to broadcast.  Says "flood up" on COM1
; once the card is set up.
%include "lib.inc"

%define STACK 0x9f000
%define FRAME_LEN 60

start:
        cli
        mov ax, 0
        mov ss, ax
        mov sp, 0x7000
        mov ds, ax
        A20_ON
        LOAD_GDT16 gdt, gdt_end, GDT_ADDR
        ENTER_PM32 KCODE, KDATA
        mov esp, STACK
%ifdef MODE_E1000
        mov edi, 0x100e8086
%else
        mov edi, 0x10001af4
%endif
        call pci_find           ; EBX = the card's config address
%ifdef MODE_E1000
        jmp e1000_flood
%else
        jmp virtio_flood
%endif

; EBX = config address (bus 0, function 0) of the device whose ID is EDI.
pci_find:
        mov ebx, 0x80000000
.next:  mov eax, ebx
        mov dx, 0xcf8
        out dx, eax
        mov dx, 0xcfc
        in eax, dx
        cmp eax, edi
        je .found
        add ebx, 0x800
        cmp ebx, 0x80010000
        jb .next
.none:  hlt                     ; no such card: nothing to flood
        jmp .none
.found: ret

; Config register EAX (offset) of the device at EBX := ECX.
pci_write:
        or eax, ebx
        mov dx, 0xcf8
        out dx, eax
        mov dx, 0xcfc
        mov eax, ecx
        out dx, eax
        ret

; The frame at EDI (and "flood up" on COM1).
put_frame:
        mov esi, ROMBASE + frame
        mov ecx, FRAME_LEN
        cld
        rep movsb
        mov dx, 0x3fb           ; LCR: 8 data bits
        mov al, 0x03
        out dx, al
        mov esi, ROMBASE + msg
        mov dx, 0x3f8
.say:   lodsb
        test al, al
        jz .said
        out dx, al
        jmp .say
.said:  ret

%ifdef MODE_E1000
%define MMIO 0xfebc0000
%define TXR 0x100000            ; 16 transmit descriptors
%define RXR 0x101000            ; 8 receive descriptors
%define RXBUF 0x102000          ; 8 x 2 KiB
%define FRAME 0x106000
e1000_flood:
        mov eax, 0x10           ; BAR0
        mov ecx, MMIO
        call pci_write
        mov eax, 0x04           ; command: memory space, bus master
        mov ecx, 0x06
        call pci_write
        mov dword [MMIO + 0x0000], 0x40         ; CTRL: set link up
        mov dword [MMIO + 0x00d8], 0xffffffff   ; IMC: no interrupts
        xor eax, eax
.rxd:   mov edx, eax                            ; descriptor i: buffer at RXBUF + i * 2 KiB
        shl edx, 11
        add edx, RXBUF
        mov ecx, eax
        shl ecx, 4
        mov [RXR + ecx], edx
        inc eax
        cmp eax, 8
        jb .rxd
        mov dword [MMIO + 0x2800], RXR          ; RDBAL
        mov dword [MMIO + 0x2804], 0            ; RDBAH
        mov dword [MMIO + 0x2808], 8 * 16       ; RDLEN
        mov dword [MMIO + 0x2810], 0            ; RDH
        mov dword [MMIO + 0x2818], 7            ; RDT: 7 buffers, never more
        mov dword [MMIO + 0x0100], 0x801a       ; RCTL: EN, UPE, MPE, BAM
        mov edi, FRAME
        call put_frame
        xor eax, eax
.txd:   mov ecx, eax
        shl ecx, 4
        mov dword [TXR + ecx], FRAME            ; buffer
        mov dword [TXR + ecx + 8], FRAME_LEN | 0x0b000000 ; length; CMD: EOP, IFCS, RS
        inc eax
        cmp eax, 16
        jb .txd
        mov dword [MMIO + 0x3800], TXR          ; TDBAL
        mov dword [MMIO + 0x3804], 0            ; TDBAH
        mov dword [MMIO + 0x3808], 16 * 16      ; TDLEN
        mov dword [MMIO + 0x3810], 0            ; TDH
        mov dword [MMIO + 0x3818], 0            ; TDT
        mov dword [MMIO + 0x0400], 0x0a         ; TCTL: EN, PSP
.tx:    mov eax, [MMIO + 0x3810]                ; TDH: the tail goes 15 past it
        add eax, 15
        and eax, 15
        mov [MMIO + 0x3818], eax
        jmp .tx
%else
%define VIO 0xc000              ; BAR0: the legacy registers
%define RXQ 0x200000            ; queue 0's ring (legacy layout, 4 KiB aligned)
%define TXQ 0x300000            ; queue 1's
%define RXBUF 0x400000          ; 4 x 2 KiB
%define TXBUF 0x410000          ; virtio_net_hdr (10 bytes of zeros), then the frame
virtio_flood:
        mov eax, 0x10           ; BAR0
        mov ecx, VIO | 1
        call pci_write
        mov eax, 0x04           ; command: I/O space, bus master
        mov ecx, 0x05
        call pci_write
        mov dx, VIO + 0x12      ; status: reset, ACKNOWLEDGE, DRIVER
        mov al, 0
        out dx, al
        mov al, 1
        out dx, al
        mov al, 3
        out dx, al
        mov dx, VIO + 0x04      ; guest features: none
        xor eax, eax
        out dx, eax
        mov dx, VIO + 0x0e      ; queue 0
        xor ax, ax
        out dx, ax
        mov dx, VIO + 0x08
        mov eax, RXQ >> 12
        out dx, eax
        mov dx, VIO + 0x0e      ; queue 1
        mov ax, 1
        out dx, ax
        mov dx, VIO + 0x0c
        in ax, dx
        movzx ebp, ax           ; EBP = its size (a power of 2)
        mov dx, VIO + 0x08
        mov eax, TXQ >> 12
        out dx, eax
        mov dx, VIO + 0x12      ; DRIVER_OK
        mov al, 7
        out dx, al
        ; Receive: 4 device-writable buffers, offered once.
        xor eax, eax
.rxd:   mov ecx, eax
        shl ecx, 4
        mov edx, eax
        shl edx, 11
        add edx, RXBUF
        mov [RXQ + ecx], edx                    ; addr
        mov dword [RXQ + ecx + 8], 2048         ; len
        mov word [RXQ + ecx + 12], 2            ; flags: WRITE
        inc eax
        cmp eax, 4
        jb .rxd
        ; The receive queue's size decides where its avail ring is.
        mov dx, VIO + 0x0e
        xor ax, ax
        out dx, ax
        mov dx, VIO + 0x0c
        in ax, dx
        movzx esi, ax
        shl esi, 4
        add esi, RXQ            ; ESI = queue 0's avail ring
        mov dword [esi + 4], 0x00010000         ; ring[0] = 0, ring[1] = 1
        mov dword [esi + 8], 0x00030002         ; ring[2] = 2, ring[3] = 3
        mov word [esi + 2], 4                   ; idx
        mov dx, VIO + 0x10      ; notify queue 0
        xor ax, ax
        out dx, ax
        ; Transmit: every descriptor is the one frame.
        mov edi, TXBUF + 10
        call put_frame
        xor eax, eax
.txd:   mov ecx, eax
        shl ecx, 4
        mov dword [TXQ + ecx], TXBUF
        mov dword [TXQ + ecx + 8], 10 + FRAME_LEN
        inc eax
        cmp eax, ebp
        jb .txd
        mov esi, ebp
        shl esi, 4
        add esi, TXQ            ; ESI = avail ring
        lea edi, [esi + ebp * 2 + 6 + 0xfff]
        and edi, ~0xfff         ; EDI = used ring
        dec ebp                 ; EBP = index mask
.tx:    movzx ecx, word [esi + 2]               ; avail idx
        movzx eax, word [edi + 2]               ; used idx
        mov edx, ecx
        sub edx, eax
        and edx, 0xffff
        cmp edx, ebp
        ja .kick                ; every descriptor is out
        mov edx, ecx
        and edx, ebp
        mov [esi + 4 + edx * 2], dx
        inc ecx
        mov [esi + 2], cx
.kick:  mov dx, VIO + 0x10      ; notify queue 1
        mov ax, 1
        out dx, ax
        jmp .tx
%endif

frame:
        db 0xff, 0xff, 0xff, 0xff, 0xff, 0xff   ; to: broadcast
        db 0x52, 0x54, 0x00, 0x12, 0x34, 0x56   ; from: popek's default MAC
        db 0x08, 0x00                           ; IPv4
        db 0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17   ; 46 bytes, TTL 64, UDP
        db 0x62, 0xaf                           ; header checksum
        db 10, 0, 2, 15, 10, 0, 2, 2
        db 0x04, 0xd2, 0, 9, 0, 26, 0, 0        ; 1234 -> 9, 26 bytes, no checksum
        times FRAME_LEN - ($ - frame) db 'x'

msg:    db `flood up\r\n`, 0

        LIB32_CODE

gdt:
        dq 0
        DESC 0, 0xfffff, 0x9a, 0xc              ; 08: ring-0 code
        DESC 0, 0xfffff, 0x92, 0xc              ; 10: ring-0 data
gdt_end:

        RESET_VECTOR
