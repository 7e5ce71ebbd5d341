/// @file
/// @brief summary(): a per-layer table of output shape, parameters, FLOPs and memory, with totals
/// for a training step — all from the model's type (see Cost in layer.hpp and docs/cost.md).
#pragma once

#include "../core/layer.hpp"

#include <cstdio>
#include <ostream>
#include <string>

namespace neuronka {

/// The optimiser whose state summary() and training_memory() count.
enum class Optimizer { sgd, sgd_momentum, adamw };

/// Numbers of one training step at `batch` samples (sequences, for sequence models, of `seq_len`).
struct StepCost {
    Cost per_sample;              ///< per sample (per token for sequence models)
    double samples = 0;           ///< samples (tokens) in the step
    double parameter_bytes = 0;   ///< the parameters
    double gradient_bytes = 0;    ///< their gradients
    double optimizer_bytes = 0;   ///< the optimiser's state (momentum, moments)
    double activation_bytes = 0;  ///< what forward keeps for backward
    /// FLOPs of the forward pass.
    double forward_flops() const { return per_sample.forward_flops * samples; }
    /// FLOPs of the backward pass.
    double backward_flops() const { return per_sample.backward_flops * samples; }
    /// FLOPs of the step.
    double flops() const { return forward_flops() + backward_flops(); }
    /// Bytes of memory the step needs.
    double total_bytes() const { return parameter_bytes + gradient_bytes + optimizer_bytes + activation_bytes; }
};

/// The cost of one training step of Model, from its type alone.
template <class Model>
constexpr StepCost step_cost(double batch, int seq_len = 1, Optimizer opt = Optimizer::sgd) {
    using Scalar = typename Model::scalar_type;
    StepCost s;
    s.per_sample = Model::cost(seq_len);
    s.samples = batch * seq_len;
    s.parameter_bytes = s.per_sample.parameters * sizeof(Scalar);
    s.gradient_bytes = s.parameter_bytes;
    s.optimizer_bytes = s.parameter_bytes * (opt == Optimizer::adamw ? 2 : opt == Optimizer::sgd_momentum ? 1 : 0);
    s.activation_bytes = s.per_sample.activation_bytes * s.samples;
    return s;
}

namespace detail {
inline std::string human(double v, const char* unit) {
    const char* prefixes[] = {"", "k", "M", "G", "T", "P", "E"};
    int p = 0;
    while (v >= 1000 && p < 6) v /= 1000, ++p;
    char buf[32];
    std::snprintf(buf, sizeof buf, v < 10 && p ? "%.2f %s%s" : "%.0f %s%s", v, prefixes[p], unit);
    return buf;
}
inline std::string bytes(double v) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    int u = 0;
    while (v >= 1024 && u < 5) v /= 1024, ++u;
    char buf[32];
    std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", v, units[u]);
    return buf;
}
}  // namespace detail

/**
 * @brief Prints a table like Keras' model.summary(): one row per layer with its output shape,
 * parameters, forward FLOPs of the batch and the activation memory it keeps, then the totals of a
 * training step with `opt`. `batch` counts samples, or sequences of `seq_len` tokens.
 */
template <class Model>
void summary(std::ostream& out, double batch, int seq_len = 1, Optimizer opt = Optimizer::sgd) {
    const double samples = batch * seq_len;
    char cols_buf[40];
    if (seq_len > 1)
        std::snprintf(cols_buf, sizeof cols_buf, "%d*%ld", seq_len, long(batch));
    else
        std::snprintf(cols_buf, sizeof cols_buf, "%ld", long(batch));
    const std::string cols = cols_buf;
    char line[256];
    std::snprintf(line, sizeof line, "%-52s %-14s %12s %12s %12s\n", "layer", "output", "parameters", "forward FLOPs",
                  "activations");
    out << Model::name() << "\n" << line << std::string(106, '-') << "\n";
    auto row = [&](const std::string& name, const Cost& c, int rows) {
        if (rows < 0) {
            out << name << "\n";
            return;
        }
        char shape[48];
        std::snprintf(shape, sizeof shape, "(%d, %s)", rows, cols.c_str());
        std::snprintf(line, sizeof line, "%-52s %-14s %12.0f %12s %12s\n", name.c_str(), shape, c.parameters,
                      detail::human(c.forward_flops * samples, "").c_str(),
                      detail::bytes(c.activation_bytes * samples).c_str());
        out << line;
    };
    if constexpr (requires { Model::describe(row, seq_len); })
        Model::describe(row, seq_len);
    else
        row(Model::name(), Model::cost(seq_len), Model::out_size);
    const StepCost s = step_cost<Model>(batch, seq_len, opt);
    const char* opt_name = opt == Optimizer::adamw          ? "AdamW"
                           : opt == Optimizer::sgd_momentum ? "SGD + momentum"
                                                            : "SGD";
    out << std::string(106, '-') << "\n";
    std::snprintf(line, sizeof line, "parameters: %.0f (%s); gradients %s; %s state %s; activations %s; total %s\n",
                  s.per_sample.parameters, detail::bytes(s.parameter_bytes).c_str(),
                  detail::bytes(s.gradient_bytes).c_str(), opt_name, detail::bytes(s.optimizer_bytes).c_str(),
                  detail::bytes(s.activation_bytes).c_str(), detail::bytes(s.total_bytes()).c_str());
    out << line;
    std::snprintf(line, sizeof line, "one training step (%.0f %s): forward %s, backward %s, total %s\n", samples,
                  seq_len > 1 ? "tokens" : "samples", detail::human(s.forward_flops(), "FLOPs").c_str(),
                  detail::human(s.backward_flops(), "FLOPs").c_str(), detail::human(s.flops(), "FLOPs").c_str());
    out << line;
}

}  // namespace neuronka
