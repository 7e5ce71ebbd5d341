// Checkpoints: round trips, exact resume in a fresh process, every kind of bad file rejected with
// the model untouched, and a save killed half-way leaving the previous checkpoint intact.
#include <neuronka/compose/sequential.hpp>
#include <neuronka/core/random.hpp>
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
#include <neuronka/train/adamw.hpp>
#include <neuronka/train/history.hpp>
#include <neuronka/train/loss.hpp>
#include <neuronka/train/rmsprop.hpp>
#include <neuronka/train/sgd.hpp>
#include <neuronka/version.hpp>

#include <catch2/catch.hpp>

#include "temp_dir.hpp"

#include "file_size_limit.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

using namespace neuronka;
using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;

namespace {
using Mlp = Sequential<Dense<float, 4, 16>, Tanh, Dense<float, 16, 3>>;

std::string temp_path(const std::string& name) {
    return test::temp_path(name);
}
template <class Model>
std::vector<unsigned char> raw_parameters(Model& m) {
    std::vector<unsigned char> out;
    m.visit_parameters([&](auto p) {
        const std::size_t at = out.size(), bytes = std::size_t(p.value.size()) * sizeof(p.value(0));
        out.resize(at + bytes);
        std::memcpy(out.data() + at, p.value.data(), bytes);
    });
    return out;
}
std::vector<unsigned char> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}
void write_bytes(const std::string& path, const std::vector<unsigned char>& b) {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}
// One optimiser step of the MLP on a batch drawn from rng.
template <class Optimizer>
void mlp_step(Mlp& m, Optimizer& opt, Rng& rng) {
    Batch<float, 4> x(4, 8);
    for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = float(rng.uniform(-1, 1));
    std::vector<int> labels(8);
    for (auto& l : labels) l = int(rng.below(3));
    SoftmaxCrossEntropy<float, 3> ce;
    m.zero_grad();
    ce.forward(m.forward(x), labels);
    m.backward(x, ce.backward());
    opt.step(m);
}
// Runs f in a child process; returns its exit status.
template <class F>
int in_child(F&& f) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        int code = 1;
        try {
            code = f();
        } catch (...) {
        }
        ::_exit(code);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
}  // namespace

TEST_CASE("a saved model loads back bitwise, predictions included", "[serialize]") {
    Mlp a(1), b(2);
    const std::string path = temp_path("mlp.nkpt");
    save(a, path);
    REQUIRE(raw_parameters(a) != raw_parameters(b));
    load(b, path);
    CHECK(raw_parameters(a) == raw_parameters(b));
    const Batch<float, 4> x = Batch<float, 4>::Random(4, 5);
    const Batch<float, 3> ya = a.forward(x), yb = b.forward(x);
    CHECK(std::memcmp(ya.data(), yb.data(), sizeof(float) * 15) == 0);
}

TEST_CASE("the earlier argument order, path first, still saves and loads", "[serialize][deprecated]") {
    Mlp a(1), b(2);
    const std::string path = temp_path("mlp_path_first.nkpt");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    save(path, a);
    load(path, b);
#pragma GCC diagnostic pop
    CHECK(raw_parameters(a) == raw_parameters(b));
}

TEST_CASE("a file that cannot be written throws FileError; a checkpoint's CheckpointError is one",
          "[serialize][errors]") {
    Mlp a(1);
    const std::string path = temp_path("no_such_directory/mlp.nkpt");
    CHECK_THROWS_AS(save(a, path), CheckpointError);
    CHECK_THROWS_WITH(save(a, path), Contains(path + ": cannot create a temporary file next to it"));
    History history;
    history.epochs.push_back({});
    try {
        history.write_csv(temp_path("no_such_directory/history.csv"));
        FAIL("write_csv into a missing directory did not throw");
    } catch (const CheckpointError&) {
        FAIL("a history is not a checkpoint: write_csv threw CheckpointError");
    } catch (const FileError& e) {
        CHECK_THAT(e.what(), Contains("history.csv: cannot create a temporary file next to it"));
    }
}

