#!/usr/bin/env bash
# The hello-world pipeline end to end: train sin(x), convert, generate C, validate it.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-demo-output}
T=.venv/bin/toolkit
export TF_CPP_MIN_LOG_LEVEL=3

step() { printf '\n== %s ==\n' "$*"; }

step "1. Train the 1-16-16-1 sine model"
$T train --function sin -o "$OUT" --epochs 300
step "2. Convert to TensorFlow Lite (float32 and full int8)"
$T convert "$OUT/model.keras" -o "$OUT"
step "3. Generate C for the int8 model"
$T codegen "$OUT/model_int8.tflite" -o "$OUT/c_int8"
step "4. Validate the generated C on the host against the TFLM interpreter (all 256 inputs)"
$T validate "$OUT/model_int8.tflite" --host --json "$OUT/validate_int8.json"
step "5. Validate the float model's C against LiteRT"
$T validate "$OUT/model_float.tflite" --host --input-range 0,6.2832 --json "$OUT/validate_float.json"
printf '\nDemo outputs are in %s/\n' "$OUT"
