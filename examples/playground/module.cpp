// The playground's WebAssembly module: the lecture's first three lessons (examples/lecture/lessons.hpp,
// the code the native examples run) behind a small C interface that the page (page.html) calls
// through Emscripten's ccall. The page only draws; every number it shows is computed here.
//
// Conventions: a function that can fail returns 0 (or a null pointer) and leaves its message in
// playground_error(); arrays are returned as pointers into buffers owned here, valid until the next
// call of the same function.
#include "../lecture/lessons.hpp"

#include <neuronka/version.hpp>

#include <cmath>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#ifdef __EMSCRIPTEN__
#include <emscripten/emscripten.h>
#define PLAYGROUND_API extern "C" EMSCRIPTEN_KEEPALIVE
#else
#define PLAYGROUND_API extern "C"
#endif

using namespace neuronka;
namespace lessons = examples::lessons;

namespace {
std::string error;  // the message of the last call that failed

// Runs `f`; on an exception keeps its message and returns `failed`.
template <class F, class R>
R guarded(F&& f, R failed) {
    try {
        error.clear();
        return f();
    } catch (const std::exception& e) {
        error = e.what();
        return failed;
    }
}

// ---- the neuron
std::unique_ptr<lessons::NeuronLesson> neuron;
std::vector<float> neuron_xy;

// ---- XOR: the neuron and an MLP whose hidden width and activation the visitor picks
struct XorModel {  // one trainer, whatever its model type
    virtual ~XorModel() = default;
    virtual float step() = 0;
    virtual double accuracy() = 0;
    virtual std::vector<float> probabilities(int grid) = 0;
    virtual std::size_t parameters() const = 0;
};
template <class Model>
struct XorModelOf final : XorModel {
    lessons::XorTrainer<Model> trainer;
    explicit XorModelOf(const lessons::XorData& d) : trainer(d) {}
    float step() override { return trainer.step(); }
    double accuracy() override { return trainer.accuracy(); }
    std::vector<float> probabilities(int grid) override { return trainer.probabilities(grid); }
    std::size_t parameters() const override { return Model::parameter_count; }
};
template <class Activation>
std::unique_ptr<XorModel> xor_mlp(const lessons::XorData& d, int hidden) {
    switch (hidden) {
        case 2:
            return std::make_unique<XorModelOf<lessons::XorMlp<2, Activation>>>(d);
        case 4:
            return std::make_unique<XorModelOf<lessons::XorMlp<4, Activation>>>(d);
        case 8:
            return std::make_unique<XorModelOf<lessons::XorMlp<8, Activation>>>(d);
        case 16:
            return std::make_unique<XorModelOf<lessons::XorMlp<16, Activation>>>(d);
    }
    throw std::invalid_argument("XOR: hidden width " + std::to_string(hidden) + ", expected 2, 4, 8 or 16");
}
const lessons::XorData xor_data;
std::unique_ptr<XorModel> xor_models[2];  // 0: the neuron, 1: the MLP
float xor_last_loss[2] = {0, 0};
std::vector<float> xor_grid, xor_points_buffer;

// ---- the tiny GPT
std::vector<int> gpt_tokens;
std::string gpt_source_name, gpt_text_sample;
std::unique_ptr<lessons::gpt::Trainer> gpt;
std::unique_ptr<Rng> gpt_sample_rng;
std::vector<float> gpt_map;
std::string word_list, word_list_source;  // built once: the word list, as tiny_gpt.cpp reads it
}  // namespace

/// The message of the last call that failed ("" after a call that succeeded).
PLAYGROUND_API const char* playground_error() {
    return error.c_str();
}
/// neuronka's version as major * 10000 + minor * 100 + patch.
PLAYGROUND_API int playground_version() {
    return neuronka::version;
}

// ---------------------------------------------------------------------------- lesson 1: the neuron
/// A new neuron (w, b random, as at iteration 0) trained with `learning_rate`; 0 on bad input.
PLAYGROUND_API int neuron_reset(double learning_rate) {
    return guarded(
        [&] {
            neuron = std::make_unique<lessons::NeuronLesson>(float(learning_rate));
            return 1;
        },
        0);
}
/// One SGD step; returns the loss before it, or NaN when training diverged (a learning rate too
/// large: the loss overflows, and playground_error() says so).
PLAYGROUND_API double neuron_step() {
    return guarded([&] { return double(neuron->step()); }, std::nan(""));
}
PLAYGROUND_API double neuron_loss() {
    return guarded([&] { return double(neuron->loss()); }, std::nan(""));
}
PLAYGROUND_API double neuron_w() {
    return neuron->w();
}
PLAYGROUND_API double neuron_b() {
    return neuron->b();
}
PLAYGROUND_API double neuron_best_w() {
    return neuron->least_squares().first;
}
PLAYGROUND_API double neuron_best_b() {
    return neuron->least_squares().second;
}
PLAYGROUND_API int neuron_point_count() {
    return lessons::NeuronLesson::points;
}
/// The points: x of every point, then y of every point.
PLAYGROUND_API const float* neuron_points() {
    const int n = lessons::NeuronLesson::points;
    neuron_xy.assign(neuron->x().data(), neuron->x().data() + n);
    neuron_xy.insert(neuron_xy.end(), neuron->y().data(), neuron->y().data() + n);
    return neuron_xy.data();
}

