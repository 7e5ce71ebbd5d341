/// @file
/// @brief LSTM<Scalar, In, Hidden>: a long short-term memory layer that reads each sequence left to right.
///
/// Shapes: In input features, Hd = Hidden, T sequence length, B sequences, TB = T·B. Input In × TB and
/// output Hd × TB, each sequence's T columns together (column b·T + t is step t of sequence b).
/// Gate rows are ordered i, f, g, o, as in PyTorch's nn.LSTM, whose weights load unchanged.
#pragma once

#include "../core/layer.hpp"

#include <cmath>
#include <string>
#include <utility>

namespace neuronka {

/**
 * @brief Long short-term memory: a state h and a cell c of Hidden features each are carried along
 * each sequence, starting at h₀ = c₀ = 0; at step t, with x the input and h, c the previous state,
 *
 *     a = W_ih x + b_ih + W_hh h + b_hh     (4Hd: the gates' arguments, rows i, f, g, o)
 *     i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o)
 *     c' = f ⊙ c + i ⊙ g                   the next cell
 *     h' = o ⊙ tanh(c')                    the output of step t, and the next state
 *
 * W_ih (4Hd × In), W_hh (4Hd × Hd), b_ih and b_hh (4Hd) are PyTorch's `weight_ih_l0`,
 * `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`. All four start as U(−1/√Hd, 1/√Hd), as in PyTorch.
 * The input products of all steps are one matrix product; only the recurrent product runs step by step.
 *
 * @tparam Scalar float or double
 * @tparam In     input features of one token (> 0)
 * @tparam Hidden features of the state and the cell (> 0)
 */
template <class Scalar, int In, int Hidden>
struct LSTM {
    static_assert(In > 0 && Hidden > 0, "LSTM<Scalar, In, Hidden>: In and Hidden must both be positive");
    static_assert(std::is_floating_point_v<Scalar>, "LSTM<Scalar, In, Hidden>: Scalar must be float or double");

    using scalar_type = Scalar;              ///< float or double
    static constexpr int in_size = In;       ///< features of one input column (token)
    static constexpr int out_size = Hidden;  ///< the state h of each token
    static constexpr int G = 4 * Hidden;     ///< rows of the four gates (i, f, g, o)
    static constexpr std::size_t parameter_count =
        std::size_t(G) * (In + Hidden) + 2 * std::size_t(G);  ///< W_ih, W_hh, b_ih, b_hh
    static constexpr std::size_t parameter_tensors = 4;       ///< ParamViews visit_parameters() gives

    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;  ///< the weights' type
    Matrix W_ih;                                                           ///< input weights, 4Hd × In
    Matrix W_hh;                                                           ///< recurrent weights, 4Hd × Hd
    Vector<Scalar, G> b_ih;                                                ///< input biases, 4Hd
    Vector<Scalar, G> b_hh;                                                ///< recurrent biases, 4Hd
    Matrix dW_ih;                                                          ///< gradient of W_ih, accumulated
    Matrix dW_hh;                                                          ///< gradient of W_hh
    Vector<Scalar, G> db_ih;                                               ///< gradient of b_ih
    Vector<Scalar, G> db_hh;                                               ///< gradient of b_hh

    /// Weights drawn from `seed` as PyTorch's nn.LSTM draws them (see init()).
    explicit LSTM(std::uint64_t seed = 0)
        : W_ih(G, In), W_hh(G, Hidden), b_ih(G), b_hh(G), dW_ih(G, In), dW_hh(G, Hidden), db_ih(G), db_hh(G) {
        Rng rng(seed);
        init(rng);
    }
    /// Per token: the input and recurrent products 2·4Hd·(In + Hd) forward, twice that backward
    /// (weight gradients and input / state gradients); gates, states, cells and their gradients kept.
    static constexpr Cost cost(int = 1) {
        return {double(parameter_count), 2.0 * G * (In + Hidden), 4.0 * G * (In + Hidden),
                double(2 * G + 5 * Hidden + In) * sizeof(Scalar)};
    }
    /// The name with its sizes, as summaries and error messages print it.
    static std::string name() { return layer_name({"LSTM<In=", In, ",Hidden=", Hidden, ">"}); }
    /// Draws all four tensors from U(−1/√Hd, 1/√Hd) and zeroes the gradients.
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
        const Eigen::Ref<const Batch<Scalar, In>> xr(x);  // an expression is evaluated once
        check_entry_values({&name, "forward"}, xr);
        T_ = seq_len;
        return recur(xr, seq_len, gates_, h_prev_, c_prev_, c_, y_);
    }

