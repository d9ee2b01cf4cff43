"""Sentiment of review-like sentences: what a bag of words cannot learn and an LSTM can.

Many-to-one: an embedding and an LSTM read a sentence word by word, and a linear readout of
the state after the sentence's last real word says positive or negative. The sentences come
from a small grammar, generated on the fly: "very good", "not bad at all", "the acting was
not great but the story was good". Their labels follow rules about word order:

- "not" flips the polarity of the next adjective ("not bad" is positive);
- intensifiers ("very", "really", ...) and "at all" change nothing about the sign;
- after "but" the second clause decides ("good, but the ending was terrible" is negative).

Each clause is negated half the time, whatever its adjective, so every adjective is as often
in a positive sentence as in a negative one, and so is "not": word counts carry no sign. The
baseline, logistic regression on word counts trained with the same framework, is therefore
near chance on the negated sentences, while the LSTM, which reads the words in order, is not.
(``--negation 0.25`` makes un-negated adjectives the rule: the bag of words then learns that
"good" is good, and gets the negated sentences systematically wrong.)

Sentences of different lengths go through the LSTM as one padded batch with ``lengths=``, so
the final state ``h_n`` is each sentence's state after its own last word. The same readout
applied to every step's output gives the model's belief after each word, which the picture
(``--plot``) draws for a few sentences as they are read, next to the bag of words' belief on
the same prefixes.

    python examples/sentiment.py [--steps 600] [--seed 0] [--plot sentiment.png] [--device cuda]
"""

from __future__ import annotations

import numpy as np

import tinygrad_rnn as tr
from tinygrad_rnn import nn, optim
from tinygrad_rnn.training import Stopwatch, evaluate, example_arguments, log, optimize, progress, save_figure

POSITIVE = ("good", "great", "excellent", "wonderful", "fun", "brilliant")
NEGATIVE = ("bad", "terrible", "awful", "boring", "dull", "weak")
INTENSIFIERS = ("very", "really", "so", "extremely", "truly")
SUBJECTS = ("the movie", "the film", "the acting", "the story", "the plot", "the ending", "the music",
            "the cast", "the dialogue", "it")
POLARITY = {**{word: 1 for word in POSITIVE}, **{word: -1 for word in NEGATIVE}}
PAD = "<pad>"
VOCABULARY = (PAD, "not", "but", ",", "was", "at", "all", *INTENSIFIERS, *POSITIVE, *NEGATIVE,
              *sorted({word for subject in SUBJECTS for word in subject.split()}))
INDEX = {word: i for i, word in enumerate(VOCABULARY)}
CATEGORIES = ("plain", "negated", "but")  # one clause without "not", one clause with it, two clauses
SHOWN = ("not bad at all", "the movie was very good", "the acting was not great but the story was good",
         "good , but the ending was terrible", "the plot was not very good")


def label_of(words: list[str]) -> int:
    """The grammar's rule, read off the words alone: 1 positive, 0 negative.

    The sign of an adjective is flipped by a "not" before it in its clause; "but" starts a new
    clause, and the last clause's adjective decides. Used to label hand-written sentences and to
    check the generator, which builds each label from its own choices.
    """
    sign, flip = None, False
    for word in words:
        if word == "but":
            sign, flip = None, False  # what came before "but" no longer matters
        elif word == "not":
            flip = True
        elif word in POLARITY:
            sign, flip = POLARITY[word] * (-1 if flip else 1), False
    if sign is None:
        raise ValueError(f"label_of: no adjective after the last 'but' in {' '.join(words)!r}")
    return int(sign > 0)


def clause(generator, negation: float, subject: bool) -> tuple[list[str], int, bool]:
    """One clause: optional subject, optional "not", optional intensifier, an adjective, and
    "at all" sometimes after a bare "not". Returns (words, +1 or -1, negated)."""
    adjective = str(generator.choice(POSITIVE + NEGATIVE))
    negated = bool(generator.random() < negation)
    intensified = bool(generator.random() < 0.4)
    words = SUBJECTS[generator.integers(len(SUBJECTS))].split() + ["was"] if subject else []
    words += ["not"] * negated + [str(generator.choice(INTENSIFIERS))] * intensified + [adjective]
    if negated and not intensified and generator.random() < 0.5:
        words += ["at", "all"]  # "not bad at all": emphasis, no change of sign
    return words, POLARITY[adjective] * (-1 if negated else 1), negated


def sentence(generator, negation: float, contrast: float) -> tuple[list[str], int, str]:
    """A review sentence, its label (1 positive, 0 negative) and its category (``CATEGORIES``).

    With probability ``contrast`` two clauses are joined by "but"; their polarities are drawn
    independently, so the first clause says nothing about the label and only word order can."""
    if generator.random() < contrast:
        first, _, _ = clause(generator, negation, subject=generator.random() < 0.7)
        second, sign, _ = clause(generator, negation, subject=True)
        joint = [","] if first[0] != "the" and first[0] != "it" else []  # "good , but ...", as written
        return first + joint + ["but"] + second, int(sign > 0), "but"
    words, sign, negated = clause(generator, negation, subject=generator.random() < 0.6)
    return words, int(sign > 0), "negated" if negated else "plain"


