// The hand-written baseline for T5: the same decoder-only transformer as neuronka's (token and
// position embeddings, pre-norm blocks with causal multi-head attention and a GELU MLP, final
// LayerNorm, linear head, softmax cross-entropy, plain SGD), written directly with Eigen's dynamic
// matrices in one struct, as a good engineer would without a library: buffers reused, noalias()
// products, and the SGD update fused into the backward sweep (no gradient buffers for weights).
#pragma once

#include <Eigen/Core>

#include <cmath>
#include <vector>

namespace reference {

using Mat = Eigen::MatrixXf;
using Vec = Eigen::VectorXf;

struct GPT {
    int V, C, D, H, L, F;
    struct Layer {
        Vec g1, b1, g2, b2, bqkv, bo, bf1, bf2;
        Mat Wqkv, Wo, W1, W2;
    };
    Mat wte, wpe, Wh;
    Vec gf, bf, bh;
    std::vector<Layer> layer, grad;
    Vec dgf, dbf;
    // activations, per layer: input x, LayerNorm outputs and statistics, qkv, attention, heads' output, h, fc1, gelu
    struct Acts {
        Mat x, n1, qkv, P, o, h, n2, f1, g;
        Vec m1, r1, m2, r2;
    };
    std::vector<Acts> acts;
    Mat x, xf, nf, logits, dlogits, dx, dn, dqkv, dP, dO, dh, dg, tmp;
    Eigen::ArrayXXf t;  // GELU's tanh term, F × N
    Vec mf, rf;

    GPT(int v, int c, int d, int h, int l, int f) : V(v), C(c), D(d), H(h), L(l), F(f) {
        auto rnd = [](int r, int k) { return Mat(Mat::Random(r, k) * 0.1f); };
        wte = rnd(D, V), wpe = rnd(D, C), Wh = rnd(V, D);
        gf = Vec::Ones(D), bf = Vec::Zero(D), bh = Vec::Zero(V);
        for (int i = 0; i < L; ++i)
            layer.push_back({Vec::Ones(D), Vec::Zero(D), Vec::Ones(D), Vec::Zero(D), Vec::Zero(3 * D), Vec::Zero(D),
                             Vec::Zero(F), Vec::Zero(D), rnd(3 * D, D), rnd(D, D), rnd(F, D), rnd(D, F)});
        grad = layer;
        acts.resize(std::size_t(L));
    }

    static void layernorm(const Mat& x, const Vec& g, const Vec& b, Mat& y, Vec& mean, Vec& rstd) {
        y.resize(x.rows(), x.cols()), mean.resize(x.cols()), rstd.resize(x.cols());
        for (Eigen::Index c = 0; c < x.cols(); ++c) {
            mean(c) = x.col(c).mean();
            rstd(c) = 1.f / std::sqrt((x.col(c).array() - mean(c)).square().mean() + 1e-5f);
            y.col(c) = (((x.col(c).array() - mean(c)) * rstd(c)) * g.array() + b.array()).matrix();
        }
    }
    static void layernorm_back(const Mat& x, const Vec& g, const Vec& mean, const Vec& rstd, const Mat& dy, Vec& dg,
                               Vec& db, Mat& dx) {
        dx.resize(x.rows(), x.cols());
        for (Eigen::Index c = 0; c < x.cols(); ++c) {
            const Eigen::ArrayXf xh = (x.col(c).array() - mean(c)) * rstd(c);
            dg.array() += dy.col(c).array() * xh;
            db += dy.col(c);
            const Eigen::ArrayXf dxh = dy.col(c).array() * g.array();
            dx.col(c) = (rstd(c) * (dxh - dxh.mean() - xh * (dxh * xh).mean())).matrix();
        }
    }

