// Naive loop references for the tests: the same math as the layers, written as plain loops with
// no Eigen products, so a bug in the fast path cannot hide in the oracle.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <vector>

namespace naive {

// Multiply-adds performed by the naive products below (the instrumented reference for FLOP counts).
inline long long macs = 0;

// y(o, b) = Σ_i W(o, i) x(i, b) + bias(o)
template <class M, class V>
M dense_forward(const M& W, const V& bias, const M& x) {
    M y(W.rows(), x.cols());
    for (Eigen::Index b = 0; b < x.cols(); ++b)
        for (Eigen::Index o = 0; o < W.rows(); ++o) {
            typename M::Scalar s = bias(o);
            for (Eigen::Index i = 0; i < W.cols(); ++i) s += W(o, i) * x(i, b), ++macs;
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
                macs += 2;
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

namespace naive {

using M = Eigen::MatrixXd;
using V = Eigen::VectorXd;

// Multi-head attention over sequences of T columns, computing every score and mix over the full
// T × T (masked entries get probability 0). Returns y; P(b, h) in P[b*H + h]
// as (key, query).
inline M attention_forward(const M& Wqkv, const V& bqkv, const M& Wo, const V& bo, const M& x, int T, int H,
                           bool causal, std::vector<M>& P, M& qkv, M& O) {
    const Eigen::Index D = x.rows(), N = x.cols(), hd = D / H, B = N / T;
    qkv = dense_forward(Wqkv, bqkv, x);
    O = M::Zero(D, N);
    P.assign(std::size_t(B * H), M());
    const double scale = 1 / std::sqrt(double(hd));
    for (Eigen::Index b = 0; b < B; ++b)
        for (int h = 0; h < H; ++h) {
            M& p = P[std::size_t(b * H + h)];
            p = M::Zero(T, T);
            for (int t = 0; t < T; ++t) {
                for (int s = 0; s < T; ++s)
                    for (Eigen::Index i = 0; i < hd; ++i)
                        p(s, t) += qkv(D + h * hd + i, b * T + s) * qkv(h * hd + i, b * T + t), ++macs;
                const int keys = causal ? t + 1 : T;
                double m = -1e300, sum = 0;
                for (int s = 0; s < keys; ++s) m = std::max(m, p(s, t));
                for (int s = 0; s < T; ++s) p(s, t) = s < keys ? std::exp((p(s, t) - m) * scale) : 0.0, sum += p(s, t);
                for (int s = 0; s < T; ++s) p(s, t) /= sum;
            }
            for (int t = 0; t < T; ++t)
                for (int s = 0; s < T; ++s)
                    for (Eigen::Index i = 0; i < hd; ++i)
                        O(h * hd + i, b * T + t) += qkv(2 * D + h * hd + i, b * T + s) * p(s, t), ++macs;
        }
    return dense_forward(Wo, bo, O);
}

// The backward of attention_forward: counts its multiply-adds (dV, dP, dQ, dK over the full T × T,
// and both projections' dW and dx); returns dx.
inline M attention_backward(const M& Wqkv, const M& Wo, const M& x, const M& qkv, const M& O, const std::vector<M>& P,
                            const M& dy, int T, int H, M* dWqkv_out = nullptr) {
    const Eigen::Index D = x.rows(), N = x.cols(), hd = D / H, B = N / T;
    M dWo, dO, dWqkv, dx;
    V dbo, dbqkv;
    dense_backward(Wo, O, dy, dWo, dbo, dO);
    M dqkv = M::Zero(3 * D, N);
    const double scale = 1 / std::sqrt(double(hd));
    for (Eigen::Index b = 0; b < B; ++b)
        for (int h = 0; h < H; ++h) {
            const M& p = P[std::size_t(b * H + h)];
            M dP = M::Zero(T, T);
            for (int t = 0; t < T; ++t)
                for (int s = 0; s < T; ++s)
                    for (Eigen::Index i = 0; i < hd; ++i) {
                        dqkv(2 * D + h * hd + i, b * T + s) += dO(h * hd + i, b * T + t) * p(s, t);  // dV
                        dP(s, t) += qkv(2 * D + h * hd + i, b * T + s) * dO(h * hd + i, b * T + t);  // dP
                        macs += 2;
                    }
            for (int t = 0; t < T; ++t) {
                double dot = 0;
                for (int s = 0; s < T; ++s) dot += p(s, t) * dP(s, t);
                for (int s = 0; s < T; ++s) dP(s, t) = p(s, t) * (dP(s, t) - dot) * scale;
            }
            for (int t = 0; t < T; ++t)
                for (int s = 0; s < T; ++s)
                    for (Eigen::Index i = 0; i < hd; ++i) {
                        dqkv(h * hd + i, b * T + t) += qkv(D + h * hd + i, b * T + s) * dP(s, t);  // dQ
                        dqkv(D + h * hd + i, b * T + s) += qkv(h * hd + i, b * T + t) * dP(s, t);  // dK
                        macs += 2;
                    }
        }
    dense_backward(Wqkv, x, dqkv, dWqkv, dbqkv, dx);
    if (dWqkv_out) *dWqkv_out = dWqkv;
    return dx;
}

inline M layer_norm(const M& x, const V& g, const V& b) {
    M y(x.rows(), x.cols());
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
        const double mu = x.col(c).mean(), var = (x.col(c).array() - mu).square().mean();
        y.col(c) = (((x.col(c).array() - mu) / std::sqrt(var + 1e-5)) * g.array() + b.array()).matrix();
    }
    return y;
}

// RMSNorm per column, one scalar at a time: y_i = g_i · x_i / √(Σ_j x_j² / D + ε); and its
// backward written from the chain rule element by element (the Jacobian of each column, applied).
inline M rms_norm(const M& x, const V& g, double eps) {
    M y(x.rows(), x.cols());
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
        double ss = 0;
        for (Eigen::Index i = 0; i < x.rows(); ++i) ss += x(i, c) * x(i, c);
        const double rms = std::sqrt(ss / double(x.rows()) + eps);
        for (Eigen::Index i = 0; i < x.rows(); ++i) y(i, c) = g(i) * x(i, c) / rms;
    }
    return y;
}
inline M rms_norm_backward(const M& x, const V& g, double eps, const M& dy, V& dg) {
    const Eigen::Index D = x.rows();
    M dx = M::Zero(D, x.cols());
    dg = V::Zero(D);
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
        double ss = 0;
        for (Eigen::Index i = 0; i < D; ++i) ss += x(i, c) * x(i, c);
        const double rms = std::sqrt(ss / double(D) + eps);
        for (Eigen::Index i = 0; i < D; ++i) {
            dg(i) += dy(i, c) * x(i, c) / rms;
            for (Eigen::Index j = 0; j < D; ++j) {  // ∂y_i/∂x_j = g_i (δ_ij / rms − x_i x_j / (D rms³))
                const double jac =
                    g(i) * ((i == j ? 1.0 / rms : 0.0) - x(i, c) * x(j, c) / (double(D) * rms * rms * rms));
                dx(j, c) += dy(i, c) * jac;
            }
        }
    }
    return dx;
}

// One LSTM layer over B sequences of length T (column b·T + t), h₀ = c₀ = 0, gate rows i, f, g, o;
// scalar loops, one step and one hidden unit at a time.
template <class M, class V>
M lstm_forward(const M& Wih, const M& Whh, const V& bih, const V& bhh, const M& x, int T) {
    const Eigen::Index H = Whh.cols(), In = Wih.cols(), B = x.cols() / T;
    using S = typename M::Scalar;
    auto sigmoid = [](S a) { return S(1) / (S(1) + std::exp(-a)); };
    M y(H, x.cols());
    std::vector<S> h(static_cast<std::size_t>(H)), c(h), next_h(h), next_c(h);
    for (Eigen::Index b = 0; b < B; ++b) {
        std::fill(h.begin(), h.end(), S(0));
        std::fill(c.begin(), c.end(), S(0));
        for (Eigen::Index t = 0; t < T; ++t) {
            const Eigen::Index col = b * T + t;
            for (Eigen::Index j = 0; j < H; ++j) {
                S a[4];
                for (int k = 0; k < 4; ++k) {
                    const Eigen::Index row = k * H + j;
                    a[k] = bih(row) + bhh(row);
                    for (Eigen::Index q = 0; q < In; ++q) a[k] += Wih(row, q) * x(q, col);
                    for (Eigen::Index q = 0; q < H; ++q) a[k] += Whh(row, q) * h[std::size_t(q)];
                }
                const S i = sigmoid(a[0]), f = sigmoid(a[1]), g = std::tanh(a[2]), o = sigmoid(a[3]);
                next_c[std::size_t(j)] = f * c[std::size_t(j)] + i * g;
                next_h[std::size_t(j)] = o * std::tanh(next_c[std::size_t(j)]);
            }
            h = next_h, c = next_c;
            for (Eigen::Index j = 0; j < H; ++j) y(j, col) = h[std::size_t(j)];
        }
    }
    return y;
}

// One GRU layer over B sequences of length T (column b·T + t), h₀ = 0, gate rows r, z, n; scalar
// loops, one step and one hidden unit at a time.
template <class M, class V>
M gru_forward(const M& Wih, const M& Whh, const V& bih, const V& bhh, const M& x, int T) {
    const Eigen::Index H = Whh.cols(), In = Wih.cols(), B = x.cols() / T;
    using S = typename M::Scalar;
    auto sigmoid = [](S a) { return S(1) / (S(1) + std::exp(-a)); };
    M y(H, x.cols());
    std::vector<S> h(static_cast<std::size_t>(H)), next(h);
    for (Eigen::Index b = 0; b < B; ++b) {
        std::fill(h.begin(), h.end(), S(0));
        for (Eigen::Index t = 0; t < T; ++t) {
            const Eigen::Index c = b * T + t;
            for (Eigen::Index j = 0; j < H; ++j) {
                S a[3], g[3];  // gate j of r, z, n: input part a, recurrent part g
                for (int k = 0; k < 3; ++k) {
                    a[k] = bih(k * H + j), g[k] = bhh(k * H + j);
                    for (Eigen::Index i = 0; i < In; ++i) a[k] += Wih(k * H + j, i) * x(i, c);
                    for (Eigen::Index i = 0; i < H; ++i) g[k] += Whh(k * H + j, i) * h[std::size_t(i)];
                }
                const S r = sigmoid(a[0] + g[0]), z = sigmoid(a[1] + g[1]), n = std::tanh(a[2] + r * g[2]);
                next[std::size_t(j)] = (1 - z) * n + z * h[std::size_t(j)];
            }
            h = next;
            for (Eigen::Index j = 0; j < H; ++j) y(j, c) = h[std::size_t(j)];
        }
    }
    return y;
}

// A direct convolution, one multiply-add per (image, output channel, position, input channel, kh, kw):
// y[o, oh, ow] = bias[o] + Σ W[o, c, kh, kw] x[c, oh·S − P + kh, ow·S − P + kw] (zero padding).
// x: (C·H·W) × B channel-major; W: Cout × (C·K·K), column (c·K + kh)·K + kw.
template <class M, class V>
M conv2d_forward(const M& W, const V& bias, const M& x, int C, int H, int Wd, int K, int S, int P) {
    const int Cout = int(W.rows()), OH = (H + 2 * P - K) / S + 1, OW = (Wd + 2 * P - K) / S + 1;
    M y(Cout * OH * OW, x.cols());
    for (Eigen::Index b = 0; b < x.cols(); ++b)
        for (int o = 0; o < Cout; ++o)
            for (int oh = 0; oh < OH; ++oh)
                for (int ow = 0; ow < OW; ++ow) {
                    typename M::Scalar s = bias(o);
                    for (int c = 0; c < C; ++c)
                        for (int kh = 0; kh < K; ++kh)
                            for (int kw = 0; kw < K; ++kw) {
                                const int ih = oh * S - P + kh, iw = ow * S - P + kw;
                                ++macs;  // a padded position is still a multiply-add of the product
                                if (ih < 0 || ih >= H || iw < 0 || iw >= Wd) continue;
                                s += W(o, (c * K + kh) * K + kw) * x((c * H + ih) * Wd + iw, b);
                            }
                    y((o * OH + oh) * OW + ow, b) = s;
                }
    return y;
}

// The gradients of conv2d_forward, by the same loops: dW, db and dx from dy.
template <class M, class V>
void conv2d_backward(const M& W, const M& x, const M& dy, int C, int H, int Wd, int K, int S, int P, M& dW, V& db,
                     M& dx) {
    const int Cout = int(W.rows()), OH = (H + 2 * P - K) / S + 1, OW = (Wd + 2 * P - K) / S + 1;
    dW = M::Zero(W.rows(), W.cols()), db = V::Zero(W.rows()), dx = M::Zero(x.rows(), x.cols());
    for (Eigen::Index b = 0; b < x.cols(); ++b)
        for (int o = 0; o < Cout; ++o)
            for (int oh = 0; oh < OH; ++oh)
                for (int ow = 0; ow < OW; ++ow) {
                    const auto g = dy((o * OH + oh) * OW + ow, b);
                    db(o) += g;
                    for (int c = 0; c < C; ++c)
                        for (int kh = 0; kh < K; ++kh)
                            for (int kw = 0; kw < K; ++kw) {
                                const int ih = oh * S - P + kh, iw = ow * S - P + kw;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= Wd) continue;
                                dW(o, (c * K + kh) * K + kw) += g * x((c * H + ih) * Wd + iw, b);
                                dx((c * H + ih) * Wd + iw, b) += g * W(o, (c * K + kh) * K + kw);
                            }
                }
}

// Pooling over Window × Window windows moved by S: the maximum (max = true) or the mean of each.
template <class M>
M pool_forward(const M& x, int C, int H, int Wd, int Window, int S, bool max) {
    const int OH = (H - Window) / S + 1, OW = (Wd - Window) / S + 1;
    M y(C * OH * OW, x.cols());
    for (Eigen::Index b = 0; b < x.cols(); ++b)
        for (int c = 0; c < C; ++c)
            for (int oh = 0; oh < OH; ++oh)
                for (int ow = 0; ow < OW; ++ow) {
                    typename M::Scalar best = x((c * H + oh * S) * Wd + ow * S, b), sum = 0;
                    for (int i = 0; i < Window; ++i)
                        for (int j = 0; j < Window; ++j) {
                            const auto v = x((c * H + oh * S + i) * Wd + ow * S + j, b);
                            best = std::max(best, v), sum += v;
                        }
                    y((c * OH + oh) * OW + ow, b) = max ? best : sum / (Window * Window);
                }
    return y;
}

}  // namespace naive
