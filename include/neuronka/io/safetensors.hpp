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

/// A safetensors file that cannot be written or read, or does not fit the model; the message names
/// the tensor, what was expected and what was found. A CheckpointError, so one handler catches both.
class SafetensorsError : public CheckpointError {
public:
    using CheckpointError::CheckpointError;
};

namespace detail::safetensors {

inline constexpr std::uint64_t max_header_bytes = 100'000'000;  // the format's own limit

/// A dtype neuronka reads: the four floating-point types for parameters and buffers, I64 for counters.
struct Dtype {
    std::string name;
    std::uint64_t bytes = 0;  // 0: a dtype neuronka does not read
};
inline Dtype dtype(const std::string& name) {
    for (const auto& [n, b] : {std::pair<const char*, int>{"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}})
        if (name == n) return {name, std::uint64_t(b)};
    return {name, 0};
}
template <class Scalar>
constexpr const char* dtype_of() {
    return sizeof(Scalar) == 8 ? "F64" : "F32";
}

inline std::uint64_t read_le(const unsigned char* p, int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= std::uint64_t(p[i]) << (8 * i);
    return v;
}
inline void write_le(std::vector<unsigned char>& out, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back((unsigned char)(v >> (8 * i)));
}

/// IEEE 754 half precision (F16) to double, subnormals, infinities and NaN included.
inline double from_f16(std::uint16_t h) {
    const int exponent = (h >> 10) & 31, mantissa = h & 1023;
    double v;
    if (exponent == 0)
        v = std::ldexp(double(mantissa), -24);
    else if (exponent == 31)
        v = mantissa ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
    else
        v = std::ldexp(double(mantissa + 1024), exponent - 25);
    return (h & 0x8000) ? -v : v;
}
/// bfloat16 (BF16): the upper half of a float.
inline double from_bf16(std::uint16_t h) {
    return double(std::bit_cast<float>(std::uint32_t(h) << 16));
}

/// Value `i` of a tensor stored as `dtype` at `p`, as a double.
inline double value(const Dtype& dtype, const unsigned char* p, std::uint64_t i) {
    p += i * dtype.bytes;
    if (dtype.name == "F64") return std::bit_cast<double>(read_le(p, 8));
    if (dtype.name == "F32") return double(std::bit_cast<float>(std::uint32_t(read_le(p, 4))));
    if (dtype.name == "F16") return from_f16(std::uint16_t(read_le(p, 2)));
    return from_bf16(std::uint16_t(read_le(p, 2)));
}

inline std::string shape_string(const std::vector<std::int64_t>& shape) {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

/// One entry of the header, as found.
struct Entry {
    std::string name;
    Dtype dtype;
    std::vector<std::int64_t> shape;
    std::uint64_t begin = 0, end = 0;  // relative to the start of the data
};

/// Parses and checks the header of `bytes`: its length, JSON syntax, duplicate names, each entry's
/// fields, and that the byte ranges are in range, do not overlap and cover the data exactly.
inline std::vector<Entry> parse_header(const std::vector<unsigned char>& bytes, const std::string& source,
                                       std::map<std::string, std::string>& metadata, std::uint64_t& data_start) {
    auto fail = [&](const std::string& what, std::uint64_t offset) {
        throw SafetensorsError(source + ": " + what + " (at byte offset " + std::to_string(offset) + ")");
    };
    if (bytes.size() < 8)
        fail("file is truncated: expected at least 8 bytes (the header length), found " + std::to_string(bytes.size()),
             0);
    const std::uint64_t n = read_le(bytes.data(), 8);
    if (n > max_header_bytes || n > bytes.size() - 8)
        fail("header length: expected at most " +
                 std::to_string(std::min<std::uint64_t>(max_header_bytes, bytes.size() - 8)) +
                 " bytes (the format's limit and what the file holds), found " + std::to_string(n) +
                 ". Hint: is this a safetensors file?",
             0);
    data_start = 8 + n;
    const auto* text = reinterpret_cast<const char*>(bytes.data()) + 8;
    std::set<std::string> names;
    using Json = nlohmann::ordered_json;  // the file's order; the one JSON type this header instantiates
    Json header;
    try {
        header = Json::parse(text, text + n, [&](int depth, Json::parse_event_t event, Json& parsed) {
            if (depth == 1 && event == Json::parse_event_t::key && !names.insert(parsed.get<std::string>()).second)
                throw SafetensorsError(source + ": header: expected each name once, found \"" +
                                       parsed.get<std::string>() + "\" twice");
            return true;
        });
    } catch (const Json::parse_error& e) {
        fail(std::string("header is not valid JSON: ") + e.what(), 8 + (e.byte ? e.byte - 1 : 0));
    } catch (const Json::exception& e) {  // valid syntax the parser cannot represent, such as 1e400
        fail(std::string("header cannot be read: ") + e.what(), 8);
    }
    if (!header.is_object()) fail(std::string("header: expected a JSON object, found a ") + header.type_name(), 8);

    std::vector<Entry> entries;
    for (const auto& [name, info] : header.items()) {
        if (name == "__metadata__") {
            if (!info.is_object())
                fail(std::string("__metadata__: expected an object of strings, found a ") + info.type_name(), 8);
            for (const auto& [key, text_value] : info.items()) {
                if (!text_value.is_string())
                    fail("__metadata__ \"" + key + "\": expected a string, found a " + text_value.type_name(), 8);
                metadata[key] = text_value.get<std::string>();
            }
            continue;
        }
        const std::string where = "tensor \"" + name + "\"";
        if (!info.is_object() || info.size() != 3 || !info.contains("dtype") || !info.contains("shape") ||
            !info.contains("data_offsets"))
            fail(where + ": expected an object with exactly \"dtype\", \"shape\" and \"data_offsets\", found " +
                     info.dump(),
                 8);
        const auto& dtype_field = info["dtype"];
        const auto& shape_field = info["shape"];
        const auto& offsets_field = info["data_offsets"];
        if (!dtype_field.is_string()) fail(where + ": dtype: expected a string, found " + dtype_field.dump(), 8);
        Entry e{name, dtype(dtype_field.get<std::string>()), {}, 0, 0};
        if (!shape_field.is_array())
            fail(where + ": shape: expected an array of sizes, found " + shape_field.dump(), 8);
        for (const auto& d : shape_field) {
            if (!d.is_number_unsigned() ||
                d.get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
                fail(where + ": shape: expected non-negative integers, found " + shape_field.dump(), 8);
            e.shape.push_back(std::int64_t(d.get<std::uint64_t>()));
        }
        if (!offsets_field.is_array() || offsets_field.size() != 2 || !offsets_field[0].is_number_unsigned() ||
            !offsets_field[1].is_number_unsigned())
            fail(where + ": data_offsets: expected [begin, end], found " + offsets_field.dump(), 8);
        e.begin = offsets_field[0].get<std::uint64_t>(), e.end = offsets_field[1].get<std::uint64_t>();
        const std::uint64_t data_bytes = bytes.size() - data_start;
        if (e.begin > e.end || e.end > data_bytes)
            fail(where + ": data_offsets: expected 0 <= begin <= end <= " + std::to_string(data_bytes) +
                     " (the data's size), found [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "]",
                 8);
        entries.push_back(std::move(e));
    }
    // The byte ranges, in order, must tile the data: no gap, no overlap, nothing after the last.
    std::vector<const Entry*> order;
    for (const auto& e : entries) order.push_back(&e);
    std::sort(order.begin(), order.end(),
              [](const Entry* a, const Entry* b) { return std::pair(a->begin, a->end) < std::pair(b->begin, b->end); });
    std::uint64_t covered = 0;
    for (const Entry* e : order) {
        if (e->begin != covered)
            fail("tensor \"" + e->name + "\": data_offsets: expected its data to begin at " + std::to_string(covered) +
                     (e->begin < covered ? " (it overlaps the tensor before it)" : " (there is a gap before it)") +
                     ", found " + std::to_string(e->begin),
                 data_start + e->begin);
        covered = e->end;
    }
    if (covered != bytes.size() - data_start)
        fail("data: expected the tensors to cover all " + std::to_string(bytes.size() - data_start) +
                 " bytes, they cover " + std::to_string(covered) + " (the file has bytes no tensor owns)",
             data_start + covered);
    return entries;
}

}  // namespace detail::safetensors

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
        if (counter ? e.dtype.name != "I64" : (!known || e.dtype.name == "I64"))
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
