#!/usr/bin/env python3
"""Checks the relative links of README.md and docs/**/*.md.

Every Markdown link [text](target) and reference definition [ref]: target
whose target is not http://, https:// or mailto: must name a file or
directory that exists, relative to the linking file (or to the repository
root when it starts with "/"), inside the repository. A link with #anchor
must name a heading of the target Markdown file: its GitHub slug (lowercase,
spaces to "-", punctuation other than "-" and "_" dropped, repeats suffixed
-1, -2, ...). A link "#anchor" alone names a heading of its own file. Links
inside fenced code blocks, inline code and HTML comments are not links.
README.md may have at most README_MAX_LINES lines.

Usage: check_links.py [REPOSITORY_ROOT]   (default: two levels up from here)

Prints each problem as FILE:LINE: message and exits 1 if there is any;
otherwise prints a one-line summary and exits 0. Exits 2 on a bad argument.
"""

import os
import re
import sys
import urllib.parse
from pathlib import Path

README_MAX_LINES = 260

EXTERNAL = re.compile(r"^(https?:|mailto:)", re.IGNORECASE)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
FENCE_OPEN = re.compile(r"^\s*(`{3,}|~{3,})(.*)$")
ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
NOT_PARAGRAPH = re.compile(r"^(\s{4}|\s*([#>|]|[-*+][ \t]|\d+[.)][ \t]))")
# [text](target "title"): the text may hold one level of brackets and span
# lines; the target may hold balanced parentheses or be in <...>.
INLINE_LINK = re.compile(
    r"!?\[(?P<text>(?:[^\[\]]|\[[^\[\]]*\])*)\]"
    r"\(\s*(?P<target><[^<>\n]*>|(?:[^\s()]|\([^\s()]*\))*)"
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^()]*\)))?\s*\)"
)
REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]*(<[^<>]*>|\S+)")
HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def blank(text):
    """The text with every character but newlines replaced by a space."""
    return re.sub(r"[^\n]", " ", text)


def strip_fences(lines):
    """The lines, with the lines of fenced code blocks (fences included)
    blanked, so that line numbers and offsets stay."""
    out = []
    fence = None  # (character, length) of the open fence
    for line in lines:
        if fence is None:
            match = FENCE_OPEN.match(line)
            if match and not (match.group(1)[0] == "`" and "`" in match.group(2)):
                fence = (match.group(1)[0], len(match.group(1)))
                out.append(blank(line))
            else:
                out.append(line)
        else:
            stripped = line.strip()
            if (
                len(stripped) >= fence[1]
                and set(stripped) == {fence[0]}
            ):
                fence = None
            out.append(blank(line))
    return out


def strip_code_spans(text):
    """The text with inline code spans blanked (newlines kept)."""
    out = []
    i = 0
    while i < len(text):
        if text[i] != "`":
            out.append(text[i])
            i += 1
            continue
        j = i
        while j < len(text) and text[j] == "`":
            j += 1
        run = text[i:j]
        close = re.compile(r"(?<!`)" + run + r"(?!`)")
        match = close.search(text, j)
        if match is None:
            out.append(run)  # no closing run: literal backticks
            i = j
            continue
        out.append(blank(text[i : match.end()]))
        i = match.end()
    return "".join(out)


def prose(text):
    """The file's text with code blocks, code spans and HTML comments blanked."""
    lines = strip_fences(text.split("\n"))
    joined = "\n".join(lines)
    joined = strip_code_spans(joined)
    return HTML_COMMENT.sub(lambda m: blank(m.group(0)), joined)


def heading_text_to_slug(text):
    """GitHub's slug of a heading's text (before de-duplication)."""
    text = re.sub(r"`+([^`]*?)`+", r"\1", text)  # code spans: their content
    text = re.sub(r"!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\([^)]*\)", r"\1", text)  # links: their text
    text = re.sub(r"<[^>]+>", "", text)  # HTML tags
    text = re.sub(r"(?<!\w)_+(\S(?:.*?\S)?)_+(?!\w)", r"\1", text)  # _emphasis_
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def heading_slugs(text):
    """The anchors of a Markdown text's headings, as GitHub makes them."""
    lines = strip_fences(text.split("\n"))
    titles = []
    for index, line in enumerate(lines):
        match = ATX_HEADING.match(line)
        if match:
            titles.append(match.group(2) or "")
            continue
        if index > 0 and SETEXT_UNDERLINE.match(line):
            # The paragraph just above, if it is a plain one, is the title.
            start = index
            while (
                start > 0
                and lines[start - 1].strip()
                and not ATX_HEADING.match(lines[start - 1])
                and not SETEXT_UNDERLINE.match(lines[start - 1])
            ):
                start -= 1
            paragraph = lines[start:index]
            if paragraph and not any(NOT_PARAGRAPH.match(text) for text in paragraph):
                titles.append(" ".join(text.strip() for text in paragraph))
    slugs = set()
    occurrences = {}
    for title in titles:
        base = slug = heading_text_to_slug(title)
        while slug in occurrences:
            occurrences[base] += 1
            slug = "%s-%d" % (base, occurrences[base])
        occurrences[slug] = 0
        slugs.add(slug)
    return slugs


