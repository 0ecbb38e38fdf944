/* int8 softmax over the last axis, exactly as TFLM's reference kernel. `exp_q31[d]` is
 * exp(beta * input_scale * -d) in Q0.31 for a difference d = max - x to the row maximum
 * (tabulated at generation time with gemmlowp's exp_on_negative_values; differences past
 * the table contribute 0). The sum is Q12.19; 1/sum comes from gemmlowp's Newton-Raphson
 * one_over_one_plus_x_for_x_in_0_1, as TFLite's GetReciprocal. Output: scale 1/256,
 * zero point -128. Integer arithmetic only. */

/* gemmlowp SaturatingRoundingDoublingHighMul (int64 division by 2^31 truncates). */
static int32_t tm_softmax_srdhm(int32_t a, int32_t b)
{
    int64_t t;
    if (a == b && a == INT32_MIN) return INT32_MAX;
    t = (int64_t)a * b;
    t += t >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    return (int32_t)(t >= 0 ? t >> 31 : -((-t) >> 31));
}

/* gemmlowp RoundingDivideByPOT: a rounding arithmetic right shift, 0 <= e <= 31. */
static int32_t tm_softmax_rdp(int32_t x, int32_t e)
{
    const int32_t mask = (int32_t)(((uint32_t)1 << e) - 1u);
    const int32_t threshold = (mask >> 1) + (x < 0);
    return (x >> e) + ((x & mask) > threshold);
}

/* gemmlowp SaturatingRoundingMultiplyByPOT<e> for 0 < e < 31. */
static int32_t tm_softmax_sat_shl(int32_t x, int32_t e)
{
    const int32_t threshold = (int32_t)(((uint32_t)1 << (31 - e)) - 1u);
    if (x > threshold) return INT32_MAX;
    if (x < -threshold) return INT32_MIN;
    return (int32_t)((uint32_t)x << e);
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1: 1/(1+a), a and the result in Q0.31; the
 * iteration in Q2.29. Sums wrap as gemmlowp's int32 Add (computed unsigned). */
static int32_t tm_softmax_one_over_one_plus_x(int32_t a)
{
    const int64_t total = (int64_t)a + INT32_MAX;
    const int32_t half = (int32_t)(total >= 0 ? (total + 1) / 2 : (total - 1) / 2);
    int32_t x = (int32_t)((uint32_t)1515870810 + (uint32_t)tm_softmax_srdhm(half, -1010580540));
    int32_t i;
    for (i = 0; i < 3; ++i) {
        const int32_t one_minus = (int32_t)(((uint32_t)1 << 29) - (uint32_t)tm_softmax_srdhm(half, x));
        x = (int32_t)((uint32_t)x + (uint32_t)tm_softmax_sat_shl(tm_softmax_srdhm(x, one_minus), 2));
    }
    return tm_softmax_sat_shl(x, 1);
}

static void tm_softmax_s8(const int8_t *x, int8_t *y, int32_t rows, int32_t depth,
                          const TM_ROM int32_t *exp_q31, int32_t table_n)
{
    for (int32_t r = 0; r < rows; ++r, x += depth, y += depth) {
        int32_t max = -128, sum = 0, bits = 0, scale, exponent, i;
        uint32_t u;
        for (i = 0; i < depth; ++i) {
            if (x[i] > max) max = x[i];
        }
        for (i = 0; i < depth; ++i) {
            const int32_t d = max - x[i];
            /* Rescale to Q12.19: RoundingDivideByPOT(e, 12) of a non-negative e */
            if (d < table_n) sum += (int32_t)(((uint32_t)exp_q31[d] + (uint32_t)2048) >> 12);
        }
        /* GetReciprocal: sum = 2^(12 - bits) * (1 + f), f in [0, 1) */
        for (u = (uint32_t)sum; !(u & 0x80000000u); u <<= 1) ++bits;
        scale = tm_softmax_one_over_one_plus_x((int32_t)(u - 0x80000000u));
        exponent = 12 - bits + 31 - 8;
        for (i = 0; i < depth; ++i) {
            const int32_t d = max - x[i];
            int32_t v = -128;
            if (d < table_n) {
                v = tm_softmax_rdp(tm_softmax_srdhm(scale, exp_q31[d]), exponent) - 128;
                if (v > 127) v = 127;
                if (v < -128) v = -128;
            }
            y[i] = (int8_t)v;
        }
    }
}
