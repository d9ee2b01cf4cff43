"""examples/sentiment.py: the grammar's labels follow its rules, a bag of words cannot read them
off word counts, and the LSTM, reading word order, learns them in --quick mode."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

import tinygrad_rnn as tr
from tests import helpers

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def sentiment():
    """The example as a module, for its grammar and models (it runs nothing on import)."""
    spec = importlib.util.spec_from_file_location("sentiment_example", EXAMPLES / "sentiment.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("text, positive", [
    ("good", True),
    ("very good", True),
    ("not good", False),
    ("not bad", True),
    ("not bad at all", True),
    ("extremely terrible", False),  # intensifiers keep the sign
    ("the plot was not very good", False),  # "not" reaches past an intensifier to its adjective
    ("good , but the ending was terrible", False),  # after "but" the second clause decides
    ("the acting was not great but the story was good", True),
    ("the acting was great but the story was not good", False),
    ("bad but not bad at all", True),
    ("not good but not terrible", True),  # each "not" flips only its own clause's adjective
])
def test_labels_follow_the_rules_on_hand_written_sentences(sentiment, text, positive):
    assert sentiment.label_of(text.split()) == int(positive)


def test_a_but_without_an_adjective_after_it_has_no_label(sentiment):
    with pytest.raises(ValueError, match="no adjective"):
        sentiment.label_of("good but the story".split())


def test_generated_sentences_obey_the_rules_and_hide_the_sign_from_word_counts(sentiment):
    generator = np.random.default_rng(1)
    words, labels, categories = sentiment.make_dataset(20000, 0.5, 0.4, generator)
    # The generator builds each label from its own choices; the rule reads it off the words: they must agree.
    assert [sentiment.label_of(w) for w in words] == labels.tolist()
    names = [sentiment.CATEGORIES[k] for k in categories]
    assert all(("but" in w) == (c == "but") for w, c in zip(words, names))
    assert all(("not" in w) == (c == "negated") for w, c in zip(words, names) if c != "but")
    assert 0.45 < labels.mean() < 0.55
    # No word says which way a sentence goes: among the sentences that contain it, about half are
    # positive. This is what leaves a bag of words at chance (it would not be with, say, "not" in
    # only negative sentences). 20000 sentences: the rarest word is in ~1500, a std of ~0.013.
    for word in sentiment.VOCABULARY[1:]:
        with_word = labels[[word in w for w in words]]
        assert 0.44 < with_word.mean() < 0.56, (word, with_word.mean(), len(with_word))


def test_readout_uses_each_sentences_last_word_and_the_belief_curve_has_one_value_per_word(sentiment):
    tr.manual_seed(0)
    model = sentiment.LSTMClassifier(embedding=8, hidden=12)  # untrained: the wiring is what is tested
    shown = [s.split() for s in ("not bad at all", "good", "the acting was not great but the story was good")]
    indices, lengths = sentiment.encode(shown, "cpu")
    with tr.no_grad():
        logits = model(indices, lengths).numpy()
        beliefs = model.beliefs(indices, lengths).numpy()
        alone = [model(*sentiment.encode([w], "cpu")).item() for w in shown]
    assert beliefs.shape == (3, max(len(w) for w in shown))
    for row, words in enumerate(shown):
        curve = beliefs[row, : len(words)]
        assert curve.shape == (len(words),) and np.all((curve > 0) & (curve < 1))
        # The prediction is the belief after the sentence's own last word, not after the padding...
        np.testing.assert_allclose(curve[-1], 1 / (1 + np.exp(-logits[row])), rtol=1e-5)
        # ...and padding a sentence into a batch changes nothing about it.
        np.testing.assert_allclose(logits[row], alone[row], rtol=1e-5, atol=1e-6)
    # The bag of words' curve is its prediction on every prefix: its last value is its prediction too.
    bag = sentiment.BagOfWords()
    with tr.no_grad():
        bag_logits, bag_beliefs = bag(indices, lengths).numpy(), bag.beliefs(indices, lengths).numpy()
    last = bag_beliefs[np.arange(3), np.array([len(w) for w in shown]) - 1]
    np.testing.assert_allclose(last, 1 / (1 + np.exp(-bag_logits)), rtol=1e-5)


def scores(output: str) -> dict:
    """{model: {column: accuracy}} from the table that ends the output."""
    lines = output.strip().splitlines()
    header = lines[-3].split()
    assert header[:2] == ["test", "accuracy"], output[-800:]
    columns = header[2:]
    table = {}
    for line in lines[-2:]:
        match = re.fullmatch(r"(LSTM|bag of words)\s+([\d. ]+)", line)
        assert match, line
        table[match.group(1)] = dict(zip(columns, map(float, match.group(2).split())))
    return table


def test_quick_lstm_reads_negation_and_but_where_the_bag_of_words_cannot(tmp_path):
    plot = tmp_path / "sentiment.png"
    output = helpers.run_example("sentiment.py", "--quick", "--no-progress", "--plot", str(plot)).stdout
    table = scores(output)
    lstm, bag = table["LSTM"], table["bag of words"]
    # Seed 0 --quick: the LSTM reached 1.000 in every column (seeds 0-7 all did); the bag of words
    # 0.53 overall and 0.24-0.60 on negated sentences over seeds 0-7 (near-zero weights decide its signs).
    for column in ("all", "negated", "but", "unseen"):
        assert lstm[column] >= 0.9, (column, output[-800:])
    assert bag["all"] < 0.6, output[-800:]
    assert bag["negated"] < lstm["negated"] - 0.2, output[-800:]
    assert bag["but"] < lstm["but"] - 0.2, output[-800:]
    # Belief lines: one value per word of each shown sentence.
    shown = re.findall(r"^  '(.+)': label (positive|negative)$", output, re.M)
    assert len(shown) == 5, output
    for model in ("LSTM", "bag of words"):
        rows = re.findall(rf"^\s+{model}: (.+)$", output, re.M)
        assert [len(r.split()) for r in rows] == [len(s.split()) for s, _ in shown], rows
    if importlib.util.find_spec("matplotlib"):
        assert plot.stat().st_size > 0


def test_runs_on_the_strict_device():
    # "strict" refuses host/device mixing as CuPy does, so this catches code that would break on a GPU.
    output = helpers.run_example("sentiment.py", "--quick", "--no-progress", "--device", "strict",
                                 "--steps", "5", "--test", "100").stdout
    assert 0.0 <= scores(output)["LSTM"]["all"] <= 1.0
