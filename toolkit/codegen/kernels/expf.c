/* expf() without libm, for the float activations and SOFTMAX: x = k·ln2 + r with |r| <= ln2/2
 * (ln2 split in two so that k·ln2_hi is exact), e^r from its degree-7 Taylor
 * polynomial (relative error < 1e-8 before rounding), 2^k put into the exponent
 * bits. Inputs above 88 give e^88; below -87, 0 (no denormals). */
static float tm_expf(float x)
{
    union { float f; uint32_t u; } scale;
    float n, r, p;
    int32_t k;
    if (x > 88.0f) x = 88.0f;
    if (!(x >= -87.0f)) return x == x ? 0.0f : x; /* NaN stays NaN */
    n = x * 1.44269502f;
    k = (int32_t)(n + (n >= 0.0f ? 0.5f : -0.5f));
    n = (float)k;
    r = x - n * 0.693145752f;
    r = r - n * 1.42860682e-06f;
    p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666672f + r * (0.0416666679f + r * (0.00833333377f
        + r * (0.00138888892f + r * 0.000198412701f))))));
    scale.u = (uint32_t)(k + 127) << 23;
    return p * scale.f;
}
