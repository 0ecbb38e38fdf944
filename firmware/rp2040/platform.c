/*
 * RP2040 (Raspberry Pi Pico) platform: clocks, console and exit for the harness.
 *
 * tm_platform_init runs before main (start-up calls it; the arch builds with
 * -DTM_PLATFORM_INIT) and brings the chip from its state after the bootrom and
 * boot2 (ring oscillator, peripherals held in reset) to the one the console
 * needs, as the pico-sdk's runtime would (RP2040 datasheet, sections 2.14-2.18,
 * 4.2):
 *   - crystal oscillator on (12 MHz on the Pico), clk_ref from it;
 *   - PLL_SYS at 12 MHz * 133 / (6 * 2) = 133 MHz (VCO 1596 MHz), clk_sys from it;
 *   - clk_peri from clk_sys (it clocks the UART);
 *   - UART0 out of reset at 115200 baud, 8N1, FIFOs on; GP0/GP1 its TX/RX pins.
 *
 * tm_putc writes to UART0's data register once its transmit FIFO has room.
 * tm_exit parks the core in a loop; the emulator stops when the program counter
 * reaches tm_exit and reads the reason from r0.
 */
#include <stdint.h>

#include "harness.h"

#define REG(address) (*(volatile uint32_t *)(address))
/* Atomic aliases of every peripheral register (datasheet 2.1.2). */
#define SET_BITS(address) REG((address) + 0x2000u)
#define CLEAR_BITS(address) REG((address) + 0x3000u)

#define RESETS_RESET 0x4000c000u
#define RESETS_RESET_DONE 0x4000c008u
#define RESET_IO_BANK0 (1u << 5)
#define RESET_PADS_BANK0 (1u << 8)
#define RESET_PLL_SYS (1u << 12)
#define RESET_UART0 (1u << 22)

#define XOSC_CTRL 0x40024000u
#define XOSC_STATUS 0x40024004u
#define XOSC_STARTUP 0x4002400cu
#define XOSC_CTRL_1_15MHZ 0xaa0u
#define XOSC_CTRL_ENABLE (0xfabu << 12)
#define XOSC_STATUS_STABLE (1u << 31)
#define XOSC_HZ 12000000u
/* Start-up delay in units of 256 crystal cycles: 1 ms, plus margin. */
#define XOSC_STARTUP_DELAY ((XOSC_HZ / 1000u + 128u) / 256u)

#define CLK_REF_CTRL 0x40008030u
#define CLK_REF_SELECTED 0x40008038u
#define CLK_SYS_CTRL 0x4000803cu
#define CLK_SYS_DIV 0x40008040u
#define CLK_SYS_SELECTED 0x40008044u
#define CLK_PERI_CTRL 0x40008048u
#define CLK_SYS_RESUS_CTRL 0x40008078u
#define CLK_REF_SRC_ROSC 0u
#define CLK_REF_SRC_XOSC 2u
#define CLK_REF_SRC_BITS 3u
#define CLK_SYS_SRC_AUX 1u /* auxiliary source; AUXSRC 0 is PLL_SYS */
#define CLK_PERI_ENABLE (1u << 11) /* AUXSRC 0: clk_sys */
#define CLK_DIV_1 (1u << 8)

#define PLL_SYS_CS 0x40028000u
#define PLL_SYS_PWR 0x40028004u
#define PLL_SYS_FBDIV_INT 0x40028008u
#define PLL_SYS_PRIM 0x4002800cu
#define PLL_CS_LOCK (1u << 31)
#define PLL_PWR_PD (1u << 0)
#define PLL_PWR_POSTDIVPD (1u << 3)
#define PLL_PWR_VCOPD (1u << 5)
#define PLL_REFDIV 1u
#define PLL_FBDIV 133u
#define PLL_POSTDIV1 6u
#define PLL_POSTDIV2 2u
#define CLK_SYS_HZ (XOSC_HZ / PLL_REFDIV * PLL_FBDIV / (PLL_POSTDIV1 * PLL_POSTDIV2))

#define IO_BANK0_GPIO0_CTRL 0x40014004u
#define IO_BANK0_GPIO1_CTRL 0x4001400cu
#define GPIO_FUNC_UART 2u

