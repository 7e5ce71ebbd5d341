/// @file
/// @brief GRU<Scalar, In, Hidden>: a gated recurrent layer that reads each sequence left to right.
///
/// Shapes: In input features, Hd = Hidden, T sequence length, B sequences, TB = T·B. Input In × TB and
/// output Hd × TB, each sequence's T columns together (column b·T + t is step t of sequence b).
/// Gate rows are ordered r, z, n, as in PyTorch's nn.GRU, whose weights load unchanged.
#pragma once

#include "../core/layer.hpp"
#include "../core/products.hpp"

#include <cmath>
#include <utility>

namespace neuronka {

/**
 * @brief Gated recurrent unit: a state h of Hidden features is carried along each sequence,
 * starting at h₀ = 0; at step t, with x the input and h the previous state,
 *
 *     r = σ(W_ir x + b_ir + W_hr h + b_hr)             reset gate
 *     z = σ(W_iz x + b_iz + W_hz h + b_hz)             update gate
 *     n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))    candidate
 *     h' = (1 − z) ⊙ n + z ⊙ h                         the output of step t, and the next state
 *
 * W_ih = [W_ir; W_iz; W_in] (3Hd × In), W_hh = [W_hr; W_hz; W_hn] (3Hd × Hd), b_ih and b_hh (3Hd):
 * PyTorch's `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, in that order. All four
 * start as U(−1/√Hd, 1/√Hd), as in PyTorch. The input products of all steps are one matrix
 * product; only the recurrent product W_hh h runs step by step.
 */
template <class Scalar, int In, int Hidden>
struct GRU {
    static_assert(In > 0 && Hidden > 0, "GRU<Scalar, In, Hidden>: In and Hidden must both be positive");
    static_assert(std::is_floating_point_v<Scalar>, "GRU<Scalar, In, Hidden>: Scalar must be float or double");
    using scalar_type = Scalar;              ///< the scalar type: float or double
    static constexpr int in_size = In;       ///< In: features of one token (column)
    static constexpr int out_size = Hidden;  ///< Hd: the hidden state per token
    static constexpr int G = 3 * Hidden;     ///< rows of the three gates (reset, update, new)
    static constexpr std::size_t parameter_count =
        std::size_t(G) * (In + Hidden) + 2 * std::size_t(G);  ///< trainable parameters, counted from the type
    static constexpr std::size_t parameter_tensors =
        4;  ///< parameter tensors visit_parameters() shows: W_ih, W_hh, b_ih, b_hh

    Storage<Scalar, G, In> W_ih;       ///< input weights, 3Hd × In
    Storage<Scalar, G, Hidden> W_hh;   ///< recurrent weights, 3Hd × Hd
    Vector<Scalar, G> b_ih;            ///< input biases, 3Hd
    Vector<Scalar, G> b_hh;            ///< recurrent biases, 3Hd
    Storage<Scalar, G, In> dW_ih;      ///< gradient of W_ih, accumulated
    Storage<Scalar, G, Hidden> dW_hh;  ///< gradient of W_hh
    Vector<Scalar, G> db_ih;           ///< gradient of b_ih
    Vector<Scalar, G> db_hh;           ///< gradient of b_hh

    /// Weights drawn from `seed` as PyTorch's nn.GRU draws them (see init()).
    explicit GRU(std::uint64_t seed = 0)
        : W_ih(G, In), W_hh(G, Hidden), b_ih(G), b_hh(G), dW_ih(G, In), dW_hh(G, Hidden), db_ih(G), db_hh(G) {
        Rng rng(seed);
        init(rng);
    }
    /// Per token: the input and recurrent products 2·3Hd·(In + Hd) forward, twice that backward
    /// (weight gradients and input / state gradients); gates, states and their gradients kept.
    static constexpr Cost cost(int = 1) {
        return {double(parameter_count), 2.0 * G * (In + Hidden), 4.0 * G * (In + Hidden),
                double(10 * Hidden + In) * sizeof(Scalar)};
    }
    /// The name with its sizes, as summaries and messages print it.
    static std::string name() { return layer_name({"GRU<In=", In, ",Hidden=", Hidden, ">"}); }
    /// Re-initialises the parameters from `rng`.
    void init(Rng& rng) {
        const double bound = 1 / std::sqrt(double(Hidden));
        initialise_uniform(W_ih, rng, bound);
        initialise_uniform(W_hh, rng, bound);
        initialise_uniform(b_ih, rng, bound);
        initialise_uniform(b_hh, rng, bound);
        zero_grad();
    }

    /// x: In × (T·B), seq_len: T  →  y: Hd × (T·B), the state after each step
    template <class Derived>
    const Batch<Scalar, Hidden>& forward(const Eigen::MatrixBase<Derived>& x, int seq_len) {
        check_shapes(x, seq_len, "forward");
        const Eigen::Ref<const Batch<Scalar, In>> xr(x);  // an expression is evaluated once, then checked and used
        check_entry_values({&name, "forward"}, xr);
        T_ = seq_len;
        return recur(xr, seq_len, gates_, h_prev_, ghn_, y_, gh_);
    }

