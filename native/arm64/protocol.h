// The protocol both aarch64 runners speak (pte_runner.cpp, ort_runner.cpp); runtime/targets/arm64_runs.py
// is the other side.
//
//   RUNNER IMAGES.f32 BATCH COUNT_BATCHES REPEATS [MODEL LOGITS.f32 ...]
//
// IMAGES.f32 holds N images as raw float32 [N, 1, 28, 28]. For each model in turn (from the
// arguments, or with none there one "MODEL<tab>LOGITS" line at a time from stdin until it closes,
// so one process serves a queue): all N images go through the model in chunks of BATCH and their
// logits are written to LOGITS.f32 (raw float32 [N, classes]); then, for each batch size b in
// COUNT_BATCHES (comma-separated, may be empty): 3 untimed calls, kWarm + REPEATS empty marker
// pairs (the markers' own cost), then as many calls on the first b images, each between a
// MARKER_START and a MARKER_STOP (markers.h) for the counting plugin. One JSON line per model on
// stdout says how it went and how many intervals it marked, so the caller can split the plugin's
// counts; a model that fails does not stop the rest.
#pragma once

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "markers.h"

namespace protocol {

constexpr int kPixels = 28 * 28;
// Marked pairs before the counted ones, their counts dropped by the caller: the first calls
// after the untimed ones may still touch memory for the first time.
constexpr int kWarm = 10;

[[noreturn]] inline void fail(const char* runner, const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", runner, message.c_str());
  std::exit(2);
}

inline void marker(unsigned command, mode_t mask) { umask(MARKER_ARG(command, mask)); }

// The runner's per-model work. `call(first, size)` runs images [first, first + size) and returns
// "" or what went wrong; `logits()` is the last call's output, [size, classes()] floats.
struct Model {
  std::function<std::string(int first, int size)> call;
  std::function<const float*()> logits;
  std::function<int()> classes;
};

// Loads the model at `path` over `images` into *model; returns "" or what went wrong.
using Loader = std::function<std::string(const std::string& path, std::vector<float>& images, Model* model)>;

inline std::vector<float> read_images(const char* runner, const char* path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) fail(runner, std::string("cannot read ") + path);
  const std::streamsize bytes = in.tellg();
  if (bytes <= 0 || bytes % (kPixels * sizeof(float)) != 0)
    fail(runner, std::string(path) + " is not raw float32 [N, 1, 28, 28]");
  std::vector<float> images(bytes / sizeof(float));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(images.data()), bytes);
  return images;
}

// One model: the logits of every image, then the marked calls. Returns "" or what went wrong;
// `intervals` counts the marker pairs made, whatever the outcome.
inline std::string run_model(Model& model, const char* logits_path, int n, int batch,
                             const std::vector<int>& count_batches, int repeats, int* intervals) {
  std::ofstream out(logits_path, std::ios::binary);
  for (int first = 0; first < n; first += batch) {
    const int size = std::min(batch, n - first);
    const std::string error = model.call(first, size);
    if (!error.empty()) return error;
    out.write(reinterpret_cast<const char*>(model.logits()), sizeof(float) * size * model.classes());
  }
  out.close();
  if (!out) return std::string("cannot write ") + logits_path;

  const mode_t mask = umask(022);
  umask(mask);
  for (int b : count_batches) {
    for (int i = 0; i < 3; i++)
      if (!model.call(0, b).empty()) return "call failed at batch " + std::to_string(b);
    for (int i = 0; i < kWarm + repeats; i++, ++*intervals) {
      marker(MARKER_START, mask);
      marker(MARKER_STOP, mask);
    }
    for (int i = 0; i < kWarm + repeats; i++, ++*intervals) {
      marker(MARKER_START, mask);
      const std::string error = model.call(0, b);
      marker(MARKER_STOP, mask);
      if (!error.empty()) return "call failed while counting at batch " + std::to_string(b) + ": " + error;
    }
  }
  return "";
}

// `text` as a JSON string: a model's path may hold quotes or backslashes, and ONNX Runtime's
// error messages quote the path.
inline std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + '"';
}

// The (model, logits) pairs: the arguments after the first four, or else stdin's lines.
inline bool next_pair(const char* runner, int argc, char** argv, int* next_arg, std::string* model,
                      std::string* logits) {
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
  if (tab == std::string::npos) fail(runner, "a stdin line is not MODEL<tab>LOGITS: " + line);
  *model = line.substr(0, tab);
  *logits = line.substr(tab + 1);
  return true;
}

// The whole process: arguments, images, then every model through `load` and run_model.
// `threads` is the runtime's thread count, written into each model's line.
inline int serve(const char* runner, int argc, char** argv, const Loader& load, int threads) {
  if (argc < 5 || argc % 2 == 0)
    fail(runner, std::string("usage: ") + runner + " IMAGES.f32 BATCH COUNT_BATCHES REPEATS [MODEL LOGITS.f32 ...]");
  const int batch = std::atoi(argv[2]);
  const int repeats = std::atoi(argv[4]);
  if (batch < 1 || repeats < 1) fail(runner, "BATCH and REPEATS must be positive integers");
  std::vector<int> count_batches;
  std::stringstream items(argv[3]);
  for (std::string item; std::getline(items, item, ',');)
    if (!item.empty()) count_batches.push_back(std::atoi(item.c_str()));
  std::vector<float> images = read_images(runner, argv[1]);
  const int n = static_cast<int>(images.size() / kPixels);
  for (int b : count_batches)
    if (b < 1 || b > n) fail(runner, "a count batch is larger than IMAGES.f32");

  int next_arg = 5;
  for (std::string path, logits; next_pair(runner, argc, argv, &next_arg, &path, &logits);) {
    int intervals = 0;
    Model model;
    std::string error = load(path, images, &model);
    if (error.empty()) error = run_model(model, logits.c_str(), n, batch, count_batches, repeats, &intervals);
    std::printf("{\"model\": %s, \"error\": %s, \"intervals\": %d, \"threads\": %d}\n", json_string(path).c_str(),
                error.empty() ? "null" : json_string(error).c_str(), intervals, threads);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace protocol
