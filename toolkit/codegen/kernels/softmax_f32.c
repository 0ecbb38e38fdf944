/* needs: expf */
/* float32 softmax over the last axis, as TFLite's reference kernel: subtract the row
 * maximum, exponentiate (times beta), sum in order, divide. */
static void tm_softmax_f32(const float *x, float *y, int32_t rows, int32_t depth, float beta)
{
    for (int32_t r = 0; r < rows; ++r, x += depth, y += depth) {
        float max = x[0], sum = 0.0f;
        int32_t i;
        for (i = 1; i < depth; ++i) {
            if (x[i] > max) max = x[i];
        }
        for (i = 0; i < depth; ++i) {
            const float e = tm_expf((x[i] - max) * beta);
            y[i] = e;
            sum += e;
        }
        for (i = 0; i < depth; ++i) {
            y[i] = y[i] / sum;
        }
    }
}
