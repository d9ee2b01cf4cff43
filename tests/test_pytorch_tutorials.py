"""The idioms of the well-known PyTorch RNN tutorials, run here with only their imports switched.

Each script below is written for PyTorch in the style of a well-known tutorial (our own words, the
tutorials' idioms): classifying names with a hand-written RNN and with ``nn.RNN``, generating names
letter by letter, translating with a GRU encoder and a Bahdanau-attention decoder, predicting sine
waves with ``LSTMCell`` and ``LBFGS``, and the small habits RNN scripts share. ``switch_imports``
(tests/test_pytorch_scripts.py) rewrites their import lines and nothing else; each must then run
here, and where PyTorch is installed it runs unmodified under PyTorch from the same weights (handed
in as NumPy arrays) and the two must print the same numbers. Random draws are seed-dependent and
differ between the frameworks, so the scripts keep them out of what is compared (dropout is run
in eval mode, batches in a fixed order, decoding is greedy).
"""

from __future__ import annotations

import numpy as np
import pytest
from test_pytorch_scripts import run, switch_imports

import tinygrad_rnn as tr


def _both(script: str, inputs: dict) -> tuple[dict, dict]:
    """The script's namespace after running here (imports switched) and under PyTorch (unchanged)."""
    pytest.importorskip("torch")
    theirs = run(script, **inputs)
    ours = run(switch_imports(script), **inputs)
    return ours, theirs


def _float32(weights: dict) -> dict:
    return {name: np.asarray(value, dtype=np.float32) for name, value in weights.items()}


# ---------------------------------------------------------------- 1. name classification, hand-written RNN
CLASSIFY_BY_HAND = '''
import string
import torch
import torch.nn as nn

LETTERS = string.ascii_letters + " .,;'"
N_LETTERS = len(LETTERS)


def line_to_tensor(line):
    tensor = torch.zeros(len(line), 1, N_LETTERS)
    for li, letter in enumerate(line):
        tensor[li][0][LETTERS.find(letter)] = 1
    return tensor


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(RNN, self).__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
        self.i2o = nn.Linear(input_size + hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        combined = torch.cat((input, hidden), 1)
        hidden = self.i2h(combined)
        output = self.softmax(self.i2o(combined))
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)


rnn = RNN(N_LETTERS, HIDDEN, len(CATEGORIES))
rnn.load_state_dict({k: torch.from_numpy(v) for k, v in WEIGHTS.items()})
criterion = nn.NLLLoss()
learning_rate = 0.05


def category_from_output(output):
    top_n, top_i = output.topk(1)
    category_i = top_i[0].item()
    return CATEGORIES[category_i], category_i


def train(category_tensor, line_tensor):
    hidden = rnn.initHidden()
    rnn.zero_grad()
    for i in range(line_tensor.size()[0]):
        output, hidden = rnn(line_tensor[i], hidden)
    loss = criterion(output, category_tensor)
    loss.backward()
    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-learning_rate)
    return output, loss.item()


losses, guesses = [], []
for epoch in range(2):
    for category, line in EXAMPLES:
        category_tensor = torch.tensor([CATEGORIES.index(category)], dtype=torch.long)
        output, loss = train(category_tensor, line_to_tensor(line))
        guesses.append(category_from_output(output)[0])
        losses.append(loss)


def evaluate(line_tensor):
    hidden = rnn.initHidden()
    for i in range(line_tensor.size()[0]):
        output, hidden = rnn(line_tensor[i], hidden)
    return output


n_categories = len(CATEGORIES)
confusion = torch.zeros(n_categories, n_categories)
with torch.no_grad():
    for category, line in EXAMPLES + HELD_OUT:
        guess, guess_i = category_from_output(evaluate(line_to_tensor(line)))
        confusion[CATEGORIES.index(category)][guess_i] += 1
for i in range(n_categories):
    confusion[i] = confusion[i] / confusion[i].sum()
report = [f"{name}: {confusion[i][i]:.3f}" for i, name in enumerate(CATEGORIES)]
confusion_rows = confusion.tolist()
diagonal = confusion.diag().tolist()
'''

_CATEGORIES = ["English", "French", "Italian"]
_NAMES = [("English", "Smith"), ("French", "Dupont"), ("Italian", "Rossi"), ("English", "Jones"),
          ("French", "Lefevre"), ("Italian", "Bianchi")]
_HELD_OUT = [("English", "Brown"), ("French", "Moreau"), ("Italian", "Russo")]


def _classify_by_hand_inputs():
    rng = np.random.default_rng(0)
    letters, hidden = 57, 16
    weights = {"i2h.weight": rng.normal(scale=0.2, size=(hidden, letters + hidden)),
               "i2h.bias": rng.normal(scale=0.1, size=hidden),
               "i2o.weight": rng.normal(scale=0.2, size=(3, letters + hidden)), "i2o.bias": np.zeros(3)}
    return dict(CATEGORIES=_CATEGORIES, EXAMPLES=_NAMES, HELD_OUT=_HELD_OUT, HIDDEN=hidden,
                WEIGHTS=_float32(weights))


