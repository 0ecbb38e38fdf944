/* roundf() without libm: halves away from zero. t - (int32_t)t is exact in float. */
static int32_t tm_round_f32(float t)
{
    if (!(t == t)) return 0; /* NaN */
    if (t > 1e9f) t = 1e9f;
    if (t < -1e9f) t = -1e9f;
    int32_t r = (int32_t)t;
    const float frac = t - (float)r;
    if (frac >= 0.5f) ++r;
    else if (frac <= -0.5f) --r;
    return r;
}
