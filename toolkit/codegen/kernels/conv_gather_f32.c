/* The window of one output pixel in the filter's [ky][kx][c] order (im2col), taps outside
 * the input set to `pad` (int8: the input zero point, float: 0, so that they add nothing,
 * as TFLite skips them). Rows inside the input are copied whole when the taps touch. */
static void tm_conv_gather_f32(const float *x, int32_t in_h, int32_t in_w, int32_t ch, int32_t iy0,
                              int32_t ix0, int32_t k_h, int32_t k_w, int32_t d_h, int32_t d_w,
                              float pad, float *col)
{
    const int32_t row_inside = d_w == 1 && ix0 >= 0 && ix0 + k_w <= in_w;
    for (int32_t ky = 0; ky < k_h; ++ky) {
        const int32_t iy = iy0 + ky * d_h;
        if (iy < 0 || iy >= in_h) {
            for (int32_t i = 0; i < k_w * ch; ++i) *col++ = pad;
        } else if (row_inside) {
            const float *p = x + (iy * in_w + ix0) * ch;
            for (int32_t i = 0; i < k_w * ch; ++i) *col++ = p[i];
        } else {
            for (int32_t kx = 0; kx < k_w; ++kx) {
                const int32_t ix = ix0 + kx * d_w;
                if (ix < 0 || ix >= in_w) {
                    for (int32_t c = 0; c < ch; ++c) *col++ = pad;
                } else {
                    const float *p = x + (iy * in_w + ix) * ch;
                    for (int32_t c = 0; c < ch; ++c) *col++ = p[c];
                }
            }
        }
    }
}