def test_name_classification_by_hand_runs_and_learns():
    ours = run(switch_imports(CLASSIFY_BY_HAND), **_classify_by_hand_inputs())
    losses = ours["losses"]
    assert len(losses) == 12 and np.mean(losses[6:]) < np.mean(losses[:6])
    np.testing.assert_allclose(np.sum(ours["confusion_rows"], axis=1), 1.0, rtol=1e-6)
    assert ours["diagonal"] == [row[i] for i, row in enumerate(ours["confusion_rows"])]
    assert all(line.count(".") == 1 for line in ours["report"])


def test_name_classification_by_hand_gives_pytorchs_numbers():
    ours, theirs = _both(CLASSIFY_BY_HAND, _classify_by_hand_inputs())
    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=1e-5, atol=1e-6)
    assert ours["guesses"] == theirs["guesses"]
    np.testing.assert_allclose(ours["confusion_rows"], theirs["confusion_rows"], rtol=1e-6)
    assert ours["report"] == theirs["report"]


# ---------------------------------------------------------------- 1b. name classification with nn.RNN
CLASSIFY_WITH_NN_RNN = '''
import random
import string
import numpy as np
import torch
import torch.nn as nn

LETTERS = string.ascii_letters + " .,;'"


def line_to_tensor(line):
    tensor = torch.zeros(len(line), 1, len(LETTERS))
    for li, letter in enumerate(line):
        tensor[li][0][LETTERS.find(letter)] = 1
    return tensor


class CharRNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(CharRNN, self).__init__()
        self.rnn = nn.RNN(input_size, hidden_size)
        self.h2o = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, line_tensor):
        rnn_out, hidden = self.rnn(line_tensor)
        output = self.h2o(hidden[0])
        return self.softmax(output)


rnn = CharRNN(len(LETTERS), HIDDEN, len(CATEGORIES))
rnn.load_state_dict({k: torch.from_numpy(v) for k, v in WEIGHTS.items()})
training_data = [(torch.tensor([CATEGORIES.index(c)], dtype=torch.long), line_to_tensor(n), c, n) for c, n in EXAMPLES]
criterion = nn.NLLLoss()
optimizer = torch.optim.SGD(rnn.parameters(), lr=0.15)
random.seed(7)  # Python's shuffle: the same order under both frameworks
all_losses = []
rnn.train()
for epoch in range(1, 5):
    rnn.zero_grad()
    current_loss = 0
    batches = list(range(len(training_data)))
    random.shuffle(batches)
    batches = np.array_split(batches, len(batches) // 2)
    for idx, batch in enumerate(batches):
        batch_loss = 0
        for i in batch:
            (label_tensor, text_tensor, label, text) = training_data[i]
            output = rnn.forward(text_tensor)
            loss = criterion(output, label_tensor)
            batch_loss += loss
        batch_loss.backward()
        nn.utils.clip_grad_norm_(rnn.parameters(), 3)
        optimizer.step()
        optimizer.zero_grad()
        current_loss += batch_loss.item() / len(batch)
    all_losses.append(current_loss / len(batches))

rnn.eval()
with torch.no_grad():
    outputs = torch.stack([rnn(line_to_tensor(name)) for _, name in EXAMPLES]).squeeze(1)
    targets = torch.tensor([CATEGORIES.index(c) for c, _ in EXAMPLES])
    predicted = torch.argmax(outputs, dim=1)
    values, indices = outputs.max(1)
    correct = torch.sum(predicted == targets).item()
    accuracy = correct / targets.size(0)
same_as_max = bool((indices == predicted).all()) and bool((outputs.max(1).indices == predicted).all())
'''


def _classify_with_nn_rnn_inputs():
    rng = np.random.default_rng(1)
    letters, hidden = 57, 12
    weights = {"rnn.weight_ih_l0": rng.normal(scale=0.3, size=(hidden, letters)),
               "rnn.weight_hh_l0": rng.normal(scale=0.3, size=(hidden, hidden)),
               "rnn.bias_ih_l0": rng.normal(scale=0.1, size=hidden), "rnn.bias_hh_l0": np.zeros(hidden),
               "h2o.weight": rng.normal(scale=0.3, size=(3, hidden)), "h2o.bias": np.zeros(3)}
    return dict(CATEGORIES=_CATEGORIES, EXAMPLES=_NAMES, HIDDEN=hidden, WEIGHTS=_float32(weights))


def test_name_classification_with_nn_rnn_runs_and_learns():
    ours = run(switch_imports(CLASSIFY_WITH_NN_RNN), **_classify_with_nn_rnn_inputs())
    assert len(ours["all_losses"]) == 4 and ours["all_losses"][-1] < ours["all_losses"][0]
    assert 0 <= ours["accuracy"] <= 1 and isinstance(ours["correct"], int) and ours["same_as_max"]


