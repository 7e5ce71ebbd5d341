// Helpers shared by the tests: random inputs and the gradient-check verdict every layer's test uses.
#pragma once

#include <neuronka/check/gradcheck.hpp>
#include <neuronka/core/random.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

/// A Rows × cols batch of values drawn uniformly from [lo, hi) by a generator seeded with `seed`.
template <int Rows, class T = double>
neuronka::Batch<T, Rows> random_batch(int cols, std::uint64_t seed, double lo = -1, double hi = 1) {
    neuronka::Rng rng(seed);
    neuronka::Batch<T, Rows> x(Rows, cols);
    for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = T(rng.uniform(lo, hi));
    return x;
}

/// Every parameter's values (with `gradients`: its gradient) of a double model in visiting order, flattened.
template <class Model>
std::vector<double> flat(Model& m, bool gradients = false) {
    std::vector<double> v;
    m.visit_parameters([&](neuronka::ParamView<double> p) {
        const auto& a = gradients ? p.grad : p.value;
        v.insert(v.end(), a.begin(), a.end());
    });
    return v;
}

/// `n` token ids in [0, vocab), drawn by a generator seeded with `seed`.
inline std::vector<int> random_ids(int n, int vocab, std::uint64_t seed) {
    neuronka::Rng rng(seed);
    std::vector<int> ids(std::size_t(n), 0);
    for (auto& id : ids) id = int(rng.below(std::uint64_t(vocab)));
    return ids;
}

/// The largest relative error a gradient check in double precision may show.
inline constexpr double gradcheck_tolerance = 1e-6;

/// A gradient check's verdict: its worst relative error below gradcheck_tolerance, with where it was.
inline void require_small(const neuronka::GradcheckResult& r) {
    INFO("worst relative error " << r.worst_relative_error << " at " << r.where << " (analytic " << r.analytic
                                 << ", numeric " << r.numeric << ") over " << r.checked << " entries");
    CHECK(r.worst_relative_error < gradcheck_tolerance);
}

/// Checks every parameter and every input entry of `layer` at `x` (seq_len as forward takes it):
/// all are checked, and all within gradcheck_tolerance.
template <class L, class... SeqLen>
void check_layer_gradients(L& layer, const neuronka::Batch<double, L::in_size>& x, SeqLen... seq_len) {
    const neuronka::GradcheckResult r = neuronka::gradcheck(layer, x, seq_len...);
    INFO(L::name());
    CHECK(r.checked == L::parameter_count + std::size_t(x.size()));
    require_small(r);
}
