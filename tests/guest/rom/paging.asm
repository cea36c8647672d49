; Two-level 32-bit paging (SDM Vol.3 chapter 4): identity map plus extra
; mappings; aliasing, 4 MiB PSE pages, #PF with CR2 and error code (not
; present, fetch, page-crossing access and instruction, user/supervisor,
; read-only with CR0.WP, PDE permissions combined with PTE ones), REP MOVSB
; restartable at a #PF, accessed and dirty bits, INVLPG and CR3 reloads,
; and global pages.
%include "lib.inc"

%define TSS_ADDR 0x3000
%define PD 0x10000              ; page directory
%define PT0 0x11000             ; identity map of 0-4 MiB, user, writable
%define PT1 0x12000             ; the test pages at 400000h
%define PT2 0x13000             ; one user RW page, under PDEs 4 and 5
%define USER_REC 0x600          ; ring-3 copies of the exception record

; Test pages: linear address, PTE value (physical | flags)
%define P_ALIAS 0x400000        ; -> 200000h, P|W|U
%define P_ABSENT 0x401000       ; not present
%define P_RO_USER 0x402000      ; -> 201000h, P|U
%define P_RO_SUP 0x403000       ; -> 202000h, P
%define P_AD 0x404000           ; -> 203000h, P|W|U, A and D clear
%define P_INVLPG 0x405000       ; -> 204000h or 205000h, P|W
%define P_GLOBAL 0x406000       ; -> 206000h or 207000h, P|W|G
%define P_SUP 0x407000          ; -> 208000h, P|W (supervisor)
%define PSE_BASE 0x800000       ; PDE 2: a 4 MiB page -> physical 0
%define PDE3_ABSENT 0xc00000    ; PDE 3 not present
%define PDE4_SUP 0x1000000      ; PDE 4: supervisor, PT2 -> 209000h
%define PDE5_RO 0x1400000       ; PDE 5: user read-only, PT2 -> 209000h

%define PTE_P 1
%define PTE_W 2
%define PTE_U 4
%define PTE_A 0x20
%define PTE_D 0x40
%define PDE_PS 0x80
%define PTE_G 0x100

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

; CHECK_PF vector_record, error, eip, cr2, "what"
%macro CHECK_PF 5+
        CHECK32 dword [%1], 14, %5, ": vector"
        CHECK32 dword [%1 + 4], %2, %5, ": error code"
        CHECK32 dword [%1 + 8], %3, %5, ": pushed EIP"
        CHECK32 dword [%1 + 12], %4, %5, ": CR2"
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
        mov eax, 0x30
        mov ebx, ROMBASE + back_to_ring0
        mov cx, KCODE
        mov dl, 0xee
        call set_gate
        mov dword [TSS_ADDR + 4], 0x9f000
        mov dword [TSS_ADDR + 8], KDATA
        mov ax, 0x28
        ltr ax

        ; Page tables.
        mov edi, PT0
        mov eax, PTE_P | PTE_W | PTE_U
