// Fashion-MNIST: a real data set. An MLP 784-256-128-10 and a convolutional network (two 5x5
// convolutions with max pooling, then a dense layer with dropout) learn to tell T-shirts from
// sneakers from Debian's dataset-fashion-mnist (IDX files, gzip), trained by fit() with its progress
// line. For each model: the training history (fashion_mnist_<model>_history.csv), the test accuracy
// and a confusion matrix; the model saved as a checkpoint, loaded back in
// a second process, which must give the same test accuracy; a grid of test images with predicted
// and true labels (fashion_mnist_<model>.svg). The CNN's first-layer filters are drawn in
// fashion_mnist_filters.svg. Each model's weights are also exported for PyTorch as
// fashion_mnist_<model>.safetensors (examples/python/fashion_mnist_in_pytorch.py evaluates them in
// PyTorch). At the end, both test accuracies side by side.
// Options: --model mlp|cnn|both (default both), --epochs N (both models; default 10 for the MLP, 8
// for the CNN), --mlp-epochs N, --cnn-epochs N (one model), --train-images N (the first N training
// images only, default all 60000: for quick checks), --augment (shifts and flips of the training
// images), --data DIR (default
// /usr/share/datasets/fashion-mnist), --out DIR.
// Internal: --evaluate CHECKPOINT --model M prints the test accuracy of a saved model and exits.
// The models are in fashion_mnist.hpp; the export for PyTorch is compiled in its own file,
// fashion_mnist_safetensors.cpp, so that this one does not parse the JSON library.
#include "fashion_mnist.hpp"

#include "common/cli.hpp"
#include "common/report.hpp"

#include <neuronka/data/idx.hpp>
#include <neuronka/models/quantize.hpp>
#include <neuronka/train/fit.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace neuronka;
using namespace examples;  // examples/common (cli, plot, ...) and examples/lecture (words, ...)

