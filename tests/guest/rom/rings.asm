; Privilege levels (SDM Vol.3 chapters 5, 6, 7 and Vol.1 18.5): a TSS with
; SS0:ESP0, IRET to ring 3 (data segment registers with DPL < 3 nulled,
; conforming code kept), INT n through a DPL-3 gate with the stack switch,
; #GP for a DPL-0 gate, privileged and IOPL-sensitive instructions at CPL 3,
; the TSS I/O permission bitmap, LAR/LSL/VERR/VERW at CPL 3, a call gate
; with parameter copying and RETF n to the outer level, IRET to ring 3 with
; a bad CS or SS (#GP at the IRET), and SYSENTER/SYSEXIT.
; Ring 3 cannot print: it stores what it sees and ring 0 checks it.
%include "lib.inc"

%define TSS_ADDR 0x3000
%define IOMAP TSS_ADDR + 0x68   ; ports 0-3FFh, then an FFh byte
%define R0_STACK 0x9f000
%define R3_STACK 0x8f000
%define SE_STACK 0x9e000        ; SYSENTER_ESP

%define R3_SEGS 0x600           ; CS SS DS ES FS GS ESP after the IRET
%define I80 0x620               ; INT 80h: EIP CS EFLAGS ESP SS, then the
                                ; handler's ESP CS SS
%define F_INT81 0x640           ; fault records: vector, error, EIP, CR2
%define F_CLI 0x650
%define F_HLT 0x660
%define F_CR0 0x670
%define F_IN81 0x680
%define F_INW80 0x690
%define F_IN3FF 0x6a0
%define F_OUTE9 0x6b0
%define F_GATE0 0x6c0
%define LSL_REC 0x7c0           ; LSL 23h: value, ZF; LAR 23h: value, ZF;
                                ; LSL 10h: value, ZF; ZF of VERR 1Bh,
                                ; VERW 1Bh, VERW 23h, VERR 10h
%define GATE_REC 0x700          ; call gate: EIP CS P2 P1 ESP SS, then the
                                ; handler's ESP CS SS
%define RETF_REC 0x740          ; after RETF 8: DS ES FS GS ESP, ESP before
%define POPF_REC 0x760          ; EFLAGS after POPF at IOPL 0
%define IO80_REC 0x764          ; 1 once IN/OUT 80h ran at IOPL 0
%define IOPL3_REC 0x780         ; EFLAGS after POPF, after CLI, IN 81h done
%define R0_NEXT 0x7f0           ; where INT 30h from ring 3 continues
%define SE_REC 0x7a0            ; SYSENTER: CS SS ESP EFLAGS; after SYSEXIT:
                                ; CS SS ESP EIP-check

; SAVE_REC dst: copy vector, error code, EIP and CR2 of the last exception
%macro SAVE_REC 1
        mov eax, [REC_VEC]
        mov [%1], eax
        mov eax, [REC_ERR]
        mov [%1 + 4], eax
        mov eax, [REC_EIP]
        mov [%1 + 8], eax
        mov eax, [REC_CR2]
        mov [%1 + 12], eax
%endmacro

; CHECK_REC record, vector, error, eip, "what"
%macro CHECK_REC 5+
        CHECK32 dword [%1], %2, %5, ": vector"
        CHECK32 dword [%1 + 4], %3, %5, ": error code"
        CHECK32 dword [%1 + 8], %4, %5, ": pushed EIP"
%endmacro

; ZF_TO dst: store ZF as 0 or 1 (clobbers EAX)
%macro ZF_TO 1
        setz al
        movzx eax, al
        mov [%1], eax
%endmacro

; IRET_FRAME cs, ss: push a ring-3 IRETD frame for ring3_b (IOPL 0)
%macro IRET_FRAME 2
        push dword %2
        push dword R3_STACK
        push dword 0x2
        push dword %1
        push dword ROMBASE + ring3_b
%endmacro

; SEG_TO dst, sreg: store a segment selector zero-extended (any CPL)
%macro SEG_TO 2
        xor eax, eax
        mov ax, %2
        mov [ss:%1], eax
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
        mov esp, R0_STACK
        call idt_setup
        mov cx, KCODE
        mov eax, 0x80
        mov ebx, ROMBASE + h_int80
        mov dl, 0xee
        call set_gate
        mov eax, 0x81
        mov dl, 0x8e
        call set_gate
        mov eax, 0x30
        mov ebx, ROMBASE + back_to_ring0
        mov dl, 0xee
        call set_gate

        ; TSS: SS0:ESP0 and an I/O bitmap allowing only port 80h.
        mov dword [TSS_ADDR + 4], R0_STACK
        mov dword [TSS_ADDR + 8], KDATA
        mov word [TSS_ADDR + 0x66], 0x68
        mov edi, IOMAP
        mov ecx, 0x81
        mov al, 0xff
        cld
        rep stosb
        and byte [IOMAP + 0x80 / 8], 0xfe
        mov ax, 0x28
        ltr ax
        xor eax, eax
        str ax
        CHECK32 eax, 0x28, "STR after LTR"
        movzx eax, byte [GDT_ADDR + 0x28 + 5]
        CHECK32 eax, 0x8b, "TSS descriptor busy after LTR"
        OK32 "LTR: TR = 28h, TSS marked busy"

        ; IRET to ring 3 with IOPL 0. DS (DPL 3) survives, ES and GS (DPL 0)
        ; are nulled, FS (conforming code) is kept (SDM IRET pseudo-code).
        mov ax, 0x23
        mov ds, ax
        mov ax, KDATA
        mov es, ax
        mov gs, ax
        mov ax, 0x38
        mov fs, ax
        mov dword [R0_NEXT], ROMBASE + check_a
        push dword 0x23
        push dword R3_STACK
        push dword 0x2
        push dword 0x1b
        push dword ROMBASE + ring3_a
        iretd

; ---------------------------------------------------------------- ring 3
ring3_a:
        SEG_TO R3_SEGS, cs
        SEG_TO R3_SEGS + 4, ss
        SEG_TO R3_SEGS + 8, ds
        SEG_TO R3_SEGS + 12, es
        SEG_TO R3_SEGS + 16, fs
        SEG_TO R3_SEGS + 20, gs
        mov [R3_SEGS + 24], esp
        mov ax, 0x23
        mov es, ax

        ; INT 80h through a DPL-3 gate: stack switch to SS0:ESP0.
        int 0x80
.i80_ret:
        ; INT 81h through a DPL-0 gate: #GP(81h*8+2).
        EXPECT_FAULT .f1
        int 0x81
.f1:    SAVE_REC F_INT81
        ; Privileged instructions at CPL 3 and CLI with CPL > IOPL: #GP(0).
        EXPECT_FAULT .f2
        cli
.f2:    SAVE_REC F_CLI
        EXPECT_FAULT .f3
        hlt
.f3:    SAVE_REC F_HLT
        EXPECT_FAULT .f4
        mov eax, cr0
.f4:    SAVE_REC F_CR0
        ; POPF with CPL > IOPL changes neither IF nor IOPL, and no fault.
        push dword 0x3202
        popfd
        pushfd
        pop dword [POPF_REC]
        ; LAR, LSL, VERR and VERW at CPL 3 (SDM Vol.2): only descriptors
        ; with DPL >= CPL are visible; a failure leaves the register.
        mov bx, 0x23
        lsl eax, bx
        mov [LSL_REC], eax
        ZF_TO LSL_REC + 4
        lar eax, bx
        mov [LSL_REC + 8], eax
        ZF_TO LSL_REC + 12
        mov bx, KDATA
        mov eax, 0x12345678
        lsl eax, bx
        mov [LSL_REC + 16], eax
        ZF_TO LSL_REC + 20
        mov bx, 0x1b
        verr bx
        ZF_TO LSL_REC + 24
        verw bx
        ZF_TO LSL_REC + 28
        mov bx, 0x23
        verw bx
        ZF_TO LSL_REC + 32
        mov bx, KDATA
        verr bx
        ZF_TO LSL_REC + 36
        ; I/O bitmap: port 80h allowed, 81h denied, a word at 80h needs
        ; 81h too, 3FFh denied, E9h denied.
        in al, 0x80
        out 0x80, al
        mov dword [IO80_REC], 1
        EXPECT_FAULT .f5
        in al, 0x81
.f5:    SAVE_REC F_IN81
        EXPECT_FAULT .f6
        in ax, 0x80
.f6:    SAVE_REC F_INW80
        mov dx, 0x3ff
        EXPECT_FAULT .f7
        in al, dx
.f7:    SAVE_REC F_IN3FF
        EXPECT_FAULT .f8
        out 0xe9, al
.f8:    SAVE_REC F_OUTE9

        ; Call gate (DPL 3, two dword parameters) to ring 0 and RETF 8.
        mov [RETF_REC + 20], esp
        push dword 0x11111111
        push dword 0x22222222
        call 0x33:0
.gate_ret:
        SEG_TO RETF_REC, ds
        SEG_TO RETF_REC + 4, es
        SEG_TO RETF_REC + 8, fs
        SEG_TO RETF_REC + 12, gs
        mov [ss:RETF_REC + 16], esp
        mov ax, 0x23
        mov ds, ax
        mov es, ax
        ; A call gate with DPL 0 is #GP(gate selector) from CPL 3.
        EXPECT_FAULT .f9
        call 0x43:0
.f9:    SAVE_REC F_GATE0
        int 0x30

; Second visit, IOPL 3: CLI/STI, POPF of IF and ports regardless of the
; bitmap; IOPL itself still cannot change at CPL > 0.
ring3_b:
        push dword 0x0202
        popfd
        pushfd
        pop dword [IOPL3_REC]
        cli
        pushfd
        pop dword [IOPL3_REC + 4]
        in al, 0x81
        mov dword [IOPL3_REC + 8], 1
        int 0x30

; Third visit: SYSENTER to ring 0 and SYSEXIT back.
ring3_c:
        mov ecx, esp
        mov edx, ROMBASE + .after_sysexit
        sysenter
.after_sysexit:
        SEG_TO SE_REC + 16, cs
        SEG_TO SE_REC + 20, ss
        mov [SE_REC + 24], esp
        mov dword [SE_REC + 28], 1
        int 0x30

; ---------------------------------------------------------------- ring 0
; INT 80h handler: record the frame and the handler's own state.
h_int80:
        mov [ss:I80 + 20], esp
        push eax
        mov eax, [esp + 4]
        mov [ss:I80], eax
        mov eax, [esp + 8]
        and eax, 0xffff
        mov [ss:I80 + 4], eax
        mov eax, [esp + 12]
        mov [ss:I80 + 8], eax
        mov eax, [esp + 16]
        mov [ss:I80 + 12], eax
        mov eax, [esp + 20]
        and eax, 0xffff
        mov [ss:I80 + 16], eax
        SEG_TO I80 + 24, cs
        SEG_TO I80 + 28, ss
        pop eax
        iretd

; Call-gate target: record the frame, load DS and GS with DPL-0 data, FS
; with conforming code and ES with DPL-3 data, then RETF 8.
gate_target:
        mov [ss:GATE_REC + 24], esp
        push eax
        mov eax, [esp + 4]
        mov [ss:GATE_REC], eax
        mov eax, [esp + 8]
        and eax, 0xffff
        mov [ss:GATE_REC + 4], eax
        mov eax, [esp + 12]
        mov [ss:GATE_REC + 8], eax
        mov eax, [esp + 16]
        mov [ss:GATE_REC + 12], eax
        mov eax, [esp + 20]
        mov [ss:GATE_REC + 16], eax
        mov eax, [esp + 24]
        and eax, 0xffff
        mov [ss:GATE_REC + 20], eax
        SEG_TO GATE_REC + 28, cs
        SEG_TO GATE_REC + 32, ss
        mov ax, KDATA
        mov ds, ax
        mov gs, ax
        mov ax, 0x23
        mov es, ax
        mov ax, 0x38
        mov fs, ax
        pop eax
        retf 8

; SYSENTER target: record CS, SS, ESP and EFLAGS, then SYSEXIT.
sysenter_target:
        SEG_TO SE_REC, cs
        SEG_TO SE_REC + 4, ss
        mov [ss:SE_REC + 8], esp
        pushfd
        pop dword [ss:SE_REC + 12]
        sysexit

; INT 30h (DPL 3): drop the ring-3 frame, continue in ring 0 at [R0_NEXT].
back_to_ring0:
        mov ax, KDATA
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov esp, R0_STACK
        jmp [R0_NEXT]

; --------------------------------------------------- ring 0 checks
check_a:
        CHECK32 dword [R3_SEGS], 0x1b, "CS after IRET to ring 3"
        CHECK32 dword [R3_SEGS + 4], 0x23, "SS after IRET to ring 3"
        CHECK32 dword [R3_SEGS + 8], 0x23, "DS (DPL 3) after IRET to ring 3"
        CHECK32 dword [R3_SEGS + 12], 0, "ES (DPL 0 data) after IRET to ring 3 must be null"
        CHECK32 dword [R3_SEGS + 16], 0x38, "FS (conforming code) after IRET to ring 3"
        CHECK32 dword [R3_SEGS + 20], 0, "GS (DPL 0 data) after IRET to ring 3 must be null"
        CHECK32 dword [R3_SEGS + 24], R3_STACK, "ESP after IRET to ring 3"
        OK32 "IRET to ring 3: CS, SS:ESP, DPL-0 data selectors nulled"

        CHECK32 dword [I80], ROMBASE + ring3_a.i80_ret, "INT 80h frame: EIP"
        CHECK32 dword [I80 + 4], 0x1b, "INT 80h frame: CS"
        mov eax, [I80 + 8]
        and eax, ~0x8d5
        CHECK32 eax, 0x2, "INT 80h frame: EFLAGS (arithmetic flags masked out)"
        CHECK32 dword [I80 + 12], R3_STACK, "INT 80h frame: ESP"
        CHECK32 dword [I80 + 16], 0x23, "INT 80h frame: SS"
        CHECK32 dword [I80 + 20], R0_STACK - 20, "ESP in the INT 80h handler (TSS ESP0 - 20)"
        CHECK32 dword [I80 + 24], KCODE, "CS in the INT 80h handler"
        CHECK32 dword [I80 + 28], KDATA, "SS in the INT 80h handler (TSS SS0)"
        OK32 "INT 80h from ring 3: stack switch to SS0:ESP0, frame SS:ESP EFLAGS CS:EIP"

        CHECK_REC F_INT81, 13, 0x81 * 8 + 2, ROMBASE + ring3_a.f1 - 2, "INT 81h through a DPL-0 gate"
        CHECK_REC F_CLI, 13, 0, ROMBASE + ring3_a.f2 - 1, "CLI at CPL 3 with IOPL 0"
        CHECK_REC F_HLT, 13, 0, ROMBASE + ring3_a.f3 - 1, "HLT at CPL 3"
        CHECK_REC F_CR0, 13, 0, ROMBASE + ring3_a.f4 - 3, "MOV EAX, CR0 at CPL 3"
        mov eax, [POPF_REC]
        and eax, 0x3200
        CHECK32 eax, 0, "IF/IOPL after POPF at CPL 3 with IOPL 0 (must be unchanged)"
        OK32 "#GP: DPL-0 gate (error 40Ah), CLI, HLT, MOV CR0; POPF ignores IF and IOPL"

        CHECK32 dword [LSL_REC], 0xffffffff, "LSL of 23h (4 GiB limit)"
        CHECK32 dword [LSL_REC + 4], 1, "ZF of LSL 23h"
        CHECK32 dword [LSL_REC + 8], 0x00c0f300, "LAR of 23h"
        CHECK32 dword [LSL_REC + 12], 1, "ZF of LAR 23h"
        CHECK32 dword [LSL_REC + 16], 0x12345678, "LSL of a DPL-0 segment at CPL 3 changed the register"
        CHECK32 dword [LSL_REC + 20], 0, "ZF of LSL 10h at CPL 3"
        CHECK32 dword [LSL_REC + 24], 1, "ZF of VERR 1Bh (readable code)"
        CHECK32 dword [LSL_REC + 28], 0, "ZF of VERW 1Bh (code)"
        CHECK32 dword [LSL_REC + 32], 1, "ZF of VERW 23h"
        CHECK32 dword [LSL_REC + 36], 0, "ZF of VERR 10h (DPL 0) at CPL 3"
        OK32 "LAR, LSL, VERR, VERW at CPL 3"

        CHECK32 dword [IO80_REC], 1, "IN/OUT 80h allowed by the I/O bitmap"
        CHECK_REC F_IN81, 13, 0, ROMBASE + ring3_a.f5 - 2, "IN AL, 81h denied by the I/O bitmap"
        CHECK_REC F_INW80, 13, 0, ROMBASE + ring3_a.f6 - 3, "IN AX, 80h needs ports 80h and 81h"
        CHECK_REC F_IN3FF, 13, 0, ROMBASE + ring3_a.f7 - 1, "IN AL, DX=3FFh denied by the I/O bitmap"
        CHECK_REC F_OUTE9, 13, 0, ROMBASE + ring3_a.f8 - 2, "OUT E9h, AL denied by the I/O bitmap"
        OK32 "I/O permission bitmap at CPL 3 with IOPL 0"

        CHECK32 dword [GATE_REC], ROMBASE + ring3_a.gate_ret, "call gate frame: EIP"
        CHECK32 dword [GATE_REC + 4], 0x1b, "call gate frame: CS"
        CHECK32 dword [GATE_REC + 8], 0x22222222, "call gate frame: parameter pushed last"
        CHECK32 dword [GATE_REC + 12], 0x11111111, "call gate frame: parameter pushed first"
        mov eax, [RETF_REC + 20]
        sub eax, 8
        CHECK32 dword [GATE_REC + 16], eax, "call gate frame: caller ESP"
        CHECK32 dword [GATE_REC + 20], 0x23, "call gate frame: caller SS"
        CHECK32 dword [GATE_REC + 24], R0_STACK - 24, "ESP at the gate target (ESP0 - 24)"
        CHECK32 dword [GATE_REC + 28], KCODE, "CS at the gate target"
        CHECK32 dword [GATE_REC + 32], KDATA, "SS at the gate target"
        OK32 "call gate to ring 0: stack switch and parameter copy"

        CHECK32 dword [RETF_REC], 0, "DS (DPL 0) after RETF to ring 3 must be null"
        CHECK32 dword [RETF_REC + 4], 0x23, "ES (DPL 3) after RETF to ring 3"
        CHECK32 dword [RETF_REC + 8], 0x38, "FS (conforming code) after RETF to ring 3"
        CHECK32 dword [RETF_REC + 12], 0, "GS (DPL 0) after RETF to ring 3 must be null"
        mov eax, [RETF_REC + 20]
        CHECK32 dword [RETF_REC + 16], eax, "ESP after RETF 8 (parameters released)"
        CHECK_REC F_GATE0, 13, 0x40, ROMBASE + ring3_a.f9 - 7, "CALL through a DPL-0 call gate"
        OK32 "RETF 8 to ring 3: parameters released, DPL-0 selectors nulled"

        ; IRET to ring 3 with a bad CS or SS in its frame is #GP(selector),
        ; a fault at the IRET with the frame still on the stack (Linux's
        ; IRET exception fixup depends on it).
        mov ebx, esp
        lea ebp, [ebx - 20]
        IRET_FRAME 0x23, 0x23
        EXPECT_FAULT .iret1_after
.iret1: iretd
.iret1_after:
        CHECK32 esp, ebp, "ESP after a faulting IRET"
        CHECK_FAULT 13, 0x20, ROMBASE + .iret1, "IRET with a data segment as CS"
        mov esp, ebx
        IRET_FRAME 0x1b, 0x1b
        EXPECT_FAULT .iret2_after
.iret2: iretd
.iret2_after:
        CHECK_FAULT 13, 0x18, ROMBASE + .iret2, "IRET with a code segment as SS"
        mov esp, ebx
        IRET_FRAME KCODE | 3, 0x23
        EXPECT_FAULT .iret3_after
.iret3: iretd
.iret3_after:
        CHECK_FAULT 13, KCODE, ROMBASE + .iret3, "IRET to RPL 3 with DPL-0 code"
        mov esp, ebx
        IRET_FRAME 0x1b, KDATA | 3
        EXPECT_FAULT .iret4_after
.iret4: iretd
.iret4_after:
        CHECK_FAULT 13, KDATA, ROMBASE + .iret4, "IRET to ring 3 with a DPL-0 SS"
        mov esp, ebx
        OK32 "IRET to ring 3 with a bad CS or SS: #GP(selector) at the IRET"

        ; Second visit with IOPL 3.
        mov dword [R0_NEXT], ROMBASE + check_b
        mov ax, 0x23
        mov ds, ax
        mov es, ax
        push dword 0x23
        push dword R3_STACK
        push dword 0x3002
        push dword 0x1b
        push dword ROMBASE + ring3_b
        iretd
check_b:
        mov eax, [IOPL3_REC]
        and eax, 0x3200
        CHECK32 eax, 0x3200, "POPF at CPL 3 with IOPL 3: IF set, IOPL kept at 3"
        mov eax, [IOPL3_REC + 4]
        and eax, 0x200
        CHECK32 eax, 0, "CLI at CPL 3 with IOPL 3"
        CHECK32 dword [IOPL3_REC + 8], 1, "IN AL, 81h with IOPL 3"
        OK32 "IOPL 3: CLI, POPF IF, ports beyond the bitmap"

        ; SYSENTER/SYSEXIT (SDM Vol.2 SYSENTER): CS from the MSR, SS = CS+8,
        ; back to CS+16 and CS+24 with RPL 3.
        mov eax, 1
        cpuid
        test edx, 1 << 11
        jz no_sep
        mov ecx, 0x174
        xor edx, edx
        mov eax, KCODE
        wrmsr
        mov ecx, 0x175
        mov eax, SE_STACK
        wrmsr
        mov ecx, 0x176
        mov eax, ROMBASE + sysenter_target
        wrmsr
        mov dword [R0_NEXT], ROMBASE + check_c
        mov ax, 0x23
        mov ds, ax
        mov es, ax
        push dword 0x23
        push dword R3_STACK
        push dword 0x202
        push dword 0x1b
        push dword ROMBASE + ring3_c
        iretd
check_c:
        CHECK32 dword [SE_REC], KCODE, "CS after SYSENTER"
        CHECK32 dword [SE_REC + 4], KDATA, "SS after SYSENTER"
        CHECK32 dword [SE_REC + 8], SE_STACK, "ESP after SYSENTER"
        mov eax, [SE_REC + 12]
        and eax, 0x200
        CHECK32 eax, 0, "IF after SYSENTER"
        CHECK32 dword [SE_REC + 16], 0x1b, "CS after SYSEXIT"
        CHECK32 dword [SE_REC + 20], 0x23, "SS after SYSEXIT"
        CHECK32 dword [SE_REC + 24], R3_STACK, "ESP after SYSEXIT (from ECX)"
        CHECK32 dword [SE_REC + 28], 1, "EIP after SYSEXIT (from EDX)"
        OK32 "SYSENTER to ring 0 and SYSEXIT to ring 3"
        PASS32
no_sep:
        FAIL32 "CPUID.1:EDX.SEP clear"

        LIB32_CODE

        align 8
gdt:
        dq 0
        DESC 0, 0xfffff, 0x9a, 0xc              ; 08: ring-0 code
        DESC 0, 0xfffff, 0x92, 0xc              ; 10: ring-0 data
        DESC 0, 0xfffff, 0xfa, 0xc              ; 18: ring-3 code
        DESC 0, 0xfffff, 0xf2, 0xc              ; 20: ring-3 data
        DESC TSS_ADDR, 0x68 + 0x80, 0x89, 0x0   ; 28: TSS with I/O bitmap
        GATE KCODE, gate_target, 0xec, 2        ; 30: call gate, DPL 3
        DESC 0, 0xfffff, 0x9e, 0xc              ; 38: conforming code, DPL 0
        GATE KCODE, gate_target, 0x8c, 0        ; 40: call gate, DPL 0
gdt_end:

        RESET_VECTOR
