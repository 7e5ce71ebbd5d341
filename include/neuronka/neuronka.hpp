/// @file neuronka.hpp
/// @brief Everything of neuronka in one include.
#pragma once

#include "activation.hpp"
#include "config.hpp"
#include "dense.hpp"
#include "gradcheck.hpp"
#include "layer.hpp"
#include "loss.hpp"
#include "neuron.hpp"
#include "random.hpp"
#include "sequential.hpp"
#include "sgd.hpp"
#include "version.hpp"
