/// @file
/// @brief int8 inference for a whole model: `quantize(model)` returns the same composition with
/// every Dense and Conv2D replaced by its int8 form (layers/int8.hpp) and every other layer
/// copied; `save_int8` / `load_int8` keep it in a checksummed file a quarter of the float size.
#pragma once

#include "../compose/parallel.hpp"
#include "../compose/residual.hpp"
#include "../compose/sequential.hpp"
#include "../detail/atomic_file.hpp"
#include "../detail/crc32.hpp"
#include "../layers/int8.hpp"

#include <cstring>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

namespace neuronka {

namespace detail {
template <class L>
struct int8_of {
    using type = L;  // a layer without int8 weights stays as it is
};
template <class S, int In, int Out, bool Bias>
struct int8_of<Dense<S, In, Out, Bias>> {
    using type = Int8Dense<S, In, Out, Bias>;
};
template <class S, int Ci, int Co, int K, int H, int W, int St, int P>
struct int8_of<Conv2D<S, Ci, Co, K, H, W, St, P>> {
    using type = Int8Conv2D<S, Ci, Co, K, H, W, St, P>;
};
template <template <class...> class Composite, class Tuple>
struct int8_members;
template <template <class...> class Composite, class... L>
struct int8_members<Composite, std::tuple<L...>> {
    using type = Composite<typename int8_of<L>::type...>;
};
template <class... E>
struct int8_of<Sequential<E...>> {
    using type = typename int8_members<Sequential, typename Sequential<E...>::layers_type>::type;
};
template <class... E>
struct int8_of<Residual<E...>> {
    using type = typename int8_members<Residual, typename Residual<E...>::layers_type>::type;
};
template <class Join, class... P>
struct int8_of<Parallel<Join, P...>> {
    using type = Parallel<Join, typename int8_of<P>::type...>;
};

/// An int8 layer (Int8Dense, Int8Conv2D): its weights are Int8Rows.
template <class L>
concept int8_layer = requires(L& l) {
    l.weight.q;
    l.weight.scale;
};

// `to` from `from`: an int8 layer quantised from its float one, a composite member by member, any
// other layer copied.
template <class From, class To>
void quantise_into(const From& from, To& to) {
    if constexpr (std::is_same_v<From, To>) {
        to = from;
    } else if constexpr (int8_layer<To>) {
        to = To(from);
    } else {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (quantise_into(from.template layer<I>(), to.template layer<I>()), ...);
        }
        (std::make_index_sequence<std::tuple_size_v<typename To::layers_type>>{});
    }
}

// Calls block(kind, data, bytes) for every array of an int8 model in a fixed order: an int8
// layer's codes (kind 1), its row scales and biases (kind 2), any other layer's parameters and
// buffers (kind 2), counters (kind 3).
template <class L, class F>
void int8_blocks(L& l, F&& block) {
    using Scalar = typename L::scalar_type;
    if constexpr (int8_layer<L>) {
        block(1, l.weight.q.data(), std::size_t(l.weight.q.size()));
        block(2, l.weight.scale.data(), std::size_t(l.weight.scale.size()) * sizeof(Scalar));
        block(2, l.b.data(), std::size_t(l.b.size()) * sizeof(Scalar));
    } else if constexpr (requires { typename L::layers_type; }) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (int8_blocks(l.template layer<I>(), block), ...);
        }
        (std::make_index_sequence<std::tuple_size_v<typename L::layers_type>>{});
    } else {
        ReadingValues values;  // no gradient is allocated to be read
        l.visit_parameters(
            [&](ParamView<Scalar> p) { block(2, p.value.data(), std::size_t(p.value.size()) * sizeof(Scalar)); });
        visit_buffers(l, [&](BufferView<Scalar> b) {
            if (b.counter)
                block(3, b.counter, sizeof(std::int64_t));
            else
                block(2, b.value.data(), std::size_t(b.value.size()) * sizeof(Scalar));
        });
    }
}
inline constexpr char int8_magic[8] = {'N', 'K', 'I', 'N', 'T', '8', '\r', '\n'};
}  // namespace detail

/// The int8 form of `Model`: the same composition (Sequential, Residual, Parallel) with every Dense
/// an Int8Dense and every Conv2D an Int8Conv2D.
template <class Model>
using Int8Model = typename detail::int8_of<Model>::type;

