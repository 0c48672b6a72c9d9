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
// - a time limit per case (LCB's 6 s, by SIGALRM as LCB does), and the first failing case ends the run.
// Where LCB's in-process mocks differ from running `python3 prog.py < input` (its stdin.readline drops newlines and
// raises StopIteration at the end, stdout has no .buffer, the code is wrapped in a function so `global` breaks), the
// harness gives the program a real-looking stdin and stdout instead: a program LCB fails only through those mocks
// passes here. Reading past the input sees EOF.
//
// The payload (code, cases, the run's nonce) comes on stdin, read before any candidate code runs. The candidate's
// stdout and stderr are captured per case (bounded), so its prints never reach the real stdout; the harness's one
// report is the last line, `<nonce> <json>`, and the caller takes it only when the program finished normally.
// What this does not stop: code in the same interpreter can read the harness's memory (the nonce, the expected
// outputs) and rewrite it. That is a deliberate attack on a measurement, still contained by the sandbox, and
// checks never decide what becomes training data.

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

export const HARNESS = String.raw`
import builtins, io, json, os, signal, sys, threading, time, traceback, types
from decimal import Decimal

_IMPORT_STRING = ${JSON.stringify(IMPORT_STRING)}
_write, _real_open = os.write, builtins.open
_stdin, _stdout, _stderr = sys.stdin, sys.stdout, sys.stderr
_state = {'timed_out': False, 'too_much': False, 'offset': 0}


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
    return [line.strip() for line in value.strip().split('\n')]


def _decimals(line):
    try:
        return True, [Decimal(token) for token in line.split()]
    except Exception:
        return False, []


def _compare_stdout(got, expected):
    # grade_stdio's comparison.
    got_lines, want_lines = _stripped_lines(got), _stripped_lines(expected)
    if len(got_lines) != len(want_lines):
        return 'mismatched output length: %d lines, expected %d' % (len(got_lines), len(want_lines))
    for index, (a, b) in enumerate(zip(got_lines, want_lines)):
        if a == b:
            continue
        ok_a, dec_a = _decimals(a)
        ok_b, dec_b = _decimals(b)
        if ok_a and ok_b and dec_a == dec_b:
            continue
        return 'line %d: %s != %s' % (index + 1, _cut(a), _cut(b))
    return None


_PLAIN = (type(None), bool, int, float, str, list, tuple, dict)


def _plain(value, budget=1_000_000):
    # Only plain data is compared: an object of the candidate's own class could say it equals anything.
    stack = [value]
    while stack:
        budget -= 1
        if budget < 0:
            return False
        item = stack.pop()
        if type(item) not in _PLAIN:
            return False
        if type(item) in (list, tuple):
            stack.extend(item)
        elif type(item) is dict:
            stack.extend(item.keys())
            stack.extend(item.values())
    return True


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


def _run_stdin(payload, cases, seconds, cap):
    _state['offset'] = _IMPORT_STRING.count('\n') + 1
    code, failure = _compile(_IMPORT_STRING + '\n' + payload['code'])
    if failure is not None:
        return 0, failure
    for index, case in enumerate(cases):
        failure, got = _stdin_case(code, case['input'], seconds, cap)
        if failure is None:
            why = _compare_stdout(got, case['output'])
            if why is not None:
                failure = {'kind': 'wrong', 'detail': why, 'got': _cut(got), 'expected': _cut(case['output'])}
        if failure is not None:
            failure['case'] = index
            return index, failure
    return len(cases), None


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


def _run_functional(payload, cases, seconds, cap):
    source = payload['code']
    fn_name = payload['fn_name']
    # All inputs and outputs are parsed first, as grade_call_based does.
    try:
        inputs = [[json.loads(line) for line in case['input'].split('\n')] for case in cases]
        outputs = [json.loads(case['output']) for case in cases]
    except ValueError as e:
        # The gold is at fault, not the candidate.
        return 0, {'kind': 'gold', 'detail': _cut(repr(e))}
    module = types.ModuleType('tmp_sol')
    _state['offset'] = _IMPORT_STRING.count('\n') + 2
    code, failure = _compile(_IMPORT_STRING + '\n\n' + source)
    if failure is not None:
        return 0, failure

    def load():
        exec(code, module.__dict__)
        return module.Solution() if 'class Solution' in source else module

    failure, solution = _guarded(seconds, cap, load)
    if _state['timed_out']:
        failure = {'kind': 'timeout'}
    if failure is not None:
        failure['stage'] = 'load'
        return 0, failure
    method = getattr(solution, fn_name, None)
    if method is None:
        return 0, {'kind': 'missing', 'detail': 'no %s to call' % fn_name}
    for index, (args, expected) in enumerate(zip(inputs, outputs)):
        def call():
            result = method(*args)
            if isinstance(result, tuple):
                result = list(result)
            if not _plain(result):
                return False, result
            same = result == expected
            if not same and payload.get('unwrap') and isinstance(expected, list) and len(expected) == 1:
                # APPS's call-based outputs are often wrapped in a list of one.
                same = result == expected[0]
            return same, result
        failure, verdict = _guarded(seconds, cap, call)
        if failure is None and _state['timed_out']:
            failure = {'kind': 'timeout'}
        if failure is None and not verdict[0]:
            failure = {'kind': 'wrong', 'got': _cut(verdict[1]), 'expected': _cut(cases[index]['output'])}
        if failure is not None:
            failure['case'] = index
            return index, failure
    return len(cases), None


def _main():
    payload = json.loads(sys.stdin.buffer.read().decode('utf-8'))
    nonce = payload['nonce']
    cases = payload['cases']
    seconds = float(payload['timeout_s'])
    cap = int(payload['output_cap'])
    signal.signal(signal.SIGALRM, _on_alarm)
    run = _run_functional if payload['mode'] == 'functional' else _run_stdin
    passed, failure = run(payload, cases, seconds, cap)
    report = {'passed': passed, 'total': len(cases), 'failure': failure}
    _write(1, ('\n%s %s\n' % (nonce, json.dumps(report))).encode('utf-8'))


_main()
`;
