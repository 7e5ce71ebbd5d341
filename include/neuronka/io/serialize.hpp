/// @file
/// @brief Checkpoints: save and load a model, optionally with its optimiser's state and the random
/// generator, in a documented, checksummed, little-endian format (docs/checkpoint-format.md).
///
/// Loading validates everything before it touches the model: a bad file throws CheckpointError
/// naming the byte offset, what was expected and what was found, and the model is left exactly as
/// it was. Saving writes a temporary file in the same directory, flushes it to disk and renames it
/// over the target, so a crash during a save leaves the previous checkpoint intact.
#pragma once

#include "../core/layer.hpp"
#include "../core/random.hpp"
#include "../detail/atomic_file.hpp"
#include "../detail/crc32.hpp"
#include "checkpoint_format.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>
#include "../detail/bit_cast.hpp"

namespace neuronka {

/// Options of load().
struct LoadOptions {
    bool check_finite = false;  ///< reject parameters or optimiser state that are NaN or infinite
};

/// The bytes of a checkpoint of `model` (and of `opt` and `rng` when given). See save().
template <class Model, class Opt = detail::NoOptimizer>
std::vector<unsigned char> checkpoint_bytes(Model& model, Opt* opt = nullptr, const Rng* rng = nullptr) {
    using Scalar = typename Model::scalar_type;
    detail::Writer w;
    w.bytes.insert(w.bytes.end(), std::begin(detail::checkpoint_magic), std::end(detail::checkpoint_magic));
    w.u32(detail::checkpoint_version);
    const detail::CheckpointTensors<Model> t(model);
    w.u32((opt ? detail::has_optimizer : 0) | (rng ? detail::has_rng : 0) |
          (t.buffers.empty() ? 0 : detail::has_buffers));
    w.str(Model::name());
    w.str(detail::scalar_name<Scalar>());
    w.u64(t.params.size());
    for (std::size_t i = 0; i < t.params.size(); ++i)
        w.str(t.param_names[i]), w.values(t.params[i].value.data(), std::size_t(t.params[i].value.size()));
    if (!t.buffers.empty()) {  // only for models that have buffers: other files are unchanged
        w.u64(t.buffers.size());
        for (std::size_t i = 0; i < t.buffers.size(); ++i)
            w.str(t.buffer_names[i]), w.values(t.buffers[i].value.data(), std::size_t(t.buffers[i].value.size()));
    }
    if (opt) {
        w.str(Opt::kind);
        w.u64(opt->steps());
        std::uint64_t groups = 0;
        opt->visit_state([&](auto&) { ++groups; });
        w.u64(groups);
        opt->visit_state([&](auto& arrays) {
            w.u64(arrays.size());
            for (const auto& a : arrays) w.values(a.data(), std::size_t(a.size()));
        });
    }
    if (rng)
        for (int i = 0; i < 4; ++i) w.u64(rng->state()[i]);
    w.u32(detail::crc32(w.bytes.data(), w.bytes.size()));
    return w.bytes;
}

/// Saves `model` atomically to `path`: the path holds the previous file or the complete new one.
/// The argument order is that of save_safetensors(): the model, then where it goes.
template <class Model>
requires(!std::is_convertible_v<Model&, const std::string&>) void save(Model& model, const std::string& path) {
    detail::write_atomically<CheckpointError>(path, checkpoint_bytes(model));
}
/// Saves `model`, the optimiser's state and the generator, so that training can resume exactly.
template <class Model, class Opt>
requires(!std::is_convertible_v<Model&, const std::string&>) void save(Model& model, const std::string& path, Opt& opt,
                                                                       const Rng& rng) {
    detail::write_atomically<CheckpointError>(path, checkpoint_bytes(model, &opt, &rng));
}
/// The earlier argument order, path first: still works, and will be removed in a later version.
template <class Model>
[[deprecated("neuronka: write save(model, path), model first as in save_safetensors()")]] void save(
    const std::string& path, Model& model) {
    save(model, path);
}
/// The earlier argument order, path first: still works, and will be removed in a later version.
template <class Model, class Opt>
[[deprecated("neuronka: write save(model, path, opt, rng), model first as in save_safetensors()")]] void save(
    const std::string& path, Model& model, Opt& opt, const Rng& rng) {
    save(model, path, opt, rng);
}

/// Loads from bytes in memory (what load() does after reading the file); `source` names them in errors.
template <class Model, class Opt = detail::NoOptimizer>
void load_bytes(const std::vector<unsigned char>& bytes, const std::string& source, Model& model, Opt* opt = nullptr,
                Rng* rng = nullptr, LoadOptions o = {}) {
    using Scalar = typename Model::scalar_type;
    using Array = Eigen::Array<Scalar, Eigen::Dynamic, 1>;
    detail::Reader r{bytes, source};
    r.need(8, "magic");
    if (!std::equal(std::begin(detail::checkpoint_magic), std::end(detail::checkpoint_magic), bytes.begin())) {
        std::string found;
        for (int i = 0; i < 8; ++i) {
            const unsigned char c = bytes[std::size_t(i)];
            const char hex[] = "0123456789abcdef";
            found += c >= 32 && c < 127 && c != '\\' && c != '"' ? std::string(1, char(c))
                                                                 : std::string("\\x") + hex[c >> 4] + hex[c & 15];
        }
        r.fail("not a neuronka checkpoint: wrong magic, expected \"NRNKCKPT\", found \"" + found + "\"");
    }
    r.pos = 8;
    const std::uint32_t version = r.u32("format version");
    if (version < detail::oldest_checkpoint_version || version > detail::checkpoint_version)
        r.pos -= 4, r.fail("unknown format version " + std::to_string(version) + ", expected " +
                           std::to_string(detail::oldest_checkpoint_version) + " to " +
                           std::to_string(detail::checkpoint_version));
    const std::uint32_t flags = r.u32("flags");
    constexpr std::size_t flags_at = 12;
    if (flags & ~(detail::has_optimizer | detail::has_rng | detail::has_buffers))
        r.pos = flags_at,
        r.fail("unknown flags: expected a sum of 1 (optimiser state), 2 (generator) and 4 (buffers), found " +
               std::to_string(flags));
    detail::CheckpointTensors<Model> tensors(model);
    auto& params = tensors.params;
    auto& buffers = tensors.buffers;
    if (bool(flags & detail::has_buffers) != !buffers.empty())
        r.pos = flags_at,
        r.fail(buffers.empty() ? "the checkpoint holds buffers (running statistics), but the model has none"
                               : "the checkpoint holds no buffers, but the model has " +
                                     std::to_string(buffers.size()) + " (running statistics)");
    r.expect_str(Model::name(), "model description");
    r.expect_str(detail::scalar_name<Scalar>(), "scalar type");

    // The model's parameters: the checkpoint must list the same ones, of the same sizes (and from
    // version 2 the same names).
    auto name = [&](const std::string& expected, const char* what) {
        if (version >= 2)
            r.expect_str(expected, what);
        else
            r.str(what);
    };
    const std::size_t at = r.pos;
    const std::uint64_t count = r.u64("parameter count");
    if (count != params.size())
        r.pos = at, r.fail("expected " + std::to_string(params.size()) + " parameters, found " + std::to_string(count));
    std::vector<std::vector<Scalar>> values;
    for (std::size_t i = 0; i < params.size(); ++i) {
        name(tensors.param_names[i], "parameter name");
        values.push_back(r.template values<Scalar>(std::uint64_t(params[i].value.size()),
                                                   tensors.param_names[i].c_str(), o.check_finite));
    }
    // The model's buffers (running statistics), when it has any: same names and sizes.
    std::vector<std::vector<Scalar>> buffer_values;
    if (!buffers.empty()) {
        const std::size_t buffers_at = r.pos;
        const std::uint64_t stored = r.u64("buffer count");
        if (stored != buffers.size())
            r.pos = buffers_at,
            r.fail("expected " + std::to_string(buffers.size()) + " buffers, found " + std::to_string(stored));
        for (std::size_t i = 0; i < buffers.size(); ++i) {
            name(tensors.buffer_names[i], "buffer name");
            buffer_values.push_back(r.template values<Scalar>(std::uint64_t(buffers[i].value.size()),
                                                              tensors.buffer_names[i].c_str(), o.check_finite));
        }
    }
    // The optimiser's state, if present.
    const bool stored_opt = flags & detail::has_optimizer;
    std::size_t steps = 0;
    std::vector<std::vector<Array>> state;
    if (stored_opt) {
        if (opt)
            r.expect_str(Opt::kind, "optimiser kind");
        else
            r.str("optimiser kind");
        steps = std::size_t(r.u64("optimiser step count"));
        const std::uint64_t groups = r.u64("optimiser state groups");
        std::size_t expected_groups = 0;
        if (opt) opt->visit_state([&](auto&) { ++expected_groups; });
        if (opt && groups != expected_groups)
            r.pos -= 8, r.fail("optimiser state: expected " + std::to_string(expected_groups) + " groups, found " +
                               std::to_string(groups));
        if (groups > 16)
            r.pos -= 8, r.fail("optimiser state: expected at most 16 groups, found " + std::to_string(groups));
        for (std::uint64_t g = 0; g < groups; ++g) {
            const std::uint64_t arrays = r.u64("optimiser state arrays");
            if (arrays != 0 && arrays != params.size())
                r.pos -= 8, r.fail("optimiser state has " + std::to_string(arrays) + " arrays, expected 0 or " +
                                   std::to_string(params.size()));
            state.emplace_back();
            for (std::uint64_t a = 0; a < arrays; ++a) {
                const std::vector<Scalar> v =
                    r.template values<Scalar>(std::uint64_t(params[a].value.size()), "optimiser state", o.check_finite);
                state.back().push_back(Eigen::Map<const Array>(v.data(), Eigen::Index(v.size())));
            }
        }
    } else if (opt) {
        r.pos = flags_at,
        r.fail("the caller asked for optimiser state: expected flag 1 set, found flags " + std::to_string(flags) +
               ". Hint: the file was saved without an optimiser; load the model alone");
    }
    std::uint64_t rng_state[4] = {};
    if (flags & detail::has_rng) {
        for (auto& s : rng_state) s = r.u64("generator state");
    } else if (rng) {
        r.pos = flags_at,
        r.fail("the caller asked for the generator state: expected flag 2 set, found flags " + std::to_string(flags) +
               ". Hint: the file was saved without a generator; load the model alone");
    }
    if (bytes.size() - r.pos != 4) {
        if (bytes.size() - r.pos < 4) r.need(4, "checksum");
        r.fail(std::to_string(bytes.size() - r.pos - 4) + " unexpected bytes after the last block (file is over-long)");
    }
    const std::uint32_t stored = r.u32("checksum"), computed = detail::crc32(bytes.data(), bytes.size() - 4);
    if (stored != computed)
        r.pos -= 4, r.fail("checksum mismatch: stored " + std::to_string(stored) + ", computed " +
                           std::to_string(computed) + " (the file is corrupted)");

    // Everything is valid: commit.
    for (std::size_t i = 0; i < params.size(); ++i)
        std::copy(values[i].begin(), values[i].end(), params[i].value.begin());
    for (std::size_t i = 0; i < buffers.size(); ++i)
        std::copy(buffer_values[i].begin(), buffer_values[i].end(), buffers[i].value.begin());
    if (opt) {
        std::size_t g = 0;
        opt->visit_state([&](auto& arrays) { arrays = state[g++]; });
        opt->set_steps(steps);
    }
    if (rng) rng->set_state(rng_state);
}

/// Number of trainable scalars of a model object.
template <class Model>
std::size_t model_size(Model& model) {
    std::size_t n = 0;
    model.visit_parameters([&](auto p) { n += std::size_t(p.value.size()); });
    return n;
}

/// Loads `model` from `path`. The file must describe a model of the same type (layer kinds, sizes,
/// scalar type); nothing is changed unless the whole file is valid. The argument order is that of
/// load_safetensors(): the model, then where it comes from.
template <class Model>
requires(!std::is_convertible_v<Model&, const std::string&>) void load(Model& model, const std::string& path,
                                                                       LoadOptions o = {}) {
    const std::uint64_t limit = checkpoint_bytes(model).size() + (std::uint64_t(1) << 20) +
                                3 * sizeof(typename Model::scalar_type) * std::uint64_t(model_size(model));
    load_bytes(detail::read_file<CheckpointError>(path, limit, "checkpoint"), path, model,
               static_cast<detail::NoOptimizer*>(nullptr), nullptr, o);
}
/// Loads `model`, the optimiser's state and the generator from `path` (saved by the matching save()).
template <class Model, class Opt>
requires(!std::is_convertible_v<Model&, const std::string&>) void load(Model& model, const std::string& path, Opt& opt,
                                                                       Rng& rng, LoadOptions o = {}) {
    const std::uint64_t limit = checkpoint_bytes(model).size() + (std::uint64_t(1) << 20) +
                                3 * sizeof(typename Model::scalar_type) * std::uint64_t(model_size(model));
    load_bytes(detail::read_file<CheckpointError>(path, limit, "checkpoint"), path, model, &opt, &rng, o);
}
/// The earlier argument order, path first: still works, and will be removed in a later version.
template <class Model>
[[deprecated("neuronka: write load(model, path), model first as in load_safetensors()")]] void load(
    const std::string& path, Model& model, LoadOptions o = {}) {
    load(model, path, o);
}
/// The earlier argument order, path first: still works, and will be removed in a later version.
template <class Model, class Opt>
[[deprecated("neuronka: write load(model, path, opt, rng), model first as in load_safetensors()")]] void load(
    const std::string& path, Model& model, Opt& opt, Rng& rng, LoadOptions o = {}) {
    load(model, path, opt, rng, o);
}

}  // namespace neuronka
