/*
 * Console and exit for the rv32 harness: environment calls (ecall) with the
 * Linux/RISC-V system call numbers in a7, which the emulator serves:
 *     write (64): a0 = file descriptor (1), a1 = buffer, a2 = length
 *     exit  (93): a0 = reason (the harness's TM_ADP_STOPPED_* code)
 * A board with a UART replaces these two functions.
 */
#include <stdint.h>

#include "harness.h"

#define TM_ECALL_WRITE 64u
#define TM_ECALL_EXIT 93u

static uint32_t tm_ecall(uint32_t number, uint32_t a0, uint32_t a1, uint32_t a2) {
    register uint32_t r_a0 __asm__("a0") = a0;
    register uint32_t r_a1 __asm__("a1") = a1;
    register uint32_t r_a2 __asm__("a2") = a2;
    register uint32_t r_a7 __asm__("a7") = number;
    __asm__ volatile("ecall" : "+r"(r_a0) : "r"(r_a1), "r"(r_a2), "r"(r_a7) : "memory");
    return r_a0;
}

__attribute__((weak)) void tm_putc(char c) {
    tm_ecall(TM_ECALL_WRITE, 1u, (uint32_t)(uintptr_t)&c, 1u);
}

__attribute__((weak, noreturn)) void tm_exit(uint32_t reason) {
    tm_ecall(TM_ECALL_EXIT, reason, 0u, 0u);
    for (;;) {
    }
}
