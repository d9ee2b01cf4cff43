"""PyTorch names that tinygrad_rnn does not have, each with what to use here instead (or why it is
out of scope), so that a script ported from PyTorch fails where it touches one with advice, not a
bare ``AttributeError``.

``UNSUPPORTED`` maps a namespace (``"tinygrad_rnn"``, ``"tinygrad_rnn.Tensor"``, ``"tinygrad_rnn.nn"``,
``"tinygrad_rnn.cuda"``, ``"tinygrad_rnn.utils.data"``, ...) to ``{name: advice}``. Each of those namespaces
looks its missing names up here: the modules with ``__getattr__ = unsupported.module_getattr(__name__)``
(PEP 562) and ``nn.Module`` with a ``__getattr__`` method, both called only when the ordinary lookup has
failed, so a present name costs nothing; ``Tensor`` with one raising class attribute per listed name
(``tensor._UnsupportedMethod``: a ``__getattr__`` method would slow every lookup on a tensor). ``missing``
builds the error: for a listed name, ``AttributeError("tinygrad_rnn.nn.functional.conv1d is not supported by
tinygrad_rnn: ...")``; for any other name, the one Python itself would raise (same message, same
``name``/``obj`` for its "Did you mean" hint), so ``hasattr``, ``getattr(x, name, default)``, ``copy``
and ``pickle`` behave as before.

Only names that do not exist may be listed (``tests/test_unsupported_names.py`` checks each): whoever
adds one of them removes its entry. This module imports nothing from the package.
"""

from __future__ import annotations

import sys

_CONV = ("tinygrad_rnn is an RNN framework: convolutions are out of scope; model sequences with nn.RNN, nn.LSTM "
         "or nn.GRU")
_POOL = ("tinygrad_rnn is an RNN framework: windowed pooling is out of scope; pool over time with x.amax(dim) or "
         "x.mean(dim)")
_IMAGE = "tinygrad_rnn is an RNN framework: image resampling and warping are out of scope"
_NORM = ("no batch/group/instance normalisation (no running statistics): use nn.LayerNorm or "
         "nn.functional.layer_norm, the usual normalisation in recurrent networks")
_AMP = "no mixed precision (autocast, GradScaler): train in float32 and drop the autocast context and the scaler"
_SCATTER_ADD = ("no scatter ops: sum rows into place with a one-hot matmul, "
                "tr.one_hot(index, n).to(src.dtype).T @ src (dim 0, differentiable)")
_SCATTER = ("no scatter ops: assign through an index, x[index] = src or x[rows, index] = value "
            "(tr.one_hot(index, num_classes) for one-hot rows)")
_UNIQUE = "its output shape depends on the data: tr.tensor(np.unique(x.numpy())) (no gradient)"
_BINCOUNT = "count with one-hot rows: tr.one_hot(x, minlength).sum(0)"
_LINALG = ("no linear-algebra decompositions or solvers: np.linalg on x.numpy() (no gradient); "
           "products are x @ y, tr.mm, tr.bmm, tr.einsum, norms x.norm(p, dim)")
_NONZERO = "its output shape depends on the data: boolean indexing x[mask], or np.argwhere(x.numpy()) (no gradient)"
_COMPARE = {"greater": ">", "greater_equal": ">=", "less": "<", "less_equal": "<=", "not_equal": "!="}
_COMPARE_METHOD = {"greater": "gt", "greater_equal": "ge", "less": "lt", "less_equal": "le", "not_equal": "ne"}
_SOFTPLUS = "x.relu() + (-x.abs()).exp().log1p()"
_LAMBDA_LR = "use LambdaLR(optimizer, lr_lambda) with lr_lambda(t) the factor on the start lr at step t"
# losses and distances, in nn (a Module) and nn.functional alike
_KL_DIV = ("with input log-probabilities: (target * (target.log() - input)).sum() / input.shape[0] "
           "(reduction='batchmean'; mask out target == 0)")
_CTC = ("no CTC loss (a forward-backward over alignments): train with a per-step cross-entropy on aligned targets, "
        "or use PyTorch")
_GAUSSIAN_NLL = "use 0.5 * (var.log() + (input - target).square() / var).mean()"
_POISSON_NLL = "use (input.exp() - target * input).mean() (log_input=True)"
_COSINE_EMBEDDING = "from the cosine similarity cos: tr.where(y == 1, 1 - cos, (cos - margin).relu()).mean()"
_MARGIN_RANKING = "use (-y * (x1 - x2) + margin).relu().mean()"
_TRIPLET = "use ((anchor - positive).norm(dim=-1) - (anchor - negative).norm(dim=-1) + margin).relu().mean()"
_COSINE = "use (x1 * x2).sum(dim) / (x1.norm(dim=dim) * x2.norm(dim=dim)).clamp(min=eps)"
_PAIRWISE = "use (x1 - x2 + eps).norm(dim=-1)"
_RMS_NORM = "x * (x.square().mean(-1, keepdim=True) + eps).rsqrt() * weight"