namespace {
using fashion_mnist::Cnn, fashion_mnist::Mlp;
const char* class_names[10] = {"T-shirt", "Trouser", "Pullover", "Dress", "Coat",
                               "Sandal",  "Shirt",   "Sneaker",  "Bag",   "Boot"};

struct Split {
    IdxImages images;
    std::vector<int> labels;
};
Split load_split(const std::string& dir, const char* prefix) {
    Split s{read_idx_images(dir + "/" + prefix + "-images-idx3-ubyte.gz"),
            read_idx_labels(dir + "/" + prefix + "-labels-idx1-ubyte.gz", 10)};
    if (s.labels.size() != s.images.count)
        throw DataError(dir + ": " + std::to_string(s.images.count) + " images but " + std::to_string(s.labels.size()) +
                        " labels");
    return s;
}
// Every image of a split through the model in evaluation mode (no dropout): the predicted classes,
// counted against the true ones in `confusion`. In batches of 100 images: the CNN's convolutions
// gather each image's patches (313 KB for the second one), so a batch of 1000 would write 300 MB
// of patches per convolution and ran the test set 3 times slower.
template <class Model>
std::vector<int> predict(Model& model, const Split& s, ConfusionMatrix& confusion) {
    constexpr std::size_t batch = 100;
    model.set_mode(Mode::evaluation);
    std::vector<int> out;
    for (std::size_t first = 0; first < s.images.count; first += batch) {
        const std::size_t n = std::min<std::size_t>(batch, s.images.count - first);
        const Batch<float, 10>& z = model.forward(to_batch<float, 784>(s.images, first, n));
        const std::vector<int> classes = predicted_classes(z);
        out.insert(out.end(), classes.begin(), classes.end());
        confusion.add(z, std::span<const int>(s.labels).subspan(first, n));
    }
    model.set_mode(Mode::training);
    return out;
}

// The first convolution's filters, one 5x5 grey square each (white = most negative, black = most positive).
void draw_filters(const std::string& path, const Cnn& cnn) {
    const auto& W = cnn.layer<0>().W;  // 16 x 25: row o is filter o, column kh*5 + kw
    const float scale = std::max(W.maxCoeff(), -W.minCoeff());
    std::ofstream out(path);
    const int cell = 10, box = 5 * cell + 10;
    out << "<svg xmlns='http://www.w3.org/2000/svg' width='" << 8 * box + 10 << "' height='" << 2 * box + 40
        << "' font-family='sans-serif' font-size='13'><rect width='100%' height='100%' fill='white'/>"
        << "<text x='10' y='18'>The CNN's 16 learned 5x5 filters of its first layer (dark = positive weight)</text>\n";
    for (int o = 0; o < 16; ++o)
        for (int k = 0; k < 25; ++k) {
            const int v = int(127.5 - 127.5 * W(o, k) / scale);
            out << "<rect x='" << 10 + (o % 8) * box + (k % 5) * cell << "' y='" << 30 + (o / 8) * box + (k / 5) * cell
                << "' width='" << cell << "' height='" << cell << "' fill='rgb(" << v << "," << v << "," << v << ")'/>";
        }
    out << "\n</svg>\n";
}

void image_grid(const std::string& path, const Split& s, const std::vector<int>& predicted) {
    std::ofstream out(path);
    const int cols = 8, rows = 4, cell = 3, box = 28 * cell + 30;
    out << "<svg xmlns='http://www.w3.org/2000/svg' width='" << cols * box << "' height='" << rows * box + 30
        << "' font-family='sans-serif' font-size='11'><rect width='100%' height='100%' fill='white'/>"
        << "<text x='10' y='18' font-size='14'>Fashion-MNIST test images: predicted (true); red = wrong</text>\n";
    for (int k = 0; k < rows * cols; ++k) {
        const std::size_t i = std::size_t(k) * 37;  // a spread of the test set
        const int x0 = (k % cols) * box + 10, y0 = (k / cols) * box + 30;
        for (int r = 0; r < 28; ++r)
            for (int c = 0; c < 28; ++c) {
                const int v = 255 - s.images.pixels[i * 784 + std::size_t(r * 28 + c)];
                if (v < 250)
                    out << "<rect x='" << x0 + c * cell << "' y='" << y0 + r * cell << "' width='" << cell
                        << "' height='" << cell << "' fill='rgb(" << v << "," << v << "," << v << ")'/>";
            }
        const bool right = predicted[i] == s.labels[i];
        out << "\n<text x='" << x0 << "' y='" << y0 + 28 * cell + 14 << "' fill='" << (right ? "#1a7f37" : "#c62828")
            << "'>" << class_names[predicted[i]] << " (" << class_names[s.labels[i]] << ")</text>\n";
    }
    out << "</svg>\n";
}

// Trains `Model` for `epochs` with fit() (the library's loop: mini-batches in a seeded order, a
// progress line, the learning-rate schedule), writes its history as CSV, prints its test accuracy
// and confusion matrix, saves and reloads it in a second process, and draws the image grid.
// Returns the test accuracy.
template <class Model>
void report_int8(const char* tag, Model& model, double float_accuracy, const std::string& checkpoint,
                 const cli::Options& args, const Split& test, report::Step& page);

template <class Model>
double train_and_report(const char* tag, const cli::Options& args, const char* self, const std::string& dir,
                        const Dataset<float, 784>& train, const Split& test, int epochs, report::Step& page,
                        const ImageAugmentation& augment) {
    Model model(1);
    std::printf("\n%s: %s, %zu parameters\n", tag, Model::name().c_str(), Model::parameter_count);
    SoftmaxCrossEntropy<float, 10> ce;
    AdamW<float> opt({.learning_rate = 1e-3f, .weight_decay = 1e-4f});
    const int B = 64;
    // Counted FLOPs per sample of a training step; the first layer computes no dx.
    using First = std::remove_cvref_t<decltype(model.template layer<0>())>;
    const double flops_per_sample = step_cost<Model>(1).flops() - First::cost().forward_flops;
    const long total_steps = long(train.size() / B) * epochs, warmup = std::min(200L, total_steps / 10);
    const History history =
        fit(model, ce, opt, train, {.epochs = epochs, .batch_size = B, .seed = 2, .augment = augment}, ProgressLine(),
            ScheduleLearningRate{LearningRateSchedule::warmup_cosine(1e-3, warmup, total_steps, 1e-5)});
    const std::string history_csv = args.path(std::string("fashion_mnist_") + tag + "_history.csv");
    history.write_csv(history_csv);
    std::printf("wrote %s (loss, accuracy and samples/s per epoch)\n", history_csv.c_str());
    const double secs = history.epochs.back().seconds, samples = double(train.size() / B * B) * epochs;
    const double flops = flops_per_sample * samples;
    std::printf("this run: %.3g FLOPs in %.1f s = %.1f GFLOP/s\n", flops, secs, flops / secs / 1e9);
    const std::string upper = tag == std::string("mlp") ? "MLP" : "CNN";
    page.value(upper + ": training speed",
               report::format("%.1f GFLOP/s, %.0f samples/s", flops / secs / 1e9, samples / secs));
    std::ofstream(args.path("runs.tsv"), std::ios::app) << "fashion-" << tag << '\t' << Model::parameter_count << '\t'
                                                        << flops << '\t' << secs << '\n';  // read by training_cost
    ConfusionMatrix confusion(10);
    const std::vector<int> predicted = predict(model, test, confusion);
    const double acc = confusion.accuracy();
    std::printf("test accuracy: %.2f%% (%zu images)\n\nconfusion matrix (rows: true class, columns: predicted)\n%9s",
                100 * acc, test.labels.size(), "");
    for (const char* n : class_names) std::printf("%9.8s", n);
    std::printf("\n");
    page.value(upper + ": test accuracy", report::format("%.2f %%", 100 * acc));
    std::vector<std::string> header{"true class"};
    header.insert(header.end(), std::begin(class_names), std::end(class_names));
    page.table(upper + ": confusion matrix (rows: true class, columns: predicted)", header);
    for (int t = 0; t < 10; ++t) {
        std::printf("%9.8s", class_names[t]);
        std::vector<std::string> cells{class_names[t]};
        for (int p = 0; p < 10; ++p) {
            const long long n = confusion(t, p);
            std::printf("%9lld", n);
            cells.push_back(std::to_string(n));
        }
        std::printf("\n");
        page.row(cells);
    }
    const std::string checkpoint = args.path(std::string("fashion_mnist_") + tag + ".nkpt");
    save(model, checkpoint);
    const std::string command = std::string(self) + " --data '" + dir + "' --out '" + args.out() + "' --model " + tag +
                                " --evaluate '" + checkpoint + "'";
    std::FILE* p = ::popen(command.c_str(), "r");
    double reloaded = -1;
    if (!p || std::fscanf(p, "%lf", &reloaded) != 1) reloaded = -1;
    if (p) ::pclose(p);
    std::printf("saved %s; a second process loaded it: test accuracy %.2f%% (%s)\n", checkpoint.c_str(), 100 * reloaded,
                reloaded == acc ? "the same" : "DIFFERENT");
    if (reloaded != acc) throw std::runtime_error("the reloaded model's accuracy differs");
    report_int8(tag, model, acc, checkpoint, args, test, page);
#if NEURONKA_HAS_SAFETENSORS
    const std::string weights = args.path(std::string("fashion_mnist_") + tag + ".safetensors");
    fashion_mnist::export_safetensors(model, weights);
    std::printf("wrote %s (the weights for PyTorch: examples/python/fashion_mnist_in_pytorch.py evaluates them)\n",
                weights.c_str());
#endif
    const std::string grid = args.path(std::string("fashion_mnist_") + tag + ".svg");
    image_grid(grid, test, predicted);
    std::printf("wrote %s\n", grid.c_str());
    page.figure(std::string("fashion_mnist_") + tag + ".svg", upper + ": test images, predicted (true) class");
    if constexpr (std::is_same_v<Model, Cnn>) {
        draw_filters(args.path("fashion_mnist_filters.svg"), model);
        std::printf("wrote %s\n", args.path("fashion_mnist_filters.svg").c_str());
        page.figure("fashion_mnist_filters.svg", "CNN: the 16 filters its first layer learned");
    }
    return acc;
}

// Microseconds per image predicted one at a time (batch 1) by `model`: the best of 5 rounds over
// the first 500 test images.
template <class Model>
double batch1_microseconds(const Model& model, const Split& test) {
    typename Model::Workspace ws;
    const Batch<float, 784> x = to_batch<float, 784>(test.images, 0, 500);
    double best = 1e300;
    for (int round = 0; round < 5; ++round) {
        const auto start = std::chrono::steady_clock::now();
        for (Eigen::Index i = 0; i < x.cols(); ++i) model.predict(x.col(i), ws);
        best =
            std::min(best, std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() /
                               double(x.cols()));
    }
    return best;
}

// The model with int8 weights (models/quantize.hpp): its test accuracy, its file's size and its
// batch-1 latency, each beside the float model's (the accuracy CTests require the accuracy within
// 0.5 points); the int8 file is loaded back and must give the same accuracy.
template <class Model>
void report_int8(const char* tag, Model& model, double float_accuracy, const std::string& checkpoint,
                 const cli::Options& args, const Split& test, report::Step& page) {
    auto q = std::make_unique<Int8Model<Model>>(quantize(model));
    ConfusionMatrix confusion(10);
    predict(*q, test, confusion);
    const double acc = confusion.accuracy();
    const std::string file = args.path(std::string("fashion_mnist_") + tag + ".int8");
    save_int8(*q, file);
    auto loaded = std::make_unique<Int8Model<Model>>();
    load_int8(*loaded, file);
    ConfusionMatrix again(10);
    predict(*loaded, test, again);
    const double kb = double(std::filesystem::file_size(file)) / 1024,
                 float_kb = double(std::filesystem::file_size(checkpoint)) / 1024;
    const double us = batch1_microseconds(*q, test), float_us = batch1_microseconds(std::as_const(model), test);
    std::printf(
        "int8: test accuracy %.2f%% (float %.2f%%, %+.2f points), reloaded %.2f%%; %s %.0f KB (float %.0f KB); "
        "batch 1: %.1f us per image (float %.1f us)\n",
        100 * acc, 100 * float_accuracy, 100 * (acc - float_accuracy), 100 * again.accuracy(), file.c_str(), kb,
        float_kb, us, float_us);
    const std::string upper = tag == std::string("mlp") ? "MLP" : "CNN";
    page.value(upper + ": int8 test accuracy",
               report::format("%.2f %% (float %.2f %%)", 100 * acc, 100 * float_accuracy));
    page.value(upper + ": int8 file and batch-1 latency",
               report::format("%.0f KB (float %.0f KB), %.1f us (float %.1f us)", kb, float_kb, us, float_us));
    if (again.accuracy() != acc) throw std::runtime_error("the int8 model's file did not reload to the same accuracy");
}

template <class Model>
double evaluate(const std::string& checkpoint, const std::string& dir) {
    Model model;
    load(model, checkpoint);
    const Split test = load_split(dir, "t10k");
    ConfusionMatrix confusion(10);
    predict(model, test, confusion);
    return confusion.accuracy();
}
}  // namespace

