; Virtual-8086 mode (SDM Vol.3 chapter 20): enter by IRETD with VM = 1 from
; ring 0, run 8086 code (segment arithmetic, a stack, PUSHF images), INT n
; with IOPL 3 through a DPL-3 gate to the protected-mode handler (frame with
; GS FS DS ES SS ESP EFLAGS CS EIP, null data segments in the handler, IRET
; back restoring them), I/O checked against the TSS bitmap whatever IOPL is,
; and with IOPL < 3 the sensitive instructions (CLI, INT n, PUSHF) trapping
; to a #GP monitor that emulates them and returns by IRET.
%include "lib.inc"

%define TSS_ADDR 0x3000
%define IOMAP TSS_ADDR + 0x68   ; ports 0-FFh, then an FFh byte
%define R0_STACK 0x9f000

%define V_INIT 0x600            ; words: DS ES FS GS SS SP CS at entry
%define V_STACK 0x610           ; words: SP after PUSH, the word pushed
%define V_SEG 0x614             ; word read through ES = 1001h
%define V_AFTER21 0x620         ; dword EAX, words DS ES FS GS after INT 21h
%define V_FLAGS 0x630           ; word PUSHF, dword PUSHFD (at 634h)
%define V_OUT80 0x638           ; word 1 once OUT 80h ran
%define H21 0x640               ; INT 21h frame: EIP CS EFLAGS ESP SS ES DS
                                ; FS GS (9 dwords)
%define H21_ESP 0x664           ; handler ESP
%define H21_SEGS 0x668          ; words: DS ES FS GS at handler entry
%define GP_COUNT 0x680
%define GP_DS 0x684             ; DS at the last #GP monitor entry
%define GP_LOG 0x690            ; per #GP: opcode, error, EIP, EFLAGS

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
        mov dl, 0xee
        mov eax, 0x21
        mov ebx, ROMBASE + h_int21
        call set_gate
        mov eax, 0x22
        mov ebx, ROMBASE + h_int22
        call set_gate
        mov eax, 13
        mov ebx, ROMBASE + gp_monitor
        mov dl, 0x8e
        call set_gate

        ; TSS: SS0:ESP0, bitmap allowing ports 80h and E9h only.
        mov dword [TSS_ADDR + 4], R0_STACK
        mov dword [TSS_ADDR + 8], KDATA
        mov word [TSS_ADDR + 0x66], 0x68
        mov edi, IOMAP
        mov ecx, 0x21
        mov al, 0xff
        cld
        rep stosb
        and byte [IOMAP + 0x80 / 8], ~(1 << (0x80 % 8))
        and byte [IOMAP + 0xe9 / 8], ~(1 << (0xe9 % 8))
        mov ax, 0x18
        ltr ax
        OK32 "protected mode, TSS, IDT with DPL-3 gates"

        ; IRETD with VM = 1 and IOPL = 3 pops EIP CS EFLAGS ESP SS ES DS FS GS.
        push dword 0x4444
        push dword 0x3333
        push dword 0x1111
        push dword 0x2222
        push dword 0x2000
        push dword 0x1000
        push dword 0x23002
        push dword 0xf000
        push dword vm_code
        iretd

; ------------------------------------------------------------ vm86 code
        bits 16
vm_code:
        mov ax, ds
        mov bx, es
        mov cx, fs
        mov dx, gs
        mov si, ss
        mov di, sp
        mov bp, 0
        mov ds, bp
        mov [V_INIT], ax
        mov [V_INIT + 2], bx
        mov [V_INIT + 4], cx
        mov [V_INIT + 6], dx
        mov [V_INIT + 8], si
        mov [V_INIT + 10], di
        mov ax, cs
        mov [V_INIT + 12], ax
        ; The debug console port is allowed by the bitmap.
        PRINT `ok: vm86: OUT to port E9h allowed by the I/O bitmap\n`

        ; The stack is SS*16 + SP.
        push word 0x1234
        mov [V_STACK], sp
        mov ax, 0x20f0
        mov ds, ax
        mov ax, [0xfe]
        mov bx, 0
        mov ds, bx
        mov [V_STACK + 2], ax
        pop ax
        ; Segment arithmetic: 1000h:0010h is 1001h:0000h.
        mov ax, 0x1000
        mov ds, ax
        mov word [0x10], 0xabcd
        mov ax, 0x1001
        mov es, ax
        mov ax, [es:0]
        mov bx, 0
        mov ds, bx
        mov [V_SEG], ax
        ; PUSHF shows IOPL 3; PUSHFD clears VM and RF in its image.
        pushf
        pop word [V_FLAGS]
        pushfd
        pop dword [V_FLAGS + 4]

        ; INT 21h with IOPL 3 goes to the protected-mode handler.
        mov ax, 0x1000
        mov ds, ax
        mov ax, 0x1001
        mov es, ax
        mov ax, 0x3333
        mov fs, ax
        mov ax, 0x4444
        mov gs, ax
        mov eax, 0x5555
        int 0x21
