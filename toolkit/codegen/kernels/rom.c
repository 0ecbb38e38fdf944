/* Constants belong in flash. On AVR, const data is copied to SRAM unless it is in
 * program memory: the __flash address space puts it there and the compiler reads it
 * with LPM. Everywhere else const is enough. */
#if defined(__AVR__) && defined(__FLASH)
#define TM_ROM __flash
#else
#define TM_ROM
#endif
