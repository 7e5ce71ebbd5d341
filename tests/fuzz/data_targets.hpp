// The fuzz targets of the data readers: any bytes must parse or throw DataError, never crash, read
// out of bounds or hang. fuzz_csv.cpp and fuzz_idx.cpp hand them to libFuzzer (scripts/fuzz.sh);
// test_data replays the seed corpora and every kept crash input through them.
#pragma once

#include <neuronka/data/csv.hpp>
#include <neuronka/data/idx.hpp>

#include <cstdint>
#include <string_view>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

namespace fuzz {

/// The first byte chooses the options (header, label kind and column, delimiter); the rest is CSV.
inline void csv(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return;
    const std::uint8_t o = data[0];
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    neuronka::CsvOptions options;
    options.delimiter = (o & 1) ? ';' : ',';
    options.header = (o & 2)   ? neuronka::CsvHeader::present
                     : (o & 4) ? neuronka::CsvHeader::absent
                               : neuronka::CsvHeader::detect;
    options.label_kind = (o & 8)    ? neuronka::CsvLabel::target
                         : (o & 16) ? neuronka::CsvLabel::none
                                    : neuronka::CsvLabel::classes;
    if (o & 32)
        options.label = "label";
    else if (o & 64)
        options.label_index = 0;
    if (o & 128) options.classes = 3;
    try {
        if (options.label_kind == neuronka::CsvLabel::none) {
            const auto d = neuronka::parse_csv<float, 3>(text, options, "input");
            d.check();
        } else {
            const auto d = neuronka::parse_csv<float, 2>(text, options, "input");
            d.check();
        }
    } catch (const neuronka::DataError&) {
    }
}

/// The bytes as an IDX image file and as an IDX label file (gzip-compressed or plain), read from
/// memory through a memfd.
inline void idx(const std::uint8_t* data, std::size_t size) {
    static const int fd = ::memfd_create("neuronka-fuzz-idx", 0);
    if (fd < 0 || ::ftruncate(fd, 0) != 0) return;
    if (size && ::pwrite(fd, data, size, 0) != ssize_t(size)) return;
    for (int dims : {3, 1}) {
        ::lseek(fd, 0, SEEK_SET);
        std::vector<std::size_t> sizes;
        try {
            const auto bytes =
                neuronka::detail::read_idx(gzdopen(::dup(fd), "rb"), "input", dims, sizes, std::size_t(1) << 24);
            std::size_t total = 1;
            for (std::size_t s : sizes) total *= s;
            if (bytes.size() != total) __builtin_trap();  // the payload is always what the header says
        } catch (const neuronka::DataError&) {
        }
    }
}

}  // namespace fuzz
