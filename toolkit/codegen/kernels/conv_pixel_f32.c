/* needs: conv_noinline */
/* Σ w0[i]·x[i] and Σ w1[i]·x[i] for i < n, each summed in order from acc[k]. */
static TM_NOINLINE void tm_conv_dot2_f32(const float *x, const TM_ROM float *w0, const TM_ROM float *w1,
                                         int32_t n, float *acc)
{
    float a0 = acc[0], a1 = acc[1];
    for (int32_t i = 0; i < n; ++i) {
        const float xv = x[i];
        a0 += w0[i] * xv;
        a1 += w1[i] * xv;
    }
    acc[0] = a0;
    acc[1] = a1;
}

/* One output pixel of a float convolution from its window `x` (n values in the filter's
 * [ky][kx][c] order, zeros outside the input): y[o] = clamp(Σ w[o][i]·x[i] + bias[o]),
 * summed in TFLite's reference order (taps in order, then the bias). bias may be 0. */
static void tm_conv_pixel_f32(const float *x, int32_t n, const TM_ROM float *w, int32_t out_n,
                              const TM_ROM float *bias, float act_min, float act_max, float *y)
{
    for (int32_t o = 0; o < out_n; o += 2) {
        const TM_ROM float *wo = w + o * n;
        float acc[2];
        const int32_t pair = o + 1 < out_n;
        acc[0] = 0.0f;
        acc[1] = 0.0f;
        tm_conv_dot2_f32(x, wo, pair ? wo + n : wo, n, acc);
        for (int32_t k = 0; k <= pair; ++k) {
            float v = acc[k];
            if (bias) v += bias[o + k];
            if (v < act_min) v = act_min;
            if (v > act_max) v = act_max;
            y[o + k] = v;
        }
    }
}