# tr.cuda
_PICK_GPU = ("'cuda' always means cuda:0 here (tr.cuda.current_device() is 0): name the GPU instead, "
             "x.to('cuda:1'), model.to('cuda:1'), tr.set_default_device('cuda:1')")
_STREAMS = "no CUDA streams: every op runs on CuPy's current stream, in order; tr.cuda.synchronize() waits for it"
_CUDA_TIMING = ("no CUDA events: time with tr.cuda.synchronize() before each time.perf_counter() "
                "(cupy.cuda.Event for device-side timing)")
_CUDA_GRAPHS = "no CUDA graphs: ops launch eagerly through CuPy"
_PEAK_MEMORY = ("no allocator statistics (CuPy's pool keeps no peak): poll tr.cuda.memory_allocated() "
                "and tr.cuda.memory_reserved()")
_CUDA_SEED = "seed with tr.cuda.manual_seed_all(n) (or tr.manual_seed(n), every device) with a seed of your choice"
_CUDA_RNG_STATE = ("the GPU generators' state (CuPy's, on the GPU) is not saved: reseed with "
                   "tr.cuda.manual_seed_all(n); tr.get_rng_state() saves the CPU generator")
_OTHER_DEVICE = "devices are 'cpu' and 'cuda' (CuPy): model.cpu() or model.cuda()"
# nn.Module, nn.utils, utils.data
_FORWARD_HOOK = "no module hooks: wrap forward (a subclass, or a function around model(x)) to see inputs and outputs"
_BACKWARD_HOOK = ("no module hooks: out.register_hook(fn) on a tensor gets its gradient (p.grad holds a "
                  "parameter's after backward())")
_STATE_DICT_HOOK = "no state_dict hooks: edit the dict that model.state_dict() returns, or before load_state_dict"
_REPARAMETRIZE = ("no parametrisations: keep the raw nn.Parameter and compute the weight from it in forward "
                  "(for spectral norm, divide by an estimate of its largest singular value)")
_DATAPIPES = "no DataPipes (deprecated in PyTorch): use a Dataset or an IterableDataset with DataLoader"
_DIRAC = "the Dirac initialiser is for convolution weights, out of scope here; eye_ is the identity for a 2-D weight"
_DATA_SUBMODULE = "everything is in tr.utils.data itself: import the name from there"

