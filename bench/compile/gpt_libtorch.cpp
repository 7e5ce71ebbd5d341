// Compile-time bench program (bench/compile_times.cpp): the 2-layer GPT of gpt_neuronka.cpp (vocab 65,
// context 64, d 64, 4 heads, MLP 4x) written with libtorch's C++ API as its documentation writes
// modules: token and position embeddings, pre-LayerNorm blocks of causal self-attention and a GELU
// MLP, AdamW, then 16 tokens sampled.
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <vector>

namespace nn = torch::nn;

struct BlockImpl : nn::Module {
    BlockImpl(int d, int heads)
        : heads(heads),
          ln1(register_module("ln1", nn::LayerNorm(nn::LayerNormOptions({d})))),
          qkv(register_module("qkv", nn::Linear(d, 3 * d))),
          proj(register_module("proj", nn::Linear(d, d))),
          ln2(register_module("ln2", nn::LayerNorm(nn::LayerNormOptions({d})))),
          fc1(register_module("fc1", nn::Linear(d, 4 * d))),
          fc2(register_module("fc2", nn::Linear(4 * d, d))) {}
    torch::Tensor forward(torch::Tensor x) {  // x: B × T × d
        const auto B = x.size(0), T = x.size(1), d = x.size(2), hd = d / heads;
        auto parts = qkv(ln1(x)).split(d, 2);
        auto q = parts[0].view({B, T, heads, hd}).transpose(1, 2), k = parts[1].view({B, T, heads, hd}).transpose(1, 2),
             v = parts[2].view({B, T, heads, hd}).transpose(1, 2);
        auto scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(double(hd));
        scores = scores.masked_fill(torch::ones({T, T}, torch::kBool).triu(1), -INFINITY);
        auto o = torch::matmul(torch::softmax(scores, -1), v).transpose(1, 2).contiguous().view({B, T, d});
        x = x + proj(o);
        return x + fc2(torch::gelu(fc1(ln2(x))));
    }
    int heads;
    nn::LayerNorm ln1;
    nn::Linear qkv, proj;
    nn::LayerNorm ln2;
    nn::Linear fc1, fc2;
};
TORCH_MODULE(Block);

struct GptImpl : nn::Module {
    GptImpl(int vocab, int context, int d, int heads, int layers)
        : tok(register_module("tok", nn::Embedding(vocab, d))),
          pos(register_module("pos", nn::Embedding(context, d))),
          ln_f(register_module("ln_f", nn::LayerNorm(nn::LayerNormOptions({d})))),
          head(register_module("head", nn::Linear(d, vocab))) {
        for (int l = 0; l < layers; ++l) blocks->push_back(Block(d, heads));
        register_module("blocks", blocks);
    }
    torch::Tensor forward(const torch::Tensor& ids) {  // B × T token ids  →  B × T × vocab logits
        auto x = tok(ids) + pos(torch::arange(ids.size(1)));
        for (auto& b : *blocks) x = b->as<Block>()->forward(x);
        return head(ln_f(x));
    }
    nn::Embedding tok, pos;
    nn::ModuleList blocks;
    nn::LayerNorm ln_f;
    nn::Linear head;
};
TORCH_MODULE(Gpt);

int main() {
    const int V = 65, C = 64, D = 64, H = 4, L = 2, B = 4;
    torch::manual_seed(3);
    Gpt model(V, C, D, H, L);
    torch::optim::AdamW opt(model->parameters(), torch::optim::AdamWOptions(1e-3));
    const torch::Tensor ids = torch::randint(V, {B, C}), targets = (ids + 1) % V;
    float loss = 0;
    for (int step = 0; step < 5; ++step) {
        opt.zero_grad();
        torch::Tensor l =
            torch::nn::functional::cross_entropy(model->forward(ids).view({B * C, V}), targets.view({B * C}));
        l.backward();
        opt.step();
        loss = l.item<float>();
    }
    torch::NoGradGuard no_grad;
    std::vector<int64_t> text(ids[0].data_ptr<int64_t>(), ids[0].data_ptr<int64_t>() + 8);
    for (int i = 0; i < 16; ++i) {
        const auto context =
            torch::tensor(std::vector<int64_t>(text.end() - std::min<long>(C, long(text.size())), text.end()));
        const auto logits = model->forward(context.unsqueeze(0))[0][-1];
        text.push_back(torch::multinomial(torch::softmax(logits, -1), 1).item<int64_t>());
    }
    std::printf("loss %.4f, %zu tokens sampled\n", loss, text.size() - 8);
}
