// What one example contributes to the tour's page (index.html, written by examples/tour_page.cpp):
// the figures it wrote, the figures it measured, and its printed tables as rows of cells. Each
// example writes <out>/report/<name>.tsv when it finishes; the terminal output is unchanged.
//
// The file is line-oriented text, one entry per line, fields separated by tabs (a tab, newline or
// backslash inside a field is written \t, \n, \\):
//   figure  FILE  CAPTION          an image the example wrote into <out>
//   value   LABEL  VALUE           a measured figure of this run (VALUE already formatted)
//   table   TITLE                  starts a table; the header and rows that follow belong to it
//   header  CELL...                the table's column titles
//   row     CELL...                one row of data
//   text    LABEL  TEXT            preformatted output (sampled words, a generated text)
// Labels, captions, titles and headers are the page's own text (tour_page translates them);
// values and row cells are data and appear as they are.
#pragma once

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace examples::report {

/// Writes one loss per line ("%.9g", step 0 first) to `path`, for --losses FILE: what the
/// playground's browser test compares with the same lesson run in WebAssembly.
inline void write_losses(const std::string& path, const std::vector<double>& losses) {
    if (path.empty()) return;
    std::ofstream out(path);
    char line[32];
    for (const double l : losses) {
        std::snprintf(line, sizeof line, "%.9g\n", l);
        out << line;
    }
    if (!out.flush()) throw std::runtime_error("cannot write --losses " + path);
}

inline std::string escape_field(const std::string& s) {
    std::string r;
    for (char c : s) r += c == '\t' ? "\\t" : c == '\n' ? "\\n" : c == '\\' ? "\\\\" : std::string(1, c);
    return r;
}

/// printf into a std::string, for values: `report::format("%.2f %%", 100 * acc)`.
template <class... T>
std::string format(const char* fmt, T... args) {
    char b[256];
    std::snprintf(b, sizeof b, fmt, args...);
    return b;
}

/// One example's entries; write() puts them in <out>/report/<name>.tsv (whole or not at all).
class Step {
public:
    Step(std::string out, std::string name) : out_(std::move(out)), name_(std::move(name)) {}

    Step& figure(const std::string& file, const std::string& caption) { return line({"figure", file, caption}); }
    Step& value(const std::string& label, const std::string& value) { return line({"value", label, value}); }
    Step& table(const std::string& title, std::vector<std::string> header) {
        line({"table", title});
        header.insert(header.begin(), "header");
        return line(header);
    }
    Step& row(std::vector<std::string> cells) {
        cells.insert(cells.begin(), "row");
        return line(cells);
    }
    Step& text(const std::string& label, const std::string& text) { return line({"text", label, text}); }

    void write() const {
        const std::filesystem::path dir = std::filesystem::path(out_) / "report";
        std::filesystem::create_directories(dir);
        const std::filesystem::path path = dir / (name_ + ".tsv"), temp = dir / (name_ + ".tsv.tmp");
        {
            std::ofstream f(temp, std::ios::binary | std::ios::trunc);
            f << body_;
            if (!f.flush()) throw std::runtime_error("cannot write " + temp.string());
        }
        std::filesystem::rename(temp, path);
    }

private:
    Step& line(const std::vector<std::string>& fields) {
        for (std::size_t i = 0; i < fields.size(); ++i) {
            if (i) body_ += '\t';
            body_ += escape_field(fields[i]);
        }
        body_ += '\n';
        return *this;
    }

    std::string out_, name_, body_;
};

}  // namespace examples::report
