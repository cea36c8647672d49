; A 64-bit program for the trace and monitor tests: from reset to long mode
; (SDM Vol.3 9.8.5: PAE, CR3, EFER.LME, then CR0.PG from protected mode),
; then a jump to the kernel-half alias of the ROM at ffffffff800f0000h (the
; first 2 MiB mapped twice, as a kernel maps itself) where a few
; instructions with REX prefixes run before the exit through
; isa-debug-exit (port 0xf4); built with -DFAULT, a page fault above 4 GiB
; first (for the int and mmu lines).  Page tables at 1000h-4fffh:
;   PML4[0]   -> PDPT 2000h, PDPT[0]   -> PD 4000h
;   PML4[511] -> PDPT 3000h, PDPT[510] -> PD 4000h
;   PD[0] = 0 (a 2 MiB page, present, writable)
        bits 16
        org 0                   ; the image is F0000h-FFFFFh, CS = F000h
ROM     equ 0xf0000
HIGH    equ 0xffffffff80000000

start:
        cli
        o32 lgdt [cs:gdtr]
        mov eax, cr0
        or eax, 1               ; PE
        mov cr0, eax
        jmp dword 0x18:ROM + pm32

        bits 32
pm32:
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov edi, 0x1000         ; clear the four table pages
        mov ecx, 0x1000
        xor eax, eax
        cld
        rep stosd
        mov dword [0x1000], 0x2003
        mov dword [0x1000 + 511 * 8], 0x3003
        mov dword [0x2000], 0x4003
        mov dword [0x3000 + 510 * 8], 0x4003
        mov dword [0x4000], 0x83
        mov eax, cr4
        or eax, 0x20            ; PAE
        mov cr4, eax
        mov eax, 0x1000
        mov cr3, eax
        mov ecx, 0xc0000080     ; EFER
        rdmsr
        or eax, 0x100           ; LME
        wrmsr
        mov eax, cr0
        or eax, 0x80000000      ; PG: long mode is active from here
        mov cr0, eax
        jmp 0x08:ROM + lm64

        bits 64
lm64:
        mov rax, HIGH + ROM + high
        jmp rax                 ; to the kernel-half alias
high:
        mov rax, 0x1122334455667788
        mov r8, 5
        add r8, 0x10            ; R8 = 15h
        lea r9, [rax + r8]      ; R9 = 112233445566779dh
%ifdef FAULT
        mov rbx, 0x400000000000 ; canonical, but PML4[128] is not present:
        mov rax, [rbx]          ; #PF; with no 64-bit IDT it ends in a triple fault
%endif
        mov dx, 0xf4
        xor eax, eax
        out dx, al              ; isa-debug-exit: popek exits with status 1
        hlt

        align 8
gdt:    dq 0
        dq 0x00209a0000000000   ; 08h: 64-bit code (L)
        dq 0x00cf92000000ffff   ; 10h: flat data
        dq 0x00cf9a000000ffff   ; 18h: flat 32-bit code
gdtr:   dw gdtr - gdt - 1
        dd ROM + gdt

        times 0xfff0 - ($ - $$) db 0xff
        bits 16
        jmp 0xf000:start
        times 0x10000 - ($ - $$) db 0xff
