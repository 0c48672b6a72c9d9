// The Python harness that runs a candidate on every test case of a row (LiveCodeBench, APPS, CodeContests) in ONE
// sandboxed program: one interpreter start per row instead of one per case. Its rules are LiveCodeBench's
// (LiveCodeBench/LiveCodeBench, lcb_runner/evaluation/testing_util.py: grade_stdio, grade_call_based, run_test):
// - LCB's `import_string` prelude before the candidate's code;
// - stdin: the output and the expected output are each stripped, split on "\n", each line stripped; the line
//   counts must match; a line matches exactly or else as whitespace-separated Decimal tokens that are equal;
//   SystemExit ends a case normally, any other exception fails it;
// - functional: the code is executed once; `Solution()` is made once when the code has "class Solution" (else the
//   function is looked up in the module); each case calls it with `json.loads` of each input line; a tuple result
//   becomes a list, and the result must `==` json.loads(output);
// - a time limit per case (LCB's 6 s, by SIGALRM as LCB does, re-fired every 0.1 s), and the first failing case
//   is the verdict.
// Where LCB's in-process mocks differ from running `python3 prog.py < input` (its stdin.readline drops newlines and
// raises StopIteration at the end, stdout has no .buffer, the code is wrapped in a function so `global` breaks), the
// harness gives the program a real-looking stdin and stdout instead: a program LCB fails only through those mocks
// passes here. Reading past the input sees EOF.
//
// The expected outputs never enter a sandbox that runs candidate code. Code in the harness's interpreter can read
// and rewrite anything there (walk up the frames, patch the comparison), so a verdict made inside could be forged.
// Instead each output is reduced to a digest of a canonical text that is equal exactly when LCB's comparison says
// equal (_canon_stdout, _canon_value), and the caller compares those digests with the gold's, which the same code
// computes in a separate run on the gold alone (`expected_only`). To forge a pass a program must produce the right
// outputs, which is what the check measures. The cost: the harness cannot stop at the first wrong answer, only at
// the first error or timeout; the verdict still names the first failing case, as LCB's does.
// The report is one line, `<nonce> <json>`, printed last; the caller takes it only when the program finished normally
// (the sandbox keeps 8 KB of output, so it stays a few KB). The candidate's stdout and stderr are captured per case,
// bounded (printing too much fails the case), so its prints never reach the real stdout.

/** LCB's `import_string`, verbatim (testing_util.py). */
const IMPORT_STRING = [
  'from string import *', 'from re import *', 'from datetime import *', 'from collections import *', 'from heapq import *',
  'from bisect import *', 'from copy import *', 'from math import *', 'from random import *', 'from statistics import *',
  'from itertools import *', 'from functools import *', 'from operator import *', 'from io import *', 'from sys import *',
  'from json import *', 'from builtins import *', 'from typing import *', 'import string', 'import re', 'import datetime',
  'import collections', 'import heapq', 'import bisect', 'import copy', 'import math', 'import random', 'import statistics',
  'import itertools', 'import functools', 'import operator', 'import io', 'import sys', 'import json',
  'sys.setrecursionlimit(50000)',
].join('\n') + '\n';

/** Hex digits of each output's digest: 48 bits, so that 100 cases still make a report of a few KB. */
export const DIGEST_HEX = 12;
/** Characters of output preview in a report, over all cases. */
const PREVIEW_BUDGET = 800;

