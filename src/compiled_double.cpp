// The compiled part's double kernels (see compiled.hpp).
#include "compiled.hpp"

NEURONKA_DETAIL_INSTANTIATE_ALL(double)