def test_name_classification_with_nn_rnn_gives_pytorchs_numbers():
    ours, theirs = _both(CLASSIFY_WITH_NN_RNN, _classify_with_nn_rnn_inputs())
    np.testing.assert_allclose(ours["all_losses"], theirs["all_losses"], rtol=1e-5, atol=1e-6)
    assert ours["accuracy"] == theirs["accuracy"] and ours["predicted"].tolist() == theirs["predicted"].tolist()


# ---------------------------------------------------------------- 2. name generation
GENERATE_NAMES = '''
import string
import torch
import torch.nn as nn

all_letters = string.ascii_letters + " .,;'-"
n_letters = len(all_letters) + 1  # and the end-of-name marker


class RNN(nn.Module):
    def __init__(self, n_categories, input_size, hidden_size, output_size):
        super(RNN, self).__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(n_categories + input_size + hidden_size, hidden_size)
        self.i2o = nn.Linear(n_categories + input_size + hidden_size, output_size)
        self.o2o = nn.Linear(hidden_size + output_size, output_size)
        self.dropout = nn.Dropout(0.1)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, category, input, hidden):
        input_combined = torch.cat((category, input, hidden), 1)
        hidden = self.i2h(input_combined)
        output = self.i2o(input_combined)
        output = self.o2o(torch.cat((hidden, output), 1))
        output = self.dropout(output)
        return self.softmax(output), hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)


def category_tensor(category):
    tensor = torch.zeros(1, len(CATEGORIES))
    tensor[0][CATEGORIES.index(category)] = 1
    return tensor


def input_tensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li in range(len(line)):
        tensor[li][0][all_letters.find(line[li])] = 1
    return tensor


def target_tensor(line):
    letter_indexes = [all_letters.find(line[li]) for li in range(1, len(line))]
    letter_indexes.append(n_letters - 1)
    return torch.LongTensor(letter_indexes)


rnn = RNN(len(CATEGORIES), n_letters, HIDDEN, n_letters)
rnn.load_state_dict({k: torch.from_numpy(v) for k, v in WEIGHTS.items()})
rnn.eval()  # dropout's random mask is the one thing the two frameworks cannot share
criterion = nn.NLLLoss()
learning_rate = 0.05


def train(category_tensor, input_line_tensor, target_line_tensor):
    target_line_tensor.unsqueeze_(-1)
    hidden = rnn.initHidden()
    rnn.zero_grad()
    loss = 0
    for i in range(input_line_tensor.size(0)):
        output, hidden = rnn(category_tensor, input_line_tensor[i], hidden)
        l = criterion(output, target_line_tensor[i])
        loss += l
    loss.backward()
    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-learning_rate)
    return output, loss.item() / input_line_tensor.size(0)


losses = []
for epoch in range(3):
    for category, line in EXAMPLES:
        output, loss = train(category_tensor(category), input_tensor(line), target_tensor(line))
        losses.append(loss)


def sample(category, start_letter="A", max_length=8):
    with torch.no_grad():
        category_t = category_tensor(category)
        input = input_tensor(start_letter)
        hidden = rnn.initHidden()
        output_name = start_letter
        for i in range(max_length):
            output, hidden = rnn(category_t, input[0], hidden)
            topv, topi = output.topk(1)
            topi = topi[0][0]
            if topi == n_letters - 1:
                break
            else:
                letter = all_letters[topi]
                output_name += letter
            input = input_tensor(letter)
        return output_name


samples = [sample(c, s) for c in CATEGORIES for s in "ABS"]
rnn.train()  # dropout in training mode runs too; its mask differs between frameworks, so only the shape is kept
train_mode_shape = tuple(rnn(category_tensor(CATEGORIES[0]), input_tensor("A")[0], rnn.initHidden())[0].shape)
'''


def _generate_inputs():
    rng = np.random.default_rng(2)
    letters, hidden, categories = 59, 12, 2
    weights = {"i2h.weight": rng.normal(scale=0.2, size=(hidden, categories + letters + hidden)),
               "i2h.bias": rng.normal(scale=0.1, size=hidden),
               "i2o.weight": rng.normal(scale=0.2, size=(letters, categories + letters + hidden)),
               "i2o.bias": np.zeros(letters),
               "o2o.weight": rng.normal(scale=0.2, size=(letters, letters + hidden)), "o2o.bias": np.zeros(letters)}
    examples = [("Greek", "Alexis"), ("Irish", "Brady"), ("Greek", "Nikos"), ("Irish", "Sullivan")]
    return dict(CATEGORIES=["Greek", "Irish"], EXAMPLES=examples, HIDDEN=hidden, WEIGHTS=_float32(weights))


