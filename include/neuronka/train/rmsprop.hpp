/// @file
/// @brief RMSProp (optionally with momentum and centred) and Adagrad, with PyTorch's update rules.
#pragma once

#include "per_parameter.hpp"

#include <cmath>
#include <string>

namespace neuronka {

/// Hyper-parameters of RMSProp (PyTorch's RMSprop defaults, except the learning rate).
template <class Scalar>
struct RMSPropOptions {
    Scalar learning_rate = Scalar(1e-3);  ///< η > 0
    Scalar alpha = Scalar(0.99);          ///< α in [0, 1): decay of the squared-gradient average
    Scalar eps = Scalar(1e-8);            ///< ε > 0, added to the root
    Scalar momentum = Scalar(0);          ///< μ in [0, 1)
    bool centered = false;                ///< divide by the gradient's estimated standard deviation
    Scalar weight_decay = Scalar(0);      ///< λ ≥ 0, an L2 penalty: added to the gradient as λ p (as PyTorch's)
};

/**
 * @brief RMSProp (Hinton), as PyTorch's `torch.optim.RMSprop`. For every parameter p with gradient
 * g, at each step:
 *
 *     g ← g + λ p                          (when λ > 0; an L2 penalty, unlike SGD's and AdamW's decoupled decay)
 *     s ← α s + (1 − α) g²                 (mean square; starts at 0)
 *     a ← α a + (1 − α) g                  (mean, when centred; starts at 0)
 *     r ← √(s − a²) + ε   centred,   √s + ε   otherwise
 *     b ← μ b + g / r,  p ← p − η b        (with momentum μ > 0; b starts at 0)
 *     p ← p − η g / r                      (without)
 *
 * State (for checkpoints): s; b with momentum; a when centred.
 */
template <class Scalar>
class RMSProp : public detail::PerParameterOptimizer<RMSProp<Scalar>, Scalar, 3> {
public:
    /// An optimiser with `options`; invalid options throw, naming the option.
    explicit RMSProp(RMSPropOptions<Scalar> options = {}) : opt_(options) { validate(); }
    /// The options in use.
    const RMSPropOptions<Scalar>& options() const { return opt_; }
    /// Changes the learning rate (for schedules); other options stay.
    void set_learning_rate(Scalar lr) {
        opt_.learning_rate = lr;
        validate();
    }
    /// The optimiser's name in checkpoints and messages.
    static constexpr const char* kind = "RMSProp";