.after21:
        mov bx, ds
        mov cx, 0
        mov ds, cx
        mov [V_AFTER21], eax
        mov [V_AFTER21 + 4], bx
        mov [V_AFTER21 + 6], es
        mov [V_AFTER21 + 8], fs
        mov [V_AFTER21 + 10], gs

        ; I/O follows the bitmap even with IOPL 3 (SDM 20.2.8.1).
        out 0x80, al
        mov word [V_OUT80], 1
.out81: out 0x81, al

        ; INT 22h: the handler drops IOPL to 0 in the returned EFLAGS.
        int 0x22
        ; IOPL 0: CLI, INT n and PUSHF trap to the #GP monitor.
.cli:   cli
.int21: int 0x21
.pushf: pushf
.hlt:   hlt
        bits 32

; ------------------------------------------------------- ring-0 handlers
; INT 21h from vm86: record the frame and the handler's view, return
; EAX = 6666h.
h_int21:
        mov [ss:H21_ESP], esp
        mov [ss:H21_SEGS], ds
        mov [ss:H21_SEGS + 2], es
        mov [ss:H21_SEGS + 4], fs
        mov [ss:H21_SEGS + 6], gs
        push esi
        push edi
        push ecx
        push ds
        push es
        mov ax, KDATA
        mov ds, ax
        mov es, ax
        lea esi, [esp + 20]
        mov edi, H21
        mov ecx, 9
        cld
        rep movsd
        pop es
        pop ds
        pop ecx
        pop edi
        pop esi
        mov eax, 0x6666
        iretd

; INT 22h from vm86: return with IOPL 0.
h_int22:
        and dword [esp + 8], ~0x3000
        iretd

; #GP monitor: log the opcode, emulate by skipping it, end on HLT.
gp_monitor:
        mov [ss:GP_DS], ds
        push eax
        push ebx
        push ds
        mov ax, KDATA
        mov ds, ax
        test dword [esp + 12 + 12], 0x20000
        jz .not_vm86
        mov ebx, [GP_COUNT]
        cmp ebx, 8
        jae .too_many
        shl ebx, 4
        add ebx, GP_LOG
        movzx eax, word [esp + 12 + 8]
        shl eax, 4
        add eax, [esp + 12 + 4]
        movzx eax, byte [eax]
        mov [ebx], eax
        mov eax, [esp + 12]
        mov [ebx + 4], eax
        mov eax, [esp + 12 + 4]
        mov [ebx + 8], eax
        mov eax, [esp + 12 + 12]
        mov [ebx + 12], eax
        inc dword [GP_COUNT]
        mov eax, [ebx]
        cmp eax, 0xf4
        je vm86_done
        mov ebx, 1
        cmp eax, 0xfa
        je .skip
        cmp eax, 0x9c
        je .skip
        mov ebx, 2
        cmp eax, 0xcd
        je .skip
        cmp eax, 0xe6
        je .skip
        FAIL32 "#GP in vm86 at an unexpected opcode"
.skip:  add [esp + 12 + 4], ebx
        pop ds
        pop ebx
        pop eax
        add esp, 4
        iretd
.not_vm86:
        FAIL32 "#GP outside vm86"
.too_many:
        FAIL32 "more #GPs from vm86 than expected"

