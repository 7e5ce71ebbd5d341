// GPT-2 from a Hugging Face directory (models/gpt2.hpp, io/safetensors_mapping.hpp) against
// tests/fixtures/gpt2/, written by make_gpt2_fixture.py: a small GPT-2-shaped model with Hugging
// Face's names and layouts and the logits and greedy continuation of a plain-Python GPT-2 forward;
// the mapping's rules one by one, non-strict loads, and the errors; the tied head (TiedHead, Gpt2):
// its gradients, its training paths, its count.
#include "language_model_checks.hpp"

#include <neuronka/check/gradcheck.hpp>
#include <neuronka/cost/compute.hpp>
#include <neuronka/models/generate.hpp>
#include <neuronka/models/gpt2.hpp>
#include <neuronka/text/bpe.hpp>
#include <neuronka/train/loss.hpp>
#include <neuronka/train/sgd.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace neuronka;

namespace {
const std::string dir = std::string(NEURONKA_FIXTURE_DIR) + "/gpt2/";
template <class Scalar>
using Tiny = Transformer<Scalar, 400, 32, 16, 2, 2>;

struct Expected {
    std::string prompt;
    std::vector<int> prompt_ids, continuation;
    std::vector<double> logits;
};
Expected expected() {
    std::ifstream in(dir + "expected.txt");
    REQUIRE(in);
    std::string line;
    std::getline(in, line);  // the comment
    Expected e;
    std::getline(in, line);
    e.prompt = nlohmann::json::parse(line).get<std::string>();
    const auto numbers = [&](auto& out) {
        std::getline(in, line);
        std::istringstream s(line);
        for (typename std::remove_reference_t<decltype(out)>::value_type v; s >> v;) out.push_back(v);
    };
    numbers(e.prompt_ids);
    numbers(e.logits);
    numbers(e.continuation);
    REQUIRE(e.logits.size() == 400);
    return e;
}
template <class Model>
double largest_difference(const Model& model, const std::vector<int>& ids, const std::vector<double>& reference) {
    KvCache<Model> cache(model);
    const auto& logits = cache.append(ids);
    double worst = 0;
    for (int v = 0; v < Model::vocab_size; ++v)
        worst = std::max(worst, std::abs(double(logits(v, 0)) - reference[std::size_t(v)]));
    return worst;
}
}  // namespace

TEST_CASE("A Hugging Face GPT-2 directory: config, tokenizer, logits and greedy ids equal the reference", "[gpt2]") {
    const Gpt2Config config = read_gpt2_config(dir + "config.json");
    CHECK(config.is<Tiny<float>>());
    CHECK_FALSE(config.is<Transformer<float, 400, 32, 16, 2, 3>>());
    const Expected e = expected();
    const auto tokenizer = BpeTokenizer::load(dir + "vocab.json", dir + "merges.txt");
    CHECK(tokenizer.encode(e.prompt) == e.prompt_ids);

    auto exact = std::make_unique<Tiny<double>>(1);
    const LoadReport report =
        load_safetensors(*exact, dir + "model.safetensors", huggingface_gpt2_mapping<Tiny<double>>());
    CHECK(report.missing.empty());
    CHECK(report.unused.empty());
    CHECK(report.skipped ==
          std::vector<std::string>{"h.0.attn.bias", "h.0.attn.masked_bias", "h.1.attn.bias", "h.1.attn.masked_bias"});
    CHECK(largest_difference(*exact, e.prompt_ids, e.logits) < 1e-9);
    auto model = std::make_unique<Tiny<float>>(1);
    load_safetensors(*model, dir + "model.safetensors", huggingface_gpt2_mapping<Tiny<float>>());
    CHECK(largest_difference(*model, e.prompt_ids, e.logits) < 1e-4);
    // the head is the token embedding (copied), without a bias
    CHECK(model->head().W == model->tok().E.transpose());
    CHECK(model->head().b.isZero());

    // greedy, past the context (32): the window slides as the reference's does
    Rng rng(1);
    const std::vector<int> ids = generate(*model, e.prompt_ids, int(e.continuation.size()), {.temperature = 0}, rng);
    CHECK(std::vector<int>(ids.begin() + std::ptrdiff_t(e.prompt_ids.size()), ids.end()) == e.continuation);
    CHECK(tokenizer.decode(ids).starts_with(e.prompt));
}

