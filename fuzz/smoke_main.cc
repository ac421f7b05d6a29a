// A small driver for the fuzz entry points that needs no fuzzing compiler:
// runs every file of the given corpus directories, then a seeded series of
// random mutations of them (bit flips, byte changes, insertions, deletions,
// truncation, splices). Deterministic for a seed, so a failure reproduces;
// libFuzzer (scripts/fuzz) explores far more, this keeps every build honest.
//
//   <target>_smoke [--iterations N] [--seed S] CORPUS_DIR...
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "base/files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

void Run(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

std::string Mutate(std::string s, const std::vector<std::string>& corpus, std::mt19937_64& rng) {
  int rounds = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < rounds; ++i) {
    size_t pos = s.empty() ? 0 : rng() % s.size();
    switch (rng() % 7) {
      case 0:
        if (!s.empty()) s[pos] = static_cast<char>(s[pos] ^ (1 << (rng() % 8)));
        break;
      case 1:
        if (!s.empty()) s[pos] = static_cast<char>(rng());
        break;
      case 2: {
        static const char* kTokens[] = {"\"", "{",  "}",    "[",  "]",     ",",    ":",       "=",
                                        "\n", "\\", "null", "-1", "1e309", "\xff", "\\u0000", "0"};
        s.insert(pos, kTokens[rng() % std::size(kTokens)]);
        break;
      }
      case 3:
        if (!s.empty()) s.erase(pos, 1 + rng() % 8);
        break;
      case 4:
        s.resize(pos);
        break;
      case 5: {
        const std::string& other = corpus[rng() % corpus.size()];
        if (!other.empty()) s.insert(pos, other.substr(rng() % other.size(), 1 + rng() % 32));
        break;
      }
      default:
        if (!s.empty()) s.insert(pos, 1 + rng() % 4, s[pos]);
        break;
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  long iterations = 20000;
  uint64_t seed = 1;
  std::vector<std::string> corpus;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--iterations" && i + 1 < argc) {
      iterations = std::atol(argv[++i]);
    } else if (arg == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else {
      for (const auto& entry : std::filesystem::directory_iterator(arg)) {
        if (!entry.is_regular_file()) continue;
        auto text = kc::util::ReadFile(entry.path().string());
        if (!text) {
          std::fprintf(stderr, "%s\n", text.error().message().c_str());
          return 2;
        }
        corpus.push_back(std::move(*text));
      }
    }
  }
  if (corpus.empty()) {
    std::fprintf(stderr, "no corpus files given\n");
    return 2;
  }
  for (const auto& input : corpus) Run(input);
  std::mt19937_64 rng(seed);
  for (long i = 0; i < iterations; ++i) {
    Run(Mutate(corpus[rng() % corpus.size()], corpus, rng));
  }
  std::printf("%zu corpus inputs and %ld mutations (seed %llu): no failure\n", corpus.size(),
              iterations, static_cast<unsigned long long>(seed));
  return 0;
}
