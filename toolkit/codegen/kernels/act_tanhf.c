/* needs: expf */
/* tanh(x) = sign(x)·(1 - 2/(e^2|x| + 1)); absolute error ~1e-7 (the float TANH tolerance
 * is absolute). e^2|x| saturates at e^88, where the result is 1 in float. */
static float tm_act_tanhf(float x)
{
    const float a = x < 0.0f ? -x : x;
    const float t = 1.0f - 2.0f / (tm_expf(2.0f * a) + 1.0f);
    return x < 0.0f ? -t : t;
}
