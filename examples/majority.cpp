// A model you compose yourself: "which digit occurs most often in the sequence?" No language here,
// yet the answer needs attention, since every position must look at all the others. The model is
// examples/lecture/majority_task.hpp: an Embedding, positions, a Residual attention block, a Residual
// MLP and a head, composed in one type; neuronka derives its backward pass, its cost and its
// training step from that type. Prints the model's summary, the held-out accuracy as it trains, and
// how often a model that ignores the other tokens (always the token's own digit) would be right.
#include "common/cli.hpp"
#include "common/report.hpp"
#include "lecture/majority_task.hpp"

#include <cstdio>
#include <iostream>

using namespace neuronka;
using namespace examples;  // examples/common (cli, plot, ...) and examples/lecture (words, ...)

int main(int argc, char** argv) {
    return cli::run([&] {
        cli::Options args("majority", "majority: a composed attention model finds the most frequent digit");
        int steps = 1500;
        args.option("--steps", steps, "training steps", 1, 10000000);
        args.parse(argc, argv);
        task::MajorityTrainer trainer(5);
        summary<task::MajorityModel>(std::cout, 32, trainer.task.length);

        // What a token knows without attention: its own digit. How often is that the answer?
        Rng rng(12345);
        std::vector<int> ids, targets;
        trainer.task.batch(2000, rng, ids, targets);
        int own = 0;
        for (int b = 0; b < 2000; ++b)
            own += ids[std::size_t(b * trainer.task.length)] == targets[std::size_t(b * trainer.task.length)];
        std::printf(
            "\nsequences of %d digits 0-%d; a token that only knows its own digit is right %.1f%% of the time\n",
            trainer.task.length, task::Majority::digits - 1, 100.0 * own / 2000);

        report::Step page(args.out(), "majority");
        page.value("model", report::format("%zu parameters", task::MajorityModel::parameter_count))
            .value("right without attention (a token's own digit)", report::format("%.1f %%", 100.0 * own / 2000))
            .table("Training the composed model", {"step", "loss", "held-out accuracy"});
        float loss = 0;
        for (int s = 1; s <= steps; ++s) {
            loss = trainer.step();
            if (s % 250 == 0 || s == steps) {
                const double acc = trainer.accuracy(1000);
                std::printf("step %5d  loss %.4f  held-out accuracy %.1f%%\n", s, loss, 100 * acc);
                page.row({std::to_string(s), report::format("%.4f", loss), report::format("%.1f %%", 100 * acc)});
            }
        }
        const double acc = trainer.accuracy(1000);
        std::printf("with attention over the whole sequence: %.1f%% of 1000 held-out sequences answered correctly\n",
                    100 * acc);
        page.value("right with attention over the whole sequence", report::format("%.1f %%", 100 * acc)).write();
    });
}
