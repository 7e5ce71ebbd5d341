// Must not compile: Scale, a layer written without the inference capability (no Workspace, no
// predict), sits inside a model that is asked to predict; the message names Scale. Its twin
// (NEURONKA_COMPILE_FAIL_TWIN) trains and evaluates the same model with forward, which Scale has.
#include <neuronka/compose/sequential.hpp>
#include <neuronka/layers/dense.hpp>

#include <string>

// y = 2 x: the required contract only.
struct Scale {
    using scalar_type = float;
    static constexpr int in_size = 4, out_size = 4;
    static constexpr std::size_t parameter_count = 0;
    explicit Scale(std::uint64_t = 0) {}
    static constexpr neuronka::Cost cost(int = 1) { return {}; }
    static std::string name() { return "Scale"; }
    void init(neuronka::Rng&) {}
    template <class D>
    const neuronka::Batch<float, 4>& forward(const Eigen::MatrixBase<D>& x) {
        return y_ = 2 * x, y_;
    }
    template <class DX, class DY>
    const neuronka::Batch<float, 4>& backward(const Eigen::MatrixBase<DX>&, const Eigen::MatrixBase<DY>& dy) {
        return dx_ = 2 * dy, dx_;
    }
    const neuronka::Batch<float, 4>& output() const { return y_; }
    void zero_grad() {}
    template <class F>
    void visit_parameters(F&&) {}

private:
    neuronka::Batch<float, 4> y_, dx_;
};

int main() {
    using Model = neuronka::Sequential<neuronka::Dense<float, 3, 4>, neuronka::Sequential<neuronka::Tanh, Scale>,
                                       neuronka::Dense<float, 4, 2>>;
    Model model(1);
    const neuronka::Batch<float, 3> x = neuronka::Batch<float, 3>::Ones(3, 5);
#ifdef NEURONKA_COMPILE_FAIL_TWIN
    model.set_mode(neuronka::Mode::evaluation);
    return model.forward(x).allFinite() ? 0 : 1;
#else
    typename Model::Workspace ws;
    return model.predict(x, ws).allFinite() ? 0 : 1;
#endif
}
