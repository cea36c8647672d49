; Debug exceptions (SDM Vol.3 chapter 17): TF single-step traps with
; DR6.BS (the first one after the instruction following the POPF that set
; TF), a DR0 instruction breakpoint (a fault, resumed with RF), DR1 data
; write and DR2 read/write breakpoints (traps after the access, matching
; the length), and DR7.GD general detect (DR6.BD).
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
        mov eax, dr6
        and eax, 0xe00f
        CHECK32 eax, 0, "DR6 status bits after clearing"
        OK32 "#DB handler installed"

        ; Single step: POPF sets TF; traps after .s0, .s1 and .s2; the
        ; third clears TF.
        DB_RESET 3
        pushfd
        or dword [esp], 0x100
        popfd
.s0:    nop
.s1:    nop
.s2:    inc eax
.s3:    nop
        CHECK32 dword [DB_COUNT], 3, "single-step traps"
        CHECK_DB 0, ROMBASE + .s1, 0x4000, "single step 1"
        CHECK_DB 1, ROMBASE + .s2, 0x4000, "single step 2"
        CHECK_DB 2, ROMBASE + .s3, 0x4000, "single step 3"
        pushfd
        pop eax
        and eax, 0x100
        CHECK32 eax, 0, "TF after the handler cleared it"
        OK32 "TF single-step traps with DR6.BS"

        ; DR0 instruction breakpoint: a fault at the instruction; RF in
        ; the returned EFLAGS lets it run once.
        DB_RESET 100
        mov eax, ROMBASE + .bp
        mov dr0, eax
        mov eax, 0x401                  ; L0, execute, length 1
        mov dr7, eax
        xor ecx, ecx
.bp:    inc ecx
        xor eax, eax
        mov dr7, eax
        CHECK32 dword [DB_COUNT], 1, "instruction breakpoint exceptions"
        CHECK_DB 0, ROMBASE + .bp, 0x0001, "DR0 instruction breakpoint"
        CHECK32 ecx, 1, "breakpointed INC executed once"
        OK32 "DR0 instruction breakpoint (fault, B0, RF)"

        ; DR1 data write breakpoint on the dword at WATCH: reads do not
        ; trigger it; writes inside it trap after the write.
        DB_RESET 100
        mov eax, WATCH
        mov dr1, eax
        mov eax, 0x400 | (1 << 2) | (1 << 20) | (3 << 22)
        mov dr7, eax
        mov eax, [WATCH]
        mov dword [WATCH], 0x77
.w1:    mov byte [WATCH + 3], 1
.w2:    mov dword [WATCH + 4], 1
        mov eax, [WATCH]
        xor eax, eax
        mov dr7, eax
        CHECK32 dword [DB_COUNT], 2, "data write breakpoint exceptions"
        CHECK_DB 0, ROMBASE + .w1, 0x0002, "DR1 write breakpoint, dword store"
        CHECK_DB 1, ROMBASE + .w2, 0x0002, "DR1 write breakpoint, byte store at +3"
        CHECK32 dword [WATCH], 0x01000077, "memory written before the trap"
        OK32 "DR1 data write breakpoint (trap after the write, B1)"

        ; DR2 read/write breakpoint, length 2, at WATCH + 8: a read of
        ; WATCH + 9 triggers it, a read of WATCH + 10 does not.
        DB_RESET 100
        mov eax, WATCH + 8
        mov dr2, eax
        mov eax, 0x400 | (1 << 4) | (3 << 24) | (1 << 26)
        mov dr7, eax
        mov al, [WATCH + 10]
        mov al, [WATCH + 9]
.r1:    xor eax, eax
        mov dr7, eax
        CHECK32 dword [DB_COUNT], 1, "read/write breakpoint exceptions"
        CHECK_DB 0, ROMBASE + .r1, 0x0004, "DR2 read/write breakpoint"
        OK32 "DR2 read/write breakpoint with length 2"

        ; DR7.GD: the next MOV to or from a debug register is a #DB fault
        ; with DR6.BD, and GD is cleared for the handler.
        DB_RESET 100
        mov eax, 0x2400
        mov dr7, eax
.gd:    mov eax, dr0
        CHECK32 dword [DB_COUNT], 1, "general detect exceptions"
        CHECK_DB 0, ROMBASE + .gd, 0x2000, "DR7.GD general detect"
        mov eax, dr7
        and eax, 0x2000
        CHECK32 eax, 0, "DR7.GD after the general-detect #DB"
        OK32 "DR7.GD general detect (fault, BD)"
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
