/* float32 fully connected layer, summed in the order TFLite's reference kernel uses. */
static void tm_fc_f32(const float *x, float *y, int32_t batches, int32_t in_n, int32_t out_n,
                      const TM_ROM float *w, const TM_ROM float *bias, float act_min, float act_max)
{
    for (int32_t b = 0; b < batches; ++b, x += in_n) {
        const TM_ROM float *row = w;
        for (int32_t o = 0; o < out_n; ++o, row += in_n) {
            float total = 0.0f;
            for (int32_t i = 0; i < in_n; ++i) {
                total += x[i] * row[i];
            }
            if (bias) total += bias[o];
            if (total < act_min) total = act_min;
            if (total > act_max) total = act_max;
            *y++ = total;
        }
    }
}
