// Replays files (the seed corpus and kept crash inputs) through the fuzz target, without libFuzzer.
// Usage: fuzz_checkpoint_replay FILE_OR_DIR...
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
    int files = 0;
    for (int i = 1; i < argc; ++i) {
        std::vector<std::filesystem::path> paths;
        if (std::filesystem::is_directory(argv[i]))
            for (const auto& e : std::filesystem::directory_iterator(argv[i])) paths.push_back(e.path());
        else
            paths.emplace_back(argv[i]);
        for (const auto& p : paths) {
            std::ifstream in(p, std::ios::binary);
            const std::vector<char> b{std::istreambuf_iterator<char>(in), {}};
            LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(b.data()), b.size());
            ++files;
        }
    }
    std::printf("replayed %d inputs without a crash\n", files);
    return files > 0 ? 0 : 1;
}
