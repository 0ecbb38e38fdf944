/* needs: conv_noinline */
/* Σ w0[i]·x[i] and Σ w1[i]·x[i] for i < n, added to acc[0] and acc[1]: two output
 * channels share each input load. |w·x| <= 16384 fits an int (AVR). */
static TM_NOINLINE void tm_conv_dot2_s8(const int8_t *x, const TM_ROM int8_t *w0, const TM_ROM int8_t *w1,
                                        int32_t n, int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1];
    for (int32_t i = 0; i < n; ++i) {
        const int xv = x[i];
        a0 += w0[i] * xv;
        a1 += w1[i] * xv;
    }
    acc[0] = a0;
    acc[1] = a1;
}

/* The accumulators of one output pixel of an int8 convolution: acc[o] = bias[o] +
 * Σ w[o][i]·x[i], o < out_n, from its window `x` (n values in the filter's [ky][kx][c]
 * order; taps outside the input hold the input zero point, which `bias` has folded in). */
static void tm_conv_acc_s8(const int8_t *x, int32_t n, const TM_ROM int8_t *w, int32_t out_n,
                           const TM_ROM int32_t *bias, int32_t *acc)
{
    int32_t o = 0;
    for (; o + 1 < out_n; o += 2) {
        acc[o] = bias[o];
        acc[o + 1] = bias[o + 1];
        tm_conv_dot2_s8(x, w + o * n, w + (o + 1) * n, n, acc + o);
    }
    if (o < out_n) { /* an odd last channel, paired with itself */
        int32_t pair[2];
        pair[0] = bias[o];
        pair[1] = 0;
        tm_conv_dot2_s8(x, w + o * n, w + o * n, n, pair);
        acc[o] = pair[0];
    }
}
