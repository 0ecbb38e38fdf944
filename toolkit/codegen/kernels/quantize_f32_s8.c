/* needs: round_f32 */
/* float32 -> int8: round(x / scale) + zero_point, saturated (TFLite's AffineQuantize). */
static void tm_quantize_f32_s8(const float *x, int8_t *y, int32_t n, float scale, int32_t zp)
{
    for (int32_t i = 0; i < n; ++i) {
        int32_t q = tm_round_f32(x[i] / scale) + zp;
        if (q < -128) q = -128;
        if (q > 127) q = 127;
        y[i] = (int8_t)q;
    }
}