def encode(sentences: list[list[str]], device) -> tuple[tr.Tensor, tr.Tensor]:
    """Word indices padded with ``PAD`` to the longest sentence, (N, L) int64, and the lengths (N,)."""
    lengths = [len(words) for words in sentences]
    indices = np.zeros((len(sentences), max(lengths)), dtype=np.int64)  # 0 is PAD
    for row, words in enumerate(sentences):
        indices[row, : len(words)] = [INDEX[word] for word in words]
    return tr.tensor(indices, device=device), tr.tensor(lengths, device=device)


def counts(indices: tr.Tensor) -> tr.Tensor:
    """The bag of words: how often each word occurs in each row of ``indices`` (N, V), float32,
    with the padding's column zeroed so that a sentence's length is not a feature."""
    bag = tr.one_hot(indices, len(VOCABULARY)).float().sum(1)
    return bag * (tr.arange(len(VOCABULARY), device=indices.device) != INDEX[PAD]).float()


class LSTMClassifier(nn.Module):
    """Words in, one logit out (positive if > 0), read off the state after each sentence's last word."""

    def __init__(self, embedding: int, hidden: int):
        super().__init__()
        self.embed = nn.Embedding(len(VOCABULARY), embedding, padding_idx=INDEX[PAD])
        self.lstm = nn.LSTM(embedding, hidden, batch_first=True)
        self.readout = nn.Linear(hidden, 1)

    def forward(self, indices: tr.Tensor, lengths: tr.Tensor) -> tr.Tensor:
        """Logits (N,): ``h_n`` is each sentence's state after its own last word, thanks to ``lengths``."""
        _, (h_n, _) = self.lstm(self.embed(indices), lengths=lengths)
        return self.readout(h_n[0])[:, 0]

    def beliefs(self, indices: tr.Tensor, lengths: tr.Tensor) -> tr.Tensor:
        """P(positive) after each word, (N, L): the readout applied to every step's output (zeros'
        readout past a sentence's end, which callers cut off at its length)."""
        outputs, _ = self.lstm(self.embed(indices), lengths=lengths)
        return self.readout(outputs)[..., 0].sigmoid()


