// A tiny SVG chart writer shared by neuronka's examples: scatter points, lines, bars, and a heat map
// on linear or log axes. No plotting dependency; the output opens in any browser.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace examples::plot {

/// Colours for series, in order.
inline const char* palette(std::size_t i) {
    static const char* colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"};
    return colours[i % 7];
}

/// Blue (0) to white (0.5) to red (1).
inline std::string diverging(double v) {
    v = std::clamp(v, 0.0, 1.0);
    auto mix = [](double a, double b, double t) { return int(std::lround(a + (b - a) * t)); };
    int r, g, b;
    if (v < 0.5)
        r = mix(59, 255, v * 2), g = mix(110, 255, v * 2), b = mix(200, 255, v * 2);
    else
        r = mix(255, 214, v * 2 - 1), g = mix(255, 60, v * 2 - 1), b = mix(255, 50, v * 2 - 1);
    char s[8];
    std::snprintf(s, sizeof s, "#%02x%02x%02x", r, g, b);
    return s;
}

/// White (0) to dark blue (1), for probabilities.
inline std::string sequential(double v) {
    v = std::clamp(v, 0.0, 1.0);
    char s[8];
    std::snprintf(s, sizeof s, "#%02x%02x%02x", int(255 - 225 * v), int(255 - 180 * v), int(255 - 100 * v));
    return s;
}

inline std::string fmt(double v) {
    std::ostringstream o;
    o.precision(3);
    o << (std::abs(v) < 1e-12 ? 0.0 : v);
    return o.str();
}

/// Round tick positions for [lo, hi]: multiples of a step of 1, 2 or 5 times a power of ten, about
/// `target` of them.
inline std::vector<double> nice_ticks(double lo, double hi, int target = 5) {
    const double raw = (hi - lo) / std::max(1, target), decade = std::pow(10, std::floor(std::log10(raw)));
    const double step = raw / decade < 1.5   ? decade
                        : raw / decade < 3.5 ? 2 * decade
                        : raw / decade < 7.5 ? 5 * decade
                                             : 10 * decade;
    std::vector<double> ticks;
    for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + 1e-9 * step; ++k) ticks.push_back(k * step);
    return ticks;
}

/// The step nice_ticks chooses for [lo, hi]: the range rounded out to it keeps ticks on both ends.
inline double nice_step(double lo, double hi, int target = 5) {
    const std::vector<double> t = nice_ticks(lo, hi, target);
    return t.size() > 1 ? t[1] - t[0] : hi - lo;
}

inline std::string escape(const std::string& s) {
    std::string r;
    for (char c : s) r += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : std::string(1, c);
    return r;
}

/// A rectangle in pixels, y down.
struct Box {
    double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    double overlap(const Box& o) const {
        return std::max(0.0, std::min(x1, o.x1) - std::max(x0, o.x0)) *
               std::max(0.0, std::min(y1, o.y1) - std::max(y0, o.y0));
    }
    bool contains(double x, double y) const { return x >= x0 && x <= x1 && y >= y0 && y <= y1; }
};

/// The box of a text of `chars` characters at 12 px sans-serif (an upper estimate of its width).
inline Box text_box(double x, double baseline, std::size_t chars) {
    return {x, baseline - 10, x + 7.0 * double(chars), baseline + 3};
}