# Names shared by tr.<name>(x, ...) and x.<name>(...): the advice, written for the method form.
_BOTH = {
    "scatter": _SCATTER,
    "scatter_add": _SCATTER_ADD,
    "scatter_reduce": _SCATTER_ADD,
    "index_add": _SCATTER_ADD,
    "unique": _UNIQUE,
    "bincount": _BINCOUNT,
    "bernoulli": "draw with uniform numbers: (tr.rand_like(p) < p).float()",
    "baddbmm": "write it out: beta * input + alpha * tr.bmm(batch1, batch2)",
    "cumprod": "for positive x: x.log().cumsum(dim).exp()",
    "outer": "use x.unsqueeze(1) * y.unsqueeze(0) (or tr.einsum('i,j->ij', x, y))",
    "dot": "use (x * y).sum() or x @ y",
    "mv": "use matrix @ vector",
    "isinf": "use x.abs() == float('inf') (x.isfinite() and x.isnan() exist)",
    "isclose": "use (x - y).abs() <= atol + rtol * y.abs(); tr.allclose(x, y) gives one bool",
    "nonzero": _NONZERO,
    "argwhere": _NONZERO,
    "masked_select": "use boolean indexing, x[mask] (differentiable)",
    "floor": "use x // 1 (floor_divide; no gradient through the rounding)",
    "ceil": "use -((-x) // 1) (floor_divide; no gradient through the rounding)",
    "trunc": "use x.sign() * (x.abs() // 1)",
    "log2": "use x.log() / math.log(2)",
    "log10": "use x.log() / math.log(10)",
    "expm1": "use x.exp() - 1 (less accurate for tiny x)",
    "erf": "NumPy has no erf; nn.GELU and nn.functional.gelu compute the exact (erf-based) GELU",
    "reciprocal": "use 1 / x",
    "tan": "use x.sin() / x.cos()",
    "logit": "use (x / (1 - x)).log()",
    "divide": "use x / y or x.div(y)",
    "true_divide": "use x / y or x.div(y)",
    "multiply": "use x * y or x.mul(y)",
    "subtract": "use x - y or x.sub(y)",
    "negative": "use -x or x.neg()",
    "absolute": "use x.abs()",
    **{name: f"use x {op} y or x.{_COMPARE_METHOD[name]}(y)" for name, op in _COMPARE.items()},
    "trace": "use x.diag().sum()",
    "diagonal": "use x.diag() (the main diagonal of a 2-D x)",
    "unflatten": "use x.reshape(...) or x.view(...) with the sizes the dimension splits into",
    "movedim": "use x.permute(...) (x.transpose(a, b) for two dimensions)",
    "moveaxis": "use x.permute(...) (x.transpose(a, b) for two dimensions)",
    "swapdims": "use x.transpose(a, b) (or x.swapaxes(a, b))",
    "roll": "use tr.cat((x[-k:], x[:-k])) to roll by k along dim 0 (x.narrow(dim, ...) for other dims)",
    "tile": "use x.repeat(*reps) (the same as tile when len(reps) >= x.dim())",
    "ravel": "use x.reshape(-1) or x.flatten()",
    "select": "index it, x[:, i], or x.narrow(dim, i, 1).squeeze(dim)",
    "take_along_dim": "use x.gather(dim, index)",
    "median": "sort: x.sort(dim).values, index (n - 1) // 2 along dim (PyTorch's median is the lower one)",
    "quantile": "sort: x.sort(dim).values and index (or interpolate) the position you need",
    "nansum": "use tr.where(x.isnan(), 0.0, x).sum()",
    "nanmean": "use x[~x.isnan()].mean()",
    "nan_to_num": "use tr.where(x.isnan(), 0.0, x) (and x.clamp(min, max) for infinities)",
    "logaddexp": "use tr.stack([x, y]).logsumexp(0)",
    "lerp": "write it out: x + weight * (end - x)",
    "count_nonzero": "use (x != 0).sum()",
    "diff": "use x[1:] - x[:-1] (along dim 0; x.narrow(dim, ...) for other dims)",
    "is_floating_point": "dtypes are NumPy dtypes here: x.dtype.kind == 'f'",
    "tensor_split": "use x.chunk(n, dim) or x.split(sizes, dim)",
}