def test_name_generation_runs_and_learns():
    ours = run(switch_imports(GENERATE_NAMES), **_generate_inputs())
    losses = ours["losses"]
    assert len(losses) == 12 and np.mean(losses[-4:]) < np.mean(losses[:4]) / 1.5
    assert all(name[0] in "ABS" and 1 <= len(name) <= 9 for name in ours["samples"])
    assert ours["train_mode_shape"] == (1, 59)


def test_name_generation_gives_pytorchs_numbers():
    ours, theirs = _both(GENERATE_NAMES, _generate_inputs())
    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=1e-5, atol=1e-6)
    assert ours["samples"] == theirs["samples"]


# ---------------------------------------------------------------- 3. translation with attention
TRANSLATE = '''
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import optim
from torch.utils.data import DataLoader, RandomSampler, TensorDataset

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
device = torch.device("cpu")  # both frameworks on the host, so their numbers can be compared
SOS_token, EOS_token = 0, 1


class EncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size, dropout_p=0.1):
        super(EncoderRNN, self).__init__()
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, input):
        embedded = self.dropout(self.embedding(input))
        output, hidden = self.gru(embedded)
        return output, hidden


class BahdanauAttention(nn.Module):
    def __init__(self, hidden_size):
        super(BahdanauAttention, self).__init__()
        self.Wa = nn.Linear(hidden_size, hidden_size)
        self.Ua = nn.Linear(hidden_size, hidden_size)
        self.Va = nn.Linear(hidden_size, 1)

    def forward(self, query, keys):
        scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))
        scores = scores.squeeze(2).unsqueeze(1)
        weights = F.softmax(scores, dim=-1)
        context = torch.bmm(weights, keys)
        return context, weights


class AttnDecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size, dropout_p=0.1):
        super(AttnDecoderRNN, self).__init__()
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.attention = BahdanauAttention(hidden_size)
        self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, output_size)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, encoder_outputs, encoder_hidden, target_tensor=None):
        batch_size = encoder_outputs.size(0)
        decoder_input = torch.empty(batch_size, 1, dtype=torch.long, device=device).fill_(SOS_token)
        decoder_hidden = encoder_hidden
        decoder_outputs, attentions = [], []
        for i in range(MAX_LENGTH):
            decoder_output, decoder_hidden, attn_weights = self.forward_step(
                decoder_input, decoder_hidden, encoder_outputs
            )
            decoder_outputs.append(decoder_output)
            attentions.append(attn_weights)
            if target_tensor is not None:
                decoder_input = target_tensor[:, i].unsqueeze(1)  # teacher forcing
            else:
                _, topi = decoder_output.topk(1)
                decoder_input = topi.squeeze(-1).detach()
        decoder_outputs = torch.cat(decoder_outputs, dim=1)
        decoder_outputs = F.log_softmax(decoder_outputs, dim=-1)
        attentions = torch.cat(attentions, dim=1)
        return decoder_outputs, decoder_hidden, attentions

    def forward_step(self, input, hidden, encoder_outputs):
        embedded = self.dropout(self.embedding(input))
        query = hidden.permute(1, 0, 2)
        context, attn_weights = self.attention(query, encoder_outputs)
        input_gru = torch.cat((embedded, context), dim=2)
        output, hidden = self.gru(input_gru, hidden)
        return self.out(F.relu(output)), hidden, attn_weights


def get_dataloader(batch_size):
    n = len(PAIRS)
    input_ids = np.zeros((n, MAX_LENGTH), dtype=np.int32)
    target_ids = np.zeros((n, MAX_LENGTH), dtype=np.int32)
    for idx, (inp, tgt) in enumerate(PAIRS):
        inp, tgt = inp + [EOS_token], tgt + [EOS_token]
        input_ids[idx, :len(inp)] = inp
        target_ids[idx, :len(tgt)] = tgt
    train_data = TensorDataset(torch.LongTensor(input_ids).to(device), torch.LongTensor(target_ids).to(device))
    train_sampler = RandomSampler(train_data)
    return DataLoader(train_data, sampler=train_sampler, batch_size=batch_size)


encoder = EncoderRNN(VOCAB, HIDDEN).to(device)
decoder = AttnDecoderRNN(HIDDEN, VOCAB).to(device)
encoder.load_state_dict({k: torch.from_numpy(v) for k, v in ENCODER.items()})
decoder.load_state_dict({k: torch.from_numpy(v) for k, v in DECODER.items()})
encoder.eval()  # dropout off: its random mask differs between the frameworks
decoder.eval()
encoder_optimizer = optim.Adam(encoder.parameters(), lr=0.01)
decoder_optimizer = optim.Adam(decoder.parameters(), lr=0.01)
criterion = nn.NLLLoss()

# One batch holds every pair, so the sampler's order (each framework's own random draw) changes
# which row is where but not the mean loss.
train_dataloader = get_dataloader(batch_size=len(PAIRS))
losses = []
for epoch in range(1, 13):
    for input_tensor, target_tensor in train_dataloader:
        encoder_optimizer.zero_grad()
        decoder_optimizer.zero_grad()
        encoder_outputs, encoder_hidden = encoder(input_tensor)
        decoder_outputs, _, _ = decoder(encoder_outputs, encoder_hidden, target_tensor)
        loss = criterion(decoder_outputs.view(-1, decoder_outputs.size(-1)), target_tensor.view(-1))
        loss.backward()
        encoder_optimizer.step()
        decoder_optimizer.step()
        losses.append(loss.item())


def evaluate(input_ids):
    with torch.no_grad():
        input_tensor = torch.tensor(input_ids + [EOS_token], dtype=torch.long, device=device).view(1, -1)
        encoder_outputs, encoder_hidden = encoder(input_tensor)
        decoder_outputs, decoder_hidden, decoder_attn = decoder(encoder_outputs, encoder_hidden)
        _, topi = decoder_outputs.topk(1)
        decoded_ids = topi.squeeze()
        decoded_words = []
        for idx in decoded_ids:
            if idx.item() == EOS_token:
                decoded_words.append("<EOS>")
                break
            decoded_words.append(WORDS[idx.item()])
    return decoded_words, decoder_attn


translations, attention_shapes = [], []
for inp, _ in PAIRS:
    words, attentions = evaluate(inp)
    translations.append(words)
    attention_shapes.append(tuple(attentions.shape))
'''


