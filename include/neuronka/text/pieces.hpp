/// @file
/// @brief What byte-level BPE (bpe.hpp) stands on: TokenizerError, GPT-2's byte alphabet, UTF-8
/// decoding, and GPT-2's rule that cuts a text into pieces (the contractions 's 't 're 've 'm 'll
/// 'd; letters, numbers or other characters, each run with at most one space before it; runs of
/// white space), with Unicode's letters, numbers and white space read from ICU.
#pragma once

#include <unicode/uchar.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace neuronka {

/// Tokenizer files that cannot be read or do not describe a byte-level BPE, text that is not UTF-8,
/// or a token id the vocabulary does not have; the message says where, what was expected and what
/// was found.
class TokenizerError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace detail::bpe {

/// GPT-2's byte alphabet: byte b is written as code point byte_code_points()[b]. The printable
/// bytes ('!'..'~', U+00A1..U+00AC, U+00AE..U+00FF) stand for themselves; the other 68, in byte
/// order, for U+0100 onwards.
inline const std::array<char32_t, 256>& byte_code_points() {
    static const std::array<char32_t, 256> table = [] {
        std::array<char32_t, 256> t{};
        char32_t next = 0x100;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
            t[b] = printable ? char32_t(b) : next++;
        }
        return t;
    }();
    return table;
}

/// The byte code point `c` stands for, or -1 if it is not in the alphabet.
inline int byte_of(char32_t c) {
    if (c < 0x100) {
        const bool printable = (c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE);
        return printable ? int(c) : -1;
    }
    const auto& t = byte_code_points();
    for (int b = 0; b < 256; ++b)
        if (t[b] == c) return b;
    return -1;
}

inline void append_utf8(std::string& out, char32_t c) {
    if (c < 0x80) {
        out += char(c);
    } else if (c < 0x800) {
        out += char(0xC0 | (c >> 6)), out += char(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += char(0xE0 | (c >> 12)), out += char(0x80 | ((c >> 6) & 0x3F)), out += char(0x80 | (c & 0x3F));
    } else {
        out += char(0xF0 | (c >> 18)), out += char(0x80 | ((c >> 12) & 0x3F));
        out += char(0x80 | ((c >> 6) & 0x3F)), out += char(0x80 | (c & 0x3F));
    }
}

/// The code point at `text[at]` and its length in bytes; length 0 if the bytes there are not UTF-8
/// (overlong forms, surrogates and code points above U+10FFFF included).
inline std::pair<char32_t, int> next_code_point(std::string_view text, std::size_t at) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char b0 = byte(at);
    const int n = b0 < 0x80 ? 1 : (b0 >> 5) == 6 ? 2 : (b0 >> 4) == 14 ? 3 : (b0 >> 3) == 30 ? 4 : 0;
    if (n == 0 || at + n > text.size()) return {0, 0};
    char32_t c = n == 1 ? b0 : n == 2 ? (b0 & 0x1F) : n == 3 ? (b0 & 0x0F) : (b0 & 0x07);
    for (int i = 1; i < n; ++i) {
        if ((byte(at + i) & 0xC0) != 0x80) return {0, 0};
        c = (c << 6) | (byte(at + i) & 0x3F);
    }
    constexpr char32_t smallest[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < smallest[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return {0, 0};
    return {c, n};
}

/// The classes GPT-2's rule cuts text by.
enum class Class { space, letter, number, other };
inline Class class_of(char32_t c) {
    if (u_isUWhiteSpace(UChar32(c))) return Class::space;
    const std::uint32_t mask = U_GET_GC_MASK(UChar32(c));
    if (mask & U_GC_L_MASK) return Class::letter;
    if (mask & U_GC_N_MASK) return Class::number;
    return Class::other;
}

/// Calls piece(std::string_view) on each piece of `text` in order, cut by GPT-2's rule; the pieces
/// concatenate to `text`. Throws TokenizerError if `text` is not UTF-8.
template <class Piece>
void split(std::string_view text, Piece&& piece) {
    struct Char {
        std::size_t at;  // its first byte
        char32_t c;
        Class cls;
    };
    std::vector<Char> chars;
    for (std::size_t at = 0; at < text.size();) {
        const auto [c, n] = next_code_point(text, at);
        if (n == 0)
            throw TokenizerError("BpeTokenizer::encode: expected UTF-8 text, found byte " +
                                 std::to_string(static_cast<unsigned char>(text[at])) + " at offset " +
                                 std::to_string(at) + " that does not begin a valid UTF-8 character");
        chars.push_back({at, c, class_of(c)});
        at += std::size_t(n);
    }
    const std::size_t n = chars.size();
    const auto emit = [&](std::size_t begin, std::size_t end) {  // characters [begin, end)
        const std::size_t from = chars[begin].at, to = end < n ? chars[end].at : text.size();
        piece(text.substr(from, to - from));
    };
    const auto run = [&](std::size_t i, Class cls) {  // the end of the run of `cls` from i
        while (i < n && chars[i].cls == cls) ++i;
        return i;
    };
    for (std::size_t i = 0; i < n;) {
        const Char& first = chars[i];
        if (first.c == U'\'' && i + 1 < n) {  // 's 't 're 've 'm 'll 'd
            const char32_t a = chars[i + 1].c, b = i + 2 < n ? chars[i + 2].c : 0;
            std::size_t length = 0;
            if (a == U's' || a == U't' || a == U'm' || a == U'd') length = 2;
            if ((a == U'r' && b == U'e') || (a == U'v' && b == U'e') || (a == U'l' && b == U'l')) length = 3;
            if (length) {
                emit(i, i + length);
                i += length;
                continue;
            }
        }
        if (first.cls != Class::space) {  // a run of letters, numbers or other characters
            const std::size_t end = run(i, first.cls);
            emit(i, end);
            i = end;
        } else if (first.c == U' ' && i + 1 < n && chars[i + 1].cls != Class::space) {  // " " and a run
            const std::size_t end = run(i + 1, chars[i + 1].cls);
            emit(i, end);
            i = end;
        } else {  // white space: a run ending at the text's end, else all but its last character
            const std::size_t end = run(i, Class::space);
            const std::size_t cut = end == n || end - i == 1 ? end : end - 1;
            emit(i, cut);
            i = cut;
        }
    }
}

}  // namespace detail::bpe

}  // namespace neuronka
