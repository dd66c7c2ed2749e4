// The aarch64 ONNX Runtime runner: an .onnx file through ONNX Runtime's C API from PyPI's
// aarch64 onnxruntime wheel (its libonnxruntime.so), with no Python in the process. It speaks
// protocol.h: `ort_runner IMAGES.f32 BATCH COUNT_BATCHES REPEATS [MODEL.onnx LOGITS.f32 ...]`.
//
// The session is set up as export/onnx.py session_options() does on x86 (all graph
// optimizations, sequential, one intra-op and one inter-op thread), and a call is
// RunWithBinding on an input and an output bound once per chunk: the C call behind the x86
// runner's run_with_iobinding. Nothing else runs in this process: other work's allocator state
// would move the counts (up to 0.5% measured, docs/performance.md).
//
// The wheel ships the library but not its header: onnxruntime_c_api.h comes from a pinned copy
// (native/arm64/setup.sh). The C API is versioned: a library serves every older ORT_API_VERSION.
#include <memory>

#include <onnxruntime_c_api.h>

#include "protocol.h"

namespace {
const OrtApi* ort = nullptr;

// "" when `status` is OK, else its message (and the status is released).
std::string check(OrtStatus* status) {
  if (status == nullptr) return "";
  std::string message = ort->GetErrorMessage(status);
  ort->ReleaseStatus(status);
  return message.substr(0, message.find('\n'));
}

// One session. A chunk's input and output values and their binding are made once and kept while
// the same images are run again, so a counted call is RunWithBinding alone.
struct Onnx {
  OrtSession* session = nullptr;
  OrtMemoryInfo* cpu = nullptr;
  float* images;
  std::string input_name, output_name;
  int classes = 0;
  std::pair<int, int> bound{-1, 0};  // (first, size) of the binding
  OrtValue* input = nullptr;
  OrtValue* output = nullptr;
  OrtIoBinding* binding = nullptr;
  std::vector<float> logits;

  explicit Onnx(float* images) : images(images) {}
  ~Onnx() { unbind(); if (cpu) ort->ReleaseMemoryInfo(cpu); if (session) ort->ReleaseSession(session); }

  void unbind() {
    if (binding) ort->ReleaseIoBinding(binding);
    if (input) ort->ReleaseValue(input);
    if (output) ort->ReleaseValue(output);
    binding = nullptr, input = nullptr, output = nullptr;
  }

  std::string bind(int first, int size) {
    unbind();
    logits.assign(static_cast<size_t>(size) * classes, 0.0f);
    const int64_t in_shape[] = {size, 1, 28, 28}, out_shape[] = {size, classes};
    std::string error = check(ort->CreateTensorWithDataAsOrtValue(
        cpu, images + first * protocol::kPixels, sizeof(float) * size * protocol::kPixels, in_shape, 4,
        ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &input));
    if (error.empty()) error = check(ort->CreateTensorWithDataAsOrtValue(
        cpu, logits.data(), sizeof(float) * logits.size(), out_shape, 2, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &output));
    if (error.empty()) error = check(ort->CreateIoBinding(session, &binding));
    if (error.empty()) error = check(ort->BindInput(binding, input_name.c_str(), input));
    if (error.empty()) error = check(ort->BindOutput(binding, output_name.c_str(), output));
    bound = error.empty() ? std::make_pair(first, size) : std::make_pair(-1, 0);
    return error;
  }

  std::string call(int first, int size) {
    if (bound != std::make_pair(first, size)) {
      const std::string error = bind(first, size);
      if (!error.empty()) return error;
    }
    return check(ort->RunWithBinding(session, nullptr, binding));
  }
};

OrtEnv* env = nullptr;
OrtSessionOptions* options = nullptr;

std::string session_options() {
  std::string error = check(ort->CreateEnv(ORT_LOGGING_LEVEL_ERROR, "ort_runner", &env));
  if (error.empty()) error = check(ort->CreateSessionOptions(&options));
  if (error.empty()) error = check(ort->SetSessionGraphOptimizationLevel(options, ORT_ENABLE_ALL));
  if (error.empty()) error = check(ort->SetSessionExecutionMode(options, ORT_SEQUENTIAL));
  if (error.empty()) error = check(ort->SetIntraOpNumThreads(options, 1));
  if (error.empty()) error = check(ort->SetInterOpNumThreads(options, 1));
  return error;
}

// The name of input or output 0, and for the output its last dimension (the classes).
std::string io(OrtSession* session, std::string* input_name, std::string* output_name, int* classes) {
  OrtAllocator* allocator = nullptr;
  char* name = nullptr;
  std::string error = check(ort->GetAllocatorWithDefaultOptions(&allocator));
  if (error.empty() && (error = check(ort->SessionGetInputName(session, 0, allocator, &name))).empty()) {
    *input_name = name;
    error = check(ort->AllocatorFree(allocator, name));
  }
  if (error.empty() && (error = check(ort->SessionGetOutputName(session, 0, allocator, &name))).empty()) {
    *output_name = name;
    error = check(ort->AllocatorFree(allocator, name));
  }
  OrtTypeInfo* type = nullptr;
  const OrtTensorTypeAndShapeInfo* tensor = nullptr;
  size_t rank = 0;
  if (error.empty()) error = check(ort->SessionGetOutputTypeInfo(session, 0, &type));
  if (error.empty()) error = check(ort->CastTypeInfoToTensorInfo(type, &tensor));
  if (error.empty()) error = check(ort->GetDimensionsCount(tensor, &rank));
  std::vector<int64_t> dims(rank);
  if (error.empty()) error = check(ort->GetDimensions(tensor, dims.data(), rank));
  if (type) ort->ReleaseTypeInfo(type);
  if (error.empty() && (rank != 2 || dims[1] < 1)) error = "the output is not [N, classes]";
  if (error.empty()) *classes = static_cast<int>(dims[1]);
  return error;
}

std::string load(const std::string& path, std::vector<float>& images, protocol::Model* model) {
  auto onnx = std::make_shared<Onnx>(images.data());
  std::string error = check(ort->CreateSession(env, path.c_str(), options, &onnx->session));
  if (error.empty()) error = check(ort->CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &onnx->cpu));
  if (error.empty()) error = io(onnx->session, &onnx->input_name, &onnx->output_name, &onnx->classes);
  if (!error.empty()) return error;
  model->call = [onnx](int first, int size) { return onnx->call(first, size); };
  model->logits = [onnx] { return onnx->logits.data(); };
  model->classes = [onnx] { return onnx->classes; };
  return "";
}
}  // namespace

int main(int argc, char** argv) {
  ort = OrtGetApiBase()->GetApi(ORT_API_VERSION);
  if (ort == nullptr) protocol::fail("ort_runner", "this libonnxruntime does not serve the C API version built against");
  const std::string error = session_options();
  if (!error.empty()) protocol::fail("ort_runner", error);
  return protocol::serve("ort_runner", argc, argv, load, 1);
}