/// Places one label per point (pixels) so that labels cover neither each other nor any point: for
/// each point in turn, the first spot, in rings around it, that is free and inside `area`; if none
/// is, the one overlapping least. Returns the label boxes (the text starts at x0, baseline y1 - 3).
inline std::vector<Box> place_labels(const std::vector<std::pair<double, double>>& points,
                                     const std::vector<std::string>& texts, const Box& area) {
    std::vector<Box> marks, placed;
    for (const auto& [x, y] : points) marks.push_back({x - 3.5, y - 3.5, x + 3.5, y + 3.5});
    for (std::size_t i = 0; i < points.size() && i < texts.size(); ++i) {
        const auto [x, y] = points[i];
        const double w = 7.0 * double(texts[i].size()), h = 13;
        Box best;
        double best_cost = std::numeric_limits<double>::infinity();
        for (int ring = 0; ring < 16 && best_cost > 0; ++ring) {
            const double d = 5 + 9 * ring;
            const Box candidates[] = {
                {x + d, y - h / 2, x + d + w, y + h / 2}, {x - d - w, y - h / 2, x - d, y + h / 2},
                {x - w / 2, y - d - h, x + w / 2, y - d}, {x - w / 2, y + d, x + w / 2, y + d + h},
                {x + d, y - d - h, x + d + w, y - d},     {x - d - w, y - d - h, x - d, y - d},
                {x + d, y + d, x + d + w, y + d + h},     {x - d - w, y + d, x - d, y + d + h}};
            for (const Box& c : candidates) {
                double cost = (c.x1 - c.x0) * (c.y1 - c.y0) - c.overlap(area);  // the part outside the plot
                for (const Box& o : placed) cost += c.overlap(o);
                for (const Box& m : marks) cost += c.overlap(m);
                if (cost < best_cost) best_cost = cost, best = c;  // nearer rings first: the nearest free spot wins
                if (best_cost <= 0) break;
            }
        }
        placed.push_back(best);
    }
    return placed;
}

/// A chart with one pair of axes. Add series, then write().
class Chart {
public:
    Chart(std::string title, std::string xlabel, std::string ylabel, int width = 720, int height = 480)
        : title_(std::move(title)), xlabel_(std::move(xlabel)), ylabel_(std::move(ylabel)), w_(width), h_(height) {}

    Chart& log_y(bool on = true) {
        logy_ = on;
        return *this;
    }
    Chart& x_range(double lo, double hi) {
        xlo_ = lo, xhi_ = hi, fixed_x_ = true;
        return *this;
    }
    Chart& y_range(double lo, double hi) {
        ylo_ = lo, yhi_ = hi, fixed_y_ = true;
        return *this;
    }

    Chart& scatter(const std::vector<double>& x, const std::vector<double>& y, std::string colour,
                   std::string label = "") {
        series_.push_back({x, y, std::move(colour), std::move(label), Kind::points});
        return *this;
    }
    /// Points with a text label next to each.
    Chart& labelled(const std::vector<double>& x, const std::vector<double>& y, const std::vector<std::string>& text,
                    std::string colour, std::string label = "") {
        series_.push_back({x, y, std::move(colour), std::move(label), Kind::points, text});
        return *this;
    }
    Chart& line(const std::vector<double>& x, const std::vector<double>& y, std::string colour,
                std::string label = "") {
        series_.push_back({x, y, std::move(colour), std::move(label), Kind::line});
        return *this;
    }
    /// Vertical bars at x = 0, 1, 2, ... with category names under them.
    Chart& bars(const std::vector<std::string>& names, const std::vector<double>& values, std::string colour) {
        std::vector<double> x(values.size());
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = double(i);
        categories_ = names;
        series_.push_back({x, values, std::move(colour), "", Kind::bars});
        return *this;
    }
    /// A grid of cells covering [x0, x1] × [y0, y1], coloured by `colour(value)`; values row-major,
    /// first row at the bottom.
    Chart& heatmap(int nx, int ny, const std::vector<double>& values, double x0, double x1, double y0, double y1,
                   std::string (*colour)(double) = diverging) {
        heat_ = {nx, ny, values, x0, x1, y0, y1, colour};
        if (!fixed_x_) x_range(x0, x1);
        if (!fixed_y_) y_range(y0, y1);
        return *this;
    }

