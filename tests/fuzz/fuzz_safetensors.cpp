// Fuzz target for the safetensors reader (scripts/fuzz.sh); tests/test_safetensors.cpp replays its
// corpus and kept crash inputs through the same function.
#include "safetensors_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::load_any_safetensors(data, size);
    return 0;
}
