// Character-level data for the language-model examples: words of lowercase a-z, split
// deterministically into train / validation / test, and encoded as one stream of tokens with a
// boundary token between words.
#pragma once

#include <neuronka/core/random.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace examples::words {

/// Tokens: 0 is the word boundary '.', 1..26 are 'a'..'z'.
inline constexpr int vocab = 27;
inline char to_char(int token) {
    return token == 0 ? '.' : char('a' + token - 1);
}

struct Corpus {
    std::string source;                           // where the words came from
    std::vector<std::string> train, valid, test;  // 80 / 10 / 10 %
    long skipped = 0;                             // words dropped because of characters outside a-z
};

/// A few dozen words, so every example runs even without a word list.
inline const char* builtin_text =
    "anna adam alice alma amber andrew anton bella ben berta boris carla carl cecil clara daniel dana david "
    "diana edgar elena emil emma erik eva felix filip frida gabriel greta hana hugo ida igor ivan jana jakub "
    "jan julia karel karla kate klara laura leo lena lucas lucie marek maria marta martin max mila milan "
    "nela nina oskar olga otto paula pavel petr rosa ruth samuel sara simon sofia stella tereza tom tomas "
    "vera viktor vit zora zuzana";

/// Splits `text` into words of letters; lowercases A-Z; a word with any other byte inside it is
/// dropped and counted (bytes outside the vocabulary are never silently mapped to something else).
inline Corpus split_words(const std::string& text, std::string source, std::uint64_t seed = 1) {
    Corpus c{std::move(source), {}, {}, {}, 0};
    std::vector<std::string> all;
    std::string word;
    bool bad = false;
    auto flush = [&] {
        if (!word.empty() && !bad) all.push_back(word);
        if (!word.empty() && bad) ++c.skipped;
        word.clear(), bad = false;
    };
    for (unsigned char ch : text) {
        if (ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r')
            flush();
        else if (ch >= 'a' && ch <= 'z')
            word += char(ch);
        else if (ch >= 'A' && ch <= 'Z')
            word += char(ch - 'A' + 'a');
        else
            bad = true;
    }
    flush();
    if (all.size() < 10)
        throw std::invalid_argument(c.source + ": only " + std::to_string(all.size()) +
                                    " usable words; need at least 10");
    neuronka::Rng rng(seed);  // deterministic Fisher-Yates shuffle, then 80/10/10
    for (std::size_t i = all.size() - 1; i > 0; --i) std::swap(all[i], all[rng.below(i + 1)]);
    const std::size_t n = all.size(), a = n * 8 / 10, b = n * 9 / 10;
    c.train.assign(all.begin(), all.begin() + long(a));
    c.valid.assign(all.begin() + long(a), all.begin() + long(b));
    c.test.assign(all.begin() + long(b), all.end());
    return c;
}

/// The word list: `path` if given, else Debian's /usr/share/dict/words (lowercase a-z words only, as
/// the list also holds names and possessives), else the built-in corpus.
inline Corpus load(const std::string& path) {
    const std::string file = path.empty() ? "/usr/share/dict/words" : path;
    std::ifstream in(file);
    if (!in) {
        if (!path.empty()) throw std::invalid_argument("cannot read --data " + path);
        return split_words(builtin_text, "built-in corpus (no /usr/share/dict/words; install wamerican)");
    }
    std::stringstream ss;
    if (path.empty()) {  // dictionary: keep only entries that are all lowercase a-z
        std::string line;
        while (std::getline(in, line))
            if (!line.empty() && std::all_of(line.begin(), line.end(), [](char ch) { return ch >= 'a' && ch <= 'z'; }))
                ss << line << '\n';
    } else {
        ss << in.rdbuf();
    }
    return split_words(ss.str(), file);
}

/// ".word1.word2." as tokens: every word followed by the boundary, starting with one.
inline std::vector<int> encode(const std::vector<std::string>& ws) {
    std::vector<int> s{0};
    for (const auto& w : ws) {
        for (char ch : w) s.push_back(ch - 'a' + 1);
        s.push_back(0);
    }
    return s;
}

}  // namespace examples::words
