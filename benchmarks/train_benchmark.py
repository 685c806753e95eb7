"""Training benchmark for vae_lesson (issue: notebook 03). Prints, on this machine:

1. the training throughput of ``vae_lesson.train.fit`` (examples/s) and its achieved GFLOP/s as a fraction of
   a large float32 matmul's GFLOP/s measured in the same run, and the ratio against a reference loop that
   feeds the same model item by item through a ``torch.utils.data.DataLoader``;
2. notebook 03's default run against pytorch/examples' ``vae/main.py`` recipe given the same training time, both
   scored by -L_1000 on the same 1,000 random test images;
3. a long run: the model trained for a fixed wall-clock budget, then the test NLL by L_5000 over all 10,000
   test images, with its standard error.

Usage:  python benchmarks/train_benchmark.py [--budget SECONDS] [--skip-throughput] [--skip-minute] [--skip-long]
Medians are quoted. Nothing here is a test: timings depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch
from torch.utils.data import DataLoader, Dataset

from vae_lesson.data import batches, binarize, binarized_test_set, load_mnist, test_subset
from vae_lesson.elbo import elbo, iwae_bound
from vae_lesson.evaluation import active_units, evaluate, nll_estimate
from vae_lesson.models import COURSE_ACTIVATION, COURSE_HIDDEN, VAE
from vae_lesson.train import COURSE_RECIPE, NOTEBOOK_03_EPOCHS, fit

MODEL = {"latent_dim": 32, "hidden": COURSE_HIDDEN, "activation": COURSE_ACTIVATION}  # the course's model (notebook 03)
BATCH_SIZE = COURSE_RECIPE["batch_size"]
LR = COURSE_RECIPE["lr"]
# The long run: the same model and batch, with the two changes that mattered most in five-minute trials here
# (see RESULTS.md): a KL warm-up over the first quarter of the epochs, and a cosine decay of the learning rate
# to a fiftieth. Tried and abandoned: Burda et al.'s 200-200-50 tanh VAE with batch 100 plans only ~96 epochs in
# ten minutes (tanh is slow on CPU), a wider 400-400-32 relu model trained only 42 epochs, batch 256 (more
# examples per second, but fewer updates: worse after the same time).
LONG_LR_FINAL = LR / 50
LONG_WARMUP_FRACTION = 0.25


def flops_per_example(model: VAE) -> int:
    """Multiply-adds of the Linear layers, counted as 2 FLOPs each: forward (1x), weight gradients (1x) and
    input gradients (1x, except the first encoder layer, whose input is the data)."""
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    macs = sum(m.in_features * m.out_features for m in linears)
    first = linears[0].in_features * linears[0].out_features
    return 2 * (3 * macs - first)


def matmul_gflops(n: int = 2048, reps: int = 15) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(times) / 1e9


def products_ms(model: VAE, batch_size: int = BATCH_SIZE, reps: int = 200) -> float:
    """Median milliseconds of one training step's matrix products alone, the ones ``flops_per_example`` counts:
    each Linear layer's forward (x W^T), weight gradient (g^T x) and, but for the first, input gradient (g W),
    at the layers' real shapes, with nothing between them and the same operands reused (warm caches): a lower bound
    for these products in eager float32 PyTorch. The gap between it and a step of ``fit`` is the rest of the step
    (the small operators, autograd, the optimizer, Python) plus whatever the products lose inside a real step."""
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    shapes = [(torch.randn(batch_size, m.in_features), m.weight.detach().clone(), torch.randn(batch_size, m.out_features))
              for m in linears]

    def step() -> None:
        for index, (x, w, g) in enumerate(shapes):
            torch.mm(x, w.t())
            torch.mm(g.t(), x)
            if index:
                torch.mm(g, w)

    for _ in range(20):
        step()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


class ReferenceLoop:
    """The common tutorial pattern: a per-item Dataset (one image per __getitem__, binarized on the fly),
    a DataLoader that collates items into batches, and a plain training loop; same model, batch size and loss."""

    class Items(Dataset):
        def __init__(self, x: torch.Tensor) -> None:
            self.x = x.reshape(len(x), -1)

        def __len__(self) -> int:
            return len(self.x)

        def __getitem__(self, i: int) -> torch.Tensor:
            return torch.bernoulli(self.x[i])

    def __init__(self, x: torch.Tensor) -> None:
        torch.manual_seed(0)
        self.model = VAE(**MODEL)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=LR)
        self.loader = DataLoader(self.Items(x), batch_size=BATCH_SIZE, shuffle=True)

    def epoch(self) -> float:
        """One pass; returns examples/s."""
        start = time.perf_counter()
        for xb in self.loader:
            loss = -elbo(self.model, xb).mean()
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        return len(self.loader.dataset) / (time.perf_counter() - start)


def throughput(x: torch.Tensor, rounds: int = 5) -> dict[str, list[float]]:
    """Interleaved rounds of (matmul, one epoch of fit, one epoch of the reference loop), so that a machine
    whose speed drifts during the run affects all three alike; ratios are taken within each round."""
    torch.manual_seed(0)
    model = VAE(**MODEL)
    fit(model, x[:5000], 1, batch_size=BATCH_SIZE, lr=LR, progress=False)  # warm-up
    reference = ReferenceLoop(x)
    rows: dict[str, list[float]] = {"matmul": [], "products": [], "fit": [], "reference": []}
    for _ in range(rounds):
        rows["matmul"].append(matmul_gflops())
        rows["products"].append(products_ms(model))
        start = time.perf_counter()
        fit(model, x, 1, batch_size=BATCH_SIZE, lr=LR, progress=False)
        rows["fit"].append(len(x) / (time.perf_counter() - start))
        rows["reference"].append(reference.epoch())
    return rows


#: Where a training step's time goes, by operator (torch.profiler's names), grouped for the profile.
PROFILE_GROUPS = {
    "matrix products (forward and backward of the Linear layers)": ("aten::mm", "aten::addmm"),
    "Adam's update (fused)": ("aten::_fused_adam_",),
    "binarization (random words, thresholds, comparison)": ("aten::randint", "aten::random_", "aten::lt",
                                                            "aten::round_", "aten::sub_"),
    "loss: Bernoulli log-likelihood and its gradient": ("aten::binary_cross_entropy_with_logits",
                                                        "aten::log_sigmoid_forward", "aten::log_sigmoid_backward",
                                                        "aten::sigmoid", "aten::binary_cross_entropy_with_logits_backward"),
    "ReLU and its gradient": ("aten::relu", "aten::clamp_min", "aten::threshold_backward"),
}


def profile_fit(x: torch.Tensor, steps: int = 200) -> None:
    """Profile ``steps`` steps of fit (torch.profiler, CPU) and print the share of each group of operators in the
    wall-clock time of those steps; the rest is the other small operators, autograd's bookkeeping and Python."""
    from torch.profiler import ProfilerActivity, profile

    torch.manual_seed(0)
    model = VAE(**MODEL)
    fit(model, x[:5000], 1, progress=False)  # warm-up
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        start = time.perf_counter()
        fit(model, x[: steps * BATCH_SIZE], 1, lr_final=None, kl_warmup_epochs=0, progress=False)
        wall = time.perf_counter() - start
    self_us = {event.key: event.self_cpu_time_total for event in prof.key_averages()}
    print(f"\n## Profile of {steps} steps of fit (torch.profiler; self time of the operators, share of the wall "
          f"clock, {wall / steps * 1e3:.2f} ms per step under the profiler)")
    accounted = 0.0
    for label, names in PROFILE_GROUPS.items():
        share = sum(self_us.get(name, 0.0) for name in names) / 1e6 / wall
        accounted += share
        print(f"{share:6.1%}  {label}")
    print(f"{1 - accounted:6.1%}  everything else: other small operators (reparameterization, KL, sums, views, "
          f"copies), autograd's bookkeeping, the Python loop", flush=True)


