/* needs: requant */
/* int8 fully connected layer. The input zero point is folded into `bias`;
 * one multiplier and shift per output channel. */
static void tm_fc_s8(const int8_t *x, int8_t *y, int32_t batches, int32_t in_n, int32_t out_n,
                     const TM_ROM int8_t *w, const TM_ROM int32_t *bias, const TM_ROM int32_t *mult,
                     const TM_ROM int8_t *shift,
                     int32_t out_zp, int32_t act_min, int32_t act_max)
{
    for (int32_t b = 0; b < batches; ++b, x += in_n) {
        const TM_ROM int8_t *row = w;
        for (int32_t o = 0; o < out_n; ++o, row += in_n) {
            int32_t acc = bias[o];
            for (int32_t i = 0; i < in_n; ++i) {
                acc += (int32_t)row[i] * x[i];
            }
            acc = tm_requant(acc, mult[o], shift[o]) + out_zp;
            if (acc < act_min) acc = act_min;
            if (acc > act_max) acc = act_max;
            *y++ = (int8_t)acc;
        }
    }
}
