// Resident memory of a model of GPT-2 small's size used for inference only (random weights): built,
// saved to and loaded from a safetensors file as a Hugging Face GPT-2 would be, then generating
// through its KV cache; then the same model's first training step, which allocates its gradients.
// Prints the process's resident set (VmRSS) at each point next to what the weights and the cache
// take. Usage: bench_gpt2_memory [DIR] (the 500 MB file is written there; default /tmp).
#include <neuronka/io/safetensors.hpp>
#include <neuronka/models/generate.hpp>
#include <neuronka/models/transformer.hpp>
#include <neuronka/train/loss.hpp>

#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

using namespace neuronka;

namespace {
double resident_mb() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) * 1024 / 1e6;  // kB
    return 0;
}
void print(const char* what, double mb, double reference) {
    std::printf("%-58s %9.1f MB  %6.3f x\n", what, mb, mb / reference);
}
}  // namespace

int main(int argc, char** argv) {
    using Small = Gpt2<float, 50257, 1024, 768, 12, 12>;
    const std::string path = (std::filesystem::path(argc > 1 ? argv[1] : "/tmp") /
                              ("neuronka_gpt2_small_" + std::to_string(::getpid()) + ".safetensors"))
                                 .string();
    const double weights = Small::parameter_count * sizeof(float) / 1e6;
    const double cache = 2.0 * Small::layers * Small::dim * Small::context * sizeof(float) / 1e6;
    std::printf("%s: %zu parameters, %.1f MB of float weights; a full KV cache %.1f MB\n\n", Small::name().c_str(),
                Small::parameter_count, weights, cache);
    std::printf("%-58s %12s  %8s\n", "", "resident", "/ weights");
    const double start = resident_mb();
    print("the program before any model", start, weights);
    {
        auto written = std::make_unique<Small>(1);
        save_safetensors(*written, path);
    }
    auto model = std::make_unique<Small>(2);
    print("a model built (random weights)", resident_mb(), weights);
    load_safetensors(*model, path);
    std::filesystem::remove(path);
    const double loaded = resident_mb();
    print("loaded from safetensors (neuronka's names)", loaded, weights);
    std::vector<int> prompt(64);
    for (std::size_t i = 0; i < prompt.size(); ++i) prompt[i] = int(i * 7919 % 50257);
    Rng rng(1);
    KvCache<Small> kv(*model);
    kv.append(prompt);
    for (int n = 0; n < 960; ++n) kv.append(int(n * 31 % 50257));  // fills the context: 1,024 positions
    const double generating = resident_mb();
    print("after 1,024 positions through the KV cache", generating, weights);
    print("  that, less the program before and the full KV cache", generating - start - cache, weights);
    SoftmaxCrossEntropy<float, 50257> ce;
    const std::vector<int> ids(prompt.begin(), prompt.begin() + 16), targets(prompt.begin() + 1, prompt.begin() + 17);
    ce.forward(model->forward(ids, 16), targets);
    model->backward(ids, ce.backward());
    print("after one training step's backward (the gradients exist)", resident_mb(), weights);
}
