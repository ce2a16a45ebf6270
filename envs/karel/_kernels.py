"""numba kernels of the compiled Karel evaluator (spec/benchmark.md §1, §2 and §4).

One kernel, :func:`run_batch`, runs the bytecode of :mod:`envs.karel.bytecode` on every instance
of a task, with the task's reward rule selected by an integer id (one kernel rather than one per
task keeps the JIT cost to a single compilation, cached on disk).

State is a handful of flat arrays (cell index ``row * W + col``) reused across episodes and
calls: reset copies the instance's walls and markers and the precomputed counters, nothing is
allocated per step, and rewards read counters updated on every marker change (total markers,
cells over one marker, masked cells with >0 / ==2 / ==0 markers) instead of scanning the grid.

WHILE repeat detection is exact: every marker change updates a 64-bit Zobrist hash of the
marker grid and is appended to a change log. A fingerprint (hash ^ position key ^ node salt) is
looked up in an open-addressing table whose entries are valid for one episode (epoch stamps, so
nothing is cleared between episodes). On a key match the node, the agent's row, column and facing
are compared, and the marker grids are compared exactly by replaying the change log between the
two moments; a genuine 64-bit collision therefore never crashes a loop that the reference runs.

Snake's food draws replay numpy's legacy ``RandomState``: MT19937 plus ``randint``'s masked
rejection sampling on 32-bit draws.

Kernels are compiled with ``_nrt=False``: numba's reference counting of every array passed to
a helper cost more than the work of a short episode. They carry no type hints because numba
specialises on the actual dtypes, which :mod:`envs.karel.compiled` fixes (int64 everywhere but
``code`` int32, walls and masks uint8, returns float64).

Everything ``run_batch`` calls lives in this one module on purpose, although it is longer than
the house's ~400 lines: numba's on-disk cache is invalidated only when the *defining* file of
a cached function changes, so helpers (or constants) in another module could be edited without
the cached kernel noticing.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Task ids (the Python side maps task names to these).
STAIR_SPARSE, STAIR_DENSE, MAZE_SPARSE, MAZE_DENSE = 0, 1, 2, 3
FOUR_CORNERS, FOUR_CORNERS_SPARSE, TOP_OFF, TOP_OFF_SPARSE = 4, 5, 6, 7
HARVESTER, HARVESTER_SPARSE, CLEAN_HOUSE, CLEAN_HOUSE_SPARSE = 8, 9, 10, 11
DOOR_KEY, ONE_STROKE, SEEDER, SNAKE, PATH_FOLLOW, WALL_AVOIDER = 12, 13, 14, 15, 16, 17

# Per-instance integer parameters (columns of ``ip``).
IP_GOAL, IP_INIT_DIST, IP_INIT_TOTAL, IP_NTARGET, IP_KEY = 0, 1, 2, 3, 4
IP_DOOR1, IP_DOOR2, IP_MAX, IP_FOOD, IP_START, IP_MT_POS = 5, 6, 7, 8, 9, 10
N_IP = 12

# Marker counters (columns of ``cnt0`` and entries of ``cnt``).
C_TOTAL, C_OVER1, C_MPOS, C_MEQ2, C_MZERO, C_LOG = 0, 1, 2, 3, 4, 5
N_CNT = 8

# Per-episode task state (entries of ``st``).
S_PREV, S_LOCKED, S_OS_PREV, S_OS_COUNT, S_BODY, S_FOOD, S_BSTART, S_BLEN, S_MTPOS = range(9)
N_ST = 16

MAX_MARKERS = 10
N_ZOB_NODES = 64
BODY_RING = 64

_DR = np.array([-1, 0, 1, 0], dtype=np.int64)
_DC = np.array([0, 1, 0, -1], dtype=np.int64)
_U32 = 0xFFFFFFFF
_TABLE_START = 256  # initial fingerprint-index size of an episode (grows by doubling)


@njit(cache=True, _nrt=False)
def mt_next(mt, st):
    """Next tempered 32-bit output of MT19937 (numpy's legacy generator); position in st."""
    pos = st[S_MTPOS]
    if pos >= 624:
        for i in range(624):
            y = (mt[i] & 0x80000000) | (mt[(i + 1) % 624] & 0x7FFFFFFF)
            v = mt[(i + 397) % 624] ^ (y >> 1)
            if y & 1:
                v ^= 0x9908B0DF
            mt[i] = v
        pos = 0
    y = mt[pos]
    st[S_MTPOS] = pos + 1
    y ^= y >> 11
    y ^= (y << 7) & 0x9D2C5680
    y ^= (y << 15) & 0xEFC60000
    y ^= y >> 18
    return y & _U32


@njit(cache=True, _nrt=False)
def legacy_randint(low, high, mt, st):
    """``RandomState.randint(low, high)`` for int64 results whose range fits in 32 bits."""
    rng = high - 1 - low
    if rng == 0:
        return low
    mask = rng
    mask |= mask >> 1
    mask |= mask >> 2
    mask |= mask >> 4
    mask |= mask >> 8
    mask |= mask >> 16
    val = mt_next(mt, st) & mask
    while val > rng:
        val = mt_next(mt, st) & mask
    return low + val


@njit(cache=True)
def randint_sequence(state, pos, lows, highs):
    """Draw ``randint(lows[k], highs[k])`` in order from an MT19937 state (for tests)."""
    mt = state.astype(np.int64)
    st = np.zeros(N_ST, dtype=np.int64)
    st[S_MTPOS] = pos
    out = np.empty(lows.shape[0], dtype=np.int64)
    for k in range(lows.shape[0]):
        out[k] = legacy_randint(lows[k], highs[k], mt, st)
    return out


@njit(cache=True, _nrt=False, inline="always")
def _set_markers(cell, new, markers, maskrow, cnt, hsh, zob, log_cell, log_old):
    """Set a cell's marker count, keeping every counter, the hash and the change log current."""
    old = markers[cell]
    markers[cell] = new
    cnt[C_TOTAL] += new - old
    cnt[C_OVER1] += (1 if new > 1 else 0) - (1 if old > 1 else 0)
    if maskrow[cell]:
        cnt[C_MPOS] += (1 if new > 0 else 0) - (1 if old > 0 else 0)
        cnt[C_MEQ2] += (1 if new == 2 else 0) - (1 if old == 2 else 0)
        cnt[C_MZERO] += (1 if new == 0 else 0) - (1 if old == 0 else 0)
    hsh[0] ^= zob[cell * 11 + old] ^ zob[cell * 11 + new]
    n = cnt[C_LOG]
    log_cell[n] = cell
    log_old[n] = old
    cnt[C_LOG] = n + 1


@njit(cache=True, _nrt=False, inline="always")
def _is_clear(r, c, walls, h, w):
    return 0 <= r < h and 0 <= c < w and walls[r * w + c] == 0


@njit(cache=True, _nrt=False)
def _same_grid(since, markers, log_cell, log_old, cnt, first_old, touched):
    """Whether the marker grid now equals the grid when the log had ``since`` entries."""
    nt = 0
    for j in range(since, cnt[C_LOG]):
        cell = log_cell[j]
        if first_old[cell] < 0:
            first_old[cell] = log_old[j]
            touched[nt] = cell
            nt += 1
    same = True
    for k in range(nt):
        cell = touched[k]
        if first_old[cell] != markers[cell]:
            same = False
        first_old[cell] = -1
    return same


@njit(cache=True, _nrt=False, inline="always")
def _in_body(cell, body, st, upto):
    start = st[S_BSTART]
    for j in range(upto):
        if body[(start + j) % BODY_RING] == cell:
            return True
    return False


@njit(cache=True, _nrt=False, inline="always")
def _snake_reward(
    p, walls, markers, maskrow, cnt, hsh, zob, log_cell, log_old, st, body, mt, mt0row, ipr, h, w
):
    """Snake (LLM-GS): eat, redraw food by rejection with the task RNG, grow and move the body."""
    reward = 0.0
    terminated = False
    if p == st[S_FOOD]:
        if st[S_MTPOS] < 0:  # the RNG state is copied only by episodes that draw from it
            for j in range(624):
                mt[j] = mt0row[j]
            st[S_MTPOS] = ipr[IP_MT_POS]
        st[S_BODY] += 1
        food = st[S_FOOD]
        if markers[food] > 0:
            _set_markers(
                food, markers[food] - 1, markers, maskrow, cnt, hsh, zob, log_cell, log_old
            )
        reward = 1 / 20
        if st[S_BODY] == 22:
            terminated = True
        else:
            while True:
                ym = legacy_randint(1, h - 1, mt, st)
                xm = legacy_randint(1, w - 1, mt, st)
                cell = ym * w + xm
                if walls[cell] == 0 and cell != p and not _in_body(cell, body, st, st[S_BLEN]):
                    if markers[cell] < MAX_MARKERS:
                        _set_markers(
                            cell,
                            markers[cell] + 1,
                            markers,
                            maskrow,
                            cnt,
                            hsh,
                            zob,
                            log_cell,
                            log_old,
                        )
                    st[S_FOOD] = cell
                    break
    blen = st[S_BLEN]
    last = body[(st[S_BSTART] + blen - 1) % BODY_RING]
    if _in_body(p, body, st, blen - 1):
        terminated = True
        reward = -1.0
    elif p != last:
        if markers[last] < MAX_MARKERS:
            _set_markers(
                last, markers[last] + 1, markers, maskrow, cnt, hsh, zob, log_cell, log_old
            )
        body[(st[S_BSTART] + blen) % BODY_RING] = p
        blen += 1
        if blen > st[S_BODY]:
            first = body[st[S_BSTART]]
            st[S_BSTART] = (st[S_BSTART] + 1) % BODY_RING
            blen -= 1
            if markers[first] > 0:
                _set_markers(
                    first, markers[first] - 1, markers, maskrow, cnt, hsh, zob, log_cell, log_old
                )
        st[S_BLEN] = blen
    return terminated, reward


@njit(cache=True, _nrt=False)
def _distance(p, goal, w):
    return abs(p // w - goal // w) + abs(p % w - goal % w)


@njit(cache=True, _nrt=False, inline="always")
def _reward(task, p, w, ipr, maskrow, walls, markers, cnt, st):
    """``(terminated, reward)`` of every task except Snake, after an action (agent cell p)."""
    total = cnt[C_TOTAL]
    if task == STAIR_SPARSE or task == MAZE_SPARSE:
        if p == ipr[IP_GOAL]:
            return True, 1.0
        if task == STAIR_SPARSE and maskrow[p] == 0:
            return True, -1.0
        return False, 0.0
    if task == STAIR_DENSE or task == MAZE_DENSE:
        cur = _distance(p, ipr[IP_GOAL], w)
        reward = (st[S_PREV] - cur) / ipr[IP_INIT_DIST]
        terminated = False
        if task == STAIR_DENSE and maskrow[p] == 0:
            reward = -1.0
            terminated = True
        if p == ipr[IP_GOAL]:
            terminated = True
        st[S_PREV] = cur
        return terminated, reward
    if task == FOUR_CORNERS or task == FOUR_CORNERS_SPARSE:
        correct = cnt[C_MPOS]
        if task == FOUR_CORNERS_SPARSE:
            if total > correct:
                return True, -1.0
            if correct == ipr[IP_NTARGET]:
                return True, 1.0
            return False, 0.0
        reward = (correct - st[S_PREV]) / ipr[IP_NTARGET]
        terminated = False
        if total > correct:
            terminated = True
            reward = -1.0
        elif correct == ipr[IP_NTARGET]:
            terminated = True
        st[S_PREV] = correct
        return terminated, reward
    if task == TOP_OFF or task == TOP_OFF_SPARSE:
        if cnt[C_MZERO] > 0:
            return True, -1.0
        correct = cnt[C_MEQ2]
        n = ipr[IP_NTARGET]
        if task == TOP_OFF_SPARSE:
            reward = 0.0
            terminated = False
            if total > correct + n:
                terminated = True
                reward = -1.0
            if correct == n:
                terminated = True
                reward = 1.0
            return terminated, reward
        reward = (correct - st[S_PREV]) / n
        terminated = False
        if total > correct + n:
            terminated = True
            reward = -1.0
        elif correct == n:
            terminated = True
        st[S_PREV] = correct
        return terminated, reward
    if task == HARVESTER or task == CLEAN_HOUSE or task == PATH_FOLLOW:
        reward = (st[S_PREV] - total) / ipr[IP_INIT_TOTAL]
        terminated = False
        if total > st[S_PREV]:
            reward = -1.0
            terminated = True
        elif total == 0:
            terminated = True
        if task == PATH_FOLLOW and maskrow[p] == 0:
            reward = -1.0
            terminated = True
        st[S_PREV] = total
        return terminated, reward
    if task == HARVESTER_SPARSE or task == CLEAN_HOUSE_SPARSE:
        # The reference never updates the previous count here: it stays the initial one.
        if total > st[S_PREV]:
            return True, -1.0
        if total == 0:
            return True, 1.0
        return False, 0.0
    if task == DOOR_KEY:
        if st[S_LOCKED] == 1:
            if total > 2:
                return True, -1.0
            if markers[ipr[IP_KEY]] == 0:
                st[S_LOCKED] = 0
                walls[ipr[IP_DOOR1]] = 0
                walls[ipr[IP_DOOR2]] = 0
                return False, 0.5
            return False, 0.0
        if total > 1:
            if markers[ipr[IP_GOAL]] == 2:
                return True, 0.5
            return True, -1.0
        if total == 0:
            return True, -1.0
        return False, 0.0
    if task == ONE_STROKE:
        reward = 0.0
        if p != st[S_OS_PREV]:
            st[S_OS_COUNT] += 1
            reward = 1.0 / ipr[IP_MAX]
            walls[st[S_OS_PREV]] = 1
        st[S_OS_PREV] = p
        return st[S_OS_COUNT] == ipr[IP_MAX], reward
    # SEEDER and WALL_AVOIDER
    reward = (total - st[S_PREV]) / ipr[IP_MAX]
    terminated = False
    if task == WALL_AVOIDER and cnt[C_MPOS] > 0:
        reward = -1.0
        terminated = True
    if cnt[C_OVER1] > 0:
        reward = -1.0
        terminated = True
    elif total < st[S_PREV]:
        reward = -1.0
        terminated = True
    elif total == ipr[IP_MAX]:
        terminated = True
    st[S_PREV] = total
    return terminated, reward


@njit(cache=True, _nrt=False, inline="always")
def _act(a, r, c, d, crashed, crashable, leaps, walls, markers, h, w):
    """Run one action; returns (row, col, dir, crashed, new marker count or -1 if unchanged)."""
    if a == 0:
        nr = r + _DR[d]
        nc = c + _DC[d]
        clear = _is_clear(nr, nc, walls, h, w)
        if not clear and crashable:
            crashed = True
        if not crashed and clear:
            return nr, nc, d, crashed, -1
        if leaps:
            d = (d + 2) & 3
        return r, c, d, crashed, -1
    if a == 1:
        return r, c, (d + 3) & 3, crashed, -1
    if a == 2:
        return r, c, (d + 1) & 3, crashed, -1
    m = markers[r * w + c]
    if a == 3:
        if m == 0:
            return r, c, d, crashed or crashable, -1
        return r, c, d, crashed, m - 1
    if m == MAX_MARKERS:
        return r, c, d, crashed or crashable, -1
    return r, c, d, crashed, m + 1


@njit(cache=True, _nrt=False, inline="always")
def _perceive(q, r, c, d, walls, markers, h, w):
    if q == 3:
        return markers[r * w + c] > 0
    if q == 4:
        return markers[r * w + c] == 0
    if q == 1:
        d = (d + 3) & 3
    elif q == 2:
        d = (d + 1) & 3
    return _is_clear(r + _DR[d], c + _DC[d], walls, h, w)


@njit(cache=True, _nrt=False)
def _reset_task_state(task, ipr, st, body, agent_cell):
    st[S_PREV] = 0
    if task == STAIR_DENSE or task == MAZE_DENSE:
        st[S_PREV] = ipr[IP_INIT_DIST]
    elif task in (HARVESTER, CLEAN_HOUSE, PATH_FOLLOW, HARVESTER_SPARSE, CLEAN_HOUSE_SPARSE):
        st[S_PREV] = ipr[IP_INIT_TOTAL]
    st[S_LOCKED] = 1
    st[S_OS_PREV] = agent_cell
    st[S_OS_COUNT] = 0
    if task == SNAKE:
        st[S_BODY] = 2
        st[S_FOOD] = ipr[IP_FOOD]
        st[S_BSTART] = 0
        st[S_BLEN] = 1
        body[0] = agent_cell
        st[S_MTPOS] = -1


@njit(cache=True, _nrt=False, inline="always")
def _seen(key, info, cap, stamp, tab, ent, markers, log_cell, log_old, cnt, first_old, touched):
    """Whether a WHILE node already saw this exact fingerprint this episode (spec §2, step 3).

    ``tab`` is the open-addressing index (stamp, key, entry) and ``ent`` the episode's entries
    (key, node/cell/facing, change-log length); a key match is confirmed exactly.
    """
    idx = key & (cap - 1)
    while tab[idx, 0] == stamp:
        if tab[idx, 1] == key:
            e = tab[idx, 2]
            if ent[e, 1] == info and _same_grid(
                ent[e, 2], markers, log_cell, log_old, cnt, first_old, touched
            ):
                return True, idx
        idx = (idx + 1) & (cap - 1)
    return False, idx


@njit(cache=True, _nrt=False)
def _reindex(count, cap, stamp, tab, ent):
    """Re-insert the episode's ``count`` entries into an index of size ``cap``."""
    for e in range(count):
        j = ent[e, 0] & (cap - 1)
        while tab[j, 0] == stamp:
            j = (j + 1) & (cap - 1)
        tab[j, 0] = stamp
        tab[j, 1] = ent[e, 0]
        tab[j, 2] = e


@njit(cache=True, _nrt=False, nogil=True)
def run_batch(
    code,
    starts,
    out,
    acts,
    cfg,
    walls0,
    markers0,
    agent0,
    ip,
    mask,
    cnt0,
    hash0,
    mt0,
    zob,
    walls,
    markers,
    cnt,
    hsh,
    st,
    body,
    mt,
    rep,
    first_old,
    touched,
    log_cell,
    log_old,
    tab,
    ent,
    meta,
):
    """Run programs ``code[starts[k]:starts[k + 1]]`` on every instance.

    ``out[k, i]`` receives the return of program k on instance i and ``acts[k]`` the number of
    actions it executed over all instances. ``cfg`` = (task id, H, W, crashable, leaps
    behaviour, max calls, penalize crash, max free steps). Free steps (a REPEAT entered, one of
    its iterations started, a ``True``/``False`` literal evaluated) cost no call; past the
    limit the episode crashes like the call budget (``envs.limits.max_free_steps``). The other
    arrays are the instances' initial data and
    reusable scratch space (see :class:`envs.karel.compiled.CompiledKarelEvaluator`);
    ``meta[0]`` is the epoch that stamps the live entries of the fingerprint index.

    One function on purpose: a numba call that passes this many arrays costs more than a
    short episode, so the interpreter loop is inlined here rather than called per episode.
    """
    task, h, w = cfg[0], cfg[1], cfg[2]
    crashable, leaps, max_calls, penalize = cfg[3] != 0, cfg[4] != 0, cfg[5], cfg[6] != 0
    max_free = cfg[7]
    hw = h * w
    zp = hw * 11
    zn = hw * 15
    for k in range(starts.shape[0] - 1):
        base = starts[k]
        total_actions = 0
        for i in range(walls0.shape[0]):
            for j in range(hw):
                walls[j] = walls0[i, j]
                markers[j] = markers0[i, j]
            for j in range(N_CNT):
                cnt[j] = cnt0[i, j]
            hsh[0] = hash0[i]
            ipr = ip[i]
            maskrow = mask[i]
            r, c, d = agent0[i, 0], agent0[i, 1], agent0[i, 2]
            _reset_task_state(task, ipr, st, body, r * w + c)
            meta[0] += 1
            stamp = meta[0]
            cap = _TABLE_START
            count = 0
            ret = 0.0
            crashed = False
            term = False
            flag = False
            calls = 0
            free = 0
            actions = 0
            pc = base
            while True:
                op = code[pc]
                if op == 1:  # ACT
                    calls += 1
                    crashed = calls > max_calls
                    r, c, d, crashed, m = _act(
                        code[pc + 1], r, c, d, crashed, crashable, leaps, walls, markers, h, w
                    )
                    p = r * w + c
                    if m >= 0:
                        _set_markers(p, m, markers, maskrow, cnt, hsh, zob, log_cell, log_old)
                    actions += 1
                    if task == SNAKE:
                        term, rew = _snake_reward(
                            p,
                            walls,
                            markers,
                            maskrow,
                            cnt,
                            hsh,
                            zob,
                            log_cell,
                            log_old,
                            st,
                            body,
                            mt,
                            mt0[i],
                            ipr,
                            h,
                            w,
                        )
                    else:
                        term, rew = _reward(task, p, w, ipr, maskrow, walls, markers, cnt, st)
                    ret += rew
                    if term or crashed:
                        break
                    pc += 2
                elif op == 3 or op == 4:  # JNP / JP
                    calls += 1
                    if calls > max_calls:
                        crashed = True
                        break
                    v = _perceive(code[pc + 1], r, c, d, walls, markers, h, w)
                    pc = base + code[pc + 2] if v == (op == 4) else pc + 3
                elif op == 2:  # JMP
                    pc = base + code[pc + 1]
                elif op == 7:  # RDEC
                    slot = code[pc + 1]
                    if rep[slot] == 0:
                        pc = base + code[pc + 2]
                    else:
                        free += 1
                        if free > max_free:
                            crashed = True
                            break
                        rep[slot] -= 1
                        pc += 3
                elif op == 5:  # WCHECK
                    node = code[pc + 1]
                    cell = r * w + c
                    key = hsh[0] ^ zob[zp + cell * 4 + d] ^ zob[zn + (node & (N_ZOB_NODES - 1))]
                    info = (node * hw + cell) * 4 + d
                    repeat, idx = _seen(
                        key,
                        info,
                        cap,
                        stamp,
                        tab,
                        ent,
                        markers,
                        log_cell,
                        log_old,
                        cnt,
                        first_old,
                        touched,
                    )
                    if repeat:
                        crashed = True
                        break
                    if count == ent.shape[0]:  # impossible by the sizing bound; never write past
                        raise RuntimeError("fingerprint table overflow")
                    ent[count, 0] = key
                    ent[count, 1] = info
                    ent[count, 2] = cnt[C_LOG]
                    tab[idx, 0] = stamp
                    tab[idx, 1] = key
                    tab[idx, 2] = count
                    count += 1
                    if 2 * count > cap:  # keep the load at most 1/2: double and re-index
                        cap *= 2
                        meta[0] += 1
                        stamp = meta[0]
                        _reindex(count, cap, stamp, tab, ent)
                    pc += 2
                elif op == 6:  # RSET
                    free += 1
                    if free > max_free:
                        crashed = True
                        break
                    rep[code[pc + 1]] = code[pc + 2]
                    pc += 3
                elif op == 0:  # HALT
                    break
                elif op == 8:  # PERC
                    calls += 1
                    if calls > max_calls:
                        crashed = True
                        break
                    flag = _perceive(code[pc + 1], r, c, d, walls, markers, h, w)
                    pc += 2
                elif op == 9:  # NOT
                    flag = not flag
                    pc += 1
                elif op == 10:  # CONST
                    free += 1
                    if free > max_free:
                        crashed = True
                        break
                    flag = code[pc + 1] != 0
                    pc += 2
                elif op == 11:  # JF
                    pc = base + code[pc + 1] if not flag else pc + 2
                else:  # 12: JT
                    pc = base + code[pc + 1] if flag else pc + 2
            if penalize and crashed and not term:
                ret += -1.0
            out[k, i] = ret
            total_actions += actions
        acts[k] = total_actions
