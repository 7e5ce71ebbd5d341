/// @file neuronka.hpp
/// @brief Everything of neuronka in one include.
#pragma once

#include "activation.hpp"
#include "adamw.hpp"
#include "attention.hpp"
#include "compute.hpp"
#include "config.hpp"
#include "dense.hpp"
#include "embedding.hpp"
#include "generate.hpp"
#include "gradcheck.hpp"
#include "layer.hpp"
#include "layer_norm.hpp"
#include "loss.hpp"
#include "neuron.hpp"
#include "random.hpp"
#include "sequential.hpp"
#include "serialize.hpp"
#include "sgd.hpp"
#include "summary.hpp"
#include "transformer.hpp"
#include "version.hpp"
