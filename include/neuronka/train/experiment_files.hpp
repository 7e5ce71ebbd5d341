/// @file
/// @brief Experiments across processes: each run (configuration, seed) writes its own result file,
/// and a summary reads them all back, so a sweep can run as a Slurm array job or under GNU parallel
/// with no scheduler of neuronka's own (docs/experiments.md).
///
/// A result file is CSV, one metric per line, so files concatenate and open in a spreadsheet:
///
///     configuration,seed,metric,value
///     gelu,3,test_accuracy,0.8712
///
/// @code
/// // in each process:  run --config gelu --seed 3
/// write_result("results/gelu-3.csv", {"gelu", 3, {{"test_accuracy", accuracy}}});
/// // afterwards, in one process:
/// const Results r = read_results("results");
/// const Comparison c = r.compare("gelu", "relu", "test_accuracy", Pairing::by_seed);
/// @endcode
#pragma once

#include "../data/csv.hpp"
#include "../data/dataset.hpp"
#include "../detail/atomic_file.hpp"
#include "experiment.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace neuronka {

/// What one run measured.
struct RunResult {
    std::string configuration = {};  ///< which configuration ran (no comma, quote or line break)
    std::uint64_t seed = 0;          ///< the seed all its randomness came from
    std::vector<std::pair<std::string, double>> metrics = {};  ///< name (same rule) and value
    std::string source = {};                                   ///< the file it was read from (read_results fills it)
};

namespace detail {
inline void check_result_name(const std::string& name, const char* what) {
    if (name.empty() || name.find_first_of(",\"\r\n") != std::string::npos)
        throw std::invalid_argument(std::string("write_result: the ") + what + " '" + name +
                                    "' must be non-empty and hold no comma, quote or line break");
}
}  // namespace detail

/// The result file's text (see the file comment).
inline std::string result_csv(const RunResult& r) {
    detail::check_result_name(r.configuration, "configuration");
    if (r.metrics.empty()) throw std::invalid_argument("write_result: run " + r.configuration + " has no metrics");
    std::string out = "configuration,seed,metric,value\n";
    for (const auto& [name, value] : r.metrics) {
        detail::check_result_name(name, "metric name");
        if (!std::isfinite(value))
            throw std::invalid_argument("write_result: metric " + name + " of run " + r.configuration + " is " +
                                        detail::format_value(value) +
                                        ". Hint: a diverged run is a result to look into, not to average");
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", value);  // round-trips: the summary sees the very double
        out += r.configuration + ',' + std::to_string(r.seed) + ',' + name + ',' + buf + '\n';
    }
    return out;
}

/// Writes one run's result atomically: `path` holds the previous file or the whole new one, never a
/// part (a run killed by a scheduler's time limit leaves no half-written result).
inline void write_result(const std::string& path, const RunResult& r) {
    const std::string text = result_csv(r);
    detail::write_atomically(path, std::vector<unsigned char>(text.begin(), text.end()));
}

/// The runs of a sweep, read back from their result files.
class Results {
public:
    Results() = default;
    /// The runs of a sweep; a (configuration, seed) present twice is an error naming both sources.
    explicit Results(std::vector<RunResult> runs) : runs_(std::move(runs)) {
        std::map<std::pair<std::string, std::uint64_t>, const RunResult*> seen;
        for (const RunResult& r : runs_) {
            const auto [it, fresh] = seen.emplace(std::make_pair(r.configuration, r.seed), &r);
            if (!fresh)
                throw DataError("run " + r.configuration + " seed " + std::to_string(r.seed) + " appears twice: in " +
                                it->second->source + " and in " + r.source + ". Hint: one result file per run");
        }
    }

    /// Every run, in the order read.
    const std::vector<RunResult>& runs() const { return runs_; }

    /// The configurations, sorted.
    std::vector<std::string> configurations() const {
        std::vector<std::string> c;
        for (const RunResult& r : runs_) c.push_back(r.configuration);
        std::sort(c.begin(), c.end());
        c.erase(std::unique(c.begin(), c.end()), c.end());
        return c;
    }

    /// The seeds run for `configuration`, ascending.
    std::vector<std::uint64_t> seeds(const std::string& configuration) const {
        std::vector<std::uint64_t> s;
        for (const RunResult& r : runs_)
            if (r.configuration == configuration) s.push_back(r.seed);
        std::sort(s.begin(), s.end());
        return s;
    }

