/*
 * ATmega328P (Arduino Uno) console and exit for the harness.
 *
 * tm_putc sends through USART0 at 115200 baud (8N1, double speed: UBRR0 = 16 at
 * 16 MHz), set up on the first character, waiting for an empty data register
 * before each byte. tm_exit disables interrupts and parks the core; the emulator
 * stops when the program counter reaches tm_exit and reads the reason from
 * r22-r25 (the first, 32-bit argument).
 */
#include <avr/interrupt.h>
#include <avr/io.h>
#include <stdint.h>

#include "harness.h"

#define TM_UBRR 16u /* F_CPU / (8 * 115200) - 1, double speed */

void tm_putc(char c) {
    if (!(UCSR0B & _BV(TXEN0))) {
        UBRR0 = TM_UBRR;
        UCSR0A = _BV(U2X0);
        UCSR0C = _BV(UCSZ01) | _BV(UCSZ00); /* 8 data bits, no parity, 1 stop bit */
        UCSR0B = _BV(TXEN0);
    }
    while (!(UCSR0A & _BV(UDRE0))) {
    }
    UDR0 = (uint8_t)c;
}

__attribute__((noinline, used, noreturn)) void tm_exit(uint32_t reason) {
    __asm__ volatile("" : : "r"(reason) : "memory");
    cli();
    for (;;) {
    }
}
