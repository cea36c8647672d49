; A Multiboot v1 kernel (a.out kludge, loaded at 1 MiB, or at LOAD_ADDR:
; nasm -DLOAD_ADDR=0x8000 builds one linked below 1 MiB) that checks what the
; loader handed it (Multiboot Specification 0.6.96, 3.2 and 3.3) and reports
; through the 0xE9 debug console and isa-debug-exit at 0xF4.
; Run: popek -kernel mb_check.bin -append "hello=world" -initrd "MODULE args"

        bits 32
%ifndef LOAD_ADDR
%define LOAD_ADDR 0x100000
%endif
        org LOAD_ADDR

MB_MAGIC  equ 0x1badb002
MB_FLAGS  equ 0x00010003            ; page-align modules, memory info, a.out kludge

header:
        dd MB_MAGIC
        dd MB_FLAGS
        dd -(MB_MAGIC + MB_FLAGS)
        dd header                   ; header_addr
        dd header                   ; load_addr
        dd image_end                ; load_end_addr
        dd bss_end                  ; bss_end_addr
        dd entry                    ; entry_addr

%macro PUTS 1
        mov esi, %1
        call puts
%endmacro

%macro EXPECT 2                     ; condition code (after cmp), message
        j%1 %%ok
        PUTS %2
        jmp fail
%%ok:
%endmacro

entry:
        mov esp, stack_top
        cmp eax, 0x2badb002
        EXPECT e, msg_magic
        mov [info], ebx
        ; the image is intact and the loader's own structures lie outside
        ; it: the info structure, the command line, the memory map
        cmp dword [canary], 0x600df00d
        EXPECT e, msg_canary
        mov eax, ebx
        call outside
        EXPECT e, msg_infooverlap
        mov eax, [ebx + 16]
        call outside
        EXPECT e, msg_infooverlap
        mov eax, [ebx + 48]
        call outside
        EXPECT e, msg_infooverlap
        ; flags: mem (0), cmdline (2), mods (3), mmap (6)
        mov eax, [ebx]
        and eax, 0x4d
        cmp eax, 0x4d
        EXPECT e, msg_flags
        ; mem_lower is 640 KiB, mem_upper covers the rest of RAM (given -m 64M)
        cmp dword [ebx + 4], 640
        EXPECT e, msg_lower
        cmp dword [ebx + 8], (64 - 1) * 1024
        EXPECT e, msg_upper
        ; the command line contains the -append text
        mov esi, [ebx + 16]
        mov edi, want_cmdline
        call contains
        EXPECT e, msg_cmdline
        ; one module, page aligned, whose string carries its arguments
        cmp dword [ebx + 20], 1
        EXPECT e, msg_modcount
        mov edx, [ebx + 24]
        mov eax, [edx]
        test eax, 0xfff
        EXPECT z, msg_modalign
        cmp eax, bss_end
        EXPECT ae, msg_modoverlap
        ; the module's bytes are the file's: it starts with "POPEK-MODULE"
        cmp dword [eax], 'POPE'
        EXPECT e, msg_modbytes
        mov esi, [edx + 8]
        mov edi, want_modargs
        call contains
        EXPECT e, msg_modargs
        ; the memory map has an available range starting at 1 MiB
        mov ebx, [info]
        mov ecx, [ebx + 44]         ; mmap_length
        mov esi, [ebx + 48]         ; mmap_addr
        add ecx, esi
.mmap:  cmp esi, ecx
        EXPECT b, msg_mmap
        cmp dword [esi + 4], 0x100000
        jne .next
        cmp dword [esi + 20], 1
        je .mmap_ok
.next:  add esi, [esi]
        add esi, 4
        jmp .mmap
.mmap_ok:
        ; bss was zeroed
        cmp dword [bss_probe], 0
        EXPECT e, msg_bss
        PUTS msg_pass
        mov dx, 0xf4
        mov al, 0
        out dx, al
        hlt

fail:
        mov dx, 0xf4
        mov al, 1
        out dx, al
        hlt

;  outside: ZF=1 if EAX..EAX+0x60 lies wholly outside [header, bss_end)
outside:
        lea edx, [eax + 0x60]
        cmp edx, header
        jbe .yes
        cmp eax, bss_end
        jae .yes
        or edx, 1                   ; ZF=0
        ret
.yes:   xor edx, edx                ; ZF=1
        ret

; puts: print the NUL-terminated string at ESI on port 0xE9
puts:
        mov dx, 0xe9
.l:     lodsb
        test al, al
        jz .d
        out dx, al
        jmp .l
.d:     ret

; contains: ZF=1 if the string at ESI contains the string at EDI
contains:
        push ebx
.outer: mov ebx, 0
.inner: mov al, [edi + ebx]
        test al, al
        jz .found
        cmp al, [esi + ebx]
        jne .advance
        inc ebx
        jmp .inner
.advance:
        cmp byte [esi], 0
        je .missing
        inc esi
        jmp .outer
.found: pop ebx
        xor eax, eax                ; ZF=1
        ret
.missing:
        pop ebx
        or eax, 1                   ; ZF=0
        ret

want_cmdline:  db "hello=world", 0
want_modargs:  db "modarg=1", 0
msg_magic:     db "FAIL: EAX is not the Multiboot magic", 10, 0
msg_flags:     db "FAIL: info flags lack mem/cmdline/mods/mmap", 10, 0
msg_lower:     db "FAIL: mem_lower is not 640", 10, 0
msg_upper:     db "FAIL: mem_upper does not match -m 64M", 10, 0
msg_cmdline:   db "FAIL: command line lacks the -append text", 10, 0
msg_modcount:  db "FAIL: mods_count is not 1", 10, 0
msg_modalign:  db "FAIL: module not page aligned", 10, 0
msg_modoverlap: db "FAIL: module overlaps the kernel", 10, 0
msg_modbytes:  db "FAIL: module bytes differ from the file", 10, 0
msg_modargs:   db "FAIL: module string lacks its arguments", 10, 0
msg_mmap:      db "FAIL: no available memory map range at 1 MiB", 10, 0
msg_bss:       db "FAIL: bss not zeroed", 10, 0
msg_canary:    db "FAIL: the loaded image was overwritten", 10, 0
msg_infooverlap: db "FAIL: a Multiboot structure overlaps the kernel", 10, 0
msg_pass:      db "PASS", 10, 0
canary:        dd 0x600df00d
info:          dd 0
image_end:
        absolute image_end
bss_probe:     resd 1
               resb 4096
stack_top:
bss_end:
