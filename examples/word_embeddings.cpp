// Word embeddings: "words used in similar contexts get similar vectors". A CBOW model reads a small
// generated corpus ("the cat eats the fish in the garden .") and learns a 16-number vector per word.
// Prints each word's nearest neighbour by cosine similarity and writes word_embeddings.svg, the
// vectors projected to 2-D by PCA, coloured by kind (animal, food, place, verb, person).
#include "common/cli.hpp"
#include "common/report.hpp"
#include "common/svg.hpp"
#include "lecture/word_vectors.hpp"

#include <Eigen/Eigenvalues>

#include <cstdio>
#include <map>

using namespace neuronka;
using namespace examples;  // examples/common (cli, plot, ...) and examples/lecture (words, ...)

int main(int argc, char** argv) {
    return cli::run([&] {
        cli::Options args("word_embeddings",
                          "word_embeddings: a CBOW model learns word vectors; writes word_embeddings.svg");
        int steps = 3000;
        args.option("--steps", steps, "training steps", 1, 10000000);
        args.parse(argc, argv);
        const wordvec::Vocabulary vocab = wordvec::vocabulary();
        constexpr int V = 42, D = 16;
        if (vocab.words.size() != V) throw std::logic_error("vocabulary size changed");
        Rng rng(11);
        const std::vector<int> stream = wordvec::corpus(vocab, 20000, rng);
        std::printf("corpus: %zu tokens, %d distinct words, e.g. \"", stream.size(), V);
        for (int i = 0; i < 18; ++i)
            std::printf("%s%s", i ? " " : "", vocab.words[std::size_t(stream[std::size_t(i)])].c_str());
        std::printf(" ...\"\n");

        wordvec::Cbow<V, D> cbow;
        AdamW<float> opt({.learning_rate = 1e-2f, .weight_decay = 0.0f});
        for (int s = 0; s < steps; ++s) {
            const float loss = cbow.step(stream, 2, 128, rng, opt);
            if (s % 1000 == 0 || s + 1 == steps) std::printf("step %5d  loss %.3f\n", s, loss);
        }

        std::printf("\n%-10s %-8s %-10s %-8s %s\n", "word", "kind", "nearest", "kind", "cosine");
        report::Step page(args.out(), "word_embeddings");
        page.table("Each word's nearest neighbour by cosine similarity", {"word", "kind", "nearest", "kind", "cosine"});
        int same = 0, content = 0;
        for (int w = 0; w < V; ++w) {
            if (vocab.categories[std::size_t(w)] == "function") continue;
            const int n = cbow.nearest(w);
            same += vocab.categories[std::size_t(n)] == vocab.categories[std::size_t(w)], ++content;
            std::printf("%-10s %-8s %-10s %-8s %.3f\n", vocab.words[std::size_t(w)].c_str(),
                        vocab.categories[std::size_t(w)].c_str(), vocab.words[std::size_t(n)].c_str(),
                        vocab.categories[std::size_t(n)].c_str(), cbow.similarity(w, n));
            page.row({vocab.words[std::size_t(w)], vocab.categories[std::size_t(w)], vocab.words[std::size_t(n)],
                      vocab.categories[std::size_t(n)], report::format("%.3f", cbow.similarity(w, n))});
        }
        std::printf("nearest neighbour of the same kind: %d of %d words\n", same, content);
        page.value("nearest neighbour of the same kind", report::format("%d of %d words", same, content));

        // PCA: the two directions of largest variance of the (centred) word vectors.
        Eigen::MatrixXd X = cbow.vectors.E.cast<double>().transpose();  // V × D
        X.rowwise() -= X.colwise().mean();
        Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> pca(X.transpose() * X);
        const Eigen::MatrixXd xy = X * pca.eigenvectors().rightCols(2);
        std::map<std::string, std::size_t> colour;
        for (const auto& [kind, ws] : wordvec::groups) colour.emplace(kind, colour.size());
        plot::Chart chart("Word vectors, projected to 2-D by PCA", "first principal component",
                          "second principal component", 760, 560);
        for (const auto& [kind, index] : colour) {
            std::vector<double> x, y;
            std::vector<std::string> text;
            for (int w = 0; w < V; ++w)
                if (vocab.categories[std::size_t(w)] == kind)
                    x.push_back(xy(w, 1)), y.push_back(xy(w, 0)), text.push_back(vocab.words[std::size_t(w)]);
            chart.labelled(x, y, text, plot::palette(index), kind);
        }
        chart.write(args.path("word_embeddings.svg"));
        std::printf("wrote %s\n", args.path("word_embeddings.svg").c_str());
        page.figure("word_embeddings.svg", "The word vectors projected to 2-D: words of one kind gather").write();
    });
}