def _translate_inputs():
    rng = np.random.default_rng(3)
    vocab, hidden, length = 10, 16, 6
    pairs = []
    for _ in range(8):
        sentence = [int(t) for t in rng.integers(2, vocab, size=int(rng.integers(2, length - 1)))]
        pairs.append((sentence, sentence[::-1]))  # "translation" is reversal

    def w(*shape, scale=0.3):
        return rng.normal(scale=scale, size=shape)

    encoder = {"embedding.weight": w(vocab, hidden, scale=1.0), "gru.weight_ih_l0": w(3 * hidden, hidden),
               "gru.weight_hh_l0": w(3 * hidden, hidden), "gru.bias_ih_l0": w(3 * hidden, scale=0.1),
               "gru.bias_hh_l0": w(3 * hidden, scale=0.1)}
    decoder = {"embedding.weight": w(vocab, hidden, scale=1.0), "attention.Wa.weight": w(hidden, hidden),
               "attention.Wa.bias": w(hidden, scale=0.1), "attention.Ua.weight": w(hidden, hidden),
               "attention.Ua.bias": w(hidden, scale=0.1), "attention.Va.weight": w(1, hidden),
               "attention.Va.bias": w(1, scale=0.1), "gru.weight_ih_l0": w(3 * hidden, 2 * hidden),
               "gru.weight_hh_l0": w(3 * hidden, hidden), "gru.bias_ih_l0": w(3 * hidden, scale=0.1),
               "gru.bias_hh_l0": w(3 * hidden, scale=0.1), "out.weight": w(vocab, hidden),
               "out.bias": w(vocab, scale=0.1)}
    words = ["SOS", "EOS"] + [f"w{i}" for i in range(2, vocab)]
    return dict(PAIRS=pairs, VOCAB=vocab, HIDDEN=hidden, MAX_LENGTH=length, ENCODER=_float32(encoder),
                DECODER=_float32(decoder), WORDS=words)


def test_translation_with_attention_runs_and_learns():
    ours = run(switch_imports(TRANSLATE), **_translate_inputs())
    losses = ours["losses"]
    assert len(losses) == 12 and losses[-1] < 0.7 * losses[0]
    assert all(1 <= len(words) <= 6 for words in ours["translations"])
    lengths = [len(source) + 1 for source, _ in _translate_inputs()["PAIRS"]]  # and EOS
    assert ours["attention_shapes"] == [(1, 6, n) for n in lengths]


def test_translation_with_attention_gives_pytorchs_numbers():
    ours, theirs = _both(TRANSLATE, _translate_inputs())
    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=2e-5, atol=1e-6)
    assert ours["translations"] == theirs["translations"]


