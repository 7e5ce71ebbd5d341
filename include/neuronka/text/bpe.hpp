/// @file
/// @brief Byte-level BPE, the tokenizer of GPT-2: text to token ids and back, read from and saved
/// to GPT-2's two files (`vocab.json` and `merges.txt`), and trained on a text.
///
/// Encoding follows the published GPT-2 algorithm: the text is cut into pieces by GPT-2's rule
/// (the contractions 's 't 're 've 'm 'll 'd; letters, numbers or other characters, each run with
/// at most one space before it; runs of white space), each piece's UTF-8 bytes are written in
/// GPT-2's byte alphabet (every byte a printable character), and the merges are applied to each
/// piece, the lowest-ranked adjacent pair first. Letters, numbers and white space are Unicode's
/// (general categories L and N, property White_Space), read from ICU.
///
/// Part `neuronka::tokenizer` (nlohmann/json for `vocab.json`, ICU for the character classes).
#pragma once

#include "../detail/atomic_file.hpp"
#include "pieces.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace neuronka {

/// A byte-level BPE tokenizer: GPT-2's, loaded from its `vocab.json` and `merges.txt`, or one
/// trained on a text. Any UTF-8 text encodes (every byte is a token) and decodes back to the same
/// bytes.
///
/// @code
/// auto gpt2 = neuronka::BpeTokenizer::load("gpt2/vocab.json", "gpt2/merges.txt");
/// std::vector<int> ids = gpt2.encode("Hello world");  // {15496, 995}
/// std::string text = gpt2.decode(ids);                 // "Hello world"
/// @endcode
class BpeTokenizer {
public:
    /// Reads GPT-2's two files: `vocab_json`, a JSON object from token (in the byte alphabet) to id,
    /// and `merges_txt`, one merge "left right" per line in rank order after an optional
    /// "#version" line. Every byte must have its token; each merge's two tokens and their
    /// concatenation must be in the vocabulary. Throws TokenizerError naming the file and line.
    static BpeTokenizer load(const std::string& vocab_json, const std::string& merges_txt) {
        constexpr std::uint64_t limit = 1ull << 30;
        const auto vocab_bytes = detail::read_file<TokenizerError>(vocab_json, limit, "vocabulary");
        const auto merges_bytes = detail::read_file<TokenizerError>(merges_txt, limit, "merges");
        BpeTokenizer t;
        nlohmann::json vocab;
        try {
            vocab = nlohmann::json::parse(vocab_bytes.begin(), vocab_bytes.end());
        } catch (const nlohmann::json::exception& e) {
            throw TokenizerError(vocab_json +
                                 ": expected a JSON object from token to id, found invalid JSON: " + e.what());
        }
        if (!vocab.is_object())
            throw TokenizerError(vocab_json + ": expected a JSON object from token to id, found a " +
                                 std::string(vocab.type_name()));
        for (const auto& [token, id] : vocab.items()) {
            if (!id.is_number_integer() || id.get<std::int64_t>() < 0 || id.get<std::int64_t>() >= (1 << 30))
                throw TokenizerError(vocab_json + ": token \"" + token + "\": expected an id 0 <= id < 2^30, found " +
                                     id.dump());
            t.add_token(token, int(id.get<std::int64_t>()), vocab_json);
        }
        for (int b = 0; b < 256; ++b) {
            std::string symbol;
            detail::bpe::append_utf8(symbol, detail::bpe::byte_code_points()[b]);
            const auto found = t.ids_.find(symbol);
            if (found == t.ids_.end())
                throw TokenizerError(vocab_json + ": expected a token for every byte, byte " + std::to_string(b) +
                                     " (\"" + symbol + "\") has none. Hint: is this a byte-level BPE vocabulary?");
            t.byte_ids_[b] = found->second;
        }
        const std::string_view text(reinterpret_cast<const char*>(merges_bytes.data()), merges_bytes.size());
        std::size_t line_number = 0;
        for (std::size_t at = 0; at < text.size();) {
            std::size_t end = text.find('\n', at);
            if (end == std::string_view::npos) end = text.size();
            std::string_view line = text.substr(at, end - at);
            at = end + 1, ++line_number;
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            if (line.empty() || (line_number == 1 && line.starts_with("#version"))) continue;
            const std::size_t space = line.find(' ');
            if (space == std::string_view::npos || space == 0 || space + 1 == line.size() ||
                line.find(' ', space + 1) != std::string_view::npos)
                throw TokenizerError(merges_txt + ": line " + std::to_string(line_number) +
                                     ": expected two tokens separated by one space, found \"" + std::string(line) +
                                     "\"");
            t.add_merge(std::string(line.substr(0, space)), std::string(line.substr(space + 1)),
                        merges_txt + ": line " + std::to_string(line_number), false);
        }
        return t;
    }

