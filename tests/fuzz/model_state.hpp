// What a rejected file must leave unchanged, for the fuzz targets of the model readers
// (fuzz_checkpoint.cpp, safetensors_target.hpp): every value and counter of a model, bit for bit
// (bytes, so that a NaN compares equal to itself).
#pragma once

#include <neuronka/neuronka.hpp>

#include <cstddef>
#include <cstring>
#include <type_traits>
#include <vector>

namespace fuzz {
// Calls f(bytes, size) on each state tensor of `model` (parameters, buffers, counters), in order.
template <class Model, class F>
void for_each_state_bytes(Model& model, F&& f) {
    for (const auto& t : neuronka::state_tensors(model)) {
        using Tensor = std::decay_t<decltype(t)>;
        if (t.kind == Tensor::Kind::counter)
            f(reinterpret_cast<const unsigned char*>(t.counter), sizeof(*t.counter));
        else
            f(reinterpret_cast<const unsigned char*>(t.data), std::size_t(t.size()) * sizeof(*t.data));
    }
}

// A snapshot of the model's state.
template <class Model>
std::vector<unsigned char> state_of(Model& model) {
    std::vector<unsigned char> state;
    for_each_state_bytes(model, [&](const unsigned char* p, std::size_t n) { state.insert(state.end(), p, p + n); });
    return state;
}

// Whether the model's state is still `state`, compared in place (no copy per input).
template <class Model>
bool same_state(Model& model, const std::vector<unsigned char>& state) {
    std::size_t at = 0;
    bool same = true;
    for_each_state_bytes(model, [&](const unsigned char* p, std::size_t n) {
        same = same && at + n <= state.size() && std::memcmp(p, state.data() + at, n) == 0;
        at += n;
    });
    return same && at == state.size();
}

// Runs `load`; a load that succeeds refreshes `state`, one that throws `Error` must have left the
// model as `state` (the target aborts otherwise). No copy of the model is made per input: that keeps
// the targets fast enough to try tens of thousands of inputs a second.
template <class Error, class Model, class Load>
void load_or_reject(Model& model, std::vector<unsigned char>& state, Load&& load) {
    try {
        load();
        state = state_of(model);
    } catch (const Error&) {
        if (!same_state(model, state)) std::abort();  // a rejected file changed the model
    }
}
}  // namespace fuzz
