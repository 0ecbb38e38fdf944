/* Cores with the ARMv7E-M DSP extension (Cortex-M4, M7, M33) take the TM_DSP paths:
 * SMLAD (two 16x16 multiply-accumulates), SMMULR (rounding high multiply), SSAT and
 * LDRD. Everything else (the host, Cortex-M0+, M3, other compilers) takes the
 * portable C paths, which compute the same integers. Define TM_NO_DSP to force them. */
#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__) && !defined(TM_NO_DSP)
#define TM_DSP 1
typedef int32_t __attribute__((may_alias, aligned(4))) tm_word; /* two int16 activations */
typedef struct __attribute__((may_alias)) { int32_t lo, hi; } tm_pair;
#define tm_smlad(x, w, acc) __builtin_arm_smlad((x), (w), (acc))
#define tm_ssat8(v) __builtin_arm_ssat((v), 8)
#define tm_sxtb16(v) __builtin_arm_sxtb16(v)
/* (a * b + 2^31) >> 32: gcc has no builtin for SMMULR. */
static inline int32_t tm_smmulr(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
/* (a * b + 2^31) >> 32 plus c. */
static inline int32_t tm_smmlar(int32_t a, int32_t b, int32_t c)
{
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(c));
    return r;
}
/* a >> (s & 255), arithmetic: the shift amount is the bottom byte of s (ASR by register;
 * in C a shift by 32 or more would be undefined). */
static inline int32_t tm_asr(int32_t a, int32_t s)
{
    int32_t r;
    __asm__("asr %0, %1, %2" : "=r"(r) : "r"(a), "r"(s));
    return r;
}
/* sign-extend bytes 1 and 3 to two int16 (SXTB16 with a rotation by 8). */
static inline int32_t tm_sxtb16_ror8(int32_t v)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}
/* Two consecutive words with one LDRD, advancing the pointer: gcc only pairs loads
 * into LDRD when registers line up, so it is spelled out. */
#define TM_LDRD(lo, hi, p) __asm__("ldrd %0, %1, [%2], #8" : "=r"(lo), "=r"(hi), "+r"(p) : "m"(*(const tm_pair *)(p)))
#else
#define TM_DSP 0
#endif