    void write(const std::string& path) {
        finish_ranges();
        if (legend_needs_room())
            w_ += legend_width() + 16, right_ += legend_width() + 16;  // the legend goes beside the plot
        std::ofstream out(path);
        if (!out) throw std::runtime_error("cannot write " + path);
        out << "<svg xmlns='http://www.w3.org/2000/svg' width='" << w_ << "' height='" << h_
            << "' font-family='sans-serif' font-size='12'>\n<rect width='100%' height='100%' fill='white'/>\n";
        out << "<text x='" << w_ / 2 << "' y='22' text-anchor='middle' font-size='15'>" << escape(title_)
            << "</text>\n";
        if (!heat_.values.empty()) draw_heat(out);
        draw_axes(out);
        // Word labels first: the legend then avoids them as it avoids the data.
        const Box area{left_, top_, w_ - right_, h_ - bottom_};
        std::vector<std::pair<double, double>> points;
        std::vector<std::string> texts;
        for (const auto& s : series_)
            for (std::size_t i = 0; i < s.text.size() && i < s.x.size(); ++i)
                points.emplace_back(px(s.x[i]), py(s.y[i])), texts.push_back(s.text[i]);
        const std::vector<Box> label_boxes = place_labels(points, texts, area);
        const Box legend_box = place_legend(label_boxes);
        for (const auto& s : series_) {
            if (s.kind == Kind::line) {
                out << "<polyline fill='none' stroke-width='2' stroke='" << s.colour << "' points='";
                for (std::size_t i = 0; i < s.x.size(); ++i) out << px(s.x[i]) << "," << py(s.y[i]) << " ";
                out << "'/>\n";
            } else if (s.kind == Kind::points) {
                for (std::size_t i = 0; i < s.x.size(); ++i)
                    out << "<circle r='3' fill='" << s.colour << "' fill-opacity='0.75' cx='" << px(s.x[i]) << "' cy='"
                        << py(s.y[i]) << "'/>\n";
            } else {
                const double bw = 0.7 * (px(1) - px(0));
                for (std::size_t i = 0; i < s.x.size(); ++i) {
                    const double top = py(s.y[i]), base = py(logy_ ? ylo_ : std::max(0.0, ylo_));
                    out << "<rect fill='" << s.colour << "' x='" << px(s.x[i]) - bw / 2 << "' y='" << top << "' width='"
                        << bw << "' height='" << std::max(0.0, base - top) << "'/>\n";
                    out << "<text x='" << px(s.x[i]) << "' y='" << top - 4 << "' text-anchor='middle' font-size='10'>"
                        << fmt(s.y[i]) << "</text>\n";
                }
            }
        }
        std::size_t k = 0;  // the labels, with a leader line where a label sits away from its point
        for (const auto& s : series_)
            for (std::size_t i = 0; i < s.text.size() && i < s.x.size(); ++i, ++k) {
                const Box& b = label_boxes[k];
                const double x = px(s.x[i]), y = py(s.y[i]);
                const double cx = std::clamp(x, b.x0, b.x1), cy = std::clamp(y, b.y0, b.y1);
                if (std::hypot(cx - x, cy - y) > 9)
                    out << "<line x1='" << x << "' y1='" << y << "' x2='" << cx << "' y2='" << cy << "' stroke='"
                        << s.colour << "' stroke-width='0.6'/>\n";
                out << "<text x='" << b.x0 << "' y='" << b.y1 - 3 << "' fill='" << s.colour << "'>" << escape(s.text[i])
                    << "</text>\n";
            }
        if (legend_box.x1 > legend_box.x0) {
            out << "<rect x='" << legend_box.x0 << "' y='" << legend_box.y0 << "' width='"
                << legend_box.x1 - legend_box.x0 << "' height='" << legend_box.y1 - legend_box.y0
                << "' fill='white' fill-opacity='0.85' stroke='#999'/>\n";
            int row = 0;
            for (const auto& s : series_) {
                if (s.label.empty()) continue;
                const double y = legend_box.y0 + 14 + 18 * row++;
                out << "<rect x='" << legend_box.x0 + 8 << "' y='" << y - 9 << "' width='12' height='12' fill='"
                    << s.colour << "'/><text x='" << legend_box.x0 + 26 << "' y='" << y + 1 << "'>" << escape(s.label)
                    << "</text>\n";
            }
        }
        out << "</svg>\n";
    }

private:
    enum class Kind { points, line, bars };
    struct Series {
        std::vector<double> x, y;
        std::string colour, label;
        Kind kind;
        std::vector<std::string> text = {};
    };
    struct Heat {
        int nx = 0, ny = 0;
        std::vector<double> values;
        double x0 = 0, x1 = 0, y0 = 0, y1 = 0;
        std::string (*colour)(double) = diverging;
    };

