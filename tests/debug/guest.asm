; The guest the debugger tests drive (tests/debug/gdb_test.py, monitor_test.py).
;
; From reset it enters 32-bit protected mode with paging: an identity map of
; the first 4 MiB plus linear VIRT (40000000h) mapped to physical VIRT_PHYS
; (200000h), so a debugger reading VIRT must go through the page tables.  It
; stores two known dwords there, then jumps to BP_TARGET, a fixed address
; (ROMBASE + 1000h = F1000h) the tests put a breakpoint on, and runs a short
; known sequence with a loop that increments the dword at WATCHED five times.
;
; Built twice: by default it ends with PASS and exits through isa-debug-exit
; (0xf4); with -DWAIT_AT_END it prints READY and halts with interrupts off,
; so the monitor test finds it still, with paging on.
%include "lib.inc"

%define PD 0x10000              ; page directory
%define PT0 0x11000             ; identity map of 0-4 MiB
%define PT_VIRT 0x12000         ; the page table for VIRT
%define VIRT 0x40000000
%define VIRT_PHYS 0x200000
%define WATCHED (VIRT + 0x10)
%define BP_TARGET 0x1000        ; offset in the image: linear ROMBASE + 1000h

start:
        cli
        xor ax, ax
        mov ss, ax
        mov sp, 0x7000
        mov ds, ax
        A20_ON
        PIC_MASKED
        LOAD_GDT16 gdt, gdt_end, GDT_ADDR
        ENTER_PM32 KCODE, KDATA
        mov esp, 0x9f000
        call idt_setup

        ; Page tables: PDE 0 -> PT0 (identity), PDE 100h -> PT_VIRT.
        cld
        mov edi, PD
        xor eax, eax
        mov ecx, 1024 * 3
        rep stosd                       ; clear PD, PT0 and PT_VIRT
        mov edi, PT0
        mov eax, 3                      ; P | W
        mov ecx, 1024
.fill:  stosd
        add eax, 0x1000
        loop .fill
        mov dword [PD], PT0 | 3
        mov dword [PD + (VIRT >> 22) * 4], PT_VIRT | 3
        mov dword [PT_VIRT], VIRT_PHYS | 3
        mov eax, PD
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax

        mov dword [VIRT], 0x12345678
        mov dword [VIRT + 4], 0xcafebabe
        mov dword [WATCHED], 0
        jmp bp_target

        times BP_TARGET - ($ - $$) db 0xcc
bp_target:
        mov eax, 0x11111111
        mov ebx, 0x22222222
        add eax, ebx
        mov ecx, 5
.count: inc dword [WATCHED]
        dec ecx
        jnz .count
        mov edx, [WATCHED]
        CHECK32 edx, 5, "watched counter"
        CHECK32 eax, 0x33333333, "sum"
%ifdef WAIT_AT_END
        PRINT32 `READY\n`
.wait:  cli
        hlt
        jmp .wait
%else
        PASS32
%endif

        LIB32_CODE

        align 8
gdt:
        dq 0
        DESC 0, 0xfffff, 0x9a, 0xc              ; 08: ring-0 code
        DESC 0, 0xfffff, 0x92, 0xc              ; 10: ring-0 data
gdt_end:

        RESET_VECTOR