.fill:  mov [edi], eax
        add eax, 0x1000
        add edi, 4
        cmp edi, PT0 + 4096
        jb .fill
        mov dword [PD + 0 * 4], PT0 | PTE_P | PTE_W | PTE_U
        mov dword [PD + 1 * 4], PT1 | PTE_P | PTE_W | PTE_U
        mov dword [PD + 2 * 4], 0 | PDE_PS | PTE_P | PTE_W
        mov dword [PD + 4 * 4], PT2 | PTE_P | PTE_W
        mov dword [PD + 5 * 4], PT2 | PTE_P | PTE_U
        mov dword [PT2], 0x209000 | PTE_P | PTE_W | PTE_U
        mov dword [0x209000], 0x5eed
        mov dword [PT1 + 0 * 4], 0x200000 | PTE_P | PTE_W | PTE_U
        mov dword [PT1 + 2 * 4], 0x201000 | PTE_P | PTE_U
        mov dword [PT1 + 3 * 4], 0x202000 | PTE_P
        mov dword [PT1 + 4 * 4], 0x203000 | PTE_P | PTE_W | PTE_U
        mov dword [PT1 + 5 * 4], 0x204000 | PTE_P | PTE_W
        mov dword [PT1 + 6 * 4], 0x206000 | PTE_P | PTE_W | PTE_G
        mov dword [PT1 + 7 * 4], 0x208000 | PTE_P | PTE_W
        mov dword [0x204000], 0xaaaa0001
        mov dword [0x205000], 0xbbbb0002
        mov dword [0x206000], 0xcccc0003
        mov dword [0x207000], 0xdddd0004

        mov eax, PD
        mov cr3, eax
        mov eax, cr4
        or eax, 0x10                    ; CR4.PSE
        mov cr4, eax
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax
.paging_on:
        mov eax, cr0
        CHECK32 eax, 0xe0000011, "CR0 after setting PG"
        mov eax, [PD]
        and eax, PTE_A
        CHECK32 eax, PTE_A, "accessed bit of PDE 0 after fetching through it"
        mov eax, [PT0 + ((ROMBASE + .paging_on - $$) >> 12) * 4]
        and eax, PTE_A
        CHECK32 eax, PTE_A, "accessed bit of the code page's PTE"
        OK32 "paging on (identity map), A bits set by the walk"

        ; One physical page through two linear addresses.
        mov dword [P_ALIAS + 0x10], 0x11223344
        CHECK32 dword [0x200010], 0x11223344, "write at 400010h, read at 200010h"
        mov dword [0x200020], 0x55667788
        CHECK32 dword [P_ALIAS + 0x20], 0x55667788, "write at 200020h, read at 400020h"
        OK32 "aliasing: 400000h and 200000h share a page"

        ; A 4 MiB page (CR4.PSE, PDE.PS) mapping physical 0-4 MiB at 8 MiB.
        CHECK32 dword [PSE_BASE + 0x200010], 0x11223344, "read through the 4 MiB page"
        mov dword [PSE_BASE + 0x200030], 0x99aabbcc
        CHECK32 dword [0x200030], 0x99aabbcc, "write through the 4 MiB page"
        mov eax, [PD + 2 * 4]
        and eax, PTE_A | PTE_D
        CHECK32 eax, PTE_A | PTE_D, "A and D in the 4 MiB PDE"
        OK32 "4 MiB PSE page, A and D in its PDE"

        ; #PF for not-present pages: error code bit 0 clear, bit 1 = write;
        ; CR2 = the linear address; a fault at the instruction.
        EXPECT_FAULT .pf1_after
.pf1:   mov eax, [P_ABSENT + 8]
.pf1_after:
        SAVE_REC USER_REC
        CHECK_PF USER_REC, 0, ROMBASE + .pf1, P_ABSENT + 8, "#PF read of a not-present page"
        EXPECT_FAULT .pf2_after
.pf2:   mov dword [P_ABSENT + 0x10], 1
.pf2_after:
        SAVE_REC USER_REC
        CHECK_PF USER_REC, 2, ROMBASE + .pf2, P_ABSENT + 0x10, "#PF write to a not-present page"
        EXPECT_FAULT .pf3_after
.pf3:   mov eax, [PDE3_ABSENT + 0x123]
.pf3_after:
        SAVE_REC USER_REC
        CHECK_PF USER_REC, 0, ROMBASE + .pf3, PDE3_ABSENT + 0x123, "#PF through a not-present PDE"
        ; An instruction fetch: the fault's EIP and CR2 are the target.
        mov eax, P_ABSENT + 0x20
        EXPECT_FAULT .pf4_after
        jmp eax
.pf4_after:
        SAVE_REC USER_REC
        CHECK_PF USER_REC, 0, P_ABSENT + 0x20, P_ABSENT + 0x20, "#PF fetching from a not-present page"
        ; A dword store across into the absent page: CR2 is the first byte
        ; in that page, and nothing is written to the present one.
        mov dword [P_ALIAS + 0xffc], 0
        EXPECT_FAULT .pf5_after
.pf5:   mov dword [P_ALIAS + 0xffe], 0xaabbccdd
.pf5_after:
        SAVE_REC USER_REC
        CHECK_PF USER_REC, 2, ROMBASE + .pf5, P_ABSENT, "#PF for a store crossing into a not-present page"
        CHECK32 dword [P_ALIAS + 0xffc], 0, "bytes stored by a faulting page-crossing store"
        OK32 "#PF not-present: read, write, PDE, fetch, page-crossing store"

        ; An instruction that straddles into the absent page (MOV EAX,
        ; imm32 at 400FFEh): CR2 = 401000h, EIP = the instruction start.
        mov byte [0x200ffe], 0xb8
        mov byte [0x200fff], 0x11
        mov eax, P_ALIAS + 0xffe
        EXPECT_FAULT .pf6_after
        jmp eax
.pf6_after:
        SAVE_REC USER_REC
        CHECK_PF USER_REC, 0, P_ALIAS + 0xffe, P_ABSENT, "#PF fetching an instruction that crosses into a not-present page"
        OK32 "#PF for an instruction crossing a page boundary"

        ; REP MOVSB that runs into the absent page is restartable: the
        ; fault comes with ESI, EDI and ECX at the faulting iteration and
        ; the earlier bytes copied (SDM Vol.2 REP: interrupted repeats).
        mov dword [0x200ff0], 0x03020100
        mov dword [0x200ff4], 0x07060504
        mov dword [0x200ff8], 0x0b0a0908
        mov dword [0x200ffc], 0x0f0e0d0c
        mov esi, P_ALIAS + 0xff0
        mov edi, 0x300000
        mov ecx, 0x20
        cld
        EXPECT_FAULT .pf7_after
