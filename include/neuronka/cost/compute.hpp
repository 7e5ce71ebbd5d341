/// @file
/// @brief What training costs: parameters, FLOPs, PF-days, time, memory, energy, CO2 and water of a
/// transformer, from its shape. Every formula, its source and its assumptions are in docs/cost.md.
#pragma once

#include "../detail/format.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace neuronka::compute {

/// A decoder-only transformer's shape (GPT-style: learned positions, tied or untied head). The
/// attention width is taken as d_model (as in Kaplan et al.'s counts), so the number of heads
/// changes no count; GPT-3's own table lists shapes where heads × d_head differs from d_model.
struct TransformerShape {
    double layers = 0;      ///< transformer blocks
    double d_model = 0;     ///< model width
    double heads = 0;       ///< attention heads
    double context = 0;     ///< context length in tokens
    double vocab = 0;       ///< vocabulary size
    double d_ff = 0;        ///< MLP width; 0 means 4 · d_model
    bool tied_head = true;  ///< the output layer reuses the token embedding (GPT-2/3); false adds vocab · d_model
    /// The MLP width used: d_ff, or 4 · d_model when d_ff is 0.
    double ff() const { return d_ff > 0 ? d_ff : 4 * d_model; }
};

/// Throws std::invalid_argument naming `what` unless `v` is finite and > 0.
inline void check_positive(const char* what, double v) {
    if (!(v > 0) || !std::isfinite(v))
        throw std::invalid_argument(std::string("compute: ") + what + " is " + detail::format_value(v) +
                                    ", expected a finite value > 0");
}

/// Throws std::invalid_argument naming the field unless every size of `s` is positive (d_ff: >= 0).
inline void validate(const TransformerShape& s) {
    check_positive("layers", s.layers), check_positive("d_model", s.d_model), check_positive("heads", s.heads);
    check_positive("context", s.context), check_positive("vocab", s.vocab);
    if (s.d_ff < 0) throw std::invalid_argument("compute: d_ff is negative");
}

/// Parameters without embeddings (Kaplan et al. 2020's N): per layer the attention projections
/// 4·d² + 4·d (weights and biases of Q, K, V, output), the MLP 2·d·d_ff + d_ff + d, two LayerNorms 4·d;
/// plus the final LayerNorm 2·d.
inline double parameters_without_embeddings(const TransformerShape& s) {
    validate(s);
    const double d = s.d_model, f = s.ff();
    return s.layers * (4 * d * d + 4 * d + 2 * d * f + f + d + 4 * d) + 2 * d;
}

/// Parameters including the token and position embeddings (and the head when it is not tied).
inline double parameters_with_embeddings(const TransformerShape& s) {
    const double embeddings = s.vocab * s.d_model + s.context * s.d_model;
    return parameters_without_embeddings(s) + embeddings + (s.tied_head ? 0 : s.vocab * s.d_model + s.vocab);
}

/// Training FLOPs for `tokens` tokens. The GPT-3 paper's convention C = 6·N·D: 2 FLOPs per parameter
/// per token forward, backward twice the forward, attention ignored. With `attention`, Kaplan et
/// al.'s forward term 2·n_layer·n_ctx·d_attn per token is added (and tripled for forward + backward).
inline double training_flops(double parameters, double tokens, const TransformerShape* attention = nullptr) {
    check_positive("parameters", parameters), check_positive("tokens", tokens);
    double per_token = 6 * parameters;
    if (attention) per_token += 3 * 2 * attention->layers * attention->context * attention->d_model;
    return per_token * tokens;
}

/// One petaFLOP/s-day: 10^15 FLOP/s for 86,400 s.
inline constexpr double pf_day = 1e15 * 86400;
/// `flops` in petaFLOP/s-days.
inline double pf_days(double flops) {
    return flops / pf_day;
}

/// Wall-clock seconds to do `flops` on hardware with `peak` FLOP/s used at `utilisation` (0, 1].
inline double seconds(double flops, double peak, double utilisation = 1) {
    check_positive("peak FLOP/s", peak);
    if (!(utilisation > 0 && utilisation <= 1))
        throw std::invalid_argument("compute: utilisation is " + std::to_string(utilisation) + ", expected (0, 1]");
    return flops / (peak * utilisation);
}

/// A machine to train on; `source` says where the figure comes from.
struct Machine {
    const char* name;    ///< the name shown in summaries and messages
    double peak_flops;   ///< FLOP/s at full utilisation
    const char* source;  ///< where the figure comes from
};
/// The lecture's low-end gaming PC: 100 GFLOPS.
inline constexpr Machine gaming_pc_low{"gaming PC, low end (100 GFLOPS)", 1e11, "the lecture: 100 gigaFLOPS"};
/// The lecture's high-end gaming PC: 10 TFLOPS.
inline constexpr Machine gaming_pc_high{"gaming PC, high end (10 TFLOPS)", 1e13, "the lecture: 10 teraFLOPS"};
/// LUMI at its peak, as the lecture quotes it.
inline constexpr Machine lumi_peak{"LUMI, peak (531 PFLOPS)", 531e15, "the lecture: LUMI 531 petaFLOPS (Rpeak)"};
/// LUMI as measured by HPL (TOP500 Rmax).
inline constexpr Machine lumi_hpl{"LUMI, measured HPL (379.7 PFLOPS)", 379.7e15, "TOP500 list, LUMI Rmax 379.7 PFLOPS"};
/// One NVIDIA V100, the GPU GPT-3 was trained on.
inline constexpr Machine v100{"NVIDIA V100 (125 TFLOPS)", 125e12,
                              "NVIDIA V100 datasheet: 125 TFLOPS mixed-precision tensor"};

/// Bytes to train: parameters + gradients + optimiser state, each of `bytes_per_value`
/// (4 for fp32); the optimiser keeps `optimizer_values` numbers per parameter (0 plain SGD,
/// 1 SGD with momentum, 2 Adam/AdamW). Activations are not included.
inline double training_memory_bytes(double parameters, double bytes_per_value = 4, int optimizer_values = 2) {
    check_positive("parameters", parameters), check_positive("bytes per value", bytes_per_value);
    if (optimizer_values < 0) throw std::invalid_argument("compute: optimizer_values is negative");
    return parameters * bytes_per_value * (2 + optimizer_values);
}

/// Energy of a training run in kWh: processors × average power (W) × hours × PUE / 1000.
inline double energy_kwh(double processors, double watts, double hours, double pue = 1) {
    check_positive("processors", processors), check_positive("watts", watts), check_positive("hours", hours);
    if (!(pue >= 1) || !std::isfinite(pue))
        throw std::invalid_argument("compute: PUE is " + std::to_string(pue) + ", expected >= 1");
    return processors * watts * hours * pue / 1000;
}
/// Tonnes of CO2-equivalent for `kwh` at a grid intensity in kg CO2e per kWh.
inline double co2_tonnes(double kwh, double kg_per_kwh) {
    return kwh * kg_per_kwh / 1000;
}
/// Litres of on-site water for `kwh` at a water-usage effectiveness in L per kWh.
inline double water_litres(double kwh, double litres_per_kwh) {
    return kwh * litres_per_kwh;
}

/// The lecture's household: 3,500 kWh of electricity and 32,000 L of water a year.
inline constexpr double household_kwh_per_year = 3500;
/// The lecture's household: 32,000 L of water a year.
inline constexpr double household_litres_per_year = 32000;

}  // namespace neuronka::compute
