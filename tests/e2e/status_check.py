#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks `status --json` and `--prometheus` output (tests/e2e/status.sh).

  status_check.py json FILE CHECK...      CHECK: PATH=VALUE, PATH like
      instances[local=127.0.0.1:1234].counters.udp_datagrams_in or
      instances[local=...].connections[peer=127.0.0.1:40001].counters.bytes_out
  status_check.py prom FILE SAMPLE=VALUE...
      a strict reading of the text exposition format: every sample's
      family has one HELP and one TYPE line before its samples, no family
      twice, counters end in _total, names and labels well-formed; then
      each SAMPLE (name{labels} as printed) has VALUE.
Exit 0 if everything holds, else 1 with the reasons on stdout.
"""
import json
import re
import sys


def walk(doc, path):
    for part in re.findall(r'[^.\[\]]+(?:\[[^\]]*\])?', path):
        m = re.fullmatch(r'([^\[]+)(?:\[([^=]+)=(.*)\])?', part)
        doc = doc[m.group(1)]
        if m.group(2):
            hits = [x for x in doc if str(x.get(m.group(2))) == m.group(3)]
            if len(hits) != 1:
                raise KeyError(f"{part}: {len(hits)} matches")
            doc = hits[0]
    return doc


def check_json(text, checks):
    doc = json.loads(text)
    bad = []
    for c in checks:
        path, want = c.rsplit('=', 1)
        try:
            got = walk(doc, path)
        except (KeyError, TypeError, IndexError) as e:
            bad.append(f"{path}: missing ({e})")
            continue
        if str(got) != want:
            bad.append(f"{path}: {got!r}, wanted {want}")
    return bad


NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(rf'({NAME})(\{{(?:{LABEL}(?:,{LABEL})*)?\}})? (\S+)$')


def check_prom(text, checks):
    bad, helps, types, done, samples = [], {}, {}, set(), {}
    current = None
    for n, line in enumerate(text.split('\n')[:-1], 1):
        m = re.fullmatch(rf'# (HELP|TYPE) ({NAME}) (.*)', line)
        if m:
            kind, name, rest = m.groups()
            table = helps if kind == 'HELP' else types
            if name in table or name in done:
                bad.append(f"line {n}: second {kind} for {name}")
            if kind == 'TYPE' and rest not in ('counter', 'gauge'):
                bad.append(f"line {n}: type {rest}")
            if kind == 'TYPE' and rest == 'counter' and not name.endswith('_total'):
                bad.append(f"line {n}: counter {name} without _total")
            table[name] = rest
            if current and current != name:
                done.add(current)
            current = name
            continue
        m = SAMPLE.match(line)
        if not m:
            bad.append(f"line {n}: not a sample: {line!r}")
            continue
        name = m.group(1)
        if name != current or name not in helps or name not in types:
            bad.append(f"line {n}: {name} outside its family's HELP and TYPE")
        try:
            float(m.group(3))
        except ValueError:
            bad.append(f"line {n}: value {m.group(3)!r}")
        key = name + (m.group(2) or '')
        if key in samples:
            bad.append(f"line {n}: sample {key} twice")
        samples[key] = m.group(3)
    for c in checks:
        key, want = c.rsplit('=', 1)
        if samples.get(key) != want:
            bad.append(f"{key}: {samples.get(key)!r}, wanted {want}")
    return bad


def main():
    what, path, checks = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(path, encoding='utf-8') as f:
        text = f.read()
    try:
        bad = check_json(text, checks) if what == 'json' else check_prom(text, checks)
    except ValueError as e:
        bad = [f"not JSON: {e}"]
    for b in bad:
        print(f"# {b}")
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
