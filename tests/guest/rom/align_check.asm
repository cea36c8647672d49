; Alignment check (SDM Vol.3 6.15, interrupt 17): with CR0.AM and
; EFLAGS.AC set, a misaligned data access at CPL 3 is #AC(0), a fault at
; the instruction; aligned and byte accesses are not, and neither are
; misaligned ones at CPL 0 or with CR0.AM clear.
; Ring 3 cannot print: it stores what it sees and ring 0 checks it.
%include "lib.inc"

%define TSS_ADDR 0x3000
%define R0_STACK 0x9f000
%define R3_STACK 0x8f000
%define R0_NEXT 0x7f0           ; where INT 30h from ring 3 continues
%define F_AC1 0x600             ; fault records: vector, error, EIP
%define F_AC2 0x610
%define F_AC3 0x620
%define R3_DONE 0x630           ; 1 once the unchecked accesses ran
%define EFLAGS_AC 0x40000
%define CR0_AM 0x40000

; SAVE_REC dst: copy vector, error code and EIP of the last exception
%macro SAVE_REC 1
        mov eax, [REC_VEC]
        mov [%1], eax
        mov eax, [REC_ERR]
        mov [%1 + 4], eax
        mov eax, [REC_EIP]
        mov [%1 + 8], eax
%endmacro

; CHECK_REC record, vector, error, eip, "what"
%macro CHECK_REC 5+
        CHECK32 dword [%1], %2, %5, ": vector"
        CHECK32 dword [%1 + 4], %3, %5, ": error code"
        CHECK32 dword [%1 + 8], %4, %5, ": pushed EIP"
%endmacro

; ENTER_RING3 label, eflags: IRETD to ring-3 code, INT 30h comes back to
; the code that follows
%macro ENTER_RING3 2
        mov dword [R0_NEXT], ROMBASE + %%back
        mov ax, 0x23
        mov ds, ax
        mov es, ax
        push dword 0x23
        push dword R3_STACK
        push dword %2
        push dword 0x1b
        push dword ROMBASE + %1
        iretd
%%back:
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
        mov eax, 0x30
        mov ebx, ROMBASE + back_to_ring0
        mov cx, KCODE
        mov dl, 0xee
        call set_gate
        mov dword [TSS_ADDR + 4], R0_STACK
        mov dword [TSS_ADDR + 8], KDATA
        mov ax, 0x28
        ltr ax

        ; CPL 0 never checks alignment.
        mov eax, cr0
        or eax, CR0_AM
        mov cr0, eax
        pushfd
        or dword [esp], EFLAGS_AC
        popfd
        mov eax, [0x701]
        mov [0x703], ax
        pushfd
        and dword [esp], ~EFLAGS_AC
        popfd
        OK32 "no #AC at CPL 0"

        ; CPL 3 with CR0.AM and EFLAGS.AC (from the IRET image).
        ENTER_RING3 ring3_ac, 0x40002
        CHECK_REC F_AC1, 17, 0, ROMBASE + ring3_ac.ld, "#AC for a misaligned dword load at CPL 3"
        CHECK_REC F_AC2, 17, 0, ROMBASE + ring3_ac.st, "#AC for a misaligned word store at CPL 3"
        CHECK_REC F_AC3, 17, 0, ROMBASE + ring3_ac.psh, "#AC for a push with a misaligned ESP at CPL 3"
        CHECK32 dword [0x713], 0, "memory written by a store that took #AC"
        CHECK32 dword [R3_DONE], 1, "aligned and byte accesses at CPL 3 with AC"
        OK32 "#AC(0) at CPL 3 for misaligned load, store and push"

        ; CR0.AM clear: EFLAGS.AC alone does nothing.
        mov eax, cr0
        and eax, ~CR0_AM
        mov cr0, eax
        mov dword [R3_DONE], 0
        ENTER_RING3 ring3_no_am, 0x40002
        CHECK32 dword [R3_DONE], 1, "misaligned accesses at CPL 3 with AC but CR0.AM clear"
        OK32 "no #AC with CR0.AM clear"
        PASS32

ring3_ac:
        mov eax, [0x700]
        mov al, [0x701]
        mov ax, [0x702]
        mov dword [R3_DONE], 1
        EXPECT_FAULT .ld_after
.ld:    mov eax, [0x701]
.ld_after:
        SAVE_REC F_AC1
        EXPECT_FAULT .st_after
.st:    mov word [0x713], 0x5555
.st_after:
        SAVE_REC F_AC2
        mov ebx, esp
        dec esp
        EXPECT_FAULT .psh_after
.psh:   push eax
.psh_after:
        mov esp, ebx
        SAVE_REC F_AC3
        int 0x30

ring3_no_am:
        mov eax, [0x701]
        mov [0x713], ax
        mov dword [R3_DONE], 1
        int 0x30

; INT 30h (DPL 3): drop the ring-3 frame, continue in ring 0 at [R0_NEXT].
back_to_ring0:
        mov ax, KDATA
        mov ds, ax
        mov es, ax
        mov esp, R0_STACK
        jmp [R0_NEXT]

        LIB32_CODE

        align 8
gdt:
        dq 0
        DESC 0, 0xfffff, 0x9a, 0xc              ; 08: ring-0 code
        DESC 0, 0xfffff, 0x92, 0xc              ; 10: ring-0 data
        DESC 0, 0xfffff, 0xfa, 0xc              ; 18: ring-3 code
        DESC 0, 0xfffff, 0xf2, 0xc              ; 20: ring-3 data
        DESC TSS_ADDR, 0x67, 0x89, 0x0          ; 28: 32-bit TSS
gdt_end:

        RESET_VECTOR