/**
 * @brief The trained `model` for int8 inference: Dense and Conv2D weights quantised per output row
 * (symmetric, one scale each), every other layer copied; the float model is unchanged. Predict
 * with it as with the model (`q.predict(x, ws)`); it cannot be trained.
 */
template <class Model>
Int8Model<Model> quantize(const Model& model) {
    Int8Model<Model> q;
    detail::quantise_into(model, q);
    return q;
}

/**
 * @brief Saves an int8 model atomically: a header (magic, format version 1, the scalar's size, the
 * number of arrays), every array as its kind, byte count and bytes, and a CRC-32 of all that. A
 * failed save leaves the previous file whole.
 */
template <class Model>
void save_int8(Model& model, const std::string& path) {
    std::vector<unsigned char> bytes(detail::int8_magic, detail::int8_magic + 8);
    auto put = [&](const void* p, std::size_t n) {
        bytes.insert(bytes.end(), static_cast<const unsigned char*>(p), static_cast<const unsigned char*>(p) + n);
    };
    const std::uint32_t version = 1, scalar = sizeof(typename Model::scalar_type);
    put(&version, 4), put(&scalar, 4);
    detail::int8_blocks(model, [&](std::uint8_t kind, const void* data, std::size_t n) {
        const std::uint64_t count = n;
        put(&kind, 1), put(&count, 8), put(data, n);
    });
    const std::uint32_t crc = detail::crc32(bytes.data(), bytes.size());
    put(&crc, 4);
    detail::write_atomically<CheckpointError>(path, bytes);
}

/**
 * @brief Loads a file save_int8 wrote for a model of this type. The whole file is checked first —
 * magic, version, scalar size, checksum, and every array's kind and size against the model's — so
 * a file for another model, truncated or corrupted, throws CheckpointError naming what differs,
 * and leaves `model` unchanged.
 */
template <class Model>
void load_int8(Model& model, const std::string& path) {
    std::size_t expected = 8 + 4 + 4 + 4;
    detail::int8_blocks(model, [&](std::uint8_t, const void*, std::size_t n) { expected += 1 + 8 + n; });
    const std::vector<unsigned char> bytes = detail::read_file<CheckpointError>(path, expected, "int8 file");
    auto fail = [&](const std::string& what) {
        throw CheckpointError(path + ": " + what + ". Hint: the file must come from save_int8 of a model of this type");
    };
    if (bytes.size() < 8 || std::memcmp(bytes.data(), detail::int8_magic, 8) != 0) fail("not a neuronka int8 file");
    if (bytes.size() != expected)
        fail("the file has " + std::to_string(bytes.size()) + " bytes, this model's int8 file has " +
             std::to_string(expected));
    std::uint32_t version, scalar, crc;
    std::memcpy(&version, bytes.data() + 8, 4), std::memcpy(&scalar, bytes.data() + 12, 4);
    std::memcpy(&crc, bytes.data() + bytes.size() - 4, 4);
    if (version != 1) fail("format version " + std::to_string(version) + ", expected 1");
    if (scalar != sizeof(typename Model::scalar_type))
        fail("scalars of " + std::to_string(scalar) + " bytes, this model's have " +
             std::to_string(sizeof(typename Model::scalar_type)));
    if (detail::crc32(bytes.data(), bytes.size() - 4) != crc) fail("the checksum does not match (the file is damaged)");
    for (int pass = 0; pass < 2; ++pass) {  // check every array, then copy
        std::size_t at = 16, index = 0;
        detail::int8_blocks(model, [&](std::uint8_t kind, void* data, std::size_t n) {
            std::uint64_t count;
            std::memcpy(&count, bytes.data() + at + 1, 8);
            if (pass == 0 && (bytes[at] != kind || count != n))
                fail("array " + std::to_string(index) + " has kind " + std::to_string(bytes[at]) + " and " +
                     std::to_string(count) + " bytes, expected kind " + std::to_string(kind) + " and " +
                     std::to_string(n));
            if (pass == 1) std::memcpy(data, bytes.data() + at + 9, n);
            at += 9 + n, ++index;
        });
    }
}

}  // namespace neuronka
