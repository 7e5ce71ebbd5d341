/// @file
/// @brief What a layer computes with: matrix products that keep their workspace (Gemm), parameter
/// matrices fixed-size when small (Storage), and loops split over the threads of set_threads
/// (parallel_for, parallel_columns). The library's own layers use these names; so can yours.
#pragma once

#include "../detail/gemm.hpp"
#include "../detail/parallel.hpp"
#include "config.hpp"

namespace neuronka {

/**
 * @brief The products of one layer, through Eigen's vectorised kernels, packing into one workspace
 * per thread, allocated on first use and kept, so that a training step allocates nothing. Keep one
 * per product of the layer (each remembers its own sizes). Written as the math reads, with no copy
 * for a transpose:
 *
 *     gemm.set(y, W, x);                 // y = W x
 *     gemm.set(dx, W.transpose(), dy);   // dx = Wᵀ dy
 *     gemm.add(dW, dy, x.transpose());   // dW += dy xᵀ
 *     gemm.outer(c, dy, x, alpha, add);  // c = alpha dy xᵀ (+= when add): what a GradientSink's product runs
 *
 * `Small` (for a fixed-size weight matrix, as Dense uses it up to 256 entries) unrolls every
 * product at compile time instead. A product large enough is split over the threads of set_threads.
 */
template <class Scalar, bool Small = false>
using Gemm = detail::Gemm<Scalar, Small>;

/// A parameter matrix Rows × Cols: fixed-size when it has at most 256 entries (its products then
/// unroll), else dynamic, sized by the layer's constructor. Sizes stay template parameters either way.
template <class Scalar, int Rows, int Cols>
using Storage = detail::Storage<Scalar, Rows, Cols>;

/// Runs `f(begin, end)` over slices of [0, n), each at least `min_per_task` long (and `begin` a
/// multiple of `align`), on the threads of set_threads; on the calling thread alone by default.
using detail::parallel_for;
/// Runs `f(begin, end)` over slices of the columns [0, cols) of a matrix with `rows` rows, for a
/// loop whose columns are independent (an activation, a normalisation), each slice worth starting.
using detail::parallel_columns;

}  // namespace neuronka