TEST_CASE("Gpt2 (the head tied to the embedding) loads both files and equals the reference", "[gpt2][tied]") {
    const Expected e = expected();
    for (const char* file : {"model.safetensors", "lm_head_model.safetensors"}) {
        auto tied = std::make_unique<Gpt2<double, 400, 32, 16, 2, 2>>(1);
        const LoadReport report =
            load_safetensors(*tied, dir + file, huggingface_gpt2_mapping<Gpt2<double, 400, 32, 16, 2, 2>>());
        CHECK(report.missing.empty());
        CHECK(largest_difference(*tied, e.prompt_ids, e.logits) < 1e-9);
        CHECK(report.skipped.size() == (std::string(file) == "model.safetensors" ? 4u : 1u));  // lm_head.weight
    }
}

TEST_CASE("A tied head counts the embedding once: GPT-2 small's 124,439,808 from the type", "[gpt2][tied]") {
    using Small = Gpt2<float, 50257, 1024, 768, 12, 12>;
    static_assert(Small::parameter_count == 124'439'808);
    static_assert(Transformer<float, 50257, 1024, 768, 12, 12>::parameter_count == 124'439'808 + 50257 * 768 + 50257);
    compute::TransformerShape shape{.layers = 12, .d_model = 768, .heads = 12, .context = 1024, .vocab = 50257};
    CHECK(compute::parameters_with_embeddings(shape) == double(Small::parameter_count));
    shape.tied_head = false;
    CHECK(compute::parameters_with_embeddings(shape) ==
          double(Transformer<float, 50257, 1024, 768, 12, 12>::parameter_count));
    using Tied = Gpt2<double, 11, 8, 8, 2, 1>;
    Tied model(3);
    std::size_t visited = 0;
    model.visit_parameters([&](ParamView<double> p) { visited += std::size_t(p.value.size()); });
    CHECK(visited == Tied::parameter_count);
    CHECK(state_tensors(model).back().name == "3.bias");  // the final LayerNorm's: the head has none
    CHECK(Tied::name().ends_with(",TiedHead>"));
}

TEST_CASE("A tied head's gradient reaches the embedding: finite differences, and a copy ties its own", "[gpt2][tied]") {
    using Tied = Gpt2<double, 11, 8, 8, 2, 1>;
    Tied model(17);
    const GradcheckResult r = language_model_gradcheck<11>(model, 5, 2);
    CHECK(r.checked == Tied::parameter_count);
    require_small(r);

    Tied copy = model;  // its head reads its own embedding, not model's
    copy.tok().E.setZero();
    const std::vector<int> ids = random_ids(10, 11, 18);
    CHECK(copy.forward(ids, 5).isZero());
    CHECK_FALSE(model.forward(ids, 5).isZero());
    TiedHead<double, 11, 8> untied;
    CHECK_THROWS_WITH(untied.forward(Batch<double, 8>::Zero(8, 1)), Catch::Matchers::Contains("not tied"));
}

TEST_CASE("TiedHead's products equal naive loops: y = E^T x, dx = E dy, dE += x dy^T", "[gpt2][tied]") {
    Embedding<double, 7, 5> table(2);
    TiedHead<double, 7, 5> head;
    head.tie(table);
    const Batch<double, 5> x = random_batch<5>(3, 4);
    const Batch<double, 7> dy = random_batch<7>(3, 5);
    const Batch<double, 7> y = head.forward(x);
    table.zero_grad();
    table.dE(1, 2) = 0.5;  // backward adds to what is there
    const Batch<double, 5> dx = head.backward(x, dy);
    for (int b = 0; b < 3; ++b) {
        for (int v = 0; v < 7; ++v) {
            double s = 0;
            for (int d = 0; d < 5; ++d) s += table.E(d, v) * x(d, b);
            CHECK(std::abs(y(v, b) - s) < 1e-12);
        }
        for (int d = 0; d < 5; ++d) {
            double s = 0;
            for (int v = 0; v < 7; ++v) s += table.E(d, v) * dy(v, b);
            CHECK(std::abs(dx(d, b) - s) < 1e-12);
        }
    }
    for (int d = 0; d < 5; ++d)
        for (int v = 0; v < 7; ++v) {
            double s = d == 1 && v == 2 ? 0.5 : 0;
            for (int b = 0; b < 3; ++b) s += x(d, b) * dy(v, b);
            CHECK(std::abs(table.dE(d, v) - s) < 1e-12);
        }
}