UNSUPPORTED: dict[str, dict[str, str]] = {
    "tinygrad_rnn": {
        **_BOTH,
        "normal": "use tr.randn(*shape) * std + mean (or x.normal_(mean, std) in place)",
        "distributions": ("no probability distributions: sample with tr.multinomial(probs, n), tr.rand or tr.randn, "
                          "and take log-probabilities with x.log_softmax(-1).gather(-1, index)"),
        "cdist": "use (x1.unsqueeze(-2) - x2.unsqueeze(-3)).norm(dim=-1)",
        "cosine_similarity": _COSINE,
        "fft": "no FFT: np.fft on x.numpy() (no gradient)",
        "linalg": _LINALG,
        "inverse": _LINALG,
        "det": _LINALG,
        "svd": _LINALG,
        "tensordot": "use tr.einsum(...) with the contracted indices spelled out",
        "compile": "no compiler: tinygrad_rnn runs eagerly on NumPy/CuPy; drop the torch.compile call",
        "jit": ("no TorchScript or tracing: run the model as Python, and save its weights with "
                "tr.save(model.state_dict(), path)"),
        "vmap": "no function transforms: batch by hand (a leading batch dimension) or loop",
        "func": "no function transforms (torch.func): use tr.grad(outputs, inputs) or loss.backward()",
        "autocast": _AMP,
        "amp": _AMP,
        "GradScaler": _AMP,
        "backends": ("no backend switches (cudnn, mps, ...): drop the torch.backends settings; "
                     "tr.set_default_device('cuda') puts new tensors on the GPU (CuPy)"),
        "mps": "no Apple GPU backend: devices are 'cpu' and 'cuda' (CuPy)",
        "distributed": "no distributed training: train in one process",
        "sparse": "no sparse tensors: use dense ones (nn.Embedding for sparse lookups)",
        "sparse_coo_tensor": "no sparse tensors: build the dense tensor (tr.zeros(...), then x[indices] = values)",
        "quantization": "no quantization: tinygrad_rnn computes in float32 (or float64/float16)",
        "complex": "no complex numbers: keep real and imaginary parts as two real tensors",
        "complex64": "no complex dtypes: keep real and imaginary parts as two real tensors",
        "complex128": "no complex dtypes: keep real and imaginary parts as two real tensors",
        "cfloat": "no complex dtypes: keep real and imaginary parts as two real tensors",
        "cdouble": "no complex dtypes: keep real and imaginary parts as two real tensors",
        "bfloat16": "no bfloat16 (NumPy has none): use tr.float32 or tr.float16",
        "int": "use tr.int32 (PyTorch's torch.int)",
        "short": "use tr.int16 (PyTorch's torch.short)",
        "dtype": "dtypes are NumPy dtypes here: isinstance(d, numpy.dtype); tr.float32 and the others are those",
        "Size": "shapes are plain tuples here: x.shape, tuple(...)",
        "set_default_tensor_type": "use tr.set_default_device(...) (tr.set_default_dtype accepts only float32)",
        "set_printoptions": "tensors print through NumPy: use numpy.set_printoptions(...)",
        "use_deterministic_algorithms": ("there is no switch: seed with tr.manual_seed(n); "
                                         "the NumPy (CPU) ops are deterministic"),
        "set_float32_matmul_precision": "there is no TF32 mode: float32 matmuls are float32; drop the call",
        "set_num_interop_threads": "use tr.set_num_threads(n)",
        "seed": "use tr.manual_seed(n) with a seed of your choice",
        "initial_seed": "keep the seed you gave tr.manual_seed(n); tr.get_rng_state() saves the generator",
        "randint_like": "use tr.randint(low, high, x.shape)",
        "hstack": "use tr.cat(tensors, dim=1) (dim=0 for 1-D tensors)",
        "vstack": "use tr.cat(tensors, dim=0) (tr.stack for 1-D tensors)",
        "broadcast_tensors": "use tr.broadcast_to(x, shape) for each tensor",
        "meshgrid": ("use a.unsqueeze(1).expand(len(a), len(b)) and b.unsqueeze(0).expand(len(a), len(b)) "
                     "(indexing='ij')"),
        "std_mean": "use x.std(dim), x.mean(dim)",
        "var_mean": "use x.var(dim), x.mean(dim)",
        "swapaxes": "use the method, x.swapaxes(a, b), or tr.transpose(x, a, b)",
        "clone": "use the method, x.clone()",
        "detach": "use the method, x.detach()",
        "asarray": "use tr.as_tensor(data) (or tr.tensor(data) for a copy)",
        "embedding": "use nn.functional.embedding(input, weight)",
        "layer_norm": "use nn.functional.layer_norm(input, normalized_shape, weight, bias)",
        "conv1d": _CONV,
        "conv2d": _CONV,
        "hub": "no model hub: build the model in code and load weights with model.load_state_dict(tr.load(path))",
        "profiler": "no profiler: TINYGRAD_RNN_TRACE=1 traces every op to stderr; cProfile times the Python",
        "testing": "use numpy.testing.assert_allclose(actual.numpy(), expected.numpy())",
        "special": ("no torch.special: use the methods (x.sigmoid(), x.log_softmax(dim), x.logsumexp(dim), "
                    "x.log1p(), ...)"),
        "inf": "use math.inf (or float('inf'))",
        "nan": "use math.nan (or float('nan'))",
        "pi": "use math.pi",
        "newaxis": "use None in an index, x[:, None] (or x.unsqueeze(dim))",
    },
    "tinygrad_rnn.Tensor": {
        **_BOTH,
        "scatter_": _SCATTER,
        "scatter_add_": _SCATTER_ADD,
        "index_add_": _SCATTER_ADD,
        "index_put_": "assign through an index: x[indices] = values",
        "index_fill_": "assign through an index: x[index] = value (dim 0; x[:, index] = value for dim 1)",
        "random_": "use x.copy_(tr.randint(low, high, x.shape))",
        "bernoulli_": "use x.copy_((tr.rand_like(x) < p).to(x.dtype))",
        "exponential_": "use x.copy_(-(1 - tr.rand_like(x)).log() / lambd)",
        "t_": "no in-place transpose: x = x.t()",
        "transpose_": "no in-place transpose: x = x.transpose(a, b)",
        "lerp_": "use x.add_(weight * (end - x))",
        "pow_": "no in-place pow: x = x.pow(p) (or x.copy_(x.pow(p)))",
        "detach_": "use x = x.detach()",
        "mm": "use x @ y (or tr.mm(x, y))",
        "bmm": "use x @ y (or tr.bmm(x, y))",
        "share_memory_": "no shared-memory tensors (no torch.multiprocessing): drop the call",
        "pin_memory": "no pinned host memory: drop .pin_memory(); x.to('cuda') copies to the GPU",
        "is_pinned": "no pinned host memory (it would be False)",
        "register_post_accumulate_grad_hook": ("use x.register_hook(fn) (called with the gradient before it is "
                                               "accumulated), or read x.grad after backward()"),
        "to_sparse": "no sparse tensors: keep it dense",
        "to_dense": "tensors are always dense here: drop .to_dense()",
        "is_sparse": "tensors are never sparse here (it would be False)",
        "stride": "a tensor wraps a NumPy/CuPy array: x.array.strides (in bytes; divide by x.array.itemsize)",
        "storage": "no storages: x.array is the NumPy/CuPy array that holds the values",
        "is_contiguous": "a tensor wraps a NumPy/CuPy array: x.array.flags.c_contiguous",
        "element_size": "a tensor wraps a NumPy/CuPy array: x.array.itemsize",
        "type_as": "use x.to(other.dtype)",
        "byte": "use x.to(tr.uint8)",
        "char": "use x.to(tr.int8)",
        "short": "use x.to(tr.int16)",
        "bfloat16": "no bfloat16 (NumPy has none): use x.float() or x.half()",
        "get_device": "use x.device ('cpu' or 'cuda:N')",
        "is_cpu": "use x.device == 'cpu' (or not x.is_cuda)",
        "ndimension": "use x.dim() (or x.ndim)",
        "new": "use x.new_tensor(data) or x.new_empty(shape)",
        "split_with_sizes": "use x.split(sizes, dim)",
        "unfold": ("stack the windows: tr.stack([x.narrow(dim, i, size) for i in range(0, x.shape[dim] - size + 1, "
                   "step)], dim) (PyTorch puts the window dimension last)"),
    },
    "tinygrad_rnn.nn": {
        "Conv1d": _CONV,
        "Conv2d": _CONV,
        "Conv3d": _CONV,
        "ConvTranspose1d": _CONV,
        "ConvTranspose2d": _CONV,
        "Unfold": _CONV,
        "Fold": _CONV,
        "MaxPool1d": _POOL,
        "MaxPool2d": _POOL,
        "AvgPool1d": _POOL,
        "AvgPool2d": _POOL,
        "AdaptiveAvgPool1d": _POOL,
        "AdaptiveAvgPool2d": _POOL,
        "AdaptiveMaxPool1d": _POOL,
        "Upsample": _IMAGE,
        "BatchNorm1d": _NORM,
        "BatchNorm2d": _NORM,
        "SyncBatchNorm": _NORM,
        "GroupNorm": _NORM,
        "InstanceNorm1d": _NORM,
        "RMSNorm": f"compute it in forward: {_RMS_NORM}",
        "EmbeddingBag": "use nn.Embedding, then .mean(1) or .sum(1) over the bag dimension",
        "Bilinear": "use an nn.Parameter weight (out, in1, in2): tr.einsum('ni,oij,nj->no', x1, weight, x2) + bias",
        "PReLU": "keep a slope nn.Parameter a and compute tr.where(x >= 0, x, a * x) in forward",
        "ReLU6": "compute it in forward: x.clamp(0, 6)",
        "Hardtanh": "compute it in forward: x.clamp(min_val, max_val)",
        "Softplus": f"compute it in forward: {_SOFTPLUS} (beta=1)",
        "Softsign": "compute it in forward: x / (1 + x.abs())",
        "Softmin": "compute it in forward: (-x).softmax(dim)",
        "LogSigmoid": "compute it in forward: -((-x).relu() + (-x.abs()).exp().log1p())",
        "Mish": f"compute it in forward: x * ({_SOFTPLUS}).tanh()",
        "SELU": "compute it in forward: 1.0507009873554805 * nn.functional.elu(x, alpha=1.6732632423543772)",
        "GLU": "compute it in forward: a, b = x.chunk(2, dim); a * b.sigmoid()",
        "Hardswish": "compute it in forward: x * (x + 3).clamp(0, 6) / 6",
        "Hardsigmoid": "compute it in forward: (x + 3).clamp(0, 6) / 6",
        "Threshold": "compute it in forward: tr.where(x > threshold, x, value)",
        "KLDivLoss": _KL_DIV,
        "CTCLoss": _CTC,
        "GaussianNLLLoss": _GAUSSIAN_NLL,
        "PoissonNLLLoss": _POISSON_NLL,
        "CosineEmbeddingLoss": _COSINE_EMBEDDING,
        "MarginRankingLoss": _MARGIN_RANKING,
        "TripletMarginLoss": _TRIPLET,
        "MultiLabelSoftMarginLoss": "use nn.BCEWithLogitsLoss() (the same loss, averaged over the labels)",
        "AdaptiveLogSoftmaxWithLoss": "use nn.Linear to the full vocabulary and nn.CrossEntropyLoss",
        "CosineSimilarity": _COSINE,
        "PairwiseDistance": _PAIRWISE,
        "Unflatten": "reshape in forward: x.reshape(*x.shape[:dim], *sizes, *x.shape[dim + 1:])",
        "LazyLinear": "give nn.Linear its in_features",
        "DataParallel": "no multi-GPU training: use the model itself, on one device (model.to('cuda'))",
        "parallel": "no multi-GPU or distributed training: use the model itself, on one device",
        "RNNBase": "use isinstance(m, (nn.RNN, nn.LSTM, nn.GRU))",
        "RNNCellBase": "use isinstance(m, (nn.RNNCell, nn.LSTMCell, nn.GRUCell))",
    },
    "tinygrad_rnn.nn.functional": {
        "conv1d": _CONV,
        "conv2d": _CONV,
        "conv_transpose1d": _CONV,
        "unfold": _CONV,
        "max_pool1d": _POOL,
        "max_pool2d": _POOL,
        "avg_pool1d": _POOL,
        "avg_pool2d": _POOL,
        "adaptive_avg_pool1d": _POOL,
        "adaptive_max_pool1d": _POOL,
        "interpolate": _IMAGE,
        "upsample": _IMAGE,
        "grid_sample": _IMAGE,
        "batch_norm": _NORM,
        "group_norm": _NORM,
        "instance_norm": _NORM,
        "rms_norm": f"write it out: {_RMS_NORM}",
        "kl_div": _KL_DIV,
        "ctc_loss": _CTC,
        "gaussian_nll_loss": _GAUSSIAN_NLL,
        "poisson_nll_loss": _POISSON_NLL,
        "cosine_similarity": _COSINE,
        "cosine_embedding_loss": _COSINE_EMBEDDING,
        "margin_ranking_loss": _MARGIN_RANKING,
        "triplet_margin_loss": _TRIPLET,
        "multilabel_soft_margin_loss": "use binary_cross_entropy_with_logits (the same loss, averaged over the labels)",
        "pairwise_distance": _PAIRWISE,
        "softplus": f"use {_SOFTPLUS} (beta=1)",
        "softsign": "use x / (1 + x.abs())",
        "softmin": "use (-x).softmax(dim)",
        "logsigmoid": "use -((-x).relu() + (-x.abs()).exp().log1p())",
        "mish": f"use x * ({_SOFTPLUS}).tanh()",
        "selu": "use 1.0507009873554805 * elu(x, alpha=1.6732632423543772)",
        "glu": "use a, b = x.chunk(2, dim); a * b.sigmoid()",
        "hardtanh": "use x.clamp(min_val, max_val)",
        "relu6": "use x.clamp(0, 6)",
        "hardswish": "use x * (x + 3).clamp(0, 6) / 6",
        "hardsigmoid": "use (x + 3).clamp(0, 6) / 6",
        "threshold": "use tr.where(x > threshold, x, value)",
        "prelu": "use tr.where(x >= 0, x, weight * x)",
        "gumbel_softmax": "use ((logits - (-tr.rand_like(logits).log()).log()) / tau).softmax(-1)",
        "scaled_dot_product_attention": ("write it out: (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]))"
                                         ".softmax(-1) @ v (masked_fill the scores with -inf before softmax to mask)"),
        "embedding_bag": "use embedding(input, weight).mean(1) (or .sum(1)) for bags of equal size",
        "bilinear": "use tr.einsum('ni,oij,nj->no', x1, weight, x2) + bias",
    },
    "tinygrad_rnn.optim": {
        **dict.fromkeys(
            ["ASGD", "Adadelta", "Adamax", "RAdam", "Rprop"],
            "use one of Adam, AdamW, SGD (momentum, nesterov), RMSprop, Adagrad or LBFGS"),
        "NAdam": "use Adam (or SGD(..., momentum=0.9, nesterov=True))",
        "SparseAdam": "use Adam (gradients are dense here, nn.Embedding's too)",
        "swa_utils": ("no weight averaging helpers: keep an averaged copy yourself, "
                      "under tr.no_grad(): avg.mul_(decay).add_((1 - decay) * p)"),
    },
    "tinygrad_rnn.optim.lr_scheduler": {
        "_LRScheduler": "subclass LRScheduler (PyTorch's current name for the base class) and define get_lr()",
        "PolynomialLR": "use LambdaLR(optimizer, lambda t: (1 - min(t, total_iters) / total_iters) ** power)",
        "MultiplicativeLR": "use LambdaLR(optimizer, lambda t: math.prod(f(i) for i in range(1, t + 1)))",
        "CosineAnnealingWarmRestarts": ("for T_mult=1, eta_min=0: LambdaLR(optimizer, lambda t: 0.5 * (1 + "
                                        "math.cos(math.pi * (t % T_0) / T_0))); CosineAnnealingLR for one cycle"),
        "CyclicLR": f"{_LAMBDA_LR}, stepped once per batch (a triangular factor)",
        "SequentialLR": f"{_LAMBDA_LR}, switching between the phases' factors by t",
        "ChainedScheduler": f"{_LAMBDA_LR}, the product of the schedules' factors",
    },
    "tinygrad_rnn.cuda": {
        "amp": _AMP,
        "set_device": _PICK_GPU,
        "device": _PICK_GPU,
        "device_of": "use x.device ('cpu' or 'cuda:N')",
        "Stream": _STREAMS,
        "Event": _CUDA_TIMING,
        "stream": _STREAMS,
        "current_stream": _STREAMS,
        "default_stream": _STREAMS,
        "StreamContext": _STREAMS,
        "ExternalStream": _STREAMS,
        "CUDAGraph": _CUDA_GRAPHS,
        "graph": _CUDA_GRAPHS,
        "graphs": _CUDA_GRAPHS,
        "make_graphed_callables": _CUDA_GRAPHS,
        "max_memory_allocated": _PEAK_MEMORY,
        "max_memory_reserved": _PEAK_MEMORY,
        "reset_peak_memory_stats": _PEAK_MEMORY,
        "reset_max_memory_allocated": _PEAK_MEMORY,
        "memory_stats": _PEAK_MEMORY,
        "memory_summary": _PEAK_MEMORY,
        "memory_cached": "use tr.cuda.memory_reserved() (PyTorch's current name)",
        "max_memory_cached": _PEAK_MEMORY,
        "set_per_process_memory_fraction": ("no memory fraction: limit CuPy's pool with "
                                            "cupy.get_default_memory_pool().set_limit(fraction=f)"),
        "get_device_properties": "no properties object: cupy.cuda.runtime.getDeviceProperties(index) (a dict)",
        "get_device_capability": "use cupy.cuda.Device(index).compute_capability (a string such as '90')",
        "is_bf16_supported": "no bfloat16 (NumPy has none): use tr.float32 or tr.float16",
        "OutOfMemoryError": "CuPy raises cupy.cuda.memory.OutOfMemoryError: catch that one",
        "seed": _CUDA_SEED,
        "seed_all": _CUDA_SEED,
        "initial_seed": _CUDA_SEED,
        "get_rng_state": _CUDA_RNG_STATE,
        "set_rng_state": _CUDA_RNG_STATE,
        "get_rng_state_all": _CUDA_RNG_STATE,
        "set_rng_state_all": _CUDA_RNG_STATE,
        "init": "no explicit initialisation: CuPy starts on the first tensor put on 'cuda'; drop the call",
        "is_initialized": "use tr.cuda.is_available() (CuPy starts on the first tensor put on 'cuda')",
        "ipc_collect": "no inter-process memory sharing: drop the call",
        "nvtx": "no NVTX ranges: cupy.cuda.nvtx.RangePush(name) / RangePop() mark them",
        "nccl": "no multi-GPU communication: train on one device",
        "utilization": "not tracked: read nvidia-smi",
        "list_gpu_processes": "not tracked: read nvidia-smi",
        **dict.fromkeys(["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "BoolTensor",
                         "ByteTensor"], "use tr.tensor(data, device='cuda') (or tr.FloatTensor(...).cuda())"),
    },
    "tinygrad_rnn.nn.Module": {
        "half": "use model.to(tr.float16) (model.float() and model.double() exist)",
        "bfloat16": "no bfloat16 (NumPy has none): use model.float() or model.to(tr.float16)",
        "type": "use model.to(dtype) (a floating dtype)",
        "share_memory": "no shared-memory tensors (no torch.multiprocessing): drop the call",
        "register_forward_hook": _FORWARD_HOOK,
        "register_forward_pre_hook": _FORWARD_HOOK,
        "register_full_backward_hook": _BACKWARD_HOOK,
        "register_full_backward_pre_hook": _BACKWARD_HOOK,
        "register_backward_hook": _BACKWARD_HOOK,
        "register_state_dict_pre_hook": _STATE_DICT_HOOK,
        "register_state_dict_post_hook": _STATE_DICT_HOOK,
        "register_load_state_dict_pre_hook": _STATE_DICT_HOOK,
        "register_load_state_dict_post_hook": _STATE_DICT_HOOK,
        "get_extra_state": "no extra state in state_dict: keep tensors to save as buffers (register_buffer)",
        "set_extra_state": "no extra state in state_dict: keep tensors to save as buffers (register_buffer)",
        "get_buffer": "use dict(model.named_buffers())[target]",
        "set_submodule": "use setattr(model.get_submodule(parent), name, module)",
        "register_module": "use model.add_module(name, module) (the same method), or assign it as an attribute",
        "compile": "no compiler: tinygrad_rnn runs eagerly on NumPy/CuPy; drop the model.compile() call",
        "to_empty": "no meta device: build the module on its device, or model.to(device)",
        "xpu": _OTHER_DEVICE,
        "ipu": _OTHER_DEVICE,
        "mtia": _OTHER_DEVICE,
    },
    "tinygrad_rnn.nn.utils": {
        "weight_norm": ("no reparametrisations: keep v and g as nn.Parameters and compute "
                        "g * v / v.norm(dim=1, keepdim=True) in forward"),
        "remove_weight_norm": "no weight_norm here (compute g * v / v.norm(...) in forward): nothing to remove",
        "spectral_norm": _REPARAMETRIZE,
        "remove_spectral_norm": _REPARAMETRIZE,
        "parametrize": _REPARAMETRIZE,
        "parametrizations": _REPARAMETRIZE,
        "prune": ("no pruning: multiply the weight by a fixed 0/1 mask in forward (or zero it in place under "
                  "tr.no_grad())"),
        "stateless": "no functional_call: load the values with model.load_state_dict(...) and call the model",
        "skip_init": "build the module, then re-initialise its parameters with nn.init",
        "clip_grad_norm": "use clip_grad_norm_ (PyTorch's deprecated name)",
        "fuse_conv_bn_eval": _CONV,
        "fuse_conv_bn_weights": _CONV,
        "fuse_linear_bn_eval": _NORM,
        "fuse_linear_bn_weights": _NORM,
        "convert_conv2d_weight_memory_format": _CONV,
        "convert_conv3d_weight_memory_format": _CONV,
    },
    "tinygrad_rnn.nn.init": {
        "dirac_": _DIRAC,
        **{name[:-1]: f"use {name} (PyTorch's deprecated name; it fills in place)" for name in [
            "uniform_", "normal_", "constant_", "eye_", "xavier_uniform_", "xavier_normal_",
            "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_"]},
        "dirac": _DIRAC,
    },
    "tinygrad_rnn.utils.data": {
        "DistributedSampler": "no distributed training: use RandomSampler (or shuffle=True) in one process",
        "IterDataPipe": _DATAPIPES,
        "MapDataPipe": _DATAPIPES,
        "DFIterDataPipe": _DATAPIPES,
        "DataChunk": _DATAPIPES,
        "datapipes": _DATAPIPES,
        "functional_datapipe": _DATAPIPES,
        "dataloader": _DATA_SUBMODULE,
        "dataset": _DATA_SUBMODULE,
        "sampler": _DATA_SUBMODULE,
        "distributed": "no distributed training: use RandomSampler (or shuffle=True) in one process",
    },
}


