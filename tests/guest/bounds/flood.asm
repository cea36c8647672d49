; Guests that try to keep popek busy forever (tests/guest/time_bounds.py).
; Assembled once per mode (nasm -DMODE_x); none of them ever exits:
;   MODE_PIT    the 8254 at its fastest on IRQ 0 (mode 2, divisor 2: 597 kHz;
;               divisor 1 is illegal in modes 2 and 3, where OUT then never
;               changes, on the 8254 as in popek), and a handler that
;               acknowledges and returns
;   MODE_IPI    self-IPIs through the local APIC: each handler sends the next
;   MODE_LEVEL  the UART's THR-empty interrupt on IRQ 4 made level-triggered
;               (ELCR) and never serviced: the line stays up, the handler EOIs
;   MODE_REP    REP STOSB with ECX = FFFFFFFFh into memory nothing decodes,
;               over and over, interrupts off
; and guests that try to make popek's memory grow (tests/guest/resource_bounds.py):
;   MODE_JIT    writes a new function into a 1 MiB buffer at every call and
;               runs it: the translator's code cache must flush, not grow
;   MODE_TLB    4 MiB pages over all 4 GiB in two page directories, CR3
;               switched every 1024 reads of ever new pages
;   MODE_SERIAL writes to COM1 without end (the chardev is not being read)
; Each says "flood up" on COM1 once the flood is armed.
%include "lib.inc"

%define STACK 0x9f000
%define VEC 0x40
%define APIC 0xfee00000
%define COUNT 0x600             ; handler entries

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
        call idt_setup
        mov cx, KCODE
        mov eax, VEC
        mov ebx, ROMBASE + handler
        mov dl, 0x8e
        call set_gate
        mov eax, 0x20           ; IRQ 0 (PIT) on the 8259 at 20h
        call set_gate
        mov eax, 0x24           ; IRQ 4 (COM1)
        call set_gate
        PIC_MASKED
%ifdef MODE_PIT
        mov al, 0xfe            ; IRQ 0 only
        out 0x21, al
        mov al, 0x34            ; channel 0, lo/hi, mode 2
        out 0x43, al
        mov al, 2
        out 0x40, al
        xor al, al
        out 0x40, al
%elifdef MODE_IPI
        mov dword [APIC + 0xf0], 0x1ff         ; SVR: APIC on, spurious FFh
        mov dword [APIC + 0x300], 0x40000 | VEC ; ICR: self, fixed
%elifdef MODE_LEVEL
        mov dx, 0x4d0           ; ELCR1: IRQ 4 level-triggered
        mov al, 0x10
        out dx, al
        mov al, 0xef            ; IRQ 4 only
        out 0x21, al
        mov dx, 0x3fc           ; MCR: OUT2 gates the UART's interrupt onto the bus
        mov al, 0x08
        out dx, al
        mov dx, 0x3f9           ; IER: THR empty
        mov al, 0x02
        out dx, al
%endif
        mov dx, 0x3fb           ; LCR: 8 data bits (the reset value is 5)
        mov al, 0x03
        out dx, al
        mov esi, ROMBASE + msg
        mov dx, 0x3f8
.say:   lodsb
        test al, al
        jz .said
        out dx, al
        jmp .say
.said:
%ifdef MODE_REP
.again: mov edi, 0xe0000000
        mov ecx, 0xffffffff
        cld
        rep stosb
        jmp .again
%elifdef MODE_JIT
        xor ebx, ebx            ; call number
.jit:   mov edi, ebx
        and edi, 0x1ffff        ; 128 Ki slots of 8 bytes: 1 MiB at 1 MiB, rewritten
        lea edi, [0x100000 + edi * 8]
        mov byte [edi], 0xb8    ; mov eax, imm32 (the call number)
        mov [edi + 1], ebx
        mov byte [edi + 5], 0xc3 ; ret
        call edi
        inc ebx
        jmp .jit
%elifdef MODE_TLB
        mov edi, 0x10000        ; two page directories at 10000h and 11000h
        xor eax, eax
.pde:   mov edx, eax
        and edx, 0xf            ; every 4 MiB of linear space onto the first 64 MiB
        shl edx, 22
        or edx, 0x83            ; present, writable, 4 MiB
        mov [edi + eax * 4], edx
        xor edx, 0x400000       ; the other directory maps it elsewhere
        mov [edi + 0x1000 + eax * 4], edx
        inc eax
        cmp eax, 1024
        jb .pde
        mov eax, cr4
        or eax, 0x10            ; PSE
        mov cr4, eax
        mov eax, 0x10000
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax
        xor esi, esi            ; the next page to touch
.tlb:   mov ecx, 1024
.touch: mov eax, [esi]
        add esi, 0x1040         ; a new page (and line) each time
        loop .touch
        mov eax, cr3
        xor eax, 0x1000
        mov cr3, eax
        jmp .tlb
%elifdef MODE_SERIAL
        mov dx, 0x3f8
.out:   mov al, 'x'
        out dx, al
        jmp .out
%else
        sti
.spin:  jmp .spin
%endif

handler:
        inc dword [COUNT]
%ifdef MODE_IPI
        mov dword [APIC + 0xb0], 0              ; EOI
        mov dword [APIC + 0x300], 0x40000 | VEC ; the next one
%else
        push eax
        mov al, 0x20            ; non-specific EOI, the cause left standing
        out 0x20, al
        pop eax
%endif
        iretd

msg:    db `flood up\r\n`, 0

        LIB32_CODE

gdt:
        dq 0
        DESC 0, 0xfffff, 0x9a, 0xc              ; 08: ring-0 code
        DESC 0, 0xfffff, 0x92, 0xc              ; 10: ring-0 data
gdt_end:

        RESET_VECTOR