    // One SGD step on ids/targets (N = T·B); returns the loss.
    float step(const std::vector<int>& ids, const std::vector<int>& targets, int T, float lr) {
        const int N = int(ids.size()), B = N / T, hd = D / H;
        const float scale = 1.f / std::sqrt(float(hd)), k = std::sqrt(2.f / 3.14159265f);
        x.resize(D, N);
        for (int i = 0; i < N; ++i) x.col(i) = wte.col(ids[std::size_t(i)]) + wpe.col(i % T);
        for (int l = 0; l < L; ++l) {  // forward
            Layer& w = layer[std::size_t(l)];
            Acts& a = acts[std::size_t(l)];
            a.x = x;
            layernorm(a.x, w.g1, w.b1, a.n1, a.m1, a.r1);
            a.qkv.noalias() = w.Wqkv * a.n1;
            a.qkv.colwise() += w.bqkv;
            a.P.resize(T, T * H * B), a.o.resize(D, N);
            for (int b = 0; b < B; ++b)
                for (int h = 0; h < H; ++h) {
                    auto P = a.P.block(0, (b * H + h) * T, T, T);
                    P.noalias() = a.qkv.block(D + h * hd, b * T, hd, T).transpose() * a.qkv.block(h * hd, b * T, hd, T);
                    for (int t = 0; t < T; ++t) {
                        auto p = P.col(t).head(t + 1);
                        p = ((p.array() - p.maxCoeff()) * scale).exp().matrix();
                        p /= p.sum();
                        P.col(t).tail(T - t - 1).setZero();
                    }
                    a.o.block(h * hd, b * T, hd, T).noalias() = a.qkv.block(2 * D + h * hd, b * T, hd, T) * P;
                }
            a.h = a.x;
            a.h.noalias() += w.Wo * a.o;
            a.h.colwise() += w.bo;
            layernorm(a.h, w.g2, w.b2, a.n2, a.m2, a.r2);
            a.f1.noalias() = w.W1 * a.n2;
            a.f1.colwise() += w.bf1;
            a.g = 0.5f * a.f1.array() * (1 + (k * (a.f1.array() + 0.044715f * a.f1.array().cube())).tanh());
            x = a.h;
            x.noalias() += w.W2 * a.g;
            x.colwise() += w.bf2;
        }
        xf = x;
        layernorm(xf, gf, bf, nf, mf, rf);
        logits.noalias() = Wh * nf;
        logits.colwise() += bh;
        float loss = 0;  // softmax cross-entropy, mean over positions
        dlogits.resize(V, N);
        for (int i = 0; i < N; ++i) {
            const float m = logits.col(i).maxCoeff();
            dlogits.col(i) = (logits.col(i).array() - m).exp().matrix();
            const float s = dlogits.col(i).sum();
            loss += std::log(s) + m - logits(targets[std::size_t(i)], i);
            dlogits.col(i) /= s;
            dlogits(targets[std::size_t(i)], i) -= 1;
        }
        dlogits /= float(N);

        // backward with the SGD update fused in: every input gradient is taken with the old weights,
        // then the weights are updated by the product itself (W -= lr dy xᵀ), while its operands are
        // in cache; no weight gradient is formed, none is zeroed.
        dn.noalias() = Wh.transpose() * dlogits;
        Wh.noalias() -= lr * dlogits * nf.transpose();
        bh -= lr * dlogits.rowwise().sum();
        dgf.setZero(D), dbf.setZero(D);
        layernorm_back(xf, gf, mf, rf, dn, dgf, dbf, dx);
        gf -= lr * dgf, bf -= lr * dbf;
        for (int l = L - 1; l >= 0; --l) {
            Layer &w = layer[std::size_t(l)], &dw = grad[std::size_t(l)];
            Acts& a = acts[std::size_t(l)];
            // x_out = h + W2 gelu(W1 n2 + bf1) + bf2
            dg.noalias() = w.W2.transpose() * dx;
            w.W2.noalias() -= lr * dx * a.g.transpose();
            w.bf2 -= lr * dx.rowwise().sum();
            t = (k * (a.f1.array() + 0.044715f * a.f1.array().cube())).tanh();
            dg.array() *= 0.5f * (1 + t) +
                          0.5f * a.f1.array() * (1 - t.square()) * k * (1 + 3 * 0.044715f * a.f1.array().square());
            dn.noalias() = w.W1.transpose() * dg;
            w.W1.noalias() -= lr * dg * a.n2.transpose();
            w.bf1 -= lr * dg.rowwise().sum();
            dw.g2.setZero(D), dw.b2.setZero(D);
            layernorm_back(a.h, w.g2, a.m2, a.r2, dn, dw.g2, dw.b2, tmp);
            w.g2 -= lr * dw.g2, w.b2 -= lr * dw.b2;
            dh = dx + tmp;
            // h = x + Wo o + bo
            dO.noalias() = w.Wo.transpose() * dh;
            w.Wo.noalias() -= lr * dh * a.o.transpose();
            w.bo -= lr * dh.rowwise().sum();
            dqkv.resize(3 * D, N), dP.resize(T, T);
            for (int b = 0; b < B; ++b)
                for (int h = 0; h < H; ++h) {
                    const auto P = a.P.block(0, (b * H + h) * T, T, T);
                    const auto dOh = dO.block(h * hd, b * T, hd, T);
                    dqkv.block(2 * D + h * hd, b * T, hd, T).noalias() = dOh * P.transpose();
                    dP.noalias() = a.qkv.block(2 * D + h * hd, b * T, hd, T).transpose() * dOh;
                    for (int c = 0; c < T; ++c) {
                        const float dot = P.col(c).dot(dP.col(c));
                        dP.col(c) = (P.col(c).array() * (dP.col(c).array() - dot) * scale).matrix();
                    }
                    dqkv.block(h * hd, b * T, hd, T).noalias() = a.qkv.block(D + h * hd, b * T, hd, T) * dP;
                    dqkv.block(D + h * hd, b * T, hd, T).noalias() = a.qkv.block(h * hd, b * T, hd, T) * dP.transpose();
                }
            dn.noalias() = w.Wqkv.transpose() * dqkv;
            w.Wqkv.noalias() -= lr * dqkv * a.n1.transpose();
            w.bqkv -= lr * dqkv.rowwise().sum();
            dw.g1.setZero(D), dw.b1.setZero(D);
            layernorm_back(a.x, w.g1, a.m1, a.r1, dn, dw.g1, dw.b1, tmp);
            w.g1 -= lr * dw.g1, w.b1 -= lr * dw.b1;
            dx = dh + tmp;
        }
        // x_0 = wte[ids] + wpe[t]: the update is scattered straight into the tables
        for (int i = 0; i < N; ++i) wte.col(ids[std::size_t(i)]) -= lr * dx.col(i), wpe.col(i % T) -= lr * dx.col(i);
        return loss / float(N);
    }
};

}  // namespace reference
