/*
 * Console, exit and the HAL functions the MicroPython core needs, for a bare Cortex-M
 * with no peripherals (MIT, as MicroPython). Output and exit go through ARM
 * semihosting (bkpt 0xab: SYS_WRITEC, SYS_EXIT), as the toolkit's C harness does
 * (firmware/harness/harness.c), so the same emulator runs both. There is no timer:
 * nothing asynchronous disturbs the instruction counts.
 */
#include <string.h>

#include "py/mphal.h"
#include "py/runtime.h"

#define SYS_WRITEC 0x03u
#define SYS_EXIT 0x18u

static uint32_t semihost(uint32_t op, const void *arg) {
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile ("bkpt 0xab" : "+r" (r0) : "r" (r1) : "memory");
    return r0;
}

void tm_putc(char c) {
    semihost(SYS_WRITEC, &c);
}

void tm_exit(uint32_t reason) {
    semihost(SYS_EXIT, (const void *)reason);
    for (;;) {
    }
}

mp_uint_t mp_hal_stdout_tx_strn(const char *str, size_t len) {
    for (size_t i = 0; i < len; i++) {
        tm_putc(str[i]);
    }
    return len;
}

void mp_hal_stdout_tx_str(const char *str) {
    mp_hal_stdout_tx_strn(str, strlen(str));
}

void mp_hal_stdout_tx_strn_cooked(const char *str, size_t len) {
    mp_hal_stdout_tx_strn(str, len);
}

int mp_hal_stdin_rx_chr(void) {
    tm_exit(0x20023u);  /* no input on this port */
}

uintptr_t mp_hal_stdio_poll(uintptr_t poll_flags) {
    (void)poll_flags;
    return 0;
}

/* No clock: "time" is a counter that advances on every call. */
static mp_uint_t ticks;

mp_uint_t mp_hal_ticks_ms(void) {
    return ticks++;
}

mp_uint_t mp_hal_ticks_us(void) {
    return ticks++;
}

mp_uint_t mp_hal_ticks_cpu(void) {
    return ticks++;
}

void mp_hal_delay_ms(mp_uint_t ms) {
    (void)ms;
}

void mp_hal_delay_us(mp_uint_t us) {
    (void)us;
}