#define UART0_BASE 0x40034000u
#define UART_DR REG(UART0_BASE + 0x000u)
#define UART_FR REG(UART0_BASE + 0x018u)
#define UART_IBRD REG(UART0_BASE + 0x024u)
#define UART_FBRD REG(UART0_BASE + 0x028u)
#define UART_LCR_H REG(UART0_BASE + 0x02cu)
#define UART_CR REG(UART0_BASE + 0x030u)
#define UART_FR_TXFF (1u << 5) /* transmit FIFO full */
#define UART_LCR_H_8N1_FIFO ((3u << 5) | (1u << 4)) /* WLEN = 8 bits, FEN */
#define UART_CR_ENABLE ((1u << 9) | (1u << 8) | 1u) /* RXE, TXE, UARTEN */
#define UART_BAUD 115200u
/* Baud divisor in 1/128ths, rounded to the 16.6 fixed point of IBRD.FBRD. */
#define UART_DIV128 (8u * CLK_SYS_HZ / UART_BAUD)
#define UART_IBRD_VALUE (UART_DIV128 >> 7)
#define UART_FBRD_VALUE (((UART_DIV128 & 0x7fu) + 1u) / 2u)

static void unreset(uint32_t blocks) {
    CLEAR_BITS(RESETS_RESET) = blocks;
    while ((REG(RESETS_RESET_DONE) & blocks) != blocks) {
    }
}

static void clocks_init(void) {
    REG(CLK_SYS_RESUS_CTRL) = 0;
    REG(XOSC_CTRL) = XOSC_CTRL_1_15MHZ;
    REG(XOSC_STARTUP) = XOSC_STARTUP_DELAY;
    REG(XOSC_CTRL) = XOSC_CTRL_1_15MHZ | XOSC_CTRL_ENABLE;
    while (!(REG(XOSC_STATUS) & XOSC_STATUS_STABLE)) {
    }
    /* clk_sys back on clk_ref, clk_ref on the ring oscillator, while the PLL changes. */
    CLEAR_BITS(CLK_SYS_CTRL) = CLK_SYS_SRC_AUX;
    while (REG(CLK_SYS_SELECTED) != 1u) {
    }
    CLEAR_BITS(CLK_REF_CTRL) = CLK_REF_SRC_BITS;
    while (REG(CLK_REF_SELECTED) != 1u << CLK_REF_SRC_ROSC) {
    }

    SET_BITS(RESETS_RESET) = RESET_PLL_SYS;
    unreset(RESET_PLL_SYS);
    REG(PLL_SYS_CS) = PLL_REFDIV;
    REG(PLL_SYS_FBDIV_INT) = PLL_FBDIV;
    CLEAR_BITS(PLL_SYS_PWR) = PLL_PWR_PD | PLL_PWR_VCOPD;
    while (!(REG(PLL_SYS_CS) & PLL_CS_LOCK)) {
    }
    REG(PLL_SYS_PRIM) = (PLL_POSTDIV1 << 16) | (PLL_POSTDIV2 << 12);
    CLEAR_BITS(PLL_SYS_PWR) = PLL_PWR_POSTDIVPD;

    REG(CLK_REF_CTRL) = CLK_REF_SRC_XOSC;
    while (REG(CLK_REF_SELECTED) != 1u << CLK_REF_SRC_XOSC) {
    }
    /* Glitchless switch: choose the auxiliary source first, then select it. */
    REG(CLK_SYS_CTRL) = 0;
    REG(CLK_SYS_DIV) = CLK_DIV_1;
    SET_BITS(CLK_SYS_CTRL) = CLK_SYS_SRC_AUX;
    while (REG(CLK_SYS_SELECTED) != 1u << CLK_SYS_SRC_AUX) {
    }
    REG(CLK_PERI_CTRL) = CLK_PERI_ENABLE;
}

void tm_platform_init(void) {
    clocks_init();
    unreset(RESET_IO_BANK0 | RESET_PADS_BANK0 | RESET_UART0);
    UART_IBRD = UART_IBRD_VALUE;
    UART_FBRD = UART_FBRD_VALUE;
    UART_LCR_H = UART_LCR_H_8N1_FIFO; /* also latches the divisor */
    UART_CR = UART_CR_ENABLE;
    REG(IO_BANK0_GPIO0_CTRL) = GPIO_FUNC_UART; /* GP0: UART0 TX */
    REG(IO_BANK0_GPIO1_CTRL) = GPIO_FUNC_UART; /* GP1: UART0 RX */
}

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
