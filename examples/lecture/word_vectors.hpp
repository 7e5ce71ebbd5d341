// Word vectors from context: a small corpus where words of one kind (animals, foods, places, verbs)
// appear in the same kinds of sentences, and a CBOW model (average the context words' vectors,
// predict the middle word) that learns one vector per word. Words used alike end up close.
#pragma once

#include <neuronka/neuronka.hpp>

#include <string>
#include <vector>

namespace examples::wordvec {

struct Vocabulary {
    std::vector<std::string> words;       // token → word
    std::vector<std::string> categories;  // token → its kind
};

/// The groups; sentences are made from the templates below.
inline const std::vector<std::pair<std::string, std::vector<std::string>>> groups = {
    {"animal", {"cat", "dog", "horse", "cow", "mouse", "rabbit", "goat", "sheep"}},
    {"food", {"bread", "fish", "apple", "cheese", "rice", "soup", "carrot", "cake"}},
    {"place", {"house", "garden", "farm", "kitchen", "forest", "village"}},
    {"verb", {"eats", "likes", "wants", "finds", "smells", "steals"}},
    {"person", {"anna", "petr", "jana", "tomas", "eva", "karel"}},
};
inline const std::vector<std::string> function_words = {"the", "a", "in", "near", "and", "gives", "to", "."};

inline Vocabulary vocabulary() {
    Vocabulary v;
    for (const auto& [kind, ws] : groups)
        for (const auto& w : ws) v.words.push_back(w), v.categories.push_back(kind);
    for (const auto& w : function_words) v.words.push_back(w), v.categories.push_back("function");
    return v;
}

inline int id(const Vocabulary& v, const std::string& w) {
    for (std::size_t i = 0; i < v.words.size(); ++i)
        if (v.words[i] == w) return int(i);
    throw std::invalid_argument("wordvec: unknown word " + w);
}

/// A token stream of `sentences` random sentences such as "the cat eats the fish in the garden ."
inline std::vector<int> corpus(const Vocabulary& v, int sentences, neuronka::Rng& rng) {
    auto pick = [&](const char* kind) {
        for (const auto& [k, ws] : groups)
            if (k == kind) return ws[rng.below(ws.size())];
        return std::string(".");
    };
    std::vector<int> s;
    auto say = [&](std::initializer_list<std::string> ws) {
        for (const auto& w : ws) s.push_back(id(v, w));
    };
    for (int i = 0; i < sentences; ++i) {
        switch (rng.below(4)) {
            case 0:
                say({"the", pick("animal"), pick("verb"), "the", pick("food"), "in", "the", pick("place"), "."});
                break;
            case 1:
                say({pick("person"), "gives", "a", pick("food"), "to", "the", pick("animal"), "."});
                break;
            case 2:
                say({"a", pick("animal"), "and", "a", pick("animal"), "near", "the", pick("place"), "."});
                break;
            default:
                say({pick("person"), pick("verb"), "a", pick("food"), "and", "a", pick("food"), "."});
                break;
        }
    }
    return s;
}

/// CBOW: the mean of the vectors of the `window` words on each side predicts the middle word.
template <int Vocab, int Dim>
struct Cbow {
    neuronka::Embedding<float, Vocab, Dim> vectors{1};
    neuronka::Dense<float, Dim, Vocab> out{2};
    neuronka::SoftmaxCrossEntropy<float, Vocab> ce;
    std::vector<int> ctx, targets;
    neuronka::Batch<float, Dim> mean, dmean_spread;

    /// One AdamW step on `batch` random positions of `stream`; returns the loss.
    template <class Opt>
    float step(const std::vector<int>& stream, int window, int batch, neuronka::Rng& rng, Opt& opt) {
        const int W = 2 * window;
        ctx.resize(std::size_t(batch * W)), targets.resize(std::size_t(batch));
        for (int b = 0; b < batch; ++b) {
            const std::size_t c = window + rng.below(stream.size() - 2 * std::size_t(window));
            targets[std::size_t(b)] = stream[c];
            for (int k = 0, j = 0; k <= W; ++k)
                if (k != window) ctx[std::size_t(b * W + j++)] = stream[c - std::size_t(window) + std::size_t(k)];
        }
        auto model = neuronka::join(vectors, out);
        model.zero_grad();
        const neuronka::Batch<float, Dim>& e = vectors.forward(ctx);  // Dim × (W·batch)
        mean.resize(Dim, batch);
        for (int b = 0; b < batch; ++b) mean.col(b) = e.middleCols(b * W, W).rowwise().mean();
        const float loss = ce.forward(out.forward(mean), targets);
        const neuronka::Batch<float, Dim>& dmean = out.backward(mean, ce.backward());
        dmean_spread.resize(Dim, batch * W);  // forward: mean = (1/W) Σ e  →  de = dmean / W for each
        for (int b = 0; b < batch; ++b) dmean_spread.middleCols(b * W, W) = (dmean.col(b) / float(W)).replicate(1, W);
        vectors.backward(ctx, dmean_spread);
        opt.step(model);
        return loss;
    }

    /// Cosine similarity of two words' vectors.
    float similarity(int a, int b) const {
        return vectors.E.col(a).dot(vectors.E.col(b)) / (vectors.E.col(a).norm() * vectors.E.col(b).norm());
    }
    /// The word most similar to `a`, other than itself.
    int nearest(int a) const {
        int best = -1;
        for (int b = 0; b < Vocab; ++b)
            if (b != a && (best < 0 || similarity(a, b) > similarity(a, best))) best = b;
        return best;
    }
};

}  // namespace examples::wordvec
