; Protected-mode exceptions through a 32-bit IDT (SDM Vol.3 chapter 6):
; vector, error code and pushed EIP of #DE, #UD, #NM, #GP, #NP, #SS, #BR,
; #OF and #BP; LDT selectors; faults leave registers and memory; INT n
; pushes no error code; interrupt gates clear IF and trap gates do not;
; IDT-limit, gate-type and not-present errors (error code vector*8+2+EXT);
; and the double-fault rules of SDM Table 6-5.
%include "lib.inc"

%define H_EIP 0x530             ; h_frame records: pushed EIP,
%define H_CS 0x534              ;   pushed CS,
%define H_EFL 0x538             ;   EFLAGS inside the handler
%define BOUNDS 0x700            ; BOUND operand: lower 10, upper 20
%define SCRATCH 0x710
%define LDT_ADDR 0x4000

; GATE_PRESENT vector, 0|1: set or clear the P bit of an IDT entry
%macro GATE_PRESENT 2
%if %2
        or byte [IDT_ADDR + (%1) * 8 + 5], 0x80
%else
        and byte [IDT_ADDR + (%1) * 8 + 5], 0x7f
%endif
%endmacro

start:
        cli
        mov ax, 0
        mov ss, ax
        mov sp, 0x7000
        mov ds, ax
        A20_ON
        PIC_MASKED
        LOAD_GDT16 gdt, gdt_end, GDT_ADDR
        ENTER_PM32 KCODE, KDATA
        mov esp, 0x9f000
        call idt_setup
        OK32 "protected mode with an IDT"

        ; #DE is a fault: EIP points at the DIV, EDX:EAX untouched.
        mov eax, 0x1234
        mov edx, 0x5678
        xor ecx, ecx
        EXPECT_FAULT .de1_after
.de1:   div ecx
.de1_after:
        CHECK_FAULT 0, NOERR, ROMBASE + .de1, "#DE divide by zero"
        CHECK32 eax, 0x1234, "#DE changed EAX"
        CHECK32 edx, 0x5678, "#DE changed EDX"
        mov edx, 1
        xor eax, eax
        mov ecx, 1
        EXPECT_FAULT .de2_after
.de2:   div ecx
.de2_after:
        CHECK_FAULT 0, NOERR, ROMBASE + .de2, "#DE quotient overflow (DIV)"
        mov eax, 0x80000000
        cdq
        mov ecx, -1
        EXPECT_FAULT .de3_after
.de3:   idiv ecx
.de3_after:
        CHECK_FAULT 0, NOERR, ROMBASE + .de3, "#DE 80000000h / -1 (IDIV)"
        mov ax, 0x1000
        mov bl, 0x10
        EXPECT_FAULT .de4_after
.de4:   div bl
.de4_after:
        CHECK_FAULT 0, NOERR, ROMBASE + .de4, "#DE quotient overflow (DIV r/m8)"
        OK32 "#DE: divide by zero and overflow, EIP at the DIV"

        ; #UD: UD2, and LOCK on an instruction that cannot be locked.
        EXPECT_FAULT .ud1_after
.ud1:   ud2
.ud1_after:
        CHECK_FAULT 6, NOERR, ROMBASE + .ud1, "#UD for UD2"
        EXPECT_FAULT .ud2_after
.ud2:   db 0xf0, 0x89, 0xd8     ; lock mov eax, ebx
.ud2_after:
        CHECK_FAULT 6, NOERR, ROMBASE + .ud2, "#UD for LOCK MOV"
        OK32 "#UD: UD2 and LOCK MOV"

        ; #NM: an x87 instruction with CR0.TS set (SDM 2.5, Table 2-2).
        mov eax, cr0
        or eax, 8
        mov cr0, eax
        EXPECT_FAULT .nm_after
.nm:    fninit
.nm_after:
        CHECK_FAULT 7, NOERR, ROMBASE + .nm, "#NM for FNINIT with CR0.TS"
        clts
        fninit
        OK32 "#NM with CR0.TS, none after CLTS"

        ; #GP for a selector beyond the GDT limit: error code = selector
        ; index and TI, with the RPL bits replaced by EXT/IDT (SDM 6.13).
        mov ax, 0x3b
        EXPECT_FAULT .gp1_after
.gp1:   mov ds, ax
.gp1_after:
        CHECK_FAULT 13, 0x38, ROMBASE + .gp1, "#GP loading selector 3Bh beyond the GDT limit"
        xor eax, eax
        mov ax, ds
        CHECK32 eax, KDATA, "DS changed by a faulting load"
        ; RPL 3 on a DPL-0 data segment at CPL 0: DPL < RPL.
        mov ax, KDATA | 3
        EXPECT_FAULT .gp2_after
