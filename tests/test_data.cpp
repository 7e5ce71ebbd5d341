// The data sets: the IDX reader (valid files, plain and gzip, and every malformed case with its
// message), Dataset with its seeded shuffle and split, Batches, the CSV reader and its errors, and
// the token windows of the language models.
#include <neuronka/data/csv.hpp>
#include <neuronka/data/idx.hpp>
#include <neuronka/data/token_windows.hpp>

#include "fuzz/data_targets.hpp"

#include <catch2/catch.hpp>

#include "temp_dir.hpp"

#include <unistd.h>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

using namespace neuronka;
using Catch::Matchers::Contains;

namespace {
std::string temp_path(const std::string& name) {
    return test::temp_path(name);
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
    CHECK_THROWS_WITH(read_idx_images(write("type", idx(0x0D, {3, 2, 4}, 24))),
                      Contains("expected 0x08 (unsigned byte)"));
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
    CHECK_THROWS_WITH(read_idx_labels(write("labels", idx(8, {7}, 7)), 5),
                      Contains("label 5 at index 5 is out of range [0, 5)"));
    const IdxImages im = read_idx_images(write("ok", idx(8, {3, 2, 4}, 24)));
    CHECK_THROWS_WITH((to_batch<float, 9>(im, 0, 1)), Contains("images have 8 pixels, expected 9"));
    CHECK_THROWS_WITH((to_batch<float, 8>(im, 2, 2)), Contains("out of range (3 images)"));
}

namespace {
// Sample i has features (i, -i) and label i % 3: a sample's label can be checked against its features.
Dataset<float, 2> counting(int n) {
    Dataset<float, 2> d;
    d.x.resize(2, n);
    for (int i = 0; i < n; ++i) d.x(0, i) = float(i), d.x(1, i) = float(-i), d.labels.push_back(i % 3);
    d.classes = 3;
    d.targets = d.x.row(0) * 2;
    return d;
}
}  // namespace

TEST_CASE("a data set shuffles and splits by its seed, every sample keeping its label and target", "[data][dataset]") {
    const Dataset<float, 2> d = counting(50);
    Dataset<float, 2> a = d, b = d, c = d;
    a.shuffle(7), b.shuffle(7), c.shuffle(8);
    CHECK(a.x == b.x);
    CHECK(a.labels == b.labels);
    CHECK(a.x != c.x);
    CHECK(a.x != d.x);
    std::set<int> seen;
    for (int j = 0; j < 50; ++j) {
        const int i = int(a.x(0, j));
        seen.insert(i);
        CHECK(a.x(1, j) == float(-i));
        CHECK(a.labels[std::size_t(j)] == i % 3);
        CHECK(a.targets(0, j) == float(2 * i));
    }
    CHECK(seen.size() == 50);

    const auto [train, valid] = d.split(0.2, 3);
    CHECK(train.size() == 40);
    CHECK(valid.size() == 10);
    CHECK(train.classes == 3);
    std::set<int> all;
    for (const auto* part : {&train, &valid})
        for (std::size_t j = 0; j < part->size(); ++j) all.insert(int(part->x(0, Eigen::Index(j))));
    CHECK(all.size() == 50);  // disjoint, and together every sample
    CHECK(d.split(0.2, 3).second.x == valid.x);
    CHECK(d.split(0.2, 4).second.x != valid.x);
    CHECK_THROWS_WITH(d.split(1.0, 1), Contains("validation_fraction is 1, expected a value in (0, 1)"));
    const std::vector<std::size_t> out_of_range{3, 50};
    CHECK_THROWS_WITH(d.subset(out_of_range), Contains("index 50 at position 1 is out of range (50 samples)"));
    Dataset<float, 2> bad = d;
    bad.labels[4] = 3;
    CHECK_THROWS_WITH(bad.check(), Contains("label 3 of sample 4 is out of range [0, 3)"));
    bad = d, bad.labels.pop_back();
    CHECK_THROWS_WITH((Batches<float, 2>(bad, 8)), Contains("Batches: 49 labels for 50 samples"));
}

TEST_CASE("batches visit every sample once per epoch, in a new seeded order each epoch", "[data][batches]") {
    const Dataset<float, 2> d = counting(23);
    for (Remainder r : {Remainder::keep, Remainder::drop}) {
        Batches<float, 2> batches(d, 5, 11, true, r), again(d, 5, 11, true, r);
        CHECK(batches.count() == (r == Remainder::keep ? 5u : 4u));
        CHECK(batches.samples_per_epoch() == (r == Remainder::keep ? 23u : 20u));
        std::vector<std::vector<int>> orders;
        for (int epoch = 0; epoch < 3; ++epoch) {
            std::vector<int> order;
            batches.start_epoch(), again.start_epoch();
            while (batches.next()) {
                REQUIRE(again.next());
                CHECK(batches.x() == again.x());
                CHECK(batches.size() == (order.size() == 20 ? 3u : 5u));
                for (std::size_t j = 0; j < batches.size(); ++j) {
                    const int i = int(batches.x()(0, Eigen::Index(j)));
                    CHECK(batches.labels()[j] == i % 3);
                    CHECK(batches.targets()(0, Eigen::Index(j)) == float(2 * i));
                    order.push_back(i);
                }
            }
            CHECK_FALSE(again.next());
            CHECK(order.size() == batches.samples_per_epoch());
            CHECK(std::set<int>(order.begin(), order.end()).size() == order.size());
            orders.push_back(order);
        }
        CHECK(orders[0] != orders[1]);
        CHECK(orders[1] != orders[2]);
    }
    Batches<float, 2> in_order(d, 10, 0, false);
    for (int epoch = 0; epoch < 2; ++epoch) {
        in_order.start_epoch();
        REQUIRE(in_order.next());
        CHECK(in_order.x()(0, 0) == 0.f);
        CHECK(in_order.x()(0, 9) == 9.f);
    }
    CHECK_THROWS_WITH((Batches<float, 2>(d, 0)), Contains("batch size is 0, expected at least 1"));
    CHECK_THROWS_WITH((Batches<float, 2>(d, 30, 0, true, Remainder::drop)),
                      Contains("23 samples make no full batch of 30"));
}

TEST_CASE("CSV files become data sets: header, label by name or index, class names, targets, quoting", "[data][csv]") {
    const std::string iris =
        "sepal length,sepal width,species\r\n"
        "5.1,3.5,setosa\r\n"
        "\r\n"
        "7.0, 3.2 ,versicolor\r\n"
        "6.3,3.3,\"virginica\"\r\n"
        "4.9,+3.0,setosa\r\n";
    const Dataset<double, 2> d = parse_csv<double, 2>(iris, {.label = "species"});
    REQUIRE(d.size() == 4);
    CHECK(d.x(0, 1) == 7.0);
    CHECK(d.x(1, 1) == 3.2);
    CHECK(d.x(1, 3) == 3.0);
    CHECK(d.classes == 3);
    CHECK(d.class_names == std::vector<std::string>{"setosa", "versicolor", "virginica"});
    CHECK(d.labels == std::vector<int>{0, 1, 2, 0});
    // The same by index (label first), no header, integer classes, a quoted cell holding the delimiter.
    const Dataset<float, 2> e = parse_csv<float, 2>("2,1.5,-1e-3\n0,\"2\",3\n", {.label_index = 0});
    CHECK(e.labels == std::vector<int>{2, 0});
    CHECK(e.classes == 3);
    CHECK(e.x(1, 0) == -1e-3f);
    const Dataset<float, 1> q =
        parse_csv<float, 1>("name;value\n\"a;\"\"b\"\"\";1\n", {.delimiter = ';', .label_index = 0});
    CHECK(q.class_names == std::vector<std::string>{"a;\"b\""});
    const Dataset<float, 2> t = parse_csv<float, 2>("x,y,z\n1,2,3.5\n4,5,6\n", {.label_kind = CsvLabel::target});
    CHECK(t.targets.rows() == 1);
    CHECK(t.targets(0, 0) == 3.5f);
    CHECK_FALSE(t.has_labels());
    const Dataset<float, 3> n = parse_csv<float, 3>("1,2,3\n4,5,6", {.label_kind = CsvLabel::none});
    CHECK(n.size() == 2);
    CHECK(n.x(2, 1) == 6.f);
    CHECK(parse_csv<float, 1>("1,1\n2,0\n", {.classes = 5}).classes == 5);
    // Class indices written as decimals are numbers, not names: 10.0 is class 10, after 2.0.
    const Dataset<float, 1> decimals = parse_csv<float, 1>("1,2.0\n2,10.0\n3,0\n4,1e0\n");
    CHECK(decimals.labels == std::vector<int>{2, 10, 0, 1});
    CHECK(decimals.classes == 11);
    CHECK(decimals.class_names.empty());
    // From a file, through the same parser.
    const std::string path = temp_path("iris.csv");
    std::ofstream(path) << iris;
    CHECK(read_csv<double, 2>(path, {.label = "species"}).x == d.x);
}

TEST_CASE("a malformed CSV file is rejected with its line and column", "[data][csv][errors]") {
    const std::string src = "data.csv";
    auto parse = [&](const std::string& text, CsvOptions o = {}) { return parse_csv<float, 2>(text, o, src); };
    CHECK_THROWS_WITH(parse("a,b,c\n1,2,0\n3,x4,1\n"),
                      Contains("data.csv:3:2: 'x4' is not a finite number in column 'b'"));
    CHECK_THROWS_WITH(parse("1,2,0\n3,,1\n"), Contains("data.csv:2:2: empty cell (a missing value?) in column 2"));
    CHECK_THROWS_WITH(parse("1,2,0\n3,nan,1\n"), Contains("data.csv:2:2: 'nan' is not a finite number"));
    CHECK_THROWS_WITH(parse("a,b,c\n1,2,0\n\n3,4\n"), Contains("data.csv:4: 2 columns, expected 3 as on line 1"));
    CHECK_THROWS_WITH(parse("1,2,3,4\n"), Contains("data.csv:1: 4 columns, expected 2 features and a label"));
    CHECK_THROWS_WITH(parse("a,b,c\n1,2,0\n", {.label = "class"}),
                      Contains("no column is named 'class'; the header names 'a', 'b', 'c'"));
    CHECK_THROWS_WITH(parse("1,2,0\n", {.label_index = 3}),
                      Contains("label_index 3 is out of range: the file has 3 columns"));
    CHECK_THROWS_WITH(parse("1,2,0\n1,2,-1\n"), Contains("data.csv:2:3: class -1 is out of range"));
    CHECK_THROWS_WITH(parse("1,2,0\n1,2,4\n", {.classes = 3}),
                      Contains("data.csv:2:3: class 4 is out of range [0, 3)"));
    CHECK_THROWS_WITH(parse("1,2,\"0\n"), Contains("data.csv:1:3: a quoted cell is never closed"));
    CHECK_THROWS_WITH(parse("a,b,c\n"), Contains("data.csv: no samples after the header line"));
    CHECK_THROWS_WITH(parse("1,2,\n"), Contains("data.csv:1:3: the label is empty"));
    CHECK_THROWS_WITH(parse("1,2,0\n1,2,1.5\n"),
                      Contains("data.csv:2:3: class label '1.5' is not a whole number in column 3") &&
                          Contains("label_kind = CsvLabel::target"));
    CHECK_THROWS_WITH(parse("1,2,x\n1,2,1e3\n", {.label_kind = CsvLabel::target}),
                      Contains("data.csv:1:3: target 'x' is not a finite number"));
    CHECK_THROWS_WITH(parse("1,1e39,0\n"), Contains("data.csv:1:2: 1e39 is out of the range of the scalar type"));
    CHECK_THROWS_WITH((read_csv<float, 2>(temp_path("missing.csv"))), Contains("missing.csv: cannot open the file"));
    const std::string big = temp_path("big.csv");
    std::ofstream(big) << "1,2,0\n";
    CHECK_THROWS_WITH((read_csv<float, 2>(big, {.max_bytes = 4})), Contains("6 bytes, more than max_bytes = 4"));
}

TEST_CASE("IDX image and label files become one data set", "[data][dataset]") {
    const std::string images = write("ds-images.gz", idx(8, {3, 2, 4}, 24), true);
    const Dataset<float, 8> d = read_idx_dataset<float, 8>(images, write("ds-labels", idx(8, {3}, 3)), 10);
    REQUIRE(d.size() == 3);
    CHECK(d.classes == 10);
    CHECK(d.labels == std::vector<int>{0, 1, 2});
    CHECK(d.x(2, 1) == Approx(((8 + 2) % 7) / 255.0));
    CHECK_THROWS_WITH((read_idx_dataset<float, 8>(images, write("ds-labels-4", idx(8, {4}, 4)), 10)),
                      Contains("has 3 images but") && Contains("has 4 labels"));
    CHECK_THROWS_WITH((read_idx_dataset<float, 9>(images, write("ds-labels", idx(8, {3}, 3)), 10)),
                      Contains("images of 2 x 4 = 8 pixels, expected Features = 9"));
}

TEST_CASE("token windows: random windows and their next tokens, and consecutive windows covering every position",
          "[data][tokens]") {
    std::vector<int> tokens(30);
    for (int i = 0; i < 30; ++i) tokens[std::size_t(i)] = i;
    const TokenWindows windows(tokens, 4);
    Rng rng(5);
    std::vector<int> ids, targets;
    std::set<int> starts;
    for (int round = 0; round < 50; ++round) {
        windows.sample(3, rng, ids, targets);
        REQUIRE(ids.size() == 12);
        for (std::size_t k = 0; k < 12; ++k) {
            CHECK(targets[k] == ids[k] + 1);
            if (k % 4)
                CHECK(ids[k] == ids[k - 1] + 1);
            else
                starts.insert(ids[k]);
        }
    }
    CHECK(*starts.rbegin() == 30 - 4 - 1);  // the last start whose targets stay inside the stream: 25..28 -> 26..29
    CHECK(starts.size() == 26);             // every start 0..25 is drawn
    REQUIRE(windows.count() == 8);          // 29 next-token pairs in windows of 4
    int covered = 0;
    for (std::size_t k = 0; k < windows.count(); ++k) {
        const auto [in, next] = windows.window(k);
        CHECK(in.front() == int(4 * k));
        for (std::size_t j = 0; j < in.size(); ++j) CHECK(next[j] == in[j] + 1);
        covered += int(in.size());
    }
    CHECK(covered == 29);
    CHECK_THROWS_WITH(windows.window(8), Contains("window 8 is out of range (8 windows)"));
    CHECK_THROWS_WITH(TokenWindows(std::span<const int>(tokens).first(4), 4),
                      Contains("4 tokens are too few for windows of 4"));
    CHECK(TokenWindows(std::span<const int>(tokens).first(5), 4).count() == 1);  // one window and its 4 targets
}

TEST_CASE("the data readers' fuzz targets replay their seed corpora and every kept crash input", "[data][fuzz]") {
    namespace fs = std::filesystem;
    const fs::path dir = NEURONKA_FUZZ_DIR;
    auto replay = [&](const fs::path& corpus, const std::string& prefix,
                      void (*target)(const std::uint8_t*, std::size_t)) {
        std::vector<fs::path> inputs;
        for (const auto& e : fs::directory_iterator(corpus)) inputs.push_back(e.path());
        for (const auto& e : fs::directory_iterator(dir / "regressions"))
            if (e.path().filename().string().rfind(prefix, 0) == 0) inputs.push_back(e.path());
        for (const auto& p : inputs) {
            std::ifstream in(p, std::ios::binary);
            const std::vector<char> b{std::istreambuf_iterator<char>(in), {}};
            target(reinterpret_cast<const std::uint8_t*>(b.data()), b.size());
        }
        return inputs.size();
    };
    CHECK(replay(dir / "corpus-csv", "fuzz_csv-", fuzz::csv) >= 5);
    CHECK(replay(dir / "corpus-idx", "fuzz_idx-", fuzz::idx) >= 4);
    // The seeds are valid files: each must parse, so the fuzzer starts from inputs that go deep.
    std::ifstream in(dir / "corpus-csv" / "detect-names.csv", std::ios::binary);
    const std::string text{std::istreambuf_iterator<char>(in), {}};
    CHECK(parse_csv<float, 2>(std::string_view(text).substr(1)).class_names.size() == 2);
    CHECK(read_idx_images((dir / "corpus-idx" / "images.gz").string()).count == 3);
}
