; Hardware interrupts in protected mode (SDM Vol.3 6.8, 6.12): the 8254
; timer through the 8259 on vector 20h wakes STI;HLT with EIP after the
; HLT; IF = 0 holds a pending IRQ back and STI delays it by one more
; instruction (the STI interrupt shadow); an IRQ in ring 3 switches to the
; TSS ring-0 stack, and one in vm86 pushes the vm86 frame.
%include "lib.inc"

%define TSS_ADDR 0x3000
%define R0_STACK 0x9f000
%define R3_STACK 0x8f000
%define R0_NEXT 0x7f0           ; where INT 30h from ring 3 or vm86 continues

%define TICKS 0x600             ; timer interrupts taken
%define T_EIP 0x604             ; last interrupt frame: EIP, CS, EFLAGS
%define T_CS 0x608
%define T_EFL 0x60c
%define T_HESP 0x610            ; ESP at the last handler entry
%define T_R3_SEEN 0x614         ; interrupts taken in ring 3
%define T_R3_HESP 0x618         ; handler ESP for the last one from ring 3
%define T_VM_SEEN 0x61c         ; interrupts taken in vm86
%define T_VM_HESP 0x620         ; handler ESP for the last one from vm86

start:
        cli
        mov ax, 0
        mov ss, ax
        mov sp, 0x7000
        mov ds, ax
        A20_ON
        LOAD_GDT16 gdt, gdt_end, GDT_ADDR
        ENTER_PM32 KCODE, KDATA
        mov esp, R0_STACK
        call idt_setup
        mov cx, KCODE
        mov eax, 0x20
        mov ebx, ROMBASE + h_timer
        mov dl, 0x8e
        call set_gate
        mov eax, 0x30
        mov ebx, ROMBASE + back_to_ring0
        mov dl, 0xee
        call set_gate
        mov dword [TSS_ADDR + 4], R0_STACK
        mov dword [TSS_ADDR + 8], KDATA
        mov word [TSS_ADDR + 0x66], 0x68
        mov ax, 0x28
        ltr ax

        ; 8259s at 20h/28h, only IRQ 0 unmasked; 8254 channel 0 in mode 2
        ; with a count of 1193 (about 1 kHz).
        PIC_MASKED
        mov al, 0xfe
        out 0x21, al
        mov al, 0x34
        out 0x43, al
        mov al, 1193 & 0xff
        out 0x40, al
        mov al, 1193 >> 8
        out 0x40, al
        OK32 "PIC and PIT programmed"

        ; STI; HLT: the timer wakes the CPU; the frame's EIP is past HLT.
        sti
        hlt
.after_hlt:
        cli
        CHECK32 dword [TICKS], 1, "timer interrupts after STI; HLT"
        CHECK32 dword [T_EIP], ROMBASE + .after_hlt, "EIP of the interrupt that ended HLT"
        CHECK32 dword [T_CS], KCODE, "CS of the interrupt that ended HLT"
        OK32 "IRQ 0 on vector 20h wakes HLT"

        ; With IF = 0 the IRQ stays pending in the PIC's IRR; after STI
        ; it is taken only once the next instruction has run.
        mov ebx, [TICKS]
        mov al, 0x0a                    ; OCW3: read IRR
        out 0x20, al
.wait:  in al, 0x20
        test al, 1
        jz .wait
        CHECK32 dword [TICKS], ebx, "interrupt taken with IF = 0"
        sti
        mov ecx, [TICKS]
.after_shadow:
        nop
        cli
        CHECK32 ecx, ebx, "interrupt taken before the instruction after STI"
        inc ebx
        CHECK32 dword [TICKS], ebx, "pending interrupt after STI"
        CHECK32 dword [T_EIP], ROMBASE + .after_shadow, "EIP of the interrupt after STI"
        OK32 "IF = 0 holds the IRQ back; STI shadow of one instruction"

        ; Ring 3 with IF = 1: wait for two ticks there.
        mov dword [R0_NEXT], ROMBASE + .back_from_ring3
        mov ax, 0x23
        mov ds, ax
        mov es, ax
        push dword 0x23
        push dword R3_STACK
        push dword 0x202
        push dword 0x1b
        push dword ROMBASE + ring3_wait
        iretd
.back_from_ring3:
        cmp dword [T_R3_SEEN], 1
        jae .r3_ok
        FAIL32 "no timer interrupt taken in ring 3"
.r3_ok:
        CHECK32 dword [T_R3_HESP], R0_STACK - 20, "handler ESP for an IRQ in ring 3 (ESP0 - 20)"
        OK32 "IRQ in ring 3: stack switch to SS0:ESP0"

        ; vm86 with IF = 1 and IOPL 3: wait for two ticks there.
        mov dword [R0_NEXT], ROMBASE + .back_from_vm86
        push dword 0
        push dword 0
        push dword 0
        push dword 0
        push dword 0x2000
        push dword 0x1000
        push dword 0x23202
        push dword 0xf000
        push dword vm86_wait
        iretd
.back_from_vm86:
        cmp dword [T_VM_SEEN], 1
        jae .vm_ok
        FAIL32 "no timer interrupt taken in vm86"
.vm_ok:
        CHECK32 dword [T_VM_HESP], R0_STACK - 36, "handler ESP for an IRQ in vm86 (ESP0 - 36)"
        OK32 "IRQ in vm86: vm86 frame on the ring-0 stack"
        PASS32

ring3_wait:
        mov ebx, [TICKS]
        add ebx, 2
.spin:  cmp [TICKS], ebx
        jb .spin
        int 0x30

        bits 16
vm86_wait:
        mov ebx, [TICKS]
        add ebx, 2
.spin:  cmp [TICKS], ebx
        jb .spin
        int 0x30
        bits 32

; Timer handler: count, record the frame, EOI.
h_timer:
        mov [ss:T_HESP], esp
        push eax
        push ds
        mov ax, KDATA
        mov ds, ax
        inc dword [TICKS]
        mov eax, [esp + 8]
        mov [T_EIP], eax
        mov eax, [esp + 12]
        and eax, 0xffff
        mov [T_CS], eax
        mov eax, [esp + 16]
        mov [T_EFL], eax
        test eax, 0x20000
        jz .not_vm86
        inc dword [T_VM_SEEN]
        mov eax, [T_HESP]
        mov [T_VM_HESP], eax
.not_vm86:
        cmp dword [T_CS], 0x1b
        jne .not_ring3
        inc dword [T_R3_SEEN]
        mov eax, [T_HESP]
        mov [T_R3_HESP], eax
.not_ring3:
        mov al, 0x20
        out 0x20, al
        pop ds
        pop eax
        iretd

; INT 30h (DPL 3): drop the frame, continue in ring 0 at [R0_NEXT].
back_to_ring0:
        mov ax, KDATA
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
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
