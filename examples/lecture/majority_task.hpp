// "Which digit occurs most often?": a sequence task that is not language. Every token of a
// sequence must answer with the sequence's most frequent digit, which it can only know by looking
// at all the others: attention (not causal) over the whole sequence. The model is composed by a
// user from the library's layers, with no backward code: Embedding, PositionalEmbedding,
// Residual attention and MLP blocks, and a Dense head.
#pragma once

#include <neuronka/neuronka.hpp>

#include <array>
#include <vector>

namespace examples::task {

/// Sequences of `length` digits 0..Digits-1 whose most frequent digit is unique.
struct Majority {
    static constexpr int digits = 5;
    int length = 8;

    /// B sequences, flat (sequence b at [b·length, (b+1)·length)); targets: the sequence's mode, at every position.
    void batch(int B, neuronka::Rng& rng, std::vector<int>& ids, std::vector<int>& targets) const {
        ids.resize(std::size_t(B * length));
        targets.resize(ids.size());
        for (int b = 0; b < B; ++b) {
            int* s = ids.data() + b * length;
            int mode = -1;
            while (mode < 0) {  // draw until one digit occurs strictly most often
                std::array<int, digits> count{};
                for (int t = 0; t < length; ++t) ++count[std::size_t(s[t] = int(rng.below(digits)))];
                int best = 0, ties = 0;
                for (int d = 0; d < digits; ++d)
                    if (count[std::size_t(d)] > count[std::size_t(best)])
                        best = d, ties = 0;
                    else if (d != best && count[std::size_t(d)] == count[std::size_t(best)])
                        ++ties;
                if (ties == 0) mode = best;
            }
            for (int t = 0; t < length; ++t) targets[std::size_t(b * length + t)] = mode;
        }
    }
};

// ---- the model: about 15 lines of composition ---------------------------------------------
constexpr int D = 32, Heads = 2, Context = 16;
using Attend = neuronka::Residual<neuronka::LayerNorm<float, D>, neuronka::Attention<float, D, Heads>>;
using Think = neuronka::Residual<neuronka::LayerNorm<float, D>, neuronka::Dense<float, D, 4 * D>, neuronka::GELU,
                                 neuronka::Dense<float, 4 * D, D>>;
using MajorityModel = neuronka::Sequential<neuronka::Embedding<float, Majority::digits, D>,   // digit → vector
                                           neuronka::PositionalEmbedding<float, Context, D>,  // + its position
                                           Attend, Think,                                     // look at all tokens
                                           neuronka::LayerNorm<float, D>,
                                           neuronka::Dense<float, D, Majority::digits>>;  // logits per token

/// Every token may look at every other one: the question is about the whole sequence.
inline void make_bidirectional(MajorityModel& model) {
    model.layer<2>().layer<1>().causal = false;
}

/// Trains with AdamW; returns the loss of the last step.
struct MajorityTrainer {
    Majority task;
    MajorityModel model;
    neuronka::SoftmaxCrossEntropy<float, Majority::digits> ce;
    neuronka::AdamW<float> opt{{.learning_rate = 3e-3f, .weight_decay = 0.0f}};
    neuronka::Rng rng;
    std::vector<int> ids, targets;

    explicit MajorityTrainer(std::uint64_t seed) : model(seed), rng(seed + 1) { make_bidirectional(model); }

    float step(int batch = 32) {
        task.batch(batch, rng, ids, targets);
        const float loss = ce.forward(model.forward(ids, task.length), targets);
        opt.step(model, ids, ce.backward());
        return loss;
    }
    /// Share of held-out sequences whose first token names the mode.
    double accuracy(int sequences) {
        neuronka::Rng test_rng(12345);
        std::vector<int> test_ids, test_targets;
        task.batch(sequences, test_rng, test_ids, test_targets);
        const auto& logits = model.forward(test_ids, task.length);
        std::vector<int> first_targets;  // the answer is read at each sequence's first token
        for (int b = 0; b < sequences; ++b) first_targets.push_back(test_targets[std::size_t(b * task.length)]);
        return neuronka::accuracy(logits(Eigen::all, Eigen::seqN(0, sequences, task.length)), first_targets);
    }
};

}  // namespace examples::task