def epoch_seconds(x: torch.Tensor, model_args: dict, batch_size: int, lr: float, rounds: int = 3) -> float:
    """Median seconds per training epoch of a model, measured now (the long run plans its epochs from it)."""
    torch.manual_seed(0)
    model = VAE(**model_args)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fit(model, x[:10000], 1, batch_size=batch_size, lr=lr, progress=False)
        times.append((time.perf_counter() - start) * len(x) / 10000)
    return statistics.median(times)


class PeerRecipe:
    """pytorch/examples' ``vae/main.py`` as published: a 784-400-20 ReLU VAE (the same layers as
    ``VAE(20, hidden=(400,))``), Adam at lr 1e-3, batch 128, shuffled, trained on grey levels with
    ``binary_cross_entropy(..., reduction="sum")`` plus the KL, summed over the batch. Its own model class is rebuilt
    here from ours, layer for layer; the loss and the data are its own."""

    def __init__(self, x: torch.Tensor, seed: int = 0) -> None:
        torch.manual_seed(seed)
        self.model = VAE(latent_dim=20, hidden=(400,), activation="relu")
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.x = x.reshape(len(x), -1)
        self.generator = torch.Generator().manual_seed(seed)

    def train_for(self, seconds: float) -> int:
        """Train until ``seconds`` of wall-clock time have passed (checked after every step); return the number
        of steps taken."""
        steps, start = 0, time.perf_counter()
        self.model.train()
        while True:
            for grey in batches(self.x, 128, generator=self.generator):
                mu, logvar = self.model.encode(grey)
                z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
                recon = torch.sigmoid(self.model.decode(z))
                bce = torch.nn.functional.binary_cross_entropy(recon, grey, reduction="sum")
                kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
                self.optimizer.zero_grad()
                (bce + kld).backward()
                self.optimizer.step()
                steps += 1
                if time.perf_counter() - start >= seconds:
                    self.model.eval()
                    return steps


