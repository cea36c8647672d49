; A tiny JIT: each iteration writes a new function into the JIT page and
; calls it.  The function is
;     mov eax, ecx ; imul eax, eax, K ; add eax, C ; ret      (K = (i & 7) + 1, C = 5i)
; with "add" replaced by "sub" every third iteration, so both immediates
; and opcodes change.  EDI accumulates the results; the test computes the
; expected sum in C.  Entry: ECX = iterations, ESI = the JIT page.
        bits 32
        org 0x10000

start:  xor edi, edi
next:   mov byte [esi], 0x89            ; mov eax, ecx
        mov byte [esi + 1], 0xc8
        mov byte [esi + 2], 0x6b        ; imul eax, eax, imm8
        mov byte [esi + 3], 0xc0
        mov eax, ecx
        and eax, 7
        inc eax
        mov [esi + 4], al               ; K
        mov eax, ecx                    ; i % 3 == 0: sub (2D), else add (05)
        xor edx, edx
        mov ebx, 3
        div ebx
        mov al, 0x05
        test edx, edx
        jnz .add
        mov al, 0x2d
.add:   mov [esi + 5], al
        lea eax, [ecx * 4 + ecx]        ; C = 5i
        mov [esi + 6], eax
        mov byte [esi + 10], 0xc3       ; ret
        call esi
        add edi, eax
        dec ecx
        jnz next
        mov eax, edi
        jmp $
