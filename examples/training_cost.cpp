// What training costs — the lecture's last slides as numbers computed by neuronka::compute, not
// quoted: model sizes and PF-days from GPT-3's shapes, time on a gaming PC versus LUMI, memory,
// energy, CO2 and water against a household's year, and neuronka's own models from the tour
// (measured FLOPs and time, read from <out>/runs.tsv). Writes training_cost.svg (PF-days, log scale).
//
// With arguments it estimates any transformer:
//   training_cost --layers 12 --d-model 768 --heads 12 --context 1024 --vocab 50257 --tokens 3e11
//                 [--d-ff N] [--peak FLOPS] [--utilisation U] [--gpus N --watts W --days D]
//                 [--pue P] [--grid KG_PER_KWH] [--wue L_PER_KWH]
#include "common/cli.hpp"
#include "common/report.hpp"
#include "common/svg.hpp"

#include <neuronka/cost/compute.hpp>
#include <neuronka/layers/neuron.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace neuronka::compute;
using namespace examples;  // examples/common: plot

namespace {

std::string duration(double s) {
    char b[64];
    if (s < 120)
        std::snprintf(b, sizeof b, "%.1f s", s);
    else if (s < 7200)
        std::snprintf(b, sizeof b, "%.1f minutes", s / 60);
    else if (s < 2 * 86400)
        std::snprintf(b, sizeof b, "%.1f hours", s / 3600);
    else if (s < 2 * 365.25 * 86400)
        std::snprintf(b, sizeof b, "%.1f days", s / 86400);
    else
        std::snprintf(b, sizeof b, "%.3g years", s / (365.25 * 86400));
    return b;
}

// The estimator's options: each a positive number. Returns the ones given, by name (without --).
std::map<std::string, double> parse(int argc, char** argv, std::string& out) {
    static const std::pair<const char*, const char*> known[] = {
        {"layers", "transformer blocks"},
        {"d-model", "model width"},
        {"heads", "attention heads"},
        {"context", "context length in tokens"},
        {"vocab", "vocabulary size"},
        {"tokens", "training tokens"},
        {"d-ff", "MLP width (default 4 d-model)"},
        {"peak", "peak FLOP/s of the hardware (default 1e13)"},
        {"utilisation", "fraction of the peak reached (default 1)"},
        {"gpus", "number of GPUs"},
        {"watts", "watts per GPU"},
        {"days", "days of training"},
        {"pue", "data centre PUE (default 1)"},
        {"grid", "kg CO2 per kWh (default 0.429)"},
        {"wue", "litres of water per kWh (default 0.55)"}};
    cli::Options args("training_cost",
                      "training_cost: the lecture's cost figures computed; with --layers ... --tokens, an estimate for "
                      "any transformer");
    std::map<std::string, double> v;
    const auto positive = [](const std::string& text) {
        char* end = nullptr;
        const double x = std::strtod(text.c_str(), &end);
        if (text.empty() || *end || !std::isfinite(x) || x <= 0) return text + ": expected a positive number";
        if (x > 1e30) return text + ": absurdly large";
        return std::string();
    };
    for (const auto& [name, help] : known)
        args.option(std::string("--") + name, v[name], help).check(positive, "POSITIVE").default_text("");
    args.parse(argc, argv);
    out = args.out();
    for (auto it = v.begin(); it != v.end();) it = args.given("--" + it->first) ? std::next(it) : v.erase(it);
    return v;
}

void estimate(const std::map<std::string, double>& v) {
    for (const char* k : {"layers", "d-model", "heads", "context", "vocab", "tokens"})
        if (!v.count(k)) throw std::invalid_argument(std::string("missing --") + k);
    auto get = [&](const char* k, double fallback) { return v.count(k) ? v.at(k) : fallback; };
    const TransformerShape s{v.at("layers"),  v.at("d-model"), v.at("heads"),
                             v.at("context"), v.at("vocab"),   get("d-ff", 0)};
    const double n = parameters_with_embeddings(s), tokens = v.at("tokens");
    const double flops = training_flops(n, tokens), with_attention = training_flops(n, tokens, &s);
    std::printf("parameters: %.4g with embeddings, %.4g without\n", n, parameters_without_embeddings(s));
    std::printf("training FLOPs (6 N D, N with embeddings): %.3g = %.3g PF-days\n", flops, pf_days(flops));
    std::printf("  with Kaplan et al.'s attention term:      %.3g = %.3g PF-days\n", with_attention,
                pf_days(with_attention));
    std::printf("memory to train in fp32 with AdamW (weights, gradients, 2 moments): %.3g GB\n",
                training_memory_bytes(n, 4, 2) / 1e9);
    const double peak = get("peak", 1e13), util = get("utilisation", 1);
    if (util > 1) throw std::invalid_argument("--utilisation: expected a fraction in (0, 1]");
    std::printf("time at %.3g FLOP/s and %.0f%% utilisation: %s\n", peak, util * 100,
                duration(seconds(flops, peak, util)).c_str());
    if (v.count("gpus") && v.count("watts") && v.count("days")) {
        const double kwh = energy_kwh(v.at("gpus"), v.at("watts"), v.at("days") * 24, get("pue", 1));
        std::printf(
            "energy: %.4g kWh (%.1f household-years); CO2: %.4g t at %.3g kg/kWh; water: %.4g L on site at %.3g "
            "L/kWh\n",
            kwh, kwh / household_kwh_per_year, co2_tonnes(kwh, get("grid", 0.429)), get("grid", 0.429),
            water_litres(kwh, get("wue", 0.55)), get("wue", 0.55));
    }
}

struct Run {
    std::string name;
    double parameters, flops, seconds;
};

std::vector<Run> read_runs(const std::string& path) {
    std::vector<Run> runs;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ss(line);
        Run r;
        std::string field;
        if (!std::getline(ss, r.name, '\t')) continue;
        if (ss >> r.parameters >> r.flops >> r.seconds) runs.push_back(r);
    }
    return runs;
}

