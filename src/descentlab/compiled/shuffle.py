"""The course's shuffle, ``np.random.seed(seed); np.random.permutation(m)``, as compiled code.

``legacy_permutation`` reproduces numpy's legacy ``RandomState(seed).permutation(m)`` bit for
bit (integers only, so on every CPU): MT19937 seeded by Knuth's initialisation (numpy's
``mt19937_seed`` for an integer seed), then the Fisher-Yates shuffle of ``arange(m)`` that
``RandomState.shuffle`` runs, each index j drawn for i = m - 1 .. 1 by numpy's
``random_interval(i)``: the next 32-bit output masked to the smallest all-ones mask >= i,
redrawn while it exceeds i. ``train_epochs`` calls it so that a block of epochs shuffles
without a Python call per epoch (numpy's reseeding alone costs tens of microseconds).

Every value is held as uint64 and masked to 32 bits where the C code relies on uint32
wrap-around: numba promotes a mix of signed and unsigned integers to float.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

STATE_WORDS = 624
_SHIFT = 397
_LOW_32 = uint64(0xFFFFFFFF)
_MATRIX_A = uint64(0x9908B0DF)
_UPPER = uint64(0x80000000)
_LOWER = uint64(0x7FFFFFFF)


@njit(cache=True, inline="always")
def _twist(key: np.ndarray, i: int, following: int, shifted: int) -> None:
    y = (key[i] & _UPPER) | (key[following] & _LOWER)
    mixed = key[shifted] ^ (y >> uint64(1))
    key[i] = mixed ^ _MATRIX_A if y & uint64(1) else mixed


@njit(cache=True)
def _regenerate(key: np.ndarray) -> None:
    """The next 624 words of the state (numpy's ``mt19937_gen``)."""
    for i in range(STATE_WORDS - _SHIFT):
        _twist(key, i, i + 1, i + _SHIFT)
    for i in range(STATE_WORDS - _SHIFT, STATE_WORDS - 1):
        _twist(key, i, i + 1, i + _SHIFT - STATE_WORDS)
    _twist(key, STATE_WORDS - 1, 0, _SHIFT - 1)


@njit(cache=True)
def _seed(key: np.ndarray, seed: int) -> None:
    """numpy's ``mt19937_seed``: Knuth's initialisation of the state from a 32-bit seed."""
    value = uint64(seed) & _LOW_32
    for position in range(STATE_WORDS):
        key[position] = value
        value = (uint64(1812433253) * (value ^ (value >> uint64(30))) + uint64(position + 1)) & (
            _LOW_32
        )


@njit(cache=True)
def legacy_permutation(seed: int, out: np.ndarray) -> None:
    """Fill ``out`` (int64, length m) with ``np.random.RandomState(seed).permutation(m)``.

    ``seed`` must be in [0, 2**32) and m at most 2**32 (``random_interval``'s 32-bit path).
    """
    key = np.empty(STATE_WORDS, np.uint64)
    _seed(key, seed)
    position = STATE_WORDS
    m = out.shape[0]
    for i in range(m):
        out[i] = i
    for i in range(m - 1, 0, -1):
        mask = uint64(i)
        for shift in (1, 2, 4, 8, 16):
            mask |= mask >> uint64(shift)
        while True:
            if position == STATE_WORDS:
                _regenerate(key)
                position = 0
            y = key[position]
            position += 1
            # numpy's tempering of the output word
            y ^= y >> uint64(11)
            y ^= (y << uint64(7)) & uint64(0x9D2C5680)
            y ^= (y << uint64(15)) & uint64(0xEFC60000)
            y ^= y >> uint64(18)
            j = y & mask
            if j <= uint64(i):
                break
        other = int(j)
        out[i], out[other] = out[other], out[i]