TEST_CASE("training resumes exactly in a fresh process", "[serialize][resume]") {
    const int N = 7, M = 5;
    SECTION("MLP with SGD and Nesterov momentum") {
        Mlp straight(3);
        SGD<float> opt({.learning_rate = 0.1f, .momentum = 0.9f, .nesterov = true});
        Rng rng(4);
        for (int s = 0; s < N + M; ++s) mlp_step(straight, opt, rng);
        const std::string path = temp_path("resume-mlp.nkpt"), result = temp_path("resume-mlp.out");
        const int status = in_child([&] {  // first process: N steps, save
            Mlp m(3);
            SGD<float> o({.learning_rate = 0.1f, .momentum = 0.9f, .nesterov = true});
            Rng r(4);
            for (int s = 0; s < N; ++s) mlp_step(m, o, r);
            save(m, path, o, r);
            return 0;
        });
        REQUIRE(status == 0);
        REQUIRE(in_child([&] {  // a fresh process: load, M more steps
                    Mlp m(99);
                    SGD<float> o({.learning_rate = 0.1f, .momentum = 0.9f, .nesterov = true});
                    Rng r(99);
                    load(m, path, o, r);
                    for (int s = 0; s < M; ++s) mlp_step(m, o, r);
                    write_bytes(result, raw_parameters(m));
                    return 0;
                }) == 0);
        CHECK(read_bytes(result) == raw_parameters(straight));
    }
    SECTION("MLP with RMSProp (centred, momentum) and with Adagrad: their state is in the checkpoint") {
        auto resume = [&](auto make, const char* name) {
            Mlp straight(3);
            auto opt = make();
            Rng rng(4);
            for (int s = 0; s < N + M; ++s) mlp_step(straight, opt, rng);
            const std::string path = temp_path(name);
            Mlp m(3);
            auto o = make();
            Rng r(4);
            for (int s = 0; s < N; ++s) mlp_step(m, o, r);
            save(m, path, o, r);
            Mlp loaded(9);
            auto o2 = make();
            Rng r2(9);
            load(loaded, path, o2, r2);
            CHECK(o2.steps() == std::size_t(N));
            for (int s = 0; s < M; ++s) mlp_step(loaded, o2, r2);
            CHECK(raw_parameters(loaded) == raw_parameters(straight));
            return path;
        };
        const std::string rms = resume(
            [] { return RMSProp<float>({.learning_rate = 0.01f, .momentum = 0.5f, .centered = true}); }, "rms.nkpt");
        resume([] { return Adagrad<float>({.learning_rate = 0.1f, .initial_accumulator = 0.1f}); }, "adagrad.nkpt");
        Mlp m(1);
        Adagrad<float> other;
        Rng r(1);
        CHECK_THROWS_WITH(load(m, rms, other, r), Contains("Adagrad") && Contains("RMSProp"));
        RMSProp<float> plain;  // other settings (no momentum, not centred): refused at the first step
        load(m, rms, plain, r);
        CHECK_THROWS_WITH(mlp_step(m, plain, r), Contains("RMSProp::step: state group 1 holds 4 arrays, expected 0"));
    }
    SECTION("transformer with AdamW") {
        using GPT = Transformer<float, 11, 8, 16, 2, 2>;
        auto step = [](GPT& m, AdamW<float>& o, Rng& r) {
            std::vector<int> ids(16), targets(16);
            for (std::size_t i = 0; i < 16; ++i) ids[i] = int(r.below(11)), targets[i] = int(r.below(11));
            SoftmaxCrossEntropy<float, 11> ce;
            m.zero_grad();
            ce.forward(m.forward(ids, 8), targets);
            m.backward(ids, ce.backward());
            clip_gradient_norm(m, 1.0);
            o.step(m);
        };
        GPT straight(5);
        AdamW<float> opt({.learning_rate = 1e-2f});
        Rng rng(6);
        for (int s = 0; s < N + M; ++s) step(straight, opt, rng);
        const std::string path = temp_path("resume-gpt.nkpt"), result = temp_path("resume-gpt.out");
        REQUIRE(in_child([&] {
                    GPT m(5);
                    AdamW<float> o({.learning_rate = 1e-2f});
                    Rng r(6);
                    for (int s = 0; s < N; ++s) step(m, o, r);
                    save(m, path, o, r);
                    return 0;
                }) == 0);
        REQUIRE(in_child([&] {
                    GPT m(77);
                    AdamW<float> o({.learning_rate = 1e-2f});
                    Rng r(77);
                    load(m, path, o, r);
                    for (int s = 0; s < M; ++s) step(m, o, r);
                    write_bytes(result, raw_parameters(m));
                    return 0;
                }) == 0);
        CHECK(read_bytes(result) == raw_parameters(straight));
    }
}