    /// The buffers of one caller of predict().
    struct Workspace {
        Batch<Scalar, G> gates;        ///< the gate pre-activations
        Batch<Scalar, G> gh;           ///< W_hh h + b_hh
        Batch<Scalar, Hidden> h_prev;  ///< the previous hidden state
        Batch<Scalar, Hidden> ghn;     ///< the new gate's recurrent part
        Batch<Scalar, Hidden> y;       ///< the output, as forward computes it
    };
    /// x: In × (T·B), seq_len: T  →  y: Hd × (T·B) in `ws`, as forward; reads the weights only, so
    /// threads may predict with one layer at once, each with its own Workspace.
    template <class Derived>
    const Batch<Scalar, Hidden>& predict(const Eigen::MatrixBase<Derived>& x, Workspace& ws, int seq_len) const {
        check_shapes(x, seq_len, "predict");
        const Eigen::Ref<const Batch<Scalar, In>> xr(x);
        check_entry_values({&name, "predict"}, xr);
        return recur(xr, seq_len, ws.gates, ws.h_prev, ws.ghn, ws.y, ws.gh);
    }

    /// x: In × (T·B) (given to forward), dy: Hd × (T·B), the gradient of every step's output  →
    /// dx: In × (T·B). Backpropagation through time; all four parameters' gradients accumulate.
    template <class DerivedX, class DerivedY>
    const Batch<Scalar, In>& backward(const Eigen::MatrixBase<DerivedX>& x, const Eigen::MatrixBase<DerivedY>& dy) {
        check_backward({&name, "backward"}, x, In, dy, Hidden, y_.cols());
        const Eigen::Ref<const Batch<Scalar, In>> xr(x);
        const Eigen::Ref<const Batch<Scalar, Hidden>> dyr(dy);
        const Eigen::Index TB = xr.cols(), Tn = T_;
        dgh_.resize(G, TB), dan_.resize(Hidden, TB);
        dh_.setZero(Hidden, TB / Tn);  // d(loss)/d(state), carried from step t + 1 back to step t
        for (Eigen::Index t = Tn - 1; t >= 0; --t) {
            const auto g = time_step(std::as_const(gates_), t, Tn);
            const auto r = g.topRows(Hidden).array(), z = g.middleRows(Hidden, Hidden).array(),
                       n = g.bottomRows(Hidden).array();
            const auto h = time_step(std::as_const(h_prev_), t, Tn).array();
            const auto ghn = time_step(std::as_const(ghn_), t, Tn).array();
            auto dgh = time_step(dgh_, t, Tn);  // 3Hd × B: gradient of gh = W_hh h + b_hh
            auto dan = time_step(dan_, t, Tn);  // Hd × B: gradient of n's argument
            dh_ += time_step(dyr, t, Tn);       // h' is an output and the next step's state
            // h' = (1 − z) n + z h  →  dn = dh' (1 − z), dz = dh' (h − n), dh = dh' z (+ through gh below)
            // n = tanh(a_n)  →  da_n = dn (1 − n²);  z = σ(a_z)  →  da_z = dz z (1 − z)
            dan = (dh_.array() * (1 - z) * (1 - n.square())).matrix();
            dgh.middleRows(Hidden, Hidden) = (dh_.array() * (h - n) * z * (1 - z)).matrix();
            // a_n = (W_in x + b_in) + r ⊙ ghn  →  dghn = da_n ⊙ r, dr = da_n ⊙ ghn;  r = σ(a_r)  →  da_r = dr r (1 − r)
            dgh.bottomRows(Hidden) = (dan.array() * r).matrix();
            dgh.topRows(Hidden) = (dan.array() * ghn * r * (1 - r)).matrix();
            // the state reaches step t directly (z ⊙ h) and through gh = W_hh h + b_hh
            dh_.array() *= z;
            dh_.noalias() += W_hh.transpose() * dgh;
        }
        // gh = W_hh h + b_hh at every step  →  dW_hh += dgh hᵀ, db_hh += Σ dgh
        dW_hh.noalias() += dgh_ * h_prev_.transpose();
        db_hh += dgh_.rowwise().sum();
        // W_ih x + b_ih feeds a_r and a_z directly (their gradients are dgh's) and a_n (da_n)
        dW_ih.topRows(2 * Hidden).noalias() += dgh_.topRows(2 * Hidden) * xr.transpose();
        dW_ih.bottomRows(Hidden).noalias() += dan_ * xr.transpose();
        db_ih.head(2 * Hidden) += dgh_.topRows(2 * Hidden).rowwise().sum();
        db_ih.tail(Hidden) += dan_.rowwise().sum();
        dx_.resize(In, TB);
        dx_.noalias() =
            W_ih.topRows(2 * Hidden).transpose() * dgh_.topRows(2 * Hidden);  // dx = W_ihᵀ [da_r; da_z; da_n]
        dx_.noalias() += W_ih.bottomRows(Hidden).transpose() * dan_;
        return dx_;
    }

