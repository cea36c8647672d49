/*
 * A static i386 program for the amd64 guest: it runs in compatibility mode
 * under the 64-bit kernel (IA32 emulation), so its system calls enter
 * through the 32-bit vDSO (SYSCALL or SYSENTER from a 32-bit code segment,
 * or INT 80h) and its arithmetic on 32-bit registers.  The sum is the one
 * tests/guest/linux/linux_guest.py computes (32-bit wrap, arithmetic shift).
 */
#include <stdio.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(void)
{
    struct utsname u;
    if (uname(&u) != 0) {
        return 1;
    }
    int sum = 0;
    for (int i = 0; i < 1000000; i++) {
        sum = (int)((unsigned)sum + (unsigned)(i ^ (sum >> 3)));
    }
    printf("compat32: %d-bit pointers, machine %s, pid>0 %d, sum %d\n",
           (int)sizeof(void *) * 8, u.machine, getpid() > 0, sum);
    return 0;
}
