// Attention: "not all data is equally important". A one-layer transformer learns to reverse a
// sequence of digits: after the separator '|', each position must output one specific earlier
// digit. Prints the accuracy and writes attention.svg: for each head, how much every position
// (row) attends to every earlier position (column). The bright anti-diagonal is the model looking
// exactly where the answer is.
#include "common/cli.hpp"
#include "common/report.hpp"
#include "common/svg.hpp"
#include "lecture/reverse_task.hpp"

#include <neuronka/neuronka.hpp>

#include <cstdio>

using namespace neuronka;
using namespace examples;  // examples/common (cli, plot, ...) and examples/lecture (words, ...)

int main(int argc, char** argv) {
    return cli::run([&] {
        cli::Options args("attention",
                          "attention: a one-layer transformer learns to reverse digits; writes attention.svg");
        int steps = 1000;
        args.option("--steps", steps, "training steps", 1, 10000000);
        args.parse(argc, argv);
        const task::Reverse task{6};
        using Model = Transformer<float, task::Reverse::vocab, 16, 32, 2, 1>;
        Model model(3);
        SoftmaxCrossEntropy<float, task::Reverse::vocab> ce;
        AdamW<float> opt({.learning_rate = 3e-3f, .weight_decay = 0.0f});
        Rng rng(4);
        std::vector<int> ids, targets;
        const int L = task.length();
        auto accuracy = [&](int sequences) {
            Rng test_rng(99);
            task.batch(sequences, test_rng, ids, targets);
            const auto& logits = model.forward(ids, L);
            std::vector<int> answers, answer_targets;  // the columns after the separator
            for (int c = 0; c < int(ids.size()); ++c)
                if (task.is_answer(c % L)) answers.push_back(c), answer_targets.push_back(targets[std::size_t(c)]);
            return neuronka::accuracy(logits(Eigen::all, answers), answer_targets);
        };
        std::printf(
            "task: reverse %d digits, e.g. 3 1 4 1 5 9 | 9 5 1 4 1 3;  model: %zu parameters, 1 layer, 2 heads\n",
            task.digits, Model::parameter_count);
        report::Step page(args.out(), "attention");
        page.value("model", report::format("%zu parameters, 1 layer, 2 heads", Model::parameter_count))
            .table("Accuracy of the answers (the reversed digits) during training", {"step", "answer accuracy"});
        for (int s = 0; s <= steps; ++s) {
            if (s % 250 == 0 || s == steps) {
                const double acc = accuracy(500);
                std::printf("step %5d  answer accuracy %.1f%%\n", s, 100 * acc);
                page.row({std::to_string(s), report::format("%.1f %%", 100 * acc)});
            }
            if (s == steps) break;
            task.batch(32, rng, ids, targets);
            model.zero_grad();
            ce.forward(model.forward(ids, L), targets);
            model.backward(ids, ce.backward());
            clip_gradient_norm(model, 1.0);
            opt.step(model);
        }

        // One example sequence and its attention maps.
        Rng example_rng(2024);
        task.batch(1, example_rng, ids, targets);
        const auto& logits = model.forward(ids, L);
        std::vector<std::string> labels;
        std::string input, output;
        std::printf("input :");
        for (int t = 0; t < L; ++t) {
            labels.push_back(ids[std::size_t(t)] == task::Reverse::separator ? "|"
                                                                             : std::to_string(ids[std::size_t(t)]));
            std::printf(" %s", labels.back().c_str());
            input.append(t ? " " : "").append(labels.back());
        }
        std::printf("\noutput:");
        for (int t = task.digits; t < 2 * task.digits; ++t) {
            Eigen::Index best;
            logits.col(t).maxCoeff(&best);
            std::printf(" %d", int(best));
            output.append(output.empty() ? "" : " ").append(std::to_string(best));
        }
        std::printf("   (predicted after the separator)\n");
        std::vector<plot::Panel> panels;
        for (int h = 0; h < 2; ++h) {
            const Eigen::MatrixXf p = model.attention(0).probabilities(0, h);  // (query, key)
            plot::Panel panel{"head " + std::to_string(h + 1), std::vector<std::vector<double>>(std::size_t(L))};
            for (int t = 0; t < L; ++t)
                for (int s = 0; s < L; ++s) panel.values[std::size_t(t)].push_back(p(t, s));
            panels.push_back(std::move(panel));
        }
        plot::matrices(args.path("attention.svg"), "Attention after training: row = position predicting the next token",
                       panels, labels, labels, "query position (token seen)", "key position (token attended to)");
        std::printf("wrote %s\n", args.path("attention.svg").c_str());
        page.value("input", input)
            .value("output after the separator", output)
            .figure("attention.svg", "Where each position looks: the bright anti-diagonal is the reversal")
            .write();
    });
}
