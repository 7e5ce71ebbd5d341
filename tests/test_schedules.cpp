// Learning-rate schedules and ReduceOnPlateau against PyTorch's schedulers over 1,000 steps
// (tests/fixtures/make_schedules_fixture.py), their closed forms at chosen steps, and the errors
// their settings raise.
#include <neuronka/train/schedule.hpp>

#include <catch2/catch.hpp>

#include "fixture.hpp"

#include <vector>

using namespace neuronka;
using Catch::Matchers::Contains;

namespace {
// The largest relative difference between the schedule's first rates and PyTorch's.
double worst_difference(const LearningRateSchedule& s, const std::vector<double>& torch) {
    std::vector<double> ours(torch.size());
    for (std::size_t k = 0; k < torch.size(); ++k) ours[k] = s(long(k));
    return max_relative_difference(ours.data(), torch);
}
}  // namespace

TEST_CASE("every schedule gives PyTorch's rates for 1,000 steps", "[schedule][fixture]") {
    const Fixture f = read_fixture(NEURONKA_FIXTURE_DIR "/schedules_fixture.txt");
    REQUIRE(f.get("step").size() == 1000);
    const std::pair<const char*, LearningRateSchedule> cases[] = {
        {"step", LearningRateSchedule::step(0.1, 30, 0.5)},
        {"multi_step", LearningRateSchedule::multi_step(0.1, {100, 250, 600}, 0.3)},
        {"linear_up", LearningRateSchedule::linear(0.05, 0.25, 1.0, 400)},
        {"linear_down", LearningRateSchedule::linear(0.05, 1.0, 0.1, 700)},
        {"exponential", LearningRateSchedule::exponential(0.1, 0.995)},
        {"cosine_restarts", LearningRateSchedule::cosine_restarts(0.02, 97)},
        {"cosine_restarts_x2", LearningRateSchedule::cosine_restarts(0.1, 50, 2, 1e-3)},
        {"lambda", LearningRateSchedule([](long s) { return 0.1 * (1.0 / (1 + 0.01 * double(s))); })},
    };
    for (const auto& [name, schedule] : cases) {
        INFO(name << ": " << schedule.describe());
        CHECK(worst_difference(schedule, f.get(name)) < 1e-12);
    }
    // a schedule whose period differs by one step is told apart
    CHECK(worst_difference(LearningRateSchedule::step(0.1, 31, 0.5), f.get("step")) > 0.1);
    CHECK(worst_difference(LearningRateSchedule::cosine_restarts(0.1, 50, 1, 1e-3), f.get("cosine_restarts_x2")) > 0.1);
}

TEST_CASE("ReduceOnPlateau sets PyTorch's ReduceLROnPlateau rates", "[schedule][fixture]") {
    const Fixture f = read_fixture(NEURONKA_FIXTURE_DIR "/schedules_fixture.txt");
    const std::vector<double>& loss = f.get("plateau_loss");
    auto replay = [&](ReduceOnPlateau p) {
        std::vector<double> rates;
        double rate = 0.1;
        for (double l : loss) rates.push_back(rate = p.next(l, rate));
        return rates;
    };
    const std::vector<double> rel =
        replay({.factor = 0.5, .patience = 5, .threshold = 1e-3, .cooldown = 2, .min_rate = 1e-4});
    const std::vector<double> abs =
        replay({.factor = 0.3, .patience = 3, .threshold = 2e-3, .relative = false, .min_rate = 5e-4});
    CHECK(max_relative_difference(rel.data(), f.get("plateau_rel")) < 1e-15);
    CHECK(max_relative_difference(abs.data(), f.get("plateau_abs")) < 1e-15);
    // without the cooldown the rate falls sooner: the setting is used
    const std::vector<double> eager = replay({.factor = 0.5, .patience = 5, .threshold = 1e-3, .min_rate = 1e-4});
    CHECK(max_relative_difference(eager.data(), f.get("plateau_rel")) > 0.1);
}

TEST_CASE("schedules at chosen steps, and their errors", "[schedule]") {
    CHECK(LearningRateSchedule::constant(0.5)(1000) == 0.5);
    const auto wc = LearningRateSchedule::warmup_cosine(1e-3, 10, 110, 1e-4);
    CHECK(wc(0) == Approx(1e-4));
    CHECK(wc(9) == Approx(1e-3));
    CHECK(wc(60) == Approx(1e-4 + 0.9e-3 * 0.5));
    CHECK(wc(109) > wc(110));
    CHECK(wc(500) == 1e-4);
    CHECK(LearningRateSchedule::multi_step(1, {}, 0.5)(99) == 1);
    CHECK(LearningRateSchedule::multi_step(1, {3, 3}, 0.5)(3) == 0.25);    // a repeated milestone counts twice
    const auto restarts = LearningRateSchedule::cosine_restarts(1, 4, 3);  // periods 4, 12, 36
    CHECK(restarts(3) < restarts(4));
    CHECK(restarts(4) == 1);
    CHECK(restarts(16) == 1);
    CHECK(restarts(10) == Approx(0.5));  // halfway through the second period
    // schedules are values: copies keep their function
    std::vector<LearningRateSchedule> sweep{LearningRateSchedule::step(0.1, 2),
                                            LearningRateSchedule::exponential(1, 0.5)};
    const auto copy = sweep;
    CHECK(copy[0](2) == Approx(0.01));
    CHECK(copy[1](3) == 0.125);
    CHECK(copy[1].describe() == "exponential 1, x0.5 per step");

    CHECK_THROWS_WITH(LearningRateSchedule::warmup_cosine(1e-3, 10, 5),
                      Contains("warmup_cosine: expected peak > 0, 0 <= warmup < total"));
    CHECK_THROWS_WITH(LearningRateSchedule::step(0.1, 0), Contains("LearningRateSchedule::step: step_size is 0"));
    CHECK_THROWS_WITH(LearningRateSchedule::exponential(0.1, -1), Contains("exponential: gamma is -1"));
    CHECK_THROWS_WITH(LearningRateSchedule::linear(0.1, 0, 1, 10), Contains("linear: start_factor is 0"));
    CHECK_THROWS_WITH(LearningRateSchedule::cosine_restarts(0.1, 10, 1, 0.5),
                      Contains("cosine_restarts: floor is 0.5"));
    CHECK_THROWS_WITH(LearningRateSchedule::multi_step(0.1, {50, 20}), Contains("milestones must be ascending"));
    CHECK_THROWS_WITH(LearningRateSchedule::constant(NAN), Contains("constant: lr is nan"));
    ReduceOnPlateau bad{.factor = 1.5};
    CHECK_THROWS_WITH(bad.next(1, 0.1), Contains("ReduceOnPlateau: factor is 1.5, expected 0 < factor < 1"));
}