// ---------------------------------------------------------------------------- lesson 2: XOR
/// A new neuron and a new MLP 2-hidden-hidden-1 (hidden: 2, 4, 8 or 16; activation: 0 tanh,
/// 1 ReLU, 2 sigmoid), both from seed 1 as in xor.cpp; 0 on bad input.
PLAYGROUND_API int xor_reset(int hidden, int activation) {
    return guarded(
        [&] {
            std::unique_ptr<XorModel> mlp;
            if (activation == 0)
                mlp = xor_mlp<Tanh>(xor_data, hidden);
            else if (activation == 1)
                mlp = xor_mlp<ReLU>(xor_data, hidden);
            else if (activation == 2)
                mlp = xor_mlp<Sigmoid>(xor_data, hidden);
            else
                throw std::invalid_argument("XOR: activation " + std::to_string(activation) +
                                            ", expected 0 (tanh), 1 (ReLU) or 2 (sigmoid)");
            xor_models[0] = std::make_unique<XorModelOf<Neuron<float, 2>>>(xor_data);
            xor_models[1] = std::move(mlp);
            xor_last_loss[0] = xor_last_loss[1] = 0;
            return 1;
        },
        0);
}
/// One step of both models; returns the MLP's loss before it (the neuron's: xor_loss(0)), or NaN
/// on an error (playground_error()).
PLAYGROUND_API double xor_step() {
    return guarded(
        [&] {
            xor_last_loss[0] = xor_models[0]->step();
            xor_last_loss[1] = xor_models[1]->step();
            return double(xor_last_loss[1]);
        },
        std::nan(""));
}
/// The loss model (0 neuron, 1 MLP) had before the last step.
PLAYGROUND_API double xor_loss(int model) {
    return xor_last_loss[model != 0];
}
PLAYGROUND_API double xor_accuracy(int model) {
    return xor_models[model != 0]->accuracy();
}
PLAYGROUND_API int xor_parameters(int model) {
    return int(xor_models[model != 0]->parameters());
}
/// P(class 1) on a grid × grid raster of [-2.5, 2.5]², row by row from the bottom.
PLAYGROUND_API const float* xor_probabilities(int model, int grid) {
    xor_grid = xor_models[model != 0]->probabilities(grid);
    return xor_grid.data();
}
PLAYGROUND_API double xor_extent() {
    return lessons::xor_extent;
}
PLAYGROUND_API int xor_point_count() {
    return int(xor_data.x.cols());
}
/// Every point as (x1, x2, class).
PLAYGROUND_API const float* xor_points() {
    xor_points_buffer.clear();
    for (Eigen::Index i = 0; i < xor_data.x.cols(); ++i)
        xor_points_buffer.insert(xor_points_buffer.end(), {xor_data.x(0, i), xor_data.x(1, i), xor_data.t(i)});
    return xor_points_buffer.data();
}

// ---------------------------------------------------------------------------- lesson 3: a tiny GPT
/// A new GPT to train for `steps` steps on `text` (empty: the word list, as tiny_gpt.cpp without
/// --data); 0 if the text is too short.
PLAYGROUND_API int gpt_reset(const char* text, int steps) {
    return guarded(
        [&] {
            std::string t = text ? text : "";
            if (t.empty()) {
                if (word_list.empty()) word_list = lessons::gpt::word_list_text(word_list_source);
                t = word_list;
                gpt_source_name = word_list_source;
            } else {
                gpt_source_name = "the text you gave";
            }
            gpt.reset();
            long skipped = 0;
            gpt_tokens = lessons::gpt::encode(t, skipped);
            gpt = std::make_unique<lessons::gpt::Trainer>(gpt_tokens, steps, gpt_source_name);
            gpt_sample_rng = std::make_unique<Rng>(lessons::gpt::sample_seed);
            return 1;
        },
        0);
}
PLAYGROUND_API const char* gpt_source() {
    return gpt_source_name.c_str();
}
PLAYGROUND_API int gpt_characters() {
    return int(gpt_tokens.size());
}
PLAYGROUND_API int gpt_parameters() {
    return int(lessons::gpt::Model::parameter_count);
}
PLAYGROUND_API int gpt_tokens_per_step() {
    return lessons::gpt::batch * lessons::gpt::context;
}
/// One training step; returns its batch's loss (nats per character), or -1 when the planned steps are done.
PLAYGROUND_API double gpt_step() {
    return guarded([&] { return double(gpt->step()); }, -1.0);
}
/// 120 characters sampled from the model (continuing one random stream from the reset, as tiny_gpt.cpp).
PLAYGROUND_API const char* gpt_sample() {
    gpt_text_sample = lessons::gpt::sample(gpt->model(), *gpt_sample_rng);
    return gpt_text_sample.c_str();
}
/// The attention of block `layer`, head `head` on `text` (its first 64 characters): T × T, row t
/// the weights query t gives keys 0..T-1 (zero after t: the blocks are causal). T: gpt_map_size().
PLAYGROUND_API const float* gpt_attention(const char* text, int layer, int head) {
    return guarded(
        [&]() -> const float* {
            long skipped = 0;
            std::vector<int> ids = lessons::gpt::encode(text ? text : "", skipped);
            if (ids.size() > std::size_t(lessons::gpt::context)) ids.resize(std::size_t(lessons::gpt::context));
            if (ids.empty()) throw std::invalid_argument("attention map: no characters to look at");
            auto& model = gpt->model();
            model.forward(ids, int(ids.size()));
            const auto p = model.attention(layer).probabilities(0, head);
            gpt_map.resize(std::size_t(p.size()));
            Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(gpt_map.data(), p.rows(),
                                                                                              p.cols()) = p;
            return gpt_map.data();
        },
        static_cast<const float*>(nullptr));
}
PLAYGROUND_API int gpt_map_size() {
    return int(std::sqrt(double(gpt_map.size())) + 0.5);
}
