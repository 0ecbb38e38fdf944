/* int8 -> float32: scale * (q - zero_point). One float rounding of an exact
 * product, so it equals TFLite's double computation cast to float. */
static void tm_dequantize_s8_f32(const int8_t *x, float *y, int32_t n, float scale, int32_t zp)
{
    for (int32_t i = 0; i < n; ++i) {
        y[i] = scale * (float)((int32_t)x[i] - zp);
    }
}