# The namespaces that are classes (their instances look names up): their errors name the object's type.
CLASSES = frozenset({"tinygrad_rnn.Tensor", "tinygrad_rnn.nn.Module"})


def missing(namespace: str, name: str, obj: object) -> AttributeError:
    """The ``AttributeError`` for ``namespace.name``, which ``obj`` (the module or the tensor) lacks.

    A listed name: ``"{namespace}.{name} is not supported by tinygrad_rnn: {advice}"``, with ``name`` but
    no ``obj`` (so Python appends no "Did you mean" guess after the advice). Any other: Python's own error
    (``module 'tinygrad_rnn' has no attribute 'x'``, ``'Tensor' object has no attribute 'x'``, ``'LSTM'
    object has no attribute 'x'``, with ``name`` and ``obj`` for its "Did you mean" hint)."""
    advice = UNSUPPORTED[namespace].get(name)
    if advice is not None:
        return AttributeError(f"{namespace}.{name} is not supported by tinygrad_rnn: {advice}", name=name)
    if namespace in CLASSES:
        return AttributeError(f"{type(obj).__name__!r} object has no attribute {name!r}", name=name, obj=obj)
    return AttributeError(f"module {namespace!r} has no attribute {name!r}", name=name, obj=obj)


def module_getattr(module_name: str):
    """The module-level ``__getattr__`` (PEP 562) of the module ``module_name``, one of ``UNSUPPORTED``'s
    namespaces: ``__getattr__ = unsupported.module_getattr(__name__)`` in it."""

    def __getattr__(name: str):
        """Called only for a name the module lacks: a PyTorch name listed in ``unsupported.py`` raises an
        ``AttributeError`` saying what to use instead; any other, Python's usual one."""
        raise missing(module_name, name, sys.modules[module_name])

    __getattr__.__qualname__ = "__getattr__"
    __getattr__.__module__ = module_name
    return __getattr__
