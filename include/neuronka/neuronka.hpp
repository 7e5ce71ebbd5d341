/// @file neuronka.hpp
/// @brief Everything a model and its training need, in one include: the core, every layer, the
/// compositions and models, losses, optimisers, metrics and experiments, checkpoints, the cost of
/// training and the gradient checker. Data sets and readers (data/), fit() (train/fit.hpp) and
/// safetensors (io/safetensors.hpp) are included by path.
#pragma once

#include "core/config.hpp"
#include "core/layer.hpp"
#include "core/random.hpp"
#include "core/threads.hpp"

#include "layers/activation.hpp"
#include "layers/attention.hpp"
#include "layers/batch_norm.hpp"
#include "layers/conv2d.hpp"
#include "layers/dense.hpp"
#include "layers/dropout.hpp"
#include "layers/embedding.hpp"
#include "layers/gru.hpp"
#include "layers/layer_norm.hpp"
#include "layers/lstm.hpp"
#include "layers/neuron.hpp"
#include "layers/pool.hpp"
#include "layers/rms_norm.hpp"
#include "layers/swiglu.hpp"

#include "compose/parallel.hpp"
#include "compose/residual.hpp"
#include "compose/sequential.hpp"

#include "models/generate.hpp"
#include "models/llama.hpp"
#include "models/quantize.hpp"
#include "models/transformer.hpp"

#include "train/adamw.hpp"
#include "train/experiment.hpp"
#include "train/gradients.hpp"
#include "train/loss.hpp"
#include "train/metrics.hpp"
#include "train/rmsprop.hpp"
#include "train/schedule.hpp"
#include "train/sgd.hpp"

#include "io/serialize.hpp"

#include "cost/compute.hpp"
#include "cost/summary.hpp"

#include "check/gradcheck.hpp"

#include "version.hpp"
