"""Batched affine primitives next to a one-image-at-a-time loop, in one run.

Applies random primitives to a batch of canvases (64 x 64) with one ``affine_grid`` /
``grid_sample`` call (``apply_primitives``) and with a Python loop over the images, and prints
images per second and their ratio; then steps the batched environment with random primitives
(classifier included) and prints its transitions per second.

Usage: COURSE_LIB_REFERENCE=all python benchmarks/bench_mnist_canvas.py [--batch 1024]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from course_lib.config import device_name
from course_lib.envs.mnist_analogy import MnistAnalogyVecEnv
from course_lib.envs.mnist_canvas import apply_primitives, primitive_thetas, transform


def rate(fn, n_images: int, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return n_images / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1024)
    args = parser.parse_args()
    torch.manual_seed(0)
    images = torch.rand(args.batch, 1, 64, 64)
    ids = torch.randint(0, 6, (args.batch,))
    table = primitive_thetas()
    batched = rate(lambda: apply_primitives(images, ids), args.batch)
    looped = rate(lambda: [transform(images[n:n + 1], table[ids[n]][None])
                           for n in range(args.batch)], args.batch)
    print(f"device: {device_name()}")
    print(f"batched primitives: {batched:>10,.0f} images/s")
    print(f"one image at a time: {looped:>9,.0f} images/s")
    print(f"batched / loop: {batched / looped:.1f}x")
    env = MnistAnalogyVecEnv(args.batch)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(10):
        env.step(rng.integers(0, 6, args.batch))
    print(f"environment, {args.batch} copies: "
          f"{10 * args.batch / (time.perf_counter() - start):,.0f} transitions/s "
          "(the classifier runs on every second step)")


if __name__ == "__main__":
    main()
