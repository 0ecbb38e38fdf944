/* Border windows of the DSP convolution's im2col (toolkit/codegen/fast/dsp/conv2d.py).
 * The column buffer holds four output pixels side by side: for each step of four window
 * values, pixel p's two words at col[8 * step + 2 * p]. Byte k of a step's four window
 * bytes goes to int16 lane (0, 2, 1, 3)[k]: the words (b0, b2) and (b1, b3) that SXTB16
 * and SXTB16 ROR 8 make of them, the order in which the int8 weights unpack. Each window
 * row's first `full` bytes (a multiple of 4) come first, row after row; then the rows'
 * remaining `tail` bytes, row after row, padded to a multiple of 4. Windows inside the
 * input are copied by generated code; this kernel takes those with taps outside the
 * input, which it sets to `pad` (the input zero point, which the bias has folded in: they
 * add nothing, as TFLite skips them). Every lane is `scale` (1 or 2) times its value.
 * `col` points at the pixel's first word. */
static void tm_dsp_gather_s8(const int8_t *x, int32_t in_h, int32_t in_w, int32_t ch, int32_t iy0, int32_t ix0,
                             int32_t k_h, int32_t k_w, int32_t full, int32_t tail, int32_t pad, int32_t scale,
                             int32_t *col)
{
    const int32_t zz = (int32_t)(((uint32_t)(pad * scale) & 0xFFFFu) * 0x10001u);
    int16_t *lanes = (int16_t *)col;
    for (int32_t ky = 0; ky < k_h; ++ky) {
        const int32_t iy = iy0 + ky, row_in = iy >= 0 && iy < in_h;
        const int8_t *xr = x + iy * in_w * ch;
        int32_t *d = col + ky * full * 2;
        if (!row_in) {
            for (int32_t g = 0; g < full; g += 4, d += 8) d[0] = d[1] = zz;
        } else if ((ch & 3) == 0) { /* whole taps of four-channel groups (tail == 0) */
            for (int32_t kx = 0; kx < k_w; ++kx) {
                const int32_t ix = ix0 + kx, in = ix >= 0 && ix < in_w;
                const int8_t *s = xr + ix * ch;
                for (int32_t c = 0; c < ch; c += 4, s += 4, d += 8) {
                    if (in) {
                        int32_t b;
                        __builtin_memcpy(&b, s, 4);
                        d[0] = tm_sxtb16(b);
                        d[1] = tm_sxtb16_ror8(b);
                        if (scale == 2) {
                            d[0] = __builtin_arm_sadd16(d[0], d[0]);
                            d[1] = __builtin_arm_sadd16(d[1], d[1]);
                        }
                    } else {
                        d[0] = d[1] = zz;
                    }
                }
            }
            continue;
        }
        for (int32_t i = 0; i < full + tail; ++i) {
            const int32_t kx = i / ch, ix = ix0 + kx;
            const int32_t j = i < full ? ky * full + i : k_h * full + ky * tail + i - full;
            if (row_in || i >= full) {
                const int32_t v = (row_in && ix >= 0 && ix < in_w) ? xr[ix * ch + i - kx * ch] : pad;
                lanes[(j >> 2) * 16 + ((j & 1) << 1) + ((j >> 1) & 1)] = (int16_t)(v * scale);
            }
        }
    }
}
