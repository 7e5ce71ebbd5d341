// Safetensors import and export: PyTorch's names and layouts, both directions against committed
// python3-torch fixtures (tests/fixtures/make_safetensors_fixture.py), F16 / BF16 widening, and a
// clear error, with the model untouched, for every kind of bad file.
#include <neuronka/compose/sequential.hpp>
#include <neuronka/core/layer.hpp>
#include <neuronka/io/safetensors.hpp>
#include <neuronka/io/serialize.hpp>
#include <neuronka/layers/activation.hpp>
#include <neuronka/layers/batch_norm.hpp>
#include <neuronka/layers/conv2d.hpp>
#include <neuronka/layers/dense.hpp>
#include <neuronka/layers/embedding.hpp>
#include <neuronka/layers/gru.hpp>
#include <neuronka/layers/neuron.hpp>
#include <neuronka/layers/pool.hpp>
#include <neuronka/models/transformer.hpp>
#include <neuronka/version.hpp>

#include "fixture.hpp"
#include "fuzz/safetensors_target.hpp"
#include "test_util.hpp"

#include <catch2/catch.hpp>

#include "temp_dir.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

using namespace neuronka;
using Catch::Matchers::Contains;
using json = nlohmann::ordered_json;

namespace {
using Mlp = Sequential<Dense<float, 6, 16>, ReLU, Dense<float, 16, 4>>;
using Cnn = Sequential<Conv2D<float, 2, 3, 3, 6, 6, 1, 1>, BatchNorm2D<float, 3, 6, 6>, ReLU,
                       MaxPool2D<float, 3, 6, 6, 2>, Flatten, Dense<float, 27, 4>>;
using Gpt = Transformer<float, 11, 8, 16, 2, 2, 64>;
constexpr int T = 6;

const std::string fixture_dir = NEURONKA_FIXTURE_DIR;
const Fixture& fixture() {
    static const Fixture f = read_fixture(fixture_dir + "/safetensors_fixture.txt");
    return f;
}

std::string temp_path(const std::string& name) {
    return test::temp_path(name);
}
std::vector<unsigned char> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write_bytes(const std::string& path, const std::vector<unsigned char>& bytes) {
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}
template <class Model>
std::vector<double> values_of(Model& model) {
    std::vector<double> v;
    for (const auto& t : state_tensors(model))
        for (std::int64_t i = 0; i < t.size(); ++i)
            v.push_back(t.kind == TensorView<float>::Kind::counter ? double(*t.counter) : double(t.data[i]));
    return v;
}

// Each model's output on the fixture's inputs, in neuronka's layout (features × samples, column-major).
std::vector<double> output(Mlp& m) {
    const auto& x = fixture().get("mlp_x");
    const Batch<float, 6> xb = Eigen::Map<const Eigen::MatrixXd>(x.data(), 6, Eigen::Index(x.size() / 6)).cast<float>();
    const Batch<float, 4>& y = m.forward(xb);
    return {y.data(), y.data() + y.size()};
}
std::vector<double> output(Cnn& m) {
    const auto& x = fixture().get("cnn_x");
    const Batch<float, 72> xb =
        Eigen::Map<const Eigen::MatrixXd>(x.data(), 72, Eigen::Index(x.size() / 72)).cast<float>();
    m.set_mode(Mode::evaluation);
    const Batch<float, 4>& y = m.forward(xb);
    return {y.data(), y.data() + y.size()};
}
std::vector<double> output(Gpt& m) {
    const auto& ids = fixture().get("ids");
    const std::vector<int> tokens(ids.begin(), ids.end());
    const auto& y = m.forward(std::span<const int>(tokens), T);
    return {y.data(), y.data() + y.size()};
}
double max_difference(const std::vector<double>& a, const std::vector<double>& b) {
    REQUIRE(a.size() == b.size());
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
    return worst;
}

// The neuronka models of the reverse direction: seeded, and the CNN after three training batches.
void train_statistics(Cnn& m) {
    for (int step = 0; step < 3; ++step) m.forward(random_batch<72, float>(4, 100 + std::uint64_t(step), -1.5, 2.5));
}
}  // namespace

