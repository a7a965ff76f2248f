"""Plain-Python oracles of the secret-case tests (``test_secret_cases.py``), one case at a time.

They recompute each exercise's answer the slow, obvious way. They live with the hidden tests
(not in ``tests/oracles.py``, which the student copy ships): for most exercises a loop that
computes the answer is a solution.
"""

from __future__ import annotations

import numpy as np


def loop_auction(row, mechanism):
    """One sealed-bid auction by hand: (winner, price). Ties go to the lowest index; a lone
    Vickrey bidder pays 0."""
    row = [float(b) for b in row]
    winner = 0
    for i, b in enumerate(row):
        if b > row[winner]:  # strictly higher: an equal bid later on does not take over
            winner = i
    if mechanism == "first_price":
        return winner, row[winner]
    others = [b for i, b in enumerate(row) if i != winner]
    return winner, (max(others) if others else 0.0)


def loop_auction_utilities(values, bids, mechanism):
    """Every bidder's utility in every auction of a batch: value - price at the winner."""
    values, bids = np.asarray(values, dtype=float), np.asarray(bids, dtype=float)
    out = np.zeros(bids.shape)
    for idx in np.ndindex(bids.shape[:-1]):
        winner, price = loop_auction(bids[idx], mechanism)
        out[idx + (winner,)] = values[idx + (winner,)] - price
    return out


def loop_bid_ratio_gradient(utilities, baselines, noise, sigma, bins, n_bins):
    """The mean score (u - u_base) * eps / sigma per (bidder, value bin), 0 for empty bins."""
    batch, n_bidders = np.shape(utilities)
    sums = [[0.0] * n_bins for _ in range(n_bidders)]
    counts = [[0] * n_bins for _ in range(n_bidders)]
    for m in range(batch):
        for i in range(n_bidders):
            k = int(bins[m][i])
            sums[i][k] += ((float(utilities[m][i]) - float(baselines[m][i]))
                           * float(noise[m][i]) / sigma)
            counts[i][k] += 1
    return np.array([[s / c if c else 0.0 for s, c in zip(srow, crow, strict=True)]
                     for srow, crow in zip(sums, counts, strict=True)])


def loop_step_transfers(strengths, eligible, winner, supplier, reward, c_bid, tax_rate,
                        pricing):
    """One bucket-brigade step by hand: (payer, payee, kind, amount) rows in the order bid,
    mint, tax, reward."""
    from course_lib.bucket_brigade import ENVIRONMENT, MINT, TAX

    own = c_bid * float(strengths[winner])
    seller = ENVIRONMENT if supplier is None else supplier
    if pricing == "first":
        out = [(winner, seller, "bid", own)]
    else:
        others = [c_bid * float(strengths[r]) for r in eligible if r != winner]
        price = min(max(others), own) if others else 0.0
        out = [(winner, seller, "bid", price)]
        if own - price > 0:
            out.append((MINT, seller, "mint", own - price))
    tax = tax_rate * float(strengths[winner])
    if tax > 0:
        out.append((winner, TAX, "tax", tax))
    if reward > 0:
        out.append((ENVIRONMENT, winner, "reward", float(reward)))
    elif reward < 0:
        out.append((winner, ENVIRONMENT, "reward", -float(reward)))
    return out


def loop_apply_transfers(strengths, transfers):
    """The rules' strengths after the transfers, one transfer at a time."""
    from course_lib.bucket_brigade import EXTERNAL

    new = [float(s) for s in strengths]
    for t in transfers:
        if t.payer not in EXTERNAL:
            new[t.payer] -= t.amount
        if t.payee not in EXTERNAL:
            new[t.payee] += t.amount
    return np.array(new)


