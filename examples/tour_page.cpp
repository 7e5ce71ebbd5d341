// tour_page: the lecture tour as one page. Reads the reports the examples left in <out>/report/
// (examples/common/report.hpp) and writes <out>/index.html: one section per step in the lecture's
// order, each with the slide it makes runnable, the point of that slide in a sentence, this run's
// measured figures, its tables as HTML tables and its charts (the SVG files beside the page). The
// page needs no network and no JavaScript, opens from a file:// URL and prints one step per page.
// Options: --out DIR (the tour's folder, default out/tour), --lang en|cs (the page's own text in
// English or in Czech, the lecture's language; numbers and figures are the same), --page FILE
// (default DIR/index.html).
#include "common/cli.hpp"
#include "common/report.hpp"
#include "tour/page_text.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace examples;
namespace fs = std::filesystem;

namespace {

struct Table {
    std::string title;
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
};
struct Entry {  // one line of a report, in order; a table collects its header and rows
    std::string kind;
    std::vector<std::string> fields;
    Table table;
};

std::vector<std::string> split_fields(const std::string& line) {
    std::vector<std::string> out(1);
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '\t')
            out.emplace_back();
        else if (line[i] == '\\' && i + 1 < line.size()) {
            const char c = line[++i];
            out.back() += c == 't' ? '\t' : c == 'n' ? '\n' : c;
        } else
            out.back() += line[i];
    }
    return out;
}

std::vector<Entry> read_report(const fs::path& path) {
    std::ifstream in(path);
    std::vector<Entry> entries;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        std::vector<std::string> f = split_fields(line);
        const std::string kind = f.front();
        f.erase(f.begin());
        auto expect = [&](std::size_t n) {
            if (f.size() != n)
                throw std::runtime_error(path.string() + ":" + std::to_string(number) + ": a '" + kind + "' line has " +
                                         std::to_string(f.size()) + " fields, expected " + std::to_string(n));
        };
        if (kind == "header" || kind == "row") {
            if (entries.empty() || entries.back().kind != "table")
                throw std::runtime_error(path.string() + ":" + std::to_string(number) + ": '" + kind +
                                         "' outside a table");
            Table& t = entries.back().table;
            if (kind == "header")
                t.header = f;
            else if (f.size() != t.header.size())
                throw std::runtime_error(path.string() + ":" + std::to_string(number) + ": a row of " +
                                         std::to_string(f.size()) + " cells under " + std::to_string(t.header.size()) +
                                         " column titles");
            else
                t.rows.push_back(f);
            continue;
        }
        if (kind == "table")
            expect(1), entries.push_back({kind, {}, {f[0], {}, {}}});
        else if (kind == "figure" || kind == "value" || kind == "text")
            expect(2), entries.push_back({kind, f, {}});
        else
            throw std::runtime_error(path.string() + ":" + std::to_string(number) + ": unknown entry '" + kind + "'");
    }
    return entries;
}

std::string html(std::string_view s) {
    std::string r;
    for (char c : s)
        r += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : c == '"' ? "&quot;" : std::string(1, c);
    return r;
}

/// The page's own text in the chosen language. Every page string must have its Czech; data cells
/// are translated only where the dictionary lists them.
class Words {
public:
    explicit Words(bool czech) : czech_(czech) {}
    std::string operator()(std::string_view en) {
        if (!czech_) return html(en);
        const auto it = tour::czech().find(en);
        if (it == tour::czech().end()) {
            missing_.insert(std::string(en));
            return html(en);
        }
        return html(it->second);
    }
    std::string operator()(tour::Text t) const { return html(czech_ ? t.cs : t.en); }
    std::string data(std::string_view cell) const {
        if (!czech_) return html(cell);
        const auto it = tour::czech().find(cell);
        return html(it == tour::czech().end() ? cell : it->second);
    }
    const std::set<std::string>& missing() const { return missing_; }

private:
    bool czech_;
    std::set<std::string> missing_;
};

