/* Hardware abstraction of the toolkit's MicroPython port: none needed (MIT, as MicroPython). */
#include <stddef.h>
#include <stdint.h>

static inline void mp_hal_set_interrupt_char(int c) {
    (void)c;
}

/* Console and exit through ARM semihosting (mphalport.c). */
void tm_putc(char c);
void tm_exit(uint32_t reason) __attribute__((noreturn));
