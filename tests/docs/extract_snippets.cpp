// Writes every ```cpp block of a Markdown page into one C++ translation unit, so that the build
// compiles what the docs show (tests/docs/CMakeLists.txt). Usage: extract_snippets PAGE.md OUT.cpp
//
// Each block gets a namespace of its own, which sees `neuronka` and every earlier block's namespace.
// A block that shows statements is the body of a function there; one that declares things (types,
// functions, a whole program) stands at namespace scope, where the blocks after it see them. An
// HTML comment right before the block, invisible on the rendered page, says which and gives what
// the block assumes:
//
//     <!-- compile: function         (or: file, or: skip because ...)
//     Sequential<Dense<float, 2, 8>> model;   // declarations the block uses, before it
//     ---                                     // optional: what follows the block (closing a struct)
//     };
//     -->
//
// Without a comment a block is a function body, or at namespace scope when it has `int main(`,
// `#include` or `TEST_CASE`. `#include <...>` lines move to the top of the file; `#include "..."`
// names a file an earlier block of the page shows, and is dropped. A whole program (`int main(`)
// stands outside the namespaces. `#line` directives make every error point at the page and line it
// came from.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Block {
    int line = 0;  // the page's line of the block's first code line
    std::vector<std::string> code;
    std::string mode;  // "function", "file" or "skip"
    int context_line = 0;
    std::vector<std::string> context, after;
};

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.rfind(prefix, 0) == 0;
}

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<Block> read_blocks(std::istream& in, const std::string& page) {
    std::vector<Block> blocks;
    std::string line, pending_mode;
    std::vector<std::string> pending_context;
    int n = 0, pending_context_line = 0;
    bool in_comment = false, in_block = false, in_other_block = false;
    while (std::getline(in, line)) {
        ++n;
        if (in_block) {
            if (starts_with(trim(line), "```")) {
                in_block = false;
                continue;
            }
            blocks.back().code.push_back(line);
            continue;
        }
        if (in_other_block) {
            if (starts_with(trim(line), "```")) in_other_block = false;
            continue;
        }
        if (in_comment) {
            if (trim(line) == "-->") {
                in_comment = false;
                continue;
            }
            pending_context.push_back(line);
            continue;
        }
        if (starts_with(line, "<!-- compile:")) {
            std::string rest = trim(line.substr(13));
            const bool closes = rest.size() >= 3 && rest.compare(rest.size() - 3, 3, "-->") == 0;
            if (closes) rest = trim(rest.substr(0, rest.size() - 3));
            pending_mode = rest.substr(0, rest.find(' '));
            if (pending_mode != "function" && pending_mode != "file" && pending_mode != "skip") {
                std::cerr << page << ":" << n << ": unknown compile mode '" << pending_mode
                          << "' (function, file or skip)\n";
                std::exit(1);
            }
            pending_context.clear();
            pending_context_line = n + 1;
            in_comment = !closes;
            continue;
        }
        if (trim(line) == "```cpp") {
            Block b;
            b.line = n + 1;
            b.mode = pending_mode;
            for (const auto& l : pending_context)
                (trim(l) == "---" || !b.after.empty() ? b.after : b.context).push_back(l);
            if (!b.after.empty()) b.after.erase(b.after.begin());  // the --- itself
            b.context_line = pending_context_line;
            blocks.push_back(b);
            pending_mode.clear(), pending_context.clear();
            in_block = true;
            continue;
        }
        if (starts_with(trim(line), "```")) {
            in_other_block = true;
            continue;
        }
        if (!trim(line).empty()) pending_mode.clear(), pending_context.clear();  // a comment binds the next block
    }
    return blocks;
}

bool contains(const std::vector<std::string>& lines, const std::string& what) {
    for (const auto& l : lines)
        if (l.find(what) != std::string::npos) return true;
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: extract_snippets PAGE.md OUT.cpp\n";
        return 2;
    }
    const std::string page = argv[1];
    std::ifstream in(page);
    if (!in) {
        std::cerr << "extract_snippets: cannot read " << page << "\n";
        return 1;
    }
    std::vector<Block> blocks = read_blocks(in, page);

    std::ostringstream head, body;
    head << "// Generated from " << page << " by tests/docs/extract_snippets.cpp: its C++ blocks, compiled.\n"
         << "#include <neuronka/data/csv.hpp>\n#include <neuronka/data/idx.hpp>\n"
         << "#include <neuronka/io/safetensors.hpp>\n#include <neuronka/neuronka.hpp>\n"
         << "#include <neuronka/train/experiment.hpp>\n#include <neuronka/train/experiment_files.hpp>\n"
         << "#include <neuronka/train/fit.hpp>\n#include <cstdio>\n#include <iostream>\n#include <string>\n"
         << "#include <vector>\n";
    head << "using namespace neuronka;\n";
    int index = 0;
    for (Block& b : blocks) {
        ++index;
        if (b.mode.empty())
            b.mode = contains(b.code, "int main(") || contains(b.code, "#include") || contains(b.code, "TEST_CASE")
                         ? "file"
                         : "function";
        if (b.mode == "skip") {  // an empty namespace, for the blocks after it
            body << "\nnamespace snippet_" << index << " {}\n";
            continue;
        }
        for (auto& l : b.code)  // includes go to the top; a blank line keeps the numbering
            if (starts_with(trim(l), "#include") || starts_with(trim(l), "#pragma once")) {
                if (starts_with(trim(l), "#include <")) head << trim(l) << "\n";
                l.clear();
            }
        const bool function = b.mode == "function";
        if (contains(b.code, "int main(")) {  // a whole program: its main is the file's
            body << "\nnamespace snippet_" << index << " {}\n#line " << b.line << " \"" << page << "\"\n";
            for (const auto& l : b.code) body << l << "\n";
            continue;
        }
        body << "\nnamespace snippet_" << index << " {\n";
        for (int earlier = 1; earlier < index; ++earlier) body << "using namespace snippet_" << earlier << ";\n";
        if (!b.context.empty()) {
            body << "#line " << b.context_line << " \"" << page << "\"\n";
            for (const auto& l : b.context) body << l << "\n";
        }
        if (function) body << "[[maybe_unused]] void snippet() {\n";
        body << "#line " << b.line << " \"" << page << "\"\n";
        for (const auto& l : b.code) body << l << "\n";
        if (function) body << "}\n";
        for (const auto& l : b.after) body << l << "\n";
        body << "}  // namespace snippet_" << index << "\n";
    }
    std::ofstream out(argv[2]);
    out << head.str() << body.str();
    if (!out) {
        std::cerr << "extract_snippets: cannot write " << argv[2] << "\n";
        return 1;
    }
    return 0;
}
