// The lecture's training slides, run: a neuron is the line y = w·x + b. Its two parameters start
// random (iteration 0), get better (iteration 1) and end at the best (iteration X). Prints w, b and
// the loss per iteration; writes neuron_training.svg (points and the line at iterations 0, 1, X)
// and neuron_loss.svg (the loss curve).
#include "common/cli.hpp"
#include "common/report.hpp"
#include "common/svg.hpp"
#include "lecture/lessons.hpp"

#include <neuronka/neuronka.hpp>

#include <cstdio>

using namespace neuronka;
using namespace examples;  // examples/common (cli, plot, ...) and examples/lecture (words, ...)

int main(int argc, char** argv) {
    return cli::run([&] {
        cli::Options args(
            "neuron",
            "neuron: a neuron y = w x + b trained step by step; writes neuron_training.svg and neuron_loss.svg");
        int iterations = 60;
        double learning_rate = 0.1;
        std::string losses_file;
        args.option("--iterations", iterations, "training iterations", 1, 1000000);
        args.option("--learning-rate", learning_rate, "SGD's learning rate", 1e-6, 10);
        args.option("--losses", losses_file, "also write the loss of every iteration to this file, one per line");
        args.parse(argc, argv);
        const float a = lessons::NeuronLesson::true_w, b = lessons::NeuronLesson::true_b;
        const int n = lessons::NeuronLesson::points;
        // 40 noisy points around y = a x + b, x in [-3, 3], and a neuron with random w and b
        // (examples/lecture/lessons.hpp: the playground runs the same lesson in the browser)
        lessons::NeuronLesson neuron{float(learning_rate)};
        const auto& x = neuron.x();
        const auto& y = neuron.y();

        std::printf("Training the neuron y = w*x + b on %d points around y = %.1f*x + %.1f\n", n, a, b);
        std::printf("%10s %10s %10s %12s\n", "iteration", "w", "b", "loss (MSE)");
        report::Step page(args.out(), "neuron");
        page.table("w, b and the loss during training", {"iteration", "w", "b", "loss (MSE)"});
        std::vector<double> losses, steps;
        std::vector<std::pair<float, float>> snapshots;  // (w, b) at iterations 0, 1, X
        for (int it = 0; it <= iterations; ++it) {
            const float loss = neuron.loss();
            losses.push_back(loss), steps.push_back(it);
            if (it == 0 || it == 1 || it == iterations) snapshots.emplace_back(neuron.w(), neuron.b());
            if (it <= 5 || it % 10 == 0 || it == iterations) {
                std::printf("%10d %10.4f %10.4f %12.6f\n", it, neuron.w(), neuron.b(), loss);
                page.row({std::to_string(it), report::format("%.4f", neuron.w()), report::format("%.4f", neuron.b()),
                          report::format("%.6f", loss)});
            }
            if (it == iterations) break;
            neuron.step();  // backward, then w and b move
        }

        report::write_losses(losses_file, losses);
        // The best line in the least-squares sense, for comparison.
        const auto [w_best, b_best] = neuron.least_squares();
        std::printf("iteration X = %d: w = %.4f, b = %.4f; least squares: w = %.4f, b = %.4f\n", iterations, neuron.w(),
                    neuron.b(), w_best, b_best);

        std::vector<double> px(x.data(), x.data() + n), py(y.data(), y.data() + n);
        plot::Chart chart("The neuron y = w*x + b during training", "x", "y");
        chart.scatter(px, py, "#555", "data");
        const char* names[] = {"iteration 0 (random w, b)", "iteration 1", "iteration X (best w, b)"};
        for (std::size_t k = 0; k < snapshots.size(); ++k) {
            const auto [w, bias] = snapshots[k];
            chart.line({-3, 3}, {-3 * w + bias, 3 * w + bias}, plot::palette(k + 1), names[k]);
        }
        chart.write(args.path("neuron_training.svg"));
        plot::Chart("Loss during training", "iteration", "mean squared error (log scale)")
            .log_y()
            .line(steps, losses, plot::palette(0), "loss")
            .write(args.path("neuron_loss.svg"));
        std::printf("wrote %s and %s\n", args.path("neuron_training.svg").c_str(),
                    args.path("neuron_loss.svg").c_str());
        page.value("iterations X", std::to_string(iterations))
            .value("w, b after iteration X", report::format("%.4f, %.4f", neuron.w(), neuron.b()))
            .value("w, b by least squares", report::format("%.4f, %.4f", w_best, b_best))
            .figure("neuron_training.svg", "The points and the neuron's line at iterations 0, 1 and X")
            .figure("neuron_loss.svg", "The loss, iteration by iteration")
            .write();
    });
}