    /// Trains a byte-level BPE on `text`: starts from the 256 byte tokens (ids 0..255, in GPT-2's
    /// order) and, until the vocabulary has `vocab_size` tokens or no two tokens are adjacent,
    /// merges the adjacent pair that occurs most often within the pieces of GPT-2's rule (ties: the
    /// pair with the smaller left id, then the smaller right id). Each merge is recorded; a merge
    /// whose concatenation is already a token adds no token.
    static BpeTokenizer train(std::string_view text, int vocab_size) {
        if (vocab_size < 256)
            throw TokenizerError("BpeTokenizer::train: expected vocab_size >= 256 (one token per byte), found " +
                                 std::to_string(vocab_size));
        BpeTokenizer t;
        for (int b = 0; b < 256; ++b) {
            std::string symbol;
            detail::bpe::append_utf8(symbol, detail::bpe::byte_code_points()[b]);
            t.add_token(symbol, b, "BpeTokenizer::train");
            t.byte_ids_[b] = b;
        }
        std::map<std::string, std::int64_t> counts;  // piece -> how often; ordered, so training is deterministic
        detail::bpe::split(text, [&](std::string_view piece) { ++counts[std::string(piece)]; });
        std::vector<std::pair<std::vector<int>, std::int64_t>> words;
        for (const auto& [piece, count] : counts) words.emplace_back(t.byte_tokens(piece), count);
        while (int(t.tokens_.size()) < vocab_size) {
            std::map<std::pair<int, int>, std::int64_t> pairs;
            for (const auto& [word, count] : words)
                for (std::size_t i = 0; i + 1 < word.size(); ++i) pairs[{word[i], word[i + 1]}] += count;
            if (pairs.empty()) break;
            auto best = pairs.begin();  // the most frequent; the first in (left, right) order on a tie
            for (auto p = pairs.begin(); p != pairs.end(); ++p)
                if (p->second > best->second) best = p;
            const auto [left, right] = best->first;
            const int merged = t.add_merge(t.tokens_[left], t.tokens_[right], "BpeTokenizer::train", true);
            for (auto& [word, count] : words) merge_pair(word, left, right, merged);
        }
        return t;
    }

    /// Writes `vocab_json` and `merges_txt` in GPT-2's layout (`load` reads them back to the same
    /// tokenizer). Each file is replaced atomically: on any error it keeps its previous contents.
    void save(const std::string& vocab_json, const std::string& merges_txt) const {
        nlohmann::ordered_json vocab = nlohmann::ordered_json::object();
        for (std::size_t id = 0; id < tokens_.size(); ++id)
            if (present_[id]) vocab[tokens_[id]] = id;
        const std::string json = vocab.dump();
        std::string merges = "#version: 0.2\n";
        for (const auto& [left, right] : merge_lines_) merges += left + " " + right + "\n";
        detail::write_atomically<TokenizerError>(vocab_json, {json.begin(), json.end()});
        detail::write_atomically<TokenizerError>(merges_txt, {merges.begin(), merges.end()});
    }

    /// The token ids of `text` (UTF-8; TokenizerError otherwise). Every piece is encoded on its own;
    /// "<|endoftext|>" and other special tokens are text like any other (id() gives their ids).
    std::vector<int> encode(std::string_view text) const {
        std::vector<int> ids, word;
        detail::bpe::split(text, [&](std::string_view piece) {
            word = byte_tokens(piece);
            apply_merges(word);
            ids.insert(ids.end(), word.begin(), word.end());
        });
        return ids;
    }

    /// The bytes `ids` stand for (UTF-8 when they came from encode(); a slice of a sequence may
    /// cut a character). Throws TokenizerError on an id the vocabulary does not have.
    std::string decode(std::span<const int> ids) const {
        std::string text;
        for (const int id : ids) text += bytes(id);
        return text;
    }

