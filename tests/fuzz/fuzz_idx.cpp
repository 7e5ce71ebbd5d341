// libFuzzer entry point of the IDX reader (data_targets.hpp).
#include "data_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::idx(data, size);
    return 0;
}
