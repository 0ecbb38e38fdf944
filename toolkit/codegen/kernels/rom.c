/* Constants belong in flash. On AVR, const data is copied to SRAM unless it is in
 * program memory: the __flash address space puts it there and the compiler reads it
 * with LPM. __flash is GNU C (-std=gnu99/gnu11, avr-gcc's default); under strict ISO C
 * (-std=c99) the constants are plain const and take SRAM, so build AVR code as GNU C.
 * Everywhere else const is enough. */
#if defined(__AVR__) && defined(__FLASH) && !defined(__STRICT_ANSI__)
#define TM_ROM __flash
#else
#define TM_ROM
#endif
