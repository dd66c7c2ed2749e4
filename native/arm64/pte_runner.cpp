// The aarch64 ExecuTorch runner: a .pte file through ExecuTorch's Module API, the path an app
// takes (load once, forward() per call), with no Python or torch in the process.
//
//   pte_runner IMAGES.f32 BATCH COUNT_BATCHES REPEATS [MODEL.pte LOGITS.f32 ...]
//
// IMAGES.f32 holds N images as raw float32 [N, 1, 28, 28]. For each model in turn (from the
// arguments, or with none there one "MODEL<tab>LOGITS" line at a time from stdin until it closes,
// so one process serves a queue): all N images
// go through forward() in chunks of BATCH and their logits are written to LOGITS.f32 (raw float32
// [N, classes]); then, for each batch size b in COUNT_BATCHES (comma-separated, may be empty):
// 3 untimed calls, kWarm + REPEATS empty marker pairs (the markers' own cost), then as many forward() calls
// on the first b images, each between a MARKER_START and a MARKER_STOP (markers.h) for the
// counting plugin. One JSON line per model on stdout says how it went and how many intervals it
// marked, so the caller can split the plugin's counts; a model that fails does not stop the rest.
//
// ExecuTorch's threadpool is set to one thread before loading: a pool's idle spinning would
// make instruction counts vary from run to run.
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <executorch/extension/module/module.h>
#include <executorch/extension/tensor/tensor.h>

#include "markers.h"

// libexecutorch_threadpool.so exports this, but the wheel ships no threadpool.h: the two members
// used here are declared with the signatures the library exports.
namespace executorch::extension::threadpool {
class ThreadPool {
 public:
  size_t get_thread_count() const;
  bool _unsafe_reset_threadpool(uint32_t num_threads);
};
ThreadPool* get_threadpool();
}  // namespace executorch::extension::threadpool

namespace {
using executorch::extension::Module;
using executorch::extension::from_blob;
using executorch::runtime::Error;

constexpr int kPixels = 28 * 28;
// Marked pairs before the counted ones, their counts dropped by the caller: the first calls
// after the untimed ones may still touch memory for the first time (ort_runner.py: WARM).
constexpr int kWarm = 10;

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "pte_runner: %s\n", message.c_str());
  std::exit(2);
}

std::vector<float> read_images(const char* path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) fail(std::string("cannot read ") + path);
  const std::streamsize bytes = in.tellg();
  if (bytes <= 0 || bytes % (kPixels * sizeof(float)) != 0)
    fail(std::string(path) + " is not raw float32 [N, 1, 28, 28]");
  std::vector<float> images(bytes / sizeof(float));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(images.data()), bytes);
  return images;
}

void marker(unsigned command, mode_t mask) { umask(MARKER_ARG(command, mask)); }

// One model: the logits of every image, then the marked calls. Returns "" or what went wrong;
// `intervals` counts the marker pairs made, whatever the outcome.
std::string run_model(const char* model_path, const char* logits_path, std::vector<float>& images, int batch,
                      const std::vector<int>& count_batches, int repeats, int* intervals) {
  Module module(model_path, Module::LoadMode::File);
  if (module.load_forward() != Error::Ok) return "cannot load method forward";
  const int n = static_cast<int>(images.size() / kPixels);
  std::ofstream out(logits_path, std::ios::binary);
  for (int first = 0; first < n; first += batch) {
    const int size = std::min(batch, n - first);
    auto result = module.forward(from_blob(images.data() + first * kPixels, {size, 1, 28, 28}));
    if (!result.ok()) return "forward failed, error " + std::to_string(static_cast<int>(result.error()));
    const auto& logits = result->at(0).toTensor();
    out.write(reinterpret_cast<const char*>(logits.const_data_ptr<float>()), sizeof(float) * logits.numel());
  }
  out.close();
  if (!out) return std::string("cannot write ") + logits_path;

  const mode_t mask = umask(022);
  umask(mask);
  for (int b : count_batches) {
    auto input = from_blob(images.data(), {b, 1, 28, 28});
    for (int i = 0; i < 3; i++)
      if (!module.forward(input).ok()) return "forward failed at batch " + std::to_string(b);
    for (int i = 0; i < kWarm + repeats; i++, ++*intervals) {
      marker(MARKER_START, mask);
      marker(MARKER_STOP, mask);
    }
    for (int i = 0; i < kWarm + repeats; i++, ++*intervals) {
      marker(MARKER_START, mask);
      auto result = module.forward(input);
      marker(MARKER_STOP, mask);
      if (!result.ok()) return "forward failed while counting at batch " + std::to_string(b);
    }
  }
  return "";
}
}  // namespace

// The (model, logits) pairs: the arguments after the first four, or else stdin's lines.
bool next_pair(int argc, char** argv, int* next_arg, std::string* model, std::string* logits) {
  if (argc > 5) {
    if (*next_arg >= argc) return false;
    *model = argv[*next_arg];
    *logits = argv[*next_arg + 1];
    *next_arg += 2;
    return true;
  }
  std::string line;
  if (!std::getline(std::cin, line)) return false;
  const size_t tab = line.find('\t');
  if (tab == std::string::npos) fail("a stdin line is not MODEL<tab>LOGITS: " + line);
  *model = line.substr(0, tab);
  *logits = line.substr(tab + 1);
  return true;
}

int main(int argc, char** argv) {
  if (argc < 5 || argc % 2 == 0)
    fail("usage: pte_runner IMAGES.f32 BATCH COUNT_BATCHES REPEATS [MODEL.pte LOGITS.f32 ...]");
  const int batch = std::atoi(argv[2]);
  const int repeats = std::atoi(argv[4]);
  if (batch < 1 || repeats < 1) fail("BATCH and REPEATS must be positive integers");
  std::vector<int> count_batches;
  std::stringstream items(argv[3]);
  for (std::string item; std::getline(items, item, ',');)
    if (!item.empty()) count_batches.push_back(std::atoi(item.c_str()));
  std::vector<float> images = read_images(argv[1]);
  for (int b : count_batches)
    if (b < 1 || b * kPixels > static_cast<int>(images.size())) fail("a count batch is larger than IMAGES.f32");

  auto* pool = executorch::extension::threadpool::get_threadpool();
  if (pool == nullptr || !pool->_unsafe_reset_threadpool(1)) fail("cannot set ExecuTorch's threadpool to 1 thread");
  int next_arg = 5;
  for (std::string model, logits; next_pair(argc, argv, &next_arg, &model, &logits);) {
    int intervals = 0;
    const std::string error = run_model(model.c_str(), logits.c_str(), images, batch, count_batches, repeats, &intervals);
    // Paths come from the manifest's folder and the caller's temp folder: no quotes or backslashes to escape.
    std::printf("{\"model\": \"%s\", \"error\": %s%s%s, \"intervals\": %d, \"threads\": %zu}\n", model.c_str(),
                error.empty() ? "null" : "\"", error.c_str(), error.empty() ? "" : "\"", intervals,
                pool->get_thread_count());
    std::fflush(stdout);
  }
  return 0;
}
