/// @file
/// @brief Reading a safetensors file's header: SafetensorsError, and the checks every file passes
/// before load_safetensors() (safetensors.hpp) touches a model: its length, its JSON read as a
/// stream of events (nlohmann/json's SAX interface, no document built), each tensor's dtype, shape
/// and byte range, and that the byte ranges tile the data.
#pragma once

#include "serialize.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>
#include "../detail/bit_cast.hpp"

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
    enum class Kind { unknown, f64, f32, f16, bf16, i64 };
    std::string name;
    std::uint64_t bytes = 0;  // 0: a dtype neuronka does not read
    Kind kind = Kind::unknown;
};
inline Dtype dtype(const std::string& name) {
    using K = Dtype::Kind;
    for (const auto& [n, b, k] : {std::tuple<const char*, int, K>{"F64", 8, K::f64},
                                  {"F32", 4, K::f32},
                                  {"F16", 2, K::f16},
                                  {"BF16", 2, K::bf16},
                                  {"I64", 8, K::i64}})
        if (name == n) return {name, std::uint64_t(b), k};
    return {name, 0, K::unknown};
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
    return double(neuronka::detail::bit_cast<float>(std::uint32_t(h) << 16));
}

/// Value `i` of a tensor stored as `dtype` (a floating-point one) at `p`, as a double.
inline double value(const Dtype& dtype, const unsigned char* p, std::uint64_t i) {
    p += i * dtype.bytes;
    switch (dtype.kind) {
        case Dtype::Kind::f64:
            return neuronka::detail::bit_cast<double>(read_le(p, 8));
        case Dtype::Kind::f32:
            return double(neuronka::detail::bit_cast<float>(std::uint32_t(read_le(p, 4))));
        case Dtype::Kind::f16:
            return from_f16(std::uint16_t(read_le(p, 2)));
        default:
            return from_bf16(std::uint16_t(read_le(p, 2)));
    }
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

using Json = nlohmann::ordered_json;  // the one JSON type this header instantiates

/// Reads the header as nlohmann/json's stream of events (its SAX interface) and checks each
/// top-level value when it ends: no JSON document is built, so a header is read in a few
/// microseconds. Each tensor's value is also rebuilt as compact JSON text for the error messages.
/// The first problem found stops the parse (its event returns false) and is kept in `error`, which
/// parse_header() throws: unwinding one frame instead of the parser's is most of the time a
/// rejected file costs.
/// A plain class, not derived from nlohmann::json_sax (sax_parse takes any type with its events),
/// so that no event is a virtual call.
class HeaderReader {
public:
    using number_integer_t = Json::number_integer_t;
    using number_unsigned_t = Json::number_unsigned_t;
    using number_float_t = Json::number_float_t;
    using string_t = Json::string_t;
    using binary_t = Json::binary_t;

    HeaderReader(const std::string& source, std::uint64_t data_bytes, std::map<std::string, std::string>& metadata)
        : source_(source), data_bytes_(data_bytes), metadata_(metadata) {}

    std::vector<Entry> entries;  ///< the tensors, in the file's order
    std::string error;           ///< the problem that stopped the parse, as SafetensorsError's message

    bool null() { return scalar("null", "null"); }
    bool boolean(bool v) { return scalar("boolean", v ? "true" : "false"); }
    bool number_integer(number_integer_t v) { return scalar("number", digits(v)); }
    bool number_unsigned(number_unsigned_t v) { return scalar("number", digits(v), &v); }
    bool number_float(number_float_t, const string_t& text) { return scalar("number", text); }
    bool string(string_t& v) {
        if (depth_ == 2 && in_metadata_) {
            metadata_[key_] = v;
            return true;
        }
        if (depth_ == 2 && field_) field_->string = v;
        if (!begin_value("string", "")) return false;
        append_quoted(v);
        return done(depth_);
    }
    bool binary(binary_t&) { return scalar("binary", "<binary>"); }  // not in JSON text
    bool start_object(std::size_t) {
        if (depth_ == 0) return ++depth_, true;
        if (!begin_value("object", "{")) return false;
        open_.push_back(true);
        return ++depth_, true;
    }
    bool start_array(std::size_t) {
        if (!begin_value("array", "[")) return false;
        open_.push_back(true);
        return ++depth_, true;
    }
    bool key(string_t& k) {
        if (depth_ == 1) {
            if (!names_.insert(k).second)
                return stop(source_ + ": header: expected each name once, found \"" + k + "\" twice");
            name_ = k, in_metadata_ = k == "__metadata__";
            return true;
        }
        if (depth_ == 2 && in_metadata_) return key_ = k, true;
        separate();
        append_quoted(k);
        text_ += ':';
        after_key_ = true;
        if (depth_ == 2) {  // a field of a tensor: one of the three, each once
            ++fields_;
            Field* f = k == "dtype" ? &dtype_ : k == "shape" ? &shape_ : k == "data_offsets" ? &offsets_ : nullptr;
            field_ = f && !f->seen ? f : nullptr;
            if (!field_) extra_ = true;
            if (field_) field_->seen = true, field_->begin = text_.size();
        }
        return true;
    }
    bool end_object() { return end('}'); }
    bool end_array() { return end(']'); }
    bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
        if (dynamic_cast<const Json::parse_error*>(&e))
            return fail(std::string("header is not valid JSON: ") + e.what(), 8 + (position ? position - 1 : 0));
        return fail(std::string("header cannot be read: ") + e.what(), 8);  // valid syntax it cannot hold: 1e400
    }

private:
    /// One of a tensor's three fields as found: its text, and its string or unsigned integers.
    struct Field {
        bool seen = false, is_string = false, is_array = false, unsigned_values = true;
        std::string string;
        std::size_t begin = 0, end = 0;  // its text in text_
        std::vector<std::uint64_t> values;
    };
    std::string text(const Field& f) const { return text_.substr(f.begin, f.end - f.begin); }

    // Keeps the first problem and stops the parse (false).
    bool stop(std::string message) {
        if (error.empty()) error = std::move(message);
        return false;
    }
    bool fail(const std::string& what, std::uint64_t offset) {
        return stop(source_ + ": " + what + " (at byte offset " + std::to_string(offset) + ")");
    }
    void append_quoted(const std::string& v) {
        text_ += '"';
        for (const char c : v) {
            if (c == '"' || c == '\\') text_ += '\\';
            if (static_cast<unsigned char>(c) < 0x20) {
                text_ += "\\u00";
                text_ += "0123456789abcdef"[(c >> 4) & 15];
                text_ += "0123456789abcdef"[c & 15];
            } else {
                text_ += c;
            }
        }
        text_ += '"';
    }
    template <class Integer>
    std::string_view digits(Integer v) {
        const auto end = std::to_chars(digits_, digits_ + sizeof digits_, v).ptr;
        return {digits_, std::size_t(end - digits_)};
    }
    // A comma before an element or member that is not its container's first.
    void separate() {
        if (open_.empty()) return;
        if (after_key_) return void(after_key_ = false);
        if (!open_.back()) text_ += ',';
        open_.back() = false;
    }
    // A value of kind `type` (a type name as nlohmann/json gives it) begins at depth_ with `text`;
    // false if it cannot be there.
    bool begin_value(std::string_view type, std::string_view text) {
        if (depth_ == 0) return fail("header: expected a JSON object, found a " + std::string(type), 8);
        if (depth_ == 1) {
            if (in_metadata_ && type != "object")
                return fail("__metadata__: expected an object of strings, found a " + std::string(type), 8);
            if (!in_metadata_) {
                text_.clear(), open_.clear(), after_key_ = false, fields_ = 0, extra_ = false, field_ = nullptr;
                dtype_ = shape_ = offsets_ = Field{};
                is_object_ = type == "object";
            }
        } else if (depth_ == 2 && in_metadata_) {
            return fail("__metadata__ \"" + key_ + "\": expected a string, found a " + std::string(type), 8);
        } else if (depth_ == 2 && field_) {
            field_->is_string = type == "string";
            field_->is_array = type == "array";
        } else if (depth_ == 3 && field_) {
            field_->unsigned_values = false;  // unsigned integers are counted in scalar()
        }
        separate();
        text_ += text;
        return true;
    }
    bool scalar(std::string_view type, std::string_view text, const std::uint64_t* unsigned_value = nullptr) {
        if (depth_ == 3 && field_ && unsigned_value) {
            field_->values.push_back(*unsigned_value);
            separate();
            text_ += text;
            return true;
        }
        return begin_value(type, text) && done(depth_);
    }
    bool end(char bracket) {
        --depth_;
        if (depth_ == 0) return true;  // the header's object
        if (depth_ == 1 && in_metadata_) return true;
        open_.pop_back();
        text_ += bracket;
        return done(depth_);
    }
    // The value that began at depth `d` is complete.
    bool done(int d) {
        if (d == 2 && field_) field_->end = text_.size(), field_ = nullptr;
        return d != 1 || check_tensor();
    }
    bool check_tensor() {
        const std::string where = "tensor \"" + name_ + "\"";
        if (!is_object_ || fields_ != 3 || extra_ || !dtype_.seen || !shape_.seen || !offsets_.seen)
            return fail(
                where + ": expected an object with exactly \"dtype\", \"shape\" and \"data_offsets\", found " + text_,
                8);
        if (!dtype_.is_string) return fail(where + ": dtype: expected a string, found " + text(dtype_), 8);
        Entry e{name_, dtype(dtype_.string), {}, 0, 0};
        if (!shape_.is_array) return fail(where + ": shape: expected an array of sizes, found " + text(shape_), 8);
        for (const std::uint64_t d : shape_.values)
            if (d > std::uint64_t(std::numeric_limits<std::int64_t>::max())) shape_.unsigned_values = false;
        if (!shape_.unsigned_values)
            return fail(where + ": shape: expected non-negative integers, found " + text(shape_), 8);
        for (const std::uint64_t d : shape_.values) e.shape.push_back(std::int64_t(d));
        if (!offsets_.is_array || !offsets_.unsigned_values || offsets_.values.size() != 2)
            return fail(where + ": data_offsets: expected [begin, end], found " + text(offsets_), 8);
        e.begin = offsets_.values[0], e.end = offsets_.values[1];
        if (e.begin > e.end || e.end > data_bytes_)
            return fail(where + ": data_offsets: expected 0 <= begin <= end <= " + std::to_string(data_bytes_) +
                            " (the data's size), found [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                            "]",
                        8);
        entries.push_back(std::move(e));
        return true;
    }

    const std::string& source_;
    std::uint64_t data_bytes_;
    std::map<std::string, std::string>& metadata_;
    std::set<std::string> names_;  // the top-level names so far
    int depth_ = 0;                // containers open around the next event; the header's object is depth 1
    std::string name_, key_;       // the top-level name being read; the __metadata__ key being read
    bool in_metadata_ = false;     // name_ is "__metadata__"
    std::string text_;             // the tensor's value as compact JSON, so far
    std::vector<bool> open_;       // per container open inside it: no element yet
    bool after_key_ = false;       // the next value follows a key (no comma)
    bool is_object_ = false;       // the tensor's value is an object
    int fields_ = 0;               // its members
    bool extra_ = false;           // a member other than the three, or one of them twice
    Field dtype_, shape_, offsets_;
    Field* field_ = nullptr;  // the field whose value is being read
    char digits_[24];         // an integer's text
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
    HeaderReader reader(source, bytes.size() - data_start, metadata);
    if (!Json::sax_parse(text, text + n, &reader))
        throw SafetensorsError(reader.error.empty() ? source + ": header cannot be read (at byte offset 8)"
                                                    : reader.error);
    std::vector<Entry>& entries = reader.entries;
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

}  // namespace neuronka
