// tiny_gpt: a small GPT-style transformer trained on any text file, character by character.
// Prints a progress line (step, loss, tokens/s, ETA), samples before and after training, and writes
// tiny_gpt_loss.svg. Options: --data FILE (default: the word list /usr/share/dict/words, or a
// built-in text), --steps N (default 600), --out DIR.
#include "common/cli.hpp"
#include "common/report.hpp"
#include "common/svg.hpp"
#include "common/throughput.hpp"
#include "lecture/words.hpp"

#include <neuronka/neuronka.hpp>
#include <neuronka/train/fit.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

using namespace neuronka;
using namespace examples;  // examples/common (cli, plot, ...) and examples/lecture (words, ...)

namespace {
// Tokens: printable ASCII (32..126) are 0..94, newline is 95. Other bytes are counted and skipped.
constexpr int vocab = 96;
int encode_byte(unsigned char c) {
    return c == '\n' ? 95 : (c >= 32 && c < 127) ? c - 32 : -1;
}
char decode(int t) {
    return t == 95 ? '\n' : char(t + 32);
}

// The text of --data FILE as it is; by default the word list (in the shuffled order of
// words::load, since the dictionary itself is sorted), one word per line.
std::string read_text(const std::string& path, std::string& source) {
    if (path.empty()) {
        const words::Corpus c = words::load("");
        source = c.source + " (shuffled, one word per line)";
        std::string t;
        for (const auto* part : {&c.train, &c.valid, &c.test})
            for (const auto& w : *part) t += w + '\n';
        return t;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::invalid_argument("cannot read --data " + path);
    source = path;
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
}  // namespace

int main(int argc, char** argv) {
    return cli::run([&] {
        cli::Options args("tiny_gpt", "tiny_gpt: a small GPT trained on any text, character by character");
        int steps = 600;
        std::string data;
        args.option("--steps", steps, "training steps", 1, 100000000);
        args.option("--data,--text", data, "the text file to train on (default: the word list, else a built-in text)");
        args.parse(argc, argv);
        std::string source;
        const std::string text = read_text(data, source);
        std::vector<int> tokens;
        long skipped = 0;
        for (unsigned char c : text) {
            const int t = encode_byte(c);
            if (t < 0)
                ++skipped;
            else
                tokens.push_back(t);
        }
        constexpr int C = 64, B = 16;
        if (tokens.size() < std::size_t(10 * (C + 1)))  // 90 % to train on, 10 % held out: a window of C + 1 in each
            throw std::invalid_argument(source + ": text too short: " + std::to_string(tokens.size()) +
                                        " characters, need at least " + std::to_string(10 * (C + 1)));
        const std::size_t split = tokens.size() * 9 / 10;  // last 10 % held out
        std::printf("data: %s, %zu characters (%ld bytes outside printable ASCII skipped)\n", source.c_str(),
                    tokens.size(), skipped);

        using GPT = Transformer<float, vocab, C, 64, 4, 2>;
        auto model = std::make_unique<GPT>(1);
        std::printf("model: %s, %zu parameters\n", GPT::name().c_str(), GPT::parameter_count);
        report::Step page(args.out(), "tiny_gpt");
        page.value("data", report::format("%s, %zu characters", source.c_str(), tokens.size()))
            .value("model", report::format("%zu parameters", GPT::parameter_count));
        Rng sample_rng(5);
        auto sample = [&](const char* when) {
            const std::vector<int> prompt{encode_byte('\n')};
            const std::vector<int> out = generate(*model, prompt, 120, {.temperature = 0.8, .top_k = 20}, sample_rng);
            std::string s;
            for (std::size_t i = 1; i < out.size(); ++i) s += decode(out[i]) == '\n' ? ' ' : decode(out[i]);
            std::printf("sample %s training: %s\n", when, s.c_str());
            page.text(std::string("sample ") + when + " training", s);
        };
        sample("before");

        SoftmaxCrossEntropy<float, vocab> ce;
        AdamW<float> opt({.learning_rate = 3e-3f, .weight_decay = 0.01f});
        const auto schedule = LearningRateSchedule::warmup_cosine(3e-3, std::min(100, steps / 10), steps, 3e-4);
        // Training: fit() on random windows of the first 90 % of the text, in one epoch of `steps`
        // batches; the held-out loss: the first 200 windows of the last 10 %, after training.
        const std::span<const int> stream(tokens);
        const TokenWindows training_windows(stream.first(split), C);
        const TokenWindows held_out(stream.subspan(split, std::min(stream.size() - split, std::size_t(200 * C + 1))),
                                    C);
        std::vector<double> xs, losses;  // the loss chart: (step, batch loss)
        throughput::Meter meter("tiny_gpt", GPT::parameter_count, step_cost<GPT>(B, C, Optimizer::adamw).flops(), B * C,
                                "tokens");
        const History history =
            fit(*model, ce, opt, training_windows, held_out,
                {.epochs = 1, .batch_size = B, .seed = 2, .clip_norm = 1, .steps_per_epoch = std::size_t(steps)},
                ScheduleLearningRate{schedule}, throughput::Steps{meter, xs, losses, 100});
        meter.report();
        meter.record(args.path("runs.tsv"));
        page.value("training speed", report::format("%.0f tokens/s, %.1f GFLOP/s", meter.samples_per_second(),
                                                    meter.gflops_per_second()));
        const double held = history.epochs.back().valid_loss;
        std::printf("held-out loss: %.3f nats per character over %zu windows\n", held, held_out.count());
        page.value("held-out loss (nats per character)", report::format("%.3f", held));
        sample("after");
        plot::Chart("tiny_gpt training loss", "step", "cross-entropy (nats per character)")
            .line(xs, losses, plot::palette(0), "training batch loss")
            .write(args.path("tiny_gpt_loss.svg"));
        std::printf("wrote %s\n", args.path("tiny_gpt_loss.svg").c_str());
        page.figure("tiny_gpt_loss.svg", "The training loss, step by step").write();
    });
}