constexpr const char* style = R"(
body { font-family: sans-serif; max-width: 70em; margin: 0 auto; padding: 1em 2em; color: #222; line-height: 1.4; }
h1 { margin-bottom: 0.2em; }
.run { color: #555; }
nav ol { columns: 2; }
section.step { border-top: 3px solid #1f77b4; margin-top: 2em; padding-top: 0.5em; }
.slide { color: #555; font-style: italic; margin: 0; }
.point { font-size: 1.1em; }
.playground a { font-weight: bold; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; }
caption { text-align: left; font-weight: bold; padding-bottom: 0.3em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; vertical-align: top; }
thead th { background: #eef3f8; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
table.measured th { text-align: left; background: #f6f6f6; font-weight: normal; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 1em 0; break-inside: avoid; flex: 1 1 30em; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.92em; }
pre { white-space: pre-wrap; background: #f6f6f6; padding: 0.5em; }
@media print {
  body { max-width: none; padding: 0; }
  nav { display: none; }
  section.step { border-top: none; margin-top: 0; }
  section.step + section.step { break-before: page; }
  table, pre { break-inside: avoid; }
}
)";

bool is_number(const std::string& s) {
    return !s.empty() && s.find_first_not_of("0123456789.,-+e %") == std::string::npos &&
           s.find_first_of("0123456789") != std::string::npos;
}

std::string now_utc() {
    const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    char b[32];
    std::strftime(b, sizeof b, "%Y-%m-%d %H:%M UTC", std::gmtime(&t));
    return b;
}

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos)
            return line.substr(line.find(':') + 2);
    return "unknown";
}

void write_table(std::ostream& o, Words& w, const Table& t, const std::string& id) {
    o << "<table class=\"data\" id=\"" << id << "\">\n<caption>" << w(t.title) << "</caption>\n<thead><tr>";
    for (const auto& h : t.header) o << "<th scope=\"col\">" << w(h) << "</th>";
    o << "</tr></thead>\n<tbody>\n";
    for (const auto& r : t.rows) {
        o << "<tr>";
        for (const auto& c : r) o << (is_number(c) ? "<td class=\"number\">" : "<td>") << w.data(c) << "</td>";
        o << "</tr>\n";
    }
    o << "</tbody>\n</table>\n";
}

// One step's section: its title, slide and point, the link to its playground lesson, then the report's entries in
// order, with the measured values gathered in one table at the top.
void write_step(std::ostream& o, Words& w, int number, const tour::StepText& step, const fs::path& dir,
                const std::string& lang) {
    o << "<section class=\"step\" id=\"" << step.program << "\">\n<h2>" << w("Step") << ' ' << number << ": "
      << w(step.title) << "</h2>\n<p class=\"slide\">" << w("Slide") << ": " << html(step.slide)
      << "</p>\n<p class=\"point\">" << w(step.point) << "</p>\n";
    // the lesson in the playground (scripts/playground.sh, which the tour runs into OUT/playground)
    const std::string_view lesson = tour::playground_lesson(step.program);
    if (!lesson.empty() && fs::exists(dir / "playground" / "index.html"))
        o << "<p class=\"playground\"><a href=\"playground/index.html" << (lang == "cs" ? "?lang=cs" : "") << '#'
          << lesson << "\">" << w("Try it yourself: this lesson trains live in the playground (in your browser)")
          << "</a></p>\n";
    const fs::path report = dir / "report" / (std::string(step.program) + ".tsv");
    if (!fs::exists(report)) {
        o << "<p class=\"missing\">" << w("This step did not run: its report is missing.") << "</p>\n</section>\n";
        std::fprintf(stderr, "tour_page: %s is missing; the page says that step did not run\n", report.c_str());
        return;
    }
    const std::vector<Entry> entries = read_report(report);
    bool any_value = false;
    for (const auto& e : entries) any_value = any_value || e.kind == "value";
    if (any_value) {
        o << "<table class=\"measured\" id=\"" << step.program << "-measured\">\n<caption>" << w("Measured in this run")
          << "</caption>\n<tbody>\n";
        for (const auto& e : entries)
            if (e.kind == "value")
                o << "<tr><th scope=\"row\">" << w(e.fields[0]) << "</th><td>" << w.data(e.fields[1]) << "</td></tr>\n";
        o << "</tbody>\n</table>\n";
    }
    int tables = 0;
    bool in_figures = false;  // consecutive figures share a row when the page is wide enough
    for (const auto& e : entries) {
        if (in_figures != (e.kind == "figure")) o << (in_figures ? "</div>\n" : "<div class=\"figures\">\n");
        in_figures = e.kind == "figure";
        if (e.kind == "table")
            write_table(o, w, e.table, std::string(step.program) + "-table-" + std::to_string(++tables));
        else if (e.kind == "text")
            o << "<figure class=\"text\"><figcaption>" << w(e.fields[0]) << "</figcaption><pre>" << html(e.fields[1])
              << "</pre></figure>\n";
        else if (e.kind == "figure") {
            if (!fs::exists(dir / e.fields[0]))
                throw std::runtime_error(report.string() + " names " + e.fields[0] + ", which is not in " +
                                         dir.string());
            o << "<figure><img src=\"" << html(e.fields[0]) << "\" alt=\"" << w(e.fields[1]) << "\"><figcaption>"
              << w(e.fields[1]) << " (" << html(e.fields[0]) << ")</figcaption></figure>\n";
        }
    }
    if (in_figures) o << "</div>\n";
    o << "</section>\n";
}

}  // namespace

int main(int argc, char** argv) {
    return cli::run([&] {
        cli::Options args("tour_page", "tour_page: writes the tour's page from the reports in OUT/report", "out/tour");
        std::string lang = "en", page_file;
        args.option("--lang", lang, "the page's language").one_of({"en", "cs"});
        args.option("--page", page_file, "the page to write (default: OUT/index.html)");
        args.parse(argc, argv);
        const fs::path dir = args.out();
        const fs::path page = page_file.empty() ? dir / "index.html" : fs::path(page_file);
        Words w(lang == "cs");

        std::ostringstream o;
        o << "<!DOCTYPE html>\n<html lang=\"" << lang << "\">\n<head>\n<meta charset=\"utf-8\">\n<title>"
          << w("How AI is trained: the neuronka tour") << "</title>\n<style>" << style
          << "</style>\n</head>\n<body>\n<h1>" << w("How AI is trained: the neuronka tour") << "</h1>\n<p>"
          << w("Every step of the lecture, run on this computer. The figures and numbers below are this run's.")
          << "</p>\n<p class=\"run\">" << w("Run") << ": " << w("written") << ' ' << html(now_utc()) << " · "
          << w("computer") << ": " << html(cpu_model()) << "</p>\n<nav><h2>" << w("Contents") << "</h2>\n<ol>\n";
        for (const auto& s : tour::steps) o << "<li><a href=\"#" << s.program << "\">" << w(s.title) << "</a></li>\n";
        o << "</ol></nav>\n";
        int number = 0;
        for (const auto& s : tour::steps) write_step(o, w, ++number, s, dir, lang);
        o << "</body>\n</html>\n";

        if (!w.missing().empty()) {
            std::string list;
            for (const auto& m : w.missing()) list += "\n  " + m;
            throw std::runtime_error("no Czech for " + std::to_string(w.missing().size()) +
                                     " text(s) of the page; add them to examples/tour/page_text.hpp:" + list);
        }
        const fs::path temp = page.string() + ".tmp";
        {
            std::ofstream f(temp, std::ios::binary | std::ios::trunc);
            f << o.str();
            if (!f.flush()) throw std::runtime_error("cannot write " + temp.string());
        }
        fs::rename(temp, page);
        std::printf("%s\n", fs::absolute(page).c_str());
    });
}
