/* x * multiplier * 2^shift in fixed point, exactly as TFLite's
 * MultiplyByQuantizedMultiplier: a saturating rounding doubling high multiply
 * followed by a rounding right shift (gemmlowp's double rounding). The
 * multiplier is a positive Q31 value, so the saturation case cannot occur. */
static int32_t tm_requant(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    const int64_t ab = (int64_t)(int32_t)((uint32_t)x << left) * multiplier;
    const int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30)); /* int may be 16 bits (AVR) */
    const int32_t high = (int32_t)((ab + nudge) / ((int64_t)1 << 31));
    const int32_t mask = (int32_t)(((uint32_t)1 << right) - 1u);
    const int32_t threshold = (mask >> 1) + (high < 0);
    return (high >> right) + ((high & mask) > threshold);
}