def minute_comparison(x_train: torch.Tensor, eval_images: int = 1000, k: int = 1000) -> None:
    """Notebook 03's default run (its recipe and epoch count, as in the notebook) against pytorch/examples' recipe
    given the same wall-clock training time, measured now, one after the other; both scored by -L_k on the same
    seeded random subset of the test set, binarized once with seed 0, with the same samples' seed."""
    epochs = NOTEBOOK_03_EPOCHS
    torch.manual_seed(0)
    course = VAE(**MODEL)
    course.init_output_bias(x_train)  # as notebook 03 does before training
    print(f"\n## Notebook 03's default run against pytorch/examples' vae/main.py, the same training time", flush=True)
    history = fit(course, x_train, epochs, generator=torch.Generator().manual_seed(0), progress=False)
    seconds = history.seconds[-1]
    peer = PeerRecipe(x_train)
    steps = peer.train_for(seconds)
    test = binarized_test_set(seed=0)[test_subset(eval_images, seed=1)]
    scores = {}
    for name, model in [("course", course), ("peer", peer.model)]:
        bound = iwae_bound(model, test, k, generator=torch.Generator().manual_seed(2))
        scores[name] = (-bound.mean().item(), bound.std().item() / len(bound) ** 0.5)
    recipe = ", ".join(f"{key} {value}" for key, value in COURSE_RECIPE.items())
    print(f"course: {MODEL}, {recipe}; {epochs} epochs in {seconds:.1f} s: "
          f"NLL (-L_{k}, {eval_images:,} random test images) {scores['course'][0]:.2f} ± {scores['course'][1]:.2f} nats")
    print(f"peer: 784-400-20 ReLU, Adam 1e-3, batch 128, grey levels; {steps} steps ({steps * 128 / len(x_train):.1f} "
          f"epochs) in the same {seconds:.1f} s: NLL {scores['peer'][0]:.2f} ± {scores['peer'][1]:.2f} nats")
    print(f"course better by {scores['peer'][0] - scores['course'][0]:.2f} nats (paired: same images, same seeds)",
          flush=True)