int main(int argc, char** argv) {
    return cli::run([&] {
        cli::Options args(
            "fashion_mnist",
            "fashion_mnist: an MLP and a CNN learn Fashion-MNIST; accuracy, confusion matrix, checkpoints");
        std::string dir = "/usr/share/datasets/fashion-mnist", which = "both", checkpoint;
        int epochs = 0, mlp_epochs = 10, cnn_epochs = 8;
        long train_images = 60000;
        args.option("--data", dir, "the directory of the four IDX files");
        args.option("--model", which, "which model to train").one_of({"mlp", "cnn", "both"});
        args.option("--epochs", epochs, "epochs for both models (else --mlp-epochs and --cnn-epochs)", 1, 1000)
            .default_text("");
        args.option("--mlp-epochs", mlp_epochs, "epochs for the MLP", 1, 1000);
        args.option("--cnn-epochs", cnn_epochs, "epochs for the CNN", 1, 1000);
        bool augment = false;
        args.flag("--augment", augment,
                  "augment the training images: shifts of up to 2 pixels and horizontal flips (seeded)");
        args.option("--train-images", train_images, "train on the first N images only (a quick check)", 64L, 60000L);
        args.option("--evaluate", checkpoint,
                    "internal: print the test accuracy of this checkpoint of --model, and exit");
        args.parse(argc, argv);
        if (args.given("--epochs")) {
            if (!args.given("--mlp-epochs")) mlp_epochs = epochs;
            if (!args.given("--cnn-epochs")) cnn_epochs = epochs;
        }
        if (args.given("--evaluate")) {  // the second process: load and evaluate only
            std::printf("%.4f\n", which == "cnn" ? evaluate<Cnn>(checkpoint, dir) : evaluate<Mlp>(checkpoint, dir));
            return;
        }
        Split train = load_split(dir, "train");
        const Split test = load_split(dir, "t10k");
        const auto keep = std::min(std::size_t(train_images), train.images.count);
        train.images.count = keep, train.images.pixels.resize(keep * 784), train.labels.resize(keep);
        std::printf("Fashion-MNIST from %s: %zu training and %zu test images of %zux%zu pixels\n", dir.c_str(),
                    train.images.count, test.images.count, train.images.rows, train.images.cols);
        Dataset<float, 784> train_set;  // the training images as a data set: one image per column
        train_set.x = to_batch<float, 784>(train.images, 0, train.images.count);
        train_set.labels = train.labels, train_set.classes = 10;
        ImageAugmentation augmentation;
        if (augment)
            augmentation = {
                .channels = 1, .height = 28, .width = 28, .max_shift = 2, .horizontal_flip = true, .seed = 3};
        double mlp = -1, cnn = -1;
        report::Step page(args.out(), "fashion_mnist");
        page.value("images", report::format("%zu training, %zu test", train.images.count, test.images.count));
        if (which != "cnn") {
            mlp = train_and_report<Mlp>("mlp", args, argv[0], dir, train_set, test, mlp_epochs, page, augmentation);
        }
        if (which != "mlp") {
            cnn = train_and_report<Cnn>("cnn", args, argv[0], dir, train_set, test, cnn_epochs, page, augmentation);
        }
        std::printf("\n%-5s %12s %8s %15s\n", "model", "parameters", "epochs", "test accuracy");
        page.table("Both models side by side", {"model", "parameters", "epochs", "test accuracy"});
        auto print = [&](const char* name, std::size_t parameters, int epochs, double acc) {
            std::printf("%-5s %12zu %8d %14.2f%%\n", name, parameters, epochs, 100 * acc);
            page.row({name, std::to_string(parameters), std::to_string(epochs), report::format("%.2f %%", 100 * acc)});
        };
        if (mlp >= 0) print("MLP", Mlp::parameter_count, mlp_epochs, mlp);
        if (cnn >= 0) print("CNN", Cnn::parameter_count, cnn_epochs, cnn);
        page.write();
    });
}
