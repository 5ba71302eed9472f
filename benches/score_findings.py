#!/usr/bin/env python3
"""Scores a mailtrace JSON report against a generated day's ground truth (issue 8).

    benches/score_findings.py [--header] [--label NAME] [-v] TRUTH.json REPORT.json

TRUTH.json is written by `cargo run --release -p mailtrace-synth --example genday`;
REPORT.json by `mailtrace report --format json --top 0`. Prints one table row:

    day | MTA | planted | found | recall | false findings | false high-confidence compromised

Matching follows /work/notes/findings-contract.md ("Ground truth from the generator"):
a scenario is found when some finding has its verdict and one of its accepted (kind,
subject) pairs; a finding is false when it matches no scenario and no `incidental` entry
(kind, subject, verdict); subjects compare case-insensitively. Identical findings (same kind,
subject and verdict) count once.

Reports without a `findings` array are read from today's `diagnoses` array instead:

* `subject_kind` account -> account; sender -> account (a sender address is a mailbox;
  the contract has no sender kind); sender_domain -> sender_domain; recipient_domain ->
  destination.
* `remote_server_trouble` is per sender today but per destination in the contract: such a
  diagnosis becomes a destination finding for the destination its evidence names
  ("... are at DOMAIN (mail server HOST) ..."); without one it stays as it is (and is false).
* `confidence` is a number today (share of indicators met): 0.8 and above is "high",
  0.5 and above "medium", below that "low".

With -v, the missed scenarios and the false findings are listed on stderr.
"""

import json
import re
import sys

HEADER = ("day", "MTA", "planted", "found", "recall", "false findings",
          "false high-conf. compromised")
WIDTHS = (26, 12, 7, 5, 6, 14, 28)

KIND_FROM_DIAGNOSIS = {
    "account": "account",
    "sender": "account",
    "sender_domain": "sender_domain",
    "recipient_domain": "destination",
}
DESTINATION_IN_EVIDENCE = re.compile(r"\bare at ([A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def confidence_word(c):
    if isinstance(c, str):
        return c
    if c is None:
        return "low"
    if c >= 0.8:
        return "high"
    if c >= 0.5:
        return "medium"
    return "low"


def from_diagnosis(d):
    kind = KIND_FROM_DIAGNOSIS.get(d.get("subject_kind"), d.get("subject_kind"))
    subject = d.get("subject", "")
    verdict = d.get("verdict", "")
    if verdict == "remote_server_trouble" and kind != "destination":
        for line in d.get("evidence", []):
            m = DESTINATION_IN_EVIDENCE.search(line)
            if m:
                kind, subject = "destination", m.group(1)
                break
    return {
        "kind": kind,
        "subject": subject,
        "verdict": verdict,
        "confidence": confidence_word(d.get("confidence")),
    }


def findings_of(report):
    """The report's findings, and where they came from ('findings' or 'diagnoses')."""
    if isinstance(report.get("findings"), list):
        raw, source = report["findings"], "findings"
        items = [{
            "kind": f.get("kind", ""),
            "subject": f.get("subject", ""),
            "verdict": f.get("verdict", ""),
            "confidence": confidence_word(f.get("confidence")),
        } for f in raw]
    else:
        items = [from_diagnosis(d) for d in report.get("diagnoses", [])]
        source = "diagnoses"
    seen, unique = set(), []
    for f in items:
        key = (f["kind"], f["subject"].lower(), f["verdict"])
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique, source


def score(truth, report):
    findings, source = findings_of(report)
    scenarios = truth.get("scenarios", [])
    incidental = {(i["kind"], i["subject"].lower(), i["verdict"])
                  for i in truth.get("incidental", [])}

    def matches(f, s):
        return f["verdict"] == s["verdict"] and any(
            a["kind"] == f["kind"] and a["subject"].lower() == f["subject"].lower()
            for a in s["accept"])

    found = [s for s in scenarios if any(matches(f, s) for f in findings)]
    false = [f for f in findings
             if not any(matches(f, s) for s in scenarios)
             and (f["kind"], f["subject"].lower(), f["verdict"]) not in incidental]
    false_high = [f for f in false
                  if f["verdict"] == "compromised_account" and f["confidence"] == "high"]
    missed = [s for s in scenarios if s not in found]
    return {
        "source": source,
        "planted": len(scenarios),
        "found": len(found),
        "false": false,
        "false_high": false_high,
        "missed": missed,
    }


def row(cells):
    return " | ".join(str(c).ljust(w) for c, w in zip(cells, WIDTHS)).rstrip()


def main(argv):
    args = argv[1:]
    header = label = None
    verbose = False
    rest = []
    while args:
        a = args.pop(0)
        if a == "--header":
            header = True
        elif a == "--label":
            label = args.pop(0) if args else ""
        elif a == "-v":
            verbose = True
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            rest.append(a)
    if header and not rest:
        print(row(HEADER))
        print("-" * (sum(WIDTHS) + 3 * (len(WIDTHS) - 1)))
        return 0
    if len(rest) != 2:
        print("usage: score_findings.py [--header] [--label NAME] [-v] TRUTH.json REPORT.json",
              file=sys.stderr)
        return 2
    try:
        with open(rest[0]) as f:
            truth = json.load(f)
        with open(rest[1]) as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        print(f"score_findings.py: {e}", file=sys.stderr)
        return 2
    s = score(truth, report)
    mta = truth.get("mta", "?") + (" cPanel" if truth.get("cpanel") else "")
    recall = f"{s['found'] / s['planted']:.0%}" if s["planted"] else "-"
    if header:
        print(row(HEADER))
    print(row((label or rest[0], mta, s["planted"], s["found"], recall, len(s["false"]),
               len(s["false_high"]))))
    if verbose:
        print(f"  (read the report's {s['source']})", file=sys.stderr)
        for m in s["missed"]:
            print(f"  missed {m['id']}: {m['verdict']} of "
                  + ", ".join(f"{a['kind']}:{a['subject']}" for a in m["accept"]),
                  file=sys.stderr)
        for f in s["false"]:
            print(f"  false: {f['verdict']} {f['kind']}:{f['subject']} ({f['confidence']})",
                  file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
