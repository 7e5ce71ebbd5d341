/// @file
/// @brief The IDX format of MNIST and Fashion-MNIST, plain or gzip-compressed (needs zlib: link
/// the CMake target neuronka::data). Every header field is validated against the file's real size.
/// read_idx_dataset() gives a Dataset (dataset.hpp) of images and labels.
#pragma once

#include "../core/config.hpp"
#include "dataset.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace neuronka {

/// Images of an IDX file: `count` images of `rows × cols` bytes, image-major, row-major inside.
struct IdxImages {
    std::size_t count = 0;             ///< images
    std::size_t rows = 0;              ///< pixel rows of each
    std::size_t cols = 0;              ///< pixel columns of each
    std::vector<std::uint8_t> pixels;  ///< count × rows × cols bytes, image after image, row-major
};

namespace detail {

/// Reads an IDX stream of unsigned bytes with `dims` dimensions (gzip or plain) from `file`, which
/// it closes; `path` names it in messages. Returns the payload, which must have exactly the product
/// of the `sizes` in bytes.
inline std::vector<std::uint8_t> read_idx(gzFile file, const std::string& path, int dims,
                                          std::vector<std::size_t>& sizes,
                                          std::size_t max_bytes = std::size_t(1) << 31) {
    std::unique_ptr<gzFile_s, int (*)(gzFile)> f(file, gzclose);
    if (!f) throw DataError(path + ": cannot open the file");
    auto read = [&](void* out, unsigned n, const char* what) {
        const int got = gzread(f.get(), out, n);
        if (got < 0) throw DataError(path + ": reading " + what + " failed (corrupted gzip data?)");
        if (unsigned(got) != n)
            throw DataError(path + ": file is truncated: " + what + " needs " + std::to_string(n) + " bytes, found " +
                            std::to_string(got));
    };
    unsigned char magic[4];
    read(magic, 4, "the magic number");
    if (magic[0] != 0 || magic[1] != 0)
        throw DataError(path + ": not an IDX file (the magic number must start with two zero bytes)");
    if (magic[2] != 0x08)
        throw DataError(path + ": element type 0x" + std::to_string(magic[2]) +
                        " is not supported, expected 0x08 (unsigned byte)");
    if (magic[3] != dims)
        throw DataError(path + ": has " + std::to_string(magic[3]) + " dimensions, expected " + std::to_string(dims) +
                        (dims == 1 ? " (a label file)" : " (an image file)"));
    std::size_t total = 1;
    sizes.clear();
    for (int d = 0; d < dims; ++d) {
        unsigned char b[4];
        read(b, 4, "a dimension");
        const std::size_t n = (std::size_t(b[0]) << 24) | (std::size_t(b[1]) << 16) | (std::size_t(b[2]) << 8) | b[3];
        if (n == 0) throw DataError(path + ": dimension " + std::to_string(d) + " is 0");
        if (n > max_bytes / total)
            throw DataError(path + ": dimensions describe more than " + std::to_string(max_bytes) +
                            " bytes (corrupted header?)");
        total *= n;
        sizes.push_back(n);
    }
    // The buffer grows with the data read, so a header announcing more than the file holds costs
    // no more memory than the file.
    std::vector<std::uint8_t> data;
    for (std::size_t done = 0; done < total;) {
        const std::size_t chunk = std::min<std::size_t>(total - done, std::max<std::size_t>(done, 1u << 16));
        data.resize(done + chunk);
        const int got = gzread(f.get(), data.data() + done, unsigned(std::min<std::size_t>(chunk, 1u << 30)));
        if (got <= 0)
            throw DataError(path + ": file is truncated: the header announces " + std::to_string(total) +
                            " bytes of data, found " + std::to_string(done));
        done += std::size_t(got);
        data.resize(done);
    }
    unsigned char extra;
    if (gzread(f.get(), &extra, 1) != 0)
        throw DataError(path + ": file is over-long: more data after the " + std::to_string(total) +
                        " bytes the header announces");
    return data;
}

/// The IDX file at `path` (see above).
inline std::vector<std::uint8_t> read_idx(const std::string& path, int dims, std::vector<std::size_t>& sizes) {
    return read_idx(gzopen(path.c_str(), "rb"), path, dims, sizes);
}

}  // namespace detail

/// Reads an IDX image file (magic 0x00000803).
inline IdxImages read_idx_images(const std::string& path) {
    std::vector<std::size_t> s;
    IdxImages im;
    im.pixels = detail::read_idx(path, 3, s);
    im.count = s[0], im.rows = s[1], im.cols = s[2];
    return im;
}

/// Reads an IDX label file (magic 0x00000801); every label must be below `classes`.
inline std::vector<int> read_idx_labels(const std::string& path, int classes) {
    std::vector<std::size_t> s;
    const std::vector<std::uint8_t> raw = detail::read_idx(path, 1, s);
    std::vector<int> labels(raw.begin(), raw.end());
    for (std::size_t i = 0; i < labels.size(); ++i)
        if (labels[i] >= classes)
            throw DataError(path + ": label " + std::to_string(labels[i]) + " at index " + std::to_string(i) +
                            " is out of range [0, " + std::to_string(classes) + ")");
    return labels;
}

/// Images [first, first + n) as a Features × n batch of values in [0, 1] (pixel / 255).
template <class Scalar, int Features>
Batch<Scalar, Features> to_batch(const IdxImages& im, std::size_t first, std::size_t n) {
    if (im.rows * im.cols != std::size_t(Features))
        throw std::invalid_argument("to_batch: images have " + std::to_string(im.rows * im.cols) +
                                    " pixels, expected " + std::to_string(Features));
    if (first > im.count || n > im.count - first)
        throw std::invalid_argument("to_batch: images [" + std::to_string(first) + ", " + std::to_string(first + n) +
                                    ") are out of range (" + std::to_string(im.count) + " images)");
    Batch<Scalar, Features> x(Features, Eigen::Index(n));
    for (std::size_t i = 0; i < n; ++i)
        for (int p = 0; p < Features; ++p)
            x(p, Eigen::Index(i)) = Scalar(im.pixels[(first + i) * Features + std::size_t(p)]) / Scalar(255);
    return x;
}

/// An IDX image file and its label file as a Dataset: one image per column, rows × cols = Features
/// pixels scaled to [0, 1], and labels in [0, classes). The counts must match.
template <class Scalar, int Features>
Dataset<Scalar, Features> read_idx_dataset(const std::string& images_path, const std::string& labels_path,
                                           int classes) {
    const IdxImages im = read_idx_images(images_path);
    if (im.rows * im.cols != std::size_t(Features))
        throw DataError(images_path + ": images of " + std::to_string(im.rows) + " x " + std::to_string(im.cols) +
                        " = " + std::to_string(im.rows * im.cols) +
                        " pixels, expected Features = " + std::to_string(Features));
    Dataset<Scalar, Features> d;
    d.labels = read_idx_labels(labels_path, classes);
    if (d.labels.size() != im.count)
        throw DataError(images_path + " has " + std::to_string(im.count) + " images but " + labels_path + " has " +
                        std::to_string(d.labels.size()) + " labels");
    d.classes = classes;
    d.x = to_batch<Scalar, Features>(im, 0, im.count);
    return d;
}

}  // namespace neuronka
