; Mode switches: the reset state, real mode -> 32-bit protected mode with
; a GDT in RAM (segment loads between setting PE and the far jump), flat
; segments and a based segment, LMSW keeping PE, a 16-bit protected-mode
; code segment and back, far call/return across code sizes, and the way
; back to real mode, where a data segment loaded with a 4 GiB limit before
; clearing CR0.PE keeps that limit ("unreal mode", SDM Vol.3 9.9.2 and
; 3.4.3: real-mode segment loads change only the selector and base) while
; a 64 KiB segment still faults on a 32-bit offset (#GP through the IVT).
%include "lib.inc"

%define RM_GP_IP 0x600          ; IP pushed by the real-mode #GP
%define RM_GP_RESUME 0x602      ; where the real-mode #GP handler resumes
%define RM_GP_COUNT 0x604

start:
        ; SDM Vol.3 Table 9-1: EFLAGS = 2, CR0 = 60000010h, EDX holds the
        ; family/model/stepping. Nothing that alters flags may run first.
        mov ebp, edx
        mov eax, cr0
        mov esi, eax
        mov ax, 0
        mov ss, ax
        mov sp, 0x7000
        pushfd
        pop ecx
        mov ds, ax
        mov es, ax
        CHECK16 ecx, 2, "EFLAGS at reset"
        CHECK16 esi, 0x60000010, "CR0 at reset"
        mov eax, ebp
        shr eax, 8
        and eax, 0xf
        CHECK16 eax, 6, "EDX at reset: family 6"
        PRINT `ok: reset state (EFLAGS, CR0, EDX)\n`

        cli
        A20_ON
        mov word [13 * 4], rm_gp
        mov word [13 * 4 + 2], 0xf000
        LOAD_GDT16 gdt, gdt_end, GDT_ADDR
        ; With CR0.PE set and no far jump yet, CS keeps its real-mode
        ; cache (16-bit code at F0000h) while segment loads already use the
        ; GDT (SDM Vol.3 9.9.1: the far jump must follow "immediately", but
        ; boot code often runs a few instructions before it).
        mov eax, cr0
        or al, 1
        mov cr0, eax
        mov ax, KDATA
        mov ds, ax
        mov dword [dword 0x200004], 0x5eeded
        mov ebx, [dword 0x200004]
        xor ecx, ecx
        mov cx, cs
        jmp dword KCODE:ROMBASE + .pm32
        bits 32
.pm32:  mov ax, KDATA
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov esp, 0x9f000
        CHECK32 ecx, 0xf000, "CS selector between setting PE and the far jump"
        CHECK32 ebx, 0x5eeded, "DS loaded from the GDT before the far jump (4 GiB limit)"
        OK32 "32-bit protected mode entered through a far jump"

        xor eax, eax
        mov ax, cs
        CHECK32 eax, KCODE, "CS after the far jump"
        mov eax, cr0
        and eax, 1
        CHECK32 eax, 1, "CR0.PE"
        mov ebx, esp
        push eax
        sub ebx, esp
        pop eax
        CHECK32 ebx, 4, "PUSH size in 32-bit code"
        OK32 "CS = 08h, CR0.PE = 1, 32-bit operand size"

        ; LMSW can set PE but never clear it (SDM Vol.2 LMSW).
        smsw ax
        and al, 0xfe
        lmsw ax
        mov eax, cr0
        and eax, 1
        CHECK32 eax, 1, "CR0.PE after LMSW with bit 0 clear"
        OK32 "LMSW does not clear PE"

        ; Flat 4 GiB data segment: memory above 1 MiB up to the top of the
        ; 256 MiB of RAM, and no wrap at 1 MiB with A20 open.
        mov dword [0], 0x0bad0bad
        mov dword [0x100000], 0x11112222
        mov dword [0x200000], 0xcafebabe
        mov dword [0x0ffffffc], 0x12345678
        CHECK32 dword [0x200000], 0xcafebabe, "read back at 2 MiB"
        CHECK32 dword [0x0ffffffc], 0x12345678, "read back at 256 MiB - 4"
        CHECK32 dword [0x100000], 0x11112222, "read back at 1 MiB"
        CHECK32 dword [0], 0x0bad0bad, "address 0 changed by a write at 1 MiB (A20 closed?)"
        OK32 "flat data segment reaches all RAM"

        ; The image is visible at F0000h and at FFFF0000h.
        mov eax, [ROMBASE + rom_signature]
        CHECK32 eax, 'PoPk', "ROM at F0000h"
        mov eax, [0xffff0000 + rom_signature]
        CHECK32 eax, 'PoPk', "ROM at FFFF0000h"
        OK32 "ROM at F0000h and FFFF0000h"

        ; A based segment (base 1 MiB): effective address + base.
        mov ax, 0x28
        mov es, ax
        mov dword [es:0x10], 0x5a5a1234
        CHECK32 dword [0x100010], 0x5a5a1234, "ES base 1 MiB"
        ; Loading a descriptor sets its accessed bit in the GDT (SDM 3.4.5.1).
        movzx eax, byte [GDT_ADDR + 0x28 + 5]
        CHECK32 eax, 0x93, "accessed bit set in the GDT copy"
        mov ax, KDATA
        mov es, ax
        OK32 "segment base and accessed bit"

        ; Into a 16-bit protected-mode code segment (base F0000h) and back.
        jmp 0x18:pm16
        bits 16
pm16:
        xor eax, eax
        mov ax, cs
        CHECK16 eax, 0x18, "CS in the 16-bit code segment"
        mov ebx, esp
        push ax
        sub ebx, esp
        pop ax
        CHECK16 ebx, 2, "PUSH size in 16-bit code"
        call pm16_near
        CHECK16 edx, 0x1616, "near call in 16-bit code"
        jmp dword KCODE:ROMBASE + back32
pm16_near:
        mov edx, 0x1616
        ret
        bits 32
back32:
        xor eax, eax
        mov ax, cs
        CHECK32 eax, KCODE, "CS back in 32-bit code"
        OK32 "16-bit protected-mode code segment and back"

        ; A 32-bit far call into 16-bit code pushes a 32-bit CS:EIP; the
        ; callee returns with a 32-bit RETF.
        mov esi, esp
        call 0x18:pm16_far
.after_far_call:
        CHECK32 esi, esp, "ESP after the far call and return"
        CHECK32 edi, ROMBASE + .after_far_call, "return EIP seen by the 16-bit callee"
        CHECK32 ebp, KCODE, "return CS seen by the 16-bit callee"
        OK32 "32-bit far call into 16-bit code, o32 RETF back"

        ; Back to real mode (SDM Vol.3 9.9.2): DS, FS and GS keep the flat
        ; 4 GiB descriptor, ES and SS get a 64 KiB one; a 16-bit code
        ; segment; clear PE; far jump; reload segments.
        mov ax, 0x20
        mov es, ax
        mov ss, ax
        mov esp, 0x7000
        mov ax, KDATA
        mov ds, ax
        mov fs, ax
        mov gs, ax
        jmp 0x18:to_real
        bits 16
to_real:
        mov eax, cr0
        and al, 0xfe
        mov cr0, eax
        jmp 0xf000:real_again
real_again:
        mov ax, 0
        mov ss, ax
        mov sp, 0x7000
        xor eax, eax
        mov ax, cs
        CHECK16 eax, 0xf000, "CS back in real mode"
        PRINT `ok: back in real mode\n`

        ; Unreal mode: DS still has base 0 and a 4 GiB limit.
        mov eax, [dword 0x200000]
        CHECK16 eax, 0xcafebabe, "32-bit offset through the cached 4 GiB DS"
        ; A real-mode load of DS changes only its base and selector.
        mov ax, 0
        mov ds, ax
        mov esi, 0x300000
        mov dword [esi], 0x7777aaaa
        mov eax, [esi]
        CHECK16 eax, 0x7777aaaa, "32-bit offset after reloading DS in real mode"
        mov eax, [dword 0x200000]
        CHECK16 eax, 0xcafebabe, "unreal DS after reload"
        mov ax, 0x1000
        mov fs, ax
        mov eax, [fs:dword 0x200000 - 0x10000]
        CHECK16 eax, 0xcafebabe, "unreal FS with base 10000h"
        PRINT `ok: unreal mode (4 GiB limit kept across the switch)\n`

        ; ES kept its 64 KiB limit: a 32-bit offset beyond it is a #GP,
        ; delivered through IVT entry 13 with the faulting IP.
        mov word [RM_GP_RESUME], .after_gp
        mov word [RM_GP_COUNT], 0
        mov word [RM_GP_IP], 0
.gp_insn:
        mov eax, [es:dword 0x10000]
.after_gp:
        movzx eax, word [RM_GP_COUNT]
        CHECK16 eax, 1, "#GP for an offset beyond a 64 KiB ES limit"
        movzx eax, word [RM_GP_IP]
        CHECK16 eax, .gp_insn, "IP pushed by the real-mode #GP"
        ; The last byte inside the limit is fine.
        mov al, [es:dword 0xffff]
        movzx eax, word [RM_GP_COUNT]
        CHECK16 eax, 1, "no #GP at offset FFFFh"
        PRINT `ok: 64 KiB ES limit faults in real mode (#GP via IVT 13)\n`
        PASS

; Real-mode #GP handler: record the pushed IP and resume elsewhere.
rm_gp:
        push bp
        mov bp, sp
        push ax
        mov ax, [bp + 2]
        mov [ss:RM_GP_IP], ax
        inc word [ss:RM_GP_COUNT]
        mov ax, [ss:RM_GP_RESUME]
        mov [bp + 2], ax
        pop ax
        pop bp
        iret

; Reached by a 32-bit far call: record the return CS:EIP and o32 RETF.
pm16_far:
        mov edi, [esp]
        mov ebp, [esp + 4]
        and ebp, 0xffff
        o32 retf

rom_signature:
        db 'PoPk'

        align 8
gdt:
        dq 0
        DESC 0, 0xfffff, 0x9a, 0xc              ; 08: code, flat, 32-bit
        DESC 0, 0xfffff, 0x92, 0xc              ; 10: data, flat, 4 GiB
        DESC ROMBASE, 0xffff, 0x9a, 0x0         ; 18: code, 16-bit, base F0000h
        DESC 0, 0xffff, 0x92, 0x0               ; 20: data, 64 KiB
        DESC 0x100000, 0xffff, 0x92, 0x0        ; 28: data, base 1 MiB
gdt_end:

        RESET_VECTOR