# ---------------------------------------------------------------- 4. sine waves: data file, future, LBFGS
SINE_FUTURE = '''
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

torch.save(GENERATED, DATA_PATH)


class Sequence(nn.Module):
    def __init__(self):
        super(Sequence, self).__init__()
        self.lstm1 = nn.LSTMCell(1, 51)
        self.lstm2 = nn.LSTMCell(51, 51)
        self.linear = nn.Linear(51, 1)

    def forward(self, input, future=0):
        outputs = []
        h_t = torch.zeros(input.size(0), 51, dtype=torch.double)
        c_t = torch.zeros(input.size(0), 51, dtype=torch.double)
        h_t2 = torch.zeros(input.size(0), 51, dtype=torch.double)
        c_t2 = torch.zeros(input.size(0), 51, dtype=torch.double)
        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for i in range(future):  # predicting the future from its own outputs
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        return torch.cat(outputs, dim=1)


np.random.seed(0)
torch.manual_seed(0)
data = torch.load(DATA_PATH, weights_only=False)
input = torch.from_numpy(data[3:, :-1])
target = torch.from_numpy(data[3:, 1:])
test_input = torch.from_numpy(data[:3, :-1])
test_target = torch.from_numpy(data[:3, 1:])
seq = Sequence()
seq.double()
seq.load_state_dict({k: torch.from_numpy(v) for k, v in WEIGHTS.items()})
criterion = nn.MSELoss()
optimizer = optim.LBFGS(seq.parameters(), lr=0.8, max_iter=5)
train_losses, test_losses = [], []
for i in range(2):
    def closure():
        optimizer.zero_grad()
        out = seq(input)
        loss = criterion(out, target)
        train_losses.append(loss.item())
        loss.backward()
        return loss
    optimizer.step(closure)
    with torch.no_grad():
        future = 5
        pred = seq(test_input, future=future)
        loss = criterion(pred[:, :-future], test_target)
        test_losses.append(loss.item())
        y = pred.detach().numpy()
'''


def _sine_future_inputs(tmp_path):
    rng = np.random.default_rng(4)
    t = np.arange(12) + rng.integers(-8, 8, size=(6, 1))
    data = np.sin(t / 4.0).astype(np.float64)

    def w(*shape, scale=0.14):
        return rng.uniform(-scale, scale, size=shape)

    weights = {"lstm1.weight_ih": w(204, 1), "lstm1.weight_hh": w(204, 51), "lstm1.bias_ih": w(204),
               "lstm1.bias_hh": w(204), "lstm2.weight_ih": w(204, 51), "lstm2.weight_hh": w(204, 51),
               "lstm2.bias_ih": w(204), "lstm2.bias_hh": w(204), "linear.weight": w(1, 51), "linear.bias": w(1)}
    return dict(GENERATED=data, DATA_PATH=str(tmp_path / "traindata.pt"), WEIGHTS=weights)


def test_sine_future_script_runs_and_learns(tmp_path):
    ours = run(switch_imports(SINE_FUTURE), **_sine_future_inputs(tmp_path))
    assert ours["train_losses"][-1] < 0.7 * ours["train_losses"][0]
    assert ours["y"].shape == (3, 11 + 5) and ours["y"].dtype == np.float64
    assert ours["input"].dtype == tr.float64 and ours["input"].shape == (3, 11)


def test_sine_future_script_gives_pytorchs_numbers(tmp_path):
    ours, theirs = _both(SINE_FUTURE, _sine_future_inputs(tmp_path))
    assert len(ours["train_losses"]) == len(theirs["train_losses"])
    np.testing.assert_allclose(ours["train_losses"], theirs["train_losses"], rtol=1e-8)
    np.testing.assert_allclose(ours["test_losses"], theirs["test_losses"], rtol=1e-8)
    np.testing.assert_allclose(ours["y"], theirs["y"], rtol=1e-8, atol=1e-12)


# ---------------------------------------------------------------- 5. habits RNN scripts share
HABITS = '''
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
x = torch.from_numpy(X).float()
y = torch.from_numpy(Y)
assert x.dtype == torch.float32 and x.to(torch.float64).dtype == torch.float64 and x.size() == x.shape
model = nn.GRU(3, 5, batch_first=True)
for name, p in model.named_parameters():
    if "weight" in name:
        p.data.copy_(torch.from_numpy(WEIGHTS[name]))
    else:
        nn.init.zeros_(p)
head = nn.Linear(5, 2)
head.load_state_dict({"weight": torch.from_numpy(HEAD), "bias": torch.zeros(2)})
params = list(model.parameters()) + list(head.parameters())
optimizer = optim.Adam(params, lr=0.05)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
loader = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=False)
log, lrs = [], []
for epoch in range(4):
    model.train()
    total, correct, running = 0, 0, 0.0
    for inputs, labels in loader:
        optimizer.zero_grad()
        out, h_n = model(inputs)
        logits = head(out[:, -1, :])
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        torch.nn.utils.clip_grad_value_(params, 0.5)
        optimizer.step()
        running += loss.item() * inputs.size(0)
        _, predicted = torch.max(logits, 1)
        correct += torch.sum(predicted == labels).item()
        total += labels.size(0)
    scheduler.step()
    lrs.append(optimizer.param_groups[0]["lr"])
    log.append(f"epoch {epoch}: loss {running / total:.5f} accuracy {correct / total:.3f}")


@torch.no_grad()
def predict(inputs):
    return head(model(inputs)[0][:, -1]).argmax(dim=-1)


model.eval()
with torch.inference_mode():
    scores = F.softmax(head(model(x)[0][:, -1]), dim=1)
    best = scores.max(1)
    predictions = predict(x).tolist()
assert best.indices.tolist() == predictions and not scores.requires_grad
elementwise = torch.max(scores[:, 0], scores[:, 1]).tolist()
accuracy = (torch.argmax(scores, dim=1) == y).float().mean().item()
steps = (torch.arange(7) // 2).tolist(), (torch.arange(7) % 3).tolist()
start = torch.empty(2, 1, dtype=torch.long).fill_(5).tolist()
n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
'''