.gp2:   mov es, ax
.gp2_after:
        CHECK_FAULT 13, KDATA, ROMBASE + .gp2, "#GP loading ES with RPL 3 > DPL 0"
        ; A write through a read-only data segment is #GP(0); memory stays.
        mov ax, 0x18
        mov es, ax
        mov eax, [es:SCRATCH]
        EXPECT_FAULT .gp3_after
.gp3:   mov dword [es:SCRATCH], 0x12345678
.gp3_after:
        CHECK_FAULT 13, 0, ROMBASE + .gp3, "#GP writing a read-only data segment"
        CHECK32 dword [SCRATCH], 0, "memory written by a faulting store"
        ; A far jump to a data segment is #GP(selector).
        EXPECT_FAULT .gp4_after
.gp4:   jmp KDATA:0
.gp4_after:
        CHECK_FAULT 13, KDATA, ROMBASE + .gp4, "#GP far jump to a data segment"
        ; SS must be a writable data segment, and not null.
        mov ax, 0x18
        EXPECT_FAULT .gp5_after
.gp5:   mov ss, ax
.gp5_after:
        CHECK_FAULT 13, 0x18, ROMBASE + .gp5, "#GP loading SS with a read-only segment"
        xor eax, eax
        EXPECT_FAULT .gp6_after
.gp6:   mov ss, ax
.gp6_after:
        CHECK_FAULT 13, 0, ROMBASE + .gp6, "#GP loading SS with the null selector"
        ; Loading a null selector into ES is fine; using it is #GP(0).
        mov es, ax
        EXPECT_FAULT .gp7_after
.gp7:   mov eax, [es:SCRATCH]
.gp7_after:
        CHECK_FAULT 13, 0, ROMBASE + .gp7, "#GP through a null ES"
        ; Segment limit (ES limit FFFh): a dword at FFEh crosses it.
        mov ax, 0x28
        mov es, ax
        mov eax, [es:0xffc]
        EXPECT_FAULT .gp8_after
.gp8:   mov eax, [es:0xffe]
.gp8_after:
        CHECK_FAULT 13, 0, ROMBASE + .gp8, "#GP for a dword crossing the ES limit"
        mov ax, KDATA
        mov es, ax
        mov ss, ax
        OK32 "#GP: GDT limit, RPL, read-only, far jump to data, SS rules, null, limit"

        ; LDT selectors (TI = 1): with a null LDTR, #GP(selector); LLDT of a
        ; non-LDT descriptor, #GP(selector); beyond the LDT limit,
        ; #GP(selector) with TI kept in the error code.
        mov ax, 0x0c
        EXPECT_FAULT .ldt1_after
.ldt1:  mov es, ax
.ldt1_after:
        CHECK_FAULT 13, 0x0c, ROMBASE + .ldt1, "#GP loading an LDT selector with a null LDTR"
        mov ax, KDATA
        EXPECT_FAULT .ldt2_after
.ldt2:  lldt ax
.ldt2_after:
        CHECK_FAULT 13, KDATA, ROMBASE + .ldt2, "#GP for LLDT of a data segment"
        mov esi, ROMBASE + ldt_rom
        mov edi, LDT_ADDR
        mov ecx, 16
        cld
        rep movsb
        mov ax, 0x30
        lldt ax
        mov ax, 0x0f                    ; LDT index 1, RPL 3 (DPL 3 data)
        mov es, ax
        mov dword [es:0x40], 0x1d71d7
        CHECK32 dword [0x100040], 0x1d71d7, "ES from LDT index 1 (base 1 MiB)"
        mov ax, 0x17
        EXPECT_FAULT .ldt3_after
.ldt3:  mov fs, ax
.ldt3_after:
        CHECK_FAULT 13, 0x14, ROMBASE + .ldt3, "#GP for selector 17h beyond the LDT limit"
        mov ax, KDATA
        mov es, ax
        OK32 "LDT: null LDTR, LLDT type check, LDT segment, LDT limit"

        ; #NP: a data segment that is not present; for SS it is #SS.
        mov ax, 0x20
        EXPECT_FAULT .np1_after
.np1:   mov es, ax
.np1_after:
        CHECK_FAULT 11, 0x20, ROMBASE + .np1, "#NP loading ES with a not-present segment"
        mov ax, 0x20
        EXPECT_FAULT .ss1_after
