/*
 * TF Lite Micro behind the harness's model_invoke(): the same harness.c, start-up code
 * and linker script as the generated C, with TFLM's MicroInterpreter doing the work.
 *
 * Generated beside this file (toolkit/tflm/project.py):
 *   model.h       MODEL_INPUT_SIZE, MODEL_INPUT_T, ... as the generated C's model.h
 *   tflm_ops.h    TFLM_OP_COUNT and tflm_add_ops(): exactly the model's operators
 *   model_data.c  tflm_model_data[], the .tflite file, 16-byte aligned
 *   tflm_arena.c  tflm_arena[], 16-byte aligned, and its size tflm_arena_bytes
 *
 * Set-up (GetModel, op resolver, MicroInterpreter, AllocateTensors) runs before the
 * harness's main, outside the measured calls: the link wraps main (-Wl,--wrap=main), so
 * start-up calls __wrap_main below, which sets up and then calls the harness's main.
 * It prints "T:arena_used_bytes=<n>" and, on failure, "T:error:<what>" and exits.
 * A sizing build (-DTFLM_ARENA_SEARCH=1) instead finds the smallest arena size that
 * AllocateTensors accepts, in 16-byte steps, by building the interpreter over the first
 * N bytes of its (large) arena for several N; it prints "T:arena_min=<n>" and exits.
 * model_invoke copies the input into the input tensor(s), calls Invoke and copies the
 * output tensor(s) out: that copy is part of every measured call.
 * No global constructors: the start-up code does not run .init_array, so the resolver
 * and interpreter are built with placement new in static storage.
 */
#include <cstdint>
#include <cstring>
#include <new>

#include "model.h"
#include "tensorflow/lite/micro/cortex_m_generic/debug_log_callback.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/schema/schema_generated.h"
#include "tflm_ops.h"

extern "C" {
#include "harness.h"

extern const unsigned char tflm_model_data[];
extern uint8_t tflm_arena[];
extern const uint32_t tflm_arena_bytes;
int __real_main(void);
int __wrap_main(void);
}

namespace {

using Resolver = tflite::MicroMutableOpResolver<TFLM_OP_COUNT>;
alignas(Resolver) uint8_t resolver_storage[sizeof(Resolver)];
alignas(tflite::MicroInterpreter) uint8_t interpreter_storage[sizeof(tflite::MicroInterpreter)];
tflite::MicroInterpreter* interpreter = nullptr;
/* The model's input and output tensors, looked up once at set-up. */
TfLiteTensor* inputs[MODEL_INPUT_COUNT];
TfLiteTensor* outputs[MODEL_OUTPUT_COUNT];

void put_text(const char* s) {
  while (*s) tm_putc(*s++);
}

void put_decimal(uint32_t v) {
  char digits[11];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10u);
    v /= 10u;
  } while (v);
  while (n) tm_putc(digits[--n]);
}

/* TFLM's MicroPrintf messages, one "T:" line each (they carry no newline). */
void log_line(const char* s) {
  put_text("T:");
  for (; *s; s++) tm_putc(*s == '\n' ? ' ' : *s);
  tm_putc('\n');
}

[[noreturn]] void fail(const char* what) {
  put_text("T:error:");
  put_text(what);
  tm_putc('\n');
  tm_exit(TM_ADP_STOPPED_RUNTIME_ERROR);
}

/* A fresh interpreter over the first `bytes` of the arena; true if AllocateTensors succeeds. */
bool allocate(const tflite::Model* model, Resolver* resolver, uint32_t bytes) {
  if (interpreter) interpreter->~MicroInterpreter();
  interpreter = new (interpreter_storage) tflite::MicroInterpreter(model, *resolver, tflm_arena, bytes);
  return interpreter->AllocateTensors() == kTfLiteOk;
}

#if TFLM_ARENA_SEARCH
void quiet(const char*) {}

[[noreturn]] void search_arena(const tflite::Model* model, Resolver* resolver) {
  constexpr uint32_t kStep = 16; /* MicroArenaBufferAlignment() */
  uint32_t ok = tflm_arena_bytes;
  if (!allocate(model, resolver, ok)) fail("AllocateTensors");
  const uint32_t used = static_cast<uint32_t>(interpreter->arena_used_bytes());
  put_text("T:arena_used_bytes=");
  put_decimal(used);
  tm_putc('\n');
  RegisterDebugLogCallback(quiet); /* the refusals below are expected */
  /* arena_used_bytes() leaves out Prepare's temporary allocations: a lower bound */
  uint32_t bad = used / kStep * kStep;
  if (bad == used) bad -= kStep;
  while (ok - bad > kStep) {
    uint32_t mid = (bad + (ok - bad) / 2) / kStep * kStep;
    if (mid <= bad) mid = bad + kStep;
    if (allocate(model, resolver, mid)) {
      ok = mid;
    } else {
      bad = mid;
    }
  }
  put_text("T:arena_min=");
  put_decimal(ok);
  tm_putc('\n');
  tm_exit(TM_ADP_STOPPED_APPLICATION_EXIT);
}
#endif

}  // namespace

extern "C" int __wrap_main(void) {
  RegisterDebugLogCallback(log_line);
  const tflite::Model* model = tflite::GetModel(tflm_model_data);
  if (model->version() != TFLITE_SCHEMA_VERSION) fail("schema version");
  Resolver* resolver = new (resolver_storage) Resolver();
  if (tflm_add_ops(*resolver) != kTfLiteOk) fail("op resolver");
#if TFLM_ARENA_SEARCH
  search_arena(model, resolver);
#endif
  if (!allocate(model, resolver, tflm_arena_bytes)) fail("AllocateTensors");
  if (interpreter->inputs_size() != MODEL_INPUT_COUNT || interpreter->outputs_size() != MODEL_OUTPUT_COUNT) {
    fail("input/output count");
  }
  for (size_t k = 0; k < MODEL_INPUT_COUNT; k++) inputs[k] = interpreter->input(k);
  for (size_t k = 0; k < MODEL_OUTPUT_COUNT; k++) outputs[k] = interpreter->output(k);
  put_text("T:arena_used_bytes=");
  put_decimal(static_cast<uint32_t>(interpreter->arena_used_bytes()));
  tm_putc('\n');
  return __real_main();
}

extern "C" int model_invoke(const MODEL_INPUT_T* in, MODEL_OUTPUT_T* out) {
  const uint8_t* src = reinterpret_cast<const uint8_t*>(in);
  for (size_t k = 0; k < MODEL_INPUT_COUNT; k++) {
    std::memcpy(inputs[k]->data.raw, src, inputs[k]->bytes);
    src += inputs[k]->bytes;
  }
  if (interpreter->Invoke() != kTfLiteOk) return 1;
  uint8_t* dst = reinterpret_cast<uint8_t*>(out);
  for (size_t k = 0; k < MODEL_OUTPUT_COUNT; k++) {
    std::memcpy(dst, outputs[k]->data.raw, outputs[k]->bytes);
    dst += outputs[k]->bytes;
  }
  return 0;
}