    // Pixels the chart's data occupies, for the legend to avoid: points, line vertices and points
    // along each segment, bars, and `labels`.
    int data_inside(const Box& b, const std::vector<Box>& labels) const {
        int n = 0;
        for (const auto& s : series_)
            for (std::size_t i = 0; i < s.x.size(); ++i) {
                const double x = px(s.x[i]), y = py(s.y[i]);
                if (s.kind == Kind::bars) {
                    const double bw = 0.35 * (px(1) - px(0)), base = py(logy_ ? ylo_ : std::max(0.0, ylo_));
                    n += b.overlap({x - bw, std::min(y, base) - 14, x + bw, std::max(y, base)}) > 0;
                    continue;
                }
                n += b.contains(x, y);
                if (s.kind == Kind::line && i + 1 < s.x.size()) {
                    const double x2 = px(s.x[i + 1]), y2 = py(s.y[i + 1]);
                    const int steps = int(std::hypot(x2 - x, y2 - y) / 3) + 1;
                    for (int k = 1; k < steps; ++k) n += b.contains(x + (x2 - x) * k / steps, y + (y2 - y) * k / steps);
                }
            }
        for (const Box& l : labels) n += b.overlap(l) > 0;
        return n;
    }
    int legend_rows() const {
        int n = 0;
        for (const auto& s : series_) n += !s.label.empty();
        return n;
    }
    double legend_width() const {
        std::size_t widest = 0;
        for (const auto& s : series_) widest = std::max(widest, s.label.size());
        return 34 + 7.0 * double(widest);
    }
    // The legend's candidate spots: the plot's four inner corners, top right first.
    std::vector<Box> legend_spots() const {
        const double w = legend_width(), h = 18.0 * legend_rows() + 8, x0 = left_ + 8, x1 = w_ - right_ - 8,
                     y0 = top_ + 8, y1 = h_ - bottom_ - 8;
        return {{x1 - w, y0, x1, y0 + h}, {x0, y0, x0 + w, y0 + h}, {x1 - w, y1 - h, x1, y1}, {x0, y1 - h, x0 + w, y1}};
    }
    // True when every corner of the plot holds data: the legend then goes beside the plot.
    bool legend_needs_room() const {
        if (legend_rows() == 0) return false;
        std::vector<std::pair<double, double>> points;
        std::vector<std::string> texts;
        for (const auto& s : series_)
            for (std::size_t i = 0; i < s.text.size() && i < s.x.size(); ++i)
                points.emplace_back(px(s.x[i]), py(s.y[i])), texts.push_back(s.text[i]);
        const std::vector<Box> labels = place_labels(points, texts, {left_, top_, w_ - right_, h_ - bottom_});
        for (const Box& b : legend_spots())
            if (data_inside(b, labels) == 0) return false;
        return true;
    }
    // The legend's box: the first corner free of data, else beside the plot (room made by write()).
    Box place_legend(const std::vector<Box>& labels) const {
        if (legend_rows() == 0) return {};
        for (const Box& b : legend_spots())
            if (data_inside(b, labels) == 0) return b;
        const double w = legend_width(), x0 = w_ - w - 8;
        return {x0, top_, x0 + w, top_ + 18.0 * legend_rows() + 8};
    }

    double ty(double y) const { return logy_ ? std::log10(y) : y; }
    double px(double x) const { return left_ + (x - xlo_) / (xhi_ - xlo_) * (w_ - left_ - right_); }
    double py(double y) const {
        return h_ - bottom_ - (ty(y) - ty(ylo_)) / (ty(yhi_) - ty(ylo_)) * (h_ - top_ - bottom_);
    }