def _habits_inputs():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(12, 4, 3))
    weights = {"weight_ih_l0": rng.normal(scale=0.4, size=(15, 3)), "weight_hh_l0": rng.normal(scale=0.4, size=(15, 5))}
    return dict(X=x, Y=(x[:, :, 0].sum(1) > 0).astype(np.int64), WEIGHTS=_float32(weights),
                HEAD=_float32({"w": rng.normal(scale=0.4, size=(2, 5))})["w"])


def test_habits_script_runs():
    ours = run(switch_imports(HABITS), **_habits_inputs())
    assert ours["lrs"] == [0.05, 0.025, 0.025, 0.0125] and len(ours["log"]) == 4
    assert ours["steps"] == ([0, 0, 1, 1, 2, 2, 3], [0, 1, 2, 0, 1, 2, 0]) and ours["start"] == [[5], [5]]
    assert ours["n_params"] == 2 * 15 + 15 * 3 + 15 * 5


def test_habits_script_gives_pytorchs_numbers():
    ours, theirs = _both(HABITS, _habits_inputs())
    assert ours["log"] == theirs["log"] and ours["lrs"] == theirs["lrs"]
    assert ours["predictions"] == theirs["predictions"] and ours["accuracy"] == theirs["accuracy"]
    np.testing.assert_allclose(ours["elementwise"], theirs["elementwise"], rtol=1e-6)
    assert ours["steps"] == theirs["steps"] and ours["start"] == theirs["start"]


# ---------------------------------------------------------------- the gaps these scripts found, filled
def test_elementwise_max_and_min_of_two_tensors_and_their_gradients():
    a = tr.tensor([1.0, 5.0, -2.0], requires_grad=True)
    b = tr.tensor([3.0, 4.0, -2.5], requires_grad=True)
    tr.max(a, b).sum().backward()
    assert tr.max(a, b).tolist() == [3.0, 5.0, -2.0] and tr.min(a, b).tolist() == [1.0, 4.0, -2.5]
    assert a.grad.tolist() == [0.0, 1.0, 1.0] and b.grad.tolist() == [1.0, 0.0, 0.0]
    values, indices = tr.max(tr.tensor([[1.0, 3.0], [4.0, 2.0]]), 1)
    assert values.tolist() == [3.0, 4.0] and indices.tolist() == [1, 0]
    assert tr.max(a).item() == 5.0 and tr.min(a, dim=0).indices.item() == 2


def test_diag_values_and_gradient():
    m = tr.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    assert tr.diag(m).tolist() == [0.0, 5.0, 10.0] and m.diag(1).tolist() == [1.0, 6.0, 11.0]
    assert tr.diag(m, -1).tolist() == [4.0, 9.0]
    (tr.diag(m) * tr.tensor([1.0, 2.0, 3.0])).sum().backward()
    expected = np.zeros((3, 4))
    expected[[0, 1, 2], [0, 1, 2]] = [1, 2, 3]
    np.testing.assert_array_equal(m.grad.numpy(), expected)
    v = tr.tensor([1.0, 2.0], requires_grad=True)
    assert tr.diag(v, 1).tolist() == [[0, 1, 0], [0, 0, 2], [0, 0, 0]]
    (tr.diag(v) * tr.tensor([[3.0, 7.0], [7.0, 5.0]])).sum().backward()
    assert v.grad.tolist() == [3.0, 5.0]  # only the diagonal's factors reach v


