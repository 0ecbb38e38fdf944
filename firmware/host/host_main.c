/* Host harness for a generated model: raw inputs on stdin, raw outputs on stdout.
 *
 *   model_host            invoke once per MODEL_INPUT_SIZE values read
 *   model_host quantize   run model_quantize_input on floats (int8-input models)
 *   model_host dequantize run model_dequantize_output on int8s (int8-output models)
 */
#include <stdio.h>
#include <string.h>

#include "model.h"

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "invoke";
    if (strcmp(mode, "invoke") == 0) {
        static MODEL_INPUT_T in[MODEL_INPUT_SIZE];
        static MODEL_OUTPUT_T out[MODEL_OUTPUT_SIZE];
        while (fread(in, sizeof in, 1, stdin) == 1) {
            if (model_invoke(in, out) != 0) return 3;
            fwrite(out, sizeof out, 1, stdout);
        }
        return 0;
    }
#ifdef MODEL_INPUT_SCALE
    if (strcmp(mode, "quantize") == 0) {
        static float x[MODEL_INPUT_SIZE];
        static int8_t q[MODEL_INPUT_SIZE];
        while (fread(x, sizeof x, 1, stdin) == 1) {
            model_quantize_input(x, q);
            fwrite(q, sizeof q, 1, stdout);
        }
        return 0;
    }
#endif
#ifdef MODEL_OUTPUT_SCALE
    if (strcmp(mode, "dequantize") == 0) {
        static int8_t q[MODEL_OUTPUT_SIZE];
        static float y[MODEL_OUTPUT_SIZE];
        while (fread(q, sizeof q, 1, stdin) == 1) {
            model_dequantize_output(q, y);
            fwrite(y, sizeof y, 1, stdout);
        }
        return 0;
    }
#endif
    fprintf(stderr, "unknown mode '%s'\n", mode);
    return 2;
}