TEST_CASE("bad checkpoints are rejected with where and why, and the model is untouched", "[serialize][errors]") {
    Mlp saved(1), target(2);
    const std::string path = temp_path("bad.nkpt");
    save(saved, path);
    const std::vector<unsigned char> good = read_bytes(path);
    const std::vector<unsigned char> before = raw_parameters(target);
    auto rejects = [&](const std::vector<unsigned char>& bytes, const std::string& message) {
        write_bytes(path, bytes);
        CHECK_THROWS_WITH(load(target, path), Contains(message));
        CHECK(raw_parameters(target) == before);
    };
    SECTION("wrong magic") {
        auto b = good;
        b[0] = 'X';
        rejects(b,
                "not a neuronka checkpoint: wrong magic, expected \"NRNKCKPT\", found \"XRNKCKPT\" (at byte offset 0)");
    }
    SECTION("unknown version") {
        auto b = good;
        b[8] = 9;
        rejects(b, "unknown format version 9, expected 1 to 2 (at byte offset 8)");
    }
    SECTION("another model: other sizes, other layer kinds, other scalar type") {
        Sequential<Dense<float, 4, 8>, Tanh, Dense<float, 8, 3>> smaller;
        CHECK_THROWS_WITH(load(smaller, path), Contains("model description: expected \"Sequential<Dense<In=4,Out=8>"));
        CHECK_THROWS_WITH(load(smaller, path), EndsWith("(at byte offset 16)"));  // where the string starts
        Sequential<Dense<float, 4, 16>, ReLU, Dense<float, 16, 3>> relu;
        CHECK_THROWS_WITH(load(relu, path), Contains("found \"Sequential<Dense<In=4,Out=16>, Tanh<N=16>"));
        Sequential<Dense<double, 4, 16>, Tanh, Dense<double, 16, 3>> wider;
        CHECK_THROWS_WITH(load(wider, path), Contains("scalar type: expected \"float64\", found \"float32\""));
    }
    SECTION("truncated anywhere") {
        for (std::size_t n = 0; n < good.size(); n += 7) {
            write_bytes(path, std::vector<unsigned char>(good.begin(), good.begin() + long(n)));
            CHECK_THROWS_AS(load(target, path), CheckpointError);
        }
        rejects(std::vector<unsigned char>(good.begin(), good.end() - 100), "file is truncated");
        CHECK(raw_parameters(target) == before);
    }
    SECTION("over-long") {
        auto b = good;
        b.insert(b.end() - 4, {1, 2, 3});
        rejects(b, "3 unexpected bytes after the last block");
    }
    SECTION("any flipped byte") {
        for (std::size_t i = 0; i < good.size(); ++i) {
            auto b = good;
            b[i] ^= 0x20;
            write_bytes(path, b);
            CHECK_THROWS_AS(load(target, path), CheckpointError);
        }
        auto b = good;
        b[good.size() / 2] ^= 1;  // inside the values: only the checksum can tell
        rejects(b, "checksum mismatch");
    }
    SECTION("a corrupted length never allocates absurdly") {
        auto b = good;
        const std::size_t at = 8 + 4 + 4 + 8 + Mlp::name().size();  // the scalar type's length field
        for (int k = 0; k < 8; ++k) b[at + std::size_t(k)] = 0xFF;
        rejects(b, "scalar type has length 18446744073709551615, expected at most 65536 (at byte offset " +
                       std::to_string(at) + ")");
    }
    SECTION("non-finite values, when the caller asks") {
        saved.layer<0>().W(1, 2) = std::numeric_limits<float>::quiet_NaN();
        save(saved, path);
        CHECK_NOTHROW(load(target, path));
        Mlp fresh(2);
        const auto fresh_before = raw_parameters(fresh);
        CHECK_THROWS_WITH(load(fresh, path, LoadOptions{.check_finite = true}),
                          Contains("0.weight: expected a finite value, found nan"));
        CHECK(raw_parameters(fresh) == fresh_before);
    }
    SECTION("optimiser state asked for but absent") {
        SGD<float> opt;
        Rng rng;
        CHECK_THROWS_WITH(
            load(target, path, opt, rng),
            Contains("the caller asked for optimiser state: expected flag 1 set, found flags 0. Hint: the file was "
                     "saved without an optimiser; load the model alone (at byte offset 12)"));
    }
}

