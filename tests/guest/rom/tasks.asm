; Hardware task switching (SDM Vol.3 chapter 7): JMP to a TSS (state saved
; in the old TSS and loaded from the new one, LDTR from the TSS, busy bits,
; CR0.TS), CALL through a task gate (NT, back link, old task kept busy,
; CALL to a busy task is #GP), IRET back along the link (NT cleared in the
; old task's image), #TS for a TSS below the minimum limit, and a double
; fault handled by a task gate as Linux does: a broken stack makes #SS
; become #DF, and the handler task runs on its own stack, with the error
; code pushed there, and returns to the repaired task by IRET. With paging
; on, CR3 comes from the new TSS, and a kernel-stack push into an unmapped
; page (#PF while delivering #PF) reaches the #DF task too.
%include "lib.inc"

%define TSS_A 0x3000
%define TSS_B 0x3100
%define TSS_C 0x3200
%define TSS_DF 0x3300
%define LDT_ADDR 0x4000
%define A_STACK 0x9f000
%define B_STACK 0x8f000
%define C_STACK 0x8e000
%define DF_STACK 0x7f000

%define SEL_A 0x18
%define SEL_B 0x20
%define SEL_C 0x28
%define SEL_DF 0x30
%define SEL_GATE_C 0x38
%define SEL_LDT 0x40
%define SEL_SMALL 0x48          ; data, base 80000h, limit FFFh
%define SEL_SHORT 0x50          ; a TSS descriptor with limit 20h

; 32-bit TSS fields (SDM Figure 7-2)
%define T_LINK 0x00
%define T_CR3 0x1c
%define T_EIP 0x20
%define T_EFLAGS 0x24
%define T_EAX 0x28
%define T_ECX 0x2c
%define T_EDX 0x30
%define T_EBX 0x34
%define T_ESP 0x38
%define T_EBP 0x3c
%define T_ESI 0x40
%define T_EDI 0x44
%define T_ES 0x48
%define T_CS 0x4c
%define T_SS 0x50
%define T_DS 0x54
%define T_FS 0x58
%define T_GS 0x5c
%define T_LDT 0x60
%define T_IOMAP 0x66

%define REGS_B 0x600            ; EAX ECX EDX EBX EBP ESI EDI ESP EFLAGS
%define REGS_A 0x640            ;   as found on entry to a task
%define REGS_C 0x680
%define REGS_DF 0x6c0
%define A_ESP 0x700             ; task A's ESP at its JMP/CALL
%define DF_RESUME 0x704         ; where the #DF task sends task A back to
%define PD_A 0x10000            ; page directories (4 MiB pages) of task A
%define PD_DF 0x11000           ;   and of the #DF task

; INIT_TSS base, label, esp: a ring-0 flat task starting at ROMBASE + label
%macro INIT_TSS 3
        mov dword [%1 + T_EIP], ROMBASE + %2
        mov dword [%1 + T_EFLAGS], 2
        mov dword [%1 + T_ESP], %3
        mov dword [%1 + T_ES], KDATA
        mov dword [%1 + T_CS], KCODE
        mov dword [%1 + T_SS], KDATA
        mov dword [%1 + T_DS], KDATA
        mov dword [%1 + T_FS], KDATA
        mov dword [%1 + T_GS], KDATA
        mov word [%1 + T_IOMAP], 0x68
%endmacro

; SAVE_REGS dst: store the 7 GPRs other than ESP, ESP and EFLAGS (needs a
; flat DS and a working stack after the ESP store)
%macro SAVE_REGS 1
        mov [%1], eax
        mov [%1 + 4], ecx
        mov [%1 + 8], edx
        mov [%1 + 12], ebx
        mov [%1 + 16], ebp
        mov [%1 + 20], esi
        mov [%1 + 24], edi
        mov [%1 + 28], esp
        pushfd
        pop dword [%1 + 32]
%endmacro

; TYPE_OF selector: EAX = the access byte of a GDT descriptor
%macro TYPE_OF 1
        movzx eax, byte [GDT_ADDR + (%1) + 5]
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
        mov esp, A_STACK
        call idt_setup
        mov esi, ROMBASE + ldt_rom
        mov edi, LDT_ADDR
        mov ecx, 8
        cld
        rep movsb
        mov ax, SEL_A
        ltr ax

        ; Task B: all GPRs set, CF set, ES from its LDT.
        INIT_TSS TSS_B, task_b, B_STACK
        mov dword [TSS_B + T_EFLAGS], 0x3
        mov dword [TSS_B + T_EAX], 0xb0000001
        mov dword [TSS_B + T_ECX], 0xb0000002
        mov dword [TSS_B + T_EDX], 0xb0000003
        mov dword [TSS_B + T_EBX], 0xb0000004
        mov dword [TSS_B + T_EBP], 0xb0000005
        mov dword [TSS_B + T_ESI], 0xb0000006
        mov dword [TSS_B + T_EDI], 0xb0000007
        mov dword [TSS_B + T_ES], 0x04
        mov dword [TSS_B + T_LDT], SEL_LDT
        mov dword [TSS_B + T_LINK], 0x5555
        INIT_TSS TSS_C, task_c, C_STACK
        INIT_TSS TSS_DF, df_task, DF_STACK

        ; JMP to task B with known registers and flags (SF, CF).
        push dword 0x83
        popfd
        mov [A_ESP], esp
        mov eax, 0xa0000001
        mov ecx, 0xa0000002
        mov edx, 0xa0000003
        mov ebx, 0xa0000004
        mov ebp, 0xa0000005
        mov esi, 0xa0000006
        mov edi, 0xa0000007
        jmp SEL_B:0
.a_resume:
        SAVE_REGS REGS_A
        ; Back from task B.
        CHECK32 dword [REGS_A], 0xa0000001, "EAX of task A after the round trip"
        CHECK32 dword [REGS_A + 4], 0xa0000002, "ECX of task A"
        CHECK32 dword [REGS_A + 12], 0xa0000004, "EBX of task A"
        CHECK32 dword [REGS_A + 16], 0xa0000005, "EBP of task A"
        CHECK32 dword [REGS_A + 24], 0xa0000007, "EDI of task A"
        mov eax, [A_ESP]
        CHECK32 dword [REGS_A + 28], eax, "ESP of task A"
        mov eax, [REGS_A + 32]
        and eax, 0x4fd7
        CHECK32 eax, 0x83, "EFLAGS of task A (SF, CF)"
        CHECK32 dword [TSS_B + T_EIP], ROMBASE + task_b.b_resume, "EIP saved in TSS B by its JMP"
        CHECK32 dword [TSS_B + T_EBX], 0xb5b5b5b5, "EBX saved in TSS B"
        xor eax, eax
        str ax
        CHECK32 eax, SEL_A, "TR back in task A"
        sldt ax
        CHECK32 eax, 0, "LDTR from TSS A (null)"
        TYPE_OF SEL_A
        CHECK32 eax, 0x8b, "TSS A busy again"
        TYPE_OF SEL_B
        CHECK32 eax, 0x89, "TSS B no longer busy"
        OK32 "JMP back to task A: registers, flags, TR, LDTR, busy bits"
        clts

        ; CALL through a task gate to task C, which IRETs back.
        mov [A_ESP], esp
        call SEL_GATE_C:0
.a_after_call:
        SAVE_REGS REGS_A
        mov eax, [REGS_C + 32]
        and eax, 0x4000
        CHECK32 eax, 0x4000, "NT in task C entered by CALL"
        CHECK32 dword [TSS_C + T_LINK], SEL_A, "back link in TSS C"
        CHECK32 dword [0x7f4], 0x8b, "TSS A busy while task C runs"
        CHECK32 dword [0x7f8], 0x8b, "TSS C busy while it runs"
        CHECK32 dword [0x7fc], SEL_C, "TR in task C"
        CHECK_FAULT 13, SEL_A, ROMBASE + task_c.c_call_busy, "#GP for CALL to the busy task A"
        mov eax, [TSS_C + T_EFLAGS]
        and eax, 0x4000
        CHECK32 eax, 0, "NT in TSS C's saved EFLAGS after its IRET"
        CHECK32 dword [TSS_C + T_EIP], ROMBASE + task_c.c_resume, "EIP saved in TSS C by its IRET"
        mov eax, [REGS_A + 32]
        and eax, 0x4000
        CHECK32 eax, 0, "NT in task A after the return"
        mov eax, [A_ESP]
        CHECK32 dword [REGS_A + 28], eax, "ESP of task A after the return"
        TYPE_OF SEL_C
        CHECK32 eax, 0x89, "TSS C not busy after its IRET"
        TYPE_OF SEL_A
        CHECK32 eax, 0x8b, "TSS A busy"
        OK32 "CALL through a task gate (NT, link, busy) and IRET back"
        clts

        ; A TSS descriptor with a limit below 67h: #TS(selector).
        EXPECT_FAULT .ts_after
.ts:    jmp SEL_SHORT:0
.ts_after:
        CHECK_FAULT 10, SEL_SHORT, ROMBASE + .ts, "#TS for a JMP to a TSS with limit 20h"
        OK32 "#TS for a too-short TSS"

        ; Paging from here on: task A's and the #DF task's page directories
        ; map 400000h to different 4 MiB frames, and a task switch loads CR3
        ; from the new TSS (a static field, never written back; SDM 7.2.1).
        mov dword [0x400000], 0xaaaa0000
        mov dword [0x800000], 0xdddd0000
        mov dword [PD_A], 0x000000 | 0x83
        mov dword [PD_A + 4], 0x400000 | 0x83
        mov dword [PD_DF], 0x000000 | 0x83
        mov dword [PD_DF + 4], 0x800000 | 0x83
        mov dword [TSS_A + T_CR3], PD_A
        mov dword [TSS_DF + T_CR3], PD_DF
        mov eax, cr4
        or eax, 0x10
        mov cr4, eax
        mov eax, PD_A
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax

        ; Double fault through a task gate: #SS on a broken stack, the
        ; #SS frame cannot be pushed either, so #DF (SDM Table 6-5).
        mov eax, 8
        xor ebx, ebx
        mov cx, SEL_DF
        mov dl, 0x85
        call set_gate
        mov dword [DF_RESUME], ROMBASE + .after_df
        mov ax, SEL_SMALL
        mov ss, ax
        mov esp, 2
.df_push:
        push eax
        FAIL32 "no #DF"
.after_df:
        SAVE_REGS REGS_A
        CHECK32 dword [REGS_DF + 28], DF_STACK - 4, "ESP in the #DF task (error code pushed on its stack)"
        CHECK32 dword [0x7e0], 0, "#DF error code on the handler task's stack"
        mov eax, [REGS_DF + 32]
        and eax, 0x4000
        CHECK32 eax, 0x4000, "NT in the #DF task"
        CHECK32 dword [0x7e4], SEL_A, "back link in the #DF TSS"
        CHECK32 dword [0x7e8], SEL_SMALL, "SS of the faulting task saved in TSS A"
        CHECK32 dword [0x7ec], 2, "ESP of the faulting task saved in TSS A"
        CHECK32 dword [0x7f0], SEL_DF, "TR in the #DF task"
        CHECK32 dword [REGS_A + 28], A_STACK, "ESP of task A repaired by the #DF task"
        xor eax, eax
        mov ax, ss
        CHECK32 eax, KDATA, "SS of task A repaired by the #DF task"
        str ax
        CHECK32 eax, SEL_A, "TR back in task A after the #DF task's IRET"
        TYPE_OF SEL_DF
        CHECK32 eax, 0x89, "#DF TSS not busy after its IRET"
        OK32 "#DF through a task gate: own stack, error code, link, IRET back"
        CHECK32 dword [0x7d0], PD_DF, "CR3 in the #DF task (from its TSS)"
        CHECK32 dword [0x7d4], 0xdddd0000, "400000h in the #DF task's address space"
        mov eax, cr3
        CHECK32 eax, PD_A, "CR3 back in task A"
        CHECK32 dword [0x400000], 0xaaaa0000, "400000h back in task A's address space"
        OK32 "task switches load CR3 from the TSS"

        ; Linux's case: the kernel stack runs into an unmapped page. The
        ; push is a #PF, the #PF frame cannot be pushed either: #PF + #PF
        ; is #DF (SDM Table 6-5), handled by the task gate again.
        INIT_TSS TSS_DF, df_task, DF_STACK
        mov dword [TSS_DF + T_CR3], PD_DF
        mov dword [DF_RESUME], ROMBASE + .after_df2
        mov esp, 0x2000000
        push eax
        FAIL32 "no #DF for a push to an unmapped page"
.after_df2:
        CHECK32 dword [0x7d8], 0x1fffffc, "CR2 seen by the #DF task"
        CHECK32 dword [0x7e0], 0, "#DF error code"
        CHECK32 dword [0x7ec], 0x2000000, "ESP of the faulting task saved in TSS A"
        CHECK32 dword [REGS_DF + 28], DF_STACK - 4, "ESP in the #DF task"
        xor eax, eax
        str ax
        CHECK32 eax, SEL_A, "TR back in task A"
        OK32 "#DF task for a stack push into an unmapped page (#PF + #PF)"
        PASS32

; Task B: entered by JMP. Check what it was given and what task A left.
task_b:
        SAVE_REGS REGS_B
        CHECK32 dword [REGS_B], 0xb0000001, "EAX loaded from TSS B"
        CHECK32 dword [REGS_B + 4], 0xb0000002, "ECX loaded from TSS B"
        CHECK32 dword [REGS_B + 8], 0xb0000003, "EDX loaded from TSS B"
        CHECK32 dword [REGS_B + 12], 0xb0000004, "EBX loaded from TSS B"
        CHECK32 dword [REGS_B + 16], 0xb0000005, "EBP loaded from TSS B"
        CHECK32 dword [REGS_B + 20], 0xb0000006, "ESI loaded from TSS B"
        CHECK32 dword [REGS_B + 24], 0xb0000007, "EDI loaded from TSS B"
        CHECK32 dword [REGS_B + 28], B_STACK, "ESP loaded from TSS B"
        mov eax, [REGS_B + 32]
        and eax, 0x4fd7
        CHECK32 eax, 0x3, "EFLAGS loaded from TSS B (CF, no NT for a JMP)"
        xor eax, eax
        str ax
        CHECK32 eax, SEL_B, "TR in task B"
        sldt ax
        CHECK32 eax, SEL_LDT, "LDTR loaded from TSS B"
        mov ax, es
        CHECK32 eax, 0x04, "ES loaded from TSS B (an LDT selector)"
        mov dword [es:0x20], 0x1dc0ffee
        CHECK32 dword [0x100020], 0x1dc0ffee, "ES base from the LDT descriptor"
        mov eax, cr0
        and eax, 8
        CHECK32 eax, 8, "CR0.TS after a task switch"
        CHECK32 dword [TSS_B + T_LINK], 0x5555, "back link of TSS B changed by a JMP"
        TYPE_OF SEL_A
        CHECK32 eax, 0x89, "TSS A busy after JMP away from it"
        TYPE_OF SEL_B
        CHECK32 eax, 0x8b, "TSS B not busy after JMP to it"
        OK32 "JMP to task B: registers, EFLAGS, TR, LDTR, LDT segment, TS, busy bits"
        CHECK32 dword [TSS_A + T_EIP], ROMBASE + start.a_resume, "EIP saved in TSS A"
        CHECK32 dword [TSS_A + T_EAX], 0xa0000001, "EAX saved in TSS A"
        CHECK32 dword [TSS_A + T_ECX], 0xa0000002, "ECX saved in TSS A"
        CHECK32 dword [TSS_A + T_EDX], 0xa0000003, "EDX saved in TSS A"
        CHECK32 dword [TSS_A + T_EBX], 0xa0000004, "EBX saved in TSS A"
        CHECK32 dword [TSS_A + T_EBP], 0xa0000005, "EBP saved in TSS A"
        CHECK32 dword [TSS_A + T_ESI], 0xa0000006, "ESI saved in TSS A"
        CHECK32 dword [TSS_A + T_EDI], 0xa0000007, "EDI saved in TSS A"
        mov eax, [A_ESP]
        CHECK32 dword [TSS_A + T_ESP], eax, "ESP saved in TSS A"
        mov eax, [TSS_A + T_EFLAGS]
        and eax, 0x4fd7
        CHECK32 eax, 0x83, "EFLAGS saved in TSS A"
        movzx eax, word [TSS_A + T_CS]
        CHECK32 eax, KCODE, "CS saved in TSS A"
        movzx eax, word [TSS_A + T_SS]
        CHECK32 eax, KDATA, "SS saved in TSS A"
        movzx eax, word [TSS_A + T_DS]
        CHECK32 eax, KDATA, "DS saved in TSS A"
        OK32 "state of task A saved in TSS A"
        mov ebx, 0xb5b5b5b5
        jmp SEL_A:0
.b_resume:
        FAIL32 "task B resumed"

; Task C: entered by CALL through a task gate; returns with IRET.
task_c:
        SAVE_REGS REGS_C
        TYPE_OF SEL_A
        mov [0x7f4], eax
        TYPE_OF SEL_C
        mov [0x7f8], eax
        xor eax, eax
        str ax
        mov [0x7fc], eax
        EXPECT_FAULT .c_after_gp
.c_call_busy:
        call SEL_A:0
.c_after_gp:
        iretd
.c_resume:
        FAIL32 "task C resumed"

; The double-fault task: record, repair task A's saved state, IRET to it.
df_task:
        SAVE_REGS REGS_DF
        mov eax, cr3
        mov [0x7d0], eax
        mov eax, [0x400000]
        mov [0x7d4], eax
        mov eax, [esp]
        mov [0x7e0], eax
        movzx eax, word [TSS_DF + T_LINK]
        mov [0x7e4], eax
        movzx eax, word [TSS_A + T_SS]
        mov [0x7e8], eax
        mov eax, [TSS_A + T_ESP]
        mov [0x7ec], eax
        xor eax, eax
        str ax
        mov [0x7f0], eax
        mov eax, cr2
        mov [0x7d8], eax
        mov eax, [DF_RESUME]
        mov [TSS_A + T_EIP], eax
        mov dword [TSS_A + T_ESP], A_STACK
        mov dword [TSS_A + T_SS], KDATA
        add esp, 4
        iretd

        LIB32_CODE

ldt_rom:
        DESC 0x100000, 0xffff, 0x92, 0x0        ; LDT 04: data, base 1 MiB

        align 8
gdt:
        dq 0
        DESC 0, 0xfffff, 0x9a, 0xc              ; 08: code, flat
        DESC 0, 0xfffff, 0x92, 0xc              ; 10: data, flat
        DESC TSS_A, 0x67, 0x89, 0x0             ; 18: TSS A
        DESC TSS_B, 0x67, 0x89, 0x0             ; 20: TSS B
        DESC TSS_C, 0x67, 0x89, 0x0             ; 28: TSS C
        DESC TSS_DF, 0x67, 0x89, 0x0            ; 30: TSS for #DF
        dw 0, SEL_C, 0x8500, 0                  ; 38: task gate to TSS C
        DESC LDT_ADDR, 0x7, 0x82, 0x0           ; 40: LDT
        DESC 0x80000, 0xfff, 0x92, 0x4          ; 48: data, limit FFFh
        DESC 0x3400, 0x20, 0x89, 0x0            ; 50: TSS, limit 20h
gdt_end:

        RESET_VECTOR
