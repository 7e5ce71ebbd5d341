/// @file
/// @brief Weights exchanged with PyTorch and NumPy in the safetensors format: save_safetensors() and
/// load_safetensors(), with the names and shapes of the equivalent PyTorch module's `state_dict`
/// (docs/interop.md lists every layer's).
///
/// A safetensors file is an 8-byte little-endian header length N, N bytes of JSON giving each
/// tensor's dtype, shape and byte range, then the little-endian data. The JSON is read and written
/// with nlohmann/json (Debian's nlohmann-json3-dev): this header needs it, the rest of neuronka does
/// not; link the CMake target neuronka::safetensors. Loading checks every name, dtype, shape and byte
/// range before it changes anything; saving is atomic, as for checkpoints (serialize.hpp).
#pragma once

#include "../core/layer.hpp"
#include "../version.hpp"
#include "safetensors_header.hpp"
#include "safetensors_mapping.hpp"
#include "serialize.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>
#include "../detail/bit_cast.hpp"

namespace neuronka {

/// The bytes of a safetensors file holding every tensor of `model` (see save_safetensors()).
template <class Model>
std::vector<unsigned char> safetensors_bytes(Model& model) {
    namespace st = detail::safetensors;
    using Scalar = typename Model::scalar_type;
    using View = TensorView<Scalar>;
    const std::vector<View> tensors = state_tensors(model);
    nlohmann::ordered_json header;
    header["__metadata__"] = {
        {"format", "pt"},
        {"neuronka.model", Model::name()},
        {"neuronka.version", std::to_string(NEURONKA_VERSION_MAJOR) + "." + std::to_string(NEURONKA_VERSION_MINOR) +
                                 "." + std::to_string(NEURONKA_VERSION_PATCH)}};
    std::uint64_t offset = 0;
    for (const View& t : tensors) {
        if (header.contains(t.name))
            throw SafetensorsError(
                Model::name() + ": two tensors are named \"" + t.name +
                "\". Hint: each tensor of a layer needs its own name in visit_parameters and visit_buffers, and a "
                "composite its own visit_tensors(prefix, f) giving each member a prefix (docs/layer-concept.md)");
        const bool counter = t.kind == View::Kind::counter;
        const std::uint64_t n = std::uint64_t(t.size()) * (counter ? 8 : sizeof(Scalar));
        header[t.name] = {{"dtype", counter ? "I64" : st::dtype_of<Scalar>()},
                          {"shape", t.shape},
                          {"data_offsets", {offset, offset + n}}};
        offset += n;
    }
    std::string json = header.dump();
    json.append((8 - json.size() % 8) % 8, ' ');  // the data starts 8-byte aligned
    std::vector<unsigned char> bytes;
    bytes.reserve(8 + json.size() + offset);
    st::write_le(bytes, json.size(), 8);
    bytes.insert(bytes.end(), json.begin(), json.end());
    for (const View& t : tensors) {
        if (t.kind == View::Kind::counter) {
            st::write_le(bytes, std::uint64_t(*t.counter), 8);
            continue;
        }
        for (std::int64_t i = 0; i < t.size(); ++i) {
            const Scalar v = t.data[t.storage_index(i)];
            if constexpr (sizeof(Scalar) == 8)
                st::write_le(bytes, neuronka::detail::bit_cast<std::uint64_t>(v), 8);
            else
                st::write_le(bytes, neuronka::detail::bit_cast<std::uint32_t>(v), 4);
        }
    }
    return bytes;
}

/**
 * @brief Saves every tensor of `model` to `path` as safetensors, named as the equivalent PyTorch
 * module's `state_dict` (docs/interop.md), in the model's scalar type (F32 or F64), with
 * `__metadata__` giving `neuronka.model` (the type's name) and `neuronka.version`. Atomic: the path
 * holds the previous file or the complete new one. Optimiser state is not saved (use save()).
 */
template <class Model>
void save_safetensors(Model& model, const std::string& path) {
    detail::write_atomically<SafetensorsError>(path, safetensors_bytes(model));
}

namespace detail::safetensors {
/// load_safetensors_bytes() with a mapping: every check before anything changes.
template <class Model>
LoadReport load_mapped(Model& model, const std::vector<unsigned char>& bytes, const std::string& source,
                       const SafetensorsMapping& m, LoadOptions o) {
    using Scalar = typename Model::scalar_type;
    using View = TensorView<Scalar>;
    LoadReport report;
    std::uint64_t data_start = 0;
    const std::vector<Entry> entries = parse_header(bytes, source, report.metadata, data_start);
    std::map<std::string, const Entry*> by_name;  // by model name
    for (const auto& e : entries) {
        const std::optional<std::string> name = model_name(m, e.name);
        if (!name) {
            report.skipped.push_back(e.name);
            continue;
        }
        const auto [at, fresh] = by_name.emplace(*name, &e);
        if (!fresh)
            throw SafetensorsError(source + ": tensors \"" + at->second->name + "\" and \"" + e.name +
                                   "\" both map to \"" + *name + "\". Hint: check the mapping's prefixes and renames");
    }
    const auto find = [&](const std::string& name) -> const Entry* {
        const auto found = by_name.find(name);
        return found == by_name.end() ? nullptr : found->second;
    };

    const std::vector<View> tensors = state_tensors(model);
    std::set<std::string> expected_names;
    // What each model tensor gets, checked before anything changes: its file entry (and whether it
    // is stored transposed), else zeros, else (not strict) its own values. The values are read from
    // the file once, when everything is valid: no second copy of the weights is made.
    std::vector<const Entry*> from(tensors.size(), nullptr);
    std::vector<char> transposed_source(tensors.size(), 0);
    std::vector<std::int64_t> counters(tensors.size(), -1);
    std::vector<char> zero(tensors.size(), 0), keep(tensors.size(), 0);
    // value i of the model's tensor t (row-major, PyTorch's order) in entry e: a transposed 2-D
    // tensor (rows, cols) holds it at (i % cols, i / cols)
    const auto file_value = [&](const View& t, const Entry& e, bool transposed, std::uint64_t i) {
        const std::uint64_t rows = transposed ? std::uint64_t(t.shape[0]) : 1,
                            cols = transposed ? std::uint64_t(t.shape[1]) : 1;
        const std::uint64_t at = transposed ? (i % cols) * rows + i / cols : i;
        return Scalar(value(e.dtype, bytes.data() + data_start + e.begin, at));
    };
    for (std::size_t k = 0; k < tensors.size(); ++k) {
        const View& t = tensors[k];
        expected_names.insert(t.name);
        const bool counter = t.kind == View::Kind::counter;
        const Entry* found = find(t.name);
        for (const auto& [target, from] : m.copy)
            if (!found && target == t.name) found = find(from);
        if (!found) {
            if (matches_any(m.zero, t.name)) {
                zero[k] = 1;
                continue;
            }
            if (counter) continue;  // PyTorch itself accepts a state_dict without num_batches_tracked
            if (!m.strict) {
                keep[k] = 1;
                report.missing.push_back(t.name);
                continue;
            }
            std::string held;
            for (std::size_t i = 0; i < entries.size() && i < 8; ++i) held += (i ? ", " : "") + entries[i].name;
            throw SafetensorsError(source + ": tensor \"" + t.name + "\" (" + shape_string(t.shape) +
                                   ") is missing; the file holds " + std::to_string(entries.size()) + " tensors (" +
                                   held + (entries.size() > 8 ? ", ..." : "") +
                                   "). Hint: names follow PyTorch's state_dict of the same layers (docs/interop.md)");
        }
        const Entry& e = *found;
        auto fail = [&](const std::string& what) {
            throw SafetensorsError(source + ": tensor \"" + t.name + "\"" +
                                   (e.name == t.name ? "" : " (\"" + e.name + "\" in the file)") + ": " + what +
                                   " (data at byte offset " + std::to_string(data_start + e.begin) + ")");
        };
        const bool known = e.dtype.bytes != 0;
        if (counter ? e.dtype.kind != Dtype::Kind::i64 : (!known || e.dtype.kind == Dtype::Kind::i64))
            fail(std::string("dtype: expected ") + (counter ? "I64" : "F32, F64, F16 or BF16") + ", found " +
                 e.dtype.name);
        const bool transposed = !counter && matches_any(m.transpose, t.name);
        if (transposed && t.shape.size() != 2)
            fail("the mapping transposes it, but it has " + std::to_string(t.shape.size()) + " dimensions, not 2");
        const std::vector<std::int64_t> shape =
            transposed ? std::vector<std::int64_t>{t.shape[1], t.shape[0]} : t.shape;
        if (e.shape != shape)
            fail("shape: expected " + shape_string(shape) + (transposed ? " (stored transposed)" : "") + ", found " +
                 shape_string(e.shape));
        const std::uint64_t count = std::uint64_t(t.size());
        if (e.end - e.begin != count * e.dtype.bytes)
            fail("data_offsets: expected " + std::to_string(count * e.dtype.bytes) + " bytes (" +
                 std::to_string(count) + " " + e.dtype.name + " values), found " + std::to_string(e.end - e.begin));
        const unsigned char* p = bytes.data() + data_start + e.begin;
        if (counter) {
            counters[k] = std::int64_t(read_le(p, 8));
            if (counters[k] < 0) fail("expected a count of at least 0, found " + std::to_string(counters[k]));
            continue;
        }
        from[k] = &e, transposed_source[k] = transposed;
        if (o.check_finite)
            for (std::uint64_t i = 0; i < count; ++i)
                if (const Scalar v = file_value(t, e, transposed, i); !std::isfinite(v))
                    fail("value " + std::to_string(i) + ": expected a finite value, found " + std::to_string(v));
    }
    for (const auto& [name, e] : by_name) {
        if (expected_names.count(name)) continue;
        if (!m.strict) {
            report.unused.push_back(e->name);
            continue;
        }
        throw SafetensorsError(source + ": the file holds tensor \"" + e->name + "\" " + shape_string(e->shape) +
                               (name == e->name ? "" : " (mapped to \"" + name + "\")") + ", which " + Model::name() +
                               " does not have (it has " + std::to_string(tensors.size()) +
                               " tensors). Hint: is the file for another model? state_tensors(model) lists the "
                               "expected names");
    }

    // Everything is valid: commit.
    for (std::size_t k = 0; k < tensors.size(); ++k) {
        const View& t = tensors[k];
        if (t.kind == View::Kind::counter) {
            if (counters[k] >= 0) *t.counter = counters[k];
            continue;
        }
        if (keep[k]) continue;
        for (std::int64_t i = 0; i < t.size(); ++i)
            t.data[t.storage_index(i)] =
                zero[k] ? Scalar(0) : file_value(t, *from[k], transposed_source[k], std::uint64_t(i));
    }
    return report;
}
}  // namespace detail::safetensors

/// Loads `model` from safetensors bytes in memory (what load_safetensors() does after reading the
/// file); `source` names them in errors. Returns the file's `__metadata__`.
template <class Model>
std::map<std::string, std::string> load_safetensors_bytes(Model& model, const std::vector<unsigned char>& bytes,
                                                          const std::string& source, LoadOptions o = {}) {
    return detail::safetensors::load_mapped(model, bytes, source, SafetensorsMapping{}, o).metadata;
}

/// Loads `model` from safetensors bytes in memory through `mapping` (see SafetensorsMapping):
/// what load_safetensors(model, path, mapping) does after reading the file.
template <class Model>
LoadReport load_safetensors_bytes(Model& model, const std::vector<unsigned char>& bytes, const std::string& source,
                                  const SafetensorsMapping& mapping, LoadOptions o = {}) {
    return detail::safetensors::load_mapped(model, bytes, source, mapping, o);
}

/// Loads `model` from the safetensors file at `path`: every tensor of the model must be there with
/// its name, shape and a floating-point dtype (F32, F64, F16 and BF16 are converted to the model's
/// type), and the file may hold nothing else. Nothing changes unless the whole file is valid.
/// Returns the file's `__metadata__`.
template <class Model>
std::map<std::string, std::string> load_safetensors(Model& model, const std::string& path, LoadOptions o = {}) {
    return load_safetensors(model, path, SafetensorsMapping{}, o).metadata;
}

/// Loads `model` from the safetensors file at `path` written by another program, through `mapping`
/// (renames, transposed layouts, tensors skipped, copied or zeroed, strict or not: see
/// SafetensorsMapping). Every check passes before anything changes: on any error the model is as
/// it was. Returns what the file lacked, what it held that the model does not use, and its metadata.
template <class Model>
LoadReport load_safetensors(Model& model, const std::string& path, const SafetensorsMapping& mapping,
                            LoadOptions o = {}) {
    std::uint64_t values = 0;
    for (const auto& t : state_tensors(model)) values += std::uint64_t(t.size());
    // the largest file a model may come from: a header, 8 bytes per value, and as much again of
    // tensors a non-strict mapping ignores or skips
    const std::uint64_t limit = 8 + detail::safetensors::max_header_bytes + 16 * values + (1ull << 20);
    return detail::safetensors::load_mapped(model, detail::read_file<SafetensorsError>(path, limit, "safetensors file"),
                                            path, mapping, o);
}

}  // namespace neuronka
