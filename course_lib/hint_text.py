"""The hint ladder of every exercise, shown one rung at a time by ``hint("1.3")``.

Each exercise has two to four hints, ordered from a nudge about the idea, through the shapes,
the operations and the pitfall to watch, to a last rung that gives the whole recipe in words.
None of them is a solution: the code is still yours to write.
"""

from __future__ import annotations

HINTS: dict[str, tuple[str, ...]] = {
    "1.1": (
        "Two questions per auction: who bid the most, and what does that bidder pay? Under "
        "first price the second answer follows from the first. Your code must serve one "
        "auction (1-D bids) and a whole batch alike, with bidders on the last axis.",
        "Work along the last axis only, so that the same line handles any batch shape. "
        "numpy's 'position of the largest entry' reduction returns the first maximum, which "
        "is exactly the course's tie rule; tricks based on sorting may not be.",
        "The price needs no indexing at all: the winner's own bid is the largest bid of its "
        "auction. (If you look it up by the winner's position instead, `np.take_along_axis` "
        "wants the positions with a trailing axis of length 1, and you drop that axis after.)",
        "Recipe: (1) the winner is `np.argmax` of the bids over axis -1; (2) the price is the "
        "maximum of the bids over axis -1; (3) wrap both in an `AuctionOutcome`, which turns "
        "the results of a single auction into a plain int and a plain float for you.",
    ),
    "1.2": (
        "The winner is found exactly as in the first-price auction; only the price changes. "
        "Ask: what is the highest bid among everybody except the winner, and what is it when "
        "there is nobody else?",
        "Think about ties before coding: if two bidders share the top bid, the winner's best "
        "rival bid is that same value. So the price is not 'the largest value below the "
        "maximum' but the second entry from the top when the bids are ranked, repeats "
        "included.",
        "A sort (or a partial sort, `np.partition`) along the last axis puts the two largest "
        "bids at the end of that axis. With a single bidder there is no second entry: the "
        "last axis has length 1 and the price is zero for every auction, an array of the "
        "batch shape `bids.shape[:-1]`.",
        "Recipe: (1) winner: the argmax over the last axis, as in 1.1; (2) if there is only "
        "one bidder, the price is zeros of the batch shape; (3) otherwise sort the bids along "
        "the last axis and take the entry at position -2 of that axis; (4) wrap winner and "
        "price in an `AuctionOutcome`.",
    ),
    "1.3": (
        "A bidder's utility is 0 unless it won; the winner gets its value minus the price. "
        "Let `run_auction` decide who won and what is paid; your job is to write one number "
        "per auction at the right place of an all-zero array shaped like `values`.",
        "Mind the two kinds of input: for a batch, `values` is (..., n) and the outcome's "
        "`winner` and `price` are arrays of the batch shape; for a single auction (1-D "
        "`values`) they are a plain Python int and float, which cannot be indexed. Convert "
        "both with `np.asarray` before any indexing, so one code path serves both cases.",
        "numpy's `*_along_axis` functions index the last axis with positions that have as "
        "many dimensions as the data: give the converted winner (and price) a trailing axis "
        "of length 1. `np.take_along_axis` reads the winner's value and `np.put_along_axis` "
        "writes into the zeros. (A one-hot mask, `np.arange(n)` compared with the winner, "
        "plus `np.where` works as well.)",
        "Recipe: (1) run the auction with `run_auction` on the bids and the mechanism; (2) "
        "turn its winner into an array with a trailing axis of length 1, and its price too; "
        "(3) gain = the winner's value, taken along the last axis, minus the price; (4) start "
        "from `np.zeros_like(values)` and put the gain at the winner's position along the "
        "last axis; (5) return that array.",
    ),
    "1.4": (
        "Every (auction, bidder) sample gives one REINFORCE score, the formula of the "
        "docstring. The estimate for a (bidder, bin) cell is the average score over that "
        "bidder's samples whose value fell into that bin: a grouped mean, 0 for an empty "
        "group.",
        "Shapes: the scores are (batch, n_bidders) like `bins`; the result is (n_bidders, "
        "n_bins). The sample in row b, column i belongs to cell (i, bins[b, i]), so you need "
        "two index arrays of shape (batch, n_bidders): the bidder (the column number, "
        "repeated down the rows: `np.broadcast_to`) and `bins` itself.",
        "Grouped sums: a fancy-indexed `table[rows, cols] += x` keeps only one of the samples "
        "that land in the same cell. The unbuffered `np.add.at` adds them all (or flatten "
        "the cell index and use `np.bincount` with `minlength`). Do it for the scores and for "
        "ones (the counts), then divide only where the count is positive (`np.divide` with "
        "`out=` and `where=`).",
        "Recipe: (1) compute every sample's score with the docstring's formula; (2) bidder "
        "index = `np.arange(n_bidders)` broadcast to the shape of `bins`; (3) two zero tables "
        "(n_bidders, n_bins): scatter-add the scores into one and 1.0 into the other at "
        "(bidder index, bins); (4) return the first divided by the second where the count "
        "is > 0, and 0 elsewhere.",
    ),
    "2.1": (
        "List the payments in the docstring's order: the winner's bid to its supplier, (under "
        "second pricing, a top-up from the mint), the tax, then the reward. Each payment is "
        "a `Transfer(payer, payee, amount, kind)`, computed from the strengths at the start "
        "of the step.",
        "Who is paid for the state? The supplier rule, or `ENVIRONMENT` when `supplier` is "
        "None. First pricing: the winner pays its own bid, c_bid times its strength. Second "
        "pricing: it pays the highest bid among the other eligible rules (0 when it bid "
        "alone), capped at its own bid, and `MINT` pays the supplier the gap in a separate "
        "'mint' transfer, only when the gap is positive.",
        "Pitfalls: leave the winner out of the others by its position in `eligible`, not by "
        "its bid value (another rule may bid the same amount); the winner need not be the "
        "top bidder, hence the cap. Skip a tax of 0 and a reward of 0; a negative reward is "
        "a transfer of its absolute value from the winner to `ENVIRONMENT`. Every amount "
        "must be >= 0.",
        "Recipe: (1) the eligible rules' bids and the winner's own bid, c_bid times their "
        "strengths; (2) the seller: the supplier, or ENVIRONMENT; (3) first pricing: a 'bid' "
        "transfer winner -> seller of the own bid; second pricing: a 'bid' transfer of the "
        "capped price, then MINT -> seller of (own bid - price) if positive; (4) the tax "
        "transfer if > 0; (5) the reward transfer by its sign; return the list.",
    ),
    "2.2": (
        "Every transfer takes its amount out of the payer's account and puts it into the "
        "payee's. Only rules have a place in the array; the environment, the tax office and "
        "the mint are outside it, so their side of a transfer is simply not recorded.",
        "Work on a copy of `strengths` so that the input stays unchanged. The transfers are "
        "few: a plain loop is fine. A side is a rule when it is not one of the names in "
        "`EXTERNAL` (rules are int indices). If you vectorise instead, remember that "
        "repeated indices need `np.add.at`.",
        "Recipe: (1) copy the strengths; (2) for each transfer, if its payer is a rule, "
        "subtract the amount at the payer's index, and if its payee is a rule, add the "
        "amount at the payee's index; (3) return the copy. A transfer between two rules "
        "changes two entries and leaves the total as it was.",
    ),
    "2.3": (
        "Compare two numbers: how much the rules' total money changed, and how much of that "
        "change the external flows (the environment and the tax office, in either direction) "
        "explain. Whatever is left over was made inside the economy, by the mint for example.",
        "Classify each transfer by its two sides. Inflow: the payer is `ENVIRONMENT` or `TAX` "
        "and the payee is a rule. Outflow: the payee is `ENVIRONMENT` or `TAX` and the payer "
        "is a rule. Transfers between rules, and anything paid by `MINT`, are not external "
        "flows: do not count them.",
        "Recipe: (1) in one pass over the transfers, add up the amounts of the inflows and "
        "of the outflows; (2) the change is the sum of the final strengths minus the sum of "
        "the initial ones; (3) return the change minus (inflow - outflow), as a Python "
        "float.",
    ),
    "2.4": (
        "At the fixed point no assembler's money changes: what it pays out in an episode "
        "(its bid and its tax, both proportional to its own strength) equals what it takes "
        "in (the next assembler's bid, or the reward for the last one). Write that balance "
        "for the last stage and for a stage k before it.",
        "The balances read (c_bid + tax_rate) S_last = reward and (c_bid + tax_rate) S_k = "
        "c_bid S_(k+1). The first gives the last strength; the second makes every earlier "
        "strength a fixed multiple of the next one, so the strengths form a geometric "
        "sequence read from the end of the line.",
        "Recipe: (1) the last strength is the reward divided by (c_bid + tax_rate); (2) the "
        "common ratio is c_bid divided by (c_bid + tax_rate); (3) stage k's strength is the "
        "last strength times the ratio to the power (n_stages - 1 - k); build all k at once "
        "with `np.arange` (or with a short loop backwards) and return a float array of "
        "shape (n_stages,).",
    ),
    "3.1": (
        "Each mechanism's utility is the reward, plus a discounted amount received from the "
        "next auction, minus an amount paid in this one. The table of the module docstring "
        "says which bids they are: the winner's own, the highest or the second highest, now "
        "or next. Find those quantities for every auction first.",
        "The winner is the highest bidder, so its own bid is the largest bid, and 'the best "
        "of the others' is the second largest (0 for a lone bidder). `top_two` returns both "
        "for every auction of a batch, for `bids` and `next_bids` alike (they may have "
        "different numbers of bidders).",
        "Where `next_exists` is False the next bids mean nothing (they may hold anything): "
        "the received amount must be 0 there, so select with `np.where` on `next_exists`. "
        "The 'env' mechanism ignores the bids altogether and returns the rewards (a copy, "
        "of the batch shape).",
        "Recipe: (1) 'env': return a copy of the rewards; (2) highest and second-highest bid "
        "now and next, from `top_two`; (3) zero both next values where `next_exists` is "
        "False; (4) bb: reward + gamma times the next highest - the highest now; v: reward + "
        "gamma times the next highest - the second highest now; ccv: reward + gamma times "
        "the next second highest - the second highest now.",
    ),
    "3.2": (
        "A cloned society is still one auction: every clone of every primitive is a bidder. "
        "Find the single highest bid over the last two axes, say which (primitive, clone) "
        "made it, and charge the second-highest bid of all of them.",
        "Flatten each auction's (n_primitives, n_clones) block into one axis, keeping the "
        "batch axes `bids.shape[:-2]` as they are. In row-major order (primitive, clone) "
        "sits at flat position primitive * n_clones + clone, and the first maximum in that "
        "order is exactly the tie rule the docstring asks for.",
        "From a flat position back to the pair: the primitive is the quotient and the clone "
        "the remainder of the division by n_clones (not by n_primitives): `np.divmod`, or "
        "`//` and `%`. The price is the second-highest flattened bid; `top_two` also covers "
        "a lone bidder (price 0), and the runner-up may well be a clone of the winner.",
        "Recipe: (1) n_clones is the size of the last axis; (2) reshape the bids to the "
        "batch shape plus one axis of n_primitives * n_clones; (3) argmax over that axis; "
        "(4) split it into primitive and clone by division with remainder by n_clones; (5) "
        "the price is the second output of `top_two` on the flattened bids; (6) wrap the "
        "three in a `SocietyAuctionOutcome`.",
    ),
    "3.3": (
        "Value iteration applies the Bellman optimality update to the whole Q table at "
        "once, again and again, until it stops changing. The MDP is deterministic, so every "
        "(s, a) has exactly one next state: there is no expectation to compute.",
        "Shapes: `mdp.transitions` and `mdp.rewards` are (n_states, n_actions); the value V "
        "of each state, its best action value, is (n_states,). Indexing V with the whole "
        "transitions table gives V(s') for every (s, a) at once, an (n_states, n_actions) "
        "array. Terminal states count as worth 0 in V, and their own rows of Q are 0.",
        "Pitfalls: build the new table entirely from the old one (no updating in place "
        "halfway); zero the terminal entries of V before using it, and the terminal rows of "
        "the new table after; stop when the largest absolute change is below `tol`, and "
        "return the latest table if `max_iterations` runs out first.",
        "Recipe: (1) Q starts as zeros of the table's shape; (2) up to `max_iterations` "
        "times: V = the row-wise max of Q, with 0 at terminal states; the new table = the "
        "rewards plus gamma times V at the next states; zero its terminal rows; (3) if the "
        "largest |new - old| is below tol, return the new table, else it becomes Q; (4) "
        "after the loop, return Q.",
    ),
    "3.4": (
        "One TD error per transition, all computed from the table as it was on entry; then "
        "every visited (s, a) moves by alpha times the average error of its transitions. "
        "Several transitions of one batch can hit the same pair: that is what the averaging "
        "is for.",
        "Vectorised lookups: `q[next_states]` is (batch, n_actions) and its row-wise max is "
        "max_a' q[s', a']; make it 0 where `next_exists` is False. Pairing `states` with "
        "`actions` as two index arrays picks q[s, a] for every transition, shape (batch,).",
        "Grouping by pair: `new[states, actions] += step` with fancy indexing applies only "
        "one of the repeated pairs. Accumulate the sums and the counts with the unbuffered "
        "`np.add.at` (or `np.bincount` of the flat index s * n_actions + a, with "
        "`minlength`), divide only where the count is positive, and leave `q` untouched.",
        "Recipe: (1) target = reward + gamma times (the row max of q at the next state, or 0 "
        "where there is none); (2) error = target - q at (state, action); (3) two zero "
        "tables like q: scatter-add the errors into one and 1 into the other at (states, "
        "actions); (4) copy q and, where the count is > 0, add alpha times sum / count; (5) "
        "return the copy.",
    ),
    "4.1": (
        "GAE is a recursion backwards in time: the advantage of step t needs that of step "
        "t + 1. Fill the (T, n_envs) output from the last step to the first, carrying two "
        "things from one step to the one before it: the value of the next state and the "
        "running advantage.",
        "At the last step the next state's value is `last_values`; at an earlier step t it "
        "is `values[t + 1]`. All envs go together: at each step every quantity is a vector "
        "of length n_envs. `gamma` already has shape (T, n_envs) when your body runs, so "
        "always use `gamma[t]`.",
        "Where `dones[t]` is True the episode ended at step t: neither the next value nor "
        "the running advantage may cross that boundary. Multiply both by a 'still alive' "
        "factor made from `dones[t]`; it is boolean, so turn it into floats first (`~` "
        "followed by `.astype(float)`, or subtract it from 1.0): subtracting two boolean "
        "arrays raises.",
        "Recipe: (1) advantages = zeros like the rewards, running advantage = zeros of "
        "n_envs, next value = `last_values`; (2) for t from T - 1 down to 0: alive = 1 where "
        "the episode goes on, else 0; delta from the docstring's formula; the running "
        "advantage from the docstring's recursion; store it in row t; the next value "
        "becomes `values[t]`; (3) return the advantages and advantages + values.",
    ),
    "4.2": (
        "The loss compares the new policy with the old one through each sample's probability "
        "ratio, and takes the more pessimistic of two estimates of the improvement: the "
        "plain one, and one in which the ratio may not leave [1 - clip, 1 + clip].",
        "Everything is elementwise on tensors of one shape, and in torch (not numpy) so that "
        "gradients reach `new_log_prob`: the ratio is the exponential of a log-probability "
        "difference, `torch.clamp` bounds it, and `torch.min` (or `torch.minimum`) of two "
        "tensors is elementwise. Never `.detach()` or convert to numpy.",
        "Recipe: (1) ratio = exp(new log-prob - old log-prob); (2) the unclipped term is the "
        "ratio times the advantages; (3) the clipped term is the ratio clamped to [1 - clip, "
        "1 + clip] times the advantages; (4) take their elementwise minimum; (5) return minus "
        "its mean, a 0-d tensor.",
    ),
    "4.3": (
        "The ccv utility of an option: what it earned, plus the discounted second-highest "
        "bid of the next auction, minus the second-highest bid now (chapter 3's ccv "
        "utility, exercise 3.1, if you did it). An option runs tau steps, so what it earned "
        "is the discounted sum of its tau step rewards, and the next auction's bid is "
        "discounted by gamma ** tau instead of gamma.",
        "Rewards are (..., max_duration), padded after each option's duration with numbers "
        "to ignore. Give step j the weight gamma ** j when j < tau and 0 otherwise: compare "
        "the step numbers with `durations` given a trailing axis of length 1, so that they "
        "broadcast over the step axis; then sum rewards times weights over the last axis.",
        "Use `np.where` (or a boolean mask) to make the padding weights 0, so that whatever "
        "the padding holds does not count. The price is the second-highest bid now and the "
        "received amount the second-highest next bid, both from `top_two`; it is 0 where "
        "`next_exists` is False. `durations` is an int array (0-d for one auction), so "
        "`gamma ** durations` is elementwise.",
        "Recipe: (1) the step numbers 0 .. max_duration - 1 (`np.arange`); (2) weights = "
        "gamma to the step number where the step is below the duration, else 0; (3) earned "
        "= the sum over the last axis of rewards times weights; (4) second-highest bid now "
        "and next, from `top_two`; (5) return earned + (gamma ** durations times the next "
        "one, or 0 without a next auction) - the one now.",
    ),
    "4.4": (
        "Count, over all parameter tensors together, how many single numbers moved by more "
        "than `threshold`, and divide by how many numbers there are in all. A big layer "
        "weighs more than a small one: do not average per-layer fractions.",
        "`before` and `after` are dicts of float arrays with the same keys and shapes: pair "
        "the arrays by key (the two dicts may list them in different orders). Within a key, "
        "compare elementwise (absolute difference strictly greater than the threshold) and "
        "count with `.sum()`; an array's number of entries is its `.size`.",
        "Recipe: (1) moved = 0 and total = 0; (2) for every key of `before`, add the number "
        "of entries with |after - before| > threshold to moved, and the array's size to "
        "total; (3) return the ratio of the two as a plain Python float (wrap numpy "
        "numbers with `int` or `float`).",
    ),
    "5.1": (
        "The digit keeps its pixels; it only gets a frame of zeros around it, equally wide "
        "on every side, and an extra channel axis of length 1 for `grid_sample`. On the "
        "64-pixel canvas the frame is 18 pixels wide.",
        "Shapes: (N, 28, 28) in, (N, 1, size, size) float32 out. The margin is (size - 28) "
        "// 2 (the validator makes size - 28 even). Either allocate zeros and assign the "
        "digits to the slice that starts at the margin on both image axes, or pad the last "
        "two axes with `torch.nn.functional.pad` (its tuple names the last axis first: "
        "left, right, top, bottom).",
        "Recipe: (1) margin = (size - 28) // 2; (2) pad the images by the margin on all four "
        "sides of their two image axes (or copy them into a zero tensor of shape (N, size, "
        "size), rows and columns margin to margin + 27); (3) insert the channel axis at "
        "position 1 (`unsqueeze(1)`) and return. It should also work for N = 0 and for "
        "size = 28.",
    ),
    "5.2": (
        "Follow the docstring's derivation: `affine_grid` needs the inverse mapping, from "
        "each output position back to where it reads in the input. So the matrix is made of "
        "the inverse rotation and of the shift sent through that inverse, not of R and t "
        "themselves.",
        "For entry n you need the cosine and sine of the angle in radians (degrees times pi "
        "/ 180). The inverse of R = [[cos, sin], [-sin, cos]] is its transpose. The third "
        "column is minus the inverse rotation applied to t = shifts[n] as a column: a "
        "matrix-vector product, not an elementwise one.",
        "Batch it: build the (N, 2, 2) inverse rotations with `torch.stack` (the two "
        "entries of a row along a new last axis, then the two rows along axis -2), multiply "
        "with the shifts given a trailing axis, (N, 2, 1) (`@` batches over N), and join the "
        "block and the column along the last axis (`torch.cat`) into (N, 2, 3).",
        "Recipe: (1) radians from degrees; (2) cos and sin, each of shape (N,); (3) the "
        "inverse rotation has rows (cos, -sin) and (sin, cos), stacked to (N, 2, 2); (4) the "
        "offset column is minus (inverse rotation @ shifts with a trailing axis); (5) "
        "concatenate along the last axis and return as float32. Check: angle 0 and shift "
        "(dx, dy) give [[1, 0, -dx], [0, 1, -dy]].",
    ),
    "5.3": (
        "Each image needs its own affine matrix, and the whole batch must be resampled in "
        "one call. The six primitives' matrices already exist as one table: how do you give "
        "image n the matrix of primitive `primitive_ids[n]`?",
        "`primitive_thetas()` is a (6, 2, 3) tensor. Indexing its first axis with an (N,) "
        "integer tensor gathers an (N, 2, 3) stack, one matrix per image: no loop and no "
        "`torch.stack` over a list. `transform(images, theta)` then runs `affine_grid` and "
        "`grid_sample` for the whole batch.",
        "Recipe: (1) get the table from `primitive_thetas()`; (2) index it with "
        "`primitive_ids` (already a long tensor of shape (N,)) to get one matrix per image; "
        "(3) pass the images and those matrices to `transform` and return what it gives.",
    ),
    "5.4": (
        "The reward says whether the classifier's top guess is the true label, as a float "
        "per image. 'Frozen' means: no gradients, evaluation mode for the forward pass, and "
        "afterwards the module is in whatever mode it was when it came in.",
        "`module.training` tells the current mode, `module.eval()` switches to evaluation and "
        "`module.train(flag)` restores a saved flag (a bare `.train()` would be wrong for a "
        "classifier that came in eval mode). Run the forward pass inside `torch.no_grad()`; "
        "restoring the mode in a `finally:` keeps it right even when the forward pass fails.",
        "The logits are (N, 10): the predicted digit is their argmax over the last axis. "
        "Comparing it with `labels` (int64, shape (N,)) gives booleans, to be converted to "
        "float32.",
        "Recipe: (1) save the classifier's training flag; (2) switch it to eval mode; (3) "
        "inside `torch.no_grad()`, compute the logits of the images and their argmax over "
        "the last axis; (4) put the saved mode back (in a `finally`); (5) return whether the "
        "predictions equal the labels, as float32.",
    ),
    "6.1": (
        "Two users are one hop apart when some access point serves both. Within k hops means "
        "a chain of at most k such steps, and every user always belongs to its own "
        "neighbourhood: for k = 0, and also when it reaches no access point at all.",
        "Shared access points as a matrix product: the (n_users, n_aps) access matrix times "
        "its transpose counts, for each pair of users, the access points they share; > 0 "
        "means one hop. Add the diagonal to this one-hop relation: 'at most k hops' is then "
        "'k steps, each of which may also stay put'.",
        "Growing a reach matrix by one hop is again a matrix product followed by '> 0' (is "
        "there some user in between?). Boolean matrices multiply as 'or of ands' in numpy; "
        "with ints, compare with 0 after each product. The validator caps k at n_users, so "
        "a plain loop of k products is fine.",
        "Recipe: (1) one hop = (access times access transposed > 0) or the identity; (2) "
        "reach starts as the identity (that is k = 0); (3) k times: reach = (reach times one "
        "hop > 0); (4) return reach, a boolean (n_users, n_users) array. It must be symmetric "
        "with a True diagonal: check a small case by hand.",
    ),
    "6.2": (
        "For every (copy, user) three things decide the action: does it hold a packet, and "
        "which is the most urgent (its lowest occupied slot); does it send this step "
        "(probability `p_send`); and to which of its access points (drawn with the user's "
        "row of `weights`). Then encode them as the docstring's action index.",
        "Shapes: `queues` is (copies, users, d) of 0/1. 'Has a packet' is an any over the "
        "slot axis, and `argmax` over that axis returns the first occupied slot; it also "
        "returns 0 for an empty queue, so mask those users with 'has a packet'. Take every "
        "random number from `rng`: one uniform per (copy, user) for each of the two draws.",
        "Drawing the access point without a loop: inverse-CDF sampling. Take the cumulative "
        "sums of each user's weights, (users, 4), and divide each row by its last entry so "
        "that it ends at exactly 1 (the rows may sum to 1 only approximately); r is then the "
        "number of cumulative sums <= u (u with a trailing axis, against the cumsums). "
        "Points of weight 0 are never drawn.",
        "Recipe: (1) has-packet = any over slots; slot = argmax over slots; (2) send = "
        "has-packet and (uniform < p_send); (3) r = number of normalised cumulative weights "
        "<= a second uniform, per (copy, user); (4) the action is 1 + slot * 4 + r where the "
        "user sends and 0 elsewhere (`np.where`); it is an int array of shape (copies, "
        "users).",
    ),
    "6.3": (
        "One TD(0) step for a whole batch on a flat table of values: group the samples by "
        "the entry they visited, average their targets, and move each visited entry a "
        "fraction `lr` of the way from its value to that average. Entries nobody visited "
        "keep their value. (The same averaging as chapter 3's Q-learning update, exercise "
        "3.4, if you did it.)",
        "The targets are reward + gamma times next value, elementwise, shape (M,). Per-entry "
        "sums and counts are a histogram with weights: `np.bincount` over `index`, with the "
        "targets as weights for the sums and without weights for the counts; pass "
        "`minlength` equal to the table's length so that both have one slot per entry.",
        "Moving a fraction lr of the way means old + lr times (mean target - old), only "
        "where the count is positive: select those entries first, then divide (dividing by "
        "a zero count gives NaN and a warning). Work on a copy so that `values` stays "
        "unchanged; an empty batch returns an unchanged copy.",
        "Recipe: (1) the targets; (2) counts and target sums per entry with two bincounts "
        "of the table's length; (3) copy the values; (4) where the count is > 0, add lr "
        "times (sum / count - value); (5) return the copy.",
    ),
    "6.4": (
        "Every (episode, step, user) sample adds weight times (onehot(action) - probs[user, "
        "state]) to row (user, state) of the result; no other row changes. Sum over all "
        "episodes and steps, then divide by the number of episodes (not of samples).",
        "Split the term in two: weight times onehot(action) puts the weight into the single "
        "cell (user, state, action); weight times probs[user, state] adds up to probs[user, "
        "state] times the total weight that landed in row (user, state). So two grouped sums "
        "of the weights are enough: one per (user, state, action), one per (user, state).",
        "The user is implicit: it is the last axis of `states` and `actions`, so broadcast "
        "`np.arange(n_users)` against the (episodes, steps, n_users) arrays. Grouped sums "
        "with repeats need `np.add.at` (or `np.bincount` of a flattened cell index, with "
        "`minlength`); a fancy-indexed `+=` would drop the repeats.",
        "Recipe: (1) a user-index array broadcast to the shape of `states`; (2) zeros like "
        "probs, scatter-add the weights at (user, state, action); (3) zeros of shape "
        "(n_users, n_states), scatter-add the weights at (user, state); (4) the first minus "
        "probs times the second (given a trailing axis); (5) divide by the number of "
        "episodes, `states.shape[0]`, and return.",
    ),
    "6.5": (
        "A grouped mean again: the groups are the hop distances 1 .. max_hops and the values "
        "the absolute changes |q_base - q_perturbed|. Samples farther than `max_hops` belong "
        "to no group, and a group without samples gets NaN.",
        "The output is (max_hops,), entry h - 1 for distance h. A short loop over h with the "
        "mask `hops == h` is fine (max_hops is small); or count with `np.bincount` of `hops`, "
        "with and without the absolute changes as weights, and keep slots 1 .. max_hops "
        "(hops may be far larger than max_hops, so slice after counting).",
        "Do not take the mean of an empty selection: numpy returns NaN but also warns 'Mean "
        "of empty slice'. Check whether the group has any sample first and write `np.nan` "
        "yourself; with bincount, divide only where the count is positive and fill the rest "
        "with NaN.",
        "Recipe: (1) the absolute differences; (2) for h from 1 to max_hops: the mean of the "
        "differences whose hop distance is h if there is any, else NaN; (3) return those "
        "max_hops numbers as a float array.",
    ),
    "6.6": (
        "Exercise 6.3 with features: each sample predicts with its own row of weights, gets "
        "a TD error, and every weight of a row moves by a normalised step, the docstring's "
        "ratio of two per-row sums, times lr / F. With a single feature equal to 1 it is "
        "exercise 6.3's update.",
        "First all predictions, from the weights as given: row `index[m]` of the weights "
        "dotted with `features[m]`, i.e. gather the rows (M, F), multiply by the features "
        "and sum over the feature axis (or `np.einsum`). delta = target - prediction, shape "
        "(M,). Only then compute the step, so that no prediction sees updated weights.",
        "The two sums are per row and per feature f: `np.bincount` over `index` with "
        "`minlength` E, weighted by delta times feature f and by feature f squared. Move "
        "weight (e, f) only where the second sum is > 0 (no division by 0). Build the step "
        "in a zero array and return weights + (lr / F) times it, a new array. An empty "
        "batch (M = 0) leaves every sum at 0: the weights come back unchanged.",
        "Recipe: (1) predictions of all samples from the current weights; (2) delta = reward "
        "+ gamma times next value - prediction; (3) a zero step array like the weights; (4) "
        "for each feature f: both bincounts, and where the squared sum is > 0, the step is "
        "the first sum divided by the second; (5) return the weights plus lr / F times the "
        "step.",
    ),
}
