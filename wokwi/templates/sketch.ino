// Runs the generated model on every test vector and prints one line per output,
// "O:" and the output bytes in hex, the format the scenario (model.test.yaml) expects.
#include "model.h"
#include "vectors.h"

static MODEL_OUTPUT_T output[MODEL_OUTPUT_SIZE];

static void print_hex(const uint8_t *p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    Serial.write(digits[p[i] >> 4]);
    Serial.write(digits[p[i] & 15]);
  }
}

void setup() {
  Serial.begin(115200);
  for (uint32_t i = 0; i < TM_N_INPUTS; i++) {
    uint32_t start = ESP.getCycleCount();
    int rc = model_invoke(&tm_inputs[i * MODEL_INPUT_SIZE], output);
    uint32_t cycles = ESP.getCycleCount() - start;
    if (rc != 0) {
      Serial.printf("E:%lu:%d\n", (unsigned long)i, rc);
      return;
    }
    Serial.print("O:");
    print_hex((const uint8_t *)output, sizeof output);
    Serial.printf(" cycles=%lu\n", (unsigned long)cycles);
  }
  Serial.println("DONE");
}

void loop() {
  delay(1000);
}