.pf7:   rep movsb
.pf7_after:
        CHECK32 ecx, 0x10, "ECX of REP MOVSB at the #PF"
        CHECK32 esi, P_ABSENT, "ESI of REP MOVSB at the #PF"
        CHECK32 edi, 0x300010, "EDI of REP MOVSB at the #PF"
        SAVE_REC USER_REC
        CHECK_PF USER_REC, 0, ROMBASE + .pf7, P_ABSENT, "#PF in REP MOVSB"
        CHECK32 dword [0x300000], 0x03020100, "bytes copied by REP MOVSB before the #PF"
        CHECK32 dword [0x30000c], 0x0f0e0d0c, "bytes copied by REP MOVSB before the #PF"
        CHECK32 dword [0x300010], 0, "byte stored by REP MOVSB past the #PF"
        OK32 "REP MOVSB faulting mid-way: registers at the faulting iteration"

        ; CR0.WP = 1: ring 0 may not write read-only pages (error P|W = 3).
        mov eax, cr0
        or eax, 0x10000
        mov cr0, eax
        EXPECT_FAULT .wp1_after
.wp1:   mov dword [P_RO_SUP], 1
.wp1_after:
        SAVE_REC USER_REC
        CHECK_PF USER_REC, 3, ROMBASE + .wp1, P_RO_SUP, "#PF ring-0 write to a read-only page with WP = 1"
        EXPECT_FAULT .wp2_after
.wp2:   mov dword [P_RO_USER + 4], 1
.wp2_after:
        SAVE_REC USER_REC
        CHECK_PF USER_REC, 3, ROMBASE + .wp2, P_RO_USER + 4, "#PF ring-0 write to a read-only user page with WP = 1"
        CHECK32 dword [0x202000], 0, "memory written by a faulting store"
        EXPECT_FAULT .wp3_after
.wp3:   mov dword [PDE5_RO], 1
.wp3_after:
        SAVE_REC USER_REC
        CHECK_PF USER_REC, 3, ROMBASE + .wp3, PDE5_RO, "#PF ring-0 write under a read-only PDE with WP = 1"
        ; CR0.WP = 0: ring 0 writes them.
        mov eax, cr0
        and eax, ~0x10000
        mov cr0, eax
        mov dword [P_RO_SUP], 0x1234
        mov dword [P_RO_USER + 4], 0x5678
        CHECK32 dword [0x202000], 0x1234, "ring-0 write to a read-only page with WP = 0"
        CHECK32 dword [0x201004], 0x5678, "ring-0 write to a read-only user page with WP = 0"
        OK32 "CR0.WP: read-only pages fault at ring 0 with WP = 1 (error 3), not with WP = 0"

        ; Accessed on a read, dirty on the first write, even after a read
        ; has cached the translation.
        mov eax, [PT1 + 4 * 4]
        and eax, PTE_A | PTE_D
        CHECK32 eax, 0, "A and D of an unused PTE"
        mov eax, [P_AD]
        mov eax, [PT1 + 4 * 4]
        and eax, PTE_A | PTE_D
        CHECK32 eax, PTE_A, "PTE A and D after a read"
        mov dword [P_AD + 8], 1
        mov eax, [PT1 + 4 * 4]
        and eax, PTE_A | PTE_D
        CHECK32 eax, PTE_A | PTE_D, "PTE A and D after a write"
        mov eax, [PD + 1 * 4]
        and eax, PTE_A | PTE_D
        CHECK32 eax, PTE_A, "PDE A and D (D is not set in a PDE)"
        OK32 "accessed and dirty bits"

        ; INVLPG: after changing a PTE the new mapping is seen once the
        ; page is invalidated; a CR3 load flushes non-global entries too.
        CHECK32 dword [P_INVLPG], 0xaaaa0001, "first mapping of 405000h"
        mov dword [PT1 + 5 * 4], 0x205000 | PTE_P | PTE_W
        invlpg [P_INVLPG]
        CHECK32 dword [P_INVLPG], 0xbbbb0002, "405000h after the PTE change and INVLPG"
        mov dword [PT1 + 5 * 4], 0x204000 | PTE_P | PTE_W
        mov eax, cr3
        mov cr3, eax
        CHECK32 dword [P_INVLPG], 0xaaaa0001, "405000h after the PTE change and a CR3 load"
        OK32 "INVLPG and CR3 load make a changed PTE visible"

        ; Global pages (CR4.PGE, PTE.G): kept across a CR3 load (popek's
        ; TLB keeps them, as hardware may; SDM 4.10.2.4), dropped by
        ; INVLPG, and by a CR4.PGE change (SDM 4.10.4.1).
        mov eax, cr4
        or eax, 0x80
        mov cr4, eax
        CHECK32 dword [P_GLOBAL], 0xcccc0003, "first mapping of 406000h"
        mov dword [PT1 + 6 * 4], 0x207000 | PTE_P | PTE_W | PTE_G
        mov eax, cr3
        mov cr3, eax
        CHECK32 dword [P_GLOBAL], 0xcccc0003, "global page after a CR3 load (TLB entry kept)"
        invlpg [P_GLOBAL]
        CHECK32 dword [P_GLOBAL], 0xdddd0004, "global page after INVLPG"
        mov dword [PT1 + 6 * 4], 0x206000 | PTE_P | PTE_W | PTE_G
        mov eax, cr4
        and eax, ~0x80
        mov cr4, eax
        CHECK32 dword [P_GLOBAL], 0xcccc0003, "global page after clearing CR4.PGE"
        OK32 "global pages: kept by a CR3 load, dropped by INVLPG and CR4.PGE"

        ; Ring 3: user pages only, read-only respected.
        mov ax, 0x23
        mov ds, ax
        mov es, ax
        push dword 0x23
        push dword 0x8f000
        push dword 0x2
        push dword 0x1b
        push dword ROMBASE + user_code
        iretd
