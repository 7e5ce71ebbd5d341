// XOR: four clouds of points, opposite corners share a class. No single line separates them, so a
// single neuron fails; a small MLP bends its decision boundary and succeeds. Prints both accuracies
// and writes xor_neuron.svg and xor_mlp.svg with each model's decision regions.
#include "common/cli.hpp"
#include "common/report.hpp"
#include "common/svg.hpp"
#include "lecture/lessons.hpp"

#include <neuronka/neuronka.hpp>

#include <cstdio>

using namespace neuronka;
using namespace examples;  // examples/common (cli, plot, ...) and examples/lecture (words, ...)

namespace {
// The decision regions of a trained model: P(class 1) on a grid, and the points.
void regions(const std::vector<float>& p, int grid, const lessons::XorData& data, const std::string& title,
             const std::string& path) {
    const double e = lessons::xor_extent;
    plot::Chart chart(title, "x1", "x2", 560, 520);
    chart.heatmap(grid, grid, std::vector<double>(p.begin(), p.end()), -e, e, -e, e);
    for (int c = 0; c < 2; ++c) {
        std::vector<double> px, py;
        for (Eigen::Index i = 0; i < data.x.cols(); ++i)
            if (data.t(i) == float(c)) px.push_back(data.x(0, i)), py.push_back(data.x(1, i));
        chart.scatter(px, py, c ? "#a50f15" : "#08306b", c ? "class 1" : "class 0");
    }
    chart.write(path);
}
}  // namespace

int main(int argc, char** argv) {
    return cli::run([&] {
        cli::Options args("xor", "xor: one neuron against an MLP on XOR; writes xor_neuron.svg and xor_mlp.svg");
        int steps = 400;
        std::string losses_file;
        args.option("--steps", steps, "training steps", 1, 1000000);
        args.option("--losses", losses_file,
                    "also write the MLP's loss of every step to this file, one per line (then the neuron's)");
        args.parse(argc, argv);
        // 200 points in four clouds; the neuron and the MLP from seed 1, SGD with momentum
        // (examples/lecture/lessons.hpp: the playground runs the same lesson in the browser)
        const lessons::XorData data;
        lessons::XorTrainer<Neuron<float, 2>> neuron(data);
        lessons::XorTrainer<lessons::XorMlp<16, Tanh>> mlp(data);
        std::vector<double> mlp_losses, neuron_losses;
        for (int s = 0; s < steps; ++s) mlp_losses.push_back(mlp.step()), neuron_losses.push_back(neuron.step());
        if (!losses_file.empty()) {
            std::vector<double> both = mlp_losses;
            both.insert(both.end(), neuron_losses.begin(), neuron_losses.end());
            report::write_losses(losses_file, both);
        }
        const double neuron_loss = neuron_losses.back(), mlp_loss = mlp_losses.back();
        report::Step page(args.out(), "xor");
        page.table("One neuron against a small network on XOR", {"model", "parameters", "loss", "accuracy"});
        std::printf("%-28s %10s %8s %10s\n", "model", "parameters", "loss", "accuracy");
        auto print = [&](const char* name, std::size_t parameters, double loss, double acc) {
            std::printf("%-28s %10zu %8.4f %9.1f%%\n", name, parameters, loss, 100 * acc);
            page.row(
                {name, std::to_string(parameters), report::format("%.4f", loss), report::format("%.1f %%", 100 * acc)});
        };
        print("Neuron<float, 2>", Neuron<float, 2>::parameter_count, neuron_loss, neuron.accuracy());
        print("MLP 2-16-16-1 tanh", lessons::XorMlp<16, Tanh>::parameter_count, mlp_loss, mlp.accuracy());
        const int grid = 80;
        regions(neuron.probabilities(grid), grid, data, "One neuron: a straight boundary cannot split XOR",
                args.path("xor_neuron.svg"));
        regions(mlp.probabilities(grid), grid, data, "MLP 2-16-16-1: a bent boundary can", args.path("xor_mlp.svg"));
        std::printf("wrote %s and %s\n", args.path("xor_neuron.svg").c_str(), args.path("xor_mlp.svg").c_str());
        page.figure("xor_neuron.svg", "One neuron's decision regions: a straight boundary")
            .figure("xor_mlp.svg", "The network's decision regions: a bent boundary")
            .write();
    });
}
