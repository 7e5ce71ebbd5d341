// A sweep, one run per process: XOR learned by a 2-H-1 tanh MLP (H = 2 or 8) from one seed, its
// final MSE written as a result file; the summary reads a directory of them. The same experiment
// also runs in one process, so tests/sweep/sweep.sh can check that a sweep run through GNU parallel
// reports exactly what the in-process experiment reports.
// Usage: xor_sweep run HIDDEN SEED FILE | xor_sweep summarize DIR | xor_sweep in-process RUNS
#include <neuronka/compose/sequential.hpp>
#include <neuronka/layers/activation.hpp>
#include <neuronka/layers/dense.hpp>
#include <neuronka/train/experiment_files.hpp>
#include <neuronka/train/sgd.hpp>

#include "../xor_run.hpp"

#include <cstdio>
#include <exception>
#include <string>

using namespace neuronka;

namespace {
double run(int hidden, std::uint64_t seed) {
    if (hidden == 2) return xor_loss<Sequential<Dense<double, 2, 2>, Tanh, Dense<double, 2, 1>>>(seed);
    if (hidden == 8) return xor_loss<Sequential<Dense<double, 2, 8>, Tanh, Dense<double, 8, 1>>>(seed);
    throw std::invalid_argument("HIDDEN is " + std::to_string(hidden) + ", expected 2 or 8");
}

void report(const Results& r) {
    for (const std::string& c : r.configurations())
        std::printf("%s: %s\n", c.c_str(), r.summary(c, "mse").str().c_str());
    std::printf("h2 - h8: %s\n", r.compare("h2", "h8", "mse", Pairing::by_seed).str().c_str());
}
}  // namespace

int main(int argc, char** argv) {
    try {
        const std::string command = argc > 1 ? argv[1] : "";
        if (command == "run" && argc == 5) {
            const int hidden = std::stoi(argv[2]);
            const std::uint64_t seed = std::stoull(argv[3]);
            write_result(argv[4], {"h" + std::to_string(hidden), seed, {{"mse", run(hidden, seed)}}});
        } else if (command == "summarize" && argc == 3) {
            report(read_results(argv[2]));
        } else if (command == "in-process" && argc == 3) {
            std::vector<RunResult> runs;
            for (int hidden : {2, 8})
                for (std::uint64_t seed : seeds(std::stoi(argv[2])))
                    runs.push_back({"h" + std::to_string(hidden), seed, {{"mse", run(hidden, seed)}}, "memory"});
            report(Results(std::move(runs)));
        } else {
            std::fprintf(stderr, "usage: xor_sweep run HIDDEN SEED FILE | summarize DIR | in-process RUNS\n");
            return 2;
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "xor_sweep: %s\n", e.what());
        return 1;
    }
}
