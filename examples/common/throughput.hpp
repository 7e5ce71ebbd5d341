// Measured throughput of a training run: FLOPs counted from the model's type (neuronka::step_cost)
// divided by wall time. Each run is also appended to <out>/runs.tsv, which training_cost reads to
// put neuronka's own models next to GPT-3. Steps reports a fit() run step by step.
#pragma once

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace examples::throughput {

class Meter {
public:
    /// flops_per_step: counted FLOPs of one training step; samples_per_step: samples or tokens.
    Meter(std::string name, double parameters, double flops_per_step, double samples_per_step,
          std::string unit = "samples")
        : name_(std::move(name)),
          unit_(std::move(unit)),
          parameters_(parameters),
          flops_(flops_per_step),
          samples_(samples_per_step),
          start_(std::chrono::steady_clock::now()) {}

    void step() { ++steps_; }
    /// Ends the measured time (what follows, an evaluation for instance, is not training).
    void stop() { stopped_ = seconds(); }
    double seconds() const {
        return stopped_ >= 0 ? stopped_
                             : std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }
    double flops() const { return flops_ * double(steps_); }
    double gflops_per_second() const { return flops() / seconds() / 1e9; }
    double samples_per_second() const { return samples_ * double(steps_) / seconds(); }

    /// "this run: 2.1e12 FLOPs in 23 s = 91 GFLOP/s"
    void report() const {
        std::printf("this run: %.3g FLOPs in %.1f s = %.1f GFLOP/s (%ld steps, %.0f %s/s)\n", flops(), seconds(),
                    gflops_per_second(), steps_, samples_per_second(), unit_.c_str());
    }
    const std::string& unit() const { return unit_; }
    /// Appends "name  parameters  flops  seconds" to path (a tab-separated file).
    void record(const std::string& path) const {
        std::ofstream out(path, std::ios::app);
        if (out) out << name_ << '\t' << parameters_ << '\t' << flops() << '\t' << seconds() << '\n';
    }

private:
    std::string name_, unit_;
    double parameters_, flops_, samples_;
    long steps_ = 0;
    double stopped_ = -1;
    std::chrono::steady_clock::time_point start_;
};

/// A fit() callback for the examples that train by steps: counts every step on a Meter, records
/// (step, batch loss) for the loss chart, and every `every` steps (and at the last) prints
/// "<prefix>step s/S  loss  tokens/s  GFLOP/s  ETA". The meter stops at the last step.
struct Steps {
    Meter& meter;
    std::vector<double>& steps;
    std::vector<double>& losses;
    long every = 100;
    std::string prefix = "";
    template <class S>
    void on_batch_end(S& s) {
        meter.step();
        steps.push_back(double(s.step)), losses.push_back(s.loss);
        const long done = s.step + 1, total = long(s.batches) * s.options.epochs;
        if (done == total) meter.stop();
        if (done % every == 0 || done == total)
            std::printf("%sstep %6ld/%ld  loss %.3f  %7.0f %s/s  %5.1f GFLOP/s  ETA %5.1f s\n", prefix.c_str(), done,
                        total, s.loss, meter.samples_per_second(), meter.unit().c_str(), meter.gflops_per_second(),
                        meter.seconds() / double(done) * double(total - done));
    }
};

}  // namespace examples::throughput
