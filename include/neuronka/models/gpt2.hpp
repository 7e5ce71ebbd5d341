/// @file
/// @brief GPT-2 from a Hugging Face directory: its `config.json`, and the mapping that loads its
/// `model.safetensors` into a Transformer of the same sizes (part `neuronka::safetensors`).
///
/// neuronka's Transformer has GPT-2's architecture: pre-norm blocks, LayerNorm with ε 1e-5, tanh
/// GELU, learned positions, biases everywhere. What differs is the names, the layout of GPT-2's
/// Conv1D weights (stored (in, out), where nn.Linear and neuronka store (out, in)), the head (GPT-2's
/// is the token embedding itself, without a bias), and the attention masks some files carry.
#pragma once

#include "../io/safetensors.hpp"
#include "transformer.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <type_traits>

namespace neuronka {

/// The sizes of a GPT-2 model, as its `config.json` gives them.
struct Gpt2Config {
    int vocab_size = 50257;  ///< V (`vocab_size`)
    int context = 1024;      ///< C (`n_positions`)
    int dim = 768;           ///< D (`n_embd`)
    int heads = 12;          ///< H (`n_head`)
    int layers = 12;         ///< blocks (`n_layer`)

    /// Whether these are the sizes of `Model` (a Transformer).
    template <class Model>
    bool is() const {
        return vocab_size == Model::vocab_size && context == Model::context && dim == Model::dim &&
               heads == Model::heads && layers == Model::layers && Model::hidden == 4 * Model::dim;
    }
    /// "vocab 50257, context 1024, d 768, 12 heads, 12 layers".
    std::string describe() const {
        return "vocab " + std::to_string(vocab_size) + ", context " + std::to_string(context) + ", d " +
               std::to_string(dim) + ", " + std::to_string(heads) + " heads, " + std::to_string(layers) + " layers";
    }
};

/// Reads a Hugging Face GPT-2 `config.json`: the sizes, and checks that the model is a GPT-2
/// neuronka's Transformer computes (tanh GELU, LayerNorm ε 1e-5, 4·D wide MLP). Throws FileError
/// naming the file, the key, what was expected and what was found.
inline Gpt2Config read_gpt2_config(const std::string& path) {
    const auto bytes = detail::read_file<FileError>(path, 1 << 20, "config");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(bytes.begin(), bytes.end());
    } catch (const nlohmann::json::exception& e) {
        throw FileError(path + ": expected a JSON object (a Hugging Face config), found invalid JSON: " + e.what());
    }
    if (!j.is_object()) throw FileError(path + ": expected a JSON object (a Hugging Face config)");
    const auto text = [&](const char* key, const std::string& fallback) {
        const auto found = j.find(key);
        return found == j.end() || !found->is_string() ? fallback : found->get<std::string>();
    };
    if (const std::string type = text("model_type", "gpt2"); type != "gpt2")
        throw FileError(path + ": model_type: expected \"gpt2\", found \"" + type + "\"");
    if (const std::string act = text("activation_function", "gelu_new"); act != "gelu_new")
        throw FileError(path +
                        ": activation_function: expected \"gelu_new\" (GPT-2's tanh GELU, neuronka's GELU), found \"" +
                        act + "\"");
    const auto size = [&](const char* key) {
        const auto found = j.find(key);
        if (found == j.end() || !found->is_number_integer() || found->get<std::int64_t>() <= 0 ||
            found->get<std::int64_t>() > (1 << 24))
            throw FileError(path + ": " + key + ": expected a positive integer size, found " +
                            (found == j.end() ? std::string("nothing") : found->dump()));
        return int(found->get<std::int64_t>());
    };
    Gpt2Config c{size("vocab_size"), size("n_positions"), size("n_embd"), size("n_head"), size("n_layer")};
    if (const auto inner = j.find("n_inner"); inner != j.end() && !inner->is_null() && *inner != 4 * c.dim)
        throw FileError(path + ": n_inner: expected null or " + std::to_string(4 * c.dim) +
                        " (4 · n_embd, neuronka's Transformer), found " + inner->dump());
    if (const auto eps = j.find("layer_norm_epsilon"); eps != j.end() && (!eps->is_number() || *eps != 1e-5))
        throw FileError(path + ": layer_norm_epsilon: expected 1e-05 (neuronka's LayerNorm), found " + eps->dump());
    if (c.dim % c.heads != 0)
        throw FileError(path + ": n_embd " + std::to_string(c.dim) + " is not a multiple of n_head " +
                        std::to_string(c.heads));
    return c;
}

