/* needs: requant */
/* int8 -> int8 with a new scale and zero point (TFLite's Requantize). */
static void tm_requantize_s8(const int8_t *x, int8_t *y, int32_t n, int32_t in_zp,
                             int32_t mult, int32_t shift, int32_t out_zp)
{
    for (int32_t i = 0; i < n; ++i) {
        int32_t q = tm_requant((int32_t)x[i] - in_zp, mult, shift) + out_zp;
        if (q < -128) q = -128;
        if (q > 127) q = 127;
        y[i] = (int8_t)q;
    }
}
