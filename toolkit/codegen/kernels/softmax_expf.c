/* expf(x) for x <= 0 without libm (Cephes' expf: x = n ln2 + r, |r| <= ln2/2, a degree-6
 * polynomial for exp(r), 2^n from the exponent bits); about 1 ulp. Below -87 the result
 * (< 1.7e-38) is returned as 0. */
static float tm_softmax_expf(float x)
{
    union { float f; uint32_t u; } p2;
    float t, z, r;
    int32_t n;
    if (x < -87.0f) return 0.0f;
    t = x * 1.44269504088896341f + 0.5f;
    n = (int32_t)t; /* truncates toward zero: floor for t < 0 needs a step down */
    if ((float)n > t) --n;
    z = (float)n;
    r = x - z * 0.693359375f;
    r = r - z * -2.12194440e-4f;
    z = r * r;
    t = ((((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r
            + 4.1665795894e-2f) * r + 1.6666665459e-1f) * r + 5.0000001201e-1f) * z + r) + 1.0f;
    p2.u = (uint32_t)(n + 127) << 23;
    return t * p2.f;
}
