// The reversal task: a sequence of digits, a separator, then the same digits reversed. Predicting
// the second half needs attention: the answer at each position is one specific earlier token.
#pragma once

#include <neuronka/core/random.hpp>

#include <vector>

namespace examples::task {

/// Digits 0..9 are tokens 0..9; token 10 separates question and answer.
struct Reverse {
    static constexpr int vocab = 11, separator = 10;
    int digits;  // n: sequences are n digits, separator, n digits (length 2n + 1)

    int length() const { return 2 * digits + 1; }

    /// B sequences, flat (sequence b at [b·length, (b+1)·length)), and the next-token targets.
    void batch(int B, neuronka::Rng& rng, std::vector<int>& ids, std::vector<int>& targets) const {
        const int L = length();
        ids.resize(std::size_t(B * L));
        targets.resize(ids.size());
        for (int b = 0; b < B; ++b) {
            int* s = ids.data() + b * L;
            for (int i = 0; i < digits; ++i) s[i] = int(rng.below(10));
            s[digits] = separator;
            for (int i = 0; i < digits; ++i) s[digits + 1 + i] = s[digits - 1 - i];
            for (int t = 0; t < L; ++t) targets[std::size_t(b * L + t)] = t + 1 < L ? s[t + 1] : separator;
        }
    }
    /// True where a target is part of the answer (positions separator .. end-1 predict the reversed digits).
    bool is_answer(int t) const { return t >= digits && t < 2 * digits; }
};

}  // namespace examples::task
