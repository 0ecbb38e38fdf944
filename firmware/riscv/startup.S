/*
 * Minimal rv32 start-up: set gp and sp, copy .data, zero .bss, call main.
 * The harness ends with tm_exit (platform.c); should main return, the core parks
 * in an endless loop.
 */
    .section .text.start, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    .option push
    .option norelax             /* gp is not set yet: no gp-relative addressing */
    la      gp, __global_pointer$
    .option pop
    la      sp, __stack_top

    la      a0, __data_load
    la      a1, __data_start
    la      a2, __data_end
1:  bgeu    a1, a2, 2f
    lw      t0, 0(a0)
    sw      t0, 0(a1)
    addi    a0, a0, 4
    addi    a1, a1, 4
    j       1b

2:  la      a1, __bss_start
    la      a2, __bss_end
3:  bgeu    a1, a2, 4f
    sw      zero, 0(a1)
    addi    a1, a1, 4
    j       3b

4:  call    main
5:  j       5b
    .size _start, . - _start
