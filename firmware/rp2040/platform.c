/*
 * RP2040 console and exit for the harness.
 *
 * tm_putc writes to UART0's data register (UART0 at 0x40034000, a PL011) once its
 * transmit FIFO has room. The UART is used as the emulator leaves it: on a real
 * Pico the clocks, the UART reset, its baud rate and the GPIO 0 function would
 * be set up first (the pico-sdk's stdio_init_all).
 *
 * tm_exit parks the core in a loop; the emulator stops when the program counter
 * reaches tm_exit and reads the reason from r0.
 */
#include <stdint.h>

#include "harness.h"

#define UART0_BASE 0x40034000u
#define UART_DR (*(volatile uint32_t *)(UART0_BASE + 0x000u))
#define UART_FR (*(volatile uint32_t *)(UART0_BASE + 0x018u))
#define UART_FR_TXFF (1u << 5) /* transmit FIFO full */

void tm_putc(char c) {
    while (UART_FR & UART_FR_TXFF) {
    }
    UART_DR = (uint8_t)c;
}

__attribute__((noinline, used, noreturn)) void tm_exit(uint32_t reason) {
    __asm__ volatile("" : : "r"(reason) : "memory");
    for (;;) {
    }
}