    void finish_ranges() {
        double xl = std::numeric_limits<double>::infinity(), xh = -xl, yl = xl, yh = -xl;
        for (const auto& s : series_)
            for (std::size_t i = 0; i < s.x.size(); ++i) {
                xl = std::min(xl, s.x[i]), xh = std::max(xh, s.x[i]);
                if (!logy_ || s.y[i] > 0) yl = std::min(yl, s.y[i]), yh = std::max(yh, s.y[i]);
            }
        if (!categories_.empty())
            xl -= 0.6, xh += 0.6, yl = logy_ ? yl / 100 : std::min(0.0, yl), yh *= logy_ ? 5 : 1.15;
        if (!fixed_x_) xlo_ = xl, xhi_ = xh;
        if (!fixed_y_) ylo_ = yl, yhi_ = yh;
        if (!(xhi_ > xlo_)) xhi_ = xlo_ + 1;
        if (!(yhi_ > ylo_)) yhi_ = ylo_ + (logy_ ? ylo_ * 10 : 1);
        // a range of its own is rounded out to round ticks (whole decades on a log axis)
        if (!fixed_x_ && categories_.empty()) {
            const double step = nice_step(xlo_, xhi_);
            xlo_ = std::floor(xlo_ / step + 1e-9) * step, xhi_ = std::ceil(xhi_ / step - 1e-9) * step;
        }
        if (!fixed_y_ && logy_) {
            ylo_ = std::pow(10, std::floor(std::log10(ylo_) + 1e-9)),
            yhi_ = std::pow(10, std::ceil(std::log10(yhi_) - 1e-9));
        } else if (!fixed_y_) {
            const double step = nice_step(ylo_, yhi_);
            ylo_ = std::floor(ylo_ / step + 1e-9) * step, yhi_ = std::ceil(yhi_ / step - 1e-9) * step;
        }
    }

    // Tick values of the y axis: round steps, or whole decades (every k-th when there are many).
    std::vector<double> y_ticks() const {
        if (!logy_) return nice_ticks(ylo_, yhi_);
        const int first = int(std::ceil(std::log10(ylo_) - 1e-9)), last = int(std::floor(std::log10(yhi_) + 1e-9));
        const int every = std::max(1, (last - first + 7) / 8);
        std::vector<double> ticks;
        for (int k = first; k <= last; k += every) ticks.push_back(std::pow(10, k));
        return ticks;
    }
    // A decade as 10 with its exponent raised (1 and 10 as themselves).
    static std::string decade_label(double v) {
        const int k = int(std::lround(std::log10(v)));
        if (k == 0 || k == 1) return k == 0 ? "1" : "10";
        return "10<tspan dy='-6' font-size='9'>" + std::to_string(k) + "</tspan>";
    }

    void draw_heat(std::ofstream& out) const {
        const double cw = (heat_.x1 - heat_.x0) / heat_.nx, ch = (heat_.y1 - heat_.y0) / heat_.ny;
        for (int j = 0; j < heat_.ny; ++j)
            for (int i = 0; i < heat_.nx; ++i) {
                const double x = heat_.x0 + i * cw, y = heat_.y0 + (j + 1) * ch;
                out << "<rect x='" << px(x) << "' y='" << py(y) << "' width='" << px(x + cw) - px(x) + 0.5
                    << "' height='" << py(y - ch) - py(y) + 0.5 << "' fill='"
                    << heat_.colour(heat_.values[std::size_t(j) * heat_.nx + i]) << "'/>\n";
            }
    }

    void draw_axes(std::ofstream& out) const {
        const double x0 = left_, x1 = w_ - right_, y0 = h_ - bottom_, y1 = top_;
        out << "<rect x='" << x0 << "' y='" << y1 << "' width='" << x1 - x0 << "' height='" << y0 - y1
            << "' fill='none' stroke='#333'/>\n";
        if (categories_.empty())
            for (double v : nice_ticks(xlo_, xhi_)) {
                out << "<line x1='" << px(v) << "' x2='" << px(v) << "' y1='" << y0 << "' y2='" << y1
                    << "' stroke='#ddd' stroke-width='0.5'/>\n";
                out << "<text x='" << px(v) << "' y='" << y0 + 16 << "' text-anchor='middle'>" << fmt(v) << "</text>\n";
            }
        for (std::size_t i = 0; i < categories_.size(); ++i)
            out << "<text x='" << px(double(i)) << "' y='" << y0 + 16 << "' text-anchor='middle' font-size='10'>"
                << escape(categories_[i]) << "</text>\n";
        std::size_t widest = 0;  // characters of the longest y tick label, to keep the axis title clear of it
        for (double v : y_ticks()) {
            const std::string label = logy_ ? decade_label(v) : fmt(v);
            widest = std::max(widest, logy_ ? std::size_t(4) : label.size());
            out << "<line x1='" << x0 << "' x2='" << x1 << "' y1='" << py(v) << "' y2='" << py(v)
                << "' stroke='#ddd' stroke-width='0.5'/>\n";
            out << "<text x='" << x0 - 6 << "' y='" << py(v) + 4 << "' text-anchor='end'>" << label << "</text>\n";
        }
        const double title_x = std::min(16.0, x0 - 6 - 7.0 * double(widest) - 8);
        out << "<text x='" << (x0 + x1) / 2 << "' y='" << h_ - 12 << "' text-anchor='middle'>" << escape(xlabel_)
            << "</text>\n<text transform='translate(" << std::max(10.0, title_x) << "," << (y0 + y1) / 2
            << ") rotate(-90)' text-anchor='middle'>" << escape(ylabel_) << "</text>\n";
    }