    /// The output of the last forward.
    const Batch<Scalar, Hidden>& output() const { return y_; }
    /// The sequence length of the last forward.
    int sequence_length() const { return T_; }
    /// Gradients read as zero from now on; the next backward writes them instead of adding.
    void zero_grad() { dW_ih.setZero(), dW_hh.setZero(), db_ih.setZero(), db_hh.setZero(); }
    /// Calls `f` on each parameter with its gradient (a ParamView), in a fixed order: what optimisers and checkpoints
    /// use.
    template <class F>
    void visit_parameters(F&& f) {
        f(parameter("weight_ih_l0", W_ih, dW_ih, Order::by_rows));  // as PyTorch's nn.GRU: (3·Hidden, In)
        f(parameter("weight_hh_l0", W_hh, dW_hh, Order::by_rows));  // (3·Hidden, Hidden)
        f(parameter("bias_ih_l0", b_ih, db_ih));                    // (3·Hidden)
        f(parameter("bias_hh_l0", b_hh, db_hh));                    // (3·Hidden)
    }

private:
    template <class Derived>
    static void check_shapes(const Eigen::MatrixBase<Derived>& x, int seq_len, const char* method) {
        static_assert(Derived::RowsAtCompileTime == Eigen::Dynamic || Derived::RowsAtCompileTime == In,
                      "GRU: the input's compile-time row count differs from In");
        check_shape({&name, method}, x, In);
        check_sequence({&name, method}, x.cols(), seq_len);
    }

    // The recurrence over T steps of B sequences (forward and predict); gates, h_prev and ghn are
    // what backward needs.
    const Batch<Scalar, Hidden>& recur(const Eigen::Ref<const Batch<Scalar, In>>& xr, int seq_len,
                                       Batch<Scalar, G>& gates, Batch<Scalar, Hidden>& h_prev,
                                       Batch<Scalar, Hidden>& ghn, Batch<Scalar, Hidden>& y,
                                       Batch<Scalar, G>& gh) const {
        const Eigen::Index TB = xr.cols(), Tn = seq_len;
        gates.resize(G, TB), h_prev.resize(Hidden, TB), ghn.resize(Hidden, TB), y.resize(Hidden, TB);
        gh.resize(G, TB / Tn);
        gates.noalias() = W_ih * xr;  // W_ih x for every step at once; becomes [r; z; n] below
        gates.colwise() += b_ih;
        for (Eigen::Index t = 0; t < Tn; ++t) {
            auto h = time_step(h_prev, t, Tn);  // Hd × B: the state before step t
            if (t == 0)
                h.setZero();  // h₀ = 0
            else
                h = time_step(y, t - 1, Tn);
            gh.noalias() = W_hh * h;  // gh = W_hh h + b_hh
            gh.colwise() += b_hh;
            auto g = time_step(gates, t, Tn);  // 3Hd × B, holding W_ih x + b_ih
            auto r = g.topRows(Hidden).array(), z = g.middleRows(Hidden, Hidden).array(),
                 n = g.bottomRows(Hidden).array();
            r = (r + gh.topRows(Hidden).array()).logistic();               // r = σ(…)
            z = (z + gh.middleRows(Hidden, Hidden).array()).logistic();    // z = σ(…)
            time_step(ghn, t, Tn) = gh.bottomRows(Hidden);                 // W_hn h + b_hn, kept for backward
            n = (n + r * gh.bottomRows(Hidden).array()).tanh();            // n = tanh(… + r ⊙ (W_hn h + b_hn))
            time_step(y, t, Tn) = ((1 - z) * n + z * h.array()).matrix();  // h' = (1 − z) n + z h
        }
        return y;
    }

    int T_ = 0;
    Batch<Scalar, G> gates_;              // 3Hd × TB: [r; z; n] of every step
    Batch<Scalar, Hidden> h_prev_, ghn_;  // Hd × TB: the state before each step; W_hn h + b_hn
    Batch<Scalar, Hidden> y_;             // Hd × TB
    Batch<Scalar, G> gh_;                 // 3Hd × B: W_hh h + b_hh of the current step
    Batch<Scalar, G> dgh_;                // 3Hd × TB: gradient of W_hh h + b_hh
    Batch<Scalar, Hidden> dan_, dh_;      // Hd × TB: gradient of n's argument; Hd × B: of the state
    Batch<Scalar, In> dx_;                // In × TB
};

}  // namespace neuronka