    /// x: In × (T·B) (given to forward), dy: Hd × (T·B), the gradient of every step's output  →
    /// dx: In × (T·B). Backpropagation through time; all four parameters' gradients accumulate.
    template <class DerivedX, class DerivedY>
    const Batch<Scalar, In>& backward(const Eigen::MatrixBase<DerivedX>& x, const Eigen::MatrixBase<DerivedY>& dy) {
        check_backward({&name, "backward"}, x, In, dy, Hidden, y_.cols());
        const Eigen::Ref<const Batch<Scalar, In>> xr(x);
        const Eigen::Ref<const Batch<Scalar, Hidden>> dyr(dy);
        const Eigen::Index TB = xr.cols(), Tn = T_;
        da_.resize(G, TB);
        dh_.setZero(Hidden, TB / Tn);  // d(loss)/d(h), carried from step t + 1 back to step t
        dc_.setZero(Hidden, TB / Tn);  // d(loss)/d(c), the same for the cell
        for (Eigen::Index t = Tn - 1; t >= 0; --t) {
            const auto gates = time_step(std::as_const(gates_), t, Tn);  // 4Hd × B: i, f, g, o (activated)
            const auto i = gates.topRows(Hidden).array(), f = gates.middleRows(Hidden, Hidden).array(),
                       g = gates.middleRows(2 * Hidden, Hidden).array(), o = gates.bottomRows(Hidden).array();
            const auto c = time_step(std::as_const(c_), t, Tn).array();            // c' of this step
            const auto c_prev = time_step(std::as_const(c_prev_), t, Tn).array();  // c before it
            auto da = time_step(da_, t, Tn);                                       // 4Hd × B
            dh_ += time_step(dyr, t, Tn);  // h' is an output and the next step's state
            // forward: h' = o ⊙ tanh(c')  →  do = dh' ⊙ tanh(c'), dc' += dh' ⊙ o ⊙ (1 − tanh²(c'))
            da.bottomRows(Hidden) = (dh_.array() * c.tanh() * o * (1 - o)).matrix();  // da_o = do ⊙ o (1 − o)
            dc_.array() += dh_.array() * o * (1 - c.tanh().square());
            // forward: c' = f ⊙ c + i ⊙ g  →  di = dc' ⊙ g, df = dc' ⊙ c, dg = dc' ⊙ i, dc = dc' ⊙ f
            da.topRows(Hidden) = (dc_.array() * g * i * (1 - i)).matrix();                      // da_i
            da.middleRows(Hidden, Hidden) = (dc_.array() * c_prev * f * (1 - f)).matrix();      // da_f
            da.middleRows(2 * Hidden, Hidden) = (dc_.array() * i * (1 - g.square())).matrix();  // da_g
            dc_.array() *= f;
            // forward: a = … + W_hh h + b_hh  →  dh = W_hhᵀ da
            dh_.noalias() = W_hh.transpose() * da;
        }
        // a = W_ih x + b_ih + W_hh h + b_hh at every step: the four gradients from da
        dW_hh.noalias() += da_ * h_prev_.transpose();
        db_hh += da_.rowwise().sum();
        dW_ih.noalias() += da_ * xr.transpose();
        db_ih += da_.rowwise().sum();
        dx_.resize(In, TB);
        dx_.noalias() = W_ih.transpose() * da_;
        return dx_;
    }

    /// The output of the last forward.
    const Batch<Scalar, Hidden>& output() const { return y_; }
    /// The sequence length of the last forward.
    int sequence_length() const { return T_; }
    /// Gradients read as zero from now on; the next backward adds to zero.
    void zero_grad() { dW_ih.setZero(), dW_hh.setZero(), db_ih.setZero(), db_hh.setZero(); }
    /// The four tensors, declared once under PyTorch's names.
    template <class F>
    void visit_parameters(F&& f) {
        f(parameter("weight_ih_l0", W_ih, dW_ih, Order::by_rows));  // as PyTorch's nn.LSTM: (4·Hidden, In)
        f(parameter("weight_hh_l0", W_hh, dW_hh, Order::by_rows));  // (4·Hidden, Hidden)
        f(parameter("bias_ih_l0", b_ih, db_ih));                    // (4·Hidden)
        f(parameter("bias_hh_l0", b_hh, db_hh));                    // (4·Hidden)
    }

