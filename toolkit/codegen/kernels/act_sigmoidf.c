/* needs: expf */
/* LiteRT's reference float LOGISTIC: 1 above 16.619..., e^x below -9, else 1/(1+e^-x). */
static float tm_act_sigmoidf(float x)
{
    if (x > 16.6190472f) return 1.0f;
    if (x < -9.0f) return tm_expf(x);
    return 1.0f / (1.0f + tm_expf(-x));
}
