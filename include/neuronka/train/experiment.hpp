/// @file
/// @brief Seeded experiments: run a configuration over K seeds, summarise it (mean, standard
/// deviation, confidence interval) and compare two configurations with a t-test whose verdict a
/// unit test can require.
///
///     auto relu = neuronka::run_seeds(5, [](std::uint64_t seed) { return train_mlp<ReLU>(seed); });
///     auto gelu = neuronka::run_seeds(5, [](std::uint64_t seed) { return train_mlp<GELU>(seed); });
///     const auto c = neuronka::compare(gelu, relu, neuronka::Pairing::by_seed);
///     REQUIRE(c.verdict() == neuronka::Verdict::first_higher);   // GELU's accuracy is higher
///
/// Every run takes its seed; a run whose randomness all comes from that seed (initialisation,
/// shuffling, dropout) reproduces exactly, so a failing experiment can be rerun and inspected.
/// docs/experiments.md walks through writing one.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <numbers>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace neuronka {

namespace detail {

// The regularised incomplete beta function I_x(a, b), by its continued fraction (modified Lentz),
// on the side of x where the fraction converges fast.
inline double incomplete_beta(double a, double b, double x) {
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    const double log_front =
        std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
    if (x > (a + 1) / (a + b + 2)) return 1 - incomplete_beta(b, a, 1 - x);
    constexpr double tiny = 1e-300;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    d = 1 / (std::abs(d) < tiny ? tiny : d);
    double f = d;
    for (int m = 1; m <= 10000; ++m) {
        for (int step = 0; step < 2; ++step) {  // the even then the odd term of the fraction
            const double num = step == 0 ? m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
                                         : -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
            d = 1 + num * d;
            d = 1 / (std::abs(d) < tiny ? tiny : d);
            c = 1 + num / c;
            if (std::abs(c) < tiny) c = tiny;
            f *= c * d;
            if (step == 1 && std::abs(c * d - 1) < 1e-15) return std::exp(log_front) * f / a;
        }
    }
    return std::exp(log_front) * f / a;
}

}  // namespace detail

/// P(T ≤ t) for Student's t with `dof` degrees of freedom (dof > 0, not necessarily whole).
inline double student_t_cdf(double t, double dof) {
    if (!(dof > 0))
        throw std::invalid_argument("student_t_cdf: " + std::to_string(dof) + " degrees of freedom; expected > 0");
    const double tail = 0.5 * detail::incomplete_beta(dof / 2, 0.5, dof / (dof + t * t));  // P(T > |t|)
    return t >= 0 ? 1 - tail : tail;
}

/// The t with P(T ≤ t) = p, for 0 < p < 1 (bisection on student_t_cdf, to 1e-12).
inline double student_t_quantile(double p, double dof) {
    if (!(p > 0 && p < 1))
        throw std::invalid_argument("student_t_quantile: p = " + std::to_string(p) + "; expected 0 < p < 1");
    double lo = -1, hi = 1;
    while (student_t_cdf(lo, dof) > p) lo *= 2;
    while (student_t_cdf(hi, dof) < p) hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-12 * std::max(1.0, std::abs(hi)); ++i) {
        const double mid = (lo + hi) / 2;
        (student_t_cdf(mid, dof) < p ? lo : hi) = mid;
    }
    return (lo + hi) / 2;
}

/// Mean, spread and confidence interval of one configuration's results over its runs.
struct Summary {
    std::size_t runs = 0;      ///< how many results
    double mean = 0;           ///< their mean
    double sd = 0;             ///< sample standard deviation (n − 1)
    double ci_low = 0;         ///< the confidence interval of the mean (Student's t): lower end
    double ci_high = 0;        ///< upper end
    double confidence = 0.95;  ///< the interval's confidence level
    /// Half the interval's width: the ± of str().
    double half_width() const { return (ci_high - ci_low) / 2; }
    /// "0.8712 ± 0.0043 (95 % CI, 5 runs, sd 0.0035)"
    std::string str(int digits = 4) const {
        char buf[128];
        std::snprintf(buf, sizeof buf, "%.*f ± %.*f (%.0f %% CI, %zu runs, sd %.*f)", digits, mean, digits,
                      half_width(), 100 * confidence, runs, digits, sd);
        return buf;
    }
};

namespace detail {
inline void check_confidence(const char* where, double confidence) {
    if (!(confidence > 0 && confidence < 1))
        throw std::invalid_argument(std::string(where) + ": confidence " + std::to_string(confidence) +
                                    "; expected 0 < confidence < 1 (0.95 for a 95 % interval)");
}
inline void check_finite_results(const char* where, std::span<const double> values) {
    for (std::size_t i = 0; i < values.size(); ++i)
        if (!std::isfinite(values[i]))
            throw std::invalid_argument(std::string(where) + ": result " + std::to_string(i) +
                                        " is not finite. Hint: a run diverged; look at that seed's run");
}
}  // namespace detail

/// Summarises ≥ 2 results: mean, sd and the `confidence` interval of the mean.
inline Summary summarize(std::span<const double> values, double confidence = 0.95) {
    detail::check_confidence("summarize", confidence);
    if (values.size() < 2)
        throw std::invalid_argument("summarize: " + std::to_string(values.size()) +
                                    " results; expected at least 2. Hint: run the configuration over more seeds");
    detail::check_finite_results("summarize", values);
    const double n = double(values.size());
    double mean = 0;
    for (double v : values) mean += v;
    mean /= n;
    double ss = 0;
    for (double v : values) ss += (v - mean) * (v - mean);
    const double sd = std::sqrt(ss / (n - 1));
    const double half = student_t_quantile(0.5 + confidence / 2, n - 1) * sd / std::sqrt(n);
    return {values.size(), mean, sd, mean - half, mean + half, confidence};
}

