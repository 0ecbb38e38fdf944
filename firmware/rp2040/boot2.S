/*
 * Second boot stage ("boot2") of the RP2040.
 *
 * At power-on the bootrom copies the first 256 bytes of flash to the top of SRAM
 * (0x20041f00), checks that the CRC32 of the first 252 bytes equals the last four,
 * and executes them there, with lr = 0 (RP2040 datasheet, 2.8.1). An image without
 * a valid boot2 never starts: the bootrom gives up and waits as a USB drive.
 *
 * This stage sets up the flash interface (XIP_SSI, a DW_apb_ssi) for execute-in-place
 * with the plain serial read command 03h, which every SPI NOR flash answers: slower
 * than the quad reads of chip-specific stages, but with no chip-specific set-up.
 * Then it enters the image: VTOR = 0x10000100, SP and PC from that vector table.
 *
 * The build assembles this file on its own, links it for 0x20041f00 (boot2.ld keeps
 * it within 252 bytes), pads it, appends the CRC and places the 256 bytes first in
 * flash (emulation/boot2.py). It only uses pc-relative literals and absolute
 * register addresses.
 */
    .syntax unified
    .cpu cortex-m0plus
    .thumb

    .equ XIP_BASE,       0x10000000
    .equ XIP_SSI_BASE,   0x18000000
    .equ SSI_CTRLR0,     0x00
    .equ SSI_CTRLR1,     0x04
    .equ SSI_SSIENR,     0x08
    .equ SSI_BAUDR,      0x14
    .equ SSI_SPI_CTRLR0, 0xf4
    .equ PPB_VTOR,       0xe000ed08

    /* SCK = clk_sys / 4: within the 50 MHz that 03h reads allow even at 200 MHz. */
    .equ CLKDIV, 4
    /* CTRLR0: standard SPI frames (SPI_FRF = 0), 32 clocks per data frame (DFS_32 = 31),
     * transfer mode "EEPROM read": send command and address, then receive (TMOD = 3). */
    .equ CTRLR0_XIP, (31 << 16) | (3 << 8)
    /* SPI_CTRLR0: XIP command 03h, 8-bit instruction (INST_L = 2), 24-bit address
     * (ADDR_L = 6 nibbles), command and address serial (TRANS_TYPE = 0), no wait cycles. */
    .equ SPI_CTRLR0_XIP, (0x03 << 24) | (2 << 8) | (6 << 2)

    .section .text, "ax"
    .global _boot2
    .type _boot2, %function
    .thumb_func
_boot2:
    ldr r3, =XIP_SSI_BASE
    movs r1, #0
    str r1, [r3, #SSI_SSIENR]      /* the SSI takes a new configuration only while disabled */
    movs r1, #CLKDIV
    str r1, [r3, #SSI_BAUDR]
    ldr r1, =CTRLR0_XIP
    str r1, [r3, #SSI_CTRLR0]
    ldr r1, =SPI_CTRLR0_XIP
    ldr r0, =XIP_SSI_BASE + SSI_SPI_CTRLR0
    str r1, [r0]
    movs r1, #0
    str r1, [r3, #SSI_CTRLR1]      /* NDF = 0: one 32-bit frame per read */
    movs r1, #1
    str r1, [r3, #SSI_SSIENR]      /* XIP reads of 0x10000000-0x10ffffff now go to the flash */

    ldr r0, =XIP_BASE + 0x100      /* the image's vector table, right after this stage */
    ldr r1, =PPB_VTOR
    str r0, [r1]
    ldm r0, {r0, r1}               /* initial SP, reset handler */
    msr msp, r0
    bx r1
    .ltorg
    .size _boot2, . - _boot2
