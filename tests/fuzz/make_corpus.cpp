// Writes the fuzz seed corpus: valid checkpoints of the fuzz target's model, with and without
// optimiser state and generator. Run from the top level: build/.../make_fuzz_corpus tests/fuzz/corpus
#include <neuronka/neuronka.hpp>

#include <fstream>
#include <string>

int main(int argc, char** argv) {
    using namespace neuronka;
    if (argc != 2) return 2;
    const std::string dir = argv[1];
    Sequential<Dense<float, 4, 8>, Tanh, Dense<float, 8, 3>> model(1);
    SGD<float> sgd({.learning_rate = 0.1f, .momentum = 0.9f});
    AdamW<float> adamw;
    Rng rng(5);
    Batch<float, 4> x = Batch<float, 4>::Ones(4, 2);
    model.forward(x);
    model.backward(x, Batch<float, 3>::Ones(3, 2));
    sgd.step(model), adamw.step(model);
    auto write = [&](const std::string& name, const std::vector<unsigned char>& b) {
        std::ofstream(dir + "/" + name, std::ios::binary)
            .write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
    };
    write("model.nkpt", checkpoint_bytes(model));
    write("model-sgd-rng.nkpt", checkpoint_bytes(model, &sgd, &rng));
    write("model-adamw-rng.nkpt", checkpoint_bytes(model, &adamw, &rng));
    // the fuzz target's CNN, with AdamW state
    Sequential<Conv2D<float, 1, 2, 3, 6, 6, 1, 1>, ReLU, MaxPool2D<float, 2, 6, 6, 2>, Dropout<1, 2>,
               Dense<float, 18, 3>>
        cnn(1);
    AdamW<float> cnn_adamw;
    const Batch<float, 36> image = Batch<float, 36>::Ones(36, 2);
    cnn.forward(image);
    cnn.backward(image, Batch<float, 3>::Ones(3, 2));
    cnn_adamw.step(cnn);
    write("cnn-adamw.nkpt", checkpoint_bytes(cnn, &cnn_adamw, static_cast<Rng*>(nullptr)));
    return 0;
}