class Checker:
    def __init__(self, root):
        self.root = root.resolve()
        self.problems = []  # (file, line, message)
        self.links = 0
        self.external = 0
        self.slug_cache = {}

    def rel(self, path):
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def problem(self, path, line, message):
        self.problems.append((self.rel(path), line, message))

    def slugs_of(self, path):
        key = path.resolve()
        if key not in self.slug_cache:
            self.slug_cache[key] = heading_slugs(key.read_text(encoding="utf-8"))
        return self.slug_cache[key]

    def check_target(self, path, line, raw):
        target = raw.strip()
        if target.startswith("<") and target.endswith(">"):
            target = target[1:-1].strip()
        if not target:
            self.problem(path, line, "empty link target")
            return
        if EXTERNAL.match(target):
            self.external += 1
            return
        self.links += 1
        if SCHEME.match(target):
            self.problem(path, line, "'%s' is neither relative nor http(s) or mailto" % raw)
            return
        file_part, hash_sign, anchor = target.partition("#")
        file_part = urllib.parse.unquote(file_part.split("?", 1)[0])
        anchor = urllib.parse.unquote(anchor)
        if not file_part:
            resolved = path.resolve()
        elif file_part.startswith("/"):
            resolved = Path(os.path.normpath(self.root / file_part.lstrip("/")))
        else:
            resolved = Path(os.path.normpath(path.resolve().parent / file_part))
        try:
            resolved.relative_to(self.root)
        except ValueError:
            self.problem(path, line, "'%s' points outside the repository" % raw)
            return
        if not resolved.exists():
            self.problem(path, line, "'%s': %s does not exist" % (raw, self.rel(resolved)))
            return
        if not hash_sign or not anchor:
            return
        if resolved.is_dir():
            self.problem(path, line, "'%s': anchor on a directory" % raw)
            return
        if resolved.suffix.lower() not in (".md", ".markdown"):
            self.problem(
                path, line, "'%s': %s is not Markdown, it has no headings" % (raw, self.rel(resolved))
            )
            return
        if anchor not in self.slugs_of(resolved):
            self.problem(
                path, line, "'%s': %s has no heading '#%s'" % (raw, self.rel(resolved), anchor)
            )

    def check_file(self, path):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            self.problem(path, 1, "cannot read: %s" % error)
            return
        body = prose(text)
        for match in INLINE_LINK.finditer(body):
            line = body.count("\n", 0, match.start("target")) + 1
            target = text[match.start("target") : match.end("target")]
            self.check_target(path, line, target)
        for number, line_text in enumerate(body.split("\n"), start=1):
            match = REFERENCE_DEFINITION.match(line_text)
            if match:
                self.check_target(path, number, match.group(1))

    def check_readme_length(self, readme):
        lines = len(readme.read_text(encoding="utf-8").splitlines())
        if lines > README_MAX_LINES:
            self.problem(
                readme,
                README_MAX_LINES + 1,
                "%d lines, more than %d: move reference material to docs/"
                % (lines, README_MAX_LINES),
            )


def main(argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1] in ("-h", "--help")):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    if len(argv) == 2:
        root = Path(argv[1])
    else:
        root = Path(__file__).resolve().parent.parent.parent
    if not root.is_dir():
        print("check_links: %s is not a directory" % root, file=sys.stderr)
        return 2
    checker = Checker(root)
    readme = checker.root / "README.md"
    files = []
    if readme.is_file():
        files.append(readme)
        checker.check_readme_length(readme)
    else:
        checker.problem(readme, 1, "missing")
    docs = checker.root / "docs"
    if docs.is_dir():
        files.extend(sorted(p for p in docs.rglob("*.md") if p.is_file()))
    for path in files:
        checker.check_file(path)
    if checker.problems:
        for file, line, message in sorted(checker.problems):
            print("%s:%d: %s" % (file, line, message))
        print(
            "check_links: %d problem%s in %d files"
            % (len(checker.problems), "" if len(checker.problems) == 1 else "s", len(files)),
            file=sys.stderr,
        )
        return 1
    summary = "check_links: %d files, %d links, all resolve" % (len(files), checker.links)
    if checker.external:
        summary += " (%d external not checked)" % checker.external
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
