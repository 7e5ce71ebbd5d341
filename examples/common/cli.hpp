// Command lines of neuronka's examples, parsed by CLI11 (Debian's libcli11-dev): every example
// declares its options, with a help text and a range; --help prints the usage and every option
// with its default; an unknown option, a missing value or a value out of range is an error. Every
// example accepts --out DIR (where figures and reports go, default "out").
#pragma once

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string>

namespace examples::cli {

class Options {
public:
    /// `name`: the program; `description`: what it does, printed first by --help.
    Options(std::string name, std::string description, std::string out = "out")
        : app_(std::move(description), std::move(name)), out_(std::move(out)) {
        app_.add_option("--out", out_, "directory for figures and reports")->capture_default_str();
    }

    /// An option `--name` (CLI11 flags: "--data,--text" for aliases) whose value is stored in `value`;
    /// the current value is its default.
    template <class T>
    CLI::Option* option(const std::string& flags, T& value, const std::string& help) {
        return app_.add_option(flags, value, help)->capture_default_str();
    }
    /// The same, with the value required to lie in [lo, hi].
    template <class T>
    CLI::Option* option(const std::string& flags, T& value, const std::string& help, T lo, T hi) {
        return option(flags, value, help)->check(CLI::Range(lo, hi));
    }

    /// Parses the command line. --help prints the usage and ends the program (exit 0); a bad command
    /// line prints what is wrong and ends it (exit 2). Then creates the --out directory.
    void parse(int argc, char** argv) {
        try {
            app_.parse(argc, argv);
        } catch (const CLI::ParseError& e) {
            const int code = app_.exit(e);
            std::exit(code == 0 ? 0 : 2);
        }
        std::filesystem::create_directories(out_);
    }

    /// Whether the option was given on the command line.
    bool given(const std::string& flag) const { return app_.count(flag) > 0; }
    const std::string& out() const { return out_; }
    std::string path(const std::string& file) const { return (std::filesystem::path(out_) / file).string(); }

private:
    CLI::App app_;
    std::string out_;
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
