// tiny_gpt: a small GPT-style transformer trained on any text file, character by character.
// Prints a progress line (step, loss, tokens/s, ETA), samples before and after training, and writes
// tiny_gpt_loss.svg. Options: --data FILE (default: the word list /usr/share/dict/words, or a
// built-in text), --steps N (default 600), --out DIR.
#include "common/cli.hpp"
#include "common/lm_training.hpp"
#include "common/report.hpp"
#include "common/svg.hpp"
#include "common/throughput.hpp"
#include "common/words.hpp"

#include <neuronka/neuronka.hpp>
#include <neuronka/token_windows.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

using namespace neuronka;
using namespace examples;  // examples/common: cli, plot, words, ...

namespace {
// Tokens: printable ASCII (32..126) are 0..94, newline is 95. Other bytes are counted and skipped.
constexpr int vocab = 96;
int encode_byte(unsigned char c) { return c == '\n' ? 95 : (c >= 32 && c < 127) ? c - 32 : -1; }
char decode(int t) { return t == 95 ? '\n' : char(t + 32); }

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
            if (t < 0) ++skipped;
            else tokens.push_back(t);
        }
        constexpr int C = 64, B = 16;
        if (tokens.size() < std::size_t(C + 2)) throw std::invalid_argument(source + ": text too short (need > 65 characters)");
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
        Rng rng(2);
        const TokenWindows training_windows(std::span<const int>(tokens).first(split), C);
        std::vector<int> ids(B * C), targets(B * C);
        std::vector<double> xs, losses;
        throughput::Meter meter("tiny_gpt", GPT::parameter_count, step_cost<GPT>(B, C, Optimizer::adamw).flops(), B * C, "tokens");
        for (int s = 0; s < steps; ++s) {
            training_windows.sample(B, rng, ids, targets);
            const float loss = lm::step(*model, ce, opt, schedule(s), ids, targets, C);
            meter.step();
            xs.push_back(s), losses.push_back(loss);
            if ((s + 1) % 100 == 0 || s + 1 == steps)
                std::printf("step %6d/%d  loss %.3f  %7.0f tokens/s  %5.1f GFLOP/s  ETA %5.1f s\n", s + 1, steps, loss,
                            meter.samples_per_second(), meter.gflops_per_second(),
                            meter.seconds() / (s + 1) * (steps - s - 1));
        }
        meter.report();
        meter.record(args.path("runs.tsv"));
        page.value("training speed", report::format("%.0f tokens/s, %.1f GFLOP/s", meter.samples_per_second(),
                                                    meter.gflops_per_second()));
        // Held-out loss on the last 10 % of the text, in windows of the full context.
        const TokenWindows held_out(std::span<const int>(tokens).subspan(split), C);
        double held = 0;
        int windows = 0;
        for (; windows < 200 && std::size_t(windows) < held_out.count(); ++windows) {
            const auto [ids, targets] = held_out.window(std::size_t(windows));
            held += ce.forward(model->forward(ids, int(ids.size())), targets);
        }
        if (windows) {
            std::printf("held-out loss: %.3f nats per character over %d windows\n", held / windows, windows);
            page.value("held-out loss (nats per character)", report::format("%.3f", held / windows));
        }
        sample("after");
        plot::Chart("tiny_gpt training loss", "step", "cross-entropy (nats per character)")
            .line(xs, losses, plot::palette(0), "training batch loss")
            .write(args.path("tiny_gpt_loss.svg"));
        std::printf("wrote %s\n", args.path("tiny_gpt_loss.svg").c_str());
        page.figure("tiny_gpt_loss.svg", "The training loss, step by step").write();
    });
}
