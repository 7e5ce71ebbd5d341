// Command lines of neuronka's examples, parsed by CLI11 (Debian's libcli11-dev): every example
// declares its options, with a help text and a range; --help prints the usage and every option
// with its default; an unknown option, a missing value or a value out of range is an error. Every
// example accepts --out DIR (where figures and reports go, default "out").
//
// CLI11 is included by examples/common/cli.cpp only, compiled once into the library
// neuronka_example_cli: parsing CLI11's headers costs several seconds per translation unit, more
// than some examples' own code.
#pragma once

#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace examples::cli {

/// One declared option, to refine: the values it accepts and the default its help shows.
class Option {
public:
    /// The value must be one of `values`.
    Option& one_of(const std::vector<std::string>& values);
    /// The value must pass `validate`, which returns an empty string or what is wrong; `type` names
    /// the kind of value in the help (e.g. "POSITIVE").
    Option& check(std::function<std::string(const std::string&)> validate, const std::string& type);
    /// The default the help shows ("" for none).
    Option& default_text(const std::string& text);

private:
    friend class Options;
    explicit Option(void* option) : option_(option) {}
    Option& range(long lo, long hi);
    Option& range(double lo, double hi);
    void* option_;  // the CLI11 option
};

class Options {
public:
    /// `name`: the program; `description`: what it does, printed first by --help.
    Options(std::string name, std::string description, std::string out = "out");
    ~Options();
    Options(const Options&) = delete;
    Options& operator=(const Options&) = delete;

    /// An option `--name` (CLI11 flags: "--data,--text" for aliases) whose value is stored in `value`;
    /// the current value is its default.
    Option option(const std::string& flags, int& value, const std::string& help);
    Option option(const std::string& flags, long& value, const std::string& help);
    Option option(const std::string& flags, double& value, const std::string& help);
    Option option(const std::string& flags, std::string& value, const std::string& help);
    /// A flag `--name`, given or not: `value` becomes true when it is given.
    Option flag(const std::string& flags, bool& value, const std::string& help);
    /// The same, with the value required to lie in [lo, hi].
    Option option(const std::string& flags, int& value, const std::string& help, int lo, int hi) {
        return option(flags, value, help).range(long(lo), long(hi));
    }
    Option option(const std::string& flags, long& value, const std::string& help, long lo, long hi) {
        return option(flags, value, help).range(lo, hi);
    }
    Option option(const std::string& flags, double& value, const std::string& help, double lo, double hi) {
        return option(flags, value, help).range(lo, hi);
    }

    /// Parses the command line. --help prints the usage and ends the program (exit 0); a bad command
    /// line prints what is wrong and ends it (exit 2). Then creates the --out directory.
    void parse(int argc, char** argv);

    /// Whether the option was given on the command line.
    bool given(const std::string& flag) const;
    const std::string& out() const;
    std::string path(const std::string& file) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Runs an example's body, turning exceptions into a message and exit code 1.
template <class F>
int run(F&& body) {
    try {
        body();
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace examples::cli
