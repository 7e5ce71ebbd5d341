/// @file
/// @brief Reads a CSV file of numbers into a Dataset: an optional header line, numeric feature
/// columns, and one label column (chosen by name or index) holding class indices, class names or a
/// regression target. Every error names the file, the line and the column.
///
/// @code
/// // sepal_length,sepal_width,petal_length,petal_width,species
/// // 5.1,3.5,1.4,0.2,setosa
/// Dataset<double, 4> iris = read_csv<double, 4>("iris.csv", {.label = "species"});
/// // iris.classes == 3, iris.class_names == {"setosa", "versicolor", "virginica"}
/// @endcode
#pragma once

#include "dataset.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace neuronka {

/// Whether the first line of a CSV file names the columns.
enum class CsvHeader {
    detect,   ///< it does when one of its feature cells is not a number
    present,  ///< it does
    absent    ///< every line holds a sample
};

/// What the label column holds.
enum class CsvLabel {
    classes,  ///< class indices 0, 1, ... (also written 1.0 or 1e0) or class names (numbered in sorted order)
    target,   ///< a number to regress (Dataset::targets, 1 × N)
    none      ///< there is no label column: every column is a feature
};

/// How read_csv() reads a file.
struct CsvOptions {
    char delimiter = ',';                          ///< between cells (not a quote or a line break)
    CsvHeader header = CsvHeader::detect;          ///< whether the first line names the columns
    std::string label = {};                        ///< the label column by its name in the header, or
    int label_index = -1;                          ///< by its 0-based index; with neither, the last column
    CsvLabel label_kind = CsvLabel::classes;       ///< what the label column holds
    int classes = 0;                               ///< class indices must be below this (0: the largest + 1)
    std::size_t max_bytes = std::size_t(1) << 30;  ///< larger files are refused before reading
};

namespace detail {

/// Splits CSV text into records of cells (RFC 4180 quoting: "a,b" and "say ""hi"""), calling
/// `record(cells, line)` with the 1-based line each record starts on. Blank lines are skipped.
template <class F>
void csv_records(std::string_view text, char delimiter, const std::string& source, F&& record) {
    std::vector<std::string> cells(1);
    std::size_t line = 1, start_line = 1;
    bool quoted = false, was_quoted = false;
    std::size_t quote_line = 0, quote_column = 0;
    auto finish = [&] {
        if (!(cells.size() == 1 && cells[0].empty() && !was_quoted)) record(cells, start_line);
        cells.assign(1, std::string());
        was_quoted = false;
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char ch = text[i];
        if (quoted) {
            if (ch == '"' && i + 1 < text.size() && text[i + 1] == '"')
                cells.back() += '"', ++i;
            else if (ch == '"')
                quoted = false;
            else {
                if (ch == '\n') ++line;
                cells.back() += ch;
            }
        } else if (ch == '"' &&
                   std::all_of(cells.back().begin(), cells.back().end(), [](char c) { return c == ' '; })) {
            cells.back().clear();
            quoted = was_quoted = true, quote_line = line, quote_column = cells.size();
        } else if (ch == delimiter) {
            cells.emplace_back();
        } else if (ch == '\n') {
            finish();
            start_line = ++line;
        } else if (ch != '\r') {
            cells.back() += ch;
        }
    }
    if (quoted)
        throw DataError(source + ":" + std::to_string(quote_line) + ":" + std::to_string(quote_column) +
                        ": a quoted cell is never closed. Hint: a quote inside a quoted cell is written \"\"");
    finish();
}

inline std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

/// The cell as a finite number, or false.
inline bool csv_number(std::string_view cell, double& value) {
    cell = trim(cell);
    if (!cell.empty() && cell.front() == '+') cell.remove_prefix(1);
    const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
    return !cell.empty() && ec == std::errc() && end == cell.data() + cell.size() && std::isfinite(value);
}

}  // namespace detail

