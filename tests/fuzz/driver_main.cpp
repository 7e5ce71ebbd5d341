// Replays files (the seed corpus and kept crash inputs) through a fuzz target, without libFuzzer.
// With --corrupt, each file is also fed cut at every length and with every bit of its first 64
// bytes (the header of every format read here) flipped in turn: a deterministic sweep of the bad
// files a reader must reject cleanly (the target aborts on anything else).
// Usage: fuzz_<target>_replay [--corrupt] FILE_OR_DIR...
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {
void feed(const std::vector<std::uint8_t>& b) {
    LLVMFuzzerTestOneInput(b.data(), b.size());
}
}  // namespace

int main(int argc, char** argv) {
    bool corrupt = false;
    long files = 0, inputs = 0;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--corrupt") == 0) {
            corrupt = true;
            continue;
        }
        std::vector<std::filesystem::path> paths;
        if (std::filesystem::is_directory(argv[i]))
            for (const auto& e : std::filesystem::directory_iterator(argv[i])) paths.push_back(e.path());
        else
            paths.emplace_back(argv[i]);
        std::sort(paths.begin(), paths.end());
        for (const auto& p : paths) {
            std::ifstream in(p, std::ios::binary);
            const std::vector<std::uint8_t> b{std::istreambuf_iterator<char>(in), {}};
            feed(b), ++files, ++inputs;
            if (!corrupt) continue;
            for (std::size_t n = 0; n < b.size(); ++n, ++inputs)  // cut at every length
                feed(std::vector<std::uint8_t>(b.begin(), b.begin() + std::ptrdiff_t(n)));
            std::vector<std::uint8_t> flipped = b;
            for (std::size_t bit = 0; bit < 8 * std::min<std::size_t>(b.size(), 64); ++bit, ++inputs) {
                flipped[bit / 8] ^= std::uint8_t(1u << (bit % 8));  // one bit of the header flipped
                feed(flipped);
                flipped[bit / 8] = b[bit / 8];
            }
        }
    }
    std::printf("%s %ld files, %ld inputs in all: each loaded or rejected with the reader's own error\n",
                corrupt ? "replayed, cut at every length and with every header bit flipped:" : "replayed", files,
                inputs);
    return files > 0 ? 0 : 1;
}
