// The IDX reader: valid files (plain and gzip) and every malformed case, each with its message.
#include <neuronka/data.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace neuronka;
using Catch::Matchers::Contains;

namespace {
std::string temp_path(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() / ("neuronka-data-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return (dir / name).string();
}
std::vector<unsigned char> idx(unsigned char type, std::vector<std::uint32_t> dims, std::size_t payload) {
    std::vector<unsigned char> b(4 + 4 * dims.size() + payload, 0);
    b[2] = type, b[3] = (unsigned char)dims.size();
    for (std::size_t k = 0; k < dims.size(); ++k)
        for (int j = 0; j < 4; ++j) b[4 + 4 * k + std::size_t(j)] = (unsigned char)(dims[k] >> (24 - 8 * j));
    for (std::size_t i = 0; i < payload; ++i) b[4 + 4 * dims.size() + i] = (unsigned char)(i % 7);
    return b;
}
std::string write(const std::string& name, const std::vector<unsigned char>& b, bool gzip = false) {
    const std::string path = temp_path(name);
    if (gzip) {
        gzFile f = gzopen(path.c_str(), "wb");
        gzwrite(f, b.data(), unsigned(b.size()));
        gzclose(f);
    } else {
        std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
    }
    return path;
}
}  // namespace

TEST_CASE("IDX images and labels read from plain and gzip files", "[data]") {
    for (bool gz : {false, true}) {
        const IdxImages im = read_idx_images(write(gz ? "im.gz" : "im", idx(8, {3, 2, 4}, 24), gz));
        CHECK(im.count == 3);
        CHECK(im.rows == 2);
        CHECK(im.cols == 4);
        REQUIRE(im.pixels.size() == 24);
        CHECK(im.pixels[10] == 3);
        const auto labels = read_idx_labels(write(gz ? "lb.gz" : "lb", idx(8, {5}, 5), gz), 10);
        CHECK(labels == std::vector<int>{0, 1, 2, 3, 4});
        const Batch<float, 8> x = to_batch<float, 8>(im, 1, 2);
        CHECK(x(2, 0) == Approx(im.pixels[10] / 255.0));
    }
}

TEST_CASE("malformed IDX files are rejected with what is wrong", "[data][errors]") {
    CHECK_THROWS_WITH(read_idx_images(temp_path("missing")), Contains("cannot open the file"));
    auto bad = idx(8, {3, 2, 4}, 24);
    bad[0] = 1;
    CHECK_THROWS_WITH(read_idx_images(write("magic", bad)), Contains("not an IDX file"));
    CHECK_THROWS_WITH(read_idx_images(write("type", idx(0x0D, {3, 2, 4}, 24))), Contains("expected 0x08 (unsigned byte)"));
    CHECK_THROWS_WITH(read_idx_images(write("dims", idx(8, {24}, 24))), Contains("has 1 dimensions, expected 3"));
    CHECK_THROWS_WITH(read_idx_images(write("short", idx(8, {3, 2, 4}, 20))),
                      Contains("file is truncated: the header announces 24 bytes of data, found 20"));
    CHECK_THROWS_WITH(read_idx_images(write("short.gz", idx(8, {3, 2, 4}, 20), true)), Contains("file is truncated"));
    CHECK_THROWS_WITH(read_idx_images(write("long", idx(8, {3, 2, 4}, 25))), Contains("file is over-long"));
    CHECK_THROWS_WITH(read_idx_images(write("header", std::vector<unsigned char>{0, 0, 8, 3, 0, 0})),
                      Contains("file is truncated: a dimension needs 4 bytes, found 2"));
    CHECK_THROWS_WITH(read_idx_images(write("huge", idx(8, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFF}, 0))),
                      Contains("corrupted header?"));
    CHECK_THROWS_WITH(read_idx_images(write("zero", idx(8, {3, 0, 4}, 0))), Contains("dimension 1 is 0"));
    CHECK_THROWS_WITH(read_idx_labels(write("labels", idx(8, {7}, 7)), 5), Contains("label 5 at index 5 is out of range [0, 5)"));
    const IdxImages im = read_idx_images(write("ok", idx(8, {3, 2, 4}, 24)));
    CHECK_THROWS_WITH((to_batch<float, 9>(im, 0, 1)), Contains("images have 8 pixels, expected 9"));
    CHECK_THROWS_WITH((to_batch<float, 8>(im, 2, 2)), Contains("out of range (3 images)"));
}
