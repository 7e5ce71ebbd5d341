// The tour page's own words, in English and in Czech (the lecture's language): the steps in the
// lecture's order, each with the slide it makes runnable, and the Czech for every label, caption,
// title and column header the examples put in their reports (examples/common/report.hpp).
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace examples::tour {

struct Text {
    std::string_view en, cs;
};

struct StepText {
    std::string_view program;  // the example whose report fills the section
    Text title;
    std::string_view slide;  // the slide's title, as it reads in the lecture
    Text point;              // what the slide says, in a sentence
};

inline constexpr StepText steps[] = {
    {"neuron",
     {"What is a neuron? A line, trained from random w and b", "Co je neuron? Přímka, trénovaná od náhodných w a b"},
     "Co je neuron? · Co je parametr? · Iterace 0, 1, X",
     {"A neuron computes the line y = w·x + b; its parameters w and b start random (iteration 0), get better "
      "(iteration 1) and end at the best line (iteration X).",
      "Neuron počítá přímku y = w·x + b; jeho parametry w a b začínají náhodně (iterace 0), zlepšují se "
      "(iterace 1) a skončí u nejlepší přímky (iterace X)."}},
    {"xor",
     {"One neuron is a straight line: XOR needs a network", "Jeden neuron je přímka: XOR potřebuje síť"},
     "Co je neuron?",
     {"One straight line cannot separate classes that sit in opposite corners; neurons in layers bend the boundary.",
      "Jedna přímka neoddělí třídy v protilehlých rozích; neurony ve vrstvách hranici ohnou."}},
    {"fashion_mnist",
     {"Real data: Fashion-MNIST, an MLP and a convolutional network",
      "Skutečná data: Fashion-MNIST, vícevrstvá a konvoluční síť"},
     "Trénování",
     {"Training repeats one step, iteration after iteration, over 60,000 labelled images; what counts is the "
      "accuracy on 10,000 images the model never saw.",
      "Trénování opakuje jeden krok, iteraci za iterací, nad 60 000 označenými obrázky; počítá se přesnost na "
      "10 000 obrázcích, které model nikdy neviděl."}},
    {"language_models",
     {"Statistics, word embeddings, recurrence, transformers: seven models of English words",
      "Statistika, word embeddings, rekurence, transformery: sedm modelů anglických slov"},
     "Jak se trénuje AI: statistika / pravděpodobnost → word embeddings → transformer",
     {"The lecture's chain on one data set: each model predicts the next letter, and the held-out NLL measures "
      "how well (lower is better).",
      "Řetěz z přednášky na jedněch datech: každý model předpovídá další písmeno a NLL na odložených datech měří, "
      "jak dobře (méně je lépe)."}},
    {"word_embeddings",
     {"Word embeddings: words used alike get similar vectors",
      "Word embeddings: slova užívaná podobně mají podobné vektory"},
     "pokročilejší: word embeddings",
     {"A word becomes a vector of numbers learned from the words around it; words used in the same places end up "
      "close together.",
      "Slovo se stane vektorem čísel naučeným ze slov kolem něj; slova užívaná na stejných místech skončí blízko "
      "sebe."}},
    {"attention",
     {"Attention: not all data is equally important", "Attention (pozornost): ne všechna data jsou stejně důležitá"},
     "Co je attention (pozornost)?",
     {"To reverse a sequence, each position must look at exactly one earlier position; the attention map shows "
      "where each one looks.",
      "Aby model obrátil posloupnost, musí se každá pozice dívat právě na jednu dřívější; mapa pozornosti ukazuje, "
      "kam se která dívá."}},
    {"majority",
     {"Attention in a model you compose: which digit occurs most often?",
      "Pozornost v modelu, který si složíte sami: která číslice se vyskytuje nejčastěji?"},
     "Co je attention (pozornost)?",
     {"No token can answer alone; with attention over the whole sequence every token sees all the others.",
      "Žádný token nemůže odpovědět sám; s pozorností nad celou posloupností vidí každý token všechny ostatní."}},
    {"tiny_gpt",
     {"A tiny GPT trained on a text file", "Malý GPT natrénovaný na textovém souboru"},
     "nejpokročilejší: transformer · Trénování transformeru",
     {"A transformer of the GPT kind learns letter by letter from a text; its samples before and after training "
      "show what it learned.",
      "Transformer typu GPT se učí písmeno po písmenu z textu; ukázky před trénováním a po něm ukazují, co se "
      "naučil."}},
    {"training_cost",
     {"What training costs: FLOPs, PF-days, memory, energy, CO2 and water",
      "Co trénování stojí: FLOPy, PF-dny, paměť, energie, CO2 a voda"},
     "Výkon počítačů – FLOPS · Jak dlouho trénování trvá? · Co to znamená?",
     {"A big network must fit in memory and its training takes petaFLOP/s-days, hundreds of MWh, tonnes of CO2 "
      "and litres of water; computed here from the models' shapes and this tour's measured runs.",
      "Velká síť se musí vejít do paměti a její trénování stojí petaFLOP/s-dny, stovky MWh, tuny CO2 a litry vody; "
      "zde spočítáno z tvarů modelů a z běhů změřených v této prohlídce."}},
};

/// The playground's lesson (examples/playground) in which a step can be tried live, or "" for none.
inline std::string_view playground_lesson(std::string_view program) {
    if (program == "neuron" || program == "xor") return program;
    if (program == "attention" || program == "tiny_gpt") return "gpt";
    return "";
}

/// Czech for the page's fixed text and for every label the examples report. Row cells (data) are
/// translated when they are listed here and shown as they are otherwise.
inline const std::map<std::string_view, std::string_view>& czech() {
    static const std::map<std::string_view, std::string_view> words = {
        // the page itself
        {"How AI is trained: the neuronka tour", "Jak se trénuje AI: prohlídka s neuronkou"},
        {"Every step of the lecture, run on this computer. The figures and numbers below are this run's.",
         "Každý krok přednášky, spuštěný na tomto počítači. Obrázky a čísla níže jsou z tohoto běhu."},
        {"Contents", "Obsah"},
        {"Step", "Krok"},
        {"Slide", "Snímek"},
        {"Try it yourself: this lesson trains live in the playground (in your browser)",
         "Vyzkoušejte si to: tato lekce se trénuje naživo na hřišti (ve vašem prohlížeči)"},
        {"Measured in this run", "Změřeno v tomto běhu"},
        {"Run", "Běh"},
        {"This step did not run: its report is missing.", "Tento krok neproběhl: jeho záznam chybí."},
        {"written", "vytvořeno"},
        {"computer", "počítač"},
        {"measured figure", "změřená hodnota"},
        {"value", "hodnota"},
        // the same in both languages
        {"w", "w"},
        {"b", "b"},
        {"d_model", "d_model"},
        {"FLOPs", "FLOPy"},
        {"GFLOP/s", "GFLOP/s"},
        {"GPT-3 175B", "GPT-3 175B"},
        // neuron
        {"w, b and the loss during training", "w, b a chyba během trénování"},
        {"iteration", "iterace"},
        {"loss (MSE)", "chyba (MSE)"},
        {"iterations X", "počet iterací X"},
        {"w, b after iteration X", "w, b po iteraci X"},
        {"w, b by least squares", "w, b metodou nejmenších čtverců"},
        {"The points and the neuron's line at iterations 0, 1 and X", "Body a přímka neuronu v iteracích 0, 1 a X"},
        {"The loss, iteration by iteration", "Chyba iteraci po iteraci"},
        // xor
        {"One neuron against a small network on XOR", "Jeden neuron proti malé síti na XOR"},
        {"model", "model"},
        {"parameters", "parametry"},
        {"loss", "chyba"},
        {"accuracy", "přesnost"},
        {"One neuron's decision regions: a straight boundary", "Rozhodovací oblasti jednoho neuronu: rovná hranice"},
        {"The network's decision regions: a bent boundary", "Rozhodovací oblasti sítě: ohnutá hranice"},
        // fashion_mnist
        {"images", "obrázky"},
        {"MLP: training speed", "MLP: rychlost trénování"},
        {"CNN: training speed", "CNN: rychlost trénování"},
        {"MLP: test accuracy", "MLP: přesnost na testovacích datech"},
        {"CNN: test accuracy", "CNN: přesnost na testovacích datech"},
        {"MLP: int8 test accuracy", "MLP: přesnost na testovacích datech s int8 vahami"},
        {"CNN: int8 test accuracy", "CNN: přesnost na testovacích datech s int8 vahami"},
        {"MLP: int8 file and batch-1 latency", "MLP: soubor s int8 vahami a doba předpovědi jednoho obrázku"},
        {"CNN: int8 file and batch-1 latency", "CNN: soubor s int8 vahami a doba předpovědi jednoho obrázku"},
        {"MLP: confusion matrix (rows: true class, columns: predicted)",
         "MLP: matice záměn (řádky: skutečná třída, sloupce: předpověď)"},
        {"CNN: confusion matrix (rows: true class, columns: predicted)",
         "CNN: matice záměn (řádky: skutečná třída, sloupce: předpověď)"},
        {"true class", "skutečná třída"},
        {"T-shirt", "tričko"},
        {"Trouser", "kalhoty"},
        {"Pullover", "svetr"},
        {"Dress", "šaty"},
        {"Coat", "kabát"},
        {"Sandal", "sandál"},
        {"Shirt", "košile"},
        {"Sneaker", "tenisky"},
        {"Bag", "taška"},
        {"Boot", "kotníková bota"},
        {"MLP: test images, predicted (true) class", "MLP: testovací obrázky, předpověď (skutečná třída)"},
        {"CNN: test images, predicted (true) class", "CNN: testovací obrázky, předpověď (skutečná třída)"},
        {"CNN: the 16 filters its first layer learned", "CNN: 16 filtrů, které se naučila její první vrstva"},
        {"Both models side by side", "Oba modely vedle sebe"},
        {"epochs", "epochy"},
        {"test accuracy", "přesnost na testovacích datech"},
        // language_models
        {"words (train / validation / test)", "slova (trénovací / validační / testovací)"},
        {"GRU: training speed", "GRU: rychlost trénování"},
        {"LSTM: training speed", "LSTM: rychlost trénování"},
        {"transformer: training speed", "transformer: rychlost trénování"},
        {"Llama-style: training speed", "styl Llama: rychlost trénování"},
        {"Seven models of English words: held-out NLL per character (nats; uniform guessing is ln 27 = 3.2958)",
         "Sedm modelů anglických slov: NLL na znak na odložených datech (v natech; rovnoměrné hádání dává ln 27 = "
         "3.2958)"},
        {"valid NLL", "validační NLL"},
        {"test NLL", "testovací NLL"},
        {"sampled words", "vygenerovaná slova"},
        {"1. counting bigram", "1. bigram z počtů"},
        {"2. neural bigram (1 layer, SGD)", "2. neuronový bigram (1 vrstva, SGD)"},
        {"3. embeddings + MLP (3 chars)", "3. embeddingy + MLP (3 znaky)"},
        {"4. GRU (hidden 128)", "4. GRU (skrytý stav 128)"},
        {"5. LSTM (hidden 112)", "5. LSTM (skrytý stav 112)"},
        {"6. transformer (2 layers, d 64)", "6. transformer (2 vrstvy, d 64)"},
        {"Held-out NLL per character of each model (lower is better)",
         "NLL na znak každého modelu na odložených datech (méně je lépe)"},
        // word_embeddings
        {"Each word's nearest neighbour by cosine similarity",
         "Nejbližší soused každého slova podle kosinové podobnosti"},
        {"word", "slovo"},
        {"kind", "druh"},
        {"nearest", "nejbližší"},
        {"cosine", "kosinus"},
        {"animal", "zvíře"},
        {"food", "jídlo"},
        {"place", "místo"},
        {"verb", "sloveso"},
        {"person", "osoba"},
        {"nearest neighbour of the same kind", "nejbližší soused stejného druhu"},
        {"The word vectors projected to 2-D: words of one kind gather",
         "Vektory slov promítnuté do roviny: slova jednoho druhu se shlukují"},
        // attention
        {"Accuracy of the answers (the reversed digits) during training",
         "Přesnost odpovědí (obrácených číslic) během trénování"},
        {"step", "krok"},
        {"answer accuracy", "přesnost odpovědí"},
        {"input", "vstup"},
        {"output after the separator", "výstup za oddělovačem"},
        {"Where each position looks: the bright anti-diagonal is the reversal",
         "Kam se která pozice dívá: světlá vedlejší diagonála je obrácení"},
        // majority
        {"right without attention (a token's own digit)", "správně bez pozornosti (vlastní číslice tokenu)"},
        {"Training the composed model", "Trénování složeného modelu"},
        {"held-out accuracy", "přesnost na odložených datech"},
        {"right with attention over the whole sequence", "správně s pozorností nad celou posloupností"},
        // tiny_gpt
        {"data", "data"},
        {"sample before training", "ukázka před trénováním"},
        {"sample after training", "ukázka po trénování"},
        {"training speed", "rychlost trénování"},
        {"held-out loss (nats per character)", "chyba na odložených datech (naty na znak)"},
        {"The training loss, step by step", "Chyba při trénování krok po kroku"},
        // training_cost
        {"How big? GPT-3's shapes (context 2048, vocabulary 50257, 300 billion training tokens)",
         "Jak velké? Tvary GPT-3 (kontext 2048, slovník 50257, 300 miliard trénovacích tokenů)"},
        {"layers", "vrstvy"},
        {"heads", "hlavy"},
        {"parameters (with embeddings)", "parametry (s embeddingy)"},
        {"parameters (no embeddings)", "parametry (bez embeddingů)"},
        {"PF-days", "PF-dny"},
        {"GPT-3 175B: training FLOPs (6 N D)", "GPT-3 175B: FLOPy trénování (6 N D)"},
        {"How long? GPT-3 175B at full utilisation", "Jak dlouho? GPT-3 175B při plném využití"},
        {"time", "čas"},
        {"source", "zdroj"},
        {"measured by neuronka in this tour's training runs", "změřeno neuronkou v trénovacích bězích této prohlídky"},
        {"GPT-3 really took 14.8 days on 10,000 V100s: of their peak",
         "GPT-3 ve skutečnosti trval 14,8 dne na 10 000 V100: využití jejich špičkového výkonu"},
        {"memory to train GPT-3 175B (fp32 weights, gradients, AdamW's 2 moments)",
         "paměť pro trénování GPT-3 175B (váhy fp32, gradienty, 2 momenty AdamW)"},
        {"GPT-3 175B's fp16 weights alone", "samotné váhy GPT-3 175B v fp16"},
        {"What does it cost? GPT-3 175B: 10,000 V100 at 330 W for 14.8 days (Patterson et al. 2021)",
         "Co to znamená? GPT-3 175B: 10 000 V100 při 330 W po 14,8 dne (Patterson et al. 2021)"},
        {"quantity", "veličina"},
        {"households' yearly use", "roční spotřeba domácností"},
        {"energy (PUE 1.10)", "energie (PUE 1.10)"},
        {"CO2 (0.429 kg/kWh, with PUE)", "CO2 (0.429 kg/kWh, s PUE)"},
        {"CO2 (processors alone: the lecture's 502 t)", "CO2 (jen procesory: 502 t z přednášky)"},
        {"water on site (0.55 L/kWh)", "voda v datovém centru (0.55 L/kWh)"},
        {"neuronka's own models, measured in this tour", "Vlastní modely neuronky, změřené v této prohlídce"},
        {"run", "běh"},
        {"seconds", "sekundy"},
        {"kWh at an assumed 15 W", "kWh při předpokládaných 15 W"},
        {"Training compute in PF-days, log scale: GPT-3 and this tour's runs",
         "Výpočet trénování v PF-dnech, logaritmická osa: GPT-3 a běhy této prohlídky"},
    };
    return words;
}

}  // namespace examples::tour
