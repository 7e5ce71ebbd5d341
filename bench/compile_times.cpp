// Compile time of what users compile: three programs written with neuronka against the same work
// written by hand with Eigen (bench/compile/) and, when libtorch-dev is installed, with libtorch's
// C++ API (*_libtorch.cpp, compiled with the same flags), then every example, each one translation unit compiled
// as the examples are (-std=c++20 -O3 -DNDEBUG, -march=native with NEURONKA_NATIVE). The neuronka
// programs are compiled twice: header-only, and with -DNEURONKA_COMPILED, as a program that links
// neuronka::compiled compiles them (the examples do; the library itself is built once and not
// timed here). Prints wall seconds and the compiler's peak memory, the median of --rounds
// interleaved rounds (default 1), and the ratios neuronka / hand-written. Nothing else should run
// meanwhile.
//   bench_compile [--rounds N] [--programs-only]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Measure {
    double seconds = 0;
    double megabytes = 0;
};

// Runs `args` (the compiler), returns its wall time and peak resident memory; exits on failure.
Measure run(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const auto t0 = std::chrono::steady_clock::now();
    const pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[0], argv.data());
        std::perror("exec");
        _exit(127);
    }
    int status = 0;
    rusage usage{};
    wait4(pid, &status, 0, &usage);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "bench_compile: this command failed:");
        for (const auto& a : args) std::fprintf(stderr, " %s", a.c_str());
        std::fprintf(stderr, "\n");
        std::exit(1);
    }
    return {s, double(usage.ru_maxrss) / 1024.0};
}

std::vector<std::string> command(const std::string& source, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> c = {NEURONKA_BENCH_COMPILER, "-std=c++20", "-O3", "-DNDEBUG"};
    if (std::strlen(NEURONKA_BENCH_ARCH) > 0) c.push_back(NEURONKA_BENCH_ARCH);
    for (const char* dir : {NEURONKA_BENCH_INCLUDE, NEURONKA_BENCH_EIGEN, NEURONKA_BENCH_EXAMPLES})
        c.push_back(std::string("-I") + dir);
    c.insert(c.end(), extra.begin(), extra.end());
    c.insert(c.end(), {"-c", source, "-o", "/dev/null"});
    return c;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    int rounds = 1;
    bool programs_only = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--rounds" && i + 1 < argc)
            rounds = std::max(1, std::atoi(argv[++i]));
        else if (a == "--programs-only")
            programs_only = true;
        else {
            std::fprintf(stderr, "usage: bench_compile [--rounds N] [--programs-only]\n");
            return 2;
        }
    }
    const std::string dir = NEURONKA_BENCH_SOURCES;
    struct Pair {
        const char* what;
        const char* ours;
        const char* theirs;
        const char* torch;
    };
    const Pair pairs[] = {
        {"four MLPs (1-1, 2-16-16-1, 64-128-10, 784-256-128-10)", "mlps_neuronka.cpp", "mlps_eigen.cpp",
         "mlps_libtorch.cpp"},
        {"a 2-layer GPT (d 64, 4 heads, context 64)", "gpt_neuronka.cpp", "gpt_eigen.cpp", "gpt_libtorch.cpp"},
        {"a CNN (conv 5x5x16, pool, conv 5x5x32, pool, dense)", "cnn_neuronka.cpp", "cnn_eigen.cpp",
         "cnn_libtorch.cpp"},
    };
    const bool torch = std::strlen(NEURONKA_BENCH_TORCH) > 0;
    std::printf(
        "compile time of one translation unit: %s -std=c++20 -O3 -DNDEBUG %s, median of %d interleaved round(s)\n\n",
        NEURONKA_BENCH_COMPILER, NEURONKA_BENCH_ARCH, rounds);
    std::printf(
        "| program (one TU) | neuronka, header-only | neuronka, with neuronka::compiled | hand-written Eigen | "
        "ratio header-only | ratio compiled |%s\n|---|---|---|---|---|---|%s\n",
        torch ? " libtorch | ratio compiled / libtorch |" : "", torch ? "---|---|" : "");
    for (const Pair& p : pairs) {
        std::vector<double> ours, ours_mb, compiled, compiled_mb, theirs, theirs_mb, lt, lt_mb;
        for (int r = 0; r < rounds; ++r) {
            const Measure a = run(command(dir + "/compile/" + p.ours));
            const Measure c = run(command(dir + "/compile/" + p.ours, {"-DNEURONKA_COMPILED"}));
            const Measure b = run(command(dir + "/compile/" + p.theirs));
            ours.push_back(a.seconds), ours_mb.push_back(a.megabytes), compiled.push_back(c.seconds),
                compiled_mb.push_back(c.megabytes), theirs.push_back(b.seconds), theirs_mb.push_back(b.megabytes);
            if (torch) {
                const Measure t = run(command(dir + "/compile/" + p.torch, {std::string("-I") + NEURONKA_BENCH_TORCH}));
                lt.push_back(t.seconds), lt_mb.push_back(t.megabytes);
            }
        }
        std::printf("| %s | %.1f s, %.0f MB | %.1f s, %.0f MB | %.1f s, %.0f MB | %.2fx | %.2fx |", p.what,
                    median(ours), median(ours_mb), median(compiled), median(compiled_mb), median(theirs),
                    median(theirs_mb), median(ours) / median(theirs), median(compiled) / median(theirs));
        if (torch) std::printf(" %.1f s, %.0f MB | %.2fx |", median(lt), median(lt_mb), median(compiled) / median(lt));
        std::printf("\n");
        std::fflush(stdout);
    }
    if (programs_only) return 0;
    std::printf("\n| example (one TU, as built: with neuronka::compiled) | seconds | peak memory |\n|---|---|---|\n");
    const std::string examples = NEURONKA_BENCH_EXAMPLES;
    for (const char* name :
         {"quickstart", "neuron", "xor", "fashion_mnist", "fashion_mnist_safetensors", "language_models",
          "word_embeddings", "attention", "majority", "tiny_gpt", "training_cost", "tour_page"}) {
        std::vector<std::string> extra = {"-DNEURONKA_COMPILED"};
        if (std::string(name) == "fashion_mnist") extra.push_back("-DNEURONKA_HAS_SAFETENSORS=1");
        std::vector<double> s, mb;
        for (int r = 0; r < rounds; ++r) {
            const Measure m = run(command(examples + "/" + name + ".cpp", extra));
            s.push_back(m.seconds), mb.push_back(m.megabytes);
        }
        std::printf("| %s.cpp | %.1f s | %.0f MB |\n", name, median(s), median(mb));
        std::fflush(stdout);
    }
}