def loop_money_created(initial, final, transfers):
    """Growth of the rules' total beyond the flows between rules and ENVIRONMENT or TAX."""
    from course_lib.bucket_brigade import ENVIRONMENT, EXTERNAL, TAX

    external_in = external_out = 0.0
    for t in transfers:
        if t.payer in (ENVIRONMENT, TAX) and t.payee not in EXTERNAL:
            external_in += t.amount
        if t.payee in (ENVIRONMENT, TAX) and t.payer not in EXTERNAL:
            external_out += t.amount
    change = sum(float(s) for s in final) - sum(float(s) for s in initial)
    return change - (external_in - external_out)


def loop_steady_state(n_stages, reward, c_bid, tax_rate):
    """The assemblers' fixed point, solved backwards: the last one pays (c + tax) * S = reward,
    assembler k pays (c + tax) * S_k = c * S_{k+1} (the next one's bid)."""
    strengths = [0.0] * n_stages
    receipts = float(reward)
    for k in reversed(range(n_stages)):
        strengths[k] = receipts / (c_bid + tax_rate)
        receipts = c_bid * strengths[k]
    return np.array(strengths)


def loop_society_auction(bids):
    """Every auction of a (..., n_primitives, n_clones) batch by hand: primitive, clone and
    price (second-highest bid overall, 0 for a lone bidder) arrays of the batch shape."""
    bids = np.asarray(bids, dtype=float)
    batch = bids.shape[:-2]
    primitive, clone, price = np.zeros(batch, int), np.zeros(batch, int), np.zeros(batch)
    for idx in np.ndindex(batch):
        best, where, flat = None, (0, 0), []
        for p in range(bids.shape[-2]):
            for c in range(bids.shape[-1]):
                b = float(bids[idx + (p, c)])
                flat.append(b)
                if best is None or b > best:  # the first maximum in row-major order
                    best, where = b, (p, c)
        flat.sort(reverse=True)
        primitive[idx], clone[idx] = where
        price[idx] = flat[1] if len(flat) > 1 else 0.0
    return primitive, clone, price


def loop_value_iteration(transitions, rewards, terminal, gamma, tol=1e-13):
    """Q* of a deterministic tabular MDP by Bellman sweeps, one entry at a time, until the
    largest change is below ``tol``; terminal states are worth 0."""
    n_states, n_actions = np.shape(rewards)
    q = [[0.0] * n_actions for _ in range(n_states)]
    while True:
        v = [0.0 if terminal[s] else max(q[s]) for s in range(n_states)]
        new = [[0.0 if terminal[s] else
                float(rewards[s][a]) + gamma * v[int(transitions[s][a])]
                for a in range(n_actions)] for s in range(n_states)]
        change = max(abs(new[s][a] - q[s][a]) for s in range(n_states)
                     for a in range(n_actions))
        q = new
        if change < tol:
            return np.array(q)


def loop_q_learning_update(q, states, actions, rewards, next_states, next_exists, alpha,
                           gamma):
    """A batch of Q-learning updates: each visited pair moves by alpha times the mean TD error
    of its transitions, all errors from the old table."""
    old = np.array(q, dtype=float)
    errors = {}
    for m in range(len(states)):
        s, a, s2 = int(states[m]), int(actions[m]), int(next_states[m])
        future = max(old[s2]) if next_exists[m] else 0.0
        errors.setdefault((s, a), []).append(float(rewards[m]) + gamma * future - old[s, a])
    new = old.copy()
    for (s, a), es in errors.items():
        new[s, a] = old[s, a] + alpha * sum(es) / len(es)
    return new


def loop_clipped_loss(new_log_prob, old_log_prob, advantages, clip):
    """PPO's clipped loss and its gradient with respect to ``new_log_prob``, by a loop over
    samples: (loss, gradient)."""
    n = len(new_log_prob)
    total, grad = 0.0, []
    for new, old, adv in zip(new_log_prob, old_log_prob, advantages, strict=True):
        ratio = float(np.exp(float(new) - float(old)))
        clamped = min(max(ratio, 1.0 - clip), 1.0 + clip)
        total += min(ratio * float(adv), clamped * float(adv))
        # d(ratio * A)/d new = ratio * A; the clamped term is flat outside [1 - clip, 1 + clip]
        inside = 1.0 - clip < ratio < 1.0 + clip
        grad.append(-ratio * float(adv) / n
                    if inside or ratio * float(adv) < clamped * float(adv) else 0.0)
    return -total / n, np.array(grad)


