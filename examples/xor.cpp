// XOR: four clouds of points, opposite corners share a class. No single line separates them, so a
// single neuron fails; a small MLP bends its decision boundary and succeeds. Prints both accuracies
// and writes xor_neuron.svg and xor_mlp.svg with each model's decision regions.
#include "common/cli.hpp"
#include "common/report.hpp"
#include "common/svg.hpp"

#include <neuronka/neuronka.hpp>

#include <cstdio>

using namespace neuronka;
using namespace examples;  // examples/common (cli, plot, ...) and examples/lecture (words, ...)

namespace {
template <class Model>
double train(Model& model, const Batch<float, 2>& x, const Batch<float, 1>& t, int steps) {
    BinaryCrossEntropyWithLogits<float, 1> bce;
    SGD<float> opt({.learning_rate = 0.2f, .momentum = 0.9f});
    float loss = 0;
    for (int s = 0; s < steps; ++s) {
        loss = bce.forward(model.forward(x), t);
        opt.step(model, x, bce.backward());
    }
    return loss;
}

template <class Model>
void regions(Model& model, const Batch<float, 2>& x, const Batch<float, 1>& t, const std::string& title,
             const std::string& path) {
    const int grid = 80;
    Batch<float, 2> g(2, grid * grid);
    for (int j = 0; j < grid; ++j)
        for (int i = 0; i < grid; ++i)
            g.col(j * grid + i) << -2.5f + 5.0f * (i + 0.5f) / grid, -2.5f + 5.0f * (j + 0.5f) / grid;
    const Batch<float, 1> p = model.forward(g).array().logistic().matrix();
    plot::Chart chart(title, "x1", "x2", 560, 520);
    chart.heatmap(grid, grid, std::vector<double>(p.data(), p.data() + p.size()), -2.5, 2.5, -2.5, 2.5);
    for (int c = 0; c < 2; ++c) {
        std::vector<double> px, py;
        for (Eigen::Index i = 0; i < x.cols(); ++i)
            if (t(i) == float(c)) px.push_back(x(0, i)), py.push_back(x(1, i));
        chart.scatter(px, py, c ? "#a50f15" : "#08306b", c ? "class 1" : "class 0");
    }
    chart.write(path);
}
}  // namespace

int main(int argc, char** argv) {
    return cli::run([&] {
        cli::Options args("xor", "xor: one neuron against an MLP on XOR; writes xor_neuron.svg and xor_mlp.svg");
        int steps = 400;
        args.option("--steps", steps, "training steps", 1, 1000000);
        args.parse(argc, argv);
        Rng rng(5);
        const int n = 200;
        Batch<float, 2> x(2, n);
        Batch<float, 1> t(1, n);
        for (int i = 0; i < n; ++i) {
            const float sx = i % 2 ? 1.f : -1.f, sy = (i / 2) % 2 ? 1.f : -1.f;
            x(0, i) = sx + float(0.35 * rng.normal());
            x(1, i) = sy + float(0.35 * rng.normal());
            t(i) = sx * sy < 0 ? 1.f : 0.f;  // opposite corners share a class
        }

        Neuron<float, 2> neuron(1);
        Sequential<Dense<float, 2, 16>, Tanh, Dense<float, 16, 16>, Tanh, Dense<float, 16, 1>> mlp(1);
        const double neuron_loss = train(neuron, x, t, steps), mlp_loss = train(mlp, x, t, steps);
        report::Step page(args.out(), "xor");
        page.table("One neuron against a small network on XOR", {"model", "parameters", "loss", "accuracy"});
        std::printf("%-28s %10s %8s %10s\n", "model", "parameters", "loss", "accuracy");
        auto print = [&](const char* name, std::size_t parameters, double loss, double acc) {
            std::printf("%-28s %10zu %8.4f %9.1f%%\n", name, parameters, loss, 100 * acc);
            page.row(
                {name, std::to_string(parameters), report::format("%.4f", loss), report::format("%.1f %%", 100 * acc)});
        };
        print("Neuron<float, 2>", decltype(neuron)::parameter_count, neuron_loss,
              binary_accuracy(neuron.forward(x), t));
        print("MLP 2-16-16-1 tanh", decltype(mlp)::parameter_count, mlp_loss, binary_accuracy(mlp.forward(x), t));
        regions(neuron, x, t, "One neuron: a straight boundary cannot split XOR", args.path("xor_neuron.svg"));
        regions(mlp, x, t, "MLP 2-16-16-1: a bent boundary can", args.path("xor_mlp.svg"));
        std::printf("wrote %s and %s\n", args.path("xor_neuron.svg").c_str(), args.path("xor_mlp.svg").c_str());
        page.figure("xor_neuron.svg", "One neuron's decision regions: a straight boundary")
            .figure("xor_mlp.svg", "The network's decision regions: a bent boundary")
            .write();
    });
}