TEST_CASE("a saved file gets the mode of a new file, or keeps the mode of the one it replaces", "[serialize][atomic]") {
    const std::string path = temp_path("mode.nkpt");
    std::filesystem::remove(path);
    const ::mode_t saved_umask = ::umask(022);
    Mlp m(1);
    save(m, path);
    struct ::stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0644);  // 0666 less the umask, as any new file
    ::umask(077);
    std::filesystem::remove(path);
    save(m, path);
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    ::chmod(path.c_str(), 0640);
    save(m, path);  // replacing a file keeps its mode
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0640);
    ::umask(saved_umask);
}

TEST_CASE("a save killed half-way leaves the previous checkpoint intact", "[serialize][atomic]") {
    using Big = Sequential<Dense<float, 512, 512>, Tanh, Dense<float, 512, 512>>;  // ~2 MiB per save
    const std::string path = temp_path("atomic.nkpt");
    Big original(1);
    save(original, path);
    const std::vector<unsigned char> expected = raw_parameters(original);
    for (int attempt = 0; attempt < 6; ++attempt) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            Big other(2);
            for (;;) save(other, path);  // keeps replacing the file until killed
        }
        ::usleep(useconds_t(2000 + attempt * 7000));
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        Big loaded(3);
        REQUIRE_NOTHROW(load(loaded, path));  // whatever moment the kill hit, the file is complete
        const auto got = raw_parameters(loaded);
        Big other(2);
        CHECK((got == expected || got == raw_parameters(other)));
    }
    for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(path).parent_path()))
        if (e.path().filename().string().rfind("atomic.nkpt.tmp-", 0) == 0) std::filesystem::remove(e.path());
}

TEST_CASE("a save that runs out of space says so and leaves the previous checkpoint intact", "[serialize][atomic]") {
    using Big = Sequential<Dense<float, 256, 256>, Tanh, Dense<float, 256, 256>>;  // ~514 KiB per save
    const std::string path = temp_path("full-disk.nkpt");
    const auto dir = std::filesystem::path(path).parent_path();
    auto temporaries = [&] {
        int n = 0;
        for (const auto& e : std::filesystem::directory_iterator(dir))
            n += e.path().filename().string().rfind("full-disk.nkpt.tmp-", 0) == 0;
        return n;
    };
    Big original(1), other(2);
    save(original, path);
    const auto size = std::filesystem::file_size(path);
    {
        const FileSizeLimit limit(size / 2);  // the new file stops growing half-way, as on a full disk
        CHECK_THROWS_WITH(save(other, path), Contains(path + ": writing failed: File too large") &&
                                                 Contains("the previous file is unchanged"));
    }
    CHECK(std::filesystem::file_size(path) == size);
    CHECK(temporaries() == 0);  // the partial file is removed
    Big loaded(3);
    load(loaded, path);
    CHECK(raw_parameters(loaded) == raw_parameters(original));
    save(other, path);  // with space again, the same save succeeds
    load(loaded, path);
    CHECK(raw_parameters(loaded) == raw_parameters(other));
}