; ------------------------------------------------------- ring-0 checks
vm86_done:
        mov esp, R0_STACK
        mov ax, KDATA
        mov ds, ax
        mov es, ax
        movzx eax, word [V_INIT]
        CHECK32 eax, 0x1111, "vm86 DS from the IRET image"
        movzx eax, word [V_INIT + 2]
        CHECK32 eax, 0x2222, "vm86 ES from the IRET image"
        movzx eax, word [V_INIT + 4]
        CHECK32 eax, 0x3333, "vm86 FS from the IRET image"
        movzx eax, word [V_INIT + 6]
        CHECK32 eax, 0x4444, "vm86 GS from the IRET image"
        movzx eax, word [V_INIT + 8]
        CHECK32 eax, 0x2000, "vm86 SS from the IRET image"
        movzx eax, word [V_INIT + 10]
        CHECK32 eax, 0x1000, "vm86 SP from the IRET image"
        movzx eax, word [V_INIT + 12]
        CHECK32 eax, 0xf000, "vm86 CS from the IRET image"
        OK32 "IRETD into vm86: CS:IP, SS:SP, DS ES FS GS from the image"

        movzx eax, word [V_STACK]
        CHECK32 eax, 0x0ffe, "vm86 SP after PUSH"
        movzx eax, word [V_STACK + 2]
        CHECK32 eax, 0x1234, "vm86 PUSH at 2000h:0FFEh read back as 20F0h:00FEh"
        movzx eax, word [V_SEG]
        CHECK32 eax, 0xabcd, "vm86 1000h:0010h read back as 1001h:0000h"
        movzx eax, word [V_FLAGS]
        and eax, 0x3000
        CHECK32 eax, 0x3000, "vm86 PUSHF image: IOPL 3"
        mov eax, [V_FLAGS + 4]
        and eax, 0x30000
        CHECK32 eax, 0, "vm86 PUSHFD image: VM and RF clear"
        OK32 "vm86 stack, segment arithmetic, PUSHF/PUSHFD images"

        CHECK32 dword [H21], vm_code.after21, "INT 21h frame: EIP"
        CHECK32 dword [H21 + 4], 0xf000, "INT 21h frame: CS"
        mov eax, [H21 + 8]
        and eax, 0x23000
        CHECK32 eax, 0x23000, "INT 21h frame: EFLAGS with VM and IOPL 3"
        CHECK32 dword [H21 + 12], 0x1000, "INT 21h frame: ESP"
        CHECK32 dword [H21 + 16], 0x2000, "INT 21h frame: SS"
        CHECK32 dword [H21 + 20], 0x1001, "INT 21h frame: ES"
        CHECK32 dword [H21 + 24], 0x1000, "INT 21h frame: DS"
        CHECK32 dword [H21 + 28], 0x3333, "INT 21h frame: FS"
        CHECK32 dword [H21 + 32], 0x4444, "INT 21h frame: GS"
        CHECK32 dword [H21_ESP], R0_STACK - 36, "ESP in the INT 21h handler (ESP0 - 36)"
        CHECK32 dword [H21_SEGS], 0, "DS and ES in the handler must be null"
        CHECK32 dword [H21_SEGS + 4], 0, "FS and GS in the handler must be null"
        OK32 "INT 21h from vm86: ring-0 frame with segments, null DS ES FS GS"

        CHECK32 dword [V_AFTER21], 0x6666, "EAX after IRETD back to vm86"
        CHECK32 dword [V_AFTER21 + 4], 0x10011000, "DS, ES after IRETD back to vm86"
        CHECK32 dword [V_AFTER21 + 8], 0x44443333, "FS, GS after IRETD back to vm86"
        OK32 "IRETD from the handler back to vm86"

        movzx eax, word [V_OUT80]
        CHECK32 eax, 1, "vm86 OUT 80h allowed by the bitmap"
        CHECK32 dword [GP_COUNT], 5, "number of #GPs from vm86"
        CHECK32 dword [GP_LOG], 0xe6, "#GP 1: OUT 81h denied by the bitmap despite IOPL 3"
        CHECK32 dword [GP_LOG + 4], 0, "#GP 1: error code"
        CHECK32 dword [GP_LOG + 8], vm_code.out81, "#GP 1: EIP"
        mov eax, [GP_LOG + 12]
        and eax, 0x23000
        CHECK32 eax, 0x23000, "#GP 1: EFLAGS has VM and IOPL 3"
        OK32 "vm86 I/O: bitmap checked with IOPL 3"

        CHECK32 dword [GP_LOG + 16], 0xfa, "#GP 2: CLI with IOPL 0"
        CHECK32 dword [GP_LOG + 20], 0, "#GP 2: error code"
        CHECK32 dword [GP_LOG + 24], vm_code.cli, "#GP 2: EIP"
        mov eax, [GP_LOG + 28]
        and eax, 0x23000
        CHECK32 eax, 0x20000, "#GP 2: EFLAGS has VM and IOPL 0"
        CHECK32 dword [GP_LOG + 32], 0xcd, "#GP 3: INT 21h with IOPL 0"
        CHECK32 dword [GP_LOG + 40], vm_code.int21, "#GP 3: EIP"
        CHECK32 dword [GP_LOG + 36], 0, "#GP 3: error code"
        CHECK32 dword [GP_LOG + 48], 0x9c, "#GP 4: PUSHF with IOPL 0"
        CHECK32 dword [GP_LOG + 56], vm_code.pushf, "#GP 4: EIP"
        CHECK32 dword [GP_LOG + 64], 0xf4, "#GP 5: HLT"
        CHECK32 dword [GP_LOG + 72], vm_code.hlt, "#GP 5: EIP"
        movzx eax, word [GP_DS]
        CHECK32 eax, 0, "DS in the #GP monitor must be null"
        OK32 "IOPL 0: CLI, INT n, PUSHF, HLT trap to the #GP(0) monitor, IRETD resumes"
        PASS32

        LIB32_CODE

        align 8
gdt:
        dq 0
        DESC 0, 0xfffff, 0x9a, 0xc              ; 08: code, flat
        DESC 0, 0xfffff, 0x92, 0xc              ; 10: data, flat
        DESC TSS_ADDR, 0x68 + 0x20, 0x89, 0x0   ; 18: TSS with I/O bitmap
gdt_end:

        RESET_VECTOR
