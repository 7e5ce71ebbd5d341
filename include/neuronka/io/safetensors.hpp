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
#include "serialize.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

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
                st::write_le(bytes, std::bit_cast<std::uint64_t>(v), 8);
            else
                st::write_le(bytes, std::bit_cast<std::uint32_t>(v), 4);
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

/// Loads `model` from safetensors bytes in memory (what load_safetensors() does after reading the
/// file); `source` names them in errors. Returns the file's `__metadata__`.
template <class Model>
std::map<std::string, std::string> load_safetensors_bytes(Model& model, const std::vector<unsigned char>& bytes,
                                                          const std::string& source, LoadOptions o = {}) {
    namespace st = detail::safetensors;
    using Scalar = typename Model::scalar_type;
    using View = TensorView<Scalar>;
    std::map<std::string, std::string> metadata;
    std::uint64_t data_start = 0;
    const std::vector<st::Entry> entries = st::parse_header(bytes, source, metadata, data_start);
    std::map<std::string, const st::Entry*> by_name;
    for (const auto& e : entries) by_name[e.name] = &e;

    const std::vector<View> tensors = state_tensors(model);
    std::set<std::string> expected_names;
    std::vector<std::vector<Scalar>> values(tensors.size());
    std::vector<std::int64_t> counters(tensors.size(), -1);
    for (std::size_t k = 0; k < tensors.size(); ++k) {
        const View& t = tensors[k];
        expected_names.insert(t.name);
        const bool counter = t.kind == View::Kind::counter;
        const auto found = by_name.find(t.name);
        if (found == by_name.end()) {
            if (counter) continue;  // PyTorch itself accepts a state_dict without num_batches_tracked
            std::string held;
            for (std::size_t i = 0; i < entries.size() && i < 8; ++i) held += (i ? ", " : "") + entries[i].name;
            throw SafetensorsError(source + ": tensor \"" + t.name + "\" (" + st::shape_string(t.shape) +
                                   ") is missing; the file holds " + std::to_string(entries.size()) + " tensors (" +
                                   held + (entries.size() > 8 ? ", ..." : "") +
                                   "). Hint: names follow PyTorch's state_dict of the same layers (docs/interop.md)");
        }
        const st::Entry& e = *found->second;
        auto fail = [&](const std::string& what) {
            throw SafetensorsError(source + ": tensor \"" + t.name + "\": " + what + " (data at byte offset " +
                                   std::to_string(data_start + e.begin) + ")");
        };
        const bool known = e.dtype.bytes != 0;
        if (counter ? e.dtype.kind != st::Dtype::Kind::i64 : (!known || e.dtype.kind == st::Dtype::Kind::i64))
            fail(std::string("dtype: expected ") + (counter ? "I64" : "F32, F64, F16 or BF16") + ", found " +
                 e.dtype.name);
        if (e.shape != t.shape)
            fail("shape: expected " + st::shape_string(t.shape) + ", found " + st::shape_string(e.shape));
        const std::uint64_t count = std::uint64_t(t.size());
        if (e.end - e.begin != count * e.dtype.bytes)
            fail("data_offsets: expected " + std::to_string(count * e.dtype.bytes) + " bytes (" +
                 std::to_string(count) + " " + e.dtype.name + " values), found " + std::to_string(e.end - e.begin));
        const unsigned char* p = bytes.data() + data_start + e.begin;
        if (counter) {
            counters[k] = std::int64_t(st::read_le(p, 8));
            if (counters[k] < 0) fail("expected a count of at least 0, found " + std::to_string(counters[k]));
            continue;
        }
        values[k].resize(count);
        for (std::uint64_t i = 0; i < count; ++i) {
            values[k][i] = Scalar(st::value(e.dtype, p, i));
            if (o.check_finite && !std::isfinite(values[k][i]))
                fail("value " + std::to_string(i) + ": expected a finite value, found " + std::to_string(values[k][i]));
        }
    }
    for (const auto& e : entries)
        if (!expected_names.count(e.name))
            throw SafetensorsError(
                source + ": the file holds tensor \"" + e.name + "\" " + st::shape_string(e.shape) + ", which " +
                Model::name() + " does not have (it has " + std::to_string(tensors.size()) +
                " tensors). Hint: is the file for another model? state_tensors(model) lists the expected names");

    // Everything is valid: commit.
    for (std::size_t k = 0; k < tensors.size(); ++k) {
        const View& t = tensors[k];
        if (t.kind == View::Kind::counter) {
            if (counters[k] >= 0) *t.counter = counters[k];
            continue;
        }
        for (std::int64_t i = 0; i < t.size(); ++i) t.data[t.storage_index(i)] = values[k][std::size_t(i)];
    }
    return metadata;
}

/// Loads `model` from the safetensors file at `path`: every tensor of the model must be there with
/// its name, shape and a floating-point dtype (F32, F64, F16 and BF16 are converted to the model's
/// type), and the file may hold nothing else. Nothing changes unless the whole file is valid.
/// Returns the file's `__metadata__`.
template <class Model>
std::map<std::string, std::string> load_safetensors(Model& model, const std::string& path, LoadOptions o = {}) {
    std::uint64_t values = 0;
    for (const auto& t : state_tensors(model)) values += std::uint64_t(t.size());
    const std::uint64_t limit = 8 + detail::safetensors::max_header_bytes + 8 * values;
    return load_safetensors_bytes(model, detail::read_file<SafetensorsError>(path, limit, "safetensors file"), path, o);
}

}  // namespace neuronka