/// Parses CSV `text` into a Dataset with Features feature columns; `source` names it in messages.
template <class Scalar, int Features>
Dataset<Scalar, Features> parse_csv(std::string_view text, const CsvOptions& o = {},
                                    const std::string& source = "CSV text") {
    static_assert(Features > 0, "parse_csv<Scalar, Features>: Features must be positive");
    if (o.delimiter == '"' || o.delimiter == '\n' || o.delimiter == '\r')
        throw std::invalid_argument("parse_csv: the delimiter cannot be a quote or a line break");
    const bool has_label = o.label_kind != CsvLabel::none;
    std::vector<std::string> names;      // the header's cells, if there is one
    std::size_t columns = 0, label = 0;  // label: the label column's index
    std::size_t first_line = 0, rows = 0;
    std::vector<double> values;  // Features per sample
    std::vector<std::string> label_cells;
    std::vector<std::size_t> label_lines;
    auto where = [&](std::size_t line, std::size_t column) {
        return source + ":" + std::to_string(line) + ":" + std::to_string(column + 1) + ": ";
    };
    auto column_name = [&](std::size_t c) {
        return names.empty() ? "column " + std::to_string(c + 1) : "column '" + names[c] + "'";
    };
    auto resolve_label = [&] {
        if (!has_label) return;
        if (!o.label.empty()) {
            if (names.empty())
                throw DataError(source + ": the label column is named '" + o.label +
                                "' but the file has no header line");
            const auto it = std::find(names.begin(), names.end(), o.label);
            if (it == names.end()) {
                std::string all;
                for (const auto& n : names) all += (all.empty() ? "'" : ", '") + n + "'";
                throw DataError(source + ": no column is named '" + o.label + "'; the header names " + all);
            }
            label = std::size_t(it - names.begin());
        } else if (o.label_index >= 0) {
            if (std::size_t(o.label_index) >= columns)
                throw DataError(source + ": label_index " + std::to_string(o.label_index) +
                                " is out of range: the file has " + std::to_string(columns) + " columns");
            label = std::size_t(o.label_index);
        } else {
            label = columns - 1;
        }
    };
    detail::csv_records(text, o.delimiter, source, [&](const std::vector<std::string>& cells, std::size_t line) {
        if (columns == 0) {  // the first record: the header, or the first sample
            columns = cells.size(), first_line = line;
            if (columns != std::size_t(Features) + (has_label ? 1 : 0))
                throw DataError(source + ":" + std::to_string(line) + ": " + std::to_string(columns) +
                                " columns, expected " + std::to_string(Features) + " features" +
                                (has_label ? " and a label" : "") +
                                ". Hint: the data set's Features must match the file");
            bool header = o.header == CsvHeader::present || !o.label.empty();
            if (o.header == CsvHeader::detect && !header) {
                resolve_label();
                double v;
                for (std::size_t c = 0; c < columns && !header; ++c)
                    header = (!has_label || c != label) && !detail::csv_number(cells[c], v);
            }
            if (header && o.header == CsvHeader::absent)
                throw DataError(source + ": a label column named '" + o.label +
                                "' needs a header line, but header is absent");
            if (header) {
                for (const auto& c : cells) names.emplace_back(detail::trim(c));
                resolve_label();
                return;
            }
            resolve_label();
        }
        if (cells.size() != columns)
            throw DataError(source + ":" + std::to_string(line) + ": " + std::to_string(cells.size()) +
                            " columns, expected " + std::to_string(columns) + " as on line " +
                            std::to_string(first_line) + ". Hint: a cell holding the delimiter must be quoted");
        for (std::size_t c = 0; c < columns; ++c) {
            if (has_label && c == label) {
                label_cells.emplace_back(detail::trim(cells[c]));
                label_lines.push_back(line);
                if (label_cells.back().empty())
                    throw DataError(where(line, c) + "the label is empty (" + column_name(c) + ")");
                continue;
            }
            double v;
            if (!detail::csv_number(cells[c], v)) {
                const std::string_view cell = detail::trim(cells[c]);
                throw DataError(where(line, c) +
                                (cell.empty() ? std::string("empty cell (a missing value?)")
                                              : "'" + std::string(cell.substr(0, 40)) + "' is not a finite number") +
                                " in " + column_name(c) + ". Hint: feature columns hold numbers");
            }
            if (!std::isfinite(double(Scalar(v))))
                throw DataError(where(line, c) + std::string(detail::trim(cells[c])) +
                                " is out of the range of the scalar type in " + column_name(c));
            values.push_back(v);
        }
        ++rows;
    });
    if (rows == 0) throw DataError(source + ": no samples" + (names.empty() ? "" : " after the header line"));
    Dataset<Scalar, Features> d;
    d.x = Eigen::Map<const Eigen::Matrix<double, Features, Eigen::Dynamic>>(values.data(), Features, Eigen::Index(rows))
              .template cast<Scalar>();
    if (o.label_kind == CsvLabel::target) {
        d.targets.resize(1, Eigen::Index(rows));
        for (std::size_t i = 0; i < rows; ++i) {
            double v;
            if (!detail::csv_number(label_cells[i], v) || !std::isfinite(double(Scalar(v))))
                throw DataError(where(label_lines[i], label) + "target '" + label_cells[i].substr(0, 40) +
                                "' is not a finite number in " + column_name(label));
            d.targets(0, Eigen::Index(i)) = Scalar(v);
        }
    } else if (o.label_kind == CsvLabel::classes) {
        // Class indices when every label is a number ("2", "2.0", "2e0"): all must be whole numbers;
        // class names (sorted as text) as soon as one label is not a number.
        std::vector<int> indices(rows);
        bool numeric = true;
        std::size_t fraction = rows;  // the first number that is not a whole one
        for (std::size_t i = 0; i < rows && numeric; ++i) {
            double v = 0;
            numeric = detail::csv_number(label_cells[i], v);
            if (numeric && v == std::floor(v) && std::abs(v) <= 1e9)
                indices[i] = int(v);
            else if (numeric && fraction == rows)
                fraction = i;
        }
        if (numeric && fraction < rows)
            throw DataError(where(label_lines[fraction], label) + "class label '" +
                            label_cells[fraction].substr(0, 40) + "' is not a whole number in " + column_name(label) +
                            ". Hint: labels are class indices or names; a value to predict is a target (label_kind = "
                            "CsvLabel::target)");
        if (numeric) {
            int largest = 0;
            for (std::size_t i = 0; i < rows; ++i) {
                if (indices[i] < 0 || (o.classes > 0 && indices[i] >= o.classes))
                    throw DataError(where(label_lines[i], label) + "class " + std::to_string(indices[i]) +
                                    " is out of range [0, " +
                                    (o.classes > 0 ? std::to_string(o.classes) : std::string("...")) + ") in " +
                                    column_name(label));
                largest = std::max(largest, indices[i]);
            }
            d.classes = o.classes > 0 ? o.classes : largest + 1;
        } else {  // class names, numbered in sorted order
            std::map<std::string, int> ids;
            for (const auto& s : label_cells) ids.emplace(s, 0);
            if (o.classes > 0 && ids.size() > std::size_t(o.classes))
                throw DataError(source + ": " + column_name(label) + " names " + std::to_string(ids.size()) +
                                " classes, expected at most " + std::to_string(o.classes));
            for (auto& [name, id] : ids) id = int(d.class_names.size()), d.class_names.push_back(name);
            for (std::size_t i = 0; i < rows; ++i) indices[i] = ids.at(label_cells[i]);
            d.classes = o.classes > 0 ? o.classes : int(ids.size());
        }
        d.labels = std::move(indices);
    }
    return d;
}

/// Reads the CSV file at `path` (see parse_csv()).
template <class Scalar, int Features>
Dataset<Scalar, Features> read_csv(const std::string& path, const CsvOptions& o = {}) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw DataError(path + ": cannot open the file");
    const std::streamoff size = in.tellg();
    if (size < 0) throw DataError(path + ": cannot determine the file's size");
    if (std::uint64_t(size) > o.max_bytes)
        throw DataError(path + ": " + std::to_string(size) +
                        " bytes, more than max_bytes = " + std::to_string(o.max_bytes));
    std::string text(static_cast<std::size_t>(size), '\0');
    in.seekg(0);
    in.read(text.data(), size);
    if (!in) throw DataError(path + ": reading the file failed");
    return parse_csv<Scalar, Features>(text, o, path);
}

}  // namespace neuronka
