// The lecture's three first lessons as objects that train one step at a time: the neuron y = w·x + b,
// XOR (one neuron against a small MLP) and a character-level tiny GPT. The native examples
// (neuron.cpp, xor.cpp, tiny_gpt.cpp) and the browser playground (examples/playground/module.cpp,
// compiled to WebAssembly) are built on these, so both run the same code from the same seeds.
// No CLI, files or threads here: everything must compile for the browser too.
#pragma once

#include "words.hpp"

#include <neuronka/data/token_windows.hpp>
#include <neuronka/layers/activation.hpp>
#include <neuronka/layers/neuron.hpp>
#include <neuronka/models/generate.hpp>
#include <neuronka/models/transformer.hpp>
#include <neuronka/train/adamw.hpp>
#include <neuronka/train/loss.hpp>
#include <neuronka/train/metrics.hpp>
#include <neuronka/train/schedule.hpp>
#include <neuronka/train/sgd.hpp>

#include <algorithm>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace examples::lessons {

// ---------------------------------------------------------------------------------------------
// Lesson 1: a neuron is the line y = w·x + b; SGD moves w and b to the best line.

/// 40 noisy points around y = 0.8 x + 1.5 (x in [-3, 3]) and a Neuron<float, 1> whose w and b start
/// random, trained by SGD on the mean squared error.
class NeuronLesson {
public:
    static constexpr float true_w = 0.8f, true_b = 1.5f;  ///< the line the points scatter around
    static constexpr int points = 40;

    /// SGD checks the rate (finite, > 0).
    explicit NeuronLesson(float learning_rate = 0.1f) : opt_({.learning_rate = learning_rate}) {
        neuronka::Rng rng(2024);
        for (int i = 0; i < points; ++i) {
            x_(i) = float(rng.uniform(-3, 3));
            y_(i) = true_w * x_(i) + true_b + float(0.4 * rng.normal());
        }
        neuron_.b() = float(rng.uniform(-2, 2));  // the bias starts random too, as on the slide
    }
    /// The mean squared error of the current line on the points.
    float loss() { return mse_.forward(neuron_.forward(x_), y_); }
    /// One SGD step on all points; returns the loss before it (the loss of this iteration).
    float step() {
        const float l = loss();
        opt_.step(neuron_, x_, mse_.backward());  // backward, then w and b move
        return l;
    }
    float w() const { return neuron_.w(); }
    float b() const { return neuron_.b(); }
    const neuronka::Batch<float, 1>& x() const { return x_; }  ///< 1 × 40
    const neuronka::Batch<float, 1>& y() const { return y_; }  ///< 1 × 40
    /// The best line in the least-squares sense: (w, b).
    std::pair<double, double> least_squares() const {
        const Eigen::ArrayXd x = x_.cast<double>().transpose().array(), y = y_.cast<double>().transpose().array();
        const double mx = x.mean(), my = y.mean();
        const double w = ((x - mx) * (y - my)).sum() / (x - mx).square().sum();
        return {w, my - w * mx};
    }

private:
    neuronka::Batch<float, 1> x_{1, points}, y_{1, points};
    neuronka::Neuron<float, 1> neuron_{7};
    neuronka::MeanSquaredError<float, 1> mse_;
    neuronka::SGD<float> opt_;
};

// ---------------------------------------------------------------------------------------------
// Lesson 2: XOR. No line separates it, so one neuron fails; a small MLP bends its boundary.

/// 200 points in four clouds around (±1, ±1); opposite corners share a class.
struct XorData {
    neuronka::Batch<float, 2> x{2, 200};  ///< 2 × 200
    neuronka::Batch<float, 1> t{1, 200};  ///< 1 × 200, class 0 or 1
    XorData() {
        neuronka::Rng rng(5);
        for (int i = 0; i < 200; ++i) {
            const float sx = i % 2 ? 1.f : -1.f, sy = (i / 2) % 2 ? 1.f : -1.f;
            x(0, i) = sx + float(0.35 * rng.normal());
            x(1, i) = sy + float(0.35 * rng.normal());
            t(i) = sx * sy < 0 ? 1.f : 0.f;
        }
    }
};

/// The square [-2.5, 2.5]² the decision regions are drawn on, `grid` × `grid` cells.
inline constexpr float xor_extent = 2.5f;

/// A model trained on XOR with SGD (rate 0.2, momentum 0.9) on the binary cross-entropy of its logit.
template <class Model>
class XorTrainer {
public:
    explicit XorTrainer(const XorData& data, std::uint64_t seed = 1) : data_(data), model_(seed) {}
    /// One step on all points; returns the loss before it.
    float step() {
        const float l = bce_.forward(model_.forward(data_.x), data_.t);
        opt_.step(model_, data_.x, bce_.backward());
        return l;
    }
    /// The share of points on the right side of the boundary.
    double accuracy() { return neuronka::binary_accuracy(model_.forward(data_.x), data_.t); }
    /// P(class 1) at the centres of a grid × grid raster of the square, row by row from the bottom.
    std::vector<float> probabilities(int grid) {
        neuronka::Batch<float, 2> g(2, grid * grid);
        for (int j = 0; j < grid; ++j)
            for (int i = 0; i < grid; ++i)
                g.col(j * grid + i) << -xor_extent + 2 * xor_extent * (i + 0.5f) / grid,
                    -xor_extent + 2 * xor_extent * (j + 0.5f) / grid;
        const neuronka::Batch<float, 1> p = model_.forward(g).array().logistic().matrix();
        return {p.data(), p.data() + p.size()};
    }

private:
    const XorData& data_;
    Model model_;
    neuronka::BinaryCrossEntropyWithLogits<float, 1> bce_;
    neuronka::SGD<float> opt_{{.learning_rate = 0.2f, .momentum = 0.9f}};
};