back_in_ring0:
        CHECK32 dword [USER_REC + 0x30], 0x5678, "ring-3 read of a read-only user page"
        CHECK_PF USER_REC, 7, ROMBASE + user_code.u1, P_RO_USER, "#PF ring-3 write to a read-only user page"
        CHECK_PF USER_REC + 0x10, 5, ROMBASE + user_code.u2, P_SUP, "#PF ring-3 read of a supervisor page"
        CHECK_PF USER_REC + 0x20, 6, ROMBASE + user_code.u3, P_ABSENT + 4, "#PF ring-3 write to a not-present page"
        CHECK_PF USER_REC + 0x40, 4, P_ABSENT + 0x40, P_ABSENT + 0x40, "#PF ring-3 fetch from a not-present page"
        OK32 "ring-3 #PF error codes: 7, 5, 6, 4"
        CHECK32 dword [USER_REC + 0x34], 0x5eed, "ring-3 read through a read-only user PDE"
        CHECK_PF USER_REC + 0x50, 5, ROMBASE + user_code.u5, PDE4_SUP, "#PF ring-3 read under a supervisor PDE (user PTE)"
        CHECK_PF USER_REC + 0x60, 7, ROMBASE + user_code.u6, PDE5_RO, "#PF ring-3 write under a read-only PDE (writable PTE)"
        OK32 "PDE U/S and R/W restrict a permissive PTE"
        PASS32

; Ring 3: each access is expected to fault; the records are copied for
; ring 0 to check, then INT 30h returns to ring 0.
user_code:
        mov eax, [P_RO_USER + 4]
        mov [USER_REC + 0x30], eax
        EXPECT_FAULT .u1_after
.u1:    mov dword [P_RO_USER], 1
.u1_after:
        SAVE_REC USER_REC
        EXPECT_FAULT .u2_after
.u2:    mov eax, [P_SUP]
.u2_after:
        SAVE_REC USER_REC + 0x10
        EXPECT_FAULT .u3_after
.u3:    mov dword [P_ABSENT + 4], 1
.u3_after:
        SAVE_REC USER_REC + 0x20
        mov eax, P_ABSENT + 0x40
        EXPECT_FAULT .u4_after
        jmp eax
.u4_after:
        SAVE_REC USER_REC + 0x40
        ; The PDE's U/S and R/W bits combine with the PTE's (SDM 4.6.1).
        mov eax, [PDE5_RO]
        mov [USER_REC + 0x34], eax
        EXPECT_FAULT .u5_after
.u5:    mov eax, [PDE4_SUP]
.u5_after:
        SAVE_REC USER_REC + 0x50
        EXPECT_FAULT .u6_after
.u6:    mov dword [PDE5_RO], 1
.u6_after:
        SAVE_REC USER_REC + 0x60
        int 0x30

; INT 30h (DPL 3): drop the ring-3 frame, continue in ring 0.
back_to_ring0:
        mov ax, KDATA
        mov ds, ax
        mov es, ax
        mov esp, 0x9f000
        jmp back_in_ring0

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
