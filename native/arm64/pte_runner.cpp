// The aarch64 ExecuTorch runner: a .pte file through ExecuTorch's Module API, the path an app
// takes (load once, forward() per call), with no Python or torch in the process. It speaks
// protocol.h: `pte_runner IMAGES.f32 BATCH COUNT_BATCHES REPEATS [MODEL.pte LOGITS.f32 ...]`.
//
// ExecuTorch's threadpool is set to one thread before loading: a pool's idle spinning would
// make instruction counts vary from run to run.
#include <memory>

#include <executorch/extension/module/module.h>
#include <executorch/extension/tensor/tensor.h>

#include "protocol.h"

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
using executorch::extension::TensorPtr;
using executorch::extension::from_blob;
using executorch::runtime::Error;
using executorch::runtime::EValue;

// One loaded program. The input tensor of a chunk is made once and reused while the same images
// are run again, so a counted call is forward() alone.
struct Pte {
  Module module;
  float* images;
  std::pair<int, int> bound{-1, 0};  // (first, size) of `input`
  TensorPtr input;
  std::vector<EValue> outputs;

  Pte(const std::string& path, float* images) : module(path, Module::LoadMode::File), images(images) {}

  std::string call(int first, int size) {
    if (bound != std::make_pair(first, size)) {
      input = from_blob(images + first * protocol::kPixels, {size, 1, 28, 28});
      bound = {first, size};
    }
    auto result = module.forward(input);
    if (!result.ok()) return "forward failed, error " + std::to_string(static_cast<int>(result.error()));
    outputs = std::move(*result);
    return "";
  }
};

std::string load(const std::string& path, std::vector<float>& images, protocol::Model* model) {
  auto pte = std::make_shared<Pte>(path, images.data());
  if (pte->module.load_forward() != Error::Ok) return "cannot load method forward";
  model->call = [pte](int first, int size) { return pte->call(first, size); };
  model->logits = [pte] { return pte->outputs.at(0).toTensor().const_data_ptr<float>(); };
  model->classes = [pte] { return static_cast<int>(pte->outputs.at(0).toTensor().size(1)); };
  return "";
}
}  // namespace

int main(int argc, char** argv) {
  auto* pool = executorch::extension::threadpool::get_threadpool();
  if (pool == nullptr || !pool->_unsafe_reset_threadpool(1))
    protocol::fail("pte_runner", "cannot set ExecuTorch's threadpool to 1 thread");
  return protocol::serve("pte_runner", argc, argv, load, static_cast<int>(pool->get_thread_count()));
}