/// The MLP of the lesson: 2 → Hidden → Hidden → 1 with one activation.
template <int Hidden, class Activation>
using XorMlp =
    neuronka::Sequential<neuronka::Dense<float, 2, Hidden>, Activation, neuronka::Dense<float, Hidden, Hidden>,
                         Activation, neuronka::Dense<float, Hidden, 1>>;

// ---------------------------------------------------------------------------------------------
// Lesson 3: a tiny GPT trained on text, character by character.

namespace gpt {
/// Tokens: printable ASCII (32..126) are 0..94, newline is 95. Other bytes are skipped.
inline constexpr int vocab = 96;
inline constexpr int context = 64, batch = 16;  ///< C tokens per window, B windows per step
using Model = neuronka::Transformer<float, vocab, context, 64, 4, 2>;
inline constexpr std::uint64_t model_seed = 1, batch_seed = 2, sample_seed = 5;
inline constexpr double clip_norm = 1;

inline int encode_byte(unsigned char c) {
    return c == '\n' ? 95 : (c >= 32 && c < 127) ? c - 32 : -1;
}
inline char decode(int t) {
    return t == 95 ? '\n' : char(t + 32);
}
/// The tokens of `text`; bytes outside the vocabulary are counted in `skipped`.
inline std::vector<int> encode(const std::string& text, long& skipped) {
    std::vector<int> tokens;
    skipped = 0;
    for (unsigned char c : text) {
        const int t = encode_byte(c);
        if (t < 0)
            ++skipped;
        else
            tokens.push_back(t);
    }
    return tokens;
}
/// The default text: the word list (shuffled as words::load does, since the dictionary is sorted),
/// one word per line; `source` says where it came from.
inline std::string word_list_text(std::string& source) {
    const words::Corpus c = words::load("");
    source = c.source + " (shuffled, one word per line)";
    std::string t;
    for (const auto* part : {&c.train, &c.valid, &c.test})
        for (const auto& w : *part) t += w + '\n';
    return t;
}
/// Where training ends and the held-out 10 % begin, after checking the text is long enough.
inline std::size_t split(std::size_t tokens, const std::string& source) {
    if (tokens < std::size_t(10 * (context + 1)))  // a window of C + 1 in each part
        throw std::invalid_argument(source + ": text too short: " + std::to_string(tokens) +
                                    " characters, need at least " + std::to_string(10 * (context + 1)));
    return tokens * 9 / 10;
}
/// AdamW's settings and the learning rate of step s: warm-up, then a cosine to a tenth.
inline neuronka::AdamWOptions<float> optimizer_options() {
    return {.learning_rate = 3e-3f, .weight_decay = 0.01f};
}
inline neuronka::LearningRateSchedule schedule(int steps) {
    return neuronka::LearningRateSchedule::warmup_cosine(3e-3, std::min(100, steps / 10), steps, 3e-4);
}
/// `count` characters sampled after a newline (temperature 0.8, top-k 20); newlines shown as spaces.
inline std::string sample(Model& model, neuronka::Rng& rng, int count = 120) {
    const std::vector<int> prompt{encode_byte('\n')};
    const std::vector<int> out = neuronka::generate(model, prompt, count, {.temperature = 0.8, .top_k = 20}, rng);
    std::string s;
    for (std::size_t i = 1; i < out.size(); ++i) s += decode(out[i]) == '\n' ? ' ' : decode(out[i]);
    return s;
}

/// The training fit() runs in tiny_gpt.cpp, one step per call: the same batches (TokenBatches from
/// batch_seed on the first 90 % of the tokens), gradient clipping, AdamW and schedule, so the
/// losses equal fit()'s step for step.
class Trainer {
public:
    /// `tokens` must outlive the trainer; `steps` sets the schedule's length.
    Trainer(std::span<const int> tokens, int steps, const std::string& source)
        : train_(tokens.first(split(tokens.size(), source)), context),
          batches_(train_, batch, std::size_t(std::max(steps, 1)), batch_seed),
          schedule_(schedule(steps)),
          model_(std::make_unique<Model>(model_seed)) {
        if (steps < 1) throw std::invalid_argument("tiny GPT: steps is " + std::to_string(steps) + ", expected >= 1");
    }
    /// One training step; returns the batch's loss (nats per character) before the update.
    float step() {
        if (!batches_.next()) throw std::logic_error("tiny GPT: all planned steps are done");
        opt_.set_learning_rate(float(schedule_(step_)));
        model_->zero_grad();
        const float loss = ce_.forward(model_->forward(batches_.ids(), context), batches_.labels());
        model_->backward(batches_.ids(), ce_.backward());
        neuronka::clip_gradient_norm(*model_, clip_norm);
        opt_.step(*model_);
        ++step_;
        return loss;
    }
    Model& model() { return *model_; }

private:
    neuronka::TokenWindows train_;
    neuronka::TokenBatches batches_;
    neuronka::LearningRateSchedule schedule_;
    std::unique_ptr<Model> model_;
    neuronka::SoftmaxCrossEntropy<float, vocab> ce_;
    neuronka::AdamW<float> opt_{optimizer_options()};
    int step_ = 0;
};
}  // namespace gpt

}  // namespace examples::lessons
