; Self-patching code.  Each iteration (ECX = i, counting down) stores into
; instructions of its own block just before they run:
;     p1: the imm32 of "mov eax, imm32" becomes i, then EDI += EAX;
;     p2: the opcode of "add edi, ecx" flips between ADD (01) and SUB (29).
; So EDI = sum of i + (N - (N-1) + (N-2) - ...).  Entry: ECX = iterations.
        bits 32
        org 0x10000

start:  xor edi, edi
        mov ebx, 0x01
loop:   mov [p1 + 1], ecx
p1:     mov eax, 0
        add edi, eax
        mov [p2], bl
p2:     add edi, ecx
        xor bl, 0x28                    ; 01 <-> 29
        dec ecx
        jnz loop
        mov eax, edi
        jmp $
