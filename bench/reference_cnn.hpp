// The hand-written baseline for T6: the Fashion-MNIST CNN written directly with Eigen, the way a
// good engineer writes a convolution without a library, in the faster of two schemes on this
// machine: per image (Caffe's), im2col into a row-major (C·K·K) × (OH·OW) buffer and one GEMM
// W · cols straight into the image's channel-major output column, backward dW += dY colsᵀ and
// dcols = Wᵀ dY, col2im; or batched, the same with the columns of all B images side by side, one
// GEMM per product for the whole batch and a copy between (Cout) × (OH·OW·B) and channel-major. Max pooling with
// remembered positions, inverted dropout with a xorshift generator, dense layers as in reference_mlp.hpp, softmax
// cross-entropy, plain SGD with the update applied right after each layer's backward. Buffers are allocated once.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace reference {

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Conv {
    int C, Cout, K, H, W, P, OH, OW;
    Eigen::MatrixXf Wt, dW;      // Cout × (C·K·K)
    Eigen::VectorXf b, db;       // Cout
    std::vector<RowMajor> cols;  // per image: (C·K·K) × (OH·OW); batched: one, (C·K·K) × (OH·OW·B)
    RowMajor dcols, big, dbig;   // batched: Cout × (OH·OW·B)
    bool batched = false;
    Eigen::MatrixXf y, dx;  // (Cout·OH·OW) × B, (C·H·W) × B

    Conv(int c, int cout, int k, int h, int w, int p)
        : C(c),
          Cout(cout),
          K(k),
          H(h),
          W(w),
          P(p),
          OH(h + 2 * p - k + 1),
          OW(w + 2 * p - k + 1),
          Wt(Eigen::MatrixXf::Random(cout, c * k * k) * 0.1f),
          dW(cout, c * k * k),
          b(Eigen::VectorXf::Zero(cout)),
          db(cout) {}

    // Writes image n's patches into row ck of `cols` from column `at` on.
    void im2col(const Eigen::MatrixXf& x, long n, RowMajor& cn, long at) const {
        for (int c = 0; c < C; ++c)
            for (int kh = 0; kh < K; ++kh)
                for (int kw = 0; kw < K; ++kw) {
                    float* out = cn.row((c * K + kh) * K + kw).data() + at;
                    const float* img = x.col(n).data() + c * H * W;
                    for (int oh = 0; oh < OH; ++oh)
                        for (int ow = 0; ow < OW; ++ow) {
                            const int ih = oh - P + kh, iw = ow - P + kw;
                            *out++ = (ih >= 0 && ih < H && iw >= 0 && iw < W) ? img[ih * W + iw] : 0.f;
                        }
                }
    }
    // Adds the patch gradients of row ck of `dc` from column `at` on into image n of dx.
    void col2im(const RowMajor& dc, long n, long at) {
        float* img_base = dx.col(n).data();
        for (int c = 0; c < C; ++c)
            for (int kh = 0; kh < K; ++kh)
                for (int kw = 0; kw < K; ++kw) {
                    const float* in = dc.row((c * K + kh) * K + kw).data() + at;
                    float* img = img_base + c * H * W;
                    for (int oh = 0; oh < OH; ++oh)
                        for (int ow = 0; ow < OW; ++ow, ++in) {
                            const int ih = oh - P + kh, iw = ow - P + kw;
                            if (ih >= 0 && ih < H && iw >= 0 && iw < W) img[ih * W + iw] += *in;
                        }
                }
    }

    void forward(const Eigen::MatrixXf& x) {
        const long B = x.cols(), Q = long(OH) * OW;
        y.resize(long(Cout) * Q, B);
        if (batched) {
            cols.resize(1);
            cols[0].resize(long(C) * K * K, Q * B);
            for (long n = 0; n < B; ++n) im2col(x, n, cols[0], n * Q);
            big.noalias() = Wt * cols[0];
            for (long n = 0; n < B; ++n)
                for (int o = 0; o < Cout; ++o)
                    y.col(n).segment(o * Q, Q) = (big.row(o).segment(n * Q, Q).array() + b(o)).matrix().transpose();
            return;
        }
        cols.resize(std::size_t(B));
        for (long n = 0; n < B; ++n) {
            RowMajor& cn = cols[std::size_t(n)];
            cn.resize(long(C) * K * K, Q);
            im2col(x, n, cn, 0);
            Eigen::Map<RowMajor> yn(y.col(n).data(), Cout, Q);  // channel-major: row o is channel o
            yn.noalias() = Wt * cn;
            yn.colwise() += b;
        }
    }

    // dy: (Cout·OH·OW) × B; updates W, b by SGD; computes dx when asked.
    void backward_sgd(const Eigen::MatrixXf& dy, float lr, bool want_dx) {
        const long B = dy.cols(), Q = long(OH) * OW;
        if (want_dx) dx.setZero(long(C) * H * W, B);
        if (batched) {
            dbig.resize(Cout, Q * B);
            for (long n = 0; n < B; ++n)
                for (int o = 0; o < Cout; ++o) dbig.row(o).segment(n * Q, Q) = dy.col(n).segment(o * Q, Q).transpose();
            if (want_dx) {
                dcols.noalias() = Wt.transpose() * dbig;
                for (long n = 0; n < B; ++n) col2im(dcols, n, n * Q);
            }
            Wt.noalias() -= lr * dbig * cols[0].transpose();
            b -= lr * dbig.rowwise().sum();
            return;
        }
        dW.setZero(), db.setZero();
        for (long n = 0; n < B; ++n) {
            const Eigen::Map<const RowMajor> dyn(dy.col(n).data(), Cout, Q);
            dW.noalias() += dyn * cols[std::size_t(n)].transpose();
            db += dyn.rowwise().sum();
            if (!want_dx) continue;
            dcols.noalias() = Wt.transpose() * dyn;
            col2im(dcols, n, 0);
        }
        Wt -= lr * dW;
        b -= lr * db;
    }
};