    /// The bytes token `id` stands for.
    const std::string& bytes(int id) const {
        if (id < 0 || std::size_t(id) >= tokens_.size() || !present_[std::size_t(id)])
            throw TokenizerError("BpeTokenizer: expected a token id in the vocabulary (" +
                                 std::to_string(tokens_.size()) + " ids), found " + std::to_string(id));
        return bytes_[std::size_t(id)];
    }
    /// Token `id` as written in vocab.json (in the byte alphabet: GPT-2 writes a space as "Ġ").
    const std::string& token(int id) const {
        bytes(id);  // checks the id
        return tokens_[std::size_t(id)];
    }
    /// The id of `token` (as written in vocab.json), or -1 if the vocabulary does not have it.
    int id(const std::string& token) const {
        const auto found = ids_.find(token);
        return found == ids_.end() ? -1 : found->second;
    }
    /// Tokens in the vocabulary (GPT-2: 50,257).
    int vocab_size() const { return int(ids_.size()); }
    /// Merges, in rank order (GPT-2: 50,000).
    int merge_count() const { return int(merge_lines_.size()); }

private:
    std::vector<std::string> tokens_;                                // by id: as written in vocab.json
    std::vector<std::string> bytes_;                                 // by id: the bytes it stands for
    std::vector<bool> present_;                                      // by id: the vocabulary has it
    std::unordered_map<std::string, int> ids_;                       // token -> id
    std::array<int, 256> byte_ids_{};                                // byte -> its token's id
    std::unordered_map<std::uint64_t, std::pair<int, int>> merges_;  // (left, right) -> (rank, merged id)
    std::vector<std::pair<std::string, std::string>> merge_lines_;   // as in merges.txt

    static std::uint64_t key(int left, int right) {
        return (std::uint64_t(std::uint32_t(left)) << 32) | std::uint32_t(right);
    }

    void add_token(const std::string& token, int id, const std::string& where) {
        std::string raw;
        for (std::size_t at = 0; at < token.size();) {
            const auto [c, n] = detail::bpe::next_code_point(token, at);
            const int b = n ? detail::bpe::byte_of(c) : -1;
            if (b < 0)
                throw TokenizerError(where + ": token \"" + token + "\" (id " + std::to_string(id) +
                                     "): expected characters of the byte alphabet only, found one at byte " +
                                     std::to_string(at) + ". Hint: is this a byte-level BPE vocabulary?");
            raw += char(b);
            at += std::size_t(n);
        }
        if (std::size_t(id) >= tokens_.size()) tokens_.resize(id + 1), bytes_.resize(id + 1), present_.resize(id + 1);
        if (present_[id])
            throw TokenizerError(where + ": expected each id once, found id " + std::to_string(id) + " for \"" +
                                 tokens_[id] + "\" and \"" + token + "\"");
        tokens_[id] = token, bytes_[id] = std::move(raw), present_[id] = true;
        ids_.emplace(token, id);
    }
    // Records merge (left, right) with the next rank; returns the id of their concatenation, which
    // is added to the vocabulary if it is new and `add_new` (training), else must be there (loading).
    // (By value: `left` and `right` may be tokens_' own strings, which adding a token moves.)
    int add_merge(std::string left, std::string right, const std::string& where, bool add_new) {
        const int l = id(left), r = id(right);
        const std::string joined = left + right;
        int merged = id(joined);
        if (l < 0 || r < 0 || (merged < 0 && !add_new))
            throw TokenizerError(where + ": merge \"" + left + " " + right + "\": expected \"" +
                                 (l < 0   ? left
                                  : r < 0 ? right
                                          : joined) +
                                 "\" in the vocabulary, it is not");
        if (merged < 0) add_token(joined, merged = int(tokens_.size()), where);
        if (!merges_.emplace(key(l, r), std::pair(int(merge_lines_.size()), merged)).second)
            throw TokenizerError(where + ": expected each merge once, found \"" + left + " " + right + "\" twice");
        merge_lines_.emplace_back(std::move(left), std::move(right));
        return merged;
    }
    std::vector<int> byte_tokens(std::string_view piece) const {
        std::vector<int> word;
        word.reserve(piece.size());
        for (const char c : piece) word.push_back(byte_ids_[static_cast<unsigned char>(c)]);
        return word;
    }
    // Replaces each (left, right) in `word`, from the left, by `merged`.
    static void merge_pair(std::vector<int>& word, int left, int right, int merged) {
        std::size_t out = 0;
        for (std::size_t i = 0; i < word.size(); ++i) {
            if (i + 1 < word.size() && word[i] == left && word[i + 1] == right)
                word[out++] = merged, ++i;
            else
                word[out++] = word[i];
        }
        word.resize(out);
    }
    // Applies the merges to one piece: the adjacent pair of lowest rank first, all its occurrences.
    void apply_merges(std::vector<int>& word) const {
        while (word.size() > 1) {
            int best_rank = -1, left = 0, right = 0, merged = 0;
            for (std::size_t i = 0; i + 1 < word.size(); ++i) {
                const auto found = merges_.find(key(word[i], word[i + 1]));
                if (found != merges_.end() && (best_rank < 0 || found->second.first < best_rank))
                    best_rank = found->second.first, left = word[i], right = word[i + 1], merged = found->second.second;
            }
            if (best_rank < 0) return;
            merge_pair(word, left, right, merged);
        }
    }
};

}  // namespace neuronka
