"""A fast, exact reader for *regular* LVIS result files, with numpy: no Python object per result.

A result file is regular when every result is laid out exactly like the first one, byte for byte apart from the
numbers and the RLE ``counts`` string: the same keys in the same order with the same whitespace, between results the
same separator. That is what every ``json.dump`` of a list of flat result dicts writes (mmdet, detectron2, the
benchmark): keys among ``image_id``, ``category_id``, ``bbox`` (4 numbers), ``score`` and ``segmentation`` (a
compressed RLE: ``size`` and ``counts``). Such a file is read in chunks split between two results; in each chunk the
text with the numbers and the counts taken out must be the first result's repeated, every number must sit where the
first result has one and follow the JSON number grammar (checked, for all numbers at once, by where their
characters other than digits stand: '.', 'e' / 'E', '+' and '-'). The chunks are parsed by two threads where the
machine has two cores (``EVAL_THREADS``; numpy releases the GIL for most of the work) and appended in file order.

The values are the ones ``json`` gives: integers exactly; a decimal whose digits make an integer below 2 ** 53 as
that integer divided by a power of ten (both exact doubles, so the division is correctly rounded, like Python's
``float``); one below 10 ** 18 the same division in x87 long double (64-bit significand) rounded to double, right
unless the long double quotient is exactly a midpoint between two doubles; any other number (an exponent, more
digits, a midpoint, no x87) by numpy's string-to-float cast, which is correctly rounded too. A JSON integer ``-0``
is 0, not -0.0 (json gives ``int``). The counts strings must be printable ASCII, ``\\\\`` their only escape.

Anything else (another key, a nested or unusual value, a polygon or an uncompressed RLE, other whitespace in some
result, a non-ASCII or escaped character, a number that is no JSON number, an empty list) makes
:func:`read_regular_results` return None, and the caller parses the file with the exact ``json`` path, which also
names any error.
"""
import json
import os
import re
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, BinaryIO, Deque, Dict, List, Optional, Tuple, Union

import numpy as np

NUMBER_CHARS = b'0123456789.-+eE'
_NUMBER_MASK = bytes(c in NUMBER_CHARS for c in range(256))
_WHITESPACE = b' \t\n\r'  # JSON's whitespace (bytes.strip() would also take \x0b and \x0c)
_SEPARATOR = re.compile(rb'[ \t\n\r]*,[ \t\n\r]*')
_KEYS = ('image_id', 'category_id', 'bbox', 'score', 'segmentation')

_SPECIAL_MASK = bytes(c in b'.-+eE' for c in range(256))  # the number characters other than digits
_IS_DIGIT = np.zeros(256, bool)
_IS_DIGIT[ord('0'):ord('9') + 1] = True
_DIGIT_VALUE = np.where(_IS_DIGIT, np.arange(256) - 48, 0).astype(np.uint8)
_PAD = 32  # zero bytes before and after the text, so that a window of up to 20 bytes around any run is inside
_POW10 = np.array([float(10 ** k) for k in range(23)])  # exact doubles
_POW10_INT = np.array([10 ** k for k in range(19)], np.int64)
_POW10_LONG = _POW10_INT.astype(np.longdouble)  # exact (int64 to a 64-bit significand)
_EXTENDED = np.longdouble(1) + np.longdouble(2.0 ** -63) != 1  # x87 long double (Linux, x86); else string casts
# the threads of the LVIS evaluator (this reader, the matching, the accumulation): two where there are two cores
EVAL_THREADS = min(2, len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count() or 1)


