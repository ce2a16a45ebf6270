"""numba kernel of the compiled Minigrid evaluator (spec/benchmark.md §2 and §5).

:func:`run_program` runs the bytecode of :mod:`envs.minigrid.bytecode` on every instance of a
task, with the task's reward rule selected by an integer id. It reproduces, operation for
operation, what :class:`envs.minigrid.executor.CompiledProgram` does on minigrid's world:
minigrid's step rules for the objects of these tasks, the worlds' reward overrides
(:mod:`envs.minigrid.worlds`), the call budget, the unchanged-state penalty, the call-free step
cap and the WHILE memories.

World model. A cell holds an object id or -1 (empty); object ids index per-instance tables of
type, colour, door open/locked state and current cell. Walls, lava and goals never change; the
*dynamic* objects (doors and anything that can be picked up) are listed per instance, and the
state key of the WHILE memories is the agent's cell and direction plus, for each dynamic object,
its cell (or "not in the grid") and its door bits. Within an episode only dynamic objects move
or change, and no two of them look alike in these tasks (one door per colour; one ball, one
box), so two states have equal keys exactly when minigrid's grid encoding, agent position and
direction are equal: the rule the reference hashes (what ``MinigridWorld.state_key`` compares).

WHILE memories are an open-addressing table of (key, node) entries valid for one episode (epoch
stamps, so nothing is cleared between episodes). Keys are exact integers, not hashes.

Like the Karel kernel, everything the kernel calls lives in this one module: numba's on-disk
cache notices only changes to the defining file of a cached function.
"""

from __future__ import annotations

from numba import njit

# Task ids.
LAVA_GAP, PUT_NEAR, RED_BLUE_DOOR = 0, 1, 2

# Object types and actions (minigrid's indices; see envs.minigrid.bytecode).
T_FLOOR, T_DOOR, T_KEY, T_BALL, T_BOX, T_GOAL, T_LAVA = 3, 4, 5, 6, 7, 8, 9
A_LEFT, A_RIGHT, A_FORWARD, A_PICKUP, A_DROP, A_TOGGLE = 0, 1, 2, 3, 4, 5

# Entries of ``cfg``.
CFG_TASK, CFG_W, CFG_MAX_CALLS, CFG_MAX_FREE, CFG_MAX_STEPS, CFG_CRASHABLE = 0, 1, 2, 3, 4, 5
CFG_CHECK_UNCHANGED, CFG_N_WHILE = 6, 7
N_CFG = 8

# Per-instance parameters (columns of ``params``).
P_MOVE_TYPE, P_MOVE_COLOR, P_TARGET_X, P_TARGET_Y, P_RED, P_BLUE = 0, 1, 2, 3, 4, 5
N_PARAMS = 6

# Opcodes (envs.minigrid.bytecode).
_HALT, _ACT, _JMP, _JNP, _JP, _WCHECK, _RSET, _RDEC = 0, 1, 2, 3, 4, 5, 6, 7
_PERC, _NOT, _CONST, _JF, _JT = 8, 9, 10, 11, 12

_DX = (1, 0, -1, 0)
_DY = (0, 1, 0, -1)


@njit(cache=True, _nrt=False, inline="always")
def _overlap(o, otype, oopen):
    t = otype[o]
    return t == T_GOAL or t == T_LAVA or t == T_FLOOR or (t == T_DOOR and oopen[o] != 0)


@njit(cache=True, _nrt=False, inline="always")
def _key(x, y, d, w, ncell, dyn, oopen, olocked, opos):
    k = (y * w + x) * 4 + d
    for j in range(dyn.shape[0]):
        o = dyn[j]
        if o < 0:
            break
        k = (k * (ncell + 1) + opos[o] + 1) * 4 + oopen[o] * 2 + olocked[o]
    return k


@njit(cache=True, _nrt=False, inline="always")
def _perceive(q, x, y, d, w, cell, otype, ocolor, oopen, carrying):
    kind = q >> 6
    arg = q & 63
    if kind == 3:
        return carrying >= 0
    o = cell[(y + _DY[d]) * w + x + _DX[d]]
    if kind == 0:
        return o < 0 or _overlap(o, otype, oopen)
    if o < 0:
        return False
    if kind == 1:
        return otype[o] == arg
    return ocolor[o] == arg


@njit(cache=True, _nrt=False, inline="always")
def _seen(key, stamp, tkey, tstamp):
    # Open addressing, linear probing; entries of older episodes carry older stamps.
    mask = tkey.shape[0] - 1
    h = ((key * -7046029254386353131) ^ (key >> 29)) & mask
    while tstamp[h] == stamp:
        if tkey[h] == key:
            return True
        h = (h + 1) & mask
    tstamp[h] = stamp
    tkey[h] = key
    return False


