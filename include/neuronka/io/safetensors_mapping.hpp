/// @file
/// @brief How the tensors of a safetensors file written by another program map onto a model's:
/// SafetensorsMapping (renames with a block index, transposed layouts, tensors to skip, to copy or
/// to zero, a non-strict mode) and the LoadReport of a non-strict load. load_safetensors()
/// (safetensors.hpp) takes them.
#pragma once

#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace neuronka {

/**
 * @brief How a file's tensor names and layouts map onto the model's, for a `state_dict` saved by
 * another program (a Hugging Face checkpoint). A name pattern is a name in which `{i}` stands for
 * one block index (decimal digits); in a rename's target, `{i}` is that index and `{i+K}` the index
 * plus K. The default mapping is the identity, strict.
 *
 * @code
 * neuronka::SafetensorsMapping m;
 * m.strip_prefixes = {"transformer."};
 * m.rename = {{"h.{i}.attn.c_attn.weight", "{i+2}.0.1.qkv.weight"}};
 * m.transpose = {"{i}.0.1.qkv.weight"};       // stored (in, out)
 * m.skip = {"h.{i}.attn.bias"};               // a mask buffer the model has no use for
 * @endcode
 */
struct SafetensorsMapping {
    /// Prefixes removed from a file name that starts with one (the first that matches), before the
    /// other rules.
    std::vector<std::string> strip_prefixes;
    /// File tensors to ignore (patterns), as if the file did not hold them.
    std::vector<std::string> skip;
    /// (file pattern, model name): the first pattern a file name matches gives its model name; a
    /// name no pattern matches keeps its own.
    std::vector<std::pair<std::string, std::string>> rename;
    /// Model tensors (patterns) the file stores transposed: a 2-D tensor of shape (b, a) read into one
    /// of shape (a, b), as a PyTorch Conv1D's (in, out) weight into nn.Linear's (out, in).
    std::vector<std::string> transpose;
    /// (model name, model name): when the file lacks the first, it is filled from the file tensor
    /// that fills the second (a weight the file holds once for two uses, as a tied head).
    std::vector<std::pair<std::string, std::string>> copy;
    /// Model tensors (patterns) set to zero when the file lacks them (a bias the other program's
    /// layer does not have).
    std::vector<std::string> zero;
    /// Strict (the default): every model tensor must come from the file and every file tensor not
    /// skipped must be used, else SafetensorsError. Not strict: model tensors the file lacks keep
    /// their values and file tensors the model lacks are ignored; LoadReport lists both.
    bool strict = true;
};

/// What a load with a SafetensorsMapping did besides loading: the model tensors the file lacked
/// (left as they were), the file tensors the model lacks (ignored), those skipped, and the file's
/// `__metadata__`. A strict load that succeeds has the first two empty.
struct LoadReport {
    std::vector<std::string> missing;             ///< model tensors not in the file, kept as they were
    std::vector<std::string> unused;              ///< file tensors no model tensor took (their file names)
    std::vector<std::string> skipped;             ///< file tensors skipped by the mapping (their file names)
    std::map<std::string, std::string> metadata;  ///< the file's `__metadata__`
};

namespace detail::safetensors {

/// The block index `name` gives `pattern`'s `{i}` (0 for a pattern without one), or nothing if it
/// does not match.
inline std::optional<long> match(std::string_view pattern, std::string_view name) {
    const std::size_t at = pattern.find("{i}");
    if (at == std::string_view::npos) return pattern == name ? std::optional<long>(0) : std::nullopt;
    const std::string_view prefix = pattern.substr(0, at), suffix = pattern.substr(at + 3);
    if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) || !name.ends_with(suffix))
        return std::nullopt;
    const std::string_view digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    if (digits.size() > 9) return std::nullopt;
    long index = 0;
    for (const char c : digits) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
        index = index * 10 + (c - '0');
    }
    return index;
}

/// `target` with `{i}` replaced by `index` and `{i+K}` by index + K.
inline std::string substitute(const std::string& target, long index) {
    std::string out;
    for (std::size_t at = 0; at < target.size();) {
        if (target.compare(at, 2, "{i") == 0) {
            const std::size_t close = target.find('}', at);
            if (close != std::string::npos) {
                long offset = 0;
                if (target[at + 2] == '+') offset = std::stol(target.substr(at + 3, close - at - 3));
                out += std::to_string(index + offset);
                at = close + 1;
                continue;
            }
        }
        out += target[at++];
    }
    return out;
}

inline bool matches_any(const std::vector<std::string>& patterns, std::string_view name) {
    for (const auto& p : patterns)
        if (match(p, name)) return true;
    return false;
}

/// The model name of file tensor `name` under `m` (after its prefixes and renames), or nothing if
/// the mapping skips it.
inline std::optional<std::string> model_name(const SafetensorsMapping& m, std::string_view name) {
    for (const auto& prefix : m.strip_prefixes)
        if (name.starts_with(prefix)) {
            name.remove_prefix(prefix.size());
            break;
        }
    if (matches_any(m.skip, name)) return std::nullopt;
    for (const auto& [pattern, target] : m.rename)
        if (const auto index = match(pattern, name)) return substitute(target, *index);
    return std::string(name);
}

}  // namespace detail::safetensors

}  // namespace neuronka
