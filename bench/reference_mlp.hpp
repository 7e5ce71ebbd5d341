// The hand-written baseline: the same MLPs written directly with Eigen's dynamic matrices, as a good
// engineer would write them without a library: buffers allocated once, noalias() products, gradients
// never accumulated or zeroed, the SGD update fused into the backward sweep. Same math and update rule
// as neuronka's path.
#pragma once

#include <Eigen/Core>

#include <vector>

namespace reference {

enum class Act { identity, tanh, relu };
enum class Loss { mse, softmax_ce };

class MLP {
public:
    MLP(const std::vector<int>& sizes, Act act, Loss loss, float lr) : act_(act), loss_(loss), lr_(lr) {
        for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
            W_.push_back(Eigen::MatrixXf::Random(sizes[l + 1], sizes[l]) * 0.1f);
            b_.push_back(Eigen::VectorXf::Zero(sizes[l + 1]));
        }
        dW_ = W_;
        h_.resize(W_.size());
        dh_.resize(W_.size());
    }

    // One SGD step on x (In × B) with targets y (MSE) or labels (softmax CE).
    void step(const Eigen::MatrixXf& x, const Eigen::MatrixXf& y, const std::vector<int>& labels) {
        const std::size_t L = W_.size();
        const long B = x.cols();
        for (std::size_t l = 0; l < L; ++l) {  // forward
            const Eigen::MatrixXf& in = l ? h_[l - 1] : x;
            h_[l].noalias() = W_[l] * in;
            h_[l].colwise() += b_[l];
            if (l + 1 < L) {
                if (act_ == Act::tanh) h_[l] = h_[l].array().tanh();
                if (act_ == Act::relu) h_[l] = h_[l].array().max(0.f);
            }
        }
        Eigen::MatrixXf& out = h_[L - 1];
        Eigen::MatrixXf& g = dh_[L - 1];
        if (loss_ == Loss::mse) {
            g = (out - y) * (2.f / float(out.size()));
        } else {
            g.resize(out.rows(), B);
            for (long c = 0; c < B; ++c) {
                g.col(c) = (out.col(c).array() - out.col(c).maxCoeff()).exp().matrix();
                g.col(c) /= g.col(c).sum();
                g(labels[c], c) -= 1.f;
            }
            g /= float(B);
        }
        // Backward with the SGD update fused in: each layer's input gradient is taken with the old W,
        // then its weights are updated while dh and its input are still in cache. No gradient buffer
        // is read twice and none is zeroed.
        for (std::size_t l = L; l-- > 0;) {
            const Eigen::MatrixXf& in = l ? h_[l - 1] : x;
            if (l) {
                dh_[l - 1].noalias() = W_[l].transpose() * dh_[l];
                if (act_ == Act::tanh) dh_[l - 1].array() *= 1.f - h_[l - 1].array().square();
                if (act_ == Act::relu) dh_[l - 1].array() *= (h_[l - 1].array() > 0.f).cast<float>();
            }
            if (fused_gemm) {
                W_[l].noalias() -= lr_ * dh_[l] * in.transpose();  // W -= η dy xᵀ, one GEMM, no dW buffer
            } else {
                dW_[l].noalias() = dh_[l] * in.transpose();  // dW = dy xᵀ
                W_[l] -= lr_ * dW_[l];
            }
            b_[l] -= lr_ * dh_[l].rowwise().sum();
        }
    }

    // Inference of one sample, as a good engineer writes it: matrix-vector products into vectors
    // allocated once, the activation in place.
    const Eigen::VectorXf& predict(const Eigen::VectorXf& x) {
        v_.resize(W_.size());
        for (std::size_t l = 0; l < W_.size(); ++l) {
            v_[l].noalias() = W_[l] * (l ? v_[l - 1] : x);
            v_[l] += b_[l];
            if (l + 1 < W_.size()) {
                if (act_ == Act::tanh) v_[l] = v_[l].array().tanh();
                if (act_ == Act::relu) v_[l] = v_[l].cwiseMax(0.f);
            }
        }
        return v_.back();
    }

    bool fused_gemm = true;  // the bench picks the faster of the two fusions

private:
    Act act_;
    Loss loss_;
    float lr_;
    std::vector<Eigen::MatrixXf> W_, dW_, h_, dh_;
    std::vector<Eigen::VectorXf> b_, v_;
};

}  // namespace reference