def long_run(x_train: torch.Tensor, budget: float) -> None:
    """Train MODEL for the epochs planned to fit the budget (KL warm-up over the first quarter, cosine decay of
    the learning rate; training stops early if the wall-clock budget runs out), then evaluate on the whole test set."""
    epochs = max(1, int(0.97 * budget / epoch_seconds(x_train, MODEL, BATCH_SIZE, LR)))
    warmup = max(1, round(LONG_WARMUP_FRACTION * epochs))
    torch.manual_seed(0)
    model = VAE(**MODEL)
    print(f"\n## Long run: {MODEL}, batch {BATCH_SIZE}, Adam lr {LR:g} with a cosine decay to {LONG_LR_FINAL:g}, "
          f"KL warm-up over {warmup} epochs, budget {budget:.0f} s (planned {epochs} epochs)", flush=True)
    history = fit(model, x_train, epochs, batch_size=BATCH_SIZE, lr=LR, lr_final=LONG_LR_FINAL, lr_schedule="cosine",
                  kl_warmup_epochs=warmup, progress=False, generator=torch.Generator().manual_seed(0),
                  time_budget=budget)
    print(f"trained {len(history)} epochs in {history.seconds[-1]:.0f} s", flush=True)
    test_bin = binarized_test_set(seed=0)
    start = time.perf_counter()
    nll, stderr = nll_estimate(model, test_bin, 5000, torch.Generator().manual_seed(1), chunk_size=2**16)
    n_active, _ = active_units(model, test_bin)
    test_elbo = evaluate(model, test_bin, generator=torch.Generator().manual_seed(2))["elbo"]
    print(f"test -ELBO {-test_elbo:.2f} nats; test NLL (L_5000, all 10,000 test images, dynamically binarized once "
          f"with seed 0) {nll:.2f} ± {stderr:.2f} nats (standard error over images); {n_active} active units of "
          f"{MODEL['latent_dim']}; evaluation took {time.perf_counter() - start:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=float, default=600.0, help="wall-clock training budget of the long run, s")
    parser.add_argument("--skip-long", action="store_true", help="only the throughput part")
    parser.add_argument("--skip-throughput", action="store_true", help="skip the throughput part")
    parser.add_argument("--skip-minute", action="store_true", help="skip notebook 03's run against the peer recipe")
    args = parser.parse_args()
    x_train, _ = load_mnist("train")
    print(f"# vae_lesson training benchmark\nmachine: {platform.machine()}, {os.cpu_count()} CPUs, torch "
          f"{torch.__version__} with {torch.get_num_threads()} threads, Python {platform.python_version()}", flush=True)

    if not args.skip_throughput:
        report_throughput(x_train)
        profile_fit(x_train)
    if not args.skip_minute:
        minute_comparison(x_train)
    if not args.skip_long:
        long_run(x_train, args.budget)


def report_throughput(x_train: torch.Tensor) -> None:
    flops = flops_per_example(VAE(**MODEL))
    rows = throughput(x_train)
    fractions = [r * flops / 1e9 / m for r, m in zip(rows["fit"], rows["matmul"])]
    speedups = [f / r for f, r in zip(rows["fit"], rows["reference"])]
    rate = statistics.median(rows["fit"])
    print(f"\n## Throughput: {MODEL}, batch {BATCH_SIZE}, {len(rows['fit'])} interleaved rounds, medians")
    print(f"large float32 matmul (2048x2048): {statistics.median(rows['matmul']):.0f} GFLOP/s "
          f"(rounds: {', '.join(f'{m:.0f}' for m in rows['matmul'])})")
    print(f"fit: {rate:,.0f} examples/s = {rate * flops / 1e9:.1f} GFLOP/s ({flops / 1e6:.2f} MFLOP per example); "
          f"fraction of the matmul's GFLOP/s in the same round: median {statistics.median(fractions):.0%} "
          f"(rounds: {', '.join(f'{f:.0%}' for f in fractions)})")
    step_ms = [BATCH_SIZE / r * 1e3 for r in rows["fit"]]
    product_share = [p / t for p, t in zip(rows["products"], step_ms)]
    product_rate = [BATCH_SIZE * flops / (p / 1e3) / 1e9 / m for p, m in zip(rows["products"], rows["matmul"])]
    print(f"a step of fit: {statistics.median(step_ms):.2f} ms; its matrix products alone: "
          f"{statistics.median(rows['products']):.2f} ms (at {statistics.median(product_rate):.0%} of the large matmul's "
          f"rate), {statistics.median(product_share):.0%} of the step (rounds: "
          f"{', '.join(f'{v:.0%}' for v in product_share)}); the rest of the step: "
          f"{statistics.median(t - p for t, p in zip(step_ms, rows['products'])):.2f} ms")
    print(f"reference per-item DataLoader loop: {statistics.median(rows['reference']):,.0f} examples/s; "
          f"fit / reference in the same round: median {statistics.median(speedups):.2f}x "
          f"(rounds: {', '.join(f'{v:.2f}' for v in speedups)})", flush=True)


if __name__ == "__main__":
    main()