/**
 * @brief The mapping that loads a Hugging Face GPT-2 `state_dict` (GPT2Model's or GPT2LMHeadModel's,
 * names with or without `transformer.`) into `Model`, a `Transformer<Scalar, V, C, D, H, L>` of the
 * same sizes: every name renamed, the Conv1D weights transposed, the attention mask buffers
 * (`attn.bias`, `attn.masked_bias`) skipped, the head's weight copied from the token embedding
 * when the file has no `lm_head.weight` (GPT-2 ties them) and the head's bias set to zero (GPT-2's
 * head has none). Strict: anything else missing or left over is an error.
 *
 * @code
 * auto gpt2 = std::make_unique<neuronka::Transformer<float, 50257, 1024, 768, 12, 12>>();
 * neuronka::load_safetensors(*gpt2, "gpt2/model.safetensors", neuronka::huggingface_gpt2_mapping<decltype(*gpt2)>());
 * @endcode
 */
template <class Model>
SafetensorsMapping huggingface_gpt2_mapping() {
    using M = std::remove_cvref_t<Model>;
    const std::string ln_f = std::to_string(M::layers + 2), head = std::to_string(M::layers + 3);
    SafetensorsMapping m;
    m.strip_prefixes = {"transformer."};
    m.skip = {"h.{i}.attn.bias", "h.{i}.attn.masked_bias"};
    m.rename = {{"wte.weight", "0.weight"},
                {"wpe.weight", "1.weight"},
                {"h.{i}.ln_1.weight", "{i+2}.0.0.weight"},
                {"h.{i}.ln_1.bias", "{i+2}.0.0.bias"},
                {"h.{i}.attn.c_attn.weight", "{i+2}.0.1.qkv.weight"},
                {"h.{i}.attn.c_attn.bias", "{i+2}.0.1.qkv.bias"},
                {"h.{i}.attn.c_proj.weight", "{i+2}.0.1.proj.weight"},
                {"h.{i}.attn.c_proj.bias", "{i+2}.0.1.proj.bias"},
                {"h.{i}.ln_2.weight", "{i+2}.1.0.weight"},
                {"h.{i}.ln_2.bias", "{i+2}.1.0.bias"},
                {"h.{i}.mlp.c_fc.weight", "{i+2}.1.1.weight"},
                {"h.{i}.mlp.c_fc.bias", "{i+2}.1.1.bias"},
                {"h.{i}.mlp.c_proj.weight", "{i+2}.1.3.weight"},
                {"h.{i}.mlp.c_proj.bias", "{i+2}.1.3.bias"},
                {"ln_f.weight", ln_f + ".weight"},
                {"ln_f.bias", ln_f + ".bias"}};
    m.transpose = {"{i}.0.1.qkv.weight", "{i}.0.1.proj.weight", "{i}.1.1.weight", "{i}.1.3.weight"};
    if constexpr (M::tied_head) {  // the head is the embedding: lm_head.weight, when present, is its copy
        m.skip.push_back("lm_head.weight");
    } else {
        m.rename.push_back({"lm_head.weight", head + ".weight"});
        m.copy = {{head + ".weight", "0.weight"}};
        m.zero = {head + ".bias"};
    }
    return m;
}

}  // namespace neuronka
