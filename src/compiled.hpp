// neuronka's compiled part (the library neuronka::compiled): the kernels that do not depend on a
// layer's sizes, instantiated once per scalar type, float in compiled_float.cpp and double in
// compiled_double.cpp (two files, so that a parallel build compiles them at once). A program that
// defines NEURONKA_COMPILED (CMake: links neuronka::compiled) declares them extern and links them
// from here instead of compiling them in each of its translation units. Header-only use needs none
// of this.
#pragma once

#ifndef NEURONKA_COMPILED
#error "neuronka's src/ is built with NEURONKA_COMPILED defined (CMake target neuronka::compiled)"
#endif

#include <neuronka/detail/gemm.hpp>
#include <neuronka/layers/attention.hpp>
#include <neuronka/train/adamw.hpp>
#include <neuronka/train/loss.hpp>
#include <neuronka/train/sgd.hpp>

/// Every kernel of the compiled part, for one scalar type.
#define NEURONKA_DETAIL_INSTANTIATE_ALL(Scalar)     \
    NEURONKA_DETAIL_INSTANTIATE_CHECKS(, Scalar)    \
    NEURONKA_DETAIL_INSTANTIATE_INIT(, Scalar)      \
    NEURONKA_DETAIL_INSTANTIATE_LOSS(, Scalar)      \
    NEURONKA_DETAIL_INSTANTIATE_GEMM(, Scalar)      \
    NEURONKA_DETAIL_INSTANTIATE_ATTENTION(, Scalar) \
    NEURONKA_DETAIL_INSTANTIATE_SGD(, Scalar)       \
    NEURONKA_DETAIL_INSTANTIATE_ADAMW(, Scalar)
