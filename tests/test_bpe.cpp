// The byte-level BPE tokenizer (text/bpe.hpp) against tests/fixtures/bpe/, written by
// make_bpe_fixture.py with Python's `regex` module: Unicode's classes for every code point, GPT-2's
// encoding of texts that reach every rule of its pre-tokenisation, training that makes the same
// merges, and the errors of bad files and bad input.
#include <neuronka/text/bpe.hpp>

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace {
const std::string dir = std::string(NEURONKA_FIXTURE_DIR) + "/bpe/";

std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}
std::string temp_dir() {
    const auto d = std::filesystem::temp_directory_path() / ("neuronka_bpe_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d.string() + "/";
}
neuronka::BpeTokenizer fixture() {
    return neuronka::BpeTokenizer::load(dir + "vocab.json", dir + "merges.txt");
}
}  // namespace

TEST_CASE("Letters, numbers and white space are those of Python's regex for every code point", "[bpe]") {
    using neuronka::detail::bpe::Class;
    std::vector<Class> expected(0x110000, Class::other);
    std::istringstream lines(read(dir + "classes.txt"));
    std::string line;
    int ranges = 0;
    while (std::getline(lines, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        std::string name;
        unsigned first = 0, last = 0;
        fields >> name >> std::hex >> first >> last;
        const Class cls = name == "space" ? Class::space : name == "letter" ? Class::letter : Class::number;
        for (unsigned c = first; c <= last; ++c) expected[c] = cls;
        ++ranges;
    }
    REQUIRE(ranges > 700);
    int differ = 0;
    for (char32_t c = 0; c < 0x110000; ++c) {
        if (c >= 0xD800 && c <= 0xDFFF) continue;
        if (neuronka::detail::bpe::class_of(c) != expected[c] && ++differ <= 10)
            FAIL_CHECK("code point " << std::hex << unsigned(c) << ": class differs from regex's");
    }
    CHECK(differ == 0);
}

TEST_CASE("The byte alphabet is GPT-2's: 256 distinct printable characters, inverted by byte_of", "[bpe]") {
    const auto& table = neuronka::detail::bpe::byte_code_points();
    CHECK(table['A'] == U'A');
    CHECK(table[' '] == U'\u0120');   // GPT-2's "Ġ"
    CHECK(table['\n'] == U'\u010A');  // "Ċ"
    CHECK(table[0xAD] == U'\u0143');  // the soft hyphen, the last unprintable byte below 0xFF
    for (int b = 0; b < 256; ++b) CHECK(neuronka::detail::bpe::byte_of(table[b]) == b);
    CHECK(neuronka::detail::bpe::byte_of(U' ') == -1);
    CHECK(neuronka::detail::bpe::byte_of(U'\u0144') == -1);
}

TEST_CASE("Encoding equals GPT-2's algorithm on texts reaching every rule, and decodes back", "[bpe]") {
    const auto t = fixture();
    CHECK(t.vocab_size() == 400);
    CHECK(t.merge_count() == 144);
    std::istringstream lines(read(dir + "encodings.txt"));
    std::string json, ids_line;
    int texts = 0;
    while (std::getline(lines, json)) {
        if (json.empty() || json[0] == '#') continue;
        REQUIRE(std::getline(lines, ids_line));
        const std::string text = nlohmann::json::parse(json).get<std::string>();
        std::vector<int> expected;
        std::istringstream numbers(ids_line);
        for (int id; numbers >> id;) expected.push_back(id);
        INFO("text " << json);
        const std::vector<int> ids = t.encode(text);
        CHECK(ids == expected);
        CHECK(t.decode(ids) == text);
        ++texts;
    }
    CHECK(texts == 16);
}

TEST_CASE("Pieces follow GPT-2's rule: contractions, one leading space, white space before a word", "[bpe]") {
    const auto pieces = [](std::string_view text) {
        std::vector<std::string> out;
        neuronka::detail::bpe::split(text, [&](std::string_view p) { out.emplace_back(p); });
        return out;
    };
    using V = std::vector<std::string>;
    CHECK(pieces("I'm here, they've") == V{"I", "'m", " here", ",", " they", "'ve"});
    CHECK(pieces("DON'T 'sa") == V{"DON", "'", "T", " '", "sa"});
    CHECK(pieces("a  \n\n b") == V{"a", "  \n\n", " b"});
    CHECK(pieces("x\ny   ") == V{"x", "\n", "y", "   "});
    CHECK(pieces("3.14 v2") == V{"3", ".", "14", " v", "2"});
    CHECK(pieces("učí se") == V{"učí", " se"});
    CHECK(pieces("").empty());
}

TEST_CASE("Training makes the reference's merges and vocabulary; save and load keep them", "[bpe]") {
    const std::string text = read(dir + "train.txt");
    const auto trained = neuronka::BpeTokenizer::train(text, 400);
    const auto reference = fixture();
    REQUIRE(trained.vocab_size() == reference.vocab_size());
    for (int id = 0; id < reference.vocab_size(); ++id) CHECK(trained.token(id) == reference.token(id));
    const std::string out = temp_dir();
    trained.save(out + "vocab.json", out + "merges.txt");
    CHECK(read(out + "merges.txt") == read(dir + "merges.txt"));
    const auto reloaded = neuronka::BpeTokenizer::load(out + "vocab.json", out + "merges.txt");
    const std::vector<int> ids = reloaded.encode(text);
    CHECK(ids == trained.encode(text));
    CHECK(ids == reference.encode(text));
    CHECK(reloaded.decode(ids) == text);
    CHECK(ids.size() < text.size() * 2 / 3);  // 144 merges compress the text they were trained on
    std::filesystem::remove_all(out);
}

TEST_CASE("Training stops when no two tokens are adjacent; a repeated concatenation adds no token", "[bpe]") {
    const auto t = neuronka::BpeTokenizer::train("aaaa", 1000);
    // "aaaa": a+a -> aa, aa+aa -> aaaa; then one token is left.
    CHECK(t.merge_count() == 2);
    CHECK(t.vocab_size() == 258);
    CHECK(t.encode("aaaa") == std::vector<int>{257});
    CHECK(t.encode("aaa") == std::vector<int>{256, t.id("a")});
    const auto u = neuronka::BpeTokenizer::train("abc abc ab+c", 1000);
    CHECK(u.decode(u.encode("abc ab+c abcabc")) == "abc ab+c abcabc");
}

TEST_CASE("Bad input and bad files are clear errors", "[bpe][errors]") {
    using Catch::Matchers::Contains;
    const auto t = fixture();
    CHECK_THROWS_WITH(t.encode("ok \xC3("), Contains("expected UTF-8 text") && Contains("offset 3"));
    CHECK_THROWS_WITH(t.encode("\xED\xA0\x80"), Contains("offset 0"));  // a surrogate
    CHECK_THROWS_WITH(t.encode("\xC0\xAF"), Contains("offset 0"));      // an overlong '/'
    CHECK_THROWS_WITH(t.decode(std::vector<int>{3, 400}), Contains("expected a token id") && Contains("found 400"));
    CHECK_THROWS_WITH(t.decode(std::vector<int>{-1}), Contains("found -1"));
    CHECK_THROWS_WITH(neuronka::BpeTokenizer::train("x", 100), Contains("vocab_size >= 256"));

    const std::string out = temp_dir();
    const std::string vocab = read(dir + "vocab.json"), merges = read(dir + "merges.txt");
    const auto load = [&] { return neuronka::BpeTokenizer::load(out + "vocab.json", out + "merges.txt"); };
    write(out + "vocab.json", vocab);
    write(out + "merges.txt", merges + "Ġ nope\n");
    CHECK_THROWS_WITH(load(), Contains("line 146") && Contains("\"nope\" in the vocabulary"));
    write(out + "merges.txt", "#version: 0.2\nĠ t\nĠt\n");
    CHECK_THROWS_WITH(load(), Contains("line 3: expected two tokens separated by one space"));
    write(out + "merges.txt", "Ġ t\nĠ t\n");
    CHECK_THROWS_WITH(load(), Contains("each merge once"));
    write(out + "merges.txt", merges);
    write(out + "vocab.json", "[1, 2]");
    CHECK_THROWS_WITH(load(), Contains("expected a JSON object from token to id, found a array"));
    write(out + "vocab.json", "{\"a\": 1");
    CHECK_THROWS_WITH(load(), Contains("invalid JSON"));
    write(out + "vocab.json", "{\"a\": 1, \"b\": 1}");
    CHECK_THROWS_WITH(load(), Contains("each id once") && Contains("id 1"));
    write(out + "vocab.json", "{\"a\": -4}");
    CHECK_THROWS_WITH(load(), Contains("token \"a\": expected an id"));
    write(out + "vocab.json", "{\"a b\": 0}");
    CHECK_THROWS_WITH(load(), Contains("byte alphabet") && Contains("Hint"));
    write(out + "vocab.json", "{\"a\": 0}");
    CHECK_THROWS_WITH(load(), Contains("a token for every byte"));
    CHECK_THROWS_WITH(neuronka::BpeTokenizer::load(out + "missing.json", out + "merges.txt"),
                      Contains("missing.json: cannot open"));
    std::filesystem::remove_all(out);
}