TEST_CASE("A tied model trains the same through backward + step and through the fused step", "[gpt2][tied]") {
    using Tied = Gpt2<double, 11, 8, 8, 2, 1>;
    Tied a(5), b(5);
    const int T = 6;
    const std::vector<int> ids = random_ids(T * 2, 11, 6), targets = random_ids(T * 2, 11, 7);
    SoftmaxCrossEntropy<double, 11> ce;
    SGD<double> sa({.learning_rate = 0.1}), sb({.learning_rate = 0.1});
    double first = 0, last = 0;
    for (int step = 0; step < 30; ++step) {
        a.zero_grad();
        const double loss = ce.forward(a.forward(ids, T), targets);
        a.backward(ids, ce.backward());
        sa.step(a);
        ce.forward(b.forward(ids, T), targets);
        sb.step(b, ids, ce.backward());  // each layer updated as its backward finishes
        (step == 0 ? first : last) = loss;
    }
    CHECK(last < 0.7 * first);
    CHECK((a.tok().E - b.tok().E).cwiseAbs().maxCoeff() < 1e-12);
    CHECK((a.block(0).attn().qkv.W - b.block(0).attn().qkv.W).cwiseAbs().maxCoeff() < 1e-12);
}

TEST_CASE("GPT2LMHeadModel's names (transformer., lm_head.weight) load to the same model", "[gpt2]") {
    auto a = std::make_unique<Tiny<double>>(1), b = std::make_unique<Tiny<double>>(2);
    load_safetensors(*a, dir + "model.safetensors", huggingface_gpt2_mapping<Tiny<double>>());
    const LoadReport report =
        load_safetensors(*b, dir + "lm_head_model.safetensors", huggingface_gpt2_mapping<Tiny<double>>());
    CHECK(report.skipped.empty());
    const auto ta = state_tensors(*a), tb = state_tensors(*b);
    REQUIRE(ta.size() == tb.size());
    for (std::size_t k = 0; k < ta.size(); ++k)
        for (std::int64_t i = 0; i < ta[k].size(); ++i)
            CHECK(ta[k].data[ta[k].storage_index(i)] == tb[k].data[tb[k].storage_index(i)]);
}

TEST_CASE("Each rule of a mapping is needed: without it the load fails or the model differs", "[gpt2][mapping]") {
    using Catch::Matchers::Contains;
    using Model = Tiny<double>;
    auto model = std::make_unique<Model>(1);
    const auto before = state_tensors(*model)[4].data[0];  // 2.0.1.qkv.weight
    SafetensorsMapping m = huggingface_gpt2_mapping<Model>();

    SECTION("the transposes: a non-square weight fails its shape check; the square c_proj would load silently") {
        m.transpose = {"{i}.0.1.proj.weight", "{i}.1.1.weight", "{i}.1.3.weight"};
        CHECK_THROWS_WITH(load_safetensors(*model, dir + "model.safetensors", m),
                          Contains("tensor \"2.0.1.qkv.weight\" (\"h.0.attn.c_attn.weight\" in the file): shape: "
                                   "expected [48, 16], found [16, 48]"));
        CHECK(state_tensors(*model)[4].data[0] == before);  // untouched
        m = huggingface_gpt2_mapping<Model>();
        m.transpose = {"{i}.0.1.qkv.weight", "{i}.1.1.weight", "{i}.1.3.weight"};  // c_proj left out
        load_safetensors(*model, dir + "model.safetensors", m);
        const Expected e = expected();
        CHECK(largest_difference(*model, e.prompt_ids, e.logits) > 1e-3);
    }
    SECTION("the skipped mask buffers") {
        m.skip.clear();
        CHECK_THROWS_WITH(load_safetensors(*model, dir + "model.safetensors", m),
                          Contains("the file holds tensor \"h.0.attn.bias\" [1, 1, 32, 32]"));
    }
    SECTION("the copied head and its zero bias") {
        m.copy.clear();
        CHECK_THROWS_WITH(load_safetensors(*model, dir + "model.safetensors", m),
                          Contains("tensor \"5.weight\" ([400, 16]) is missing"));
        m = huggingface_gpt2_mapping<Model>();
        m.zero.clear();
        CHECK_THROWS_WITH(load_safetensors(*model, dir + "model.safetensors", m), Contains("\"5.bias\""));
    }
    SECTION("not strict: what is missing and unused is reported, the rest loads") {
        m.rename.erase(m.rename.begin() + 1);  // wpe.weight no longer maps to 1.weight
        m.strict = false;
        const auto positions = model->pos().P;
        const LoadReport report = load_safetensors(*model, dir + "model.safetensors", m);
        CHECK(report.missing == std::vector<std::string>{"1.weight"});
        CHECK(report.unused == std::vector<std::string>{"wpe.weight"});
        CHECK(model->pos().P == positions);                 // kept
        CHECK(state_tensors(*model)[4].data[0] != before);  // loaded
    }
    SECTION("two file tensors mapping to one name") {
        m.rename.push_back({"wpe.weight", "0.weight"});
        m.rename.insert(m.rename.begin(), {"wpe.weight", "0.weight"});
        CHECK_THROWS_WITH(load_safetensors(*model, dir + "model.safetensors", m), Contains("both map to \"0.weight\""));
    }
}