TEST_CASE("PyTorch's weights load into the equivalent neuronka models and give PyTorch's outputs",
          "[safetensors][fixture]") {
    SECTION("MLP: Linear, ReLU, Linear") {
        Mlp m(1);
        const auto metadata = load_safetensors(m, fixture_dir + "/torch_mlp.safetensors");
        CHECK(metadata.at("format") == "pt");
        CHECK(max_difference(output(m), fixture().get("mlp_y")) <= 1e-5);
    }
    SECTION("CNN: Conv2d, BatchNorm2d with running statistics, ReLU, MaxPool2d, Flatten, Linear") {
        Cnn m(1);
        load_safetensors(m, fixture_dir + "/torch_cnn.safetensors");
        CHECK(m.layer<1>().batches_tracked == 3);
        CHECK(max_difference(output(m), fixture().get("cnn_y")) <= 1e-5);
    }
    SECTION("decoder-only transformer") {
        auto m = std::make_unique<Gpt>(1);
        load_safetensors(*m, fixture_dir + "/torch_transformer.safetensors");
        CHECK(max_difference(output(*m), fixture().get("transformer_y")) <= 1e-5);
    }
}

namespace {
// Builds the three reverse-direction models and calls f(name, model) on each.
template <class F>
void neuronka_models(F&& f) {
    Mlp mlp(11);
    f("mlp", mlp);
    Cnn cnn(12);
    train_statistics(cnn);
    f("cnn", cnn);
    auto gpt = std::make_unique<Gpt>(13);
    f("transformer", *gpt);
}
}  // namespace

TEST_CASE("neuronka's export is byte for byte the file PyTorch loaded, and PyTorch's outputs on it match",
          "[safetensors][fixture]") {
    neuronka_models([](const std::string& name, auto& model) {
        INFO(name);
        const std::string path = temp_path("export.safetensors");
        save_safetensors(model, path);
        // The same tensors, byte for byte; the metadata (which names the version) may differ.
        auto split = [](const std::vector<unsigned char>& bytes) {
            std::uint64_t n = 0;
            std::memcpy(&n, bytes.data(), 8);
            json header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + long(n));
            header.erase("__metadata__");
            return std::pair(header, std::vector<unsigned char>(bytes.begin() + 8 + long(n), bytes.end()));
        };
        CHECK(split(read_bytes(path)) == split(read_bytes(fixture_dir + "/neuronka_" + name + ".safetensors")));
        CHECK(max_difference(output(model), fixture().get("reverse_" + name + "_y")) <= 1e-5);
    });
}

// Writes the neuronka side of the fixture; run by hand (see make_safetensors_fixture.py).
TEST_CASE("write the neuronka side of the safetensors fixture", "[.write-fixtures]") {
    std::ofstream out(fixture_dir + "/neuronka_outputs.txt");
    out << "neuronka-fixture 1\n";
    out.precision(17);
    neuronka_models([&](const std::string& name, auto& model) {
        save_safetensors(model, fixture_dir + "/neuronka_" + name + ".safetensors");
        const std::vector<double> y = output(model);
        out << name << " " << y.size() << "\n";
        for (double v : y) out << v << "\n";
    });
}