@njit(cache=True, _nrt=False, nogil=True)
def run_program(
    code, out, calls_out, cfg, penalty, cell0, otype0, ocolor0, oopen0, olocked0, opos0, dyn,
    agent0, params, cell, oopen, olocked, opos, rep, tkey, tstamp, meta,
):  # fmt: skip
    """Run ``code`` on every instance; write each return to ``out`` and its calls to ``calls_out``.

    ``meta[0]`` is the epoch of the WHILE table; it grows by one per episode.
    """
    task = cfg[CFG_TASK]
    w = cfg[CFG_W]
    max_calls = cfg[CFG_MAX_CALLS]
    max_free = cfg[CFG_MAX_FREE]
    max_steps = cfg[CFG_MAX_STEPS]
    crashable = cfg[CFG_CRASHABLE] != 0
    check_unchanged = cfg[CFG_CHECK_UNCHANGED] != 0
    n_while = cfg[CFG_N_WHILE]
    ncell = cell0.shape[1]
    for i in range(cell0.shape[0]):
        for c in range(ncell):
            cell[c] = cell0[i, c]
        for o in range(oopen.shape[0]):
            oopen[o] = oopen0[i, o]
            olocked[o] = olocked0[i, o]
            opos[o] = opos0[i, o]
        dyni = dyn[i]
        otype = otype0[i]
        ocolor = ocolor0[i]
        pi = params[i]
        x, y, d = agent0[i, 0], agent0[i, 1], agent0[i, 2]
        carrying = -1
        steps = 0
        given = False  # the task's once-only reward (first red door, first ball pickup)
        calls = 0
        free = 0
        total = 0.0
        flag = False
        meta[0] += 1
        stamp = meta[0]
        pc = 0
        while True:
            op = code[pc]
            if op == _ACT:
                a = code[pc + 1]
                pc += 2
                calls += 1
                before = 0
                if check_unchanged:
                    before = _key(x, y, d, w, ncell, dyni, oopen, olocked, opos)
                steps += 1
                reward = 0.0
                term = False
                carried_before = carrying
                red_before = False
                blue_before = False
                if task == RED_BLUE_DOOR:
                    red_before = oopen[pi[P_RED]] != 0
                    blue_before = oopen[pi[P_BLUE]] != 0
                if a == A_LEFT:
                    d = (d + 3) % 4
                elif a == A_RIGHT:
                    d = (d + 1) % 4
                else:
                    fx = x + _DX[d]
                    fy = y + _DY[d]
                    fi = fy * w + fx
                    o = cell[fi]
                    if a == A_FORWARD:
                        if o < 0 or _overlap(o, otype, oopen):
                            x = fx
                            y = fy
                        if o >= 0 and otype[o] == T_GOAL:
                            reward = 1 - 0.9 * (steps / max_steps)
                            term = True
                        else:
                            term = o >= 0 and otype[o] == T_LAVA
                    elif a == A_PICKUP:
                        t = otype[o] if o >= 0 else -1
                        if (t == T_BALL or t == T_BOX or t == T_KEY) and carrying < 0:
                            carrying = o
                            cell[fi] = -1
                            opos[o] = -1
                    elif a == A_DROP:
                        if o < 0 and carrying >= 0:
                            cell[fi] = carrying
                            opos[carrying] = fi
                            carrying = -1
                    elif o >= 0:  # toggle
                        t = otype[o]
                        if t == T_DOOR:
                            if olocked[o] != 0:
                                if (
                                    carrying >= 0
                                    and otype[carrying] == T_KEY
                                    and ocolor[carrying] == ocolor[o]
                                ):
                                    olocked[o] = 0
                                    oopen[o] = 1
                            else:
                                oopen[o] = 1 - oopen[o]
                        elif t == T_BOX:  # replaced by its contents (checked to be none)
                            cell[fi] = -1
                            opos[o] = -1
                if task == LAVA_GAP:
                    if term:
                        reward = -1.0 if reward == 0 else 1.0
                elif task == RED_BLUE_DOOR:
                    reward = 0.0
                    if oopen[pi[P_BLUE]] != 0:
                        reward = 0.5 if red_before else -1.0
                        term = True
                    elif oopen[pi[P_RED]] != 0:
                        if blue_before:
                            reward = -1.0
                            term = True
                        elif not red_before and not given:
                            reward = 0.5
                            given = True
                else:
                    reward = 0.0
                    if a == A_PICKUP and carrying >= 0:
                        if (
                            otype[carrying] != pi[P_MOVE_TYPE]
                            or ocolor[carrying] != pi[P_MOVE_COLOR]
                        ):
                            reward = -1.0
                            term = True
                        elif not given:
                            reward = 0.5
                            given = True
                    if a == A_DROP and carried_before >= 0:
                        fx = x + _DX[d]
                        fy = y + _DY[d]
                        if cell[fy * w + fx] == carried_before:
                            if abs(fx - pi[P_TARGET_X]) <= 1 and abs(fy - pi[P_TARGET_Y]) <= 1:
                                reward = 0.5
                        term = True
                crash = False
                if check_unchanged:
                    if _key(x, y, d, w, ncell, dyni, oopen, olocked, opos) == before:
                        reward += penalty
                        crash = crashable
                total += reward
                if term or crash or calls >= max_calls:
                    break
            elif op == _JNP or op == _JP or op == _PERC:
                calls += 1
                v = _perceive(code[pc + 1], x, y, d, w, cell, otype, ocolor, oopen, carrying)
                if calls >= max_calls:
                    break
                if op == _PERC:
                    flag = v
                    pc += 2
                elif v == (op == _JP):
                    pc = code[pc + 2]
                else:
                    pc += 3
            elif op == _WCHECK:
                k = _key(x, y, d, w, ncell, dyni, oopen, olocked, opos) * n_while + code[pc + 1]
                if _seen(k, stamp, tkey, tstamp):
                    break
                pc += 2
            elif op == _JMP:
                pc = code[pc + 1]
            elif op == _RDEC:
                s = code[pc + 1]
                if rep[s] == 0:
                    pc = code[pc + 2]
                else:
                    rep[s] -= 1
                    free += 1
                    if free > max_free:
                        break
                    pc += 3
            elif op == _RSET:
                free += 1
                if free > max_free:
                    break
                rep[code[pc + 1]] = code[pc + 2]
                pc += 3
            elif op == _JF:
                pc = code[pc + 1] if not flag else pc + 2
            elif op == _JT:
                pc = code[pc + 1] if flag else pc + 2
            elif op == _NOT:
                flag = not flag
                pc += 1
            elif op == _CONST:
                free += 1
                if free > max_free:
                    break
                flag = code[pc + 1] != 0
                pc += 2
            else:  # _HALT
                break
        out[i] = total
        calls_out[i] = calls