    std::string title_, xlabel_, ylabel_;
    int w_, h_;
    double left_ = 70, right_ = 20, top_ = 36, bottom_ = 48;
    bool logy_ = false, fixed_x_ = false, fixed_y_ = false;
    double xlo_ = 0, xhi_ = 1, ylo_ = 0, yhi_ = 1;
    std::vector<Series> series_;
    std::vector<std::string> categories_;
    Heat heat_;
};

/// Heat maps of several matrices side by side, values in [0, 1] (white to dark blue), each cell
/// labelled by its row (left) and column (top) names. For attention maps: rows are queries.
struct Panel {
    std::string title;
    std::vector<std::vector<double>> values;  // rows
};
inline void matrices(const std::string& path, const std::string& title, const std::vector<Panel>& panels,
                     const std::vector<std::string>& row_labels, const std::vector<std::string>& col_labels,
                     const std::string& row_axis, const std::string& col_axis) {
    const int cell = 26, pad = 70, gap = 50;
    const int rows = int(row_labels.size()), cols = int(col_labels.size());
    const int w = pad + int(panels.size()) * (cols * cell + gap), h = pad + 40 + rows * cell + 40;
    std::ofstream out(path);
    if (!out) throw std::runtime_error("cannot write " + path);
    out << "<svg xmlns='http://www.w3.org/2000/svg' width='" << w << "' height='" << h
        << "' font-family='sans-serif' font-size='12'>\n<rect width='100%' height='100%' fill='white'/>\n";
    out << "<text x='" << w / 2 << "' y='20' text-anchor='middle' font-size='15'>" << escape(title) << "</text>\n";
    for (std::size_t p = 0; p < panels.size(); ++p) {
        const int x0 = pad + int(p) * (cols * cell + gap), y0 = pad + 30;
        out << "<text x='" << x0 + cols * cell / 2 << "' y='" << pad - 22 << "' text-anchor='middle'>"
            << escape(panels[p].title) << "</text>\n";
        for (int c = 0; c < cols; ++c)
            out << "<text x='" << x0 + c * cell + cell / 2 << "' y='" << y0 - 6 << "' text-anchor='middle'>"
                << escape(col_labels[std::size_t(c)]) << "</text>\n";
        for (int r = 0; r < rows; ++r) {
            out << "<text x='" << x0 - 6 << "' y='" << y0 + r * cell + cell / 2 + 4 << "' text-anchor='end'>"
                << escape(row_labels[std::size_t(r)]) << "</text>\n";
            for (int c = 0; c < cols; ++c)
                out << "<rect x='" << x0 + c * cell << "' y='" << y0 + r * cell << "' width='" << cell << "' height='"
                    << cell << "' fill='" << sequential(panels[p].values[std::size_t(r)][std::size_t(c)])
                    << "' stroke='#eee'/>\n";
        }
        out << "<text x='" << x0 + cols * cell / 2 << "' y='" << y0 + rows * cell + 24 << "' text-anchor='middle'>"
            << escape(col_axis) << "</text>\n";
    }
    out << "<text transform='translate(16," << pad + 30 + rows * cell / 2 << ") rotate(-90)' text-anchor='middle'>"
        << escape(row_axis) << "</text>\n</svg>\n";
}

}  // namespace examples::plot