struct MaxPool {  // 2 × 2, stride 2
    int C, H, W;
    Eigen::MatrixXf y, dx;
    std::vector<int> arg;
    void forward(const Eigen::MatrixXf& x) {
        const int OH = H / 2, OW = W / 2;
        y.resize(long(C) * OH * OW, x.cols());
        arg.resize(std::size_t(y.size()));
        for (long n = 0; n < x.cols(); ++n)
            for (int c = 0; c < C; ++c)
                for (int oh = 0; oh < OH; ++oh)
                    for (int ow = 0; ow < OW; ++ow) {
                        const int first = (c * H + 2 * oh) * W + 2 * ow;
                        int best = first;
                        for (int i : {first + 1, first + W, first + W + 1})
                            if (x(i, n) > x(best, n)) best = i;
                        const long o = (long(c) * OH + oh) * OW + ow;
                        arg[std::size_t(n * y.rows() + o)] = best, y(o, n) = x(best, n);
                    }
    }
    void backward(const Eigen::MatrixXf& dy) {
        dx.setZero(long(C) * H * W, dy.cols());
        for (long n = 0; n < dy.cols(); ++n)
            for (long o = 0; o < dy.rows(); ++o) dx(arg[std::size_t(n * dy.rows() + o)], n) += dy(o, n);
    }
};

class CNN {
public:
    explicit CNN(float lr) : lr_(lr) {}
    /// Per image (Caffe's scheme) or batched convolutions; the bench takes the faster.
    void set_batched(bool on) { conv1_.batched = conv2_.batched = on; }
    /// The two convolutions' weights (for checking that the schemes agree).
    float max_weight_difference(const CNN& o) const {
        return std::max((conv1_.Wt - o.conv1_.Wt).cwiseAbs().maxCoeff(),
                        (conv2_.Wt - o.conv2_.Wt).cwiseAbs().maxCoeff());
    }

