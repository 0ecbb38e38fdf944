/*
 * Minimal Cortex-M start-up: vector table, Reset_Handler (copy .data, zero
 * .bss, enable the FPU when the build uses one, platform set-up on chips that
 * need it, call main) and default fault handlers. Same file for M0+, M3, M4,
 * M7, M33 and the RP2040; the linker script is cortex-m.ld (rp2040.ld).
 */
#include <stdint.h>

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end;
extern uint32_t __stack_top;
extern int main(void);
#if defined(TM_PLATFORM_INIT)
/* Clocks and console of a real chip (firmware/rp2040/platform.c). */
extern void tm_platform_init(void);
#endif

void Reset_Handler(void);
void Default_Handler(void);
void NMI_Handler(void) __attribute__((weak, alias("Default_Handler")));
void HardFault_Handler(void) __attribute__((weak, alias("Default_Handler")));
void MemManage_Handler(void) __attribute__((weak, alias("Default_Handler")));
void BusFault_Handler(void) __attribute__((weak, alias("Default_Handler")));
void UsageFault_Handler(void) __attribute__((weak, alias("Default_Handler")));
void SVC_Handler(void) __attribute__((weak, alias("Default_Handler")));
void DebugMon_Handler(void) __attribute__((weak, alias("Default_Handler")));
void PendSV_Handler(void) __attribute__((weak, alias("Default_Handler")));
void SysTick_Handler(void) __attribute__((weak, alias("Default_Handler")));

typedef void (*tm_vector)(void);

/* Core exceptions only: the harness uses no interrupts. Slots 4-6 are
 * reserved on ARMv6-M, which simply never takes those exceptions. */
__attribute__((section(".isr_vector"), used)) const tm_vector tm_vector_table[16] = {
    (tm_vector)(uintptr_t)&__stack_top,
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    MemManage_Handler,
    BusFault_Handler,
    UsageFault_Handler,
    0,
    0,
    0,
    0,
    SVC_Handler,
    DebugMon_Handler,
    0,
    PendSV_Handler,
    SysTick_Handler,
};

/* Copy .data, zero .bss, enable the FPU, set up the platform. The copy loops must not
 * become memcpy/memset calls: those would pull several hundred bytes of libc into every
 * image. */
__attribute__((optimize("no-tree-loop-distribute-patterns"), used)) static void tm_start(void) {
    const uint32_t *src = &__data_load;
    uint32_t *dst = &__data_start;
    while (dst < &__data_end) {
        *dst++ = *src++;
    }
    for (dst = &__bss_start; dst < &__bss_end;) {
        *dst++ = 0;
    }
#if defined(__ARM_FP)
    /* CPACR: full access to CP10/CP11. Without it the first FPU instruction
     * takes a UsageFault on a real chip (and on QEMU). */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
#if defined(TM_PLATFORM_INIT)
    tm_platform_init();
#endif
}

/* Naked: no frame of its own, so main starts at the top of the stack and the stack
 * peak is the program's. Should main return, the core parks in the loop. */
__attribute__((naked, noreturn)) void Reset_Handler(void) {
    __asm__ volatile(
        "bl tm_start\n\t"
        "bl main\n\t"
        "1: b 1b");
}

void Default_Handler(void) {
    for (;;) {
    }
}
