// Command-line options shared by neuronka's examples: --out DIR and --key value pairs.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace examples::cli {

/// Parses "--key value" pairs; every example accepts --out DIR (where figures go, default "out").
class Args {
public:
    Args(int argc, char** argv) {
        for (int i = 1; i < argc; ++i) {
            const std::string_view key = argv[i];
            if (key == "--help" || key == "-h") values_.insert_or_assign("help", std::string("1"));
            else if (key.size() > 2 && key.substr(0, 2) == "--" && i + 1 < argc) values_[std::string(key.substr(2))] = argv[++i];
            else throw std::invalid_argument(std::string("unexpected argument '").append(key).append("' (options are --name value)"));
        }
        std::filesystem::create_directories(out());
    }
    bool has(const std::string& key) const { return values_.count(key) != 0; }
    std::string get(const std::string& key, const std::string& fallback) const {
        auto it = values_.find(key);
        return it == values_.end() ? fallback : it->second;
    }
    long integer(const std::string& key, long fallback, long lo, long hi) const {
        if (!has(key)) return fallback;
        const std::string& s = values_.at(key);
        char* end = nullptr;
        const long v = std::strtol(s.c_str(), &end, 10);
        if (s.empty() || *end || v < lo || v > hi)
            throw std::invalid_argument("--" + key + " " + s + ": expected an integer in [" + std::to_string(lo) + ", " +
                                        std::to_string(hi) + "]");
        return v;
    }
    std::string out() const { return get("out", "out"); }
    std::string path(const std::string& file) const { return (std::filesystem::path(out()) / file).string(); }

private:
    std::map<std::string, std::string> values_;
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