    // Inference (dropout off) of the images x (784 × B): the logits, 10 × B.
    const Eigen::MatrixXf& predict(const Eigen::MatrixXf& x) {
        features(x);
        z_.noalias() = W2_ * h1_;
        z_.colwise() += b2_;
        return z_;
    }

    // One SGD step on x (784 × B) with integer labels.
    void step(const Eigen::MatrixXf& x, const std::vector<int>& labels) {
        const long B = x.cols();
        features(x);
        mask_.resize(h1_.rows(), B);
        for (long i = 0; i < mask_.size(); ++i) {  // inverted dropout, p = 0.5
            rng_ ^= rng_ << 13, rng_ ^= rng_ >> 7, rng_ ^= rng_ << 17;
            mask_(i) = (rng_ >> 63) ? 2.f : 0.f;
        }
        d1_ = h1_.cwiseProduct(mask_);
        z_.noalias() = W2_ * d1_;
        z_.colwise() += b2_;
        g_.resize(z_.rows(), B);
        for (long c = 0; c < B; ++c) {
            g_.col(c) = (z_.col(c).array() - z_.col(c).maxCoeff()).exp().matrix();
            g_.col(c) /= g_.col(c).sum();
            g_(labels[std::size_t(c)], c) -= 1.f;
        }
        g_ /= float(B);
        // backward, each layer's update right after its own gradient
        dd1_.noalias() = W2_.transpose() * g_;
        W2_.noalias() -= lr_ * g_ * d1_.transpose();
        b2_ -= lr_ * g_.rowwise().sum();
        dd1_ = dd1_.cwiseProduct(mask_).cwiseProduct((h1_.array() > 0.f).cast<float>().matrix());
        dp2_.noalias() = W1_.transpose() * dd1_;
        W1_.noalias() -= lr_ * dd1_ * pool2_.y.transpose();
        b1_ -= lr_ * dd1_.rowwise().sum();
        pool2_.backward(dp2_);
        pool2_.dx.array() *= (conv2_.y.array() > 0.f).cast<float>();
        conv2_.backward_sgd(pool2_.dx, lr_, true);
        pool1_.backward(conv2_.dx);
        pool1_.dx.array() *= (conv1_.y.array() > 0.f).cast<float>();
        conv1_.backward_sgd(pool1_.dx, lr_, false);  // the input needs no gradient
    }

private:
    // conv, ReLU, pool, conv, ReLU, pool, dense 1568 → 128, ReLU: h1_ (128 × B).
    void features(const Eigen::MatrixXf& x) {
        conv1_.forward(x);
        conv1_.y = conv1_.y.cwiseMax(0.f);
        pool1_.forward(conv1_.y);
        conv2_.forward(pool1_.y);
        conv2_.y = conv2_.y.cwiseMax(0.f);
        pool2_.forward(conv2_.y);
        h1_.noalias() = W1_ * pool2_.y;
        h1_.colwise() += b1_;
        h1_ = h1_.cwiseMax(0.f);
    }

    float lr_;
    Conv conv1_{1, 16, 5, 28, 28, 2}, conv2_{16, 32, 5, 14, 14, 2};
    MaxPool pool1_{16, 28, 28, {}, {}, {}}, pool2_{32, 14, 14, {}, {}, {}};
    Eigen::MatrixXf W1_ = Eigen::MatrixXf::Random(128, 1568) * 0.03f, W2_ = Eigen::MatrixXf::Random(10, 128) * 0.1f;
    Eigen::VectorXf b1_ = Eigen::VectorXf::Zero(128), b2_ = Eigen::VectorXf::Zero(10);
    Eigen::MatrixXf h1_, mask_, d1_, z_, g_, dd1_, dp2_;
    std::uint64_t rng_ = 0x9E3779B97F4A7C15ull;
};

}  // namespace reference
