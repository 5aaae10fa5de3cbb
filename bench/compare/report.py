"""Renders the comparison as Markdown and writes it into bench/RESULTS.md."""

import math
import os
import re

BEGIN_MARK = "<!-- bench-compare:begin -->"
END_MARK = "<!-- bench-compare:end -->"


def _number(value, digits=0):
    if value is None:
        return "—"
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return str(value)
    return f"{value:,.{digits}f}"


def _ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def _target_cell(ratio, limit, text):
    if limit is None:
        return text
    if ratio is None:
        return f"{text}: n/a"
    return f"{text}: {'met' if ratio <= limit else '**missed**'}"


class Row:
    """One line of the table: a measure, the values, and optional ratio targets.

    `limit`/`target` judge the ratio tsvault/Prometheus (issue 4),
    `vm_limit`/`vm_target` the ratio tsvault/VictoriaMetrics (issue 15).
    """

    def __init__(self, measure, tsvault, prometheus, digits=0, limit=None, target="—", ratio=None,
                 victoria=None, vm_limit=None, vm_target="—", vm_ratio=None):
        self.measure, self.tsvault, self.prometheus = measure, tsvault, prometheus
        self.digits, self.limit, self.target = digits, limit, target
        self._ratio = ratio  # given directly for rows that summarise other rows
        self.victoria, self.vm_limit, self.vm_target = victoria, vm_limit, vm_target
        self._vm_ratio = vm_ratio

    def ratio(self):
        if self._ratio is not None:
            return self._ratio
        return _ratio(self.tsvault, self.prometheus)

    def vm_ratio(self):
        if self._vm_ratio is not None:
            return self._vm_ratio
        return _ratio(self.tsvault, self.victoria)

    def met(self):
        """True/False against the target, None when there is no target or no value."""
        r = self.ratio()
        if self.limit is None or r is None:
            return None
        return r <= self.limit

    def vm_met(self):
        """True/False against the VictoriaMetrics target, None when there is none or no value."""
        r = self.vm_ratio()
        if self.vm_limit is None or r is None:
            return None
        return r <= self.vm_limit

    def markdown(self, victoria=False):
        r = self.ratio()
        ratio_text = "n/a" if r is None else f"{r:.2f}x"
        if not victoria:
            return (f"| {self.measure} | {_number(self.tsvault, self.digits)} | "
                    f"{_number(self.prometheus, self.digits)} | {ratio_text} | "
                    f"{_target_cell(r, self.limit, self.target)} |")
        v = self.vm_ratio()
        vm_ratio_text = "n/a" if v is None else f"{v:.2f}x"
        return (f"| {self.measure} | {_number(self.tsvault, self.digits)} | "
                f"{_number(self.prometheus, self.digits)} | {_number(self.victoria, self.digits)} | "
                f"{ratio_text} | {vm_ratio_text} | {_target_cell(r, self.limit, self.target)} | "
                f"{_target_cell(v, self.vm_limit, self.vm_target)} |")


def geometric_mean(values):
    values = [v for v in values if v is not None and v > 0]
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


def table(rows, victoria=False):
    """The Markdown table; with `victoria`, VictoriaMetrics' column, its ratio next to Prometheus' and
    its target."""
    if not victoria:
        lines = ["| measure | tsvault | Prometheus 2.42 | ratio (tsvault/Prometheus) | target |",
                 "|---|---|---|---|---|"]
    else:
        lines = ["| measure | tsvault | Prometheus 2.42 | VictoriaMetrics 1.79 | ratio (tsvault/Prometheus) | "
                 "ratio (tsvault/VictoriaMetrics) | target vs Prometheus (issue 4) | "
                 "target vs VictoriaMetrics (issue 15) |",
                 "|---|---|---|---|---|---|---|---|"]
    lines += [row.markdown(victoria) for row in rows]
    return "\n".join(lines)


def write_results(path, section):
    """Replaces the marked bench-compare section of `path` (appends it when absent)."""
    text = open(path).read() if os.path.exists(path) else "# Benchmark results\n"
    block = f"{BEGIN_MARK}\n{section.rstrip()}\n{END_MARK}"
    pattern = re.compile(re.escape(BEGIN_MARK) + r".*?" + re.escape(END_MARK), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    if not text.endswith("\n"):
        text += "\n"
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def replace_section(path, text):
    """Replaces the `## ` section of `path` whose title is the first line of
    `text` (up to the next `## `); a new one goes before the first section."""
    with open(path) as f:
        content = f.read()
    title = text.split("\n", 1)[0]
    if title in content:
        start = content.index(title)
        end = content.find("\n## ", start + len(title))
        content = content[:start] + text + ("\n" + content[end + 1:] if end != -1 else "")
    else:
        anchor = content.find("\n## ")
        content = content[:anchor + 1] + text + "\n" + content[anchor + 1:]
    with open(path, "w") as f:
        f.write(content)
