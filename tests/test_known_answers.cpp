// neuronka's random generator and initialisers against known answers: the first outputs of each,
// computed from the algorithms' definitions by tests/fixtures/make_known_answers.py (independent
// of this code) and kept in tests/fixtures/known_answers.txt. The test command builds this file with
// clang (the unit tests) and with GCC (the rest), so "the same seed gives bitwise the same model with
// any conforming compiler" is checked on two compilers, not assumed.
#include <neuronka/core/random.hpp>
#include <neuronka/layers/dense.hpp>

#include <catch2/catch.hpp>

#include <bit>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace neuronka;

namespace {
// Every line of the fixture, by its first two words ("next_u64 42"), as the words after them.
std::map<std::string, std::vector<std::string>> known_answers() {
    std::ifstream in(NEURONKA_FIXTURE_DIR "/known_answers.txt");
    REQUIRE(in.good());
    std::map<std::string, std::vector<std::string>> answers;
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream words(line);
        std::string kind, seed;
        words >> kind >> seed;
        std::vector<std::string>& values = answers[kind + " " + seed];
        for (std::string w; words >> w;) values.push_back(w);
    }
    return answers;
}
std::uint64_t hex(const std::string& s) {
    return std::stoull(s, nullptr, 16);
}
}  // namespace

TEST_CASE("Rng gives the known outputs of xoshiro256** seeded by splitmix64", "[random][known-answers]") {
    const auto answers = known_answers();
    int checked = 0;
    for (const std::uint64_t seed : {std::uint64_t(0), std::uint64_t(1), std::uint64_t(42), ~std::uint64_t(0)}) {
        const std::vector<std::string>& expected = answers.at("next_u64 " + std::to_string(seed));
        REQUIRE(expected.size() == 8);
        Rng rng(seed);
        for (const std::string& e : expected) {
            CHECK(rng.next_u64() == hex(e));
            ++checked;
        }
    }
    for (const std::uint64_t seed : {0, 42}) {
        const std::vector<std::string>& expected = answers.at("uniform " + std::to_string(seed));
        Rng rng(seed);
        for (const std::string& e : expected) {
            CHECK(std::bit_cast<std::uint64_t>(rng.uniform()) == hex(e));
            ++checked;
        }
    }
    for (const auto& [seed, n] : {std::pair<std::uint64_t, std::uint64_t>{7, 10}, {7, 3}, {99, 1000003}}) {
        const std::vector<std::string>& expected =
            answers.at("below_" + std::to_string(n) + " " + std::to_string(seed));
        REQUIRE(expected.size() == 12);
        Rng rng(seed);
        for (const std::string& e : expected) {
            CHECK(rng.below(n) == std::stoull(e));
            ++checked;
        }
    }
    CHECK(checked == 4 * 8 + 2 * 6 + 3 * 12);
}

TEST_CASE("the initialisers give the known weights, bit for bit, in float and double", "[random][known-answers]") {
    const auto answers = known_answers();
    for (const std::uint64_t seed : {0, 5}) {
        const Dense<float, 3, 4> d(seed);  // Xavier: U(-a, a), a = sqrt(6 / (3 + 4))
        const std::vector<std::string>& expected = answers.at("dense_float_3_4 " + std::to_string(seed));
        REQUIRE(expected.size() == 12);
        for (int k = 0; k < 12; ++k)  // column-major
            CHECK(std::bit_cast<std::uint32_t>(d.W(k % 4, k / 4)) == std::uint32_t(hex(expected[std::size_t(k)])));
    }
    Eigen::MatrixXd w(5, 2);
    Rng rng(11);
    initialise(w, rng, Init::he);  // U(-a, a), a = sqrt(6 / 2)
    const std::vector<std::string>& expected = answers.at("he_double_5_2 11");
    REQUIRE(expected.size() == 10);
    for (int k = 0; k < 10; ++k) CHECK(std::bit_cast<std::uint64_t>(w(k % 5, k / 5)) == hex(expected[std::size_t(k)]));
}