class BagOfWords(nn.Module):
    """Logistic regression on word counts: one weight per word and a bias; order is invisible to it."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(len(VOCABULARY), 1)

    def forward(self, indices: tr.Tensor, lengths: tr.Tensor) -> tr.Tensor:
        """Logits (N,) from the counts of the words (``lengths`` is unused: padding has no count)."""
        return self.linear(counts(indices))[:, 0]

    def beliefs(self, indices: tr.Tensor, lengths: tr.Tensor) -> tr.Tensor:
        """P(positive) after each word, (N, L): the model applied to every prefix, as running sums."""
        weights = self.linear.weight[0][indices]  # (N, L): each word's weight, in order
        return (weights.cumsum(1) + self.linear.bias).sigmoid()


def make_dataset(count: int, negation: float, contrast: float, generator) -> tuple[list, np.ndarray, np.ndarray]:
    """``count`` sentences (lists of words), their labels and their categories (index into ``CATEGORIES``)."""
    rows = [sentence(generator, negation, contrast) for _ in range(count)]
    words, labels, categories = zip(*rows)
    return list(words), np.array(labels), np.array([CATEGORIES.index(c) for c in categories])


def accuracy_by_category(model: nn.Module, test: tuple, unseen: np.ndarray, device) -> dict:
    """Fraction right overall, per category and on the ``unseen`` test sentences (a boolean mask:
    those that never occur in training), without a graph: {"all": ..., "plain": ..., ..., "unseen": ...}."""
    words, labels, categories = test
    indices, lengths = encode(words, device)
    right = evaluate(model, lambda: (model(indices, lengths) > 0).numpy() == (labels == 1))
    scores = {"all": float(right.mean())}
    scores.update({name: float(right[categories == k].mean()) for k, name in enumerate(CATEGORIES)})
    scores["unseen"] = float(right[unseen].mean())
    return scores


def train(model: nn.Module, batches: list, args, device, name: str) -> list:
    """Adam on binary cross-entropy over ``batches`` (sentences, labels, categories), gradients clipped
    to norm 1. Returns the loss after each step."""
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    loss_fn, curve = nn.BCEWithLogitsLoss(), []
    bar = progress(batches, desc=name, enabled=not args.no_progress)
    for step, (words, labels, _) in enumerate(bar, 1):
        indices, lengths = encode(words, device)
        target = tr.tensor(labels.astype(np.float32), device=device)
        curve.append(optimize(loss_fn(model(indices, lengths), target), optimizer, max_norm=1.0))
        if step % max(1, len(batches) // 5) == 0:
            log(bar, f"{name} step {step:4d}  loss {np.mean(curve[-50:]):.4f}")
    return curve


def main() -> None:
    """Train both models, print accuracies by category and the per-word beliefs, draw them."""
    parser = example_arguments(__doc__.split("\n")[0], steps=600, batch=64, test=2000, embedding=16, hidden=32,
                               lr=0.01, negation=0.5, contrast=0.4)
    args = tr.training.apply_quick(parser, parser.parse_args(), steps=250, test=1000)
    tr.manual_seed(args.seed)
    generator = np.random.default_rng(args.seed)
    test = make_dataset(args.test, args.negation, args.contrast, generator)
    # Fresh sentences for every step, the same for both models. Short sentences recur (the grammar
    # is small), so the test set is not scrubbed of them (that would bias the bag of words against
    # exactly the sentences it is tested on); instead accuracy is also reported on the test
    # sentences that never occur in training ("unseen").
    batches = [make_dataset(args.batch, args.negation, args.contrast, generator) for _ in range(args.steps)]
    trained_on = {" ".join(words) for batch in batches for words in batch[0]}
    unseen = np.array([" ".join(words) not in trained_on for words in test[0]])
    print(f"{args.test} test sentences ({', '.join(f'{np.sum(test[2] == k)} {c}' for k, c in enumerate(CATEGORIES))}),"
          f" {np.mean(test[1]):.2f} positive, {unseen.sum()} of them never in training; {len(VOCABULARY)} words")

    watch = Stopwatch()
    lstm = LSTMClassifier(args.embedding, args.hidden).to(args.device)
    lstm_curve = train(lstm, batches, args, args.device, "lstm")
    bag = BagOfWords().to(args.device)
    bag_curve = train(bag, batches, args, args.device, "bag of words")
    print(f"trained {args.steps} steps of {args.batch} sentences, each model, in {watch.elapsed:.1f} s")

    scores = {"LSTM": accuracy_by_category(lstm, test, unseen, args.device),
              "bag of words": accuracy_by_category(bag, test, unseen, args.device)}
    print("\nbeliefs P(positive) after each word (LSTM | bag of words):")
    shown = [s.split() for s in SHOWN]
    indices, lengths = encode(shown, args.device)
    curves = {name: evaluate(model, lambda m=model: m.beliefs(indices, lengths)).numpy()
              for name, model in (("LSTM", lstm), ("bag of words", bag))}
    for row, words in enumerate(shown):
        print(f"  {' '.join(words)!r}: label {'positive' if label_of(words) else 'negative'}")
        for name, values in curves.items():
            print(f"    {name:>12}: " + " ".join(f"{w}={p:.2f}" for w, p in zip(words, values[row])))

    if args.plot:
        def draw(pyplot):
            figure, axes = pyplot.subplots(2, 3, figsize=(14, 8.5))
            axes = axes.ravel()  # the learning curves first, then one panel per sentence
            learning = axes[0]
            for k, (name, curve) in enumerate((("LSTM", lstm_curve), ("bag of words", bag_curve))):
                smooth = np.convolve(curve, np.ones(20) / 20, mode="valid")  # a 20-step running mean
                learning.plot(np.arange(len(smooth)) + 20, smooth, color=f"C{k}", label=name)
            learning.axhline(np.log(2), color="gray", ls=":", label="chance (ln 2)")
            learning.set_xlabel("step")
            learning.set_ylabel("training loss (binary cross-entropy)")
            bars = "\n".join(f"{name}: negated {s['negated']:.2f}, but {s['but']:.2f}" for name, s in scores.items())
            learning.set_title(f"learning curves\ntest accuracy  {bars}", fontsize=9)
            learning.legend(loc="lower left")
            for axis, words, row in zip(axes[1:], shown, range(len(shown))):
                steps = np.arange(len(words))
                for k, (name, values) in enumerate(curves.items()):
                    axis.plot(steps, values[row, : len(words)], "o-" if k == 0 else "s--", color=f"C{k}", label=name)
                for position, word in enumerate(words):  # shade the adjectives: where the sign is decided
                    if word in POLARITY:
                        axis.axvspan(position - 0.3, position + 0.3, color="C2" if POLARITY[word] > 0 else "C3",
                                     alpha=0.12, lw=0)
                axis.axhline(0.5, color="gray", lw=0.8, ls=":")
                axis.set_ylim(-0.03, 1.03)
                axis.set_xticks(steps, words, rotation=60, ha="right")
                truth = "positive" if label_of(words) else "negative"
                axis.set_title(f"label: {truth}", color="C2" if label_of(words) else "C3", fontsize=10)
                axis.set_ylabel("P(positive) after the word" if row == 0 else "")
                if row == 0:
                    axis.legend(loc="lower right", fontsize=8)
            figure.suptitle("P(positive) after each word. The readout is trained on the last word only, so between "
                            "adjectives (shaded by their own polarity) its value is free;\nat each adjective it "
                            "follows the rules: 'not' flips it, after 'but' only the second clause counts", fontsize=10)
            figure.tight_layout()
            return figure

        save_figure(draw, args.plot)

    columns = ("all", *CATEGORIES, "unseen")
    print(f"\n{'test accuracy':<14}" + "".join(f"{c:>9}" for c in columns))
    for name, s in scores.items():
        print(f"{name:<14}" + "".join(f"{s[c]:>9.3f}" for c in columns))


if __name__ == "__main__":
    main()