    /// The buffers of one caller of predict().
    struct Workspace {
        Batch<Scalar, G> gates;        ///< the activated gates of every step: 4Hd × TB
        Batch<Scalar, Hidden> h_prev;  ///< the state before each step: Hd × TB
        Batch<Scalar, Hidden> c_prev;  ///< the cell before each step: Hd × TB
        Batch<Scalar, Hidden> c;       ///< the cell after each step: Hd × TB
        Batch<Scalar, Hidden> y;       ///< the output: Hd × TB
    };
    /// x: In × (T·B), seq_len: T  →  y: Hd × (T·B) in `ws`, as forward; reads the weights only, so
    /// threads may predict with one layer at once, each with its own Workspace.
    template <class Derived>
    const Batch<Scalar, Hidden>& predict(const Eigen::MatrixBase<Derived>& x, Workspace& ws, int seq_len) const {
        check_shapes(x, seq_len, "predict");
        const Eigen::Ref<const Batch<Scalar, In>> xr(x);
        check_entry_values({&name, "predict"}, xr);
        return recur(xr, seq_len, ws.gates, ws.h_prev, ws.c_prev, ws.c, ws.y);
    }

private:
    template <class Derived>
    static void check_shapes(const Eigen::MatrixBase<Derived>& x, int seq_len, const char* method) {
        check_shape({&name, method}, x, In);
        check_sequence({&name, method}, x.cols(), seq_len);
    }

    // The recurrence over T steps of B sequences (forward and predict); gates, h_prev, c_prev and c
    // are what backward needs.
    const Batch<Scalar, Hidden>& recur(const Eigen::Ref<const Batch<Scalar, In>>& xr, int seq_len,
                                       Batch<Scalar, G>& gates, Batch<Scalar, Hidden>& h_prev,
                                       Batch<Scalar, Hidden>& c_prev, Batch<Scalar, Hidden>& c,
                                       Batch<Scalar, Hidden>& y) const {
        const Eigen::Index TB = xr.cols(), Tn = seq_len;
        gates.resize(G, TB), h_prev.resize(Hidden, TB), c_prev.resize(Hidden, TB), c.resize(Hidden, TB);
        y.resize(Hidden, TB);
        gates.noalias() = W_ih * xr;  // W_ih x for every step at once; becomes [i; f; g; o] below
        gates.colwise() += b_ih;
        gates.colwise() += b_hh;
        for (Eigen::Index t = 0; t < Tn; ++t) {
            auto h = time_step(h_prev, t, Tn);   // Hd × B: the state before step t
            auto cp = time_step(c_prev, t, Tn);  // Hd × B: the cell before step t
            if (t == 0) {
                h.setZero(), cp.setZero();  // h₀ = c₀ = 0
            } else {
                h = time_step(y, t - 1, Tn);
                cp = time_step(c, t - 1, Tn);
            }
            auto a = time_step(gates, t, Tn);  // 4Hd × B, holding W_ih x + b_ih + b_hh
            a.noalias() += W_hh * h;           // a = W_ih x + b_ih + W_hh h + b_hh
            a.topRows(2 * Hidden) = a.topRows(2 * Hidden).array().logistic().matrix();  // i, f = σ(…)
            a.middleRows(2 * Hidden, Hidden) = a.middleRows(2 * Hidden, Hidden).array().tanh().matrix();  // g
            a.bottomRows(Hidden) = a.bottomRows(Hidden).array().logistic().matrix();                      // o
            auto cn = time_step(c, t, Tn);
            cn = (a.middleRows(Hidden, Hidden).array() * cp.array() +
                  a.topRows(Hidden).array() * a.middleRows(2 * Hidden, Hidden).array())
                     .matrix();                                                                 // c' = f c + i g
            time_step(y, t, Tn) = (a.bottomRows(Hidden).array() * cn.array().tanh()).matrix();  // h' = o tanh(c')
        }
        return y;
    }

    int T_ = 0;
    Batch<Scalar, G> gates_;                     // 4Hd × TB: i, f, g, o of every step
    Batch<Scalar, Hidden> h_prev_, c_prev_, c_;  // Hd × TB: state and cell before each step; cell after
    Batch<Scalar, Hidden> y_;                    // Hd × TB
    Batch<Scalar, G> da_;                        // 4Hd × TB: gradient of the gates' arguments
    Batch<Scalar, Hidden> dh_, dc_;              // Hd × B: of the state and the cell, carried back
    Batch<Scalar, In> dx_;                       // In × TB
};

}  // namespace neuronka
