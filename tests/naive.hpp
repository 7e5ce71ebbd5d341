// Naive loop references for the tests: the same math as the layers, written as plain loops with
// no Eigen products, so a bug in the fast path cannot hide in the oracle.
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <vector>

namespace naive {

// y(o, b) = Σ_i W(o, i) x(i, b) + bias(o)
template <class M, class V>
M dense_forward(const M& W, const V& bias, const M& x) {
    M y(W.rows(), x.cols());
    for (Eigen::Index b = 0; b < x.cols(); ++b)
        for (Eigen::Index o = 0; o < W.rows(); ++o) {
            typename M::Scalar s = bias(o);
            for (Eigen::Index i = 0; i < W.cols(); ++i) s += W(o, i) * x(i, b);
            y(o, b) = s;
        }
    return y;
}

// dW(o, i) = Σ_b dy(o, b) x(i, b);  db(o) = Σ_b dy(o, b);  dx(i, b) = Σ_o W(o, i) dy(o, b)
template <class M, class V>
void dense_backward(const M& W, const M& x, const M& dy, M& dW, V& db, M& dx) {
    dW.setZero(W.rows(), W.cols());
    db.setZero(W.rows());
    dx.setZero(x.rows(), x.cols());
    for (Eigen::Index b = 0; b < x.cols(); ++b)
        for (Eigen::Index o = 0; o < W.rows(); ++o) {
            db(o) += dy(o, b);
            for (Eigen::Index i = 0; i < W.cols(); ++i) {
                dW(o, i) += dy(o, b) * x(i, b);
                dx(i, b) += W(o, i) * dy(o, b);
            }
        }
}

template <class T>
T gelu(T x) {
    const T c = std::sqrt(T(2) / T(3.14159265358979323846));
    return T(0.5) * x * (T(1) + std::tanh(c * (x + T(0.044715) * x * x * x)));
}

// mean over columns of -log softmax(z)[label]
template <class M>
double softmax_cross_entropy(const M& z, const std::vector<int>& labels) {
    double total = 0;
    for (Eigen::Index b = 0; b < z.cols(); ++b) {
        double s = 0;
        for (Eigen::Index i = 0; i < z.rows(); ++i) s += std::exp(double(z(i, b)));
        total += std::log(s) - double(z(labels[b], b));
    }
    return total / double(z.cols());
}

}  // namespace naive