TEST_CASE("a transformer checkpoint written before the transformer became a composition still loads",
          "[serialize][compat]") {
    // tests/fixtures/transformer_before_composition.nkpt: Transformer<float, 11, 8, 16, 2, 2>(42) saved by
    // the hand-written transformer of commit 2d9c230. The composed model visits its parameters in the
    // same order, so the file loads and gives the model that seed 42 builds today, bit for bit.
    using M = Transformer<float, 11, 8, 16, 2, 2>;
    auto loaded = std::make_unique<M>(1);
    auto fresh = std::make_unique<M>(42);
    load(*loaded, NEURONKA_FIXTURE_DIR "/transformer_before_composition.nkpt");
    CHECK(raw_parameters(*loaded) == raw_parameters(*fresh));
    const std::vector<int> ids{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1};
    const Batch<float, 11> a = loaded->forward(ids, 6), b = fresh->forward(ids, 6);
    CHECK(a == b);
}

namespace {
// The values the version-1 fixtures were written with: value k of the j-th tensor in visiting order
// (parameters, then buffers) is sin(0.1 k + 0.01 j), a buffer's 1.5 + cos(0.1 k + 0.01 j).
template <class Model>
void check_fixture_values(Model& m) {
    using Scalar = typename Model::scalar_type;
    int j = 0;
    bool all = true;
    m.visit_parameters([&](ParamView<Scalar> p) {
        for (Eigen::Index k = 0; k < p.value.size(); ++k)
            all = all && p.value(k) == Scalar(std::sin(0.1 * double(k) + 0.01 * j));
        ++j;
    });
    detail::visit_buffers(m, [&](BufferView<Scalar> b) {
        for (Eigen::Index k = 0; k < b.value.size(); ++k)
            all = all && b.value(k) == Scalar(1.5 + std::cos(0.1 * double(k) + 0.01 * j));
        if (!b.counter) ++j;
    });
    CHECK(all);
}
template <class Model>
void check_version_1_fixture(const std::string& file) {
    INFO(file);
    Model m(3);
    load(m, std::string(NEURONKA_FIXTURE_DIR "/") + file);  // tensors named "W", "b", "E", "gamma", "W_ih", "w", ...
    check_fixture_values(m);
    // Saved again, the file is version 2: every tensor under its full PyTorch name.
    const std::string path = temp_path("v2_" + file);
    save(m, path);
    std::ifstream in(path, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), {}};
    CHECK(bytes[8] == 2);
    Model again(4);
    load(again, path);
    check_fixture_values(again);
    const auto tensors = state_tensors(m);
    std::size_t named = 0;
    for (const auto& t : tensors)
        named +=
            t.kind == TensorView<typename Model::scalar_type>::Kind::counter || bytes.find(t.name) != std::string::npos;
    CHECK(named == tensors.size());
}
}  // namespace

TEST_CASE("checkpoints written by neuronka 0.3 (format version 1, short tensor names) still load",
          "[serialize][compatibility]") {
    check_version_1_fixture<Sequential<Dense<float, 4, 8>, Tanh, Dense<float, 8, 3>>>("v1_mlp.nkpt");
    check_version_1_fixture<Neuron<double, 2>>("v1_neuron.nkpt");
    check_version_1_fixture<Sequential<Conv2D<float, 1, 4, 3, 8, 8>, BatchNorm2D<float, 4, 6, 6>, ReLU,
                                       MaxPool2D<float, 4, 6, 6, 2>, Dense<float, 36, 3>>>("v1_cnn.nkpt");
    using Recurrent = Sequential<Embedding<float, 6, 4>, GRU<float, 4, 5>, Dense<float, 5, 6>>;
    check_version_1_fixture<Recurrent>("v1_gru_adamw.nkpt");
    SECTION("with the optimiser's state and the generator") {
        Recurrent m(3);
        AdamW<float> opt;
        Rng rng(1);
        load(m, NEURONKA_FIXTURE_DIR "/v1_gru_adamw.nkpt", opt, rng);
        check_fixture_values(m);
        CHECK(opt.steps() == 1);
        std::size_t arrays = 0;
        opt.visit_state([&](auto& group) { arrays += group.size(); });
        CHECK(arrays == 2 * 7);  // first and second moments of 7 parameters
        Rng written(9);
        CHECK(rng.uniform() == written.uniform());
    }
}