TEST_CASE("tensor names and layouts are those of PyTorch's state_dict", "[safetensors]") {
    auto names = [](auto& model) {
        std::vector<std::string> n;
        for (const auto& t : state_tensors(model))
            n.push_back(t.name + " " + detail::safetensors::shape_string(t.shape));
        return n;
    };
    Cnn cnn;
    CHECK(names(cnn) == std::vector<std::string>{"0.weight [3, 2, 3, 3]", "0.bias [3]", "1.weight [3]", "1.bias [3]",
                                                 "1.running_mean [3]", "1.running_var [3]", "1.num_batches_tracked []",
                                                 "5.weight [4, 27]", "5.bias [4]"});
    auto gpt = std::make_unique<Transformer<float, 11, 8, 16, 2, 1, 64>>();
    CHECK(names(*gpt) == std::vector<std::string>{"0.weight [11, 16]", "1.weight [8, 16]", "2.0.0.weight [16]",
                                                  "2.0.0.bias [16]", "2.0.1.qkv.weight [48, 16]", "2.0.1.qkv.bias [48]",
                                                  "2.0.1.proj.weight [16, 16]", "2.0.1.proj.bias [16]",
                                                  "2.1.0.weight [16]", "2.1.0.bias [16]", "2.1.1.weight [64, 16]",
                                                  "2.1.1.bias [64]", "2.1.3.weight [16, 64]", "2.1.3.bias [16]",
                                                  "3.weight [16]", "3.bias [16]", "4.weight [11, 16]", "4.bias [11]"});
    Sequential<GRU<double, 3, 5>, Dense<double, 5, 2>> gru;
    CHECK(names(gru) == std::vector<std::string>{"0.weight_ih_l0 [15, 3]", "0.weight_hh_l0 [15, 5]",
                                                 "0.bias_ih_l0 [15]", "0.bias_hh_l0 [15]", "1.weight [2, 5]",
                                                 "1.bias [2]"});
    Neuron<float, 3, Tanh> neuron;
    CHECK(names(neuron) == std::vector<std::string>{"weight [1, 3]", "bias [1]"});

    SECTION("values are in PyTorch's row-major order: weight[o][i] is Dense's W(o, i), embedding[v] is column v") {
        Mlp m(3);
        const auto bytes = safetensors_bytes(m);
        std::uint64_t n = 0;
        std::memcpy(&n, bytes.data(), 8);
        const json header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + long(n));
        CHECK(header["__metadata__"]["neuronka.model"] == Mlp::name());
        CHECK((8 + n) % 8 == 0);
        auto at = [&](const std::string& name, int index) {
            const std::uint64_t begin = header[name]["data_offsets"][0];
            float v;
            std::memcpy(&v, bytes.data() + 8 + n + begin + 4 * std::uint64_t(index), 4);
            return v;
        };
        CHECK(header["2.weight"]["shape"] == json::array({4, 16}));
        CHECK(at("2.weight", 1 * 16 + 5) == m.layer<2>().W(1, 5));
        CHECK(at("0.weight", 15 * 6 + 2) == m.layer<0>().W(15, 2));
        CHECK(at("2.bias", 3) == m.layer<2>().b(3));
        Sequential<Embedding<float, 7, 5>, Dense<float, 5, 2>> e(4);
        CHECK(state_tensors(e)[0].shape == std::vector<std::int64_t>{7, 5});
        CHECK(state_tensors(e)[0].storage_index(3 * 5 + 2) == 3 * 5 + 2);  // row 3 of (7, 5) is column 3 of E
        CHECK(state_tensors(e)[1].storage_index(1 * 5 + 4) == 4 * 2 + 1);  // weight[1][4] is W(1, 4)
    }
}

TEST_CASE("a round trip restores every value bit for bit, in float and double", "[safetensors]") {
    const std::string path = temp_path("round.safetensors");
    SECTION("CNN with BatchNorm statistics and counter") {
        Cnn a(5), b(6);
        train_statistics(a);
        save_safetensors(a, path);
        load_safetensors(b, path);
        CHECK(values_of(a) == values_of(b));
        CHECK(b.layer<1>().batches_tracked == 3);
    }
    SECTION("GRU and Dense in double") {
        Sequential<GRU<double, 3, 5>, Dense<double, 5, 2>> a(5), b(6);
        save_safetensors(a, path);
        load_safetensors(b, path);
        CHECK(a.layer<0>().W_hh == b.layer<0>().W_hh);
        CHECK(a.layer<1>().W == b.layer<1>().W);
    }
    SECTION("a float file into a double model, and back") {
        Mlp a(5);
        Sequential<Dense<double, 6, 16>, ReLU, Dense<double, 16, 4>> wide(6);
        save_safetensors(a, path);
        load_safetensors(wide, path);
        CHECK(wide.layer<0>().W.cast<float>() == a.layer<0>().W);
        Mlp back(7);
        save_safetensors(wide, path);
        load_safetensors(back, path);
        CHECK(values_of(back) == values_of(a));
    }
}