.ss1:   mov ss, ax
.ss1_after:
        CHECK_FAULT 12, 0x20, ROMBASE + .ss1, "#SS loading SS with a not-present segment"
        OK32 "#NP(selector) for ES, #SS(selector) for SS"

        ; #SS(0) for an SS-relative access beyond the SS limit (SS limit
        ; FFFh, ESP 800h); the frame goes on that same stack.
        mov ax, 0x28
        mov ss, ax
        mov esp, 0x800
        mov ebp, 0x2000
        EXPECT_FAULT .ss2_after
.ss2:   mov eax, [ebp]
.ss2_after:
        mov ax, KDATA
        mov ss, ax
        mov esp, 0x9f000
        CHECK_FAULT 12, 0, ROMBASE + .ss2, "#SS for [EBP] beyond the SS limit"
        CHECK32 dword [REC_HESP], 0x800 - 12, "EIP slot of the frame on the small stack"
        movzx eax, word [0x80000 + 0x800 - 8]
        CHECK32 eax, KCODE, "CS of the frame in memory at SS.base + 7F8h"
        OK32 "#SS(0) for a stack access beyond the limit"

        ; #BR: BOUND out of range is a fault; in range it is nothing.
        mov dword [BOUNDS], 10
        mov dword [BOUNDS + 4], 20
        mov eax, 15
        bound eax, [BOUNDS]
        mov eax, 25
        EXPECT_FAULT .br_after
.br:    bound eax, [BOUNDS]
.br_after:
        CHECK_FAULT 5, NOERR, ROMBASE + .br, "#BR for BOUND 25 in [10, 20]"
        OK32 "#BR"

        ; #OF: INTO traps only with OF = 1; EIP after the INTO.
        mov al, 0x10
        add al, 1
        into
        EXPECT_FAULT .of_after
        mov al, 0x7f
        add al, 1
.of:    into
.of_after:
        CHECK_FAULT 4, NOERR, ROMBASE + .of_after, "#OF from INTO with OF = 1"
        ; #BP: INT3 (CCh) and INT 3 (CDh 03h) both trap, EIP after them.
        EXPECT_FAULT .bp1_after
        int3
.bp1_after:
        CHECK_FAULT 3, NOERR, ROMBASE + .bp1_after, "#BP from INT3"
        EXPECT_FAULT .bp2_after
        db 0xcd, 0x03
.bp2_after:
        CHECK_FAULT 3, NOERR, ROMBASE + .bp2_after, "#BP from INT 3"
        OK32 "#OF and #BP are traps"

        ; INT 0Dh pushes no error code (SDM 6.13: only exceptions do).
        mov eax, 13
        mov ebx, ROMBASE + h_frame
        mov cx, KCODE
        mov dl, 0x8e
        call set_gate
        mov esi, esp
        int 0x0d
.int13_after:
        CHECK32 esi, esp, "ESP after INT 0Dh and IRET"
        CHECK32 dword [H_EIP], ROMBASE + .int13_after, "EIP on top of the INT 0Dh frame (no error code)"
        CHECK32 dword [H_CS], KCODE, "CS in the INT 0Dh frame"
        mov ebx, ROMBASE + exc_stubs + 13 * 16
        call set_gate
        OK32 "INT 0Dh pushes no error code"

        ; An interrupt gate clears IF, a trap gate keeps it (SDM 6.12.1.3);
        ; both PICs are masked, so STI lets nothing in.
        mov eax, 0x41
        mov ebx, ROMBASE + h_frame
        mov dl, 0x8e
        call set_gate
        mov eax, 0x42
        mov dl, 0x8f
        call set_gate
        sti
        int 0x41
        mov eax, [H_EFL]
        and eax, 0x200
        CHECK32 eax, 0, "IF inside an interrupt-gate handler"
        int 0x42
        mov eax, [H_EFL]
        and eax, 0x200
        CHECK32 eax, 0x200, "IF inside a trap-gate handler"
        cli
        OK32 "interrupt gate clears IF, trap gate keeps it"

        ; IDT checks for INT n: a vector beyond the IDT limit and a gate of
        ; a bad type are #GP(vector*8+2), a not-present gate #NP; all are
        ; faults at the INT (SDM 6.12.1 and the INT n pseudo-code).
        lidt [ROMBASE + idtr_short]
        EXPECT_FAULT .idt1_after