    /// `metric` of every run of `configuration`, in ascending seed order.
    std::vector<double> values(const std::string& configuration, const std::string& metric) const {
        std::vector<std::pair<std::uint64_t, double>> v;
        for (const RunResult& r : runs_) {
            if (r.configuration != configuration) continue;
            const auto it =
                std::find_if(r.metrics.begin(), r.metrics.end(), [&](const auto& m) { return m.first == metric; });
            if (it == r.metrics.end())
                throw DataError(r.source + ": run " + configuration + " seed " + std::to_string(r.seed) +
                                " has no metric '" + metric + "'");
            v.emplace_back(r.seed, it->second);
        }
        if (v.empty()) throw DataError("no runs of configuration '" + configuration + "'" + known());
        std::sort(v.begin(), v.end());
        std::vector<double> out;
        for (const auto& [seed, value] : v) out.push_back(value);
        return out;
    }

    /// summarize() of `metric` over the runs of `configuration`.
    Summary summary(const std::string& configuration, const std::string& metric, double confidence = 0.95) const {
        const std::vector<double> v = values(configuration, metric);
        return summarize(v, confidence);
    }

    /// compare() of `metric` between configurations `a` and `b`. Paired by seed, both must have run
    /// exactly the same seeds (a missing run is named).
    Comparison compare(const std::string& a, const std::string& b, const std::string& metric,
                       Pairing pairing = Pairing::independent, double confidence = 0.95) const {
        const std::vector<double> va = values(a, metric), vb = values(b, metric);
        if (pairing == Pairing::by_seed) {
            const std::vector<std::uint64_t> sa = seeds(a), sb = seeds(b);
            auto all_in = [](const std::string& x, const std::vector<std::uint64_t>& sx, const std::string& y,
                             const std::vector<std::uint64_t>& sy) {
                for (std::uint64_t s : sx)
                    if (!std::binary_search(sy.begin(), sy.end(), s))
                        throw DataError("compare by seed: " + x + " ran seed " + std::to_string(s) + " but " + y +
                                        " did not. Hint: rerun the missing run, or compare with Pairing::independent");
            };
            all_in(a, sa, b, sb);
            all_in(b, sb, a, sa);
        }
        return neuronka::compare(va, vb, pairing, confidence);
    }

private:
    std::string known() const {
        std::string s;
        for (const std::string& c : configurations()) s += (s.empty() ? "; the results hold " : ", ") + c;
        return s.empty() ? "; there are no results" : s;
    }
    std::vector<RunResult> runs_;
};

/// Parses one result file's text; `source` names it in messages.
inline std::vector<RunResult> parse_results(std::string_view text, const std::string& source) {
    std::vector<RunResult> runs;
    std::istringstream in{std::string(text)};
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line == "configuration,seed,metric,value") continue;
        std::vector<std::string> cells;
        for (std::size_t start = 0;;) {
            const std::size_t comma = line.find(',', start);
            cells.push_back(line.substr(start, comma - start));
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
        const std::string where = source + ":" + std::to_string(number) + ": ";
        if (cells.size() != 4)
            throw DataError(where + std::to_string(cells.size()) +
                            " cells, expected 4: configuration,seed,metric,value");
        std::uint64_t seed = 0;
        double value = 0;
        const auto [se, sec] = std::from_chars(cells[1].data(), cells[1].data() + cells[1].size(), seed);
        if (sec != std::errc() || se != cells[1].data() + cells[1].size() || cells[1].empty())
            throw DataError(where + "seed '" + cells[1] + "' is not a non-negative integer");
        if (!detail::csv_number(cells[3], value))
            throw DataError(where + "value '" + cells[3] + "' is not a finite number");
        if (cells[0].empty() || cells[2].empty()) throw DataError(where + "empty configuration or metric name");
        if (runs.empty() || runs.back().configuration != cells[0] || runs.back().seed != seed)
            runs.push_back({cells[0], seed, {}, source});
        runs.back().metrics.emplace_back(cells[2], value);
    }
    return runs;
}

/// Reads every result: `path` is one result file, or a directory whose `*.csv` files are all
/// result files (read in name order).
inline Results read_results(const std::string& path) {
    namespace fs = std::filesystem;
    std::vector<fs::path> files;
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        for (const auto& e : fs::directory_iterator(path, ec))
            if (e.path().extension() == ".csv") files.push_back(e.path());
        if (ec) throw DataError(path + ": cannot list the directory: " + ec.message());
        std::sort(files.begin(), files.end());
        if (files.empty()) throw DataError(path + ": no result files (*.csv) in the directory");
    } else {
        files.emplace_back(path);
    }
    std::vector<RunResult> runs;
    for (const fs::path& f : files) {
        std::ifstream in(f, std::ios::binary);
        if (!in) throw DataError(f.string() + ": cannot open the file");
        const std::string text{std::istreambuf_iterator<char>(in), {}};
        for (RunResult& r : parse_results(text, f.string())) runs.push_back(std::move(r));
    }
    return Results(std::move(runs));
}

}  // namespace neuronka
