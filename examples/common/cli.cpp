// The examples' command lines (cli.hpp) on CLI11: the only translation unit that includes CLI11.
#include "common/cli.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>

namespace examples::cli {

namespace {
CLI::Option* cli(void* option) {
    return static_cast<CLI::Option*>(option);
}
}  // namespace

Option& Option::one_of(const std::vector<std::string>& values) {
    cli(option_)->check(CLI::IsMember(values));
    return *this;
}
Option& Option::check(std::function<std::string(const std::string&)> validate, const std::string& type) {
    cli(option_)->check(
        CLI::Validator([validate = std::move(validate)](std::string& text) { return validate(text); }, type));
    return *this;
}
Option& Option::default_text(const std::string& text) {
    cli(option_)->default_str(text);
    return *this;
}
Option& Option::range(long lo, long hi) {
    cli(option_)->check(CLI::Range(lo, hi));
    return *this;
}
Option& Option::range(double lo, double hi) {
    cli(option_)->check(CLI::Range(lo, hi));
    return *this;
}

struct Options::Impl {
    CLI::App app;
    std::string out;
};

Options::Options(std::string name, std::string description, std::string out)
    : impl_(new Impl{CLI::App(std::move(description), std::move(name)), std::move(out)}) {
    impl_->app.add_option("--out", impl_->out, "directory for figures and reports")->capture_default_str();
}
Options::~Options() = default;

Option Options::option(const std::string& flags, int& value, const std::string& help) {
    return Option(impl_->app.add_option(flags, value, help)->capture_default_str());
}
Option Options::option(const std::string& flags, long& value, const std::string& help) {
    return Option(impl_->app.add_option(flags, value, help)->capture_default_str());
}
Option Options::option(const std::string& flags, double& value, const std::string& help) {
    return Option(impl_->app.add_option(flags, value, help)->capture_default_str());
}
Option Options::option(const std::string& flags, std::string& value, const std::string& help) {
    return Option(impl_->app.add_option(flags, value, help)->capture_default_str());
}

Option Options::flag(const std::string& flags, bool& value, const std::string& help) {
    return Option(impl_->app.add_flag(flags, value, help));
}

void Options::parse(int argc, char** argv) {
    try {
        impl_->app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = impl_->app.exit(e);
        std::exit(code == 0 ? 0 : 2);
    }
    std::filesystem::create_directories(impl_->out);
}

bool Options::given(const std::string& flag) const {
    return impl_->app.count(flag) > 0;
}
const std::string& Options::out() const {
    return impl_->out;
}
std::string Options::path(const std::string& file) const {
    return (std::filesystem::path(impl_->out) / file).string();
}

}  // namespace examples::cli