def loop_place_on_canvas(images, size):
    """Each (28, 28) digit copied pixel by pixel into the middle of a blank canvas:
    (N, 1, size, size)."""
    images = np.asarray(images, dtype=float)
    pad = (size - images.shape[-1]) // 2
    out = np.zeros((len(images), 1, size, size))
    for n in range(len(images)):
        for i in range(images.shape[1]):
            for j in range(images.shape[2]):
                out[n, 0, pad + i, pad + j] = images[n, i, j]
    return out


def loop_affine_theta(angles, shifts):
    """The affine_grid matrices [R^T | -R^T t], entry by entry: (N, 2, 3)."""
    import math

    out = []
    for angle, (dx, dy) in zip(angles, shifts, strict=True):
        a = math.radians(float(angle))
        r_t = [[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]
        out.append([[r_t[i][0], r_t[i][1], -(r_t[i][0] * float(dx) + r_t[i][1] * float(dy))]
                    for i in range(2)])
    return np.array(out)


def loop_resample(image, theta):
    """``affine_grid`` + ``grid_sample`` (bilinear, zeros outside, align_corners=False) of one
    (H, W) image through one (2, 3) matrix, pixel by pixel."""
    image = np.asarray(image, dtype=float)
    h, w = image.shape
    out = np.zeros((h, w))
    for i in range(h):
        for j in range(w):
            x, y = (2 * j + 1) / w - 1, (2 * i + 1) / h - 1  # the output pixel's centre
            xs = theta[0][0] * x + theta[0][1] * y + theta[0][2]
            ys = theta[1][0] * x + theta[1][1] * y + theta[1][2]
            col, row = ((xs + 1) * w - 1) / 2, ((ys + 1) * h - 1) / 2  # in pixels
            c0, r0 = int(np.floor(col)), int(np.floor(row))
            fc, fr = col - c0, row - r0
            value = 0.0
            for r, wr in ((r0, 1 - fr), (r0 + 1, fr)):
                for c, wc in ((c0, 1 - fc), (c0 + 1, fc)):
                    if 0 <= r < h and 0 <= c < w:
                        value += wr * wc * image[r, c]
            out[i, j] = value
    return out


def loop_apply_primitives(images, primitive_ids, primitives):
    """Image n resampled through the matrix of primitive ``primitive_ids[n]``, one image at a
    time; ``primitives`` lists (name, angle in degrees, (dx, dy)) as ``PRIMITIVES`` does."""
    images = np.asarray(images, dtype=float)
    out = np.zeros(images.shape)
    for n, k in enumerate(primitive_ids):
        _, angle, shift = primitives[int(k)]
        theta = loop_affine_theta([angle], [shift])[0]
        out[n, 0] = loop_resample(images[n, 0], theta)
    return out


def loop_linear_logits(weight, bias, images):
    """Logits of a linear classifier on flattened images, by loops: (N, n_classes)."""
    weight, bias = np.asarray(weight, dtype=float), np.asarray(bias, dtype=float)
    flat = np.asarray(images, dtype=float).reshape(len(images), -1)
    return np.array([[sum(weight[k, j] * x[j] for j in range(len(x))) + bias[k]
                      for k in range(len(bias))] for x in flat])


def loop_reward(logits, labels):
    """1.0 where the first largest logit is at the label, else 0.0."""
    out = []
    for row, label in zip(logits, labels, strict=True):
        row = [float(v) for v in row]
        out.append(1.0 if row.index(max(row)) == int(label) else 0.0)
    return np.array(out)
