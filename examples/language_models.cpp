// The lecture's chain on one data set: statistics → neural network → word embeddings → transformer.
// Seven character-level next-character models of English words, each printed with its held-out
// negative log-likelihood per character and words it invents:
//   1. counting bigram: P(next | previous) from counts, add-one smoothing
//   2. neural bigram: one layer trained by SGD, which converges to what counting gives
//   3. embeddings + MLP: a learned vector per character, three characters of context
//   4. GRU: a recurrent state carried along up to 16 previous characters
//   5. LSTM: a recurrent state and a cell carried along the same characters
//   6. transformer: attention over up to 16 previous characters (GPT-2's block: LayerNorm, GELU)
//   7. Llama-style: the same size with today's blocks (RMSNorm, rotary positions, SwiGLU)
// Options: --data FILE (any text; default /usr/share/dict/words), --scale S (training length,
// default 1), --out DIR. Writes language_models.svg (NLL per model).
#include "common/cli.hpp"
#include "common/report.hpp"
#include "common/svg.hpp"
#include "common/throughput.hpp"
#include "lecture/bigram.hpp"
#include "lecture/words.hpp"

#include <neuronka/neuronka.hpp>
#include <neuronka/train/fit.hpp>

#include <cstdio>
#include <functional>

using namespace neuronka;
using namespace examples;  // examples/common (cli, plot, ...) and examples/lecture (words, ...)
using Stream = std::vector<int>;
constexpr int V = words::vocab;

namespace {

struct Row {
    std::string model;
    std::size_t parameters;
    double valid, test;
    std::string samples;
};

// Mean −log p(next) over every position of a stream, given a function filling logits for a span.
template <class Logits>
double stream_nll(const Stream& s, int context, Logits&& logits_for) {
    double total = 0;
    long count = 0;
    const int chunk = 4096;
    for (std::size_t start = 0; start + 1 < s.size(); start += chunk) {
        const std::size_t end = std::min(s.size() - 1, start + chunk);
        const Batch<float, V>& z = logits_for(start, end, context);  // column i: prediction for s[start + i + 1]
        std::span<const int> targets(s.data() + start + 1, end - start);
        total += mean_nll(z, targets) * double(end - start);
        count += long(end - start);
    }
    return total / double(count);
}

// n words, each from the boundary token until the model emits it again (at most 20 letters).
std::string sample_words(int n, const std::function<int(const std::vector<int>&)>& next) {
    std::string out;
    for (int w = 0; w < n; ++w) {
        std::vector<int> ctx{0};
        std::string word;
        while (word.size() < 20) {
            const int t = next(ctx);
            if (t == 0) break;
            word += words::to_char(t);
            ctx.push_back(t);
        }
        out += (w ? " " : "") + word;
    }
    return out;
}

// Held-out NLL of a sequence model: every position of the stream, predicted with up to C characters
// of context (non-overlapping windows, so the first positions of each window see fewer).
template <class Model>
double window_nll(Model& model, const Stream& s, int C) {
    const TokenWindows windows(s, C);
    double total = 0;
    long count = 0;
    for (std::size_t k = 0; k < windows.count(); ++k) {
        const auto [ids, targets] = windows.window(k);
        const int len = int(ids.size());
        total += mean_nll(model.forward(ids, len), targets) * len;
        count += len;
    }
    return total / double(count);
}

// Eight words sampled from a sequence model that sees up to C characters.
template <class Model>
std::string window_samples(Model& model, int C, const SamplingOptions& sampling, Rng& rng) {
    std::string out;
    for (int w = 0; w < 8; ++w) {
        std::vector<int> ids{0};
        while (ids.size() < 21) {
            const int len = int(std::min<std::size_t>(ids.size(), std::size_t(C)));
            const auto& logits = model.forward(std::span<const int>(ids).last(std::size_t(len)), len);
            const int t = sample_token(logits.col(len - 1), sampling, rng);
            if (t == 0) break;
            ids.push_back(t);
        }
        if (w) out += ' ';
        for (std::size_t i = 1; i < ids.size(); ++i) out += words::to_char(ids[i]);
    }
    return out;
}

// Trains a sequence model with fit() on random windows of C characters with AdamW; prints progress
// and records its throughput under `label` in runs.tsv.
template <class Model>
void train_windows(Model& model, const Stream& train, int total, int C, std::uint64_t seed, const char* label,
                   const char* short_name, const std::string& runs, report::Step& page) {
    SoftmaxCrossEntropy<float, V> ce;
    AdamW<float> opt({.learning_rate = 3e-3f, .weight_decay = 0.01f});
    const auto schedule = LearningRateSchedule::warmup_cosine(3e-3, std::min(100, total / 10), total, 3e-4);
    const int B = 32;
    throughput::Meter meter(label, Model::parameter_count, step_cost<Model>(B, C, Optimizer::adamw).flops(), B * C,
                            "tokens");
    std::vector<double> steps, losses;
    fit(model, ce, opt, TokenWindows(train, C),
        {.epochs = 1, .batch_size = B, .seed = seed, .clip_norm = 1, .steps_per_epoch = std::size_t(total)},
        ScheduleLearningRate{schedule},
        throughput::Steps{meter, steps, losses, 500, std::string("  ") + short_name + " "});
    std::printf("  "), meter.report();
    meter.record(runs);
    page.value(std::string(short_name) + ": training speed",
               report::format("%.0f tokens/s, %.1f GFLOP/s", meter.samples_per_second(), meter.gflops_per_second()));
}

}  // namespace