/// Whether two configurations' runs are paired: run i of both used seed i (then differences per
/// seed are compared, which removes what the seed does to both), or independent.
enum class Pairing { independent, by_seed };

/// What a comparison concludes at its significance level.
enum class Verdict { first_higher, second_higher, no_difference };

/// The verdict in words: "first higher", "second higher", "no significant difference".
inline const char* to_string(Verdict v) {
    return v == Verdict::first_higher    ? "first higher"
           : v == Verdict::second_higher ? "second higher"
                                         : "no significant difference";
}

/// The comparison of configuration A (first) with B (second).
struct Comparison {
    Summary a;                               ///< the first configuration's summary
    Summary b;                               ///< the second's
    Pairing pairing = Pairing::independent;  ///< which test was used
    double difference = 0;                   ///< mean(A) − mean(B)
    double ci_low = 0;                       ///< confidence interval of the difference: lower end
    double ci_high = 0;                      ///< upper end
    double t = 0;                            ///< the t statistic
    double dof = 0;                          ///< degrees of freedom (Welch–Satterthwaite when independent)
    double p_value = 1;                      ///< two-sided
    double alpha = 0.05;                     ///< significance level: 1 − the confidence

    /// first_higher or second_higher when p < alpha, else no_difference.
    Verdict verdict() const {
        if (!(p_value < alpha)) return Verdict::no_difference;
        return difference > 0 ? Verdict::first_higher : Verdict::second_higher;
    }
    /// "A − B = 0.0123 (95 % CI 0.0051 .. 0.0195), t = 4.02, 4.0 dof, paired by seed, p = 0.016: first higher"
    std::string str(int digits = 4) const {
        char buf[256];
        std::snprintf(buf, sizeof buf, "A - B = %.*f (%.0f %% CI %.*f .. %.*f), t = %.2f, %.1f dof, %s, p = %.3g: %s",
                      digits, difference, 100 * (1 - alpha), digits, ci_low, digits, ci_high, t, dof,
                      pairing == Pairing::by_seed ? "paired by seed" : "Welch", p_value, to_string(verdict()));
        return buf;
    }
};

/**
 * @brief Compares the results of A and B with a two-sided t-test at level 1 − confidence: Welch's
 * test for independent runs, the paired test when run i of both used the same seed (then both
 * need the same number of runs). At least 2 runs each.
 */
inline Comparison compare(std::span<const double> a, std::span<const double> b, Pairing pairing = Pairing::independent,
                          double confidence = 0.95) {
    detail::check_confidence("compare", confidence);
    if (a.size() < 2 || b.size() < 2)
        throw std::invalid_argument("compare: " + std::to_string(a.size()) + " and " + std::to_string(b.size()) +
                                    " results; expected at least 2 each. Hint: run each configuration over more seeds");
    if (pairing == Pairing::by_seed && a.size() != b.size())
        throw std::invalid_argument("compare: paired by seed, but " + std::to_string(a.size()) + " and " +
                                    std::to_string(b.size()) +
                                    " results. Hint: run both over the same seeds, or compare them as independent");
    Comparison c;
    c.a = summarize(a, confidence), c.b = summarize(b, confidence);
    c.pairing = pairing;
    c.alpha = 1 - confidence;
    c.difference = c.a.mean - c.b.mean;
    double se = 0;
    if (pairing == Pairing::by_seed) {
        std::vector<double> d(a.size());
        for (std::size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
        const Summary s = summarize(d, confidence);
        se = s.sd / std::sqrt(double(d.size()));
        c.dof = double(d.size()) - 1;
    } else {
        const double va = c.a.sd * c.a.sd / double(a.size()), vb = c.b.sd * c.b.sd / double(b.size());
        se = std::sqrt(va + vb);
        c.dof = se > 0 ? (va + vb) * (va + vb) / (va * va / (double(a.size()) - 1) + vb * vb / (double(b.size()) - 1))
                       : double(a.size() + b.size() - 2);
    }
    if (se > 0) {
        c.t = c.difference / se;
        c.p_value = 2 * (1 - student_t_cdf(std::abs(c.t), c.dof));
    } else {  // no spread at all: any difference is certain, none is none
        c.t = c.difference == 0 ? 0 : std::copysign(std::numeric_limits<double>::infinity(), c.difference);
        c.p_value = c.difference == 0 ? 1 : 0;
    }
    const double half = student_t_quantile(0.5 + confidence / 2, c.dof) * se;
    c.ci_low = c.difference - half, c.ci_high = c.difference + half;
    return c;
}

/// The seeds of an experiment of K runs: first_seed, first_seed + 1, …
inline std::vector<std::uint64_t> seeds(int runs, std::uint64_t first_seed = 1) {
    if (runs < 1) throw std::invalid_argument("seeds: " + std::to_string(runs) + " runs; expected at least 1");
    std::vector<std::uint64_t> s(static_cast<std::size_t>(runs));
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = first_seed + i;
    return s;
}

/// Calls run(seed) for each of `runs` seeds (seeds(runs, first_seed)) and returns the results in seed order.
template <class Run>
std::vector<double> run_seeds(int runs, Run&& run, std::uint64_t first_seed = 1) {
    std::vector<double> results;
    for (std::uint64_t seed : seeds(runs, first_seed)) results.push_back(double(run(seed)));
    return results;
}

}  // namespace neuronka