namespace {
// A safetensors file from (name, dtype, shape, raw bytes) entries, laid out one after another.
struct RawTensor {
    std::string name, dtype;
    std::vector<std::int64_t> shape;
    std::vector<unsigned char> data;
};
// The bytes of a file with header `text` and `data`.
std::vector<unsigned char> assemble(const std::string& text, const std::vector<unsigned char>& data) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[std::size_t(i)] = char((unsigned char)(text.size() >> (8 * i)));
    s += text;
    s.append(data.begin(), data.end());
    return {s.begin(), s.end()};
}
std::vector<unsigned char> file_of(const std::vector<RawTensor>& tensors, const json& extra = json::object()) {
    json header = extra;
    std::vector<unsigned char> data;
    for (const auto& t : tensors) {
        header[t.name] = {
            {"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {data.size(), data.size() + t.data.size()}}};
        data.insert(data.end(), t.data.begin(), t.data.end());
    }
    return assemble(header.dump(), data);
}
template <class V>
std::vector<unsigned char> raw(const std::vector<V>& values) {
    std::vector<unsigned char> out(values.size() * sizeof(V));
    std::memcpy(out.data(), values.data(), out.size());
    return out;
}
}  // namespace

TEST_CASE("F16 and BF16 tensors are widened to the model's type", "[safetensors]") {
    namespace st = detail::safetensors;
    CHECK(st::from_f16(0x3C00) == 1.0);
    CHECK(st::from_f16(0xC000) == -2.0);
    CHECK(st::from_f16(0x3555) == 0.333251953125);
    CHECK(st::from_f16(0x7BFF) == 65504.0);
    CHECK(st::from_f16(0x0001) == std::ldexp(1.0, -24));  // the smallest subnormal
    CHECK(st::from_f16(0x8000) == 0.0);
    CHECK(std::signbit(st::from_f16(0x8000)));
    CHECK(st::from_f16(0xFC00) == -std::numeric_limits<double>::infinity());
    CHECK(std::isnan(st::from_f16(0x7E00)));
    CHECK(st::from_bf16(0x3F80) == 1.0);
    CHECK(st::from_bf16(0xC040) == -3.0);

    // Sequential<Dense<float, 2, 3>>: weight (3, 2) in F16, bias (3) in BF16.
    Sequential<Dense<float, 2, 3>> m;
    const std::vector<std::uint16_t> w = {0x3C00, 0xC000, 0x3800,
                                          0x0001, 0x7BFF, 0x3555};  // 1, -2, 0.5, 2^-24, 65504, 0.33325
    const std::vector<std::uint16_t> b = {0x3F80, 0xC040, 0x0000};  // 1, -3, 0
    const std::string path = temp_path("half.safetensors");
    write_bytes(path, file_of({{"0.weight", "F16", {3, 2}, raw(w)}, {"0.bias", "BF16", {3}, raw(b)}}));
    load_safetensors(m, path);
    const Dense<float, 2, 3>& d = m.layer<0>();
    CHECK(d.W(0, 0) == 1.0f);
    CHECK(d.W(0, 1) == -2.0f);
    CHECK(d.W(1, 0) == 0.5f);
    CHECK(d.W(1, 1) == std::ldexp(1.0f, -24));
    CHECK(d.W(2, 0) == 65504.0f);
    CHECK(d.W(2, 1) == 0.333251953125f);
    CHECK(d.b(0) == 1.0f);
    CHECK(d.b(1) == -3.0f);
}

namespace {
struct TwoSameNames {  // a model whose visit_parameters repeats a name
    using scalar_type = float;
    Eigen::ArrayXf a = Eigen::ArrayXf::Ones(2), da = Eigen::ArrayXf::Zero(2);
    static std::string name() { return "TwoSameNames"; }
    template <class F>
    void visit_parameters(F&& f) {
        f(parameter("a", a, da));
        f(parameter("a", a, da));
    }
};
struct NoLayout {  // a model that builds its ParamView by hand, without parameter(): no layout
    using scalar_type = float;
    Eigen::ArrayXf a = Eigen::ArrayXf::Ones(2), da = Eigen::ArrayXf::Zero(2);
    static std::string name() { return "NoLayout"; }
    template <class F>
    void visit_parameters(F&& f) {
        f(ParamView<float>{"a", {a.data(), 2}, {da.data(), 2}, {}});
    }
};
}  // namespace

TEST_CASE("bad safetensors files are rejected naming the tensor, expected and found; the model is untouched",
          "[safetensors][errors]") {
    using Small =
        Sequential<Dense<float, 2, 3>, Tanh, Dense<float, 3, 1>>;  // 0.weight (3, 2), 0.bias, 2.weight (1, 3), 2.bias
    Small saved(1), target(2);
    const std::string path = temp_path("bad.safetensors");
    const std::vector<double> before = values_of(target);
    auto floats = [](std::size_t n) { return raw(std::vector<float>(n, 0.25f)); };
    const std::vector<RawTensor> good = {{"0.weight", "F32", {3, 2}, floats(6)},
                                         {"0.bias", "F32", {3}, floats(3)},
                                         {"2.weight", "F32", {1, 3}, floats(3)},
                                         {"2.bias", "F32", {1}, floats(1)}};
    auto rejects = [&](const std::vector<unsigned char>& bytes, const std::string& message) {
        write_bytes(path, bytes);
        CHECK_THROWS_AS(load_safetensors(target, path), SafetensorsError);
        CHECK_THROWS_WITH(load_safetensors(target, path), Contains(message));
        CHECK(values_of(target) == before);
    };
    write_bytes(path, file_of(good));
    Small check(3);
    REQUIRE_NOTHROW(load_safetensors(check, path));  // the base file is valid

    SECTION("a shape transposed, a dtype neuronka does not read, a size that disagrees with the shape") {
        auto bad = good;
        bad[0].shape = {2, 3};
        rejects(file_of(bad), "tensor \"0.weight\": shape: expected [3, 2], found [2, 3] (data at byte offset ");
        bad = good;
        bad[1].dtype = "I32";
        rejects(file_of(bad), "tensor \"0.bias\": dtype: expected F32, F64, F16 or BF16, found I32");
        bad = good;
        bad[3].dtype = "F64";  // 4 bytes for one F64 value
        rejects(file_of(bad), "tensor \"2.bias\": data_offsets: expected 8 bytes (1 F64 values), found 4");
    }
    SECTION("a tensor missing, or one the model does not have") {
        auto bad = good;
        bad.pop_back();
        rejects(file_of(bad),
                "tensor \"2.bias\" ([1]) is missing; the file holds 3 tensors (0.weight, 0.bias, 2.weight)");
        bad = good;
        bad.push_back({"3.weight", "F32", {2}, floats(2)});
        rejects(file_of(bad), "the file holds tensor \"3.weight\" [2], which Sequential<Dense<In=2,Out=3>");
    }
    SECTION("byte ranges: overlapping, with a gap, beyond the data, not covering it") {
        auto bytes = file_of(good);
        // json::array / json::object, not a braced list: clang 14 at -O0 leaks the replaced value of
        // `h[...] = {...}` inside these generic lambdas (LeakSanitizer finds it; GCC does not).
        auto edit = [&](auto&& change) {
            std::uint64_t n = 0;
            std::memcpy(&n, bytes.data(), 8);
            json header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + long(n));
            std::vector<unsigned char> data(bytes.begin() + 8 + long(n), bytes.end());
            change(header, data);
            return assemble(header.dump(), data);
        };
        rejects(edit([](json& h, auto&) {
                    h["0.bias"]["data_offsets"] = json::array({20, 32});
                }),
                "tensor \"0.bias\": data_offsets: expected its data to begin at 24 (it overlaps the tensor before it), "
                "found 20");
        rejects(
            edit([](json& h, auto& d) {
                h["0.bias"]["data_offsets"] = json::array({28, 40});
                h["2.weight"]["data_offsets"] = json::array({40, 52});
                h["2.bias"]["data_offsets"] = json::array({52, 56});
                d.insert(d.end(), 4, 0);
            }),
            "tensor \"0.bias\": data_offsets: expected its data to begin at 24 (there is a gap before it), found 28");
        rejects(edit([](json& h, auto&) {
                    h["2.bias"]["data_offsets"] = json::array({48, 60});
                }),
                "tensor \"2.bias\": data_offsets: expected 0 <= begin <= end <= 52 (the data's size), found [48, 60]");
        rejects(edit([](json&, auto& d) { d.insert(d.end(), 8, 0); }),
                "data: expected the tensors to cover all 60 bytes, they cover 52 (the file has bytes no tensor owns)");
        rejects(edit([](json& h, auto&) { h["0.bias"]["data_offsets"] = json::array({24}); }),
                "tensor \"0.bias\": data_offsets: expected [begin, end], found [24]");
        rejects(edit([](json& h, auto&) { h["0.bias"]["shape"] = json::array({-3}); }),
                "tensor \"0.bias\": shape: expected non-negative integers, found [-3]");
        rejects(edit([](json& h, auto&) { h["0.bias"]["extra"] = 1; }),
                "tensor \"0.bias\": expected an object with exactly \"dtype\"");
        rejects(edit([](json& h, auto&) {
                    h["__metadata__"] = json::object({{"epochs", 3}});
                }),
                "__metadata__ \"epochs\": expected a string, found a number");
    }
    SECTION("the header: length, JSON syntax, names given twice") {
        auto bytes = file_of(good);
        rejects(std::vector<unsigned char>(bytes.begin(), bytes.begin() + 5),
                "file is truncated: expected at least 8 bytes (the header length), found 5 (at byte offset 0)");
        auto b = bytes;
        b[7] = 0x40;
        rejects(b, "header length: expected at most ");
        b = bytes;
        b[8 + 11] = '#';  // the colon after the first name: {"0.weight"#
        rejects(b, "header is not valid JSON: [json.exception.parse_error.101] parse error at line 1, column 12");
        CHECK_THROWS_WITH(load_safetensors(target, path), Contains("(at byte offset 19)"));
        const std::string text =
            R"({"0.bias":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"0.bias":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}})";
        rejects(assemble(text, std::vector<unsigned char>(12)),
                "header: expected each name once, found \"0.bias\" twice");
        rejects(assemble("[1, 2]", {}), "header: expected a JSON object, found a array");
        rejects(assemble(R"({"__metadata__":{"format":1e400}})", {}),  // found by the fuzzer
                "header cannot be read: [json.exception.out_of_range.406] number overflow parsing '1e400' (at byte "
                "offset 8)");
    }
    SECTION("truncated anywhere, or any byte flipped: an error or a valid file, never a crash") {
        const auto bytes = file_of(good);
        for (std::size_t n = 0; n < bytes.size(); ++n) {
            write_bytes(path, std::vector<unsigned char>(bytes.begin(), bytes.begin() + long(n)));
            CHECK_THROWS_AS(load_safetensors(target, path), SafetensorsError);
        }
        CHECK(values_of(target) == before);
        for (std::size_t i = 0; i < bytes.size(); ++i) {
            auto b = bytes;
            b[i] ^= 0x24;
            write_bytes(path, b);
            Small other(2);
            try {
                load_safetensors(other, path);
            } catch (const SafetensorsError&) {
                CHECK(values_of(other) == before);
            }
        }
    }
    SECTION("non-finite values, when the caller asks") {
        auto bad = good;
        bad[2].data = raw(std::vector<float>{0.5f, std::numeric_limits<float>::infinity(), 1});
        write_bytes(path, file_of(bad));
        CHECK_THROWS_WITH(load_safetensors(target, path, {.check_finite = true}),
                          Contains("tensor \"2.weight\": value 1: expected a finite value, found inf"));
        CHECK(values_of(target) == before);
        CHECK_NOTHROW(load_safetensors(target, path));
    }
    SECTION("a counter must be a 0-dimensional I64; a file without it loads") {
        Cnn a(1), b(2);
        const std::vector<double> b_before = values_of(b);
        auto bytes = safetensors_bytes(a);
        std::uint64_t n = 0;
        std::memcpy(&n, bytes.data(), 8);
        std::string text(bytes.begin() + 8, bytes.begin() + 8 + long(n));
        const std::size_t at = text.find("\"I64\"");
        REQUIRE(at != std::string::npos);
        text.replace(at, 5, "\"F64\"");
        std::copy(text.begin(), text.end(), bytes.begin() + 8);
        write_bytes(path, bytes);
        CHECK_THROWS_WITH(load_safetensors(b, path),
                          Contains("tensor \"1.num_batches_tracked\": dtype: expected I64, found F64"));
        CHECK(values_of(b) == b_before);

        std::vector<RawTensor> without;  // a's tensors in PyTorch's order, the counter left out
        for (const auto& t : state_tensors(a)) {
            if (t.kind == TensorView<float>::Kind::counter) continue;
            std::vector<float> v;
            for (std::int64_t i = 0; i < t.size(); ++i) v.push_back(t.data[t.storage_index(i)]);
            without.push_back({t.name, "F32", t.shape, raw(v)});
        }
        b.layer<1>().batches_tracked = 9;
        write_bytes(path, file_of(without));
        load_safetensors(b, path);
        CHECK(b.layer<0>().W == a.layer<0>().W);
        CHECK(b.layer<5>().W == a.layer<5>().W);
        CHECK(b.layer<1>().batches_tracked == 9);  // kept: the file does not say
    }
    SECTION("saving a model whose tensors share a name is refused") {
        TwoSameNames m;
        CHECK_THROWS_WITH(
            save_safetensors(m, path),
            Contains("TwoSameNames: two tensors are named \"a\". Hint: each tensor of a layer needs its own name"));
    }
    SECTION("a tensor declared without its layout is refused, naming it") {
        NoLayout m;
        CHECK_THROWS_WITH(save_safetensors(m, path),
                          Contains("NoLayout: parameter \"a\" has 2 values but a layout of 0. Hint: declare it with "
                                   "parameter(name, value, grad)"));
    }
}

TEST_CASE("the fuzz target's seed corpus and every kept crash input load or are rejected cleanly",
          "[safetensors][fuzz]") {
    int replayed = 0;
    for (const char* dir : {NEURONKA_FUZZ_DIR "/corpus-safetensors", NEURONKA_FUZZ_DIR "/regressions"})
        for (const auto& e : std::filesystem::directory_iterator(dir)) {
            const std::vector<unsigned char> bytes = read_bytes(e.path().string());
            fuzz::load_any_safetensors(bytes.data(), bytes.size());
            ++replayed;
        }
    CHECK(replayed >= 2);
    fuzz::Cnn cnn(3);  // the seeds are real files of the target's models
    load_safetensors(cnn, NEURONKA_FUZZ_DIR "/corpus-safetensors/torch_cnn.safetensors");
    CHECK(cnn.layer<1>().batches_tracked == 3);
}