    /// @cond internal
    bool uses(int group) const {
        return group == 0 || (group == 1 && opt_.momentum > Scalar(0)) || (group == 2 && opt_.centered);
    }
    Scalar initial(int) const { return Scalar(0); }
    void update(std::size_t i, ParamView<Scalar>& p) {
        const Scalar lr = opt_.learning_rate, alpha = opt_.alpha, mu = opt_.momentum, wd = opt_.weight_decay;
        detail::parallel_for(p.value.size(), 1 << 14, [&](long b, long e) {
            auto value = p.value.segment(b, e - b);
            const auto g = p.grad.segment(b, e - b) + wd * value;  // g + λ p
            auto s = this->state(0)[i].segment(b, e - b);
            s = alpha * s + (Scalar(1) - alpha) * g.square();  // s ← α s + (1 − α) g²
            auto descend = [&](const auto& r) {                // r: √s + ε, or √(s − a²) + ε
                if (mu > Scalar(0)) {
                    auto m = this->state(1)[i].segment(b, e - b);
                    m = mu * m + g / r;  // b ← μ b + g / r
                    value -= lr * m;     // p ← p − η b
                } else {
                    value -= lr * g / r;  // p ← p − η g / r
                }
            };
            if (opt_.centered) {
                auto a = this->state(2)[i].segment(b, e - b);
                a = alpha * a + (Scalar(1) - alpha) * g;  // a ← α a + (1 − α) g
                descend((s - a.square()).sqrt() + opt_.eps);
            } else {
                descend(s.sqrt() + opt_.eps);
            }
        });
    }
    /// @endcond

private:
    void validate() const {
        auto bad = [](const char* what, Scalar v, const char* hint) {
            throw std::invalid_argument(std::string("RMSProp: ") + what + " is " + detail::format_value(v) + ", " +
                                        hint);
        };
        if (!(opt_.learning_rate > Scalar(0)) || !std::isfinite(opt_.learning_rate))
            bad("learning_rate", opt_.learning_rate, "expected a finite value > 0");
        if (!(opt_.alpha >= Scalar(0) && opt_.alpha < Scalar(1))) bad("alpha", opt_.alpha, "expected 0 <= alpha < 1");
        if (!(opt_.eps > Scalar(0))) bad("eps", opt_.eps, "expected eps > 0");
        if (!(opt_.momentum >= Scalar(0) && opt_.momentum < Scalar(1)))
            bad("momentum", opt_.momentum, "expected 0 <= momentum < 1");
        if (!(opt_.weight_decay >= Scalar(0)) || !std::isfinite(opt_.weight_decay))
            bad("weight_decay", opt_.weight_decay, "expected a finite value >= 0");
    }
    RMSPropOptions<Scalar> opt_;
};

/// Hyper-parameters of Adagrad (PyTorch's Adagrad defaults).
template <class Scalar>
struct AdagradOptions {
    Scalar learning_rate = Scalar(1e-2);     ///< η > 0
    Scalar lr_decay = Scalar(0);             ///< the rate at step t is η / (1 + (t − 1) · lr_decay)
    Scalar weight_decay = Scalar(0);         ///< λ ≥ 0, an L2 penalty added to the gradient (as PyTorch's)
    Scalar initial_accumulator = Scalar(0);  ///< the sum of squares' starting value, ≥ 0
    Scalar eps = Scalar(1e-10);              ///< ε > 0, added to the root
};

/**
 * @brief Adagrad (Duchi et al.), as PyTorch's `torch.optim.Adagrad`. At step t = 1, 2, ... for every
 * parameter p with gradient g:
 *
 *     g ← g + λ p                          (when λ > 0, an L2 penalty)
 *     s ← s + g²                           (s starts at initial_accumulator)
 *     p ← p − η / (1 + (t − 1) lr_decay) · g / (√s + ε)
 *
 * State (for checkpoints): s.
 */
template <class Scalar>
class Adagrad : public detail::PerParameterOptimizer<Adagrad<Scalar>, Scalar, 1> {
public:
    /// An optimiser with `options`; invalid options throw, naming the option.
    explicit Adagrad(AdagradOptions<Scalar> options = {}) : opt_(options) { validate(); }
    /// The options in use.
    const AdagradOptions<Scalar>& options() const { return opt_; }
    /// Changes the learning rate (for schedules); other options stay.
    void set_learning_rate(Scalar lr) {
        opt_.learning_rate = lr;
        validate();
    }
    /// The optimiser's name in checkpoints and messages.
    static constexpr const char* kind = "Adagrad";

    /// @cond internal
    bool uses(int) const { return true; }
    Scalar initial(int) const { return opt_.initial_accumulator; }
    void update(std::size_t i, ParamView<Scalar>& p) {
        const Scalar rate = opt_.learning_rate / (Scalar(1) + Scalar(this->steps() - 1) * opt_.lr_decay);
        const Scalar wd = opt_.weight_decay;
        detail::parallel_for(p.value.size(), 1 << 14, [&](long b, long e) {
            auto value = p.value.segment(b, e - b);
            const auto g = p.grad.segment(b, e - b) + wd * value;  // g + λ p
            auto s = this->state(0)[i].segment(b, e - b);
            s += g.square();                            // s ← s + g²
            value -= rate * g / (s.sqrt() + opt_.eps);  // p ← p − η_t g / (√s + ε)
        });
    }
    /// @endcond

private:
    void validate() const {
        auto bad = [](const char* what, Scalar v, const char* hint) {
            throw std::invalid_argument(std::string("Adagrad: ") + what + " is " + detail::format_value(v) + ", " +
                                        hint);
        };
        if (!(opt_.learning_rate > Scalar(0)) || !std::isfinite(opt_.learning_rate))
            bad("learning_rate", opt_.learning_rate, "expected a finite value > 0");
        if (!(opt_.lr_decay >= Scalar(0)) || !std::isfinite(opt_.lr_decay))
            bad("lr_decay", opt_.lr_decay, "expected a finite value >= 0");
        if (!(opt_.weight_decay >= Scalar(0)) || !std::isfinite(opt_.weight_decay))
            bad("weight_decay", opt_.weight_decay, "expected a finite value >= 0");
        if (!(opt_.initial_accumulator >= Scalar(0)) || !std::isfinite(opt_.initial_accumulator))
            bad("initial_accumulator", opt_.initial_accumulator, "expected a finite value >= 0");
        if (!(opt_.eps > Scalar(0))) bad("eps", opt_.eps, "expected eps > 0");
    }
    AdagradOptions<Scalar> opt_;
};

}  // namespace neuronka