export const HARNESS = String.raw`
import builtins, hashlib, io, json, os, signal, sys, threading, time, traceback, types
from decimal import Decimal

_IMPORT_STRING = ${JSON.stringify(IMPORT_STRING)}
_DIGEST_HEX = ${DIGEST_HEX}
_PREVIEW_BUDGET = ${PREVIEW_BUDGET}
_write, _real_open = os.write, builtins.open
_stdin, _stdout, _stderr = sys.stdin, sys.stdout, sys.stderr
_state = {'timed_out': False, 'too_much': False, 'offset': 0, 'preview': 0}


class _Timeout(BaseException):
    pass


class _TooMuch(BaseException):
    pass


def _on_alarm(signum, frame):
    _state['timed_out'] = True
    raise _Timeout()


class _Sink(io.RawIOBase):
    # Bounded: past the cap every write raises, and the case fails for printing too much (sticky: a candidate that
    # swallows the exception still fails).
    def __init__(self, cap):
        self.data, self.cap = bytearray(), cap

    def writable(self):
        return True

    def write(self, b):
        if len(self.data) + len(b) > self.cap:
            _state['too_much'] = True
            raise _TooMuch()
        self.data += b
        return len(b)


def _text_out(cap):
    sink = _Sink(cap)
    return sink, io.TextIOWrapper(io.BufferedWriter(sink), encoding='utf-8', errors='replace', newline='\n')


def _text_in(text):
    return io.TextIOWrapper(io.BytesIO(text.encode('utf-8')), encoding='utf-8', newline='\n')


def _cut(value, length=200):
    s = value if isinstance(value, str) else repr(value)
    return s if len(s) <= length else s[: length // 2] + '...(cut)...' + s[-length // 2 :]


def _where(tb):
    line = None
    for frame, lineno in traceback.walk_tb(tb):
        if frame.f_code.co_filename == '<candidate>':
            line = lineno - _state['offset']
    return line


def _error(e):
    return {'kind': 'error', 'detail': _cut(repr(e)), 'line': _where(e.__traceback__)}


def _arm(seconds):
    _state['timed_out'] = False
    # Re-fires every 0.1 s after the first: a candidate that catches the first alarm gets the next.
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.1)


def _disarm():
    signal.setitimer(signal.ITIMER_REAL, 0)


def _stripped_lines(value):
    # grade_stdio's get_stripped_lines.
    return [line.strip() for line in value.strip().split('\n')]


def _decimal_text(d):
    # Exact: equal Decimals give equal text (1.0 and 1.00, -0 and 0); normalize() would round to 28 digits.
    if d.is_infinite():
        return '-inf' if d.is_signed() else '+inf'
    if d.is_zero():
        return '0'
    sign, digits, exponent = d.as_tuple()
    digits = list(digits)
    while digits and digits[-1] == 0:
        digits.pop()
        exponent += 1
    while digits and digits[0] == 0:
        digits.pop(0)
    return '%s%se%d' % ('-' if sign else '', ''.join(map(str, digits)), exponent)


def _canon_stdout(text):
    # Two outputs get the same text exactly when grade_stdio calls them equal: as many stripped lines, each equal
    # as text or else as Decimal tokens. A line with a NaN token matches only as text (NaN != NaN).
    lines = []
    for line in _stripped_lines(text):
        try:
            tokens = [Decimal(token) for token in line.split()]
        except Exception:
            tokens = None
        if tokens is not None and not any(token.is_nan() for token in tokens):
            lines.append('D' + ' '.join(_decimal_text(token) for token in tokens))
        else:
            lines.append('S' + line)
    return '\n'.join(lines)


def _never():
    # Equal to nothing: what cannot == a JSON value (NaN, a tuple inside, a set, an object of the candidate's class).
    return '?' + os.urandom(8).hex()


def _canon_value(value):
    # Two values get the same text exactly when Python's == holds between plain data and a JSON value: numbers by
    # value (True == 1 == 1.0), lists in order, dicts by key; anything else (an object whose __eq__ says yes to
    # everything included) equals nothing.
    kind = type(value)
    if value is None:
        return 'N'
    if kind is bool or kind is int:
        return 'I%d' % value
    if kind is float:
        if value != value:
            return _never()
        if value in (float('inf'), float('-inf')):
            return 'F%s' % value
        return 'I%d' % int(value) if value.is_integer() else 'F' + value.hex()
    if kind is str:
        return 'S' + json.dumps(value)
    if kind is list:
        return 'L[' + ','.join(_canon_value(item) for item in value) + ']'
    if kind is dict:
        if any(type(key) is not str for key in value):
            return _never()
        return 'D{' + ','.join(json.dumps(key) + ':' + _canon_value(value[key]) for key in sorted(value)) + '}'
    return _never()


def _digest(text):
    return hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:_DIGEST_HEX]


def _join_threads(deadline):
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))


def _capture(cap):
    out_sink, out = _text_out(cap)
    err_sink, err = _text_out(cap)
    return out_sink, out, err_sink, err


def _finish_output(out, err):
    for stream in (out, err):
        try:
            stream.flush()
        except BaseException:
            pass


def _stdin_case(code, text, seconds, cap):
    out_sink, out, _err_sink, err = _capture(cap)
    stdin = _text_in(text)

    def fake_open(file, *args, **kwargs):
        # open(0) and /dev/stdin read the case's input, as they would read a real stdin (LCB mocks open as well).
        if file == 0 or file == '/dev/stdin':
            return _text_in(text)
        return _real_open(file, *args, **kwargs)

    namespace = {'__name__': '__main__', '__builtins__': builtins}
    failure = None
    builtins.open = fake_open
    sys.stdin, sys.stdout, sys.stderr = stdin, out, err
    _arm(seconds)
    try:
        try:
            exec(code, namespace)
        except SystemExit:
            pass
        _join_threads(time.monotonic() + seconds)
        _finish_output(out, err)
    except _Timeout:
        failure = {'kind': 'timeout'}
    except _TooMuch:
        failure = {'kind': 'output'}
    except BaseException as e:
        failure = _error(e)
    finally:
        _disarm()
        builtins.open = _real_open
        sys.stdin, sys.stdout, sys.stderr = _stdin, _stdout, _stderr
    if _state['timed_out']:
        return {'kind': 'timeout'}, None
    if _state['too_much']:
        return {'kind': 'output'}, None
    return failure, bytes(out_sink.data).decode('utf-8', 'replace')


def _compile(source):
    try:
        return compile(source, '<candidate>', 'exec'), None
    except (SyntaxError, ValueError) as e:
        where = ' (line %s)' % e.lineno if getattr(e, 'lineno', None) else ''
        return None, {'kind': 'syntax', 'detail': _cut('%s%s' % (getattr(e, 'msg', None) or e, where))}


def _preview(value, length):
    text = value if isinstance(value, str) else repr(value)
    return ascii(text[:length])[1:-1][:length]


def _run_stdin(payload, inputs, seconds, cap, results):
    _state['offset'] = _IMPORT_STRING.count('\n') + 1
    code, failure = _compile(_IMPORT_STRING + '\n' + payload['code'])
    if failure is not None:
        return failure
    for index, text in enumerate(inputs):
        failure, got = _stdin_case(code, text, seconds, cap)
        if failure is not None:
            failure['case'] = index
            return failure
        results.append((_digest(_canon_stdout(got)), _preview(got, _state['preview'])))
    return None


def _guarded(seconds, cap, call):
    _out_sink, out, _err_sink, err = _capture(cap)
    sys.stdout, sys.stderr = out, err
    _arm(seconds)
    try:
        return None, call()
    except _Timeout:
        return {'kind': 'timeout'}, None
    except _TooMuch:
        return {'kind': 'output'}, None
    except BaseException as e:
        return _error(e), None
    finally:
        _disarm()
        _finish_output(out, err)
        sys.stdin, sys.stdout, sys.stderr = _stdin, _stdout, _stderr


def _run_functional(payload, inputs, seconds, cap, results):
    source = payload['code']
    fn_name = payload['fn_name']
    # All inputs are parsed first, as grade_call_based does.
    try:
        arguments = [[json.loads(line) for line in text.split('\n')] for text in inputs]
    except ValueError as e:
        return {'kind': 'gold', 'detail': _cut(repr(e))}
    module = types.ModuleType('tmp_sol')
    _state['offset'] = _IMPORT_STRING.count('\n') + 2
    code, failure = _compile(_IMPORT_STRING + '\n\n' + source)
    if failure is not None:
        return failure

    def load():
        exec(code, module.__dict__)
        return module.Solution() if 'class Solution' in source else module

    failure, solution = _guarded(seconds, cap, load)
    if failure is None and _state['timed_out']:
        failure = {'kind': 'timeout'}
    if failure is not None:
        failure['stage'] = 'load'
        return failure
    method = getattr(solution, fn_name, None)
    if method is None:
        return {'kind': 'missing', 'detail': 'no %s to call' % fn_name}
    for index, args in enumerate(arguments):
        def call():
            result = method(*args)
            # "don't penalize model if it produces tuples instead of lists" (grade_call_based)
            if isinstance(result, tuple):
                result = list(result)
            return _digest(_canon_value(result)), _preview(result, _state['preview'])
        failure, done = _guarded(seconds, cap, call)
        if failure is None and _state['timed_out']:
            failure = {'kind': 'timeout'}
        if failure is not None:
            failure['case'] = index
            return failure
        results.append(done)
    return None


def _expected(payload):
    # Trusted: the gold's outputs alone, never with a candidate's code. Each case: the digests it accepts.
    digests = []
    for text in payload['outputs']:
        if payload['mode'] == 'stdin':
            digests.append([_digest(_canon_stdout(text))])
            continue
        try:
            value = json.loads(text)
        except ValueError as e:
            return {'gold': _cut(repr(e))}
        accepted = [_digest(_canon_value(value))]
        if payload.get('unwrap') and type(value) is list and len(value) == 1:
            # APPS's call-based outputs are often wrapped in a list of one.
            accepted.append(_digest(_canon_value(value[0])))
        digests.append(accepted)
    return {'expected': digests}


def _main():
    sys.set_int_max_str_digits(50000)
    payload = json.loads(sys.stdin.buffer.read().decode('utf-8'))
    nonce = payload.pop('nonce')
    if payload.get('expected_only'):
        report = _expected(payload)
    else:
        inputs = payload['inputs']
        signal.signal(signal.SIGALRM, _on_alarm)
        run = _run_functional if payload['mode'] == 'functional' else _run_stdin
        # The previews share a budget, so that the report stays a few KB whatever the number of cases.
        _state['preview'] = max(0, min(100, _PREVIEW_BUDGET // max(1, len(inputs)) - 3))
        results = []
        failure = run(payload, inputs, float(payload['timeout_s']), int(payload['output_cap']), results)
        report = {'digests': [d for d, _ in results], 'previews': [p for _, p in results], 'failure': failure}
    _write(1, ('\n%s %s\n' % (nonce, json.dumps(report))).encode('utf-8'))


_main()
`;
