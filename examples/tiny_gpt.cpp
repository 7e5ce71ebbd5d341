// tiny_gpt: a small GPT-style transformer trained on any text file, character by character.
// Prints a progress line (step, loss, tokens/s, ETA), samples before and after training, and writes
// tiny_gpt_loss.svg. Options: --data FILE (default: the word list /usr/share/dict/words, or a
// built-in text), --steps N (default 600), --out DIR.
#include "common/cli.hpp"
#include "common/report.hpp"
#include "common/svg.hpp"
#include "common/throughput.hpp"
#include "lecture/lessons.hpp"

#include <neuronka/neuronka.hpp>
#include <neuronka/train/fit.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

using namespace neuronka;
using namespace examples;  // examples/common (cli, plot, ...) and examples/lecture (words, ...)

namespace {
using namespace lessons::gpt;  // the vocabulary, model, settings and sampling the playground shares

// The text of --data FILE as it is; by default the word list, one word per line.
std::string read_text(const std::string& path, std::string& source) {
    if (path.empty()) return word_list_text(source);
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
        std::string data, losses_file;
        args.option("--steps", steps, "training steps", 1, 100000000);
        args.option("--data,--text", data, "the text file to train on (default: the word list, else a built-in text)");
        args.option("--losses", losses_file, "also write the loss of every step to this file, one per line");
        args.parse(argc, argv);
        std::string source;
        const std::string text = read_text(data, source);
        long skipped = 0;
        const std::vector<int> tokens = encode(text, skipped);
        constexpr int C = context, B = batch;
        const std::size_t split_at = split(tokens.size(), source);  // the last 10 % held out
        std::printf("data: %s, %zu characters (%ld bytes outside printable ASCII skipped)\n", source.c_str(),
                    tokens.size(), skipped);

        using GPT = Model;
        auto model = std::make_unique<GPT>(model_seed);
        std::printf("model: %s, %zu parameters\n", GPT::name().c_str(), GPT::parameter_count);
        report::Step page(args.out(), "tiny_gpt");
        page.value("data", report::format("%s, %zu characters", source.c_str(), tokens.size()))
            .value("model", report::format("%zu parameters", GPT::parameter_count));
        Rng sample_rng(sample_seed);
        auto sample = [&](const char* when) {
            const std::string s = lessons::gpt::sample(*model, sample_rng);
            std::printf("sample %s training: %s\n", when, s.c_str());
            page.text(std::string("sample ") + when + " training", s);
        };
        sample("before");

        SoftmaxCrossEntropy<float, vocab> ce;
        AdamW<float> opt(optimizer_options());
        // Training: fit() on random windows of the first 90 % of the text, in one epoch of `steps`
        // batches; the held-out loss: the first 200 windows of the last 10 %, after training.
        const std::span<const int> stream(tokens);
        const TokenWindows training_windows(stream.first(split_at), C);
        const TokenWindows held_out(
            stream.subspan(split_at, std::min(stream.size() - split_at, std::size_t(200 * C + 1))), C);
        std::vector<double> xs, losses;  // the loss chart: (step, batch loss)
        throughput::Meter meter("tiny_gpt", GPT::parameter_count, step_cost<GPT>(B, C, Optimizer::adamw).flops(), B * C,
                                "tokens");
        const History history = fit(*model, ce, opt, training_windows, held_out,
                                    {.epochs = 1,
                                     .batch_size = B,
                                     .seed = batch_seed,
                                     .clip_norm = clip_norm,
                                     .steps_per_epoch = std::size_t(steps)},
                                    ScheduleLearningRate{schedule(steps)}, throughput::Steps{meter, xs, losses, 100});
        meter.report();
        report::write_losses(losses_file, losses);
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