.idt1:  int 0xf0
.idt1_after:
        CHECK_FAULT 13, 0xf0 * 8 + 2, ROMBASE + .idt1, "#GP for INT F0h beyond the IDT limit"
        lidt [ROMBASE + idtr_full]
        EXPECT_FAULT .idt2_after
.idt2:  int 0x40
.idt2_after:
        CHECK_FAULT 13, 0x40 * 8 + 2, ROMBASE + .idt2, "#GP for INT 40h through a gate of type 0"
        mov eax, 0x40
        mov ebx, ROMBASE + h_frame
        mov dl, 0x0e
        call set_gate
        EXPECT_FAULT .idt3_after
.idt3:  int 0x40
.idt3_after:
        CHECK_FAULT 11, 0x40 * 8 + 2, ROMBASE + .idt3, "#NP for INT 40h through a not-present gate"
        ; An exception's error code has EXT = 1: #UD through a not-present
        ; gate is #NP(6*8+2+1), and #UD is benign so no #DF.
        GATE_PRESENT 6, 0
        EXPECT_FAULT .idt4_after
.idt4:  ud2
.idt4_after:
        GATE_PRESENT 6, 1
        CHECK_FAULT 11, 6 * 8 + 3, ROMBASE + .idt4, "#NP(EXT) for #UD through a not-present gate"
        OK32 "IDT limit, gate type and present checks with IDT/EXT error bits"

        ; Double faults (SDM Table 6-5): a contributory exception (#DE, #GP,
        ; #NP) while delivering a contributory one is #DF with error 0.
        GATE_PRESENT 0, 0
        xor ecx, ecx
        EXPECT_FAULT .df1_after
        div ecx
.df1_after:
        GATE_PRESENT 0, 1
        CHECK32 dword [REC_VEC], 8, "#DE through a not-present gate: #NP must become #DF"
        CHECK32 dword [REC_ERR], 0, "#DF error code"
        GATE_PRESENT 13, 0
        mov ax, 0x3b
        EXPECT_FAULT .df2_after
        mov ds, ax
.df2_after:
        GATE_PRESENT 13, 1
        CHECK32 dword [REC_VEC], 8, "#GP through a not-present gate: #NP must become #DF"
        CHECK32 dword [REC_ERR], 0, "#DF error code"
        GATE_PRESENT 11, 0
        EXPECT_FAULT .df3_after
        int 0x40
.df3_after:
        GATE_PRESENT 11, 1
        CHECK32 dword [REC_VEC], 8, "#NP for INT 40h with the #NP gate not present: #DF"
        CHECK32 dword [REC_ERR], 0, "#DF error code"
        ; INT3 through a not-present gate: #NP at the INT3, EXT = 0 since
        ; INT3 is a software interrupt, not an exception (INT n pseudo-code).
        GATE_PRESENT 3, 0
        EXPECT_FAULT .df4_after
.df4:   int3
.df4_after:
        GATE_PRESENT 3, 1
        CHECK_FAULT 11, 3 * 8 + 2, ROMBASE + .df4, "#NP for INT3 through a not-present gate"
        OK32 "#DF for contributory + contributory; INT3 not-present gate is #NP(1Ah)"
        PASS32

; Records the frame of an INT (no error code) and the handler's EFLAGS.
h_frame:
        push eax
        mov eax, [esp + 4]
        mov [H_EIP], eax
        mov eax, [esp + 8]
        and eax, 0xffff
        mov [H_CS], eax
        pushfd
        pop eax
        mov [H_EFL], eax
        pop eax
        iretd

        LIB32_CODE

idtr_short:
        dw 0x80 * 8 - 1
        dd IDT_ADDR
idtr_full:
        dw 256 * 8 - 1
        dd IDT_ADDR

        align 8
gdt:
        dq 0
        DESC 0, 0xfffff, 0x9a, 0xc              ; 08: code, flat
        DESC 0, 0xfffff, 0x92, 0xc              ; 10: data, flat
        DESC 0, 0xfffff, 0x90, 0xc              ; 18: data, read-only
        DESC 0, 0xfffff, 0x12, 0xc              ; 20: data, not present
        DESC 0x80000, 0xfff, 0x92, 0x4          ; 28: data, limit FFFh
        DESC LDT_ADDR, 0xf, 0x82, 0x0           ; 30: LDT with 2 entries
gdt_end:

ldt_rom:
        dq 0
        DESC 0x100000, 0xffff, 0xf2, 0x0        ; LDT 0Ch: data, DPL 3, 1 MiB

        RESET_VECTOR