TEST_CASE("Mapping patterns: {i} matches one block index, {i+K} offsets it", "[mapping]") {
    namespace st = detail::safetensors;
    CHECK(st::match("h.{i}.ln_1.weight", "h.11.ln_1.weight") == 11);
    CHECK_FALSE(st::match("h.{i}.ln_1.weight", "h..ln_1.weight"));
    CHECK_FALSE(st::match("h.{i}.ln_1.weight", "h.1x.ln_1.weight"));
    CHECK_FALSE(st::match("h.{i}.ln_1.weight", "h.1.ln_1.bias"));
    CHECK(st::match("wte.weight", "wte.weight") == 0);
    CHECK(st::substitute("{i+2}.0.1.qkv.weight", 11) == "13.0.1.qkv.weight");
    CHECK(st::substitute("blocks.{i}.w", 3) == "blocks.3.w");
    SafetensorsMapping m;
    m.strip_prefixes = {"transformer."};
    m.skip = {"h.{i}.attn.bias"};
    m.rename = {{"h.{i}.x", "{i+1}.y"}};
    CHECK(st::model_name(m, "transformer.h.4.x") == "5.y");
    CHECK_FALSE(st::model_name(m, "transformer.h.4.attn.bias"));
    CHECK(st::model_name(m, "other") == "other");
}

TEST_CASE("config.json: GPT-2's sizes, and a clear error for what neuronka's Transformer does not compute",
          "[gpt2][errors]") {
    using Catch::Matchers::Contains;
    const auto path = std::filesystem::temp_directory_path() / ("neuronka_gpt2_config_" + std::to_string(::getpid()));
    const auto check = [&](const std::string& json, const std::string& message) {
        std::ofstream(path) << json;
        CHECK_THROWS_WITH(read_gpt2_config(path.string()), Contains(message));
    };
    const std::string sizes = R"("vocab_size": 10, "n_positions": 8, "n_embd": 16, "n_head": 2, "n_layer": 1)";
    check("{" + sizes + R"(, "activation_function": "relu"})", "activation_function: expected \"gelu_new\"");
    check("{" + sizes + R"(, "model_type": "llama"})", "model_type: expected \"gpt2\"");
    check(R"({"vocab_size": 10, "n_positions": 8, "n_embd": 16, "n_head": 2})",
          "n_layer: expected a positive integer size, found nothing");
    check(R"({"vocab_size": -1, "n_positions": 8, "n_embd": 16, "n_head": 2, "n_layer": 1})",
          "vocab_size: expected a positive");
    check("{" + sizes + R"(, "n_inner": 100})", "n_inner: expected null or 64");
    check("{" + sizes + R"(, "layer_norm_epsilon": 1e-6})", "layer_norm_epsilon: expected 1e-05");
    check(R"({"vocab_size": 10, "n_positions": 8, "n_embd": 15, "n_head": 2, "n_layer": 1})",
          "not a multiple of n_head");
    check("[1]", "expected a JSON object");
    std::ofstream(path) << "{" + sizes + R"(, "n_inner": null, "layer_norm_epsilon": 1e-05})";
    const Gpt2Config c = read_gpt2_config(path.string());
    CHECK(c.describe() == "vocab 10, context 8, d 16, 2 heads, 1 layers");
    std::filesystem::remove(path);
}