def _extended_quotient(mantissa: np.ndarray, decimals: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """``mantissa / 10 ** decimals`` (mantissa < 10 ** 18, decimals <= 18) correctly rounded, through
    the 64-bit significand of x87 long double: the quotient rounded there, then to double, is the correctly rounded
    double unless the first rounding lands exactly on a midpoint between two doubles (a double rounding could go the
    wrong way only then). Returns the quotients and where they are right (the others need the string cast)."""
    quotient = mantissa.astype(np.longdouble) / _POW10_LONG[decimals]
    value = quotient.astype(np.float64)
    low, high = (np.nextafter(value, side).astype(np.longdouble) for side in (-np.inf, np.inf))
    near = value.astype(np.longdouble)
    midpoint = (quotient == (near + low) / 2) | (quotient == (near + high) / 2)
    return value, ~midpoint


class _Template:
    """The layout of the first result (and the separator after it): the text between the numbers, which numbers
    are values of which field and which are letters of a key ('e' of 'score' is a number character)."""

    def __init__(self, unit: bytes, obj: dict, counts_pair: Optional[int], quotes: int) -> None:
        self.unit, self.quotes, self.counts_pair = unit, quotes, counts_pair
        rest = _without_counts_text(unit, counts_pair)
        starts, ends = _runs(rest)
        self.skeleton = rest.translate(None, NUMBER_CHARS)
        lens = ends - starts
        self.skeleton_pos = starts - (np.cumsum(lens) - lens)
        quote_pos = [i for i, c in enumerate(rest) if c == 34]
        in_key = np.zeros(len(starts), bool)
        for open_, close in zip(quote_pos[0::2], quote_pos[1::2]):
            in_key |= (starts > open_) & (starts < close)
        self.literal = np.flatnonzero(in_key)
        self.literal_text = [rest[starts[i]:ends[i]] for i in self.literal]
        self.is_value = ~in_key
        values = np.flatnonzero(~in_key)
        fields = []  # the field of each value number, in text order
        for key, value in obj.items():
            if key == 'bbox':
                fields += [f'bbox{i}' for i in range(4)]
            elif key == 'segmentation':
                fields += [f'size{i}' for k in value if k == 'size' for i in range(2)]
            else:
                fields.append(key)
        self.field = dict(zip(fields, values)) if len(fields) == len(values) else None


def _without_counts_text(unit: bytes, counts_pair: Optional[int]) -> bytes:
    if counts_pair is None:
        return unit
    quote_pos = [i for i, c in enumerate(unit) if c == 34]
    return unit[:quote_pos[2 * counts_pair] + 1] + unit[quote_pos[2 * counts_pair + 1]:]


def _runs(text: bytes) -> Tuple[np.ndarray, np.ndarray]:
    """Start and end offsets of the maximal runs of number characters (``text`` starts and ends with another)."""
    flags = np.frombuffer(text.translate(_NUMBER_MASK), bool)
    edges = np.flatnonzero(flags[1:] != flags[:-1]) + 1
    return edges[0::2], edges[1::2]


def _plain(value: Any, kind: type) -> bool:
    return isinstance(value, kind) and not isinstance(value, bool)


_MORE = 'more'  # _make_template: the first result and the start of the next are not all in the text yet


def _make_template(head: bytes, iou_type: str, final: bool) -> Union[_Template, None, str]:
    """The template of the first result of ``head`` (the text after the list's '['); None when it is not a regular
    result followed by a separator and another result, ``_MORE`` when that cannot be told yet (not ``final``)."""
    obj = end = None
    for size in (1 << 12, 1 << 16, len(head)):  # the first result is short: do not decode the whole chunk
        try:  # a non-ASCII character is never in a regular file, and it is found in the checks below
            obj, end = json.JSONDecoder().raw_decode(head[:size].decode('ascii', errors='replace'))
            break
        except ValueError:
            if size >= len(head):
                return None if final or len(head) > 1 << 26 else _MORE
    if not isinstance(obj, dict) or not set(obj) <= set(_KEYS) or not {'image_id', 'category_id', 'score'} <= set(obj):
        return None
    if not (_plain(obj['image_id'], int) and _plain(obj['category_id'], int)
            and _plain(obj['score'], (int, float))):
        return None
    if 'bbox' in obj and not (isinstance(obj['bbox'], list) and len(obj['bbox']) == 4
                              and all(_plain(v, (int, float)) for v in obj['bbox'])):
        return None
    segm = obj.get('segmentation')
    if 'segmentation' in obj and not (isinstance(segm, dict) and set(segm) == {'size', 'counts'}
                                      and isinstance(segm['counts'], str) and isinstance(segm['size'], list)
                                      and len(segm['size']) == 2 and all(_plain(v, int) for v in segm['size'])):
        return None
    if (iou_type == 'segm' or 'bbox' not in obj) and segm is None:
        return None  # masks are needed and missing: the json path reports it
    sep = _SEPARATOR.match(head, end)
    if sep is None or head[sep.end():sep.end() + 1] != b'{':
        return _MORE if not final and not head[end:].strip(_WHITESPACE + b',') else None
    unit = head[:sep.end()]
    keys = len(obj) + (2 if segm is not None else 0)
    quotes = unit.count(b'"')
    pairs = [unit[i + 1:j] for i, j in zip(*[iter([k for k, c in enumerate(unit) if c == 34])] * 2)]
    counts_pair = None
    if segm is not None:
        counts_pair = next((i + 1 for i, p in enumerate(pairs) if p == b'counts'), None)
        if counts_pair is None or counts_pair >= len(pairs):
            return None
    # every other string is a key, written plainly (no escape), each once: no duplicate key
    names = [p for i, p in enumerate(pairs) if i != counts_pair]
    if quotes != 2 * keys + (2 if segm is not None else 0) or b'\\' in _without_counts_text(unit, counts_pair) \
            or sorted(names) != sorted(k.encode() for k in list(obj) + (list(segm) if segm is not None else [])):
        return None
    template = _Template(unit, obj, counts_pair, quotes)
    return template if template.field is not None else None


def _check_numbers(text: bytes, buf: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                   value: np.ndarray) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """Check that every run ``buf[starts:ends]`` (``buf``: ``text`` as an array) with ``value`` set is a JSON
    number, by its non-digit characters alone (a run is a maximal run of number characters, so the grammar comes down
    to where '.', 'e', '+' and '-' may stand); returns each run's dot position (-1: none) and whether it has an
    exponent, or None for a bad number."""
    special = np.flatnonzero(np.frombuffer(text.translate(_SPECIAL_MASK), bool))
    run = np.searchsorted(starts, special, side='right') - 1
    keep = value[run]
    special, run = special[keep], run[keep]
    char, before, after = buf[special], buf[special - 1], buf[special + 1]
    digit_before, digit_after = _IS_DIGIT[before], _IS_DIGIT[after]
    after_e = (before == ord('e')) | (before == ord('E'))
    is_dot, is_e = char == ord('.'), (char == ord('e')) | (char == ord('E'))
    ok = np.where(char == ord('-'), ((special == starts[run]) | after_e) & digit_after,
                  np.where(char == ord('+'), after_e & digit_after,
                           np.where(is_dot, digit_before & digit_after,
                                    digit_before & (digit_after | (after == ord('-')) | (after == ord('+'))))))
    if not ok.all():
        return None
    dot_pos = np.full(len(starts), -1, np.int64)
    exp_pos = np.full(len(starts), -1, np.int64)
    dot_pos[run[is_dot]] = special[is_dot]
    exp_pos[run[is_e]] = special[is_e]
    if (np.bincount(run[is_dot], minlength=len(starts)) > 1).any() or \
            (np.bincount(run[is_e], minlength=len(starts)) > 1).any() or \
            ((exp_pos >= 0) & (dot_pos > exp_pos)).any():
        return None
    first = starts + (buf[starts] == ord('-'))  # no leading zero before another digit
    if ((buf[first] == ord('0')) & _IS_DIGIT[buf[first + 1]] & value).any():
        return None
    return dot_pos, exp_pos >= 0


def _numbers(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, dot_pos: np.ndarray, has_exp: np.ndarray,
             integer: bool) -> Optional[np.ndarray]:
    """The JSON numbers (checked by :func:`_check_numbers`) ``buf[starts:ends]`` as int64 (``integer``: each must
    be an integer of at most 18 digits, else None) or float64, exactly as ``json`` reads them."""
    lens = ends - starts
    negative = buf[starts] == ord('-')
    cells = lens - negative
    # up to 19 characters (18 digits and a dot, or '0.' and 17 digits): a mantissa below 10 ** 18 read with two
    # exact float64 dot products over the right-aligned characters, the dot read as a 0 digit and taken out after
    short = ~has_exp & ((cells < 19) | ((cells == 19) & (buf[starts + negative] == ord('0'))))
    if integer and (has_exp.any() or (dot_pos >= 0).any() or (cells > 18).any()):
        return None
    width = min(int(lens.max(initial=1)), 20)
    chars = np.lib.stride_tricks.sliding_window_view(buf, width)[ends - width]
    digits = _DIGIT_VALUE[chars]
    digits *= np.arange(width) >= width - lens[:, None]
    right = min(width, 15)
    full = (digits[:, width - right:] @ _POW10[right - 1::-1]).astype(np.int64)
    if width > right:
        full += (digits[:, :width - right] @ _POW10[width - right - 1::-1]).astype(np.int64) * 10 ** 15
    decimals = np.where(dot_pos >= 0, ends - 1 - dot_pos, 0)
    fraction = full % _POW10_INT[np.minimum(decimals, 18)]
    mantissa = np.where(dot_pos >= 0, (full - fraction) // 10 + fraction, full)
    if integer:
        return np.where(negative, -mantissa, mantissa)
    value = mantissa / _POW10[np.minimum(decimals, 22)]  # correctly rounded below 2 ** 53
    value = np.where(negative & ((dot_pos >= 0) | (mantissa != 0)), -value, value)  # json's int -0 is 0
    other = np.flatnonzero(~short | (mantissa >= 1 << 53))
    if len(other) and _EXTENDED:  # below 10 ** 18, through x87 extended precision
        long = other[short[other]]
        quotient, right_ = _extended_quotient(mantissa[long], decimals[long])
        done = long[right_]
        value[done] = np.where(negative[done], -quotient[right_], quotient[right_])
        other = np.setdiff1d(other, done)
    if len(other):  # an exponent, more digits, or a midpoint case: numpy's exact string cast
        width = int(lens[other].max())
        cols = np.arange(width)
        chars = buf[starts[other, None] + cols]
        chars[cols >= lens[other, None]] = 0
        value[other] = chars.view(f'S{width}').ravel().astype(np.float64)
    return value


def _unescape_counts(counts: np.ndarray, ends: np.ndarray) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """The counts strings (one after the other, string i ending at ``ends[i]``) as json reads them, with their new
    ends; None unless they are printable ASCII with a backslash only as ``\\\\`` (one backslash)."""
    if len(counts) and (counts.min() < 32 or counts.max() > 126):
        return None
    slashes = np.flatnonzero(counts == 92)
    if not len(slashes):
        return counts, ends
    # runs of backslashes, not across two strings: each an even number of them, every second one dropped
    string = np.searchsorted(ends, slashes, side='right')
    run_start = np.flatnonzero(np.r_[True, (np.diff(slashes) != 1) | (np.diff(string) != 0)])
    run_len = np.diff(np.r_[run_start, len(slashes)])
    if (run_len % 2).any():
        return None
    drop = slashes[(np.arange(len(slashes)) - np.repeat(run_start, run_len)) % 2 == 1]
    keep = np.ones(len(counts), bool)
    keep[drop] = False
    return counts[keep], ends - np.searchsorted(drop, ends, side='left')


class _Chunks:
    """The columns read so far."""

    def __init__(self, template: _Template, keep_masks: bool) -> None:
        self.t = template
        self.fields: Dict[str, List[np.ndarray]] = {name: [] for name in template.field}
        self.keep_masks = keep_masks and template.counts_pair is not None
        self.counts = bytearray()
        self.ends: List[np.ndarray] = []

    def parse(self, body: bytes) -> Optional[Tuple[Dict[str, np.ndarray], Optional[np.ndarray], Optional[np.ndarray]]]:
        """The columns of ``body`` (whole results, each followed by the separator) and, when masks are kept, its
        counts strings (one after the other) and their ends; None when it is not regular. Reads only the template,
        so chunks can be parsed in parallel threads (numpy releases the GIL in most of it) and appended in order."""
        t = self.t
        counts_text = None
        if t.counts_pair is not None:
            text = np.frombuffer(body, np.uint8)
            quotes = np.flatnonzero(text == 34)
            if len(quotes) % t.quotes:
                return None
            quotes = quotes.reshape(-1, t.quotes)
            first, last = quotes[:, 2 * t.counts_pair] + 1, quotes[:, 2 * t.counts_pair + 1]
            # keep the text outside the counts strings, and the counts strings one after the other
            bounds = np.column_stack([first, last]).ravel()
            lengths = np.diff(np.r_[0, bounds, len(text)])
            outside = np.repeat(np.r_[np.tile([True, False], len(first)), True], lengths)
            rest = text[outside].tobytes()
            checked = _unescape_counts(text[~outside], np.cumsum(last - first))
            if checked is None:
                return None
            counts_text, ends = checked
        else:
            rest = body
        starts, run_ends = _runs(rest)
        per_unit = len(t.skeleton_pos)
        if len(starts) % per_unit:
            return None
        n = len(starts) // per_unit
        if rest.translate(None, NUMBER_CHARS) != t.skeleton * n:
            return None
        lens = run_ends - starts
        skeleton_pos = starts - (np.cumsum(lens) - lens)
        expected = np.arange(n)[:, None] * len(t.skeleton) + t.skeleton_pos
        if not np.array_equal(skeleton_pos, expected.ravel()):
            return None
        starts, lens = starts.reshape(n, per_unit), lens.reshape(n, per_unit)
        padded = bytes(_PAD) + rest + bytes(max(_PAD, int(lens.max()) + 1))
        buf = np.frombuffer(padded, np.uint8)
        starts = starts + _PAD
        for i, literal in zip(t.literal, t.literal_text):
            if not (lens[:, i] == len(literal)).all():
                return None
            if any((buf[starts[:, i] + k] != c).any() for k, c in enumerate(literal)):
                return None
        checked = _check_numbers(padded, buf, starts.ravel(), (starts + lens).ravel(), np.tile(t.is_value, n))
        if checked is None:
            return None
        dot_pos, has_exp = (x.reshape(n, per_unit) for x in checked)
        parsed = {}
        for name, i in t.field.items():
            value = _numbers(buf, starts[:, i], starts[:, i] + lens[:, i], dot_pos[:, i], has_exp[:, i],
                             name in ('image_id', 'category_id', 'size0', 'size1'))
            if value is None:
                return None
            parsed[name] = value
        return (parsed, counts_text, ends) if self.keep_masks else (parsed, None, None)

    def append(self, parsed: Tuple[Dict[str, np.ndarray], Optional[np.ndarray], Optional[np.ndarray]]) -> None:
        """Append what :meth:`parse` returned for the next chunk."""
        fields, counts_text, ends = parsed
        for name, value in fields.items():
            self.fields[name].append(value)
        if self.keep_masks:
            self.ends.append(ends + len(self.counts))
            self.counts += counts_text.tobytes()

    def columns(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray, Optional[np.ndarray], Optional[Any]]:
        def column(name: str, dtype: Any) -> np.ndarray:
            parts = self.fields[name]
            return np.concatenate(parts) if parts else np.zeros(0, dtype)

        boxes = None
        if 'bbox0' in self.fields:
            boxes = np.stack([column(f'bbox{i}', np.float64) for i in range(4)], 1)
        masks = None
        if self.keep_masks:
            sizes = np.stack([column('size0', np.int64), column('size1', np.int64)], 1)
            masks = self.counts, np.concatenate(self.ends), sizes
        return column('image_id', np.int64), column('category_id', np.int64), column('score', np.float64), boxes, \
            masks


def read_regular_results(f: BinaryIO, iou_type: str, chunk_bytes: int, threads: int = EVAL_THREADS) -> Optional[tuple]:
    """The columns of the result file ``f`` (binary) as ``read_result_columns`` returns them, read
    ``chunk_bytes`` at a time and parsed by up to ``threads`` threads (the chunks' columns appended in file order;
    at most ``threads`` chunks parsed at once, so memory stays bounded); None when the file is not regular (see the
    module docstring)."""
    with ThreadPoolExecutor(max(1, threads)) as pool:
        return _read_regular_results(f, iou_type, chunk_bytes, pool, max(1, threads))


def _read_regular_results(f: BinaryIO, iou_type: str, chunk_bytes: int, pool: ThreadPoolExecutor,
                          threads: int) -> Optional[tuple]:
    pending = f.read(chunk_bytes).lstrip(_WHITESPACE)
    if not pending.startswith(b'['):
        return None
    pending = pending[1:].lstrip(_WHITESPACE)
    template = None
    eof = False
    chunks = None
    running: Deque[Future] = deque()

    def collect(until: int) -> bool:
        """Append the oldest parsed chunks until at most ``until`` are running; False when one was not regular."""
        while len(running) > until:
            parsed = running.popleft().result()
            if parsed is None:
                for future in running:
                    future.cancel()
                return False
            chunks.append(parsed)
        return True

    while not eof:
        block = f.read(chunk_bytes)
        eof = not block
        pending += block
        if template is None:
            template = _make_template(pending, iou_type, eof)
            if template is None:
                return None
            if template is _MORE:
                template = None
                continue
            keep_masks = iou_type == 'segm' or template.field.get('bbox0') is None
            chunks = _Chunks(template, keep_masks)
            boundary = b'}' + template.unit[template.unit.rindex(b'}') + 1:] + b'{'
        if eof:
            text = pending.rstrip(_WHITESPACE)
            if not text.endswith(b']'):
                return None
            body, pending = text[:-1].rstrip(_WHITESPACE) + template.unit[template.unit.rindex(b'}') + 1:], b''
            if not body.endswith(b'}' + template.unit[template.unit.rindex(b'}') + 1:]):
                return None
        else:
            split = pending.rfind(boundary)
            if split < 0:
                continue
            body, pending = pending[:split + len(boundary) - 1], pending[split + len(boundary) - 1:]
        if body:
            running.append(pool.submit(chunks.parse, body))
            if not collect(threads - 1):
                return None
    if chunks is None or not collect(0):
        return None
    return chunks.columns()
