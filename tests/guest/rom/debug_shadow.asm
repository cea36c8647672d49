; Debug traps around the one-instruction shadows (SDM Vol.3 6.8.3 and the
; STI entry in Vol.2):
; - MOV SS / POP SS hold debug exceptions back until the instruction that
;   follows has run: single-stepping "MOV SS; NOP" traps once, after the
;   NOP; a data breakpoint hit by MOV SS, [mem] is delivered after the next
;   instruction (the behaviour behind CVE-2018-8897), not dropped.
; - STI blocks only maskable interrupts: single-step traps still come after
;   STI and after the instruction following it.
%include "lib.inc"

%define WATCH 0x5000

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
        mov eax, 1
        mov ebx, ROMBASE + h_db
        mov cx, KCODE
        mov dl, 0x8e
        call set_gate
        xor eax, eax
        mov dr6, eax
        OK32 "#DB handler installed"

        ; Single-step over MOV SS: traps after .t0 and after .t2 only.
        DB_RESET 2
        mov ax, KDATA
        pushfd
        or dword [esp], 0x100
        popfd
.t0:    nop
.t1:    mov ss, ax
.t2:    nop
.t3:    nop
.t4:    nop
        CHECK32 dword [DB_COUNT], 2, "single-step traps around MOV SS"
        CHECK_DB 0, ROMBASE + .t1, 0x4000, "single step before MOV SS"
        CHECK_DB 1, ROMBASE + .t3, 0x4000, "single step after the instruction following MOV SS"
        OK32 "single step over MOV SS: one trap, after the next instruction"

        ; The same with POP SS.
        DB_RESET 2
        push dword KDATA
        pushfd
        or dword [esp], 0x100
        popfd
.p0:    nop
.p1:    pop ss
.p2:    nop
.p3:    nop
.p4:    nop
        CHECK32 dword [DB_COUNT], 2, "single-step traps around POP SS"
        CHECK_DB 0, ROMBASE + .p1, 0x4000, "single step before POP SS"
        CHECK_DB 1, ROMBASE + .p3, 0x4000, "single step after the instruction following POP SS"
        OK32 "single step over POP SS: one trap, after the next instruction"

        ; A data breakpoint on the operand of MOV SS, [mem] (DR3, read or
        ; write, 2 bytes) is delivered after the following instruction.
        DB_RESET 100
        mov word [WATCH], KDATA
        mov eax, WATCH
        mov dr3, eax
        mov eax, 0x400 | (1 << 6) | (3 << 28) | (1 << 30)
        mov dr7, eax
        mov ss, [WATCH]
.x1:    nop
.x2:    xor eax, eax
        mov dr7, eax
        CHECK32 dword [DB_COUNT], 1, "data breakpoint #DB for MOV SS, [mem]"
        CHECK_DB 0, ROMBASE + .x2, 0x0008, "data breakpoint on MOV SS, [mem] (after the next instruction)"
        OK32 "data breakpoint on MOV SS, [mem]: delivered after the next instruction"

        ; STI does not hold back single-step traps.
        DB_RESET 3
        pushfd
        or dword [esp], 0x100
        popfd
.v0:    nop
.v1:    sti
.v2:    nop
.v3:    cli
        CHECK32 dword [DB_COUNT], 3, "single-step traps around STI"
        CHECK_DB 0, ROMBASE + .v1, 0x4000, "single step before STI"
        CHECK_DB 1, ROMBASE + .v2, 0x4000, "single step after STI"
        CHECK_DB 2, ROMBASE + .v3, 0x4000, "single step after the instruction following STI"
        OK32 "single step over STI: a trap after every instruction"
        PASS32

        LIB32_CODE
        LIB32_DB_CODE

        align 8
gdt:
        dq 0
        DESC 0, 0xfffff, 0x9a, 0xc              ; 08: code, flat
        DESC 0, 0xfffff, 0x92, 0xc              ; 10: data, flat
gdt_end:

        RESET_VECTOR
