/// @file
/// @brief The checkpoint format's pieces (docs/checkpoint-format.md): its constants, the tensors a
/// checkpoint holds with their full names, and the bounds-checked little-endian writer and reader that
/// io/serialize.hpp's save() and load() are made of.
#pragma once

#include "../core/layer.hpp"
#include "../detail/atomic_file.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>
#include "../detail/bit_cast.hpp"

namespace neuronka {

namespace detail {

inline constexpr unsigned char checkpoint_magic[8] = {'N', 'R', 'N', 'K', 'C', 'K', 'P', 'T'};
/// Version 2 names each tensor by its full PyTorch name ("0.weight"); version 1 (neuronka 0.3 and
/// earlier) by the layer's short name ("W"), which loading reads but does not compare (the model
/// description already fixes every tensor's place and size).
inline constexpr std::uint32_t checkpoint_version = 2;
inline constexpr std::uint32_t oldest_checkpoint_version = 1;
inline constexpr std::uint32_t has_optimizer = 1, has_rng = 2, has_buffers = 4;
inline constexpr std::uint64_t max_string = 1 << 16;

/// The model's parameters and buffers as checkpoints store them, in visiting order: each with its
/// full name ("0.weight", "1.running_mean"), made from the same declarations as safetensors' names.
/// Counters (BatchNorm's num_batches_tracked) are not part of a checkpoint.
template <class Model>
struct CheckpointTensors {
    using Scalar = typename Model::scalar_type;
    std::vector<ParamView<Scalar>> params;               ///< model.visit_parameters order
    std::vector<BufferView<Scalar>> buffers;             ///< the model's visit_buffers order, counters left out
    std::vector<std::string> param_names, buffer_names;  ///< their full names

    explicit CheckpointTensors(Model& model) {
        model.visit_parameters([&](ParamView<Scalar> p) { params.push_back(p); });
        visit_buffers(model, [&](BufferView<Scalar> b) {
            if (!b.counter) buffers.push_back(b);
        });
        visit_tensors(model, "", [&](TensorView<Scalar> t) {
            if (t.kind == TensorView<Scalar>::Kind::parameter)
                param_names.push_back(std::move(t.name));
            else if (t.kind == TensorView<Scalar>::Kind::buffer)
                buffer_names.push_back(std::move(t.name));
        });
        NEURONKA_ASSERT(param_names.size() == params.size() && buffer_names.size() == buffers.size(),
                        "checkpoint: visit_tensors and visit_parameters/visit_buffers disagree");
    }
};

template <class Scalar>
constexpr const char* scalar_name() {
    return std::is_same_v<Scalar, float> ? "float32" : "float64";
}

/// Appends little-endian fields to a byte buffer.
struct Writer {
    std::vector<unsigned char> bytes;
    void u32(std::uint32_t v) {
        for (int i = 0; i < 4; ++i) bytes.push_back((unsigned char)(v >> (8 * i)));
    }
    void u64(std::uint64_t v) {
        for (int i = 0; i < 8; ++i) bytes.push_back((unsigned char)(v >> (8 * i)));
    }
    void str(const std::string& s) {
        u64(s.size());
        bytes.insert(bytes.end(), s.begin(), s.end());
    }
    template <class Scalar>
    void values(const Scalar* p, std::size_t n) {
        u64(n);
        for (std::size_t i = 0; i < n; ++i) {
            if constexpr (sizeof(Scalar) == 4)
                u32(neuronka::detail::bit_cast<std::uint32_t>(p[i]));
            else
                u64(neuronka::detail::bit_cast<std::uint64_t>(p[i]));
        }
    }
};

/// Reads little-endian fields with a bounds check before every read.
struct Reader {
    const std::vector<unsigned char>& data;
    std::string path;
    std::size_t pos = 0;

    [[noreturn]] void fail(const std::string& what) const {
        throw CheckpointError(path + ": " + what + " (at byte offset " + std::to_string(pos) + ")");
    }
    void need(std::uint64_t n, const char* what) const {
        if (n > data.size() - pos)
            fail(std::string("file is truncated: ") + what + " needs " + std::to_string(n) + " bytes, only " +
                 std::to_string(data.size() - pos) + " remain");
    }
    std::uint32_t u32(const char* what) {
        need(4, what);
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) v |= std::uint32_t(data[pos + i]) << (8 * i);
        pos += 4;
        return v;
    }
    std::uint64_t u64(const char* what) {
        need(8, what);
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v |= std::uint64_t(data[pos + i]) << (8 * i);
        pos += 8;
        return v;
    }
    std::string str(const char* what) {
        const std::size_t at = pos;
        const std::uint64_t n = u64(what);
        if (n > max_string)
            pos = at, fail(std::string(what) + " has length " + std::to_string(n) + ", expected at most " +
                           std::to_string(max_string));
        need(n, what);
        std::string s(data.begin() + long(pos), data.begin() + long(pos + n));
        pos += n;
        return s;
    }
    /// A string that must equal `expected`; a mismatch is reported at the string's own offset.
    void expect_str(const std::string& expected, const char* what) {
        const std::size_t at = pos;
        const std::string found = str(what);
        if (found != expected)
            pos = at, fail(std::string(what) + ": expected \"" + expected + "\", found \"" + found + "\"");
    }
    /// A block of values whose count must be `expected` (checked before anything is allocated).
    template <class Scalar>
    std::vector<Scalar> values(std::uint64_t expected, const char* what, bool check_finite) {
        const std::size_t at = pos;
        const std::uint64_t n = u64(what);
        if (n != expected)
            pos = at,
            fail(std::string(what) + ": expected " + std::to_string(expected) + " values, found " + std::to_string(n));
        need(n * sizeof(Scalar), what);
        std::vector<Scalar> v(n);
        for (auto& x : v) {
            if constexpr (sizeof(Scalar) == 4)
                x = neuronka::detail::bit_cast<Scalar>(u32(what));
            else
                x = neuronka::detail::bit_cast<Scalar>(u64(what));
            if (check_finite && !std::isfinite(x))
                pos -= sizeof(Scalar),
                    fail(std::string(what) + ": expected a finite value, found " + std::to_string(x));
        }
        return v;
    }
};

/// No optimiser: the model (and generator) only.
struct NoOptimizer {
    static constexpr const char* kind = "none";
    std::size_t steps() const { return 0; }
    void set_steps(std::size_t) {}
    template <class F>
    void visit_state(F&&) {}
};

}  // namespace detail

}  // namespace neuronka
