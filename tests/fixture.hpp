// Reads the fixture files of tests/fixtures (written by the make_*_fixture.py scripts there; the
// format is in fixture_io.py): a header of sizes, then named blocks of numbers.
#pragma once

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

struct Fixture {
    std::vector<int> header;
    std::vector<std::pair<std::string, std::vector<double>>> blocks;
    const std::vector<double>& get(const std::string& name) const {
        for (const auto& [n, v] : blocks)
            if (n == name) return v;
        throw std::runtime_error("fixture has no block " + name);
    }
};
inline Fixture read_fixture(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    Fixture f;
    std::string line, magic;
    std::getline(in, line);
    std::istringstream header(line);
    header >> magic;
    if (magic != "neuronka-fixture") throw std::runtime_error(path + ": not a fixture file");
    for (int v; header >> v;) f.header.push_back(v);
    std::string name, word;
    std::size_t count;
    while (in >> word) {
        name = word;
        if (word == "param" || word == "grad") in >> word, name += " " + word;
        in >> count;
        std::vector<double> values(count);
        for (auto& v : values) in >> v;
        f.blocks.emplace_back(name, std::move(values));
    }
    return f;
}
// The largest |a - b| / max(|b|, 1e-3) over the entries of b: relative, except near zero.
inline double max_relative_difference(const double* a, const std::vector<double>& b) {
    double worst = 0;
    for (std::size_t i = 0; i < b.size(); ++i)
        worst = std::max(worst, std::abs(a[i] - b[i]) / std::max(std::abs(b[i]), 1e-3));
    return worst;
}

// Copies the fixture's "param NAME" blocks, in file order, into `model`'s parameters in visiting
// order (the fixture scripts write them in that order); throws when a count or size differs.
// Returns the names, for the "grad NAME" blocks.
template <class Model>
std::vector<std::string> load_fixture_parameters(const Fixture& f, Model& model) {
    std::vector<std::string> names;
    for (const auto& [name, values] : f.blocks)
        if (name.rfind("param ", 0) == 0) names.push_back(name.substr(6));
    std::size_t k = 0;
    model.visit_parameters([&](auto p) {
        if (k == names.size()) throw std::runtime_error("the model has more parameters than the fixture");
        const auto& values = f.get("param " + names[k++]);
        if (std::size_t(p.value.size()) != values.size())
            throw std::runtime_error("parameter " + names[k - 1] + ": the fixture has " +
                                     std::to_string(values.size()) + " values, the model " +
                                     std::to_string(p.value.size()));
        std::copy(values.begin(), values.end(), p.value.begin());
    });
    if (k != names.size()) throw std::runtime_error("the fixture has more parameters than the model");
    return names;
}
