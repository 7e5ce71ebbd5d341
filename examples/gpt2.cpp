// gpt2: runs GPT-2 from a Hugging Face directory on a prompt and prints the continuation.
//
//   gpt2 --model DIR --prompt TEXT --max-new-tokens N [--greedy | --temperature T --top-k K --top-p P
//        --seed S] [--ids]
//
// DIR holds config.json, model.safetensors, vocab.json and merges.txt, as Hugging Face distributes
// GPT-2 (README.md says where to get them); nothing is downloaded. The model is a neuronka Gpt2 (a
// Transformer whose head is its token embedding) of the sizes config.json gives (GPT-2 small,
// medium, large and XL, and the test fixture's small model, are compiled in), loaded through
// huggingface_gpt2_mapping, and generates through its KV cache. --ids also prints the prompt's and the continuation's
// token ids, one line each. The speed goes to standard error.
#include "common/cli.hpp"

#include <neuronka/models/generate.hpp>
#include <neuronka/models/gpt2.hpp>
#include <neuronka/text/bpe.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <tuple>

using namespace neuronka;

namespace {
struct Request {
    std::string dir, prompt;
    int max_new_tokens = 40;
    SamplingOptions sampling;
    std::uint64_t seed = 0;
    bool ids = false;
};

void print_ids(const char* what, std::span<const int> ids) {
    std::printf("%s", what);
    for (const int id : ids) std::printf(" %d", id);
    std::printf("\n");
}

template <class Model>
void run_model(const Request& r, const BpeTokenizer& tokenizer) {
    if (tokenizer.vocab_size() > Model::vocab_size)
        throw std::invalid_argument(r.dir + "/vocab.json has " + std::to_string(tokenizer.vocab_size()) +
                                    " tokens, more than the model's " + std::to_string(Model::vocab_size));
    auto model = std::make_unique<Model>(0);
    load_safetensors(*model, r.dir + "/model.safetensors", huggingface_gpt2_mapping<Model>());
    const std::vector<int> prompt = tokenizer.encode(r.prompt);
    if (prompt.empty()) throw std::invalid_argument("--prompt: the prompt is empty; give at least one character");
    Rng rng(r.seed);
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<int> ids = generate(*model, prompt, r.max_new_tokens, r.sampling, rng);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::span<const int> continuation = std::span<const int>(ids).subspan(prompt.size());
    std::printf("%s%s\n", r.prompt.c_str(), tokenizer.decode(continuation).c_str());
    if (r.ids) {
        print_ids("prompt ids:", prompt);
        print_ids("continuation ids:", continuation);
    }
    std::fprintf(stderr, "%s: %zu prompt tokens, %d new in %.2f s (%.1f tokens/s, the prompt included)\n",
                 Model::name().c_str(), prompt.size(), r.max_new_tokens, seconds, r.max_new_tokens / seconds);
}

// The sizes this program is compiled for: GPT-2 small, medium, large, XL, and the test fixture's.
using Models = std::tuple<Gpt2<float, 50257, 1024, 768, 12, 12>, Gpt2<float, 50257, 1024, 1024, 16, 24>,
                          Gpt2<float, 50257, 1024, 1280, 20, 36>, Gpt2<float, 50257, 1024, 1600, 25, 48>,
                          Gpt2<float, 400, 32, 16, 2, 2>>;

void run(const Request& r) {
    if (!std::filesystem::is_directory(r.dir))
        throw std::invalid_argument("--model " + r.dir +
                                    ": not a directory. Hint: give the directory holding config.json, "
                                    "model.safetensors, vocab.json and merges.txt");
    const Gpt2Config config = read_gpt2_config(r.dir + "/config.json");
    const BpeTokenizer tokenizer = BpeTokenizer::load(r.dir + "/vocab.json", r.dir + "/merges.txt");
    bool found = false;
    std::string compiled;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((found = found || (config.is<std::tuple_element_t<I, Models>>()
                                ? (run_model<std::tuple_element_t<I, Models>>(r, tokenizer), true)
                                : false)),
         ...);
        ((compiled += "\n  " + std::tuple_element_t<I, Models>::name()), ...);
    }
    (std::make_index_sequence<std::tuple_size_v<Models>>{});
    if (!found)
        throw std::invalid_argument(r.dir + "/config.json describes a GPT-2 of " + config.describe() +
                                    "; this program is compiled for" + compiled +
                                    "\nHint: add its sizes to the list in examples/gpt2.cpp");
}
}  // namespace

int main(int argc, char** argv) {
    return examples::cli::run([&] {
        examples::cli::Options args("gpt2", "gpt2: continues a prompt with GPT-2 from a Hugging Face directory");
        Request r;
        bool greedy = false;
        long seed = 0;
        args.option("--model", r.dir, "the directory: config.json, model.safetensors, vocab.json, merges.txt");
        args.option("--prompt", r.prompt, "the text to continue");
        args.option("--max-new-tokens", r.max_new_tokens, "tokens to generate", 0, 1000000);
        args.flag("--greedy", greedy, "always the most likely token (no sampling)");
        args.option("--temperature", r.sampling.temperature, "sampling temperature (0: greedy)", 0.0, 100.0);
        args.option("--top-k", r.sampling.top_k, "sample among the k most likely tokens (0: all)", 0, 1000000);
        args.option("--top-p", r.sampling.top_p, "sample among the most likely tokens holding p of the probability",
                    1e-9, 1.0);
        args.option("--seed", seed, "the sampling generator's seed", 0, std::numeric_limits<long>::max());
        args.flag("--ids", r.ids, "also print the prompt's and the continuation's token ids");
        args.parse(argc, argv);
        if (r.dir.empty()) throw std::invalid_argument("--model DIR is required (see --help)");
        if (!args.given("--prompt")) throw std::invalid_argument("--prompt TEXT is required (see --help)");
        if (greedy && (args.given("--temperature") || args.given("--top-k") || args.given("--top-p")))
            throw std::invalid_argument(
                "--greedy chooses the most likely token: it takes no --temperature, --top-k "
                "or --top-p");
        if (greedy) r.sampling = {.temperature = 0};
        if (r.sampling.top_k > 50257) throw std::invalid_argument("--top-k: at most the vocabulary's size");
        r.seed = std::uint64_t(seed);
        run(r);
    });
}