void lecture(const std::string& out) {
    report::Step page(out, "training_cost");
    using report::format;
    page.table("How big? GPT-3's shapes (context 2048, vocabulary 50257, 300 billion training tokens)",
               {"model", "layers", "d_model", "heads", "parameters (with embeddings)", "parameters (no embeddings)",
                "PF-days"});
    page.row({"y = w*x + b", "-", "-", "-", std::to_string(neuronka::Neuron<float, 1>::parameter_count), "-", "-"});
    std::printf("== How big? (parameters from the shapes of GPT-3's Table 2.1: context 2048, vocabulary 50257) ==\n");
    std::printf("%-30s %8s %8s %6s %16s %16s %12s\n", "model", "layers", "d_model", "heads", "params (w/ emb)",
                "params (no emb)", "PF-days");
    std::printf("%-30s %8s %8s %6s %16zu %16s %12s\n", "the lecture's line y = w*x + b", "-", "-", "-",
                neuronka::Neuron<float, 1>::parameter_count, "-", "-");
    struct Shape {
        const char* name;
        double layers, d, heads;
    };
    const Shape gpt3[] = {{"GPT-3 Small", 12, 768, 12}, {"GPT-3 Medium", 24, 1024, 16}, {"GPT-3 Large", 24, 1536, 16},
                          {"GPT-3 XL", 24, 2048, 24},   {"GPT-3 2.7B", 32, 2560, 32},   {"GPT-3 6.7B", 32, 4096, 32},
                          {"GPT-3 13B", 40, 5140, 40},  {"GPT-3 175B", 96, 12288, 96}};
    std::vector<std::string> names;
    std::vector<double> pfd;
    for (const auto& g : gpt3) {
        const TransformerShape s{g.layers, g.d, g.heads, 2048, 50257};
        const double n = parameters_with_embeddings(s), f = training_flops(n, 300e9);
        std::printf("%-30s %8.0f %8.0f %6.0f %16.4g %16.4g %12.4g\n", g.name, g.layers, g.d, g.heads, n,
                    parameters_without_embeddings(s), pf_days(f));
        names.push_back(g.name + 6), pfd.push_back(pf_days(f));
        page.row({g.name, format("%.0f", g.layers), format("%.0f", g.d), format("%.0f", g.heads), format("%.4g", n),
                  format("%.4g", parameters_without_embeddings(s)), format("%.4g", pf_days(f))});
    }
    const TransformerShape big{96, 12288, 96, 2048, 50257};
    const double n = parameters_with_embeddings(big), flops = training_flops(n, 300e9);
    std::printf(
        "(300 billion training tokens each; FLOPs = 6 N D with N including embeddings: GPT-3 175B needs %.3g "
        "FLOPs)\n\n",
        flops);

    std::printf("== How long? GPT-3 175B's %.3g FLOPs at full utilisation ==\n", flops);
    const auto runs = read_runs((std::filesystem::path(out) / "runs.tsv").string());
    double measured = 0;  // the best FLOP/s this machine reached in the tour's training runs
    for (const auto& r : runs) measured = std::max(measured, r.flops / r.seconds);
    page.value("GPT-3 175B: training FLOPs (6 N D)", format("%.3g", flops))
        .table("How long? GPT-3 175B at full utilisation", {"computer", "time", "source"});
    char here[96];
    std::snprintf(here, sizeof here, "this machine, one core (%.1f GFLOPS)", measured / 1e9);
    if (measured > 0) {
        std::printf("  %-38s %-16s (measured by neuronka in this tour's training runs)\n", here,
                    duration(seconds(flops, measured)).c_str());
        page.row({here, duration(seconds(flops, measured)), "measured by neuronka in this tour's training runs"});
    }
    for (const Machine& m : {gaming_pc_low, gaming_pc_high, v100, lumi_hpl, lumi_peak}) {
        std::printf("  %-38s %-16s (%s)\n", m.name, duration(seconds(flops, m.peak_flops)).c_str(), m.source);
        page.row({m.name, duration(seconds(flops, m.peak_flops)), m.source});
    }
    const double used = flops / (10000 * v100.peak_flops * 14.8 * 86400);
    std::printf("  GPT-3 really took 14.8 days on 10,000 V100s (Patterson et al. 2021): %.0f%% of their peak\n\n",
                100 * used);
    page.value("GPT-3 really took 14.8 days on 10,000 V100s: of their peak", format("%.0f %%", 100 * used));

    std::printf("== Does it fit in memory? ==\n");
    std::printf(
        "  GPT-3 175B, fp32 weights + gradients + AdamW's 2 moments: %.3g TB; one V100 has 32 GB: it needs %.0f of "
        "them\n",
        training_memory_bytes(n, 4, 2) / 1e12, std::ceil(training_memory_bytes(n, 4, 2) / 32e9));
    std::printf("  even the fp16 weights alone are %.0f GB\n\n", n * 2 / 1e9);
    page.value("memory to train GPT-3 175B (fp32 weights, gradients, AdamW's 2 moments)",
               format("%.3g TB = %.0f V100s of 32 GB", training_memory_bytes(n, 4, 2) / 1e12,
                      std::ceil(training_memory_bytes(n, 4, 2) / 32e9)))
        .value("GPT-3 175B's fp16 weights alone", format("%.0f GB", n * 2 / 1e9));

    std::printf(
        "== What does it cost? (Patterson et al. 2021, Table 4: 10,000 V100 at 330 W for 14.8 days, PUE 1.10, 0.429 kg "
        "CO2e/kWh) ==\n");
    const double kwh = energy_kwh(10000, 330, 14.8 * 24, 1.10), kwh_it = energy_kwh(10000, 330, 14.8 * 24);
    std::printf("  energy: %.0f MWh = %.0f households' yearly electricity (%.0f kWh each)\n", kwh / 1000,
                kwh / household_kwh_per_year, household_kwh_per_year);
    std::printf(
        "  CO2: %.0f t with the data centre's PUE; %.0f t for the processors alone - the lecture's 502 t is this "
        "second figure\n",
        co2_tonnes(kwh, 0.429), co2_tonnes(kwh_it, 0.429));
    std::printf(
        "  water on site (Li et al. 2023: 0.55 L/kWh, US average): %.2g L = %.0f households' yearly water (%.0f L "
        "each)\n\n",
        water_litres(kwh, 0.55), water_litres(kwh, 0.55) / household_litres_per_year, household_litres_per_year);
    page.table("What does it cost? GPT-3 175B: 10,000 V100 at 330 W for 14.8 days (Patterson et al. 2021)",
               {"quantity", "GPT-3 175B", "households' yearly use"});
    page.row({"energy (PUE 1.10)", format("%.0f MWh", kwh / 1000), format("%.0f", kwh / household_kwh_per_year)});
    page.row({"CO2 (0.429 kg/kWh, with PUE)", format("%.0f t", co2_tonnes(kwh, 0.429)), "-"});
    page.row({"CO2 (processors alone: the lecture's 502 t)", format("%.0f t", co2_tonnes(kwh_it, 0.429)), "-"});
    page.row({"water on site (0.55 L/kWh)", format("%.2g L", water_litres(kwh, 0.55)),
              format("%.0f", water_litres(kwh, 0.55) / household_litres_per_year)});
    page.table("neuronka's own models, measured in this tour",
               {"run", "parameters", "FLOPs", "seconds", "GFLOP/s", "PF-days", "kWh at an assumed 15 W"});

    std::printf("== neuronka's own models, measured in this tour (counted FLOPs / wall time on this machine) ==\n");
    if (runs.empty()) std::printf("  (no runs.tsv in %s: run the tour's training examples first)\n", out.c_str());
    for (const auto& r : runs) {
        const double kwh_run = energy_kwh(1, 15, r.seconds / 3600);  // assumption: one core at about 15 W
        std::printf(
            "  %-30s %9.0f parameters  %.3g FLOPs in %.1f s = %.1f GFLOP/s = %.3g PF-days; ~%.2g kWh at an assumed 15 "
            "W\n",
            r.name.c_str(), r.parameters, r.flops, r.seconds, r.flops / r.seconds / 1e9, pf_days(r.flops), kwh_run);
        names.push_back(r.name), pfd.push_back(pf_days(r.flops));
        page.row({r.name, format("%.0f", r.parameters), format("%.3g", r.flops), format("%.1f", r.seconds),
                  format("%.1f", r.flops / r.seconds / 1e9), format("%.3g", pf_days(r.flops)),
                  format("%.2g", kwh_run)});
    }
    if (!runs.empty())
        std::printf("  GPT-3 175B took %.3g times the compute of the first of these\n", flops / runs.front().flops);
    plot::Chart("Training compute in PF-days (log scale): GPT-3 models, then neuronka's runs in this tour", "model",
                "PF-days", 900, 480)
        .log_y()
        .bars(names, pfd, plot::palette(0))
        .write((std::filesystem::path(out) / "training_cost.svg").string());
    std::printf("wrote %s\n", (std::filesystem::path(out) / "training_cost.svg").string().c_str());
    page.figure("training_cost.svg", "Training compute in PF-days, log scale: GPT-3 and this tour's runs").write();
}

}  // namespace

int main(int argc, char** argv) {
    try {
        std::string out;
        const auto values = parse(argc, argv, out);
        if (values.empty())
            lecture(out);
        else
            estimate(values);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "training_cost: %s\n", e.what());
        return 2;
    }
}