int main(int argc, char** argv) {
    return cli::run([&] {
        cli::Options args("language_models",
                          "language_models: five character-level language models of rising power on the same words");
        double scale = 1;
        std::string data;
        args.option("--scale", scale, "training steps as a multiple of the defaults", 1e-4, 100.0);
        args.option("--data", data, "a text file of words (default: /usr/share/dict/words, else a built-in list)");
        args.parse(argc, argv);
        if (!(scale > 0 && scale <= 100)) throw std::invalid_argument("--scale: expected a number in (0, 100]");
        const words::Corpus corpus = words::load(data);
        const Stream train = words::encode(corpus.train), valid = words::encode(corpus.valid),
                     test = words::encode(corpus.test);
        std::printf("data: %s\n  %zu / %zu / %zu words (train / validation / test), %zu training characters",
                    corpus.source.c_str(), corpus.train.size(), corpus.valid.size(), corpus.test.size(), train.size());
        if (corpus.skipped) std::printf(", %ld words skipped for characters outside a-z", corpus.skipped);
        std::printf("\n\n");
        std::vector<Row> rows;
        report::Step page(args.out(), "language_models");
        page.value("words (train / validation / test)",
                   report::format("%zu / %zu / %zu", corpus.train.size(), corpus.valid.size(), corpus.test.size()));
        Rng sample_rng(2026);
        const SamplingOptions sampling{.temperature = 1.0};
        auto steps = [&](int n) { return std::max(1, int(n * scale)); };

        // ---- 1. statistics: counting bigram -------------------------------------------------------
        Eigen::Matrix<float, V, V> counts = Eigen::Matrix<float, V, V>::Zero();  // (next, previous)
        for (std::size_t i = 0; i + 1 < train.size(); ++i) counts(train[i + 1], train[i]) += 1;
        Eigen::Matrix<float, V, V> log_p;  // log P(next | previous), add-one smoothing
        for (int prev = 0; prev < V; ++prev)
            log_p.col(prev) = ((counts.col(prev).array() + 1) / (counts.col(prev).sum() + V)).log().matrix();
        Batch<float, V> z;
        auto bigram_logits = [&](std::size_t a, std::size_t b, const Stream& s) -> const Batch<float, V>& {
            z.resize(V, Eigen::Index(b - a));
            for (std::size_t i = a; i < b; ++i) z.col(Eigen::Index(i - a)) = log_p.col(s[i]);
            return z;
        };
        rows.push_back({"1. counting bigram", std::size_t(V * V),
                        stream_nll(
                            valid, 1, [&](auto a, auto b, int) -> auto& { return bigram_logits(a, b, valid); }),
                        stream_nll(
                            test, 1, [&](auto a, auto b, int) -> auto& { return bigram_logits(a, b, test); }),
                        sample_words(8, [&](const std::vector<int>& ctx) {
                            return sample_token(log_p.col(ctx.back()), sampling, sample_rng);
                        })});

        // ---- 2. neural bigram: one layer (an embedding table is a Dense layer on one-hot input) ----
        Embedding<float, V, V> neural(1);  // logits = W · onehot(previous) = column of W
        bigram::train(neural, train, steps(600), /*seed*/ 3);
        auto neural_logits = [&](std::size_t a, std::size_t b, const Stream& s) -> const Batch<float, V>& {
            return neural.forward(std::span<const int>(s.data() + a, b - a));
        };
        rows.push_back({"2. neural bigram (1 layer, SGD)", neural.parameter_count,
                        stream_nll(
                            valid, 1, [&](auto a, auto b, int) -> auto& { return neural_logits(a, b, valid); }),
                        stream_nll(
                            test, 1, [&](auto a, auto b, int) -> auto& { return neural_logits(a, b, test); }),
                        sample_words(8, [&](const std::vector<int>& ctx) {
                            return sample_token(neural.E.col(ctx.back()), sampling, sample_rng);
                        })});

        // ---- 3. embeddings + MLP over the previous three characters ------------------------------
        constexpr int K = 3, E = 12;
        Embedding<float, V, E> table(4);
        Sequential<Dense<float, K * E, 200>, Tanh, Dense<float, 200, V>> mlp(5);
        std::vector<int> ctx_ids;
        auto mlp_logits = [&](std::size_t a, std::size_t b, const Stream& s) -> const Batch<float, V>& {
            ctx_ids.resize((b - a) * K);
            for (std::size_t i = a; i < b; ++i)
                for (int k = 0; k < K; ++k) {  // characters i-2, i-1, i (boundary before the stream start)
                    const long j = long(i) - (K - 1) + k;
                    ctx_ids[(i - a) * K + std::size_t(k)] = j < 0 ? 0 : s[std::size_t(j)];
                }
            const Batch<float, E>& e = table.forward(ctx_ids);  // E × (K·B): a sample's K vectors are adjacent
            return mlp.forward(Eigen::Map<const Batch<float, K * E>>(e.data(), K * E, Eigen::Index(b - a)));
        };
        {
            SoftmaxCrossEntropy<float, V> ce;
            AdamW<float> opt({.learning_rate = 3e-3f, .weight_decay = 1e-4f});
            const auto schedule =
                LearningRateSchedule::warmup_cosine(3e-3, std::min(100, steps(3000) / 10), steps(3000), 3e-4);
            Rng rng(6);
            auto model = join(table, mlp);
            Stream window;
            std::vector<int> targets(256);
            for (int s = 0; s < steps(3000); ++s) {
                window.resize(targets.size());
                for (std::size_t k = 0; k < targets.size(); ++k) window[k] = int(rng.below(train.size() - 1));
                // positions i with targets train[i + 1]; build their contexts
                ctx_ids.resize(targets.size() * K);
                for (std::size_t k = 0; k < targets.size(); ++k) {
                    const int i = window[k];
                    for (int c = 0; c < K; ++c) {
                        const int j = i - (K - 1) + c;
                        ctx_ids[k * K + std::size_t(c)] = j < 0 ? 0 : train[std::size_t(j)];
                    }
                    targets[k] = train[std::size_t(i) + 1];
                }
                model.zero_grad();
                const Batch<float, E>& e = table.forward(ctx_ids);
                const Eigen::Map<const Batch<float, K * E>> x(e.data(), K * E, Eigen::Index(targets.size()));
                ce.forward(mlp.forward(x), targets);
                const Batch<float, K* E>& dx = mlp.backward(x, ce.backward());
                table.backward(ctx_ids, Eigen::Map<const Batch<float, E>>(dx.data(), E, dx.cols() * K));
                opt.set_learning_rate(float(schedule(s)));
                opt.step(model);
            }
        }
        rows.push_back({"3. embeddings + MLP (3 chars)", table.parameter_count + mlp.parameter_count,
                        stream_nll(
                            valid, K, [&](auto a, auto b, int) -> auto& { return mlp_logits(a, b, valid); }),
                        stream_nll(
                            test, K, [&](auto a, auto b, int) -> auto& { return mlp_logits(a, b, test); }),
                        sample_words(8, [&](const std::vector<int>& ctx) {
                            Stream s(std::size_t(K - 1), 0);
                            s.insert(s.end(), ctx.begin(), ctx.end());
                            const auto& zz = mlp_logits(s.size() - 1, s.size(), s);
                            return sample_token(zz.col(0), sampling, sample_rng);
                        })});

        // ---- 4. GRU: a state carried along the characters read so far -------------------------
        constexpr int C = 16;
        using Recurrent = Sequential<Embedding<float, V, 32>, GRU<float, 32, 128>, Dense<float, 128, V>>;
        auto gru = std::make_unique<Recurrent>(9);
        train_windows(*gru, train, steps(2000), C, 10, "lm-gru", "GRU", args.path("runs.tsv"), page);
        rows.push_back({"4. GRU (hidden 128)", Recurrent::parameter_count, window_nll(*gru, valid, C),
                        window_nll(*gru, test, C), window_samples(*gru, C, sampling, sample_rng)});

        // ---- 5. LSTM: a state and a cell carried along the characters read so far -----------------
        using Memory = Sequential<Embedding<float, V, 32>, LSTM<float, 32, 112>, Dense<float, 112, V>>;
        auto lstm = std::make_unique<Memory>(9);
        train_windows(*lstm, train, steps(2000), C, 10, "lm-lstm", "LSTM", args.path("runs.tsv"), page);
        rows.push_back({"5. LSTM (hidden 112)", Memory::parameter_count, window_nll(*lstm, valid, C),
                        window_nll(*lstm, test, C), window_samples(*lstm, C, sampling, sample_rng)});

        // ---- 6. transformer ----------------------------------------------------------------------
        using GPT = Transformer<float, V, C, 64, 4, 2>;
        auto gpt = std::make_unique<GPT>(7);
        train_windows(*gpt, train, steps(2000), C, 8, "lm-transformer", "transformer", args.path("runs.tsv"), page);
        rows.push_back({"6. transformer (2 layers, d 64)", GPT::parameter_count, window_nll(*gpt, valid, C),
                        window_nll(*gpt, test, C), window_samples(*gpt, C, sampling, sample_rng)});

        // ---- 7. Llama-style: RMSNorm, attention with rotary positions, a SwiGLU MLP ------------------
        using Modern = Llama<float, V, C, 64, 4, 2>;
        auto llama = std::make_unique<Modern>(7);
        train_windows(*llama, train, steps(2000), C, 8, "lm-llama", "Llama-style", args.path("runs.tsv"), page);
        rows.push_back({"7. Llama-style (2 layers, d 64)", Modern::parameter_count, window_nll(*llama, valid, C),
                        window_nll(*llama, test, C), window_samples(*llama, C, sampling, sample_rng)});

        std::printf("\n%-32s %10s %12s %12s  %s\n", "model", "parameters", "valid NLL", "test NLL", "sampled words");
        page.table(
            "Seven models of English words: held-out NLL per character (nats; uniform guessing is ln 27 = 3.2958)",
            {"model", "parameters", "valid NLL", "test NLL", "sampled words"});
        for (const auto& r : rows) {
            std::printf("%-32s %10zu %12.4f %12.4f  %s\n", r.model.c_str(), r.parameters, r.valid, r.test,
                        r.samples.c_str());
            page.row({r.model, std::to_string(r.parameters), report::format("%.4f", r.valid),
                      report::format("%.4f", r.test), r.samples});
        }
        std::printf("(NLL: mean negative log-likelihood per character in nats; uniform guessing is ln 27 = %.4f)\n",
                    std::log(27.0));

        std::vector<std::string> names;
        std::vector<double> nll;
        for (const auto& r : rows) names.push_back(r.model.substr(0, r.model.find(' ', 3))), nll.push_back(r.test);
        plot::Chart("Held-out NLL per character (lower is better)", "model", "nats per character")
            .bars(names, nll, plot::palette(0))
            .write(args.path("language_models.svg"));
        std::printf("wrote %s\n", args.path("language_models.svg").c_str());
        page.figure("language_models.svg", "Held-out NLL per character of each model (lower is better)").write();
    });
}