def test_remainder_and_floor_divide_values_and_gradients():
    a = tr.tensor([5.0, -3.0, 7.5], requires_grad=True)
    b = tr.tensor([2.0, 2.0, -4.0], requires_grad=True)
    r = a % b
    assert r.tolist() == [1.0, 1.0, -0.5]  # the sign of the divisor, as Python's %
    r.sum().backward()
    assert a.grad.tolist() == [1.0, 1.0, 1.0] and b.grad.tolist() == [-2.0, 2.0, 2.0]  # -floor(a / b)
    assert tr.remainder(tr.tensor([7, -7]), 3).tolist() == [1, 2] and (tr.tensor([7, -7]) // 2).tolist() == [3, -4]
    assert tr.tensor([7.0]).floor_divide(2).tolist() == [3.0] and (9 % tr.tensor([4])).tolist() == [1]
    with pytest.raises(ZeroDivisionError):
        tr.tensor([1]) % 0


def test_small_pytorch_spellings():
    x = tr.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert f"{x.sum():.2f}" == "10.00" and x.nelement() == 4 and not x.is_cuda
    assert [t.tolist() for t in (x.gt(2), x.ge(2), x.lt(2), x.le(2), x.ne(2))] == [
        [[False, False], [True, True]], [[False, True], [True, True]], [[True, False], [False, False]],
        [[True, True], [False, False]], [[True, False], [True, True]]]
    assert tr.eq(x, 2).sum().item() == 1 and x.add(x, alpha=2).tolist() == [[3, 6], [9, 12]]
    assert x.sub(1, alpha=2).tolist() == [[-1, 0], [1, 2]] and x.new_full((2,), 7.0).tolist() == [7.0, 7.0]
    assert tr.topk(x, 1).indices.tolist() == [[1], [1]] and tr.cumsum(x, 1).tolist() == [[1, 3], [3, 7]]
    assert tr.allclose(x, x + 1e-9) and tr.equal(x, x.clone()) and not tr.equal(x, x[:1])
    assert tr.empty(2, 3).shape == (2, 3) and tr.empty_like(x).dtype == x.dtype
    array = np.arange(3.0)
    assert tr.as_tensor(array).numpy() is not None and np.shares_memory(tr.as_tensor(array).numpy(), array)
    assert tr.as_tensor([1.0, 2.0]).dtype == tr.float32 and tr.get_default_dtype() == tr.float32
    assert tr.finfo(tr.float32).eps == np.finfo(np.float32).eps
    assert sorted(tr.randperm(6).tolist()) == list(range(6))
    with pytest.raises(NotImplementedError, match="float32"):
        tr.set_default_dtype(tr.float64)


def test_inference_mode_and_no_grad_as_decorators():
    w = tr.tensor([1.0], requires_grad=True)
    with tr.inference_mode():
        assert not (w * 2).requires_grad
    with tr.inference_mode(False):
        assert (w * 2).requires_grad

    @tr.no_grad
    def bare(v):
        return v * 2

    @tr.inference_mode
    def bare_inference(v):
        return v * 2

    assert not bare(w).requires_grad and not bare_inference(w).requires_grad and (w * 2).requires_grad


def test_generator_repeats_its_draws_and_feeds_the_samplers():
    g = tr.Generator().manual_seed(3)
    first = (tr.randn(4, generator=g).tolist(), tr.randint(0, 9, (4,), generator=g).tolist(),
             tr.randperm(5, generator=g).tolist(), tr.rand(2, generator=g).tolist())
    g.manual_seed(3)
    again = (tr.randn(4, generator=g).tolist(), tr.randint(0, 9, (4,), generator=g).tolist(),
             tr.randperm(5, generator=g).tolist(), tr.rand(2, generator=g).tolist())
    assert first == again and g.initial_seed() == 3
    from tinygrad_rnn.utils.data import DataLoader, TensorDataset

    data = TensorDataset(tr.arange(10))
    orders = [[int(b[0]) for b in DataLoader(data, shuffle=True, generator=tr.Generator().manual_seed(1))]
              for _ in range(2)]
    assert orders[0] == orders[1] and sorted(orders[0]) == list(range(10))
    probabilities = tr.tensor([0.2, 0.3, 0.5])
    draws = [tr.multinomial(probabilities, 2, generator=tr.Generator().manual_seed(4)).tolist() for _ in range(2)]
    assert draws[0] == draws[1]
    with pytest.raises(TypeError, match="tr.Generator"):
        tr.randn(2, generator=object())


def test_the_filled_gaps_match_pytorch():
    torch = pytest.importorskip("torch")
    a, b = np.array([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]]), np.array([[2.0, -3.0, 1.0], [0.25, -4.0, 2.0]])
    for ours, theirs in [
        (tr.max(tr.tensor(a), tr.tensor(b)), torch.max(torch.tensor(a), torch.tensor(b))),
        (tr.tensor(a) % tr.tensor(b), torch.tensor(a) % torch.tensor(b)),
        (tr.tensor(a) // tr.tensor(b), torch.tensor(a) // torch.tensor(b)),
        (tr.diag(tr.tensor(a), 1), torch.diag(torch.tensor(a), 1)),
        (tr.diag(tr.tensor(a[0]), -2), torch.diag(torch.tensor(a[0]), -2)),
        (tr.tensor(a).add(tr.tensor(b), alpha=-0.5), torch.tensor(a).add(torch.tensor(b), alpha=-0.5)),
    ]:
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    x, tx = tr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = tr.tensor(b, requires_grad=True), torch.tensor(b, requires_grad=True)
    (tr.remainder(x, y) * tr.diag(x, 0).sum()).sum().backward()
    (torch.remainder(tx, ty) * torch.diag(tx, 0).sum()).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=1e-12)
